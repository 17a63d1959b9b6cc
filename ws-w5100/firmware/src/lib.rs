//! Shared pieces of the Arduino Zero firmware: board bring-up ([`board`]), the SysTick
//! millisecond clock ([`clock`]) and the seeded PRNG a WebSocket client needs ([`rng`]).
//!
//! Binaries: `echo` (`src/main.rs`, the W5100 echo server) and `w5500_client`
//! (`src/bin/w5500_client.rs`). See `README.md` for wiring and flashing.
#![no_std]

pub mod board;
pub mod clock;
pub mod rng;
