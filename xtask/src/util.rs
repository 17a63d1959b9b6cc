//! Small helpers for running commands.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command in the workspace root, echoing it, and fails if it fails.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd.current_dir(root()).status().map_err(|e| format!("{}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// Runs a command in the workspace root, echoing it; its exit status is the caller's
/// business (kosoku exits 1 when any case, compression included, is not OK).
pub fn run_any(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(cmd));
    cmd.current_dir(root()).status().map(|_| ()).map_err(|e| format!("{}: {e}", describe(cmd)))
}

/// Runs a command in `dir`, echoing it, and fails if it fails.
pub fn run_in(dir: &Path, cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ (in {}) {}", dir.display(), describe(cmd));
    let status = cmd.current_dir(dir).status().map_err(|e| format!("{}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// `cargo build --release` in a package that is its own workspace (firmware, target test
/// programs).
pub fn release_build_in(dir: &Path) -> Command {
    cargo_in(dir, &["build", "--release", "--locked"])
}

/// `cargo ARGS` in a package that is its own workspace, without the variables that would
/// replace its own settings (the target and linker script among them) or move its output.
pub fn cargo_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.args(args).current_dir(dir);
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `cargo` with the same toolchain that runs xtask.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Whether a command runs and succeeds, its output discarded.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Runs apt-get without questions: as root, or through `sudo -n` otherwise.
pub fn apt(args: &[&str]) -> Result<(), String> {
    let uid =
        Command::new("id").arg("-u").output().map(|out| String::from_utf8_lossy(&out.stdout).into_owned());
    let root_user = uid.is_ok_and(|uid| uid.trim() == "0");
    let mut cmd = if root_user {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "--preserve-env=DEBIAN_FRONTEND", "apt-get"]);
        sudo
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive").stdin(Stdio::null());
    eprintln!("$ {}apt-get {}", if root_user { "" } else { "sudo -n " }, args.join(" "));
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("apt-get failed ({status})")),
        Err(e) => Err(format!("apt-get: {e}")),
    }
}

/// Where `program` is on the PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| {
        candidate.metadata().is_ok_and(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        })
    })
}

/// Waits up to 10 s for something to listen on `127.0.0.1:port`.
pub fn wait_for_port(port: u16) -> Result<(), String> {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on 127.0.0.1:{port}"))
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
