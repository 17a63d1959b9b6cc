//! Project commands: `cargo xtask <command>`.
//!
//! - `ci`: everything CI runs, with all setup (rustup targets and components, the kosoku
//!   venv) done first.
//! - `autobahn [--transport std|tokio|w5100-sim]`: the Autobahn TestSuite in both roles.
//! - `size`: firmware size report against the budget.
//! - `emulate`: the firmware's ELF on an emulated SAMD21 with the W5100 model: bring-up
//!   checks, cycles per byte, the Autobahn suite, the stack's high-water mark.
//! - `fuzz [--seconds N]`: every cargo-fuzz target for N seconds.
//! - `qemu`: the ws-proto test program on an emulated Cortex-M0.
//! - `panic-check`: ws-proto links without any reachable panic.
//! - `interop`: ws-io against Python websockets, Node ws and headless Chromium at their
//!   default settings (installs them first).

use std::process::ExitCode;

mod autobahn;
mod ci;
mod emulate;
mod fuzz;
mod interop;
mod panic_check;
mod qemu;
mod size;
mod util;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run_all(),
        Some("autobahn") => autobahn::run(&args[1..]),
        Some("size") => size::run(),
        Some("emulate") => emulate::run_all(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("qemu") => qemu::run(),
        Some("panic-check") => panic_check::run_check(),
        Some("interop") => interop::run(),
        _ => Err("usage: cargo xtask <ci | autobahn [--transport std|tokio|w5100-sim] | size | emulate | fuzz [--seconds N] | qemu | panic-check | interop>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
