//! `cargo xtask interop`: ws-io against real peers at their default settings, on a fresh
//! Debian machine as well as here.
//!
//! Setup (skipped where already done): Debian's `chromium`, `nodejs`, `npm` and
//! `python3-venv` through apt-get when missing; a venv in `target/interop/venv` with
//! `interop/requirements.txt` (the `websockets` package); `npm ci` of
//! `interop/package.json` and its lock (`ws`, `puppeteer-core`) in `target/interop/node`;
//! a release build of ws-io's `echo_server`, `tokio_echo_server` and `client` examples.
//!
//! Then the checks, one PASS/FAIL line each (the peer scripts in `interop/` print their
//! own), the command failing if any fails. ws-io negotiates permessage-deflate (RFC 7692)
//! by default, so wherever the peer's defaults offer or accept it, it must be agreed and
//! the messages go compressed:
//!
//! 1. Python `websockets` client → `echo_server --protocol chat` and `tokio_echo_server`:
//!    permessage-deflate negotiated, every echo coming back compressed;
//! 2. our `client` → Python `websockets` echo servers (compression on by default): the
//!    server reports permessage-deflate agreed and every message it received compressed,
//!    within the 4 KiB client window it asks for;
//! 3. Node `ws` client → `echo_server --protocol chat`: permessage-deflate negotiated, every
//!    echo coming back compressed;
//! 4. our `client` → a Node `ws` echo server, whose permessage-deflate is off by default:
//!    declined, echoes uncompressed;
//! 5. headless Chromium (puppeteer-core) → `echo_server --protocol chat`: permessage-deflate
//!    offered by Chromium and agreed in every handshake.
//!
//! Servers' output goes to `target/interop/logs/`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{apt, cargo, root, run as run_cmd, succeeds, wait_for_port, which};

/// Listening ports: ws-io's two echo servers, the Python servers (plain and with the
/// subprotocol `chat`), the Node server.
const ECHO_PORT: u16 = 29_601;
const TOKIO_PORT: u16 = 29_602;
const PYTHON_PORT: u16 = 29_603;
const PYTHON_CHAT_PORT: u16 = 29_604;
const NODE_PORT: u16 = 29_605;

/// The examples the checks run.
const BUILD: &[&str] = &[
    "build",
    "--release",
    "-p",
    "ws-io",
    "--features",
    "tokio,rustls",
    "--example",
    "echo_server",
    "--example",
    "tokio_echo_server",
    "--example",
    "client",
];

/// A peer script is killed after this (each stops itself after 60 s).
const SCRIPT_LIMIT: Duration = Duration::from_secs(90);
/// How long the client has to echo its input, and then to exit once its stdin is closed.
const CLIENT_LIMIT: Duration = Duration::from_secs(15);
/// How long a server has to report a connection once the client is done.
const REPORT_LIMIT: Duration = Duration::from_secs(5);

/// What runs the peers.
struct Peers {
    /// The venv's Python, with `websockets`.
    python: PathBuf,
    /// Where `npm ci` installed `ws` and `puppeteer-core`.
    node_dir: PathBuf,
    chromium: PathBuf,
}

