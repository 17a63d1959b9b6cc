//! The half of a session that sends.

use rand_core::RngCore;
use ws_proto::handshake::{Accept, Reject, Request};
use ws_proto::{CloseCode, Connection, DataKind, FrameInfo, Message};

use super::{handshake, Phase, Why};
use crate::event::Ready;

/// The half of a session that sends, handed out beside each event so that a data chunk
/// (borrowed from the receive buffer) can be answered while it is held. Frames are
/// encoded into the transmit buffer and leave on the next poll.
#[derive(Debug)]
pub struct Reply<'s, 'c, R> {
    conn: &'s mut Connection<R>,
    tx: &'s mut [u8],
    tx_end: &'s mut usize,
    phase: &'s mut Phase<'c>,
    ready: &'s mut Option<Ready>,
    /// Received bytes to skip before frames: the request head, once it is accepted.
    rx_skip: &'s mut usize,
    /// The request head, while a request awaits its answer.
    head: &'s [u8],
    /// The permessage-deflate a server accepts, if the session has an inflater.
    #[cfg(feature = "deflate")]
    deflate: Option<ws_proto::deflate::DeflateConfig>,
    /// The session's compressor, held while a message is sent compressed.
    #[cfg(feature = "compress")]
    compressing: Option<&'s mut dyn crate::deflate::CompressSlot>,
}

impl<'s, 'c, R: RngCore> Reply<'s, 'c, R> {
    #[allow(clippy::too_many_arguments)] // the session's fields, borrowed apart from `rx`
    pub(super) fn new(
        conn: &'s mut Connection<R>,
        tx: &'s mut [u8],
        tx_end: &'s mut usize,
        phase: &'s mut Phase<'c>,
        ready: &'s mut Option<Ready>,
        rx_skip: &'s mut usize,
        head: &'s [u8],
    ) -> Self {
        Self {
            conn,
            tx,
            tx_end,
            phase,
            ready,
            rx_skip,
            head,
            #[cfg(feature = "deflate")]
            deflate: None,
            #[cfg(feature = "compress")]
            compressing: None,
        }
    }

    /// The compressor [`send_chunk`](Self::send_chunk) may use.
    #[cfg(feature = "compress")]
    pub(super) fn compress_with(&mut self, compressing: &'s mut dyn crate::deflate::CompressSlot) {
        self.compressing = Some(compressing);
    }

    /// What permessage-deflate [`accept`](Self::accept) may agree to.
    #[cfg(feature = "deflate")]
    pub(super) fn offer(&mut self, deflate: Option<ws_proto::deflate::DeflateConfig>) {
        self.deflate = deflate;
    }

    /// For an [`Event::Data`](crate::Event::Data), the frame that carried its chunk and
    /// where in it the chunk sat (see [`Connection::last_frame`]).
    pub fn frame(&self) -> FrameInfo {
        self.conn.last_frame()
    }

    /// The free part of the transmit buffer.
    fn free(&mut self) -> &mut [u8] {
        self.tx.get_mut(*self.tx_end..).unwrap_or_default()
    }

    /// Queues a whole message as one frame.
    pub fn send(&mut self, message: Message<'_>) -> Result<(), ws_proto::Error> {
        self.check_open()?;
        let n = self.conn.send(message, self.tx.get_mut(*self.tx_end..).unwrap_or_default())?;
        *self.tx_end += n;
        Ok(())
    }

