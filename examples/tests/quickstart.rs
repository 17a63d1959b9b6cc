//! The README's quick-start clients, run against the echo server loop, and the README
//! checked to show their exact text.

use std::sync::Once;
use std::thread;
use std::time::Duration;

use std_embedded_nal::Stack;
use ws_examples::quickstart;
use ws_examples::serve::{serve, Serve};
use ws_nal::Listener;

const PORT: u16 = 29_431;

/// The echo server, started once for all tests in this file.
fn server() -> String {
    static START: Once = Once::new();
    START.call_once(|| {
        let mut stack = Stack;
        let mut listener = Listener::bind(&mut stack, PORT).expect("port free");
        thread::spawn(move || {
            let config = Serve { slots: 4, buf_len: 4096, protocols: &[], deflate: false };
            serve(&mut stack, &mut listener, config, ws_examples::host::tune)
        });
        thread::sleep(Duration::from_millis(50));
    });
    format!("ws://127.0.0.1:{PORT}/quickstart")
}

#[test]
fn the_ws_proto_client_runs() {
    quickstart::proto::run(&server()).expect("the client ran to its clean close");
}

#[test]
fn the_ws_io_client_runs() {
    quickstart::io::run(&server()).expect("the client ran to its clean close");
}

#[test]
fn the_ws_nal_client_runs() {
    quickstart::nal::run(&server()).expect("the client ran to its clean close");
}

#[test]
fn the_readmes_show_the_clients_that_run() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = |path: &str| std::fs::read_to_string(format!("{root}/{path}")).unwrap();
    let (main, proto, nal) = (readme("README.md"), readme("ws-proto/README.md"), readme("ws-nal/README.md"));
    for (text, readme, name) in [
        (quickstart::io::SOURCE, &main, "README.md"),
        (quickstart::proto::SOURCE, &main, "README.md"),
        (quickstart::nal::SOURCE, &main, "README.md"),
        (quickstart::proto::SOURCE, &proto, "ws-proto/README.md"),
        (quickstart::nal::SOURCE, &nal, "ws-nal/README.md"),
    ] {
        assert!(
            readme.contains(&format!("```rust\n{text}```")),
            "{name} does not show the client as it runs"
        );
        // What the README promises for its size (non-blank lines, `use` lines included).
        assert!(
            text.lines().filter(|l| !l.trim().is_empty()).count() <= 30,
            "{name}: a client over 30 lines"
        );
    }
}
