//! `ws-w5100-emulator`: the echo firmware's ELF on the emulated board.
//!
//! - `ws-w5100-emulator serve FIRMWARE.elf [HOST]`: boots to the listening state, prints
//!   `listening on HOST:9001`, and serves until stdin closes; then prints the run's counts
//!   and the stack's high-water mark.
//! - `ws-w5100-emulator measure FIRMWARE.elf`: boots, echoes 125 B and 4 KiB messages from
//!   a client on the host, and prints cycles per echoed byte and what they mean at 48 MHz
//!   beside the SPI bound.

use std::io::Read;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_io::Message;
use ws_w5100_emulator::{Config, Emulator, Error, Stats};

/// The firmware's WebSocket port (`PORT` in its `src/main.rs`).
const PORT: u16 = 9001;
/// Boot to LISTEN takes well under a second of emulation.
const BOOT_DEADLINE: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [cmd, elf] if cmd == "serve" => serve(elf, Ipv4Addr::LOCALHOST),
        [cmd, elf, host] if cmd == "serve" => match host.parse() {
            Ok(host) => serve(elf, host),
            Err(e) => Err(format!("{host}: {e}")),
        },
        [cmd, elf] if cmd == "measure" => measure(elf),
        _ => Err("usage: ws-w5100-emulator serve FIRMWARE.elf [HOST] | measure FIRMWARE.elf".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ws-w5100-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn boot(elf: &str, host: Ipv4Addr) -> Result<Emulator, String> {
    let image = std::fs::read(elf).map_err(|e| format!("{elf}: {e}"))?;
    let mut emulator = Emulator::new(&image, Config::default().host(host)).map_err(|e| e.to_string())?;
    let started = Instant::now();
    emulator
        .run_until(Some(started + BOOT_DEADLINE), "listening socket", Emulator::listening)
        .map_err(|e: Error| e.to_string())?;
    let stats = emulator.stats();
    eprintln!(
        "booted in {:.0} ms: {} instructions, core {} MHz, SPI {} MHz, {} SPI bytes",
        started.elapsed().as_secs_f64() * 1e3,
        stats.instructions,
        emulator.core_hz() / 1_000_000,
        emulator.spi_hz() as f64 / 1e6,
        stats.spi_bytes
    );
    Ok(emulator)
}

fn serve(elf: &str, host: Ipv4Addr) -> Result<(), String> {
    let mut emulator = boot(elf, host)?;
    println!("listening on {host}:{PORT}");
    let closed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&closed);
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        while !matches!(std::io::stdin().read(&mut sink), Ok(0) | Err(_)) {}
        flag.store(true, Ordering::Relaxed);
    });
    let started = Instant::now();
    let result = emulator.run_until(None, "end", |_| closed.load(Ordering::Relaxed));
    let stats = emulator.stats();
    let (bottom, top) = emulator.stack_bounds();
    println!(
        "served for {:.1} s: {} instructions ({:.1} M/s), {} cycles, {} SPI bytes, {} register accesses, {} SysTicks",
        started.elapsed().as_secs_f64(),
        stats.instructions,
        stats.instructions as f64 / started.elapsed().as_secs_f64() / 1e6,
        stats.cycles,
        stats.spi_bytes,
        stats.mmio,
        stats.ticks
    );
    println!(
        "stack high-water mark: {} B (of {} B between the statics' end {bottom:#x} and the top {top:#x})",
        emulator.stack_high_water(),
        top - bottom
    );
    for name in emulator.deepest_frames(512) {
        println!("  return address left in the deepest 512 B: {name}");
    }
    result.map_err(|e| e.to_string())
}

/// A batch of echoes the client thread timed: signals to the emulator thread.
enum Mark {
    Start,
    End { messages: usize, bytes: usize },
    Failed(String),
}

