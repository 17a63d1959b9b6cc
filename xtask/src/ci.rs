//! `cargo xtask ci`: set up a fresh machine, then run every check CI runs.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{cargo, cargo_in, release_build_in, root, run, run_in};

/// The library crates, in dependency order (the order they would be published in).
const LIBRARIES: [&str; 4] = ["ws-proto", "ws-io", "ws-nal", "ws-w5100"];

pub fn run_all() -> Result<(), String> {
    let mut laps = Laps::default();
    laps.time("setup", setup)?;
    laps.time("fmt, clippy", || {
        run(cargo().args(["fmt", "--all", "--check"]))?;
        run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
        run(cargo().args([
            "clippy",
            "-p",
            "ws-w5100",
            "--features",
            "sim",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    // Every test, the README's snippets among them (doc-tested by ws-examples).
    laps.time("tests", || {
        // The emulator's tests need the firmware: the emulate stage runs them.
        run(cargo().args(["test", "--workspace", "--exclude", "ws-w5100-emulator"]))?;
        run(cargo().args(["test", "-p", "ws-w5100", "--features", "sim"]))
    })?;
    laps.time("docs, msrv, package", || {
        docs()?;
        msrv()?;
        package()
    })?;
    laps.time("device builds", || {
        run(cargo().args(["build", "-p", "ws-proto", "--target", "thumbv6m-none-eabi"]))?;
        // ws-io's core without std or an allocator, then with `alloc` (owned messages, split).
        run(cargo().args([
            "build",
            "-p",
            "ws-io",
            "--no-default-features",
            "--target",
            "thumbv6m-none-eabi",
        ]))?;
        run(cargo().args([
            "build",
            "-p",
            "ws-io",
            "--no-default-features",
            "--features",
            "alloc,defmt",
            "--target",
            "thumbv6m-none-eabi",
        ]))?;
        embassy_examples()?;
        run(cargo().args(["build", "-p", "ws-nal", "--target", "thumbv6m-none-eabi"]))?;
        run(cargo().args(["build", "-p", "ws-w5100", "--target", "thumbv6m-none-eabi"]))
    })?;
    laps.time("size", crate::size::run)?;
    laps.time("panic-check", crate::panic_check::run_check)?;
    laps.time("qemu", crate::qemu::run)?;
    laps.time("emulate", crate::emulate::run_all)?;
    laps.time("fuzz", || crate::fuzz::run(&["--seconds".into(), "30".into()]))?;
    laps.time("autobahn std", || crate::autobahn::run(&[]))?;
    laps.time("autobahn tokio", || crate::autobahn::run(&["--transport".into(), "tokio".into()]))?;
    laps.time("autobahn w5100-sim", || crate::autobahn::run(&["--transport".into(), "w5100-sim".into()]))?;
    laps.time("interop", crate::interop::run)?;
    println!("\nci: all checks passed");
    Ok(())
}

/// Wall time per stage, printed after each one, so a slow stage shows in the log.
#[derive(Default)]
struct Laps {
    total: Duration,
}

impl Laps {
    fn time(&mut self, stage: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
        let started = Instant::now();
        let result = f();
        let took = started.elapsed();
        self.total += took;
        let outcome = if result.is_ok() { "done" } else { "FAILED" };
        println!(
            "ci: {stage} {outcome} in {:.0} s ({:.1} min so far)",
            took.as_secs_f64(),
            self.total.as_secs_f64() / 60.0
        );
        result
    }
}

/// Installs what the checks need: rustup target, components and the MSRV toolchain.
/// (kosoku's venv is made by the autobahn command itself.)
fn setup() -> Result<(), String> {
    run(Command::new("rustup").args(["target", "add", "thumbv6m-none-eabi"]))?;
    run(Command::new("rustup").args(["component", "add", "clippy", "rustfmt", "llvm-tools"]))?;
    run(Command::new("rustup").args(["toolchain", "install", &msrv_version()?, "--profile", "minimal"]))?;
    // The emulator (a workspace member) builds Unicorn: cmake and libclang.
    crate::emulate::ensure_build_deps()
}

/// ws-io's device examples (RP2040 + W5500 over embassy-net, with and without TLS), a
/// workspace of their own for `thumbv6m-none-eabi`: lint-free, and built.
fn embassy_examples() -> Result<(), String> {
    let dir = root().join("ws-io/embassy");
    run_in(&dir, &mut cargo_in(&dir, &["fmt", "--check"]))?;
    run_in(&dir, &mut cargo_in(&dir, &["clippy", "--release", "--locked", "--", "-D", "warnings"]))?;
    run_in(&dir, &mut release_build_in(&dir))
}

/// The library docs build without a warning, with every feature, as docs.rs builds them.
fn docs() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["doc", "--no-deps", "--all-features"]).env("RUSTDOCFLAGS", "-D warnings");
    for lib in LIBRARIES {
        cmd.args(["-p", lib]);
    }
    run(&mut cmd)
}

/// The declared minimum Rust version (`rust-version` in the workspace manifest) builds
/// the library crates with every feature.
fn msrv() -> Result<(), String> {
    let toolchain = format!("+{}", msrv_version()?);
    let mut cmd = Command::new("cargo");
    cmd.args([toolchain.as_str(), "check", "--lib", "--all-features"]);
    for lib in LIBRARIES {
        cmd.args(["-p", lib]);
    }
    // rustup picks the toolchain from `+VERSION`, so the ambient cargo's settings must not
    // leak into it.
    run(cmd.env_remove("CARGO").env_remove("RUSTC").env_remove("RUSTDOC"))
}

/// Each library crate packages as it would be published: its manifest, the files it
/// ships, and a build of the packaged sources against the others packaged before it.
fn package() -> Result<(), String> {
    forget_packaged_sources();
    let mut cmd = cargo();
    cmd.arg("package");
    for lib in LIBRARIES {
        cmd.args(["-p", lib]);
    }
    run(&mut cmd)
}

/// `cargo package` unpacks each packaged crate for the next one's build under
/// `$CARGO_HOME/registry/src/-<hash>/`, and reuses what an earlier run unpacked there even
/// when the sources changed since: a second run on one machine would build the others
/// against stale sources. Only our own crates are ever there; they go.
fn forget_packaged_sources() {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cargo")));
    let Some(src) = home.map(|home| home.join("registry/src")) else { return };
    let Ok(registries) = std::fs::read_dir(src) else { return };
    for registry in registries.flatten().filter(|r| r.file_name().to_string_lossy().starts_with('-')) {
        let Ok(crates) = std::fs::read_dir(registry.path()) else { continue };
        for krate in crates.flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            if LIBRARIES.iter().any(|lib| name.strip_prefix(lib).is_some_and(|v| v.starts_with('-'))) {
                let _ = std::fs::remove_dir_all(krate.path());
            }
        }
    }
}

fn msrv_version() -> Result<String, String> {
    let manifest =
        std::fs::read_to_string(root().join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| "no rust-version in the workspace Cargo.toml".into())
}
