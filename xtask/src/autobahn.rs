//! `cargo xtask autobahn [--transport std|tokio|w5100-sim]`: the Autobahn TestSuite (the
//! PyPI runner `kosoku`) against the echo server and with the client, both roles at once,
//! reports kept under `target/autobahn/` (the server's log beside them as `server.log`),
//! a per-group table printed, non-zero exit on any failure.
//!
//! Transports: `std` is ws-io's blocking binding over `std::net` (`echo_server`,
//! `autobahn_client`), `tokio` its async binding over tokio (`tokio_echo_server`,
//! `tokio_autobahn_client`), `w5100-sim` ws-nal over the W5100 driver and its chip model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::util::{cargo, root, run as run_cmd, run_any, wait_for_port};

/// How a transport is exercised: its echo server and, if it has one, its client.
struct Transport {
    name: &'static str,
    build: &'static [&'static str],
    server_example: &'static str,
    server_port: u16,
    client_example: Option<&'static str>,
    client_port: u16,
}

const STD: Transport = Transport {
    name: "std",
    build: &[
        "build",
        "--release",
        "-p",
        "ws-io",
        "--features",
        "std",
        "--example",
        "echo_server",
        "--example",
        "autobahn_client",
    ],
    server_example: "echo_server",
    server_port: 9001,
    client_example: Some("autobahn_client"),
    client_port: 9011,
};

const TOKIO: Transport = Transport {
    name: "tokio",
    build: &[
        "build",
        "--release",
        "-p",
        "ws-io",
        "--features",
        "tokio",
        "--example",
        "tokio_echo_server",
        "--example",
        "tokio_autobahn_client",
    ],
    server_example: "tokio_echo_server",
    server_port: 9003,
    client_example: Some("tokio_autobahn_client"),
    client_port: 9013,
};

const W5100_SIM: Transport = Transport {
    name: "w5100-sim",
    build: &["build", "--release", "-p", "ws-w5100", "--features", "sim", "--examples"],
    server_example: "echo_server_sim",
    server_port: 9002,
    client_example: Some("autobahn_client_sim"),
    client_port: 9012,
};

/// Behaviours that pass.
const PASSING: &[&str] = &["OK", "NON-STRICT", "INFORMATIONAL"];

pub fn run(args: &[String]) -> Result<(), String> {
    let transport = match args {
        [] => &STD,
        [flag, name] if flag == "--transport" && name == "std" => &STD,
        [flag, name] if flag == "--transport" && name == "tokio" => &TOKIO,
        [flag, name] if flag == "--transport" && name == "w5100-sim" => &W5100_SIM,
        _ => return Err("usage: cargo xtask autobahn [--transport std|tokio|w5100-sim]".into()),
    };
    let kosoku = ensure_kosoku()?;
    run_cmd(cargo().args(transport.build))?;
    let _buffers = LoopbackBuffers::raise();
    let out = root().join("target/autobahn");
    let dir = if transport.name == "std" { out.clone() } else { out.join(transport.name) };
    // The two roles use different ports and processes: they run side by side, which
    // keeps both cores busy (each alone leaves about half of one idle).
    let (server, client) = std::thread::scope(|s| {
        let server = s.spawn(|| server_role(transport, &kosoku, &dir.join("server")));
        let client = s.spawn(|| client_role(transport, &kosoku, &dir.join("client")));
        (server.join(), client.join())
    });
    let mut failures = 0;
    let server_time = server.map_err(|_| "server role panicked")??;
    failures += report(
        &format!("server role ({}): kosoku -m fuzzingclient", transport.name),
        &dir.join("server"),
        server_time,
    )?;
    if let Some(client_time) = client.map_err(|_| "client role panicked")?? {
        failures += report(
            &format!("client role ({}): kosoku -m fuzzingserver", transport.name),
            &dir.join("client"),
            client_time,
        )?;
    }
    if failures > 0 {
        return Err(format!("{failures} Autobahn case(s) failed"));
    }
    Ok(())
}

/// Walks the echo server with `kosoku -m fuzzingclient`; the server's log (a line per
/// connection) goes to `server.log` beside the reports. Returns the wall time.
fn server_role(transport: &Transport, kosoku: &Path, dir: &Path) -> Result<Duration, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let log = std::fs::File::create(dir.with_extension("log")).map_err(|e| format!("server log: {e}"))?;
    let started = Instant::now();
    let addr = format!("127.0.0.1:{}", transport.server_port);
    let _server = Spawned::new(Command::new(example(transport.server_example)).arg(&addr).stdout(log))?;
    wait_for_port(transport.server_port)?;
    run_any(Command::new(kosoku).args(["-m", "fuzzingclient", "-p", "4", "-o"]).arg(dir).arg(&addr))?;
    Ok(started.elapsed())
}

/// Runs the transport's client against `kosoku -m fuzzingserver`, if it has one.
/// Returns the wall time.
fn client_role(transport: &Transport, kosoku: &Path, dir: &Path) -> Result<Option<Duration>, String> {
    let Some(client) = transport.client_example else { return Ok(None) };
    let _ = std::fs::remove_dir_all(dir);
    let started = Instant::now();
    let addr = format!("127.0.0.1:{}", transport.client_port);
    let mut fuzzer =
        Spawned::new(Command::new(kosoku).args(["-m", "fuzzingserver", "-o"]).arg(dir).arg(&addr))?;
    wait_for_port(transport.client_port)?;
    run_cmd(Command::new(example(client)).arg(format!("ws://{addr}")))?;
    // kosoku writes its reports when the client asks it to, then exits.
    fuzzer.wait(Duration::from_secs(60));
    Ok(Some(started.elapsed()))
}

