//! RFC 6455 WebSocket client and server over any [`embedded-nal`](embedded_nal) TCP stack.
//!
//! [`Session`] drives the sans-IO [`ws_proto`] core through a `TcpClientStack`: it owns
//! one socket and two caller-provided buffers, and borrows the stack on every call, so
//! several sessions share one stack (a W5100 has four hardware sockets). Everything is
//! non-blocking (`nb`) at the core, with blocking helpers on top; handshake and close
//! timeouts use a millisecond counter the caller passes in, never a global clock.
//!
//! ```no_run
//! # fn demo<S: embedded_nal::TcpFullStack>(stack: &mut S, now: impl Fn() -> u64) -> Result<(), ws_nal::Error<S::Error>> {
//! use ws_nal::{Event, Listener, Session, SessionConfig};
//!
//! let mut listener = Listener::bind(stack, 9001)?;
//! let socket = nb::block!(listener.accept(stack))?;
//! let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
//! let mut session = Session::server(socket, &mut rx, &mut tx, SessionConfig::default(), now());
//! loop {
//!     let (event, mut reply) = session.poll_blocking(stack, &now, || {})?;
//!     match event {
//!         Event::Ws(ws_proto::Event::Data { kind, payload, fin }) => reply.send_fragment(kind, payload, fin)?,
//!         Event::Closed => break,
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod echo;
mod error;
mod listener;
mod session;

pub use echo::echo;
pub use error::Error;
pub use listener::Listener;
pub use session::{connect, Event, Reply, Session, SessionConfig};
pub use ws_proto;
