//! `cargo xtask qemu`: ws-proto's test program (`ws-proto/qemu-test`) on an emulated
//! Cortex-M0, QEMU's `microbit` machine: an nRF51822 with 256 KiB flash and 16 KiB RAM,
//! ARMv6-M like the SAMD21 the firmware runs on.
//!
//! Installs `qemu-system-arm` (Debian's package, through apt-get) and the thumbv6m target
//! when missing, builds the program in release, and boots it with semihosting carrying its
//! output and exit status. Fails if QEMU exits non-zero, runs longer than two minutes, or
//! the output lacks the program's closing `N passed, 0 failed`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{apt, release_build_in, root, succeeds};

/// The program's target: ARMv6-M, as the Cortex-M0 and M0+.
const TARGET: &str = "thumbv6m-none-eabi";
/// The emulator, and the Debian package that has it.
const QEMU: &str = "qemu-system-arm";
/// The test program's package directory (its own Cargo workspace) and binary.
const PROGRAM_DIR: &str = "ws-proto/qemu-test";
const PROGRAM: &str = "ws-proto-qemu-test";
/// Longest the emulated run may take (it needs a few seconds) before it is killed.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Installs what is missing, builds the program and runs it on QEMU.
pub fn run() -> Result<(), String> {
    ensure_qemu()?;
    ensure_target()?;
    let elf = build()?;
    let (status, output) = boot(&elf)?;
    verdict(status, &output)
}

/// Installs Debian's `qemu-system-arm` unless the emulator is already on the PATH.
fn ensure_qemu() -> Result<(), String> {
    if succeeds(Command::new(QEMU).arg("--version")) {
        return Ok(());
    }
    if !succeeds(Command::new("apt-get").arg("--version")) {
        return Err(format!(
            "{QEMU} is missing and there is no apt-get to install it: install QEMU's ARM system emulator"
        ));
    }
    // Recommends would bring the GTK front end and firmware for other machines.
    apt(&["update"])?;
    apt(&["install", "-y", "--no-install-recommends", QEMU])?;
    if succeeds(Command::new(QEMU).arg("--version")) {
        Ok(())
    } else {
        Err(format!("{QEMU} still does not run after installing it"))
    }
}

/// Adds the thumbv6m target to the toolchain unless it is there.
fn ensure_target() -> Result<(), String> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|line| line.trim() == TARGET) {
        return Ok(());
    }
    eprintln!("$ rustup target add {TARGET}");
    check(Command::new("rustup").args(["target", "add", TARGET]).status(), "rustup target add")
}

/// `cargo build --release` in the program's directory, so that its `.cargo/config.toml`
/// (target, linker script) applies; returns the ELF.
fn build() -> Result<PathBuf, String> {
    let dir = root().join(PROGRAM_DIR);
    let mut cmd = release_build_in(&dir);
    eprintln!("$ (cd {PROGRAM_DIR} && cargo build --release)");
    check(cmd.status(), &format!("cargo build --release ({PROGRAM_DIR})"))?;
    Ok(dir.join("target").join(TARGET).join("release").join(PROGRAM))
}

/// Boots the ELF on QEMU's micro:bit, echoing its output as it comes; returns QEMU's exit
/// status (the program's, through semihosting) and the output lines. Kills QEMU after
/// [`TIMEOUT`].
fn boot(elf: &Path) -> Result<(ExitStatus, Vec<String>), String> {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-machine", "microbit", "-cpu", "cortex-m0", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!(
        "$ {QEMU} -machine microbit -cpu cortex-m0 -nographic -semihosting-config enable=on,target=native -kernel {}",
        elf.strip_prefix(root()).unwrap_or(elf).display()
    );
    let mut child = KillOnDrop(cmd.spawn().map_err(|e| format!("{QEMU}: {e}"))?);

    // Semihosting console output arrives on QEMU's stderr or stdout depending on its
    // version: both are read, line by line, into one channel.
    let (lines, incoming) = mpsc::channel();
    if let Some(out) = child.0.stdout.take() {
        forward(out, lines.clone());
    }
    if let Some(err) = child.0.stderr.take() {
        forward(err, lines);
    }

    let deadline = Instant::now() + TIMEOUT;
    let mut output = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match incoming.recv_timeout(left) {
            Ok(line) => {
                println!("{line}");
                output.push(line);
            }
            // Both pipes closed: QEMU has exited.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!("{QEMU} did not finish within {} s: killed", TIMEOUT.as_secs()));
            }
        }
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let status =
        child.wait(left).ok_or_else(|| format!("{QEMU} closed its output but did not exit: killed"))?;
    Ok((status, output))
}

/// Sends each line read from `pipe` to `lines`, until the pipe closes.
fn forward(pipe: impl Read + Send + 'static, lines: mpsc::Sender<String>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned();
            if lines.send(text).is_err() {
                break;
            }
            line.clear();
        }
    });
}

/// Passes if QEMU exited 0 and the program's last summary says `N passed, 0 failed`.
fn verdict(status: ExitStatus, output: &[String]) -> Result<(), String> {
    let summary = output.iter().rev().find_map(|line| summary(line));
    match summary {
        Some((passed, 0)) if status.success() && passed > 0 => {
            println!("qemu: {passed} tests passed on the emulated Cortex-M0");
            Ok(())
        }
        Some((passed, failed)) => {
            Err(format!("{QEMU} exited with {status}: {passed} passed, {failed} failed"))
        }
        None => Err(format!("{QEMU} exited with {status} and no `N passed, N failed` summary")),
    }
}

/// Reads a `N passed, M failed` line.
fn summary(line: &str) -> Option<(u32, u32)> {
    let (passed, failed) = line.trim().split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.parse().ok()?, failed.parse().ok()?))
}

/// A child process killed when dropped: no QEMU outlives the command.
struct KillOnDrop(Child);

impl KillOnDrop {
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

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Runs a command and returns its standard output.
fn output(cmd: &mut Command) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} failed ({})", out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{program}: {e}"))
}

fn check(status: std::io::Result<ExitStatus>, what: &str) -> Result<(), String> {
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}
