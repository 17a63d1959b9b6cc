//! RFC 6455 WebSockets over any byte stream: the [`ws_proto`] core driven through
//! [`embedded-io`](embedded_io) (blocking) or [`embedded-io-async`](embedded_io_async)
//! (async), so one crate serves std, tokio and embassy-net, with TLS underneath when the
//! stream is a TLS stream.
//!
//! - [`blocking::WebSocket`] and [`asynch::WebSocket`]: a client or server connection on a
//!   stream you opened, working in [`Buffers`] you give it. `no_std`, no allocation.
//! - With `std`: [`std::connect`] and [`std::accept`] over `std::net::TcpStream` (and
//!   `wss://` with `rustls`), growable buffers and owned messages.
//! - With `tokio`: [`tokio::connect`] and [`tokio::accept`], a tokio timer for keepalive,
//!   and halves that live in two tasks.
//!
//! Receiving gives whole messages, assembled in a buffer you pass (`recv`), or every
//! event as it arrives with its payload in place (`recv_event`); pings are answered and
//! the peer's close is completed along the way. Sending takes a message of any size and
//! streams it through the transmit buffer as one frame.
//!
//! ```no_run
//! # #[cfg(feature = "std")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ws_io::{CloseCode, Message};
//!
//! let mut ws = ws_io::std::connect("ws://127.0.0.1:9001/")?;
//! ws.send(Message::text("hello"))?;
//! let mut buf = Vec::new();
//! if let Some(echo) = ws.recv(&mut buf)? {
//!     println!("{echo:?}");
//! }
//! ws.close(CloseCode::NORMAL, "done")?;
//! # Ok(()) }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod asynch;
pub mod blocking;
#[cfg(feature = "deflate")]
mod deflate;
mod engine;
mod error;
mod keepalive;
mod storage;

#[cfg(feature = "alloc")]
mod owned;
// The halves share the connection through an `Arc`, which needs atomic pointers (not on
// Cortex-M0).
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod split;

#[cfg(feature = "std")]
pub mod std;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use error::Error;
pub use keepalive::Keepalive;
#[cfg(feature = "alloc")]
pub use owned::OwnedMessage;
pub use storage::MessageBuf;
#[cfg(feature = "deflate")]
pub use ws_proto::deflate::DeflateConfig;
pub use ws_proto::handshake::{Accept, ClientRequest, Reject, Request};
pub use ws_proto::{CloseCode, CloseFrame, Config, DataKind, Event, Message};
pub use {embedded_io, embedded_io_async, ws_proto};

/// The two buffers a connection works in, each at least [`Buffers::MIN_LEN`] bytes: `rx`
/// for received bytes (the opening handshake head must fit), `tx` for frames to send
/// (a message larger than it streams through it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffers<B> {
    /// Received bytes.
    pub rx: B,
    /// Bytes to send.
    pub tx: B,
}

impl<B> Buffers<B> {
    /// The smallest buffer: a whole control frame must fit in `rx` (139 bytes with the
    /// longest header), a pong or close in `tx` (131).
    pub const MIN_LEN: usize = 256;
}

#[cfg(feature = "alloc")]
impl Buffers<alloc::vec::Vec<u8>> {
    /// Two buffers of `len` bytes on the heap.
    pub fn with_len(len: usize) -> Self {
        Self { rx: alloc::vec![0; len], tx: alloc::vec![0; len] }
    }
}

/// What a client may ask for: a `ws://` or `wss://` URL, or a built
/// [`ClientRequest`] (with subprotocols, an Origin, extra headers).
pub trait IntoRequest<'r> {
    /// The request.
    fn into_request(self) -> Result<ClientRequest<'r>, ws_proto::Error>;
}

impl<'r> IntoRequest<'r> for &'r str {
    fn into_request(self) -> Result<ClientRequest<'r>, ws_proto::Error> {
        ClientRequest::from_url(self)
    }
}

impl<'r> IntoRequest<'r> for ClientRequest<'r> {
    fn into_request(self) -> Result<ClientRequest<'r>, ws_proto::Error> {
        Ok(self)
    }
}

/// The README's snippets, compiled and run as doc tests.
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
