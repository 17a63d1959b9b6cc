//! The receive side: frame headers and control frames are taken whole from the caller's
//! buffer (what is short of one is left there for the next call), data payloads stream
//! out as chunks unmasked in place, and message sequencing, limits and UTF-8 are checked
//! as bytes arrive.

use rand_core::RngCore;

use super::state::ControlPayload;
use super::Connection;
use crate::close::{self, CloseCode};
use crate::frame::{FrameHeader, Opcode, MAX_CONTROL_PAYLOAD};
use crate::utf8::Utf8Validator;
use crate::{mask, DataKind, Error, Event, FrameInfo, Role};

/// The frame whose payload is arriving.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming {
    fin: bool,
    mask: Option<[u8; 4]>,
    len: u64,
    /// Payload bytes received so far (also the masking position).
    offset: u64,
    /// Drop the payload: the frame was rejected, or data is no longer delivered.
    skip: bool,
}

/// What one call produced, as positions in the caller's buffer rather than borrows.
enum Output {
    Data { kind: DataKind, start: usize, fin: bool },
    Ping(usize),
    Pong(usize),
    Close { code: Option<CloseCode>, start: usize },
}

/// The outcome of one [`Connection::receive`] call.
pub type Received<'a> = (usize, Result<Option<Event<'a>>, Error>);

