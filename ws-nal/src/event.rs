//! What a session reports, and how it holds a report between calls.

use ws_proto::handshake::Request;
use ws_proto::{CloseCode, DataKind};

/// What a session reports, one event per poll. Payloads borrow the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Server: the client's request, validated: its path, headers and offered
    /// subprotocols. Answer it with [`Reply::accept`](crate::Reply::accept) or
    /// [`Reply::reject`](crate::Reply::reject); if the application does neither, the next
    /// poll accepts it with the first offer that
    /// [`SessionConfig::protocols`](crate::SessionConfig::protocols) lists.
    Request(Request<'a>),
    /// The opening handshake is complete.
    Open {
        /// The subprotocol agreed on, if any.
        protocol: Option<&'a str>,
    },
    /// A chunk of a data message (see [`ws_proto::Event::Data`]); at most `tx.len() - 14`
    /// bytes, so it fits in one frame of the session's own. [`Reply::frame`] tells which
    /// frame carried it.
    ///
    /// [`Reply::frame`]: crate::Reply::frame
    #[non_exhaustive]
    Data {
        /// Text or binary.
        kind: DataKind,
        /// The bytes of this chunk.
        payload: &'a [u8],
        /// This chunk completes the message.
        fin: bool,
    },
    /// A ping (the pong goes out by itself).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame (the reply, echoing it, goes out by itself).
    Close {
        /// The code, if the frame had one.
        code: Option<CloseCode>,
        /// The reason, possibly empty.
        reason: &'a str,
    },
    /// The peer broke the protocol: a close frame with the error's code goes out, and the
    /// session ends.
    Failed(ws_proto::Error),
    /// The session is over and its socket closed; the last event of an opened session.
    Closed {
        /// The peer's close code: 1005 if its close frame had none, 1006 if none came.
        code: CloseCode,
        /// Both close frames were exchanged.
        clean: bool,
    },
}

/// An event held by the session, as positions in the receive buffer rather than borrows.
/// A frame's payload is the last bytes the connection consumed, so its length is enough:
/// it ends where the consumed bytes end.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ready {
    /// The request head is `rx[..head]`.
    Request {
        head: usize,
    },
    /// The protocol, if any, is `rx[start..end]`.
    Open(Option<(usize, usize)>),
    Data {
        kind: DataKind,
        len: usize,
        fin: bool,
        /// Inflated: the payload is the inflater's last output, not in `rx`.
        #[cfg(feature = "deflate")]
        inflated: bool,
    },
    Ping(usize),
    Pong(usize),
    Close {
        code: Option<CloseCode>,
        len: usize,
    },
    Failed(ws_proto::Error),
    Closed {
        code: CloseCode,
        clean: bool,
    },
}

impl Ready {
    /// The event, with its payload taken from `rx`, whose first `consumed` bytes the
    /// connection has consumed. A request head is read by `request`, the server's parser
    /// (a client passes one that reads nothing, so it never links the server's parser:
    /// about 2 KiB of flash on a Cortex-M0).
    pub(crate) fn event<'a>(
        self,
        rx: &'a [u8],
        consumed: usize,
        request: fn(&[u8]) -> Option<Request<'_>>,
        #[cfg(feature = "deflate")] inflated: &'a [u8],
    ) -> Event<'a> {
        let bytes = |start: usize, end: usize| rx.get(start..end).unwrap_or_default();
        let text = |start, end| core::str::from_utf8(bytes(start, end)).unwrap_or_default();
        let last = |len: usize| bytes(consumed.saturating_sub(len), consumed);
        match self {
            // Parsed before, so it parses again; were it not to, the event says so.
            Self::Request { head } => match request(bytes(0, head)) {
                Some(request) => Event::Request(request),
                None => Event::Failed(ws_proto::Error::MalformedHttp),
            },
            Self::Open(protocol) => Event::Open { protocol: protocol.map(|(start, end)| text(start, end)) },
            #[cfg(feature = "deflate")]
            Self::Data { kind, fin, inflated: true, .. } => Event::Data { kind, payload: inflated, fin },
            Self::Data { kind, len, fin, .. } => Event::Data { kind, payload: last(len), fin },
            Self::Ping(len) => Event::Ping(last(len)),
            Self::Pong(len) => Event::Pong(last(len)),
            Self::Close { code, len } => {
                Event::Close { code, reason: core::str::from_utf8(last(len)).unwrap_or_default() }
            }
            Self::Failed(e) => Event::Failed(e),
            Self::Closed { code, clean } => Event::Closed { code, clean },
        }
    }
}
