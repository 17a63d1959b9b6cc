//! The driver's one error type and its mapping onto embedded-nal's [`TcpErrorKind`].

use core::fmt;

use embedded_nal::{TcpError, TcpErrorKind};

/// Everything that can go wrong talking to a W5100; `E` is the SPI bus error.
///
/// [`TcpError::kind`] maps [`Error::Closed`] to [`TcpErrorKind::PipeClosed`] and everything
/// else, including [`Error::Timeout`], to [`TcpErrorKind::Other`].
///
/// Later versions may add variants (the driver does not yet report everything the chip can,
/// e.g. IP conflicts or unreachable destinations), so a `match` needs a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The SPI bus reported an error.
    Spi(E),
    /// The chip did not finish its reset or did not read back what was written: check
    /// wiring, chip select, SPI mode 0 and power.
    NotAnswering,
    /// A stack method was called before [`W5100::init`](crate::W5100::init).
    NotInitialized,
    /// The chip did not clear Sn_CR within the poll budget after a command.
    CommandTimeout,
    /// All hardware sockets that have buffer memory are in use.
    NoFreeSocket,
    /// Only IPv4 addresses are supported by the chip.
    Unsupported,
    /// Port 0 cannot be bound: the chip needs a concrete port.
    InvalidPort,
    /// The operation does not fit the socket's state (e.g. `send` on a listener).
    InvalidState,
    /// A socket did not reach the expected state after a command (the status is attached).
    UnexpectedStatus(u8),
    /// `connect` failed: the peer refused (RST) or the socket was closed while connecting.
    ConnectionRefused,
    /// Sn_IR TIMEOUT: ARP or TCP retransmissions ran out; the connection is gone.
    Timeout,
    /// The peer closed the connection (FIN with no data left to read) or reset it.
    Closed,
}

impl<E: fmt::Debug> TcpError for Error<E> {
    fn kind(&self) -> TcpErrorKind {
        match self {
            Self::Closed => TcpErrorKind::PipeClosed,
            _ => TcpErrorKind::Other,
        }
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spi(e) => write!(f, "SPI bus error: {e:?}"),
            Self::NotAnswering => f.write_str("W5100 not answering (reset or read-back failed)"),
            Self::NotInitialized => f.write_str("W5100 used before init"),
            Self::CommandTimeout => f.write_str("W5100 did not accept a socket command"),
            Self::NoFreeSocket => f.write_str("no free W5100 socket"),
            Self::Unsupported => f.write_str("only IPv4 is supported"),
            Self::InvalidPort => f.write_str("port 0 cannot be bound"),
            Self::InvalidState => f.write_str("operation not valid in the socket's state"),
            Self::UnexpectedStatus(code) => write!(f, "unexpected socket status 0x{code:02X}"),
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::Timeout => f.write_str("TCP timeout"),
            Self::Closed => f.write_str("connection closed by the peer"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}