/// The kosoku runner, installed into a venv under `target/` if missing.
pub fn ensure_kosoku() -> Result<PathBuf, String> {
    let venv = root().join("target/autobahn-venv");
    let kosoku = venv.join("bin/kosoku");
    if !kosoku.exists() {
        run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run_cmd(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "kosoku"]))?;
    }
    Ok(kosoku)
}

fn example(name: &str) -> PathBuf {
    root().join("target/release/examples").join(name)
}

/// A child process killed when dropped.
struct Spawned(Child);

impl Spawned {
    fn new(cmd: &mut Command) -> Result<Self, String> {
        cmd.current_dir(root()).stdin(Stdio::null());
        cmd.spawn().map(Self).map_err(|e| format!("{:?}: {e}", cmd.get_program()))
    }

    /// Waits for the child to exit by itself, up to `limit`.
    fn wait(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// kosoku writes a whole message before it reads the echo, while a streaming echo server
/// sends the echo back as the message arrives: every byte of a 16 MiB message (cases
/// 9.1.6, 9.2.6) must then wait in kernel socket buffers, which loopback's default 4 MiB
/// send buffer cannot hold, and both ends stall. This raises the default TCP send buffer
/// for the run (root only) and restores it afterwards.
struct LoopbackBuffers(Option<String>);

const TCP_WMEM: &str = "/proc/sys/net/ipv4/tcp_wmem";

impl LoopbackBuffers {
    fn raise() -> Self {
        let old = std::fs::read_to_string(TCP_WMEM).ok();
        match std::fs::write(TCP_WMEM, "4096 33554432 33554432") {
            Ok(()) => {
                eprintln!("autobahn: TCP send buffers raised to 32 MiB for this run (kosoku writes whole messages before reading)");
                Self(old)
            }
            Err(e) => {
                eprintln!("autobahn: cannot raise {TCP_WMEM} ({e}); cases 9.1.6 and 9.2.6 may stall");
                Self(None)
            }
        }
    }
}

impl Drop for LoopbackBuffers {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = std::fs::write(TCP_WMEM, old.trim());
        }
    }
}

#[derive(Default)]
struct Row {
    cases: usize,
    by_behavior: BTreeMap<String, usize>,
    close_failed: usize,
    bad: usize,
}

/// Prints the per-group table of a report and returns how many cases failed.
pub fn report(title: &str, dir: &Path, took: Duration) -> Result<usize, String> {
    let path = dir.join("index.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let agents = json.as_object().ok_or("index.json: not an object")?;
    let mut groups: BTreeMap<u32, Row> = BTreeMap::new();
    let mut failed = Vec::new();
    for cases in agents.values() {
        for (id, case) in cases.as_object().into_iter().flatten() {
            let group: u32 = id.split('.').next().and_then(|g| g.parse().ok()).unwrap_or(0);
            let behavior = case["behavior"].as_str().unwrap_or("?").to_owned();
            let close = case["behaviorClose"].as_str().unwrap_or("?").to_owned();
            // Every case, compression (12.*, 13.*) included: UNIMPLEMENTED is not passing.
            let bad = !PASSING.contains(&behavior.as_str()) || !(close == "OK" || close == "INFORMATIONAL");
            let row = groups.entry(group).or_default();
            row.cases += 1;
            *row.by_behavior.entry(behavior.clone()).or_default() += 1;
            row.close_failed += usize::from(close == "FAILED");
            if bad {
                row.bad += 1;
                failed.push(format!("  {id}: behavior {behavior}, close {close}"));
            }
        }
    }
    let kinds = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"];
    println!("\n{title} — {:.0} s, reports in {}", took.as_secs_f64(), dir.display());
    println!(
        "{:>6} {:>6} {:>6} {:>11} {:>14} {:>14} {:>7} {:>13} {:>6}",
        "group",
        "cases",
        "OK",
        "NON-STRICT",
        "INFORMATIONAL",
        "UNIMPLEMENTED",
        "FAILED",
        "close FAILED",
        "bad"
    );
    let mut total = Row::default();
    for (group, row) in &groups {
        let n = |k: &str| row.by_behavior.get(k).copied().unwrap_or(0);
        println!(
            "{:>6} {:>6} {:>6} {:>11} {:>14} {:>14} {:>7} {:>13} {:>6}",
            group,
            row.cases,
            n(kinds[0]),
            n(kinds[1]),
            n(kinds[2]),
            n(kinds[3]),
            n(kinds[4]),
            row.close_failed,
            row.bad
        );
        total.cases += row.cases;
        total.close_failed += row.close_failed;
        total.bad += row.bad;
        for (k, v) in &row.by_behavior {
            *total.by_behavior.entry(k.clone()).or_default() += v;
        }
    }
    let n = |k: &str| total.by_behavior.get(k).copied().unwrap_or(0);
    println!(
        "{:>6} {:>6} {:>6} {:>11} {:>14} {:>14} {:>7} {:>13} {:>6}",
        "all",
        total.cases,
        n(kinds[0]),
        n(kinds[1]),
        n(kinds[2]),
        n(kinds[3]),
        n(kinds[4]),
        total.close_failed,
        total.bad
    );
    let compression: usize =
        groups.iter().filter(|(g, _)| **g == 12 || **g == 13).map(|(_, r)| r.cases).sum();
    let compression_bad: usize =
        groups.iter().filter(|(g, _)| **g == 12 || **g == 13).map(|(_, r)| r.bad).sum();
    println!(
        "{} of {} passing; compression (12.*, 13.*): {} of {compression}",
        total.cases - total.bad,
        total.cases,
        compression - compression_bad
    );
    for line in &failed {
        println!("{line}");
    }
    if total.cases == 0 {
        return Err(format!("{}: no cases ran", path.display()));
    }
    Ok(total.bad)
}
