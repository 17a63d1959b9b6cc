//! The send side: frames encoded into the caller's buffer (masked for clients), the
//! fragmentation rules, frames streamed out in pieces, and the pongs and close frames the
//! connection queues itself.

use rand_core::RngCore;

use super::state::ControlPayload;
use super::Connection;
use crate::frame::{FrameHeader, Opcode, MAX_CONTROL_PAYLOAD};
use crate::{mask, CloseCode, CloseFrame, DataKind, Error, Message, Role};

/// The RSV1 bit, as `FrameHeader::rsv` holds it: a compressed message's first frame.
#[cfg(feature = "deflate")]
const RSV1: u8 = 0x40;

/// A frame begun with [`Connection::start_frame`] whose payload is still owed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing {
    mask: Option<[u8; 4]>,
    /// Payload bytes written so far (also the masking position).
    offset: u64,
    len: u64,
}

impl<R: RngCore> Connection<R> {
    /// Encodes a whole message as one frame into `tx`; returns the frame's length.
    ///
    /// A [`Message::Close`] starts the closing handshake as [`close`](Self::close) does and
    /// writes what [`poll_transmit`](Self::poll_transmit) owes: the close frame, after a
    /// pong still owed.
    pub fn send(&mut self, message: Message<'_>, tx: &mut [u8]) -> Result<usize, Error> {
        let Some((opcode, payload)) = message.parts() else {
            if let Message::Close(frame) = message {
                self.queue_close(frame)?;
            }
            return self.flush_control(tx);
        };
        self.check_send()?;
        if opcode.is_control() {
            if payload.len() > MAX_CONTROL_PAYLOAD {
                return Err(Error::InvalidSend);
            }
        } else if self.sending.is_some() {
            return Err(Error::InvalidSend);
        }
        self.write_frame(opcode, true, payload, tx)
    }