pub fn run() -> Result<(), String> {
    let started = Instant::now();
    let peers = setup()?;
    run_cmd(cargo().args(BUILD))?;
    let setup_time = started.elapsed();

    let started = Instant::now();
    let logs = root().join("target/interop/logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut tally = Tally::default();
    println!("\ninterop: peers against ws-io's servers");
    against_our_servers(&peers, &logs, &mut tally)?;
    println!("\ninterop: ws-io's client against Python websockets servers");
    client_against_python(&peers, &logs, &mut tally)?;
    println!("\ninterop: ws-io's client against a Node ws server");
    client_against_node(&peers, &logs, &mut tally)?;

    println!(
        "\ninterop: {} passed, {} failed (setup {:.0} s, checks {:.0} s)",
        tally.passed,
        tally.failed.len(),
        setup_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if tally.failed.is_empty() {
        Ok(())
    } else {
        for line in &tally.failed {
            println!("  {line}");
        }
        Err(format!("{} interop check(s) failed (servers' output in {})", tally.failed.len(), logs.display()))
    }
}

/// Checks 1, 3 and 5: Python, Node and Chromium as clients of ws-io's echo servers.
fn against_our_servers(peers: &Peers, logs: &Path, tally: &mut Tally) -> Result<(), String> {
    let echo_addr = format!("127.0.0.1:{ECHO_PORT}");
    let tokio_addr = format!("127.0.0.1:{TOKIO_PORT}");
    let _echo = Server::spawn(
        "echo_server",
        Command::new(example("echo_server")).args([echo_addr.as_str(), "--protocol", "chat"]),
        logs,
        false,
    )?;
    let _tokio = Server::spawn(
        "tokio_echo_server",
        Command::new(example("tokio_echo_server")).arg(&tokio_addr),
        logs,
        false,
    )?;
    wait_for_port(ECHO_PORT)?;
    wait_for_port(TOKIO_PORT)?;
    let interop = root().join("interop");

    tally.script(
        "Python websockets → echo_server",
        Command::new(&peers.python).arg(interop.join("python_client.py")).args([
            &format!("ws://{echo_addr}/python"),
            "python → echo_server",
            "--expect-protocol",
            "chat",
        ]),
    );
    tally.script(
        "Python websockets → tokio_echo_server",
        Command::new(&peers.python)
            .arg(interop.join("python_client.py"))
            .args([&format!("ws://{tokio_addr}/python"), "python → tokio_echo_server"]),
    );
    tally.script(
        "Node ws → echo_server",
        node(peers).arg(interop.join("node_client.mjs")).args([
            &format!("ws://{echo_addr}/node"),
            "node ws → echo_server",
            "--expect-protocol",
            "chat",
        ]),
    );
    tally.script(
        "Chromium → echo_server",
        node(peers)
            .arg(interop.join("browser.mjs"))
            .arg(&peers.chromium)
            .args([&format!("ws://{echo_addr}/browser"), "chromium → echo_server"]),
    );
    Ok(())
}

/// Check 2: the client against `websockets.asyncio.server.serve` at its defaults.
fn client_against_python(peers: &Peers, logs: &Path, tally: &mut Tally) -> Result<(), String> {
    let mut server = Server::spawn(
        "python_server",
        Command::new(&peers.python)
            .arg(root().join("interop/python_server.py"))
            .args([PYTHON_PORT.to_string(), PYTHON_CHAT_PORT.to_string()]),
        logs,
        true,
    )?;
    wait_for_port(PYTHON_PORT)?;
    wait_for_port(PYTHON_CHAT_PORT)?;
    server.show_banner();
    let base = format!("ws://127.0.0.1:{PYTHON_PORT}");
    let chat = format!("ws://127.0.0.1:{PYTHON_CHAT_PORT}");
    let label = "client → python websockets";
    echo_checks(tally, &mut server, label, &base, Deflate::Agreed);

    let url = format!("{chat}/chat");
    tally.check(
        &format!("{label}: --protocol chat, the server selecting 'chat': \"(protocol chat)\""),
        || {
            let run = Client::run(&["--protocol", "chat"], &url, b"chat line\n", b"chat line\n")?;
            run.echoed(b"chat line\n")?;
            run.stderr_has(&format!("connected to {url} (protocol chat)"))?;
            let seen = server.connection("/chat")?;
            expect_field(&seen, "subprotocol", "chat")?;
            expect_close(&seen)?;
            Deflate::Agreed.expect(&seen)
        },
    );

    let url = format!("{base}/token");
    tally.check(&format!("{label}: --header 'X-Token: abc' reaches the server"), || {
        let run = Client::run(&["--header", "X-Token: abc"], &url, b"token line\n", b"token line\n")?;
        run.echoed(b"token line\n")?;
        let seen = server.connection("/token")?;
        expect_field(&seen, "x_token", "abc")?;
        expect_close(&seen)?;
        Deflate::Agreed.expect(&seen)
    });
    tally.check(&format!("{label}: without the header the server's 401 is reported, exit non-zero"), || {
        let run = Client::run(&[], &url, b"", b"")?;
        match run.status {
            Some(status) if !status.success() && run.stderr.contains("401") => Ok(()),
            _ => Err(format!("{}; stderr: {}", run.describe_status(), run.stderr.trim())),
        }
    });
    Ok(())
}

/// Check 4: the client against Node's `WebSocketServer` at its defaults.
fn client_against_node(peers: &Peers, logs: &Path, tally: &mut Tally) -> Result<(), String> {
    let mut server = Server::spawn(
        "node_server",
        node(peers).arg(root().join("interop/node_server.mjs")).arg(NODE_PORT.to_string()),
        logs,
        true,
    )?;
    wait_for_port(NODE_PORT)?;
    server.show_banner();
    let base = format!("ws://127.0.0.1:{NODE_PORT}");
    echo_checks(tally, &mut server, "client → node ws", &base, Deflate::Declined);
    Ok(())
}

/// Text lines, a 100 KB line, a line repeating beyond a small window and `--binary`
/// through the client and an echo server, whose report on each connection must show
/// permessage-deflate as `deflate` says.
fn echo_checks(tally: &mut Tally, server: &mut Server, label: &str, base: &str, deflate: Deflate) {
    let mut check = |what: &str, path: &str, args: &[&str], input: &[u8], output: &[u8]| {
        let url = format!("{base}{path}");
        tally.check(&format!("{label}: {what}"), || {
            let run = Client::run(args, &url, input, output)?;
            run.echoed(output)?;
            let seen = server.connection(path)?;
            expect_close(&seen)?;
            deflate.expect(&seen)
        });
    };

    let lines = "first line\nsecond line, the same again: second line\n";
    check(deflate.what(), "/deflate", &[], lines.as_bytes(), lines.as_bytes());

    let text = "héllo wörld 😀\n你好，世界 こんにちは\n\nplain ascii\n";
    let what = "text lines (emoji, CJK, empty) back on stdout, exit 0, close 1000";
    check(what, "/text", &[], text.as_bytes(), text.as_bytes());

    // 2000 x (9 bytes of 2- to 4-byte characters and 41 ASCII): 100 000 bytes.
    let long = format!("{}\n", "ü€😀 the quick brown fox jumps over the dogs ".repeat(2000));
    check("a 100 KB text line back on stdout", "/large", &[], long.as_bytes(), long.as_bytes());

    // Its only repeats are 8000 bytes back, out of reach of the client's compressor when
    // the server limits its window (websockets' answers `client_max_window_bits=12`,
    // 4 KiB), and to be inflated through a 4 KiB window.
    let far = format!("{}\n", scrambled(8000).repeat(5));
    let what = "a 40 KB line repeating only every 8000 bytes back on stdout";
    check(what, "/far", &[], far.as_bytes(), far.as_bytes());

    // Binary messages are written out as they are: the lines without their newlines.
    let lines = "binary line\nü 😀 bytes\n0123456789\n";
    let raw: String = lines.lines().collect();
    check("--binary lines back raw on stdout", "/binary", &["--binary"], lines.as_bytes(), raw.as_bytes());
}

/// `len` letters and digits with no repeats to speak of (a fixed xorshift sequence).
fn scrambled(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[(state >> 32) as usize % ALPHABET.len()])
        })
        .collect()
}

