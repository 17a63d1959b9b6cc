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

/// The RSV1 bit of a frame header's first byte, as `FrameHeader::rsv` holds it.
const RSV1: u8 = 0x40;

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
    /// The payload goes out as it is, unmasked: a delivered, uncompressed binary message
    /// (see [`Connection::receive`]'s fast path).
    plain: bool,
}

/// What one call produced, as positions in the caller's buffer rather than borrows.
enum Output {
    Data {
        kind: DataKind,
        start: usize,
        fin: bool,
    },
    /// Inflated bytes, at `start..start + len` of the inflater's window.
    #[cfg(feature = "deflate")]
    Inflated {
        kind: DataKind,
        start: usize,
        len: usize,
        fin: bool,
    },
    Ping(usize),
    Pong(usize),
    Close {
        code: Option<CloseCode>,
        start: usize,
    },
}

/// A whole short data frame for [`Connection::receive`]'s fast path.
#[cfg(not(target_os = "none"))]
struct ShortFrame {
    kind: DataKind,
    mask: Option<[u8; 4]>,
    header_len: usize,
    len: usize,
}

/// The outcome of one [`Connection::receive`] call.
pub type Received<'a> = (usize, Result<Option<Event<'a>>, Error>);

/// Where compressed messages are inflated: nowhere without permessage-deflate (`()`),
/// or an [`Inflater`](crate::deflate::Inflater).
pub(crate) trait Inflate {
    /// See `Inflater::inflate`.
    #[cfg(feature = "deflate")]
    fn inflate(&mut self, _input: &[u8], _last: bool, _fresh: bool) -> Result<crate::deflate::Step, Error> {
        // A compressed message on a connection received without an inflater.
        Err(Error::ReservedBits)
    }
    /// Output is waiting for the next call.
    #[cfg(feature = "deflate")]
    fn pending(&self) -> bool {
        false
    }
    /// Inflated bytes in the window.
    #[cfg(feature = "deflate")]
    fn output(&self, _start: usize, _len: usize) -> &[u8] {
        &[]
    }
    /// The inflater is elsewhere for now: a compressed payload waits.
    #[cfg(feature = "deflate")]
    fn waiting(&self) -> bool {
        false
    }
}

impl Inflate for () {}

/// An inflater shared with other connections and in use by one of them.
#[cfg(feature = "deflate")]
struct Busy;

#[cfg(feature = "deflate")]
impl Inflate for Busy {
    fn waiting(&self) -> bool {
        true
    }
}

