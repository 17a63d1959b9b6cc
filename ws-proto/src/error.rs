//! The one error type of the crate: every variant names the rule that was broken and
//! knows the close code (RFC 6455 §7.4.1) or HTTP status it implies.

use crate::close::CloseCode;

/// Everything that can go wrong, on the wire or in the caller's use of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    // ---- opening handshake, server side (HTTP status) ----
    /// The request head is not valid HTTP/1.1.
    MalformedHttp,
    /// The request head exceeds `Config::max_handshake_size` or has too many headers.
    HeadTooLarge,
    /// The request method is not GET.
    MethodNotGet,
    /// The request is not HTTP/1.1.
    HttpVersion,
    /// The request has no `Host` header.
    MissingHost,
    /// `Upgrade` does not name `websocket`.
    NotWebSocketUpgrade,
    /// `Connection` does not list the `Upgrade` token.
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Key` is absent or does not decode to 16 bytes.
    BadKey,
    /// `Sec-WebSocket-Version` is absent or not 13.
    UnsupportedVersion,
    /// `Host`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version` or `Sec-WebSocket-Accept`
    /// appears more than once (RFC 6455 §11.3: these fields must not repeat).
    DuplicateHeader,

    // ---- opening handshake, client side ----
    /// The server answered with a status other than 101 (the status is kept; the head is
    /// still in the buffer, and [`handshake::Response::parse`](crate::handshake::Response::parse)
    /// shows its headers).
    HandshakeRejected(u16),
    /// `Sec-WebSocket-Accept` does not match the key that was sent.
    BadAccept,
    /// The server chose a subprotocol the client did not offer.
    UnexpectedProtocol,
    /// The server accepted an extension the client did not offer, or permessage-deflate
    /// with parameters its offer does not allow (RFC 7692 §7.1).
    UnexpectedExtension,
    /// A URL that is not `ws://` or `wss://` with a host.
    InvalidUrl,
    /// A header to be written has a name that is not a token, or a value with a control
    /// character (CR or LF would let it forge headers).
    InvalidHeader,
    /// A rejection's status is outside 200-599.
    InvalidStatus,

    // ---- frames and messages (close codes) ----
    /// RSV1-3 set while no extension was negotiated (1002).
    ReservedBits,
    /// Opcode 3-7 or 0xB-0xF (1002).
    ReservedOpcode,
    /// A client sent an unmasked frame (1002).
    UnmaskedFrame,
    /// A server sent a masked frame (1002).
    MaskedFrame,
    /// A control frame carries more than 125 bytes (1002).
    ControlFrameTooLong,
    /// A control frame has FIN clear (1002).
    FragmentedControlFrame,
    /// A continuation frame arrived with no message in progress (1002).
    UnexpectedContinuation,
    /// A new data frame arrived while a fragmented message was in progress (1002).
    ExpectedContinuation,
    /// A 64-bit payload length has its most significant bit set (1002).
    LengthOverflow,
    /// A frame is larger than `Config::max_frame_size` (1009).
    FrameTooLarge,
    /// A message is larger than `Config::max_message_size` or the caller's buffer (1009).
    MessageTooLarge,
    /// A text message or close reason is not valid UTF-8 (1007).
    InvalidUtf8,
    /// A close frame carries a one-byte payload or a code not allowed on the wire (1002).
    InvalidCloseCode,
    /// A compressed message is not valid DEFLATE data, or reaches back farther than the
    /// negotiated window (1007).
    #[cfg(feature = "deflate")]
    InvalidCompressedData,

    // ---- use of the API ----
    /// The close handshake has started: no more data may be sent.
    Closed,
    /// The caller's buffer cannot hold what must be written into it.
    BufferTooSmall,
    /// A frame was sent out of sequence (a new message inside a fragmented one, a
    /// continuation with none open, anything but payload while a frame started with
    /// `start_frame` is unfinished, or more payload than it announced), or a control
    /// payload exceeds 125 bytes, or a close code or reason is not allowed.
    InvalidSend,
}