fn measure(elf: &str) -> Result<(), String> {
    let mut emulator = boot(elf, Ipv4Addr::LOCALHOST)?;
    let (tx, rx) = mpsc::channel();
    let client = std::thread::spawn(move || {
        if let Err(e) = client(&tx) {
            let _ = tx.send(Mark::Failed(e));
        }
    });
    let core_hz = 48_000_000f64;
    let spi_hz = emulator.spi_hz() as f64;
    println!(
        "receive-and-echo on the emulated SAMD21 (Cortex-M0+ cycles: TRM timings, zero wait states = NVM cache hits; \
         upper bound: one wait state on every 32-bit fetch)"
    );
    println!(
        "{:>8} {:>10} {:>13} {:>13} {:>12} {:>12} {:>11} {:>12} {:>14}",
        "message",
        "instr/B",
        "cycles/B",
        "upper cyc/B",
        "SPI B/B",
        "msgs/s",
        "KB/s CPU",
        "KB/s SPI",
        "KB/s CPU+SPI"
    );
    let mut start: Option<Stats> = None;
    loop {
        let mut mark = None;
        emulator
            .run_until(Some(Instant::now() + Duration::from_secs(120)), "echo", |_| {
                mark = rx.try_recv().ok();
                mark.is_some() || client.is_finished()
            })
            .map_err(|e| e.to_string())?;
        match mark {
            Some(Mark::Start) => start = Some(emulator.stats()),
            Some(Mark::End { messages, bytes }) => {
                let Some(start) = start.take() else { continue };
                let d = emulator.stats().since(&start);
                let per = |x: u64| x as f64 / bytes as f64;
                let cycles = per(d.cycles);
                let upper = per(d.cycles + d.fetch_words);
                let spi = per(d.spi_bytes);
                // The SPI bound: 8 clocks per byte; CPU+SPI: the driver waits for each byte.
                let spi_bound = spi_hz / 8.0 / spi;
                let serial = core_hz / (cycles + spi * 8.0 * core_hz / spi_hz);
                println!(
                    "{:>7}B {:>10.1} {:>13.1} {:>13.1} {:>12.2} {:>12.0} {:>11.1} {:>12.1} {:>14.1}",
                    bytes / messages,
                    per(d.instructions),
                    cycles,
                    upper,
                    spi,
                    core_hz / cycles / (bytes / messages) as f64,
                    core_hz / cycles / 1e3,
                    spi_bound / 1e3,
                    serial / 1e3
                );
            }
            Some(Mark::Failed(e)) => return Err(e),
            // The client is done.
            None => break,
        }
    }
    println!("stack high-water mark: {} B", emulator.stack_high_water());
    Ok(())
}

/// Echo batches of 125 B and 4 KiB binary messages, a window at a time, marking each batch.
fn client(marks: &mpsc::Sender<Mark>) -> Result<(), String> {
    let url = format!("ws://127.0.0.1:{PORT}");
    let mut ws = ws_io::std::connect(&url).map_err(|e| format!("connect: {e:?}"))?;
    let mut buf = Vec::new();
    for (size, count, window) in [(125usize, 400usize, 8usize), (4096, 40, 2)] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
        // One warm-up echo, outside the measurement.
        ws.send(Message::binary(&payload)).map_err(|e| format!("send: {e:?}"))?;
        ws.recv(&mut buf).map_err(|e| format!("recv: {e:?}"))?;
        let _ = marks.send(Mark::Start);
        for _ in 0..count / window {
            for _ in 0..window {
                ws.send(Message::binary(&payload)).map_err(|e| format!("send: {e:?}"))?;
            }
            for _ in 0..window {
                match ws.recv(&mut buf).map_err(|e| format!("recv: {e:?}"))? {
                    Some(Message::Binary(echo)) if echo == payload.as_slice() => {}
                    other => return Err(format!("wrong echo: {other:?}")),
                }
            }
        }
        let _ = marks.send(Mark::End { messages: count, bytes: count * size });
    }
    ws.close(ws_io::CloseCode::NORMAL, "done").map_err(|e| format!("close: {e:?}"))?;
    Ok(())
}
