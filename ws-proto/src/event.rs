//! The vocabulary of a connection: what the peer sent ([`Event`]) and what to send
//! ([`Message`]).

use crate::frame::Opcode;
use crate::CloseCode;

/// Text or binary: the type of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataKind {
    /// UTF-8 text (validated on receive).
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl DataKind {
    pub(crate) const fn opcode(self) -> Opcode {
        match self {
            Self::Text => Opcode::Text,
            Self::Binary => Opcode::Binary,
        }
    }
}

/// The frame that carried a data chunk, and where in its payload the chunk sat
/// ([`Connection::last_frame`]): what it takes to forward a frame of any size as one frame
/// ([`Connection::start_frame`]).
///
/// [`Connection::last_frame`]: crate::Connection::last_frame
/// [`Connection::start_frame`]: crate::Connection::start_frame
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct FrameInfo {
    /// The frame's payload length.
    pub len: u64,
    /// Position of the chunk's first byte in the frame's payload (0: the frame starts).
    pub offset: u64,
    /// The frame's FIN bit: it is the last frame of its message.
    pub fin: bool,
    /// The chunk was inflated from a compressed message (permessage-deflate): its bytes
    /// are in the inflater's window, not the receive buffer, and `len` and `offset` are
    /// those of the compressed frame.
    #[cfg(feature = "deflate")]
    pub compressed: bool,
}

/// Something the peer sent. Payloads are unmasked in place in the receive buffer and
/// borrowed from it, never copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A chunk of a data message. Chunks of one message arrive in order; `fin` marks the
    /// last one. Every frame gives at least one chunk (an empty frame an empty one), and
    /// [`Connection::last_frame`](crate::Connection::last_frame) tells which frame and
    /// where in it. A text chunk may end inside a code point; the message as a whole is
    /// valid UTF-8.
    #[non_exhaustive]
    Data {
        /// Text or binary.
        kind: DataKind,
        /// The bytes of this chunk.
        payload: &'a [u8],
        /// This chunk completes the message.
        fin: bool,
    },
    /// A ping; a pong with the same payload is queued for
    /// [`poll_transmit`](crate::Connection::poll_transmit).
    Ping(&'a [u8]),
    /// A pong, solicited or not.
    Pong(&'a [u8]),
    /// The peer started or answered the closing handshake. If it started it, the reply
    /// (its code and reason echoed) is queued for
    /// [`poll_transmit`](crate::Connection::poll_transmit).
    Close {
        /// The code, if the frame had one.
        code: Option<CloseCode>,
        /// The reason, possibly empty.
        reason: &'a str,
    },
}

impl<'a> Event<'a> {
    /// A data chunk event, as [`Connection::receive`](crate::Connection::receive) gives
    /// it: for bindings that keep an event as positions and rebuild it, and for tests.
    pub const fn data(kind: DataKind, payload: &'a [u8], fin: bool) -> Self {
        Self::Data { kind, payload, fin }
    }
}

/// A whole message to send, or a reassembled one received (see [`crate::Assembler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message<'a> {
    /// A text message.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A ping (payload at most 125 bytes).
    Ping(&'a [u8]),
    /// A pong (payload at most 125 bytes).
    Pong(&'a [u8]),
    /// A close frame: with a code and reason, or none.
    Close(Option<CloseFrame<'a>>),
}

/// What a close frame carries: a code, and a reason of at most 123 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The close code.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: &'a str,
}

impl<'a> Message<'a> {
    /// A text message.
    pub const fn text(text: &'a str) -> Self {
        Self::Text(text)
    }

    /// A binary message.
    pub const fn binary(bytes: &'a [u8]) -> Self {
        Self::Binary(bytes)
    }

    /// The opcode and payload of a data, ping or pong message (`None` for a close).
    pub(crate) fn parts(self) -> Option<(Opcode, &'a [u8])> {
        Some(match self {
            Self::Text(text) => (Opcode::Text, text.as_bytes()),
            Self::Binary(bytes) => (Opcode::Binary, bytes),
            Self::Ping(bytes) => (Opcode::Ping, bytes),
            Self::Pong(bytes) => (Opcode::Pong, bytes),
            Self::Close(_) => return None,
        })
    }
}