/// The compressed message being received.
#[cfg(feature = "deflate")]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Compression {
    /// The message in progress is compressed.
    active: bool,
    /// Its last compressed byte has been taken: only the inflater's flush is left.
    input_done: bool,
    /// Bytes at the start of the next payload that were unmasked but not yet inflated.
    unmasked_ahead: usize,
    /// Inflated bytes so far, counted against `max_message_size`.
    inflated: u64,
    /// A compressed payload is waiting for an inflater.
    waiting: bool,
}

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
    #[inline(always)]
    pub fn receive<'a>(&mut self, buf: &'a mut [u8]) -> Received<'a> {
        // The fast path, for the common call at small reads: more of a binary payload. It
        // is a few instructions, so it is inlined into the caller's loop; everything else
        // takes the general path. Not on bare-metal targets, where its 150 bytes of flash
        // count more than the time it saves (there the bus that brings the bytes costs
        // far more than this call).
        #[cfg(not(target_os = "none"))]
        if let Some(frame) = self.incoming.as_mut().filter(|frame| frame.plain) {
            if buf.is_empty() {
                return (0, Ok(None));
            }
            // More than zero bytes remain: an unfinished frame.
            let remaining = frame.len - frame.offset;
            let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
            let chunk = buf.get_mut(..n).unwrap_or_default();
            if let Some(key) = frame.mask {
                mask::apply(chunk, key, frame.offset);
            }
            self.last_frame =
                FrameInfo { len: frame.len, offset: frame.offset, fin: frame.fin, ..FrameInfo::default() };
            frame.offset += n as u64;
            let fin = frame.offset == frame.len && frame.fin;
            if frame.offset == frame.len {
                self.incoming = None;
                if fin {
                    self.message = None;
                }
            }
            return (n, Ok(Some(Event::Data { kind: DataKind::Binary, payload: chunk, fin })));
        }
        // And whole short data frames, the common case of small messages.
        #[cfg(not(target_os = "none"))]
        if let Some(frame) = self.short_frame(buf) {
            let end = frame.header_len + frame.len;
            let payload = buf.get_mut(frame.header_len..end).unwrap_or_default();
            if let Some(key) = frame.mask {
                mask::apply(payload, key, 0);
            }
            if frame.kind == DataKind::Text {
                if let Err(e) = crate::utf8::validate_complete(payload) {
                    self.fail(e);
                    return (end, Err(e));
                }
            }
            self.last_frame = FrameInfo { len: frame.len as u64, fin: true, ..FrameInfo::default() };
            return (end, Ok(Some(Event::Data { kind: frame.kind, payload, fin: true })));
        }
        self.receive_general(buf)
    }

    /// The fast path's test for a whole short data frame at the start of `buf`: one the
    /// general path would take as it is, a message of one frame (FIN, no RSV bits) of at
    /// most 125 bytes, masked as the role requires, within the limits, arriving between
    /// messages while data is delivered.
    #[cfg(not(target_os = "none"))]
    #[inline]
    fn short_frame(&self, buf: &[u8]) -> Option<ShortFrame> {
        let [first, second, ..] = *buf else { return None };
        let kind = match first {
            0x81 => DataKind::Text,
            0x82 => DataKind::Binary,
            _ => return None,
        };
        let masked = second & 0x80 != 0;
        let len = usize::from(second & 0x7F);
        let idle = self.incoming.is_none() && self.message.is_none() && self.state.delivering();
        if !idle
            || masked != (self.role == Role::Server)
            || len > 125
            || len as u64 > self.config.max_frame_size.min(self.config.max_message_size)
        {
            return None;
        }
        let (mask, header_len) = match buf.get(2..6) {
            Some(&[a, b, c, d]) if masked => (Some([a, b, c, d]), 6),
            _ if masked => return None,
            _ => (None, 2),
        };
        (buf.len() >= header_len + len).then_some(ShortFrame { kind, mask, header_len, len })
    }

    /// How many bytes, `pending` among them, a receive buffer may gather before it hands
    /// them over, if at most `most`: the rest of a delivered payload; between frames, a
    /// whole frame this connection would accept, or the rest of a header. 0: hand them
    /// over now (a whole frame, a refused header, a skipped payload).
    pub(crate) fn worth_waiting_for(&self, pending: &[u8], most: usize) -> usize {
        if let Some(frame) = self.incoming {
            let ahead = if frame.skip { 0 } else { frame.len - frame.offset };
            return usize::try_from(ahead).unwrap_or(usize::MAX).min(most);
        }
        // The length bytes tell the header's size, and the frame's: frames that are there
        // whole, the usual case, go at once; a header cut short waits for its rest (the
        // connection would take nothing of it either). Only a short frame that is not
        // there whole has its header read and checked; a longer one goes as it comes.
        let Some((header_len, total)) = FrameHeader::sizes(pending) else { return 0 };
        if total <= pending.len() || !self.state.reading() {
            return 0;
        }
        if pending.len() < header_len {
            return header_len;
        }
        if total > most {
            return 0;
        }
        match FrameHeader::decode(pending) {
            Ok(Some((header, _))) if self.check(&header).is_ok() => total,
            _ => 0,
        }
    }

    /// [`receive`](Self::receive) but for its fast path.
    #[inline(never)]
    fn receive_general<'a>(&mut self, buf: &'a mut [u8]) -> Received<'a> {
        let (consumed, output) = self.step(buf, &mut ());
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
                    // Only `receive_with` inflates.
                    #[cfg(feature = "deflate")]
                    Output::Inflated { kind, fin, .. } => Event::Data { kind, payload: &[], fin },
                }
            })
        });
        (consumed, event)
    }

    /// [`receive`](Self::receive) on a connection that negotiated permessage-deflate:
    /// compressed messages are inflated through `inflater`, and their chunks borrow its
    /// window rather than `buf` (so the rule that a payload is the last bytes consumed
    /// holds for uncompressed data only; [`last_frame`](Self::last_frame) tells which).
    /// Everything else is as for `receive`.
    ///
    /// `None`: the inflater is shared and another connection is inflating a message with
    /// it (see [`Inflater::is_idle`](crate::deflate::Inflater::is_idle)). A compressed
    /// payload is then left unconsumed, more than the usual 138 bytes, and
    /// [`needs_inflater`](Self::needs_inflater) tells so; offer it again with the
    /// inflater.
    ///
    /// An inflater whose window is smaller than the peer's, or not a power of two, is
    /// [`Error::BufferTooSmall`] before anything is read.
    #[cfg(feature = "deflate")]
    #[must_use = "the consumed count must be used to advance, on errors too"]
    pub fn receive_with<'a, W: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        buf: &'a mut [u8],
        inflater: Option<&'a mut crate::deflate::Inflater<W>>,
    ) -> Received<'a> {
        let Some(inflater) = inflater else {
            let (consumed, output) = self.step(buf, &mut Busy);
            let buf: &'a [u8] = buf;
            return (
                consumed,
                output.map(|output| output.map(|output| to_event(output, buf, consumed, &()))),
            );
        };
        let bits = inflater.window_bits();
        if bits == 0 || self.deflate.is_some_and(|d| d.receive_window_bits() > bits) {
            return (0, Err(Error::BufferTooSmall));
        }
        let (consumed, output) = self.step(buf, inflater);
        let (buf, inflater): (&'a [u8], &'a crate::deflate::Inflater<W>) = (buf, inflater);
        (consumed, output.map(|output| output.map(|output| to_event(output, buf, consumed, inflater))))
    }

    /// A compressed payload waits for an inflater that was not there
    /// ([`receive_with`](Self::receive_with) with `None`).
    #[cfg(feature = "deflate")]
    pub fn needs_inflater(&self) -> bool {
        self.compression.waiting
    }

    /// Consumes frames until one gives an event or an error, or the input runs out.
    fn step<I: Inflate + ?Sized>(
        &mut self,
        buf: &mut [u8],
        inflater: &mut I,
    ) -> (usize, Result<Option<Output>, Error>) {
        let mut pos = 0;
        // Every pass consumes at least one byte or returns.
        loop {
            if !self.state.reading() {
                return (buf.len(), Ok(None));
            }
            // Between frames, inflated bytes still waiting go out first.
            #[cfg(feature = "deflate")]
            if self.compression.active && self.incoming.is_none() && inflater.pending() {
                match self.inflate_step(inflater, &[], self.compression.input_done) {
                    Ok((_, Some(output))) => return (pos, Ok(Some(output))),
                    Ok((_, None)) => {}
                    Err(e) => return (pos, if self.fail(e) { Err(e) } else { Ok(None) }),
                }
            }
            let rest = buf.get_mut(pos..).unwrap_or_default();
            if let Some(frame) = self.incoming {
                let (n, output) = self.payload(frame, rest, pos, inflater);
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

    /// Checks a header against the role, the negotiated extensions (permessage-deflate's
    /// RSV1, on a message's first frame only), the fragmentation rules and the limits.
    fn check(&self, h: &FrameHeader) -> Result<(), Error> {
        #[cfg(feature = "deflate")]
        let compressed_ok = self.deflate.is_some() && matches!(h.opcode, Opcode::Text | Opcode::Binary);
        #[cfg(not(feature = "deflate"))]
        let compressed_ok = false;
        if h.rsv & !RSV1 != 0 || (h.rsv & RSV1 != 0 && !compressed_ok) {
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
                #[cfg(feature = "deflate")]
                {
                    self.compression = Compression { active: h.rsv & RSV1 != 0, ..Compression::default() };
                }
            }
            self.message_len = self.message_len.saturating_add(h.len);
        }
        #[cfg(feature = "deflate")]
        let compressed = self.compression.active;
        #[cfg(not(feature = "deflate"))]
        let compressed = false;
        let plain = !skip && !compressed && self.message == Some(DataKind::Binary);
        self.incoming = Some(Incoming { fin: h.fin, mask: h.mask, len: h.len, offset: 0, skip, plain });
    }

    /// Takes the payload bytes of `frame` at the start of `buf` (which sits at `base` in
    /// the caller's buffer); returns how many it took.
    fn payload<I: Inflate + ?Sized>(
        &mut self,
        mut frame: Incoming,
        buf: &mut [u8],
        base: usize,
        inflater: &mut I,
    ) -> (usize, Result<Option<Output>, Error>) {
        let remaining = frame.len - frame.offset;
        let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        #[cfg(feature = "deflate")]
        if self.compression.active && !frame.skip {
            return self.compressed_payload(frame, buf.get_mut(..n).unwrap_or_default(), remaining, inflater);
        }
        #[cfg(not(feature = "deflate"))]
        let _ = inflater;
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
        self.last_frame = FrameInfo { len: frame.len, offset, fin: frame.fin, ..FrameInfo::default() };
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

    /// Inflates the compressed payload bytes at the start of `chunk` (all there is of
    /// the frame's `remaining` bytes so far); returns how many it took.
    #[cfg(feature = "deflate")]
    fn compressed_payload<I: Inflate + ?Sized>(
        &mut self,
        mut frame: Incoming,
        chunk: &mut [u8],
        remaining: u64,
        inflater: &mut I,
    ) -> (usize, Result<Option<Output>, Error>) {
        let n = chunk.len();
        let last = frame.fin && n as u64 == remaining;
        self.compression.waiting = inflater.waiting();
        if self.compression.waiting {
            self.incoming = Some(frame);
            return (0, Ok(None));
        }
        if n == 0 && !last && !inflater.pending() {
            self.incoming = Some(frame);
            return (0, Ok(None));
        }
        // Bytes unmasked on an earlier call, not inflated then, are not unmasked again.
        let ahead = self.compression.unmasked_ahead.min(n);
        if let (Some(key), Some(fresh)) = (frame.mask, chunk.get_mut(ahead..)) {
            mask::apply(fresh, key, frame.offset + ahead as u64);
        }
        let offset = frame.offset;
        let (taken, result) = match self.inflate_step(inflater, chunk, last) {
            Ok((taken, output)) => (taken, Ok(output)),
            Err(e) => (n, Err(e)),
        };
        frame.offset += taken as u64;
        self.compression.unmasked_ahead = n - taken;
        let done = frame.offset == frame.len;
        self.incoming = (!done).then_some(frame);
        if done && frame.fin {
            self.compression.input_done = true;
        }
        self.last_frame = FrameInfo { len: frame.len, offset, fin: frame.fin, compressed: true };
        match result {
            Err(e) => (taken, if self.fail(e) { Err(e) } else { Ok(None) }),
            ok => (taken, ok),
        }
    }

    /// One inflater call: the bytes it gives are checked (UTF-8 for text, the message
    /// limit) and become an output, as does the message's end.
    #[cfg(feature = "deflate")]
    fn inflate_step<I: Inflate + ?Sized>(
        &mut self,
        inflater: &mut I,
        input: &[u8],
        last: bool,
    ) -> Result<(usize, Option<Output>), Error> {
        let fresh = self.deflate.is_some_and(|d| d.receive_no_context_takeover());
        let step = inflater.inflate(input, last, fresh)?;
        let kind = self.message.unwrap_or(DataKind::Binary);
        self.compression.inflated = self.compression.inflated.saturating_add(step.len as u64);
        if self.compression.inflated > self.config.max_message_size {
            return Err(Error::MessageTooLarge);
        }
        if kind == DataKind::Text {
            self.utf8.feed(inflater.output(step.start, step.len))?;
            if step.done {
                self.utf8.finish()?;
            }
        }
        if step.done {
            self.message = None;
            self.compression = Compression::default();
        }
        let output = (step.len > 0 || step.done).then_some(Output::Inflated {
            kind,
            start: step.start,
            len: step.len,
            fin: step.done,
        });
        Ok((step.taken, output))
    }

    pub(super) fn after_failure(&mut self) {
        self.message = None;
        #[cfg(feature = "deflate")]
        {
            self.compression = Compression::default();
        }
        self.pong = None;
        if let Some(frame) = self.incoming.as_mut() {
            frame.skip = true;
            frame.plain = false;
        }
    }
}

/// The event an output stands for: its payload in `buf`, whose first `consumed` bytes
/// were consumed, or in the inflater's window.
#[cfg(feature = "deflate")]
fn to_event<'a, I: Inflate + ?Sized>(
    output: Output,
    buf: &'a [u8],
    consumed: usize,
    inflater: &'a I,
) -> Event<'a> {
    let tail = |start: usize| buf.get(start..consumed).unwrap_or_default();
    match output {
        Output::Data { kind, start, fin } => Event::Data { kind, payload: tail(start), fin },
        Output::Inflated { kind, start, len, fin } => {
            Event::Data { kind, payload: inflater.output(start, len), fin }
        }
        Output::Ping(start) => Event::Ping(tail(start)),
        Output::Pong(start) => Event::Pong(tail(start)),
        Output::Close { code, start } => {
            // Validated by `close::parse_payload`.
            let reason = core::str::from_utf8(tail(start)).unwrap_or_default();
            Event::Close { code, reason }
        }
    }
}

impl Incoming {
    /// A rejected frame, whose payload is stepped over.
    fn skipped(h: &FrameHeader) -> Self {
        Self { fin: h.fin, mask: None, len: h.len, offset: 0, skip: true, plain: false }
    }
}
