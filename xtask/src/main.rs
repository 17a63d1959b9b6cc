//! Project commands: `cargo xtask <command>`.
//!
//! - `ci`: everything CI runs, with all setup (rustup targets and components, the kosoku
//!   venv) done first.
//! - `autobahn [--transport std|w5100-sim]`: the Autobahn TestSuite in both roles.
//! - `size`: firmware size report against the budget.

use std::process::ExitCode;

mod autobahn;
mod ci;
mod size;
mod util;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run_all(),
        Some("autobahn") => autobahn::run(&args[1..]),
        Some("size") => size::run(),
        _ => Err("usage: cargo xtask <ci | autobahn [--transport std|w5100-sim] | size>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
