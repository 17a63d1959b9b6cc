//! The README's quick start as it runs: its blocking client against its tokio echo
//! server (the `tokio_echo_server` example, which the README shows verbatim).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use ws_examples::quickstart;

const PORT: u16 = 29_441;

/// An example binary, running until dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example(name: &str) -> PathBuf {
    // Integration tests live in target/<profile>/deps; cargo builds examples beside them.
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

#[test]
fn the_readme_client_runs_against_the_readme_server() {
    let child = Command::new(example("tokio_echo_server"))
        .arg(format!("127.0.0.1:{PORT}"))
        .stdout(Stdio::null())
        .spawn()
        .expect("target/<profile>/examples/tokio_echo_server: `cargo test -p ws-io` builds it");
    let _server = Running(child);
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", PORT)).is_ok() {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    quickstart::io::run(&format!("ws://127.0.0.1:{PORT}/")).expect("the client ran to its clean close");
}

#[test]
fn the_readme_shows_them_and_keeps_them_short() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).unwrap();
    let readme = read("README.md");
    let server = read("examples/tokio_echo_server.rs");
    assert!(readme.contains(&format!("```rust\n{}```", quickstart::io::SOURCE)), "the client as it runs");
    assert!(readme.contains(&format!("```rust,no_run\n{server}```")), "the server as it runs");
    // Lines as counted for tungstenite's (36 and 25): every line, `use` and blank ones too.
    assert!(server.lines().count() <= 40, "a tokio echo server over 40 lines");
    assert!(quickstart::io::SOURCE.lines().count() <= 25, "a blocking client over 25 lines");
}
