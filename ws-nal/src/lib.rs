//! RFC 6455 WebSocket client and server over any [`embedded-nal`](embedded_nal) TCP stack.
//!
//! A [`Session`] drives the sans-IO [`ws_proto`] core through a `TcpClientStack`: it owns
//! one socket and works in two caller-provided [`Buffers`], and borrows the stack on
//! every call, so several sessions share one stack (a W5100 has four hardware sockets).
//! Everything is non-blocking (`nb`) at the core, with a blocking helper on top;
//! handshake and close timeouts use a millisecond counter the caller passes in, never a
//! global clock.
//!
//! ```no_run
//! # fn demo<S: embedded_nal::TcpFullStack>(stack: &mut S, now: impl Fn() -> u64) -> Result<(), ws_nal::Error<S::Error>> {
//! use ws_nal::{echo, Buffers, Event, Listener, Session};
//!
//! let mut listener = Listener::bind(stack, 9001)?;
//! let (socket, _peer) = nb::block!(listener.accept(stack))?;
//! let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
//! let mut session = Session::builder(socket, Buffers { rx: &mut rx, tx: &mut tx }).server(now());
//! loop {
//!     let (event, mut reply) = session.poll_blocking(stack, &now, || {})?;
//!     match event {
//!         Event::Closed { .. } => break,
//!         event => echo(&event, &mut reply)?,
//!     }
//! }
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod config;
mod connect;
#[cfg(feature = "deflate")]
mod deflate;
mod echo;
mod error;
mod event;
mod listener;
mod session;

pub use config::{Buffers, SessionConfig};
pub use connect::connect;
#[cfg(feature = "compress")]
pub use deflate::SharedCompressor;
#[cfg(feature = "deflate")]
pub use deflate::SharedInflater;
pub use echo::echo;
pub use error::Error;
pub use event::Event;
pub use listener::Listener;
pub use session::{Reply, Session, SessionBuilder};
pub use ws_proto;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
