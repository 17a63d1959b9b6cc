//! `cargo xtask emulate`: the echo firmware's release ELF, executed on the emulated SAMD21
//! (`ws-w5100/emulator`) with the W5100 chip model on its SPI bus:
//!
//! 1. the emulator's tests: boot to LISTEN, an echo, and bring-up faults that must stop
//!    the run with a clear message;
//! 2. cycles per echoed byte at 125 B and 4 KiB (`ws-w5100-emulator measure`);
//! 3. the Autobahn TestSuite from kosoku against the emulated firmware (server role: the
//!    firmware is a server), reports in `target/autobahn/emulated/`;
//! 4. the stack's high-water mark seen in both runs beside the size report's estimate
//!    (which follows direct calls only, so it can fall short; a stack that overflows into
//!    the statics stops the emulated run).
//!
//! Unicorn's build needs cmake and libclang (for bindgen): installed through apt-get when
//! missing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::{apt, cargo, root, run, run_any, succeeds, which};

/// The Autobahn cases run on the emulated firmware: every group of the SAMD21 + W5100
/// board report this project measures itself against (1-7), and the limits case (10).
/// Group 9 (messages of 64 KiB to 16 MiB, 100 MiB in all) is left out: the emulated
/// firmware echoes about 40 KB/s, so it alone would take most of an hour; its smallest
/// cases (up to 256 KiB per message, and 1,000 messages of up to 256 B) are run.
pub const CASES: &[&str] = &[
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "9.1.1", "9.1.2", "9.2.1", "9.2.2", "9.7.1",
    "9.7.2", "9.7.3", "9.7.4", "9.8.1", "9.8.2", "9.8.3", "9.8.4",
];

/// Debian packages Unicorn's build script needs: cmake, and libclang with its headers for
/// bindgen (without `libclang-common-14-dev`: "'stdbool.h' file not found").
const BUILD_DEPS: [&str; 3] = ["cmake", "libclang1-14", "libclang-common-14-dev"];

/// Installs Unicorn's build dependencies if they are missing (the workspace's clippy and
/// tests build the emulator too, so CI's setup calls this).
pub fn ensure_build_deps() -> Result<(), String> {
    let headers = Path::new("/usr/lib/llvm-14/lib/clang").exists();
    if which("cmake").is_some() && headers {
        return Ok(());
    }
    if !succeeds(Command::new("apt-get").arg("--version")) {
        return Err(format!(
            "the emulator's build needs {}; there is no apt-get to install them",
            BUILD_DEPS.join(", ")
        ));
    }
    apt(&["update"])?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend(BUILD_DEPS);
    apt(&args)
}

pub fn run_all() -> Result<(), String> {
    ensure_build_deps()?;
    let elf = crate::size::build_firmware()?;
    let estimate = crate::size::stack_estimate_of(&elf)?;
    let out = root().join("target/autobahn/emulated");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    run(cargo().args(["build", "--release", "-p", "ws-w5100-emulator"]))?;
    run(cargo().args(["test", "--release", "-p", "ws-w5100-emulator"]).env("WS_FIRMWARE_ELF", &elf))?;

    let emulator = root().join("target/release/ws-w5100-emulator");
    println!("\n$ ws-w5100-emulator measure {}", elf.display());
    let measured = Command::new(&emulator)
        .arg("measure")
        .arg(&elf)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", emulator.display()))?;
    let measure_text = String::from_utf8_lossy(&measured.stdout).into_owned();
    print!("{measure_text}");
    let _ = std::fs::write(out.join("measure.txt"), &measure_text);
    if !measured.status.success() {
        return Err("ws-w5100-emulator measure failed".into());
    }

    let kosoku = crate::autobahn::ensure_kosoku()?;
    let (took, serve_text) = autobahn(&emulator, &elf, &kosoku, &out)?;
    let failures = crate::autobahn::report(
        "server role (emulated SAMD21 firmware): kosoku -m fuzzingclient",
        &out.join("server"),
        took,
    )?;
    let high_water = [measure_text.as_str(), serve_text.as_str()]
        .iter()
        .filter_map(|text| high_water_of(text))
        .max()
        .ok_or("the emulator printed no stack high-water mark")?;
    // The estimate follows direct calls only (a lower bound where calls are indirect);
    // the emulator sees what the code did.
    println!(
        "\nstack: high-water mark {high_water} B measured in emulation (the deepest of both runs); the size \
         report estimates {estimate} B from the disassembly ({:+} B)",
        i64::from(high_water) - estimate as i64
    );
    if failures > 0 {
        return Err(format!("{failures} Autobahn case(s) failed on the emulated firmware"));
    }
    Ok(())
}

/// Serves kosoku's cases from the emulated firmware; returns the wall time and what the
/// emulator printed when it stopped (its counts and the stack's high-water mark).
fn autobahn(
    emulator: &Path,
    elf: &Path,
    kosoku: &Path,
    out: &Path,
) -> Result<(std::time::Duration, String), String> {
    let log = std::fs::File::create(out.join("server.log")).map_err(|e| format!("server log: {e}"))?;
    let started = Instant::now();
    let mut child = Command::new(emulator)
        .arg("serve")
        .arg(elf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e}", emulator.display()))?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    let _ = stdout.read_line(&mut line);
    let Some(addr) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
        let _ = child.kill();
        let _ = child.wait();
        let log = std::fs::read_to_string(out.join("server.log")).unwrap_or_default();
        return Err(format!("the emulated firmware did not reach LISTEN: {}", log.trim()));
    };
    println!("\nemulated firmware listening on {addr}; kosoku runs {} case patterns", CASES.len());
    let mut cmd = Command::new(kosoku);
    // One case at a time. The emulated W5100 is as strict as the chip: a client arriving
    // while no socket listens is refused, and the firmware keeps one socket listening, so
    // two clients connecting within the same millisecond (kosoku's `-p 2`) would see the
    // second refused, on a board as here.
    cmd.args(["-m", "fuzzingclient", "-p", "1", "-o"]).arg(out.join("server"));
    for case in CASES {
        cmd.args(["-i", case]);
    }
    let walked = run_any(cmd.arg(&addr));
    let took = started.elapsed();
    // Closing stdin ends the emulator, which then prints its counts.
    drop(child.stdin.take());
    let mut rest = String::new();
    for line in stdout.lines().map_while(Result::ok) {
        rest.push_str(&line);
        rest.push('\n');
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    print!("{rest}");
    walked?;
    if !status.success() {
        let log = std::fs::read_to_string(out.join("server.log")).unwrap_or_default();
        return Err(format!("the emulated firmware stopped with an error: {}", log.trim()));
    }
    Ok((took, rest))
}

/// "stack high-water mark: N B" in the emulator's output.
fn high_water_of(text: &str) -> Option<u32> {
    let line = text.lines().find_map(|l| l.strip_prefix("stack high-water mark: "))?;
    line.split_whitespace().next()?.parse().ok()
}