impl<R: RngCore> Connection<R> {
    /// Feeds received bytes: returns how many were consumed, and the next event or error.
    ///
    /// Always advance past the consumed bytes, on errors too, and call again with the
    /// rest until it gives `Ok(None)`: then every usable byte is consumed, and what is
    /// left (a partial frame header, or a control frame not yet whole: at most 138 bytes)
    /// must be offered again with the bytes that follow it. So the receive buffer must
    /// hold at least 139 bytes.
    ///
    /// Payloads are unmasked in place and borrowed by the event; they are always the last
    /// bytes consumed, `buf[consumed - payload.len()..consumed]`.
    ///
    /// An error fails the connection: it is reported once, a close frame with its close
    /// code is queued for [`poll_transmit`](Self::poll_transmit), and later input is still
    /// read to find the peer's close (reported as [`Event::Close`]), but no more data,
    /// pings or errors are.
    #[must_use = "the consumed count must be used to advance, on errors too"]
    pub fn receive<'a>(&mut self, buf: &'a mut [u8]) -> Received<'a> {
        let (consumed, output) = self.step(buf);
        let event = output.map(|output| {
            output.map(|output| {
                let tail = |start: usize| buf.get(start..consumed).unwrap_or_default();
                match output {
                    Output::Data { kind, start, fin } => Event::Data { kind, payload: tail(start), fin },
                    Output::Ping(start) => Event::Ping(tail(start)),
                    Output::Pong(start) => Event::Pong(tail(start)),
                    Output::Close { code, start } => {
                        // Validated by `close::parse_payload`.
                        let reason = core::str::from_utf8(tail(start)).unwrap_or_default();
                        Event::Close { code, reason }
                    }
                }
            })
        });
        (consumed, event)
    }

    /// Consumes frames until one gives an event or an error, or the input runs out.
    fn step(&mut self, buf: &mut [u8]) -> (usize, Result<Option<Output>, Error>) {
        let mut pos = 0;
        // Every pass consumes at least one byte or returns.
        loop {
            if !self.state.reading() {
                return (buf.len(), Ok(None));
            }
            let rest = buf.get_mut(pos..).unwrap_or_default();
            if let Some(frame) = self.incoming {
                let (n, output) = self.payload(frame, rest, pos);
                pos += n;
                match output {
                    // A skipped frame, or the end of one: look for the next frame.
                    Ok(None) if n > 0 || self.incoming.is_none() => continue,
                    output => return (pos, output),
                }
            }
            let (header, header_len) = match FrameHeader::decode(rest) {
                Ok(Some(found)) => found,
                Ok(None) => return (pos, Ok(None)),
                Err(e) => {
                    let first = self.state.fail(e, true);
                    self.after_failure();
                    return (buf.len(), if first { Err(e) } else { Ok(None) });
                }
            };
            if let Err(e) = self.check(&header) {
                pos += header_len;
                self.incoming = Some(Incoming::skipped(&header));
                if self.fail(e) {
                    return (pos, Err(e));
                }
                continue;
            }
            if header.opcode.is_control() {
                // Control frames are short: take them whole, so the event can borrow them.
                let end = header_len + header.len as usize;
                let Some(frame) = rest.get_mut(..end) else { return (pos, Ok(None)) };
                let payload = frame.get_mut(header_len..).unwrap_or_default();
                if let Some(key) = header.mask {
                    mask::apply(payload, key, 0);
                }
                let output = self.control(header.opcode, payload, pos + header_len);
                pos += end;
                match output {
                    Ok(None) => continue,
                    output => return (pos, output),
                }
            }
            pos += header_len;
            self.start_data_frame(&header);
        }
    }

    /// Checks a header against the role, the negotiated extensions (none), the
    /// fragmentation rules and the limits.
    fn check(&self, h: &FrameHeader) -> Result<(), Error> {
        if h.rsv != 0 {
            return Err(Error::ReservedBits);
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(Error::UnmaskedFrame),
            (Role::Client, true) => return Err(Error::MaskedFrame),
            _ => {}
        }
        if h.opcode.is_control() {
            if !h.fin {
                return Err(Error::FragmentedControlFrame);
            }
            if h.len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(Error::ControlFrameTooLong);
            }
            return Ok(());
        }
        if !self.state.delivering() {
            // Data is being skipped: only its framing matters any more.
            return Ok(());
        }
        match (h.opcode, self.message) {
            (Opcode::Continuation, None) => return Err(Error::UnexpectedContinuation),
            (Opcode::Text | Opcode::Binary, Some(_)) => return Err(Error::ExpectedContinuation),
            _ => {}
        }
        if h.len > self.config.max_frame_size {
            return Err(Error::FrameTooLarge);
        }
        let so_far = if h.opcode == Opcode::Continuation { self.message_len } else { 0 };
        if so_far.saturating_add(h.len) > self.config.max_message_size {
            return Err(Error::MessageTooLarge);
        }
        Ok(())
    }

    /// Bookkeeping for an accepted data frame header.
    fn start_data_frame(&mut self, h: &FrameHeader) {
        let skip = !self.state.delivering();
        if !skip {
            let kind = match h.opcode {
                Opcode::Text => Some(DataKind::Text),
                Opcode::Binary => Some(DataKind::Binary),
                _ => None,
            };
            if let Some(kind) = kind {
                self.message = Some(kind);
                self.message_len = 0;
                self.utf8 = Utf8Validator::new();
            }
            self.message_len = self.message_len.saturating_add(h.len);
        }
        self.incoming = Some(Incoming { fin: h.fin, mask: h.mask, len: h.len, offset: 0, skip });
    }

    /// Takes the payload bytes of `frame` at the start of `buf` (which sits at `base` in
    /// the caller's buffer); returns how many it took.
    fn payload(
        &mut self,
        mut frame: Incoming,
        buf: &mut [u8],
        base: usize,
    ) -> (usize, Result<Option<Output>, Error>) {
        let remaining = frame.len - frame.offset;
        let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let chunk = buf.get_mut(..n).unwrap_or_default();
        let offset = frame.offset;
        frame.offset += n as u64;
        let done = frame.offset == frame.len;
        self.incoming = (!done).then_some(frame);
        if frame.skip {
            return (n, Ok(None));
        }
        if n == 0 && !done {
            return (0, Ok(None));
        }
        if let Some(key) = frame.mask {
            mask::apply(chunk, key, offset);
        }
        let kind = self.message.unwrap_or(DataKind::Binary);
        let fin = done && frame.fin;
        if kind == DataKind::Text {
            let valid = self.utf8.feed(chunk).and_then(|()| if fin { self.utf8.finish() } else { Ok(()) });
            if let Err(e) = valid {
                self.fail(e);
                return (n, Err(e));
            }
        }
        if fin {
            self.message = None;
        }
        self.last_frame = FrameInfo { len: frame.len, offset, fin: frame.fin };
        (n, Ok(Some(Output::Data { kind, start: base, fin })))
    }

    /// Acts on a whole control frame whose (unmasked) payload sits at `start`.
    fn control(&mut self, opcode: Opcode, payload: &[u8], start: usize) -> Result<Option<Output>, Error> {
        match opcode {
            // After a failure only the peer's close matters.
            Opcode::Ping | Opcode::Pong if !self.state.delivering() => Ok(None),
            Opcode::Ping => {
                if self.state.sending() {
                    self.pong = Some(ControlPayload::new(payload));
                }
                Ok(Some(Output::Ping(start)))
            }
            Opcode::Pong => Ok(Some(Output::Pong(start))),
            _ => match close::parse_payload(payload) {
                Ok((code, reason)) => {
                    self.state.peer_closed(code, reason.as_bytes());
                    Ok(Some(Output::Close { code, start: start + payload.len() - reason.len() }))
                }
                Err(e) => {
                    let first = self.fail(e);
                    // A malformed close still ends the peer's side.
                    self.state.peer_closed(None, &[]);
                    if first {
                        Err(e)
                    } else {
                        Ok(None)
                    }
                }
            },
        }
    }

    pub(super) fn after_failure(&mut self) {
        self.message = None;
        self.pong = None;
        if let Some(frame) = self.incoming.as_mut() {
            frame.skip = true;
        }
    }
}

impl Incoming {
    /// A rejected frame, whose payload is stepped over.
    fn skipped(h: &FrameHeader) -> Self {
        Self { fin: h.fin, mask: None, len: h.len, offset: 0, skip: true }
    }
}