/// What an echo server's report on a connection from the client must show of
/// permessage-deflate, which the client offers.
#[derive(Debug, Clone, Copy)]
enum Deflate {
    /// Agreed (the `extensions` answered begin with it), and every text and binary
    /// message the server received came compressed (`compressed` equals `messages`).
    Agreed,
    /// Declined: no `extensions` answered.
    Declined,
}

impl Deflate {
    /// The check line for it.
    fn what(self) -> &'static str {
        match self {
            Self::Agreed => "permessage-deflate agreed by the server, every message reaching it compressed",
            Self::Declined => "permessage-deflate declined (the server's default), echoes uncompressed",
        }
    }

    fn expect(self, seen: &serde_json::Value) -> Result<(), String> {
        let answered = seen["extensions"].as_str().filter(|e| !e.trim().is_empty());
        match self {
            Self::Agreed => {
                let name = answered.and_then(|e| e.split([';', ',']).next()).map(str::trim);
                if name != Some("permessage-deflate") || answered.is_some_and(|e| e.contains(',')) {
                    return Err(format!(
                        "the server answered extensions {}, not permessage-deflate",
                        seen["extensions"]
                    ));
                }
                match (seen["messages"].as_u64(), seen["compressed"].as_u64()) {
                    (Some(messages @ 1..), Some(compressed)) if compressed == messages => Ok(()),
                    (messages, compressed) => Err(format!(
                        "the server received {} messages, {} of them compressed (extensions {})",
                        messages.map_or("?".into(), |n| n.to_string()),
                        compressed.map_or("?".into(), |n| n.to_string()),
                        seen["extensions"]
                    )),
                }
            }
            Self::Declined => match answered {
                None => Ok(()),
                Some(e) => {
                    Err(format!("the server answered extensions {e:?}, though its permessage-deflate is off"))
                }
            },
        }
    }
}

