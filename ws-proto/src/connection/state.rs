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
enum Ours {
    /// Waiting for `poll_transmit`, with the payload kept in [`State::frame`].
    Queued,
    /// On the wire: nothing more may be sent.
    Sent,
}

/// Where the connection is in closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
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

/// The closing handshake and failure: the phase, and the payload of our close frame
/// (kept beside the phase, so a transition moves two bytes rather than 127).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    phase: Phase,
    frame: ControlPayload,
}

impl State {
    /// A connection that is open.
    pub(crate) const OPEN: Self =
        Self { phase: Phase::Open, frame: ControlPayload { bytes: [0; MAX_CONTROL_PAYLOAD], len: 0 } };

    /// Whether received bytes are still parsed.
    pub(crate) fn reading(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Closing { .. })
    }

    /// Whether received data and pings are delivered.
    pub(crate) fn delivering(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Closing { failed: false, .. })
    }

    /// Whether new messages may be sent.
    pub(crate) fn sending(&self) -> bool {
        matches!(self.phase, Phase::Open)
    }

    fn ours(&self) -> Option<Ours> {
        match self.phase {
            Phase::Open => None,
            Phase::Closing { ours, .. } | Phase::PeerClosed { ours, .. } | Phase::Broken { ours } => {
                Some(ours)
            }
        }
    }

    /// Our close frame's payload, while it waits to be written.
    pub(crate) fn queued_close(&self) -> Option<&[u8]> {
        (self.ours() == Some(Ours::Queued)).then(|| self.frame.as_slice())
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.ours() == Some(Ours::Sent)
    }

    pub(crate) fn close_received(&self) -> bool {
        matches!(self.phase, Phase::PeerClosed { .. })
    }

    pub(crate) fn failed(&self) -> bool {
        matches!(
            self.phase,
            Phase::Closing { failed: true, .. }
                | Phase::PeerClosed { failed: true, .. }
                | Phase::Broken { .. }
        )
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::PeerClosed { ours: Ours::Sent, .. } | Phase::Broken { ours: Ours::Sent })
    }

    /// The application starts the closing handshake (a codeless close has no payload).
    pub(crate) fn close(&mut self, code: Option<CloseCode>, reason: &[u8]) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(Error::Closed);
        }
        self.frame = match code {
            Some(code) => ControlPayload::close(code, reason),
            None => ControlPayload::new(&[]),
        };
        self.phase = Phase::Closing { ours: Ours::Queued, failed: false };
        Ok(())
    }

    /// The peer broke the protocol; `framing_lost` when its bytes can no longer be split
    /// into frames. Returns whether this is the first failure: only that one is reported,
    /// and only its close code is sent.
    pub(crate) fn fail(&mut self, error: Error, framing_lost: bool) -> bool {
        let (ours, first) = match self.phase {
            Phase::Open => {
                let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
                self.frame = ControlPayload::close(code, error.reason().as_bytes());
                (Ours::Queued, true)
            }
            Phase::Closing { ours, failed } => (ours, !failed),
            Phase::PeerClosed { .. } | Phase::Broken { .. } => return false,
        };
        self.phase =
            if framing_lost { Phase::Broken { ours } } else { Phase::Closing { ours, failed: true } };
        first
    }

    /// The peer's close arrived, with `code` and `reason`: our reply echoes them if we
    /// have not started closing.
    pub(crate) fn peer_closed(&mut self, code: Option<CloseCode>, reason: &[u8]) {
        let (ours, failed) = match self.phase {
            Phase::Open => {
                self.frame = match code {
                    Some(code) => ControlPayload::close(code, reason),
                    // A codeless close is answered with a codeless close.
                    None => ControlPayload::new(&[]),
                };
                (Ours::Queued, false)
            }
            Phase::Closing { ours, failed } => (ours, failed),
            Phase::PeerClosed { .. } | Phase::Broken { .. } => return,
        };
        self.phase = Phase::PeerClosed { ours, failed };
    }

    /// Our queued close frame has been written.
    pub(crate) fn close_written(&mut self) {
        match &mut self.phase {
            Phase::Closing { ours, .. } | Phase::PeerClosed { ours, .. } | Phase::Broken { ours } => {
                *ours = Ours::Sent
            }
            Phase::Open => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_keeps_its_code() {
        let mut state = State::OPEN;
        assert!(state.fail(Error::InvalidUtf8, false));
        assert!(!state.fail(Error::UnmaskedFrame, false));
        assert!(!state.fail(Error::ReservedOpcode, true));
        assert_eq!(state.queued_close().map(|p| p[..2].to_vec()), Some(vec![0x03, 0xef]));
        assert!(state.failed() && !state.reading());
    }

    #[test]
    fn an_application_close_stands_against_a_later_failure() {
        let mut state = State::OPEN;
        state.close(Some(CloseCode::NORMAL), b"bye").unwrap();
        assert_eq!(state.close(None, b""), Err(Error::Closed));
        assert!(state.fail(Error::InvalidUtf8, false), "the first failure is still reported");
        assert_eq!(state.queued_close(), Some(&b"\x03\xe8bye"[..]));
        state.close_written();
        assert!(state.close_sent() && !state.is_closed());
        state.peer_closed(None, b"");
        assert!(state.is_closed() && state.close_received());
    }

    #[test]
    fn a_peer_close_is_answered_once() {
        let mut state = State::OPEN;
        state.peer_closed(Some(CloseCode(4000)), b"bye");
        assert!(!state.reading() && !state.sending());
        assert_eq!(state.queued_close(), Some(&b"\x0f\xa0bye"[..]));
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
