//! The echo firmware's release ELF on the emulated board: it boots to LISTEN and echoes
//! over a real host socket, and a bring-up mistake stops the run with a clear message.
//!
//! The ELF is `WS_FIRMWARE_ELF` (set by `cargo xtask emulate`), or the firmware's release
//! build, which is built first if missing.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ws_io::Message;
use ws_w5100_emulator::{Config, Emulator, Error, Fault, Stop};

fn firmware() -> Vec<u8> {
    let elf = std::env::var_os("WS_FIRMWARE_ELF").map(PathBuf::from).unwrap_or_else(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../firmware");
        let elf = dir.join("target/thumbv6m-none-eabi/release/echo");
        if !elf.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--release"])
                .current_dir(&dir)
                .env_remove("CARGO_TARGET_DIR")
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the firmware failed");
        }
        elf
    });
    std::fs::read(&elf).unwrap_or_else(|e| panic!("{}: {e}", elf.display()))
}

fn boot(config: Config) -> Result<Emulator, Error> {
    let mut emulator = Emulator::new(&firmware(), config)?;
    emulator.run_until(
        Some(Instant::now() + Duration::from_secs(20)),
        "listening socket",
        Emulator::listening,
    )?;
    Ok(emulator)
}

#[test]
fn boots_to_listening_and_echoes() {
    let host = Ipv4Addr::new(127, 0, 0, 3);
    let mut emulator = boot(Config::default().host(host)).expect("boots");
    assert_eq!(emulator.core_hz() / 1_000_000, 48);
    assert!(emulator.spi_hz() <= 8_001_000, "SPI at {} Hz", emulator.spi_hz());
    let client = std::thread::spawn(move || {
        let mut ws = ws_io::std::connect(&format!("ws://{host}:9001")).expect("handshake");
        let mut buf = Vec::new();
        let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        ws.send(Message::text("hello, SAMD21")).unwrap();
        ws.send(Message::binary(&big)).unwrap();
        let first = ws.recv(&mut buf).unwrap().map(|m| format!("{m:?}"));
        assert_eq!(first.as_deref(), Some(r#"Text("hello, SAMD21")"#));
        match ws.recv(&mut buf).unwrap() {
            Some(Message::Binary(echo)) => assert_eq!(echo, big.as_slice()),
            other => panic!("echo: {other:?}"),
        }
        ws.close(ws_io::CloseCode::NORMAL, "bye").unwrap();
    });
    emulator
        .run_until(Some(Instant::now() + Duration::from_secs(60)), "echo", |_| client.is_finished())
        .expect("serves");
    client.join().expect("the client got its echoes");
    let stats = emulator.stats();
    assert!(stats.ticks > 0 && stats.spi_bytes > 4 * 3000, "{stats:?}");
    let high_water = emulator.stack_high_water();
    assert!((1024..16 * 1024).contains(&high_water), "stack high-water {high_water} B");
}

/// Boots with `fault` injected and returns the message the run stopped with.
fn stops_with(fault: Fault) -> String {
    match boot(Config::default().host(Ipv4Addr::new(127, 0, 0, 4)).fault(fault)) {
        Ok(_) => panic!("{fault:?}: the firmware came up anyway"),
        Err(error @ Error::Peripheral { stop: Stop::Misconfigured(_), .. }) => error.to_string(),
        Err(other) => panic!("{fault:?}: stopped for another reason: {other}"),
    }
}

#[test]
fn wrong_sercom_pads_stop_the_run() {
    let message = stops_with(Fault::WrongSercomPads);
    assert!(message.contains("CTRLA.DOPO = 0") && message.contains("PB10"), "{message}");
    println!("{message}");
    assert!(message.contains("firmware at 0x"), "{message}");
}

#[test]
fn a_missing_sercom_clock_stops_the_run() {
    let message = stops_with(Fault::MissingSercomClock);
    assert!(message.contains("bus clock of SERCOM4 (PM.APBCMASK bit 6) is off"), "{message}");
}

#[test]
fn a_wrong_spi_mode_stops_the_run() {
    let message = stops_with(Fault::WrongSpiMode);
    assert!(message.contains("SPI mode 1 (CPOL 0, CPHA 1)"), "{message}");
}

#[test]
fn spi_at_12_mhz_stops_the_run() {
    let message = stops_with(Fault::Spi12MHz);
    assert!(message.contains("SCK would run at 12.0 MHz"), "{message}");
}

#[test]
fn a_floating_chip_select_stops_the_run() {
    let message = stops_with(Fault::FloatingChipSelect);
    assert!(message.contains("D10 (PA18), is not driven low"), "{message}");
}
