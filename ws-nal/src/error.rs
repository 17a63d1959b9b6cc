//! The crate's error type: the TCP stack's, the protocol's, or a timeout.

/// What can end a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The TCP stack failed.
    Tcp(E),
    /// The opening handshake failed (for a server, after its HTTP error response was
    /// sent), or the application misused the connection (e.g. a buffer too small).
    Ws(ws_proto::Error),
    /// The opening or closing handshake took longer than its configured timeout.
    Timeout,
    /// The session is over; it has nothing more to report.
    Closed,
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
            Self::Timeout => f.write_str("handshake timed out"),
            Self::Closed => f.write_str("session closed"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}