    /// Encodes one fragment of a message that is streamed out in pieces; `fin` ends it.
    ///
    /// The first fragment carries `kind`, the rest go out as continuations (their `kind`
    /// must match). Control frames may be sent between fragments. Text fragments may split
    /// code points; the message as a whole must be UTF-8.
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
        tx: &mut [u8],
    ) -> Result<usize, Error> {
        let opcode = self.fragment_opcode(kind)?;
        let n = self.write_frame(opcode, fin, payload, tx)?;
        self.sending = (!fin).then_some(kind);
        Ok(n)
    }

    /// Writes the header of a data frame of `len` payload bytes, to be followed by exactly
    /// that many bytes through [`write_payload`](Self::write_payload): a frame of any size
    /// leaves through a small buffer, e.g. to forward or echo a frame as one frame.
    ///
    /// Sequencing is as for [`send_fragment`](Self::send_fragment): the frame starts a
    /// `kind` message, or continues the open one; `fin` ends the message. Until the payload
    /// is complete nothing else can be sent, and [`poll_transmit`](Self::poll_transmit)
    /// writes nothing (a frame cannot be interrupted).
    pub fn start_frame(
        &mut self,
        kind: DataKind,
        len: u64,
        fin: bool,
        tx: &mut [u8],
    ) -> Result<usize, Error> {
        let opcode = self.fragment_opcode(kind)?;
        let n = self.begin_frame(opcode, fin, len, tx)?;
        self.sending = (!fin).then_some(kind);
        Ok(n)
    }

    /// Writes the next payload bytes of the frame begun with
    /// [`start_frame`](Self::start_frame), as many as fit in `tx`; returns how many (the
    /// bytes of `payload` taken and of `tx` written are the same number).
    ///
    /// More than the frame has left is [`Error::InvalidSend`] (nothing is never more: an
    /// empty `payload` is always fine).
    pub fn write_payload(&mut self, payload: &[u8], tx: &mut [u8]) -> Result<usize, Error> {
        if payload.is_empty() {
            return Ok(0);
        }
        let frame = self.outgoing.as_mut().ok_or(Error::InvalidSend)?;
        if payload.len() as u64 > frame.len - frame.offset {
            return Err(Error::InvalidSend);
        }
        let n = payload.len().min(tx.len());
        let (Some(dst), Some(src)) = (tx.get_mut(..n), payload.get(..n)) else { return Ok(0) };
        #[cfg(target_pointer_width = "64")]
        match frame.mask {
            // Copy and mask in one pass.
            Some(key) => mask::copy_masked(dst, src, key, frame.offset),
            None => dst.copy_from_slice(src),
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            dst.copy_from_slice(src);
            if let Some(key) = frame.mask {
                mask::apply(dst, key, frame.offset);
            }
        }
        frame.offset += n as u64;
        if frame.offset == frame.len {
            self.outgoing = None;
        }
        Ok(n)
    }

    /// Compresses a `kind` message through `compressor` into frames in `tx`, at most one
    /// frame per call (RSV1 on the first, FIN on the last); returns the bytes of `payload`
    /// taken, of `tx` written, and whether the message is complete.
    ///
    /// Call again with the rest of `payload` (and empty once it is all taken) until the
    /// message is complete; `fin` false leaves it open for more payload in later calls.
    /// Control frames may be sent between calls; nothing else may until the message is
    /// complete. `tx` needs room for a frame header (14 bytes) and some compressed bytes:
    /// 64 bytes or more. The compressor's window must be within the agreed one
    /// ([`Error::InvalidSend`] otherwise, as without permessage-deflate).
    #[cfg(feature = "deflate")]
    pub fn send_compressed<C: crate::deflate::Compress + ?Sized>(
        &mut self,
        compressor: &mut C,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
        tx: &mut [u8],
    ) -> Result<crate::deflate::Compressed, Error> {
        let allowed = self.deflate.map_or(0, |d| d.send_window_bits());
        if compressor.window_bits() > allowed {
            return Err(Error::InvalidSend);
        }
        // `sending_compressed`: the message is open (input given); `sending`: a frame of
        // it went out, so the next is a continuation.
        let opcode = match (self.sending_compressed, self.sending) {
            (None, None) => kind.opcode(),
            (Some(open), None) if open == kind => kind.opcode(),
            (Some(open), Some(_)) if open == kind => Opcode::Continuation,
            _ => return Err(Error::InvalidSend),
        };
        self.check_send()?;
        // The frame's payload goes after room for the longest header it could need.
        let mask = if self.role == Role::Client { 4 } else { 0 };
        let room = tx.len().saturating_sub(2 + mask);
        let reserve = 2
            + mask
            + if room > usize::from(u16::MAX) + 8 {
                8
            } else if room > 127 {
                2
            } else {
                0
            };
        let Some(body) = tx.get_mut(reserve..).filter(|b| b.len() >= 8) else {
            return Err(Error::BufferTooSmall);
        };
        let done = compressor.compress(payload, body, fin)?;
        let n = done.written;
        if n == 0 && !done.finished {
            // Nothing to send yet: the compressor took input and keeps it.
            self.sending_compressed = Some(kind);
            return Ok(crate::deflate::Compressed { written: 0, ..done });
        }
        let rsv = if opcode == Opcode::Continuation { 0 } else { RSV1 };
        let key = match (self.role, self.rng.as_mut()) {
            (Role::Client, Some(rng)) => {
                let mut key = [0u8; 4];
                rng.fill_bytes(&mut key);
                Some(key)
            }
            _ => None,
        };
        let header = FrameHeader { fin: done.finished, rsv, opcode, mask: key, len: n as u64 };
        let h = header.encoded_len();
        // The header is no longer than reserved: close the gap, then write it.
        if h < reserve {
            // Forward, byte by byte (the header is shorter than reserved, so this moves
            // left): `copy_within` keeps a panic path the optimizer cannot drop.
            for i in 0..n {
                if let Some(&b) = tx.get(reserve + i) {
                    if let Some(slot) = tx.get_mut(h + i) {
                        *slot = b;
                    }
                }
            }
        }
        header.encode(tx)?;
        if let (Some(key), Some(body)) = (key, tx.get_mut(h..h + n)) {
            mask::apply(body, key, 0);
        }
        self.sending = (!done.finished).then_some(kind);
        self.sending_compressed = (!done.finished).then_some(kind);
        Ok(crate::deflate::Compressed { written: h + n, ..done })
    }

    /// Whether a message is being sent: a fragmented one is open, or a compressed one has
    /// started (nothing but its continuation and control frames may go out).
    pub fn is_sending(&self) -> bool {
        #[cfg(feature = "deflate")]
        if self.sending_compressed.is_some() {
            return true;
        }
        self.sending.is_some() || self.outgoing.is_some()
    }

    /// Payload bytes still owed to the frame begun with [`start_frame`](Self::start_frame).
    pub fn payload_remaining(&self) -> u64 {
        self.outgoing.map_or(0, |f| f.len - f.offset)
    }

    /// Starts the closing handshake: queues a close frame for
    /// [`poll_transmit`](Self::poll_transmit). The reason is at most 123 bytes.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.queue_close(Some(CloseFrame { code, reason }))
    }

    /// Fails the connection because the peer broke the rule `error` names, as `receive`
    /// does when it finds the break itself (a message too large for the application's
    /// buffer, say): a close frame with the error's close code is queued, and no more
    /// data is delivered. Returns false if the connection had already failed or closed.
    pub fn fail(&mut self, error: Error) -> bool {
        let first = self.state.fail(error, false);
        self.after_failure();
        first
    }

    /// Queues our close frame: with a code and reason, or empty.
    fn queue_close(&mut self, frame: Option<CloseFrame<'_>>) -> Result<(), Error> {
        if !self.state.sending() {
            return Err(Error::Closed);
        }
        match frame {
            Some(CloseFrame { code, reason }) => {
                if !code.is_valid_on_wire() || reason.len() > CloseCode::MAX_REASON_LEN {
                    return Err(Error::InvalidSend);
                }
                self.state.close(Some(code), reason.as_bytes())
            }
            None => self.state.close(None, &[]),
        }
    }

    /// Writes every control frame owed (a pong, our close) into `tx`; returns their length.
    fn flush_control(&mut self, tx: &mut [u8]) -> Result<usize, Error> {
        let mut n = 0;
        loop {
            let k = self.poll_transmit(tx.get_mut(n..).unwrap_or_default())?;
            if k == 0 {
                return Ok(n);
            }
            n += k;
        }
    }

    /// Writes the next frame the connection queued itself (the pong for the latest ping,
    /// then our close frame) into `tx`; returns its length, 0 when nothing is queued or a
    /// frame begun with [`start_frame`](Self::start_frame) is unfinished.
    ///
    /// `tx` must hold 131 bytes for any control frame. A pong that does not fit is dropped
    /// when a close frame is queued behind it; otherwise a frame that does not fit is
    /// [`Error::BufferTooSmall`] and stays queued.
    pub fn poll_transmit(&mut self, tx: &mut [u8]) -> Result<usize, Error> {
        if self.outgoing.is_some() {
            return Ok(0);
        }
        // A copy, so the frame can be written while the state changes.
        let close = self.state.queued_close().map(ControlPayload::new);
        if let Some(pong) = self.pong {
            match self.write_frame(Opcode::Pong, true, pong.as_slice(), tx) {
                Ok(n) => {
                    self.pong = None;
                    return Ok(n);
                }
                Err(e) if close.is_none() => return Err(e),
                Err(_) => self.pong = None,
            }
        }
        let Some(close) = close else { return Ok(0) };
        let n = self.write_frame(Opcode::Close, true, close.as_slice(), tx)?;
        self.state.close_written();
        Ok(n)
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) has a frame to write.
    pub fn wants_transmit(&self) -> bool {
        self.outgoing.is_none() && (self.pong.is_some() || self.state.queued_close().is_some())
    }

    /// Largest payload a frame written into a `tx_len`-byte buffer can carry.
    pub fn max_payload_for(&self, tx_len: usize) -> usize {
        let mask = if self.role == Role::Client { 4 } else { 0 };
        let header = |ext: usize| 2 + ext + mask;
        [(header(0), 125), (header(2), usize::from(u16::MAX)), (header(8), usize::MAX)]
            .iter()
            .filter_map(|&(h, max)| tx_len.checked_sub(h).map(|room| room.min(max)))
            .max()
            .unwrap_or(0)
    }

    /// New messages may be sent: the closing handshake has not started, and no frame
    /// begun with `start_frame` is unfinished.
    fn check_send(&self) -> Result<(), Error> {
        if !self.state.sending() {
            return Err(Error::Closed);
        }
        if self.outgoing.is_some() {
            return Err(Error::InvalidSend);
        }
        Ok(())
    }

    /// The opcode of the next frame of a `kind` message, checking the sequence.
    fn fragment_opcode(&self, kind: DataKind) -> Result<Opcode, Error> {
        self.check_send()?;
        #[cfg(feature = "deflate")]
        if self.sending_compressed.is_some() {
            return Err(Error::InvalidSend);
        }
        match self.sending {
            None => Ok(kind.opcode()),
            Some(open) if open == kind => Ok(Opcode::Continuation),
            Some(_) => Err(Error::InvalidSend),
        }
    }

    /// Writes a frame header (with a fresh masking key for a client) and owes its payload.
    /// Every frame goes out through this and [`write_payload`](Self::write_payload).
    fn begin_frame(&mut self, opcode: Opcode, fin: bool, len: u64, tx: &mut [u8]) -> Result<usize, Error> {
        let mask = match (self.role, self.rng.as_mut()) {
            (Role::Client, Some(rng)) => {
                let mut key = [0u8; 4];
                rng.fill_bytes(&mut key);
                Some(key)
            }
            _ => None,
        };
        let n = FrameHeader { fin, rsv: 0, opcode, mask, len }.encode(tx)?;
        self.outgoing = (len > 0).then_some(Outgoing { mask, offset: 0, len });
        Ok(n)
    }

    /// A whole frame: its header, then its payload.
    fn write_frame(
        &mut self,
        opcode: Opcode,
        fin: bool,
        payload: &[u8],
        tx: &mut [u8],
    ) -> Result<usize, Error> {
        let masked = self.role == Role::Client;
        let mask = masked.then_some([0; 4]);
        let header = FrameHeader { fin, rsv: 0, opcode, mask, len: payload.len() as u64 };
        if tx.len() < header.encoded_len() + payload.len() {
            return Err(Error::BufferTooSmall);
        }
        let n = self.begin_frame(opcode, fin, payload.len() as u64, tx)?;
        let m = self.write_payload(payload, tx.get_mut(n..).unwrap_or_default())?;
        Ok(n + m)
    }
}
