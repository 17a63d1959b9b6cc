//! WIZnet W5100 driver: the chip's four hardware TCP sockets as an embedded-nal stack.
//!
//! The driver talks to the chip through an embedded-hal 1.0 [`SpiDevice`] and implements
//! [`TcpClientStack`] and [`TcpFullStack`], so any embedded-nal client or server (such as
//! `ws-nal`'s WebSocket server) runs on it. With the `sim` feature, [`sim::W5100Sim`] is a
//! register-level model of the chip whose sockets are real host TCP sockets, so the same
//! driver code serves real clients on 127.0.0.1 in tests.
//!
//! ```
//! use embedded_hal::spi::SpiDevice;
//! use embedded_nal::{TcpClientStack, TcpFullStack};
//! use ws_w5100::{Error, NetConfig, SocketSizes, W5100};
//!
//! /// Accept one client on port 80 and greet it; `now_ms` is a millisecond clock, such as a
//! /// SysTick counter.
//! fn greet<SPI: SpiDevice>(spi: SPI, now_ms: fn() -> u64) -> Result<(), Error<SPI::Error>> {
//!     let mut w5100 = W5100::new(spi, now_ms);
//!     w5100.init(&NetConfig::default(), &SocketSizes::default())?;
//!     let mut listener = w5100.socket()?;
//!     w5100.bind(&mut listener, 80)?;
//!     w5100.listen(&mut listener)?;
//!     let (mut client, _peer) = nb::block!(w5100.accept(&mut listener))?;
//!     nb::block!(w5100.send(&mut client, b"hello\r\n"))?;
//!     w5100.close(client)?;
//!     w5100.close(listener)
//! }
//! # fn main() {}
//! ```
//!
//! See [`stack`] for how a listener re-arms (the W5100 has no accept queue: the listening
//! socket becomes the connection) and how chip states map to results and errors.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `sim` | [`sim::W5100Sim`], the register-level chip model on host TCP sockets; implies `std` |
//! | `std` | links `std` (the driver itself needs only `core`) |
//! | `defmt` | `defmt::Format` on the public error and state types, for firmware logging |
//!
//! None is on by default: the driver is `no_std` and allocation-free.
//!
//! [`SpiDevice`]: embedded_hal::spi::SpiDevice
//! [`TcpClientStack`]: embedded_nal::TcpClientStack
//! [`TcpFullStack`]: embedded_nal::TcpFullStack
// Without `sim` there is no `sim::W5100Sim` to link to: point at the feature table instead,
// so the docs build without a broken link either way.
#![cfg_attr(not(feature = "sim"), doc = "[`sim::W5100Sim`]: #features")]
#![cfg_attr(not(any(feature = "std", test)), no_std)]
// docs.rs (see Cargo.toml) labels feature-gated items such as `sim` with their feature.
// `doc_auto_cfg` was merged into `doc_cfg` (nightly 1.92), which now does this on its own.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bus;
mod clock;
mod device;
mod error;
mod memory;
mod pool;
// Public for tests and tools at register level only; see the module docs. Hidden so that
// it does not read as part of the driver's API.
#[doc(hidden)]
pub mod regs;
mod socket;
pub mod stack;

#[cfg(feature = "sim")]
pub mod sim;

pub use clock::Clock;
pub use device::{NetConfig, W5100};
pub use error::Error;
pub use memory::{BufSize, SocketSizes};
pub use socket::Socket;
pub use stack::TcpSocket;

// Compiles and runs the README's example with the doctests, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
