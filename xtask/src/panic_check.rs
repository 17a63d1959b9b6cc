//! `cargo xtask panic-check`: panic freedom of ws-proto, proven at link time.
//!
//! Builds `ws-proto/panic-check` for thumbv6m-none-eabi with LTO. Its panic handler calls
//! a function that exists nowhere, so the build links only if no panic is reachable from
//! the paths it drives (both roles' receive paths, the handshake parsers and writers, the
//! send path). Also reports its size: the core's footprint on a Cortex-M0+.

use std::process::Command;

use crate::util::{release_build_in, root, run};

pub fn run_check() -> Result<(), String> {
    run(Command::new("rustup").args(["target", "add", "thumbv6m-none-eabi"]))?;
    let dir = root().join("ws-proto/panic-check");
    eprintln!("$ (cd ws-proto/panic-check && cargo build --release)");
    let status =
        release_build_in(&dir).status().map_err(|e| format!("cargo build in {}: {e}", dir.display()))?;
    if !status.success() {
        return Err("panic-check: the binary does not link, so a panic is reachable; \
             build it with `--features find-panics` and look for callers of core::panicking in its disassembly"
            .into());
    }
    let elf = dir.join("target/thumbv6m-none-eabi/release/ws-proto-panic-check");
    let sysroot =
        Command::new("rustc").args(["--print", "sysroot"]).output().map_err(|e| format!("rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    let host =
        if cfg!(target_arch = "aarch64") { "aarch64-unknown-linux-gnu" } else { "x86_64-unknown-linux-gnu" };
    let size = format!("{sysroot}/lib/rustlib/{host}/bin/llvm-size");
    let _ = run(Command::new(size).arg("-A").arg(&elf));
    println!("panic-check: linked with no reachable panic (receive, handshake and send paths, both roles)");
    Ok(())
}