/// The server saw the client's close with 1000.
fn expect_close(seen: &serde_json::Value) -> Result<(), String> {
    match seen["close_code"].as_u64() {
        Some(1000) => Ok(()),
        _ => Err(format!("the server saw the connection end with close code {}", seen["close_code"])),
    }
}

fn expect_field(seen: &serde_json::Value, field: &str, want: &str) -> Result<(), String> {
    if seen[field].as_str() == Some(want) {
        Ok(())
    } else {
        Err(format!("the server saw {field} = {}, not {want:?}", seen[field]))
    }
}

/// PASS and FAIL lines counted.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    /// Runs one check of ours and prints its line.
    fn check(&mut self, what: &str, check: impl FnOnce() -> Result<(), String>) {
        match check() {
            Ok(()) => {
                println!("PASS {what}");
                self.passed += 1;
            }
            Err(why) => self.fail(format!("FAIL {what} — {why}")),
        }
    }

    fn fail(&mut self, line: String) {
        println!("{line}");
        self.failed.push(line);
    }

    /// Runs a peer script, echoing its output and counting its PASS/FAIL lines; a script
    /// that fails without a FAIL line, reports nothing, or outlives [`SCRIPT_LIMIT`] is a
    /// failure of its own.
    fn script(&mut self, label: &str, cmd: &mut Command) {
        cmd.current_dir(root()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = match cmd.spawn() {
            Ok(child) => Killed(child),
            Err(e) => return self.fail(format!("FAIL {label}: cannot run {:?}: {e}", cmd.get_program())),
        };
        let lines = child.0.stdout.take().map(lines).expect("stdout is piped");
        let deadline = Instant::now() + SCRIPT_LIMIT;
        let (mut passed, mut failed) = (0, 0);
        loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("PASS ") => {
                    println!("{line}");
                    passed += 1;
                    self.passed += 1;
                }
                Ok(line) if line.starts_with("FAIL ") => {
                    failed += 1;
                    self.fail(line);
                }
                Ok(line) => println!("{line}"),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    return self.fail(format!(
                        "FAIL {label}: still running after {} s: killed",
                        SCRIPT_LIMIT.as_secs()
                    ));
                }
            }
        }
        match child.wait(deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1)) {
            Some(status) if status.success() && failed == 0 && passed > 0 => {}
            Some(status) if !status.success() && failed > 0 => {}
            Some(status) if passed == 0 && failed == 0 => {
                self.fail(format!("FAIL {label}: no check ran ({status})"))
            }
            Some(status) => {
                self.fail(format!("FAIL {label}: {passed} passed, {failed} failed, exit {status}"))
            }
            None => self.fail(format!("FAIL {label}: closed its output but did not exit: killed")),
        }
    }
}

/// A server running while in scope: killed when dropped.
struct Server {
    child: Killed,
    /// Its standard output, line by line, if kept.
    lines: Option<Receiver<String>>,
    name: &'static str,
}

impl Server {
    /// Starts a server, its stderr (and its stdout unless `keep_stdout`) going to
    /// `logs/NAME.log`.
    fn spawn(name: &'static str, cmd: &mut Command, logs: &Path, keep_stdout: bool) -> Result<Self, String> {
        let path = logs.join(format!("{name}.log"));
        let log = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stdout = if keep_stdout {
            Stdio::piped()
        } else {
            log.try_clone().map_err(|e| format!("{}: {e}", path.display()))?.into()
        };
        cmd.current_dir(root()).stdin(Stdio::null()).stdout(stdout).stderr(log);
        let mut child = Killed(cmd.spawn().map_err(|e| format!("{name}: {:?}: {e}", cmd.get_program()))?);
        let lines = child.0.stdout.take().map(lines);
        Ok(Self { child, lines, name })
    }