    /// Queues one fragment of a streamed message (see [`Connection::send_fragment`]).
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), ws_proto::Error> {
        self.check_open()?;
        let n = self.conn.send_fragment(
            kind,
            payload,
            fin,
            self.tx.get_mut(*self.tx_end..).unwrap_or_default(),
        )?;
        *self.tx_end += n;
        Ok(())
    }

    /// Queues a piece of a `kind` message, `fin` ending it: compressed when
    /// permessage-deflate is agreed and the session's compressor is free at the message's
    /// start, otherwise as a fragment. The piece must fit the transmit buffer's free space
    /// in one frame ([`ws_proto::Error::BufferTooSmall`] otherwise): an inflated chunk
    /// echoed as it arrives always does.
    pub fn send_chunk(&mut self, kind: DataKind, payload: &[u8], fin: bool) -> Result<(), ws_proto::Error> {
        #[cfg(feature = "compress")]
        if let Some(done) = self.send_compressed(kind, payload, fin) {
            return done;
        }
        self.send_fragment(kind, payload, fin)
    }

    /// A piece through the compressor held for the message (taken at its start if free,
    /// given back at its end); `None` when there is none to use.
    #[cfg(feature = "compress")]
    fn send_compressed(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
    ) -> Option<Result<(), ws_proto::Error>> {
        let agreed = self.conn.deflate().copied()?;
        if let Err(e) = self.check_open() {
            return Some(Err(e));
        }
        let slot = self.compressing.as_deref_mut()?;
        // A compressed message starts only between messages.
        let starting = !self.conn.is_sending();
        let compressor = match slot.hold(agreed.send_window_bits()) {
            Some(compressor) => compressor,
            None if starting => return None,
            None => return Some(Err(ws_proto::Error::InvalidSend)),
        };
        let free = self.tx.get_mut(*self.tx_end..).unwrap_or_default();
        let done = self.conn.send_compressed(compressor, kind, payload, fin, free);
        if done.as_ref().map_or(true, |d| d.finished) {
            slot.release();
        }
        Some(done.and_then(|done| {
            *self.tx_end += done.written;
            if done.taken < payload.len() {
                return Err(ws_proto::Error::BufferTooSmall);
            }
            Ok(())
        }))
    }

    /// Queues the header of a frame of `len` payload bytes, which follow through
    /// [`write_payload`](Self::write_payload) (see [`Connection::start_frame`]): a frame of
    /// any size, such as one being echoed chunk by chunk, leaves as one frame.
    pub fn start_frame(&mut self, kind: DataKind, len: u64, fin: bool) -> Result<(), ws_proto::Error> {
        self.check_open()?;
        let n = self.conn.start_frame(kind, len, fin, self.tx.get_mut(*self.tx_end..).unwrap_or_default())?;
        *self.tx_end += n;
        Ok(())
    }

    /// Queues payload bytes of the frame begun with [`start_frame`](Self::start_frame);
    /// all of them must fit in the transmit buffer ([`ws_proto::Error::BufferTooSmall`]).
    pub fn write_payload(&mut self, payload: &[u8]) -> Result<(), ws_proto::Error> {
        let n = self.conn.write_payload(payload, self.tx.get_mut(*self.tx_end..).unwrap_or_default())?;
        *self.tx_end += n;
        if n < payload.len() {
            return Err(ws_proto::Error::BufferTooSmall);
        }
        Ok(())
    }

    /// Starts the closing handshake.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), ws_proto::Error> {
        self.check_open()?;
        self.conn.close(code, reason)
    }

    /// Largest payload one frame can carry with the transmit buffer's free space.
    pub fn max_payload(&self) -> usize {
        self.conn.max_payload_for(self.tx.len().saturating_sub(*self.tx_end))
    }

    /// Accepts the request just reported ([`Event::Request`](crate::Event::Request)):
    /// queues the 101, and the session opens.
    pub fn accept(&mut self, request: &Request<'_>, accept: &Accept<'_>) -> Result<(), ws_proto::Error> {
        if !matches!(self.phase, Phase::Requested { .. }) {
            return Err(ws_proto::Error::InvalidSend);
        }
        // permessage-deflate as the session can afford it, unless the application chose.
        #[cfg(feature = "deflate")]
        let accept = &match (accept.selected_deflate(), self.deflate) {
            (None, Some(config)) => accept.deflate(request.deflate(&config)),
            _ => *accept,
        };
        let n = request.accept(accept, self.free())?;
        #[cfg(feature = "deflate")]
        self.conn.set_deflate(accept.selected_deflate());
        *self.tx_end += n;
        *self.phase = Phase::Open;
        *self.rx_skip = self.head.len();
        let protocol = accept.selected_protocol().and_then(|p| handshake::find(self.head, p));
        *self.ready = Some(Ready::Open(protocol));
        Ok(())
    }

    /// Turns the request just reported down with an HTTP error response: the session
    /// ends once it is sent, with [`Error::Rejected`](crate::Error::Rejected).
    pub fn reject(&mut self, reject: &Reject<'_>) -> Result<(), ws_proto::Error> {
        if !matches!(self.phase, Phase::Requested { .. }) {
            return Err(ws_proto::Error::InvalidSend);
        }
        let n = reject.write(self.free())?;
        *self.tx_end += n;
        *self.phase = Phase::Ending(Why::Rejected(reject.status()));
        Ok(())
    }

    /// Frames may be sent: the session is open (or closing, which the connection refuses
    /// itself with [`ws_proto::Error::Closed`]).
    fn check_open(&self) -> Result<(), ws_proto::Error> {
        match self.phase {
            Phase::Open | Phase::Closing { .. } => Ok(()),
            Phase::Done | Phase::Ending(_) => Err(ws_proto::Error::Closed),
            _ => Err(ws_proto::Error::InvalidSend),
        }
    }
}
