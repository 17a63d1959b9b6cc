//! The crate's error type: why a session ended before its WebSocket opened, or why a
//! call could not be served.

/// Why a session ended without opening, or a call failed. A session that opened ends
/// with [`Event::Closed`](crate::Event::Closed) instead, whatever the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The TCP stack failed.
    Tcp(E),
    /// The opening handshake failed (a server has sent the HTTP error its
    /// [`status`](ws_proto::Error::http_status) names), or the application misused the
    /// connection.
    Ws(ws_proto::Error),
    /// The application turned the request down with this status (sent).
    Rejected(u16),
    /// The opening handshake took longer than its timeout.
    Timeout,
    /// The peer closed the connection during the opening handshake.
    Disconnected,
    /// The session has already ended (reported by `Event::Closed` or an error before).
    Finished,
}

impl<E> From<ws_proto::Error> for Error<E> {
    fn from(e: ws_proto::Error) -> Self {
        Self::Ws(e)
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tcp(e) => write!(f, "TCP: {e:?}"),
            Self::Ws(e) => write!(f, "WebSocket: {e}"),
            Self::Rejected(status) => write!(f, "request rejected with HTTP {status}"),
            Self::Timeout => f.write_str("opening handshake timed out"),
            Self::Disconnected => f.write_str("peer disconnected during the opening handshake"),
            Self::Finished => f.write_str("session already ended"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}