    /// Prints the line the server starts with (its version), waiting for it a moment.
    fn show_banner(&self) {
        if let Some(line) = self.lines.as_ref().and_then(|lines| lines.recv_timeout(REPORT_LIMIT).ok()) {
            println!("{line}");
        }
    }

    /// The JSON line the server prints when a connection to `path` has ended.
    fn connection(&mut self, path: &str) -> Result<serde_json::Value, String> {
        let lines = self.lines.as_ref().ok_or("the server's output is not kept")?;
        let deadline = Instant::now() + REPORT_LIMIT;
        loop {
            let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
                let exited = self.child.0.try_wait().ok().flatten();
                return Err(format!(
                    "{} reported no connection to {path}{}",
                    self.name,
                    exited.map(|s| format!(" (exited: {s})")).unwrap_or_default()
                ));
            };
            if let Ok(seen) = serde_json::from_str::<serde_json::Value>(&line) {
                if seen["path"].as_str() == Some(path) {
                    return Ok(seen);
                }
            }
        }
    }
}

/// One run of the `client` example: input written to its stdin, which stays open until
/// the expected output has come back (or [`CLIENT_LIMIT`] has passed), so that the client
/// closes only once every echo is in, as someone typing would.
struct Client {
    url: String,
    /// The expected output did not all come back in time: the client was killed.
    incomplete: bool,
    expected_len: usize,
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Client {
    fn run(args: &[&str], url: &str, input: &[u8], expected: &[u8]) -> Result<Self, String> {
        let mut cmd = Command::new(example("client"));
        cmd.arg(url).args(args).current_dir(root());
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = Killed(cmd.spawn().map_err(|e| format!("client: {e}"))?);
        let stdin = child.0.stdin.take().expect("stdin is piped");
        let mut stdout = child.0.stdout.take().expect("stdout is piped");
        let mut stderr = child.0.stderr.take().expect("stderr is piped");
        let input = input.to_vec();
        let writer = thread::spawn(move || -> ChildStdin {
            let mut stdin = stdin;
            let _ = stdin.write_all(&input).and_then(|()| stdin.flush());
            stdin
        });
        let (chunks, incoming) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                if chunks.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let errors = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });

        let mut out = Vec::new();
        let deadline = Instant::now() + CLIENT_LIMIT;
        while out.len() < expected.len() {
            match incoming.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(_) => break,
            }
        }
        let incomplete = out.len() < expected.len();
        if incomplete {
            // Never echoed: the writer may be stuck, so the client goes first.
            let _ = child.0.kill();
        }
        // End of input: the client closes the connection and exits.
        drop(writer.join());
        let status = child.wait(CLIENT_LIMIT);
        if status.is_none() {
            let _ = child.0.kill();
        }
        while let Ok(chunk) = incoming.recv_timeout(Duration::from_secs(1)) {
            out.extend_from_slice(&chunk);
        }
        let stderr = errors.join().unwrap_or_default();
        Ok(Self {
            url: url.to_owned(),
            incomplete,
            expected_len: expected.len(),
            status,
            stdout: out,
            stderr,
        })
    }

    /// Exited 0, having connected, printed `expected` and seen the server's close 1000.
    fn echoed(&self, expected: &[u8]) -> Result<(), String> {
        if !self.status.is_some_and(|s| s.success()) {
            return Err(format!("{}; stderr: {}", self.describe_status(), self.stderr.trim()));
        }
        if self.stdout != expected {
            return Err(format!("stdout differs: {}", difference(&self.stdout, expected)));
        }
        self.stderr_has(&format!("connected to {}", self.url))?;
        self.stderr_has("closed: 1000")
    }

    fn stderr_has(&self, text: &str) -> Result<(), String> {
        if self.stderr.contains(text) {
            Ok(())
        } else {
            Err(format!("stderr lacks {text:?}: {:?}", self.stderr.trim()))
        }
    }

    fn describe_status(&self) -> String {
        if self.incomplete {
            return format!(
                "{} of the {} bytes expected on stdout after {} s: client killed",
                self.stdout.len(),
                self.expected_len,
                CLIENT_LIMIT.as_secs()
            );
        }
        match self.status {
            Some(status) => format!("client exited with {status}"),
            None => format!(
                "client did not exit within {} s of its stdin closing: killed",
                CLIENT_LIMIT.as_secs()
            ),
        }
    }
}

