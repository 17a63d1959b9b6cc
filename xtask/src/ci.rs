//! `cargo xtask ci`: set up a fresh machine, then run every check CI runs.

use std::process::Command;

use crate::util::{cargo, run};

pub fn run_all() -> Result<(), String> {
    setup()?;
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
    ]))?;
    run(cargo().args(["test", "--workspace"]))?;
    run(cargo().args(["test", "-p", "ws-w5100", "--features", "sim"]))?;
    run(cargo().args(["build", "-p", "ws-proto", "--target", "thumbv6m-none-eabi"]))?;
    run(cargo().args(["build", "-p", "ws-w5100", "--target", "thumbv6m-none-eabi"]))?;
    crate::size::run()?;
    crate::panic_check::run_check()?;
    crate::qemu::run()?;
    crate::fuzz::run(&["--seconds".into(), "30".into()])?;
    crate::autobahn::run(&[])?;
    crate::autobahn::run(&["--transport".into(), "w5100-sim".into()])?;
    println!("\nci: all checks passed");
    Ok(())
}

/// Installs what the checks need: rustup target and components. (kosoku's venv is made
/// by the autobahn command itself.)
fn setup() -> Result<(), String> {
    run(Command::new("rustup").args(["target", "add", "thumbv6m-none-eabi"]))?;
    run(Command::new("rustup").args(["component", "add", "clippy", "rustfmt", "llvm-tools"]))?;
    Ok(())
}
