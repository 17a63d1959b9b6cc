//! A sans-IO, `no_std`, allocation-free RFC 6455 WebSocket state machine for both roles.
//!
//! Bytes in, events out: the caller owns the socket, the clock and every buffer. The
//! same code runs in a host test, a std server and firmware on a Cortex-M0+.
//!
//! ```
//! use ws_proto::handshake::{Accept, Request};
//! use ws_proto::{Config, Connection, DataKind, Event, Message};
//!
//! // Server side of the RFC 6455 §1.3 handshake.
//! let config = Config::default();
//! let wire = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\n\r\n";
//! let request = Request::parse(wire, &config)?.expect("complete head");
//! assert_eq!((request.len(), request.path()), (wire.len(), "/chat"));
//! let mut tx = [0u8; 256];
//! let n = request.accept(&Accept::new(), &mut tx)?;
//! assert!(tx[..n].ends_with(b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"));
//!
//! // A masked "Hello" from the client (RFC 6455 §5.7), echoed back unmasked.
//! let mut conn = Connection::server(config);
//! let mut rx = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let (used, event) = conn.receive(&mut rx);
//! assert_eq!(used, 11);
//! let Some(Event::Data { kind: DataKind::Text, payload, fin: true, .. }) = event? else { panic!() };
//! let text = core::str::from_utf8(payload).expect("validated");
//! let n = conn.send(Message::text(text), &mut tx)?;
//! assert_eq!(&tx[..n], &[0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
//! # Ok::<(), ws_proto::Error>(())
//! ```
//!
//! Modules follow the protocol's layers: [`handshake`] for the opening handshake,
//! [`frame`] for frame headers, and the [`Connection`] that carries messages and the
//! closing handshake. A message of any size streams through fixed buffers as chunks;
//! [`Assembler`] puts whole messages together for those who want them.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]
#![warn(missing_docs)]

mod assembler;
mod base64;
mod buffer;
mod close;
mod config;
mod connection;
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub mod deflate;
mod error;
mod event;
pub mod frame;
pub mod handshake;
mod http;
mod mask;
// Hosts with `simd` hash with RustCrypto's sha1; the tests check ours everywhere.
#[cfg(any(test, not(simd_host)))]
mod sha1;
mod utf8;

#[doc(hidden)]
pub mod fuzzing;

pub use assembler::Assembler;
pub use buffer::ReadBuffer;
pub use close::CloseCode;
pub use config::{Config, Role};
pub use connection::receive::Received;
pub use connection::{Connection, NoRng};
pub use error::Error;
pub use event::{CloseFrame, DataKind, Event, FrameInfo, Message};
pub use rand_core;

#[cfg(test)]
mod tests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
