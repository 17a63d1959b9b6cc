//! The connection state machine for both roles, after the opening handshake.
//!
//! [`receive`](Connection::receive) takes bytes and gives at most one [`Event`] per call
//! (`receive.rs`); [`send`](Connection::send) and its relatives encode frames into the
//! caller's buffer, and [`poll_transmit`](Connection::poll_transmit) writes the pongs and
//! close frames the connection queues itself (`send.rs`). Closing and failure are one
//! state (`state.rs`).
//!
//! [`Event`]: crate::Event

pub(crate) mod receive;
mod send;
pub(crate) mod state;

use rand_core::RngCore;

use crate::utf8::Utf8Validator;
use crate::{Config, DataKind, FrameInfo, Role};
use state::{ControlPayload, State};

/// The random number generator of a server, which never masks and so needs none.
///
/// It has no values: a server's `Connection<NoRng>` cannot call it.
#[derive(Debug)]
pub enum NoRng {}

impl RngCore for NoRng {
    fn next_u32(&mut self) -> u32 {
        match *self {}
    }
    fn next_u64(&mut self) -> u64 {
        match *self {}
    }
    fn fill_bytes(&mut self, _: &mut [u8]) {
        match *self {}
    }
}

/// A WebSocket connection after the opening handshake, for either role.
///
/// Sans-IO: bytes go in through [`receive`](Self::receive), frames come out into caller
/// buffers through [`send`](Self::send) and [`poll_transmit`](Self::poll_transmit).
/// `R` supplies client masking keys; a server uses [`NoRng`].
#[derive(Debug)]
pub struct Connection<R = NoRng> {
    role: Role,
    config: Config,
    rng: Option<R>,
    state: State,
    /// The pong owed for the latest ping (RFC 6455 §5.5.3: only the latest needs one).
    pong: Option<ControlPayload>,

    // Receive side.
    /// The frame whose payload is arriving.
    incoming: Option<receive::Incoming>,
    /// Type of the message being received, while its fragments arrive.
    message: Option<DataKind>,
    message_len: u64,
    utf8: Utf8Validator,
    /// The frame of the last data chunk delivered (kept here rather than in every event:
    /// on a Cortex-M0, carrying its 64-bit fields through each event costs 300 bytes of
    /// flash).
    last_frame: FrameInfo,

    // Send side.
    /// Type of the fragmented message being sent, until its final frame.
    sending: Option<DataKind>,
    /// A frame begun with `start_frame` whose payload is still owed.
    outgoing: Option<send::Outgoing>,

    /// permessage-deflate, when negotiated.
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::Deflate>,
    #[cfg(feature = "deflate")]
    compression: receive::Compression,
    /// Type of the compressed message being sent, from its first input on (`sending` is
    /// set once its first frame is out).
    #[cfg(feature = "deflate")]
    sending_compressed: Option<DataKind>,
}

impl Connection<NoRng> {
    /// A server connection (it never masks, so needs no random numbers).
    pub fn server(config: Config) -> Self {
        Self::new(Role::Server, config, None)
    }
}

impl<R: RngCore> Connection<R> {
    /// A client connection, which masks every frame with a fresh key from `rng`.
    pub fn client(config: Config, rng: R) -> Self {
        Self::new(Role::Client, config, Some(rng))
    }

    fn new(role: Role, config: Config, rng: Option<R>) -> Self {
        Self {
            role,
            config,
            rng,
            state: State::OPEN,
            pong: None,
            incoming: None,
            message: None,
            message_len: 0,
            utf8: Utf8Validator::new(),
            last_frame: FrameInfo { fin: true, ..FrameInfo::default() },
            sending: None,
            outgoing: None,
            #[cfg(feature = "deflate")]
            deflate: None,
            #[cfg(feature = "deflate")]
            compression: receive::Compression::default(),
            #[cfg(feature = "deflate")]
            sending_compressed: None,
        }
    }

    /// Turns permessage-deflate on, as the opening handshake agreed
    /// ([`Request::deflate`](crate::handshake::Request::deflate) for a server,
    /// [`Response::deflate`](crate::handshake::Response::deflate) for a client): frames
    /// with RSV1 set start compressed messages, received through
    /// [`receive_with`](Self::receive_with); [`send_compressed`](Self::send_compressed)
    /// sends them. Before the first frame only.
    #[cfg(feature = "deflate")]
    pub fn set_deflate(&mut self, deflate: Option<crate::deflate::Deflate>) {
        self.deflate = deflate;
    }

    /// The permessage-deflate agreement in force.
    #[cfg(feature = "deflate")]
    pub fn deflate(&self) -> Option<&crate::deflate::Deflate> {
        self.deflate.as_ref()
    }

    /// The frame that carried the last [`Event::Data`](crate::Event::Data) chunk, and
    /// where in it the chunk sat.
    pub fn last_frame(&self) -> FrameInfo {
        self.last_frame
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether this end has written its close frame.
    pub fn close_sent(&self) -> bool {
        self.state.close_sent()
    }

    /// Whether the peer's close frame has arrived.
    pub fn close_received(&self) -> bool {
        self.state.close_received()
    }

    /// Whether a protocol error has failed the connection.
    pub fn is_failed(&self) -> bool {
        self.state.failed()
    }

    /// The closing handshake is over (or the stream can no longer be read after a
    /// failure): nothing more will be sent or delivered, and the TCP connection should
    /// be closed — at once by a server (RFC 6455 §7.1.1).
    pub fn is_closed(&self) -> bool {
        self.state.is_closed()
    }
}