impl Error {
    /// The close code to send when this error fails an open connection.
    ///
    /// `None` for handshake errors (they get an HTTP status instead) and API misuse.
    pub const fn close_code(self) -> Option<CloseCode> {
        use Error::*;
        match self {
            ReservedBits
            | ReservedOpcode
            | UnmaskedFrame
            | MaskedFrame
            | ControlFrameTooLong
            | FragmentedControlFrame
            | UnexpectedContinuation
            | ExpectedContinuation
            | LengthOverflow
            | InvalidCloseCode => Some(CloseCode::PROTOCOL_ERROR),
            FrameTooLarge | MessageTooLarge => Some(CloseCode::MESSAGE_TOO_BIG),
            InvalidUtf8 => Some(CloseCode::INVALID_PAYLOAD),
            #[cfg(feature = "deflate")]
            InvalidCompressedData => Some(CloseCode::INVALID_PAYLOAD),
            _ => None,
        }
    }

    /// The HTTP status a server answers with when a request fails for this reason.
    ///
    /// `None` for errors that do not arise while parsing a request.
    pub const fn http_status(self) -> Option<u16> {
        use Error::*;
        match self {
            MalformedHttp
            | HttpVersion
            | MissingHost
            | NotWebSocketUpgrade
            | MissingConnectionUpgrade
            | BadKey
            | DuplicateHeader => Some(400),
            MethodNotGet => Some(405),
            UnsupportedVersion => Some(426),
            HeadTooLarge => Some(431),
            _ => None,
        }
    }

    /// What the peer is told: the body of the HTTP error response, or the reason in the
    /// close frame, for errors that have a [`http_status`](Self::http_status) or a
    /// [`close_code`](Self::close_code); empty for errors that stay local (their
    /// `Display` text describes them).
    pub const fn reason(self) -> &'static str {
        use Error::*;
        match self {
            MalformedHttp => "malformed HTTP request",
            HeadTooLarge => "request head too large",
            MethodNotGet => "method must be GET",
            HttpVersion => "HTTP/1.1 required",
            MissingHost => "missing Host header",
            NotWebSocketUpgrade => "Upgrade: websocket required",
            MissingConnectionUpgrade => "Connection: Upgrade required",
            BadKey => "invalid Sec-WebSocket-Key",
            UnsupportedVersion => "Sec-WebSocket-Version 13 required",
            DuplicateHeader => "repeated header field",
            ReservedBits => "reserved bits set",
            ReservedOpcode => "reserved opcode",
            UnmaskedFrame => "client frame not masked",
            MaskedFrame => "server frame masked",
            ControlFrameTooLong => "control frame too long",
            FragmentedControlFrame => "fragmented control frame",
            UnexpectedContinuation => "continuation without message",
            ExpectedContinuation => "message interrupted",
            LengthOverflow => "payload length overflow",
            FrameTooLarge => "frame too large",
            MessageTooLarge => "message too large",
            InvalidUtf8 => "invalid UTF-8",
            InvalidCloseCode => "invalid close code",
            #[cfg(feature = "deflate")]
            InvalidCompressedData => "invalid compressed data",
            // Kept out of this table so that a device that only ever tells a peer why
            // does not carry these strings.
            HandshakeRejected(_) | BadAccept | UnexpectedProtocol | UnexpectedExtension | InvalidUrl
            | InvalidHeader | InvalidStatus | Closed | BufferTooSmall | InvalidSend => "",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use Error::*;
        f.write_str(match self {
            HandshakeRejected(status) => return write!(f, "server answered HTTP {status}"),
            BadAccept => "Sec-WebSocket-Accept mismatch",
            UnexpectedProtocol => "subprotocol not offered",
            UnexpectedExtension => "extension not offered",
            InvalidUrl => "URL must be ws:// or wss:// with a host",
            InvalidHeader => "invalid header name or value",
            InvalidStatus => "status must be 200-599",
            Closed => "connection closing",
            BufferTooSmall => "buffer too small",
            InvalidSend => "send out of sequence",
            other => other.reason(),
        })
    }
}

impl core::error::Error for Error {}
