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
//! /// Accept one client on port 80 and greet it.
//! fn greet<SPI: SpiDevice>(spi: SPI) -> Result<(), Error<SPI::Error>> {
//!     let mut w5100 = W5100::new(spi);
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
//! [`SpiDevice`]: embedded_hal::spi::SpiDevice
//! [`TcpClientStack`]: embedded_nal::TcpClientStack
//! [`TcpFullStack`]: embedded_nal::TcpFullStack

#![cfg_attr(not(any(feature = "std", test)), no_std)]

mod bus;
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

pub use device::{NetConfig, W5100};
pub use error::Error;
pub use memory::{BufSize, SocketSizes};
pub use socket::Socket;
pub use stack::TcpSocket;