/// How two outputs differ, briefly.
fn difference(got: &[u8], want: &[u8]) -> String {
    let at = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
    let around = |bytes: &[u8]| {
        let end = (at + 40).min(bytes.len());
        String::from_utf8_lossy(&bytes[at.min(end)..end]).into_owned()
    };
    format!(
        "got {} bytes, expected {}; first difference at byte {at}: got {:?}, expected {:?}",
        got.len(),
        want.len(),
        around(got),
        around(want)
    )
}

/// Installs what is missing and returns what runs the peers.
fn setup() -> Result<Peers, String> {
    system_packages()?;
    let chromium = which("chromium").ok_or("chromium is still not on the PATH after installing it")?;
    let node_version = capture(Command::new("node").arg("--version"))?;
    let major: u32 =
        node_version.trim().trim_start_matches('v').split('.').next().unwrap_or("").parse().unwrap_or(0);
    if major < 18 {
        return Err(format!("Node.js {} is too old: puppeteer-core needs 18 or later", node_version.trim()));
    }
    Ok(Peers { python: python_venv()?, node_dir: node_modules()?, chromium })
}

/// Installs Debian's `chromium`, `nodejs`, `npm` and `python3-venv` where missing.
fn system_packages() -> Result<(), String> {
    let mut missing = Vec::new();
    if which("chromium").is_none() {
        // chromium-sandbox is its one recommendation: the sandbox for non-root users.
        missing.extend(["chromium", "chromium-sandbox"]);
    }
    if !succeeds(Command::new("node").arg("--version")) {
        missing.push("nodejs");
    }
    if !succeeds(Command::new("npm").arg("--version")) {
        missing.push("npm");
    }
    // Debian's python3 makes venvs only with python3-venv (ensurepip).
    if !succeeds(Command::new("python3").args(["-c", "import ensurepip, venv"])) {
        missing.push("python3-venv");
    }
    if missing.is_empty() {
        return Ok(());
    }
    if !succeeds(Command::new("apt-get").arg("--version")) {
        return Err(format!("missing {} and there is no apt-get to install them", missing.join(", ")));
    }
    apt(&["update"])?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)
}

/// The venv with `interop/requirements.txt`, made or brought up to date.
fn python_venv() -> Result<PathBuf, String> {
    let requirements = root().join("interop/requirements.txt");
    let venv = root().join("target/interop/venv");
    let python = venv.join("bin/python");
    let wanted = read(&requirements)?;
    let stamp = venv.join("installed-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    run_cmd(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run_cmd(Command::new(&python).args(["-m", "pip", "install", "--quiet", "-r"]).arg(&requirements))?;
    write(&stamp, &wanted)?;
    Ok(python)
}

/// `npm ci` of `interop/package.json` and `package-lock.json` in `target/interop/node`,
/// unless that lock is what is installed there already.
fn node_modules() -> Result<PathBuf, String> {
    let dir = root().join("target/interop/node");
    let lock = read(&root().join("interop/package-lock.json"))?;
    let stamp = dir.join("installed-package-lock.json");
    if dir.join("node_modules").exists()
        && std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str())
    {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("package.json"), &read(&root().join("interop/package.json"))?)?;
    write(&dir.join("package-lock.json"), &lock)?;
    // Neither package has install scripts to run: puppeteer-core downloads no browser.
    run_cmd(
        Command::new("npm").args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix"]).arg(&dir),
    )?;
    write(&stamp, &lock)?;
    Ok(dir)
}

fn node(peers: &Peers) -> Command {
    let mut cmd = Command::new("node");
    cmd.env("INTEROP_NODE_DIR", &peers.node_dir);
    cmd
}

fn example(name: &str) -> PathBuf {
    root().join("target/release/examples").join(name)
}

/// Sends each line of `pipe` to the receiver returned, until the pipe closes.
fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A command's standard output.
fn capture(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!("{:?} failed ({})", cmd.get_program(), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A child process killed when dropped.
struct Killed(Child);

impl Killed {
    /// Waits up to `limit` for the process to exit.
    fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => return None,
            }
        }
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}
