//! `cargo xtask panic-check`: panic freedom of ws-proto, proven at link time.
//!
//! Builds `ws-proto/panic-check` for thumbv6m-none-eabi with LTO. Its panic handler calls
//! a function that exists nowhere, so the build links only if no panic is reachable from
//! the paths it drives (both roles' receive paths, the handshake parsers and writers, the
//! send path). Also reports its size: the core's footprint on a Cortex-M0+.
//!
//! Then the same with permessage-deflate (`--features deflate`): miniz_oxide's
//! decompressor keeps bounds checks the optimizer cannot remove, so that build links only
//! with `find-panics`, and its disassembly is searched instead: every function that calls
//! into the panic machinery must be miniz_oxide's (ws-proto's own deflate code, the
//! negotiation, the compressor and the connection's compressed paths, must have none).

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
    deflate(&dir, &sysroot, host)
}

/// The deflate build: which functions can panic, and that all of them are miniz_oxide's.
fn deflate(dir: &std::path::Path, sysroot: &str, host: &str) -> Result<(), String> {
    let target_dir = dir.join("target/deflate");
    eprintln!("$ (cd ws-proto/panic-check && cargo build --release --features deflate,find-panics)");
    let mut cmd = release_build_in(dir);
    cmd.args(["--features", "deflate,find-panics", "--target-dir"]).arg(&target_dir);
    let status = cmd.status().map_err(|e| format!("cargo build in {}: {e}", dir.display()))?;
    if !status.success() {
        return Err("panic-check: the deflate build failed".into());
    }
    let elf = target_dir.join("thumbv6m-none-eabi/release/ws-proto-panic-check");
    let objdump = format!("{sysroot}/lib/rustlib/{host}/bin/llvm-objdump");
    let out = Command::new(objdump)
        .args(["-d", "--demangle"])
        .arg(&elf)
        .output()
        .map_err(|e| format!("llvm-objdump: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The call graph: each function and the functions it calls.
    let mut calls: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut current = String::new();
    let name_of = |s: &str| s.split("::h").next().unwrap_or(s).to_owned();
    for line in text.lines() {
        if let Some(name) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")).map(|(_, n)| n) {
            current = name_of(name);
            calls.entry(current.clone()).or_default();
        } else if let Some(target) =
            line.split_once("\tbl\t").and_then(|(_, t)| t.split_once('<')).map(|(_, t)| t)
        {
            let target = name_of(target.split('>').next().unwrap_or(target));
            calls.entry(current.clone()).or_default().push(target);
        }
    }
    // Functions that can panic: the machinery, and whatever calls them, to a fixpoint.
    let is_machinery = |f: &str| {
        f.starts_with("core::panicking")
            || f.ends_with("_fail")
            || f == "panic_is_reachable"
            || f == "rust_begin_unwind"
    };
    let mut panicky: std::collections::BTreeSet<String> =
        calls.keys().filter(|f| is_machinery(f)).cloned().collect();
    panicky.insert("panic_is_reachable".to_owned());
    loop {
        let more: Vec<String> = calls
            .iter()
            .filter(|(f, targets)| !panicky.contains(*f) && targets.iter().any(|t| panicky.contains(t)))
            .map(|(f, _)| f.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        panicky.extend(more);
    }
    // Where panics enter: functions (not the core library's) that call the machinery, or a
    // core function that can panic (`copy_within`, say), directly.
    let callers: std::collections::BTreeSet<String> = calls
        .iter()
        .filter(|(f, _)| !is_machinery(f) && !f.starts_with("core::"))
        .filter(|(_, targets)| {
            targets.iter().any(|t| is_machinery(t) || (t.starts_with("core::") && panicky.contains(t)))
        })
        .map(|(f, _)| f.clone())
        .collect();
    let ours: Vec<&String> = callers.iter().filter(|f| !f.starts_with("miniz_oxide::")).collect();
    println!(
        "panic-check (deflate): functions with a panic path: {}",
        if callers.is_empty() {
            "none".to_owned()
        } else {
            callers.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    );
    if !ours.is_empty() {
        return Err(format!("panic-check (deflate): panic paths outside miniz_oxide: {ours:?}"));
    }
    println!("panic-check (deflate): ws-proto's own deflate paths have none; miniz_oxide's decompressor keeps its bounds checks");
    Ok(())
}
