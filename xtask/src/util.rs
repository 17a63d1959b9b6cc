//! Small helpers for running commands.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// `cargo build --release` in a package that is its own workspace (firmware, target test
/// programs), without the variables that would replace its own settings (the linker
/// script among them) or move its output.
pub fn release_build_in(dir: &Path) -> Command {
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--locked"]).current_dir(dir);
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

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
