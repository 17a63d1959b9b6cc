//! The crate's error type.

/// Why a call failed. `E` is the byte stream's error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The byte stream failed.
    Io(E),
    /// The WebSocket protocol was broken (by the peer: a close frame with the error's code
    /// has been sent), the opening handshake failed (a server has sent the HTTP error),
    /// or a call was out of place (a buffer too small, a send after close).
    Ws(ws_proto::Error),
    /// The application turned the request down with this status (sent).
    Rejected(u16),
    /// The peer closed the connection without a closing handshake (close code 1006).
    Disconnected,
    /// No byte arrived within the keepalive's close timeout (we closed with 1001), or
    /// the peer did not answer our close in time.
    Timeout,
}

impl<E> From<ws_proto::Error> for Error<E> {
    fn from(e: ws_proto::Error) -> Self {
        Self::Ws(e)
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O: {e:?}"),
            Self::Ws(e) => write!(f, "WebSocket: {e}"),
            Self::Rejected(status) => write!(f, "request rejected with HTTP {status}"),
            Self::Disconnected => f.write_str("peer disconnected without a closing handshake"),
            Self::Timeout => f.write_str("timed out"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}
