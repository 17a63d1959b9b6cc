//! The closing handshake and failure, as one state with every transition in this file.
//!
//! ```text
//!            close()/error             peer's close
//!   Open ──────────────────▶ Closing ──────────────▶ PeerClosed
//!     │                        │ lost framing            ▲
//!     │ peer's close           ▼                         │
//!     └──────────────────▶ Broken            Open ───────┘
//! ```
//! In every state but `Open` a close frame of ours exists, queued for `poll_transmit` or
//! already written; the connection is over once it is written and nothing more will be
//! read (`PeerClosed` or `Broken`).

use crate::close::CloseCode;
use crate::frame::MAX_CONTROL_PAYLOAD;
use crate::Error;

/// A control frame payload (at most 125 bytes) kept for a frame of ours: a pong or a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ControlPayload {
    bytes: [u8; MAX_CONTROL_PAYLOAD],
    len: u8,
}

impl ControlPayload {
    /// A copy of `data`, cut at 125 bytes.
    pub(crate) fn new(data: &[u8]) -> Self {
        let mut payload = Self { bytes: [0; MAX_CONTROL_PAYLOAD], len: 0 };
        payload.push(data);
        payload
    }

    /// A close payload: the code, then as much of the reason as fits.
    pub(crate) fn close(code: CloseCode, reason: &[u8]) -> Self {
        let mut payload = Self::new(&code.0.to_be_bytes());
        payload.push(reason.get(..reason.len().min(CloseCode::MAX_REASON_LEN)).unwrap_or_default());
        payload
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    fn push(&mut self, data: &[u8]) {
        let start = usize::from(self.len);
        let data = data.get(..data.len().min(MAX_CONTROL_PAYLOAD - start)).unwrap_or_default();
        if let Some(dst) = self.bytes.get_mut(start..start + data.len()) {
            dst.copy_from_slice(data);
            self.len += data.len() as u8;
        }
    }
}

/// Our close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ours {
    /// Waiting for `poll_transmit`.
    Queued(ControlPayload),
    /// On the wire: nothing more may be sent.
    Sent,
}

/// Where the connection is in closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Frames flow both ways.
    Open,
    /// We started closing, by [`close`](super::Connection::close) or because the peer broke
    /// the protocol (`failed`: its data is no longer delivered); its frames are still read
    /// to find its close.
    Closing { ours: Ours, failed: bool },
    /// The peer's close arrived: nothing more is read (`failed`: after a protocol error).
    PeerClosed { ours: Ours, failed: bool },
    /// The peer's bytes can no longer be split into frames: nothing more is read.
    Broken { ours: Ours },
}

impl State {
    /// Whether received bytes are still parsed.
    pub(crate) fn reading(&self) -> bool {
        matches!(self, Self::Open | Self::Closing { .. })
    }

    /// Whether received data and pings are delivered.
    pub(crate) fn delivering(&self) -> bool {
        matches!(self, Self::Open | Self::Closing { failed: false, .. })
    }

    /// Whether new messages may be sent.
    pub(crate) fn sending(&self) -> bool {
        matches!(self, Self::Open)
    }

    fn ours(&self) -> Option<Ours> {
        match *self {
            Self::Open => None,
            Self::Closing { ours, .. } | Self::PeerClosed { ours, .. } | Self::Broken { ours } => Some(ours),
        }
    }

    /// Our close frame waiting to be written.
    pub(crate) fn queued_close(&self) -> Option<ControlPayload> {
        match self.ours() {
            Some(Ours::Queued(payload)) => Some(payload),
            _ => None,
        }
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.ours() == Some(Ours::Sent)
    }

    pub(crate) fn close_received(&self) -> bool {
        matches!(self, Self::PeerClosed { .. })
    }

    pub(crate) fn failed(&self) -> bool {
        matches!(
            self,
            Self::Closing { failed: true, .. } | Self::PeerClosed { failed: true, .. } | Self::Broken { .. }
        )
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self, Self::PeerClosed { ours: Ours::Sent, .. } | Self::Broken { ours: Ours::Sent })
    }

    /// The application starts the closing handshake.
    pub(crate) fn close(&mut self, payload: ControlPayload) -> Result<(), Error> {
        match self {
            Self::Open => {
                *self = Self::Closing { ours: Ours::Queued(payload), failed: false };
                Ok(())
            }
            _ => Err(Error::Closed),
        }
    }

    /// The peer broke the protocol; `framing_lost` when its bytes can no longer be split
    /// into frames. Returns whether this is the first failure: only that one is reported,
    /// and only its close code is sent.
    pub(crate) fn fail(&mut self, error: Error, framing_lost: bool) -> bool {
        let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
        let (ours, first) = match *self {
            Self::Open => (Ours::Queued(ControlPayload::close(code, error.reason().as_bytes())), true),
            Self::Closing { ours, failed } => (ours, !failed),
            Self::PeerClosed { .. } | Self::Broken { .. } => return false,
        };
        *self = if framing_lost { Self::Broken { ours } } else { Self::Closing { ours, failed: true } };
        first
    }

    /// The peer's close arrived; `reply` is our answer if we have not started closing.
    pub(crate) fn peer_closed(&mut self, reply: ControlPayload) {
        let (ours, failed) = match *self {
            Self::Open => (Ours::Queued(reply), false),
            Self::Closing { ours, failed } => (ours, failed),
            Self::PeerClosed { .. } | Self::Broken { .. } => return,
        };
        *self = Self::PeerClosed { ours, failed };
    }

    /// Our queued close frame has been written.
    pub(crate) fn close_written(&mut self) {
        match self {
            Self::Closing { ours, .. } | Self::PeerClosed { ours, .. } | Self::Broken { ours } => {
                *ours = Ours::Sent
            }
            Self::Open => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_keeps_its_code() {
        let mut state = State::Open;
        assert!(state.fail(Error::InvalidUtf8, false));
        assert!(!state.fail(Error::UnmaskedFrame, false));
        assert!(!state.fail(Error::ReservedOpcode, true));
        assert_eq!(state.queued_close().map(|p| p.as_slice()[..2].to_vec()), Some(vec![0x03, 0xef]));
        assert!(state.failed() && !state.reading());
    }

    #[test]
    fn an_application_close_stands_against_a_later_failure() {
        let mut state = State::Open;
        state.close(ControlPayload::close(CloseCode::NORMAL, b"bye")).unwrap();
        assert_eq!(state.close(ControlPayload::new(b"")), Err(Error::Closed));
        assert!(state.fail(Error::InvalidUtf8, false), "the first failure is still reported");
        assert_eq!(state.queued_close().map(|p| p.as_slice().to_vec()), Some(b"\x03\xe8bye".to_vec()));
        state.close_written();
        assert!(state.close_sent() && !state.is_closed());
        state.peer_closed(ControlPayload::new(b""));
        assert!(state.is_closed() && state.close_received());
    }

    #[test]
    fn a_peer_close_is_answered_once() {
        let mut state = State::Open;
        state.peer_closed(ControlPayload::new(b"\x0f\xa0bye"));
        assert!(!state.reading() && !state.sending());
        assert_eq!(state.queued_close().map(|p| p.as_slice().to_vec()), Some(b"\x0f\xa0bye".to_vec()));
        assert!(!state.fail(Error::InvalidUtf8, false), "nothing is read after the peer's close");
        state.close_written();
        assert!(state.is_closed());
    }

    #[test]
    fn long_reasons_are_cut_to_fit() {
        let payload = ControlPayload::close(CloseCode::NORMAL, &[b'x'; 200]);
        assert_eq!(payload.as_slice().len(), MAX_CONTROL_PAYLOAD);
    }
}
