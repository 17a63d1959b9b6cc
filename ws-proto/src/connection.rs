//! The connection state machine for both roles, after the opening handshake.
//!
//! Receive side: frame headers are accumulated (at most 14 bytes kept between calls),
//! payloads are unmasked in place and handed out as borrowed chunks, control frames are
//! buffered (at most 125 bytes) so they may arrive split, and message sequencing and
//! UTF-8 are checked as bytes arrive. Send side: frames are encoded into the caller's
//! buffer, masked for clients, with fragmentation rules enforced. Pong and close replies
//! are queued and pulled by the caller with [`Connection::poll_transmit`].

use rand_core::RngCore;

use crate::close::{self, CloseCode, MAX_REASON_LEN};
use crate::frame::{FrameHeader, Opcode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::utf8::Utf8Validator;
use crate::{mask, Error};

/// Which end of the connection this is; it decides the masking rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// Masks every frame it sends; rejects masked frames.
    Client,
    /// Never masks; rejects unmasked frames.
    Server,
}

/// Limits, with defaults safe for a small device.
///
/// Payloads stream through the caller's buffers, so the frame and message limits bound
/// how long a peer may keep one message going, not memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Largest accepted frame payload (default 64 MiB); larger is closed with 1009.
    pub max_frame_size: u64,
    /// Largest accepted message, all fragments together (default 64 MiB); 1009 beyond.
    pub max_message_size: u64,
    /// Largest opening handshake head, request or response (default 2 KiB); 431 beyond.
    pub max_handshake_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_frame_size: 64 << 20, max_message_size: 64 << 20, max_handshake_size: 2048 }
    }
}

/// Text or binary: the type of a data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataKind {
    /// UTF-8 text (validated on receive).
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl DataKind {
    const fn opcode(self) -> Opcode {
        match self {
            Self::Text => Opcode::Text,
            Self::Binary => Opcode::Binary,
        }
    }
}

/// Something the peer sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A chunk of a data message, unmasked in place in the receive buffer. Chunks of one
    /// message arrive in order; `fin` marks the last one. A text chunk may end inside a
    /// code point; the message as a whole is valid UTF-8.
    Data {
        /// Text or binary.
        kind: DataKind,
        /// The bytes of this chunk.
        payload: &'a [u8],
        /// This chunk completes the message.
        fin: bool,
    },
    /// A ping; a pong with the same payload is queued for [`Connection::poll_transmit`].
    Ping(ControlPayload),
    /// A pong, solicited or not.
    Pong(ControlPayload),
    /// The peer started or answered the closing handshake. If it started it, the echo is
    /// queued for [`Connection::poll_transmit`].
    Close {
        /// The code, if the frame had one.
        code: Option<CloseCode>,
        /// The reason, possibly empty; [`ControlPayload::as_str`] gives it as text.
        reason: ControlPayload,
    },
}

/// A whole message to send, or a reassembled one received (see [`crate::Assembler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// A text message.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A ping (payload at most 125 bytes).
    Ping(&'a [u8]),
    /// A pong (payload at most 125 bytes).
    Pong(&'a [u8]),
}

impl<'a> Message<'a> {
    /// A text message.
    pub const fn text(text: &'a str) -> Self {
        Self::Text(text)
    }

    /// A binary message.
    pub const fn binary(bytes: &'a [u8]) -> Self {
        Self::Binary(bytes)
    }
}

/// The random number generator of a server, which never masks and so needs none.
///
/// It has no values: a server's `Connection<NoRng>` cannot call it.
#[derive(Debug)]
pub enum NoRng {}

impl RngCore for NoRng {
    fn next_u32(&mut self) -> u32 {
        match *self {}
    }
    fn next_u64(&mut self) -> u64 {
        match *self {}
    }
    fn fill_bytes(&mut self, _: &mut [u8]) {
        match *self {}
    }
}

/// The frame whose payload is being received.
#[derive(Debug, Clone, Copy)]
struct Frame {
    opcode: Opcode,
    fin: bool,
    mask: Option<[u8; 4]>,
    /// Payload bytes received so far (the masking position).
    offset: u64,
    /// Payload bytes still to come.
    remaining: u64,
    /// Drop the payload: the frame was rejected, or the connection has failed.
    skip: bool,
}

/// A control frame payload (at most 125 bytes), held by value so that an event does not
/// borrow the connection: the caller may send while holding it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ControlPayload {
    bytes: [u8; MAX_CONTROL_PAYLOAD],
    len: u8,
}

impl ControlPayload {
    const EMPTY: Self = Self { bytes: [0; MAX_CONTROL_PAYLOAD], len: 0 };

    /// The payload bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The payload as text: close reasons are validated UTF-8 (empty if not text).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_slice()).unwrap_or_default()
    }

    fn push(&mut self, data: &[u8]) {
        let start = usize::from(self.len);
        if let Some(dst) = self.bytes.get_mut(start..start + data.len()) {
            dst.copy_from_slice(data);
            self.len += data.len() as u8;
        }
    }
}

impl core::ops::Deref for ControlPayload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl core::fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.as_slice().fmt(f)
    }
}

/// What one receive step produced, as positions rather than borrows.
enum Output {
    Data { kind: DataKind, start: usize, end: usize, fin: bool },
    Ping,
    Pong,
    Close(Option<CloseCode>, ControlPayload),
}

/// A WebSocket connection after the opening handshake, for either role.
///
/// Sans-IO: bytes go in through [`receive`](Self::receive), frames come out into caller
/// buffers through [`send`](Self::send) and [`poll_transmit`](Self::poll_transmit).
/// `R` supplies client masking keys; a server uses [`NoRng`].
#[derive(Debug)]
pub struct Connection<R = NoRng> {
    role: Role,
    config: Config,
    rng: Option<R>,

    // Receive side.
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    frame: Option<Frame>,
    /// Type of the message being received, while its fragments arrive.
    message: Option<DataKind>,
    message_len: u64,
    utf8: Utf8Validator,
    control: ControlPayload,

    // Send side.
    /// Type of the fragmented message being sent, until its final frame.
    sending: Option<DataKind>,
    pong: Option<ControlPayload>,
    close_out: Option<ControlPayload>,

    // Closing handshake.
    close_sent: bool,
    close_received: bool,
    /// A protocol error failed the connection: data is no longer delivered.
    failed: bool,
    /// The byte stream can no longer be parsed: everything is discarded.
    dead: bool,
}

impl Connection<NoRng> {
    /// A server connection (it never masks, so needs no random numbers).
    pub fn server(config: Config) -> Self {
        Self::new(Role::Server, config, None)
    }
}

impl<R: RngCore> Connection<R> {
    /// A client connection, which masks every frame with a fresh key from `rng`.
    pub fn client(config: Config, rng: R) -> Self {
        Self::new(Role::Client, config, Some(rng))
    }

    fn new(role: Role, config: Config, rng: Option<R>) -> Self {
        Self {
            role,
            config,
            rng,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            message_len: 0,
            utf8: Utf8Validator::new(),
            control: ControlPayload::EMPTY,
            sending: None,
            pong: None,
            close_out: None,
            close_sent: false,
            close_received: false,
            failed: false,
            dead: false,
        }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Feeds received bytes; returns how many were consumed and at most one event.
    ///
    /// Call it again with the unconsumed rest until the input is used up: every call on
    /// non-empty input consumes at least one byte. `None` means the bytes were taken in
    /// (a partial header, or a chunk of a frame with nothing to deliver) and more are
    /// needed. Payloads are unmasked in place in `buf` and borrowed by the event.
    ///
    /// An error fails the connection: the whole input is consumed, a close frame with
    /// the error's close code is queued for [`poll_transmit`](Self::poll_transmit), and
    /// later input is still read to notice the peer's close reply, but no more data is
    /// delivered.
    pub fn receive<'a>(&mut self, buf: &'a mut [u8]) -> Result<(usize, Option<Event<'a>>), Error> {
        if self.dead || self.close_received {
            return Ok((buf.len(), None));
        }
        let (used, output) = match self.step(buf) {
            Ok(step) => step,
            Err((used, error)) => {
                self.fail(error);
                // Keep the stream in sync after the failure, looking for the peer's close.
                // Later errors change nothing (the first one's close code stands), but
                // their frames must still be stepped over to stay in sync.
                let mut rest = buf.get_mut(used..).unwrap_or_default();
                while !rest.is_empty() && !self.dead && !self.close_received {
                    let (Ok((n, _)) | Err((n, _))) = self.step(rest);
                    if n == 0 {
                        break;
                    }
                    rest = rest.get_mut(n..).unwrap_or_default();
                }
                return Err(error);
            }
        };
        let event = match output {
            None => None,
            Some(Output::Data { kind, start, end, fin }) => {
                let payload = buf.get(start..end).unwrap_or_default();
                Some(Event::Data { kind, payload, fin })
            }
            Some(Output::Ping) => Some(Event::Ping(self.control)),
            Some(Output::Pong) => Some(Event::Pong(self.control)),
            Some(Output::Close(code, reason)) => Some(Event::Close { code, reason }),
        };
        Ok((used, event))
    }

    /// One step: finish a header if none is current, then take what payload is there.
    /// On error, also says how many bytes were consumed before it.
    fn step(&mut self, buf: &mut [u8]) -> Result<(usize, Option<Output>), (usize, Error)> {
        if self.dead || self.close_received {
            return Ok((buf.len(), None));
        }
        let mut used = 0;
        let frame = match self.frame {
            Some(frame) => frame,
            None => match self.read_header(buf) {
                Ok(None) => return Ok((buf.len(), None)),
                Ok(Some((header, n))) => {
                    used = n;
                    let checked = self.check(&header);
                    let frame = Frame {
                        opcode: header.opcode,
                        fin: header.fin,
                        mask: header.mask,
                        offset: 0,
                        remaining: header.len,
                        skip: checked.is_err() || (self.failed && !header.opcode.is_control()),
                    };
                    self.frame = Some(frame);
                    if let Err(e) = checked {
                        self.frame = (frame.remaining > 0).then_some(frame);
                        return Err((used, e));
                    }
                    self.start_frame(&frame);
                    frame
                }
                Err(e) => {
                    self.dead = true;
                    return Err((buf.len(), e));
                }
            },
        };
        self.payload(frame, buf, used)
    }

    /// Completes a frame header from the bytes kept so far and the start of `buf`.
    fn read_header(&mut self, buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, Error> {
        let have = usize::from(self.header_len);
        if have == 0 {
            // Fast path: the whole header is usually in one read. If it is not, `buf` is
            // shorter than the header, so keep all of it without decoding it again.
            let found = FrameHeader::decode(buf)?;
            if found.is_none() {
                if let Some(dst) = self.header.get_mut(..buf.len()) {
                    dst.copy_from_slice(buf);
                    self.header_len = buf.len() as u8;
                }
            }
            return Ok(found);
        }
        let take = (MAX_HEADER_LEN - have).min(buf.len());
        let (dst, src) = (self.header.get_mut(have..have + take), buf.get(..take));
        if let (Some(dst), Some(src)) = (dst, src) {
            dst.copy_from_slice(src);
        }
        let bytes = self.header.get(..have + take).unwrap_or_default();
        match FrameHeader::decode(bytes)? {
            Some((header, n)) => {
                self.header_len = 0;
                Ok(Some((header, n - have)))
            }
            None => {
                // A full 14 bytes always decode, so `take` was all of `buf`.
                self.header_len = (have + take) as u8;
                Ok(None)
            }
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
        if self.failed {
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

    /// Bookkeeping for an accepted header.
    fn start_frame(&mut self, frame: &Frame) {
        if frame.opcode.is_control() {
            self.control.len = 0;
            return;
        }
        if frame.skip {
            return;
        }
        match frame.opcode {
            Opcode::Text => self.begin_message(DataKind::Text),
            Opcode::Binary => self.begin_message(DataKind::Binary),
            _ => {}
        }
        self.message_len = self.message_len.saturating_add(frame.remaining);
    }

    fn begin_message(&mut self, kind: DataKind) {
        self.message = Some(kind);
        self.message_len = 0;
        self.utf8 = Utf8Validator::new();
    }

    /// Takes the payload bytes of `frame` that `buf[used..]` holds.
    fn payload(
        &mut self,
        mut frame: Frame,
        buf: &mut [u8],
        mut used: usize,
    ) -> Result<(usize, Option<Output>), (usize, Error)> {
        let avail = buf.len().saturating_sub(used);
        let n = usize::try_from(frame.remaining).map_or(avail, |r| r.min(avail));
        let start = used;
        used += n;
        let chunk = buf.get_mut(start..used).unwrap_or_default();
        frame.remaining -= n as u64;
        let done = frame.remaining == 0;
        if !frame.skip {
            if let Some(key) = frame.mask {
                mask::apply(chunk, key, frame.offset);
            }
        }
        frame.offset += n as u64;
        self.frame = (!done).then_some(frame);
        if frame.skip {
            return Ok((used, None));
        }
        if frame.opcode.is_control() {
            self.control.push(chunk);
            if !done {
                return Ok((used, None));
            }
            return self.control_frame(frame.opcode).map(|out| (used, out)).map_err(|e| (used, e));
        }
        let kind = self.message.unwrap_or(DataKind::Binary);
        let fin = done && frame.fin;
        if kind == DataKind::Text {
            let valid = self.utf8.feed(chunk).and_then(|()| if fin { self.utf8.finish() } else { Ok(()) });
            if let Err(e) = valid {
                return Err((used, e));
            }
        }
        if fin {
            self.message = None;
        }
        if n == 0 && !fin {
            return Ok((used, None));
        }
        Ok((used, Some(Output::Data { kind, start, end: used, fin })))
    }

    /// Acts on a complete control frame, whose payload is in `self.control`.
    fn control_frame(&mut self, opcode: Opcode) -> Result<Option<Output>, Error> {
        match opcode {
            // After a failure only the peer's close matters.
            Opcode::Ping | Opcode::Pong if self.failed => Ok(None),
            Opcode::Ping => {
                if !self.failed && !self.close_sent && self.close_out.is_none() {
                    // Only the latest unanswered ping needs a pong (RFC 6455 §5.5.3).
                    self.pong = Some(self.control);
                }
                Ok(Some(Output::Ping))
            }
            Opcode::Pong => Ok(Some(Output::Pong)),
            _ => {
                self.close_received = true;
                let (code, text) = close::parse_payload(self.control.as_slice())?;
                let mut reason = ControlPayload::EMPTY;
                reason.push(text.as_bytes());
                if !self.close_sent && self.close_out.is_none() {
                    // Echo the code, or answer a codeless close with a codeless close.
                    let mut reply = ControlPayload::EMPTY;
                    if let Some(code) = code {
                        reply.push(&code.0.to_be_bytes());
                    }
                    self.close_out = Some(reply);
                }
                Ok(Some(Output::Close(code, reason)))
            }
        }
    }

    /// Fails the connection: queues a close frame with the error's code.
    fn fail(&mut self, error: Error) {
        self.failed = true;
        self.message = None;
        if let Some(frame) = self.frame.as_mut() {
            frame.skip = true;
        }
        self.pong = None;
        if !self.close_sent {
            let code = error.close_code().unwrap_or(CloseCode::PROTOCOL_ERROR);
            self.close_out = Some(close_payload(code, error.reason()));
        }
    }

    /// Starts the closing handshake: queues a close frame for
    /// [`poll_transmit`](Self::poll_transmit). The reason is at most 123 bytes.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.close_sent || self.close_out.is_some() {
            return Err(Error::Closed);
        }
        if !code.is_valid_on_wire() || reason.len() > MAX_REASON_LEN {
            return Err(Error::InvalidSend);
        }
        self.close_out = Some(close_payload(code, reason));
        Ok(())
    }

    /// Writes the next queued control frame (a pong, then a close) into `tx`; returns its
    /// length, 0 when nothing is queued. `tx` must hold 131 bytes for any control frame;
    /// a frame that does not fit stays queued.
    pub fn poll_transmit(&mut self, tx: &mut [u8]) -> usize {
        if let Some(pong) = self.pong {
            if let Ok(n) = self.write_frame(Opcode::Pong, true, pong.as_slice(), tx) {
                self.pong = None;
                return n;
            }
            return 0;
        }
        if let Some(close) = self.close_out {
            if let Ok(n) = self.write_frame(Opcode::Close, true, close.as_slice(), tx) {
                self.close_out = None;
                self.close_sent = true;
                return n;
            }
        }
        0
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) has a frame to write.
    pub fn wants_transmit(&self) -> bool {
        self.pong.is_some() || self.close_out.is_some()
    }

    /// Encodes a whole message as one frame into `tx`; returns the frame's length.
    pub fn send(&mut self, message: Message<'_>, tx: &mut [u8]) -> Result<usize, Error> {
        let (opcode, payload) = match message {
            Message::Text(text) => (Opcode::Text, text.as_bytes()),
            Message::Binary(bytes) => (Opcode::Binary, bytes),
            Message::Ping(bytes) => (Opcode::Ping, bytes),
            Message::Pong(bytes) => (Opcode::Pong, bytes),
        };
        if self.close_sent || self.close_out.is_some() {
            return Err(Error::Closed);
        }
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
        if self.close_sent || self.close_out.is_some() {
            return Err(Error::Closed);
        }
        let opcode = match self.sending {
            None => kind.opcode(),
            Some(open) if open == kind => Opcode::Continuation,
            Some(_) => return Err(Error::InvalidSend),
        };
        let n = self.write_frame(opcode, fin, payload, tx)?;
        self.sending = (!fin).then_some(kind);
        Ok(n)
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

    fn write_frame(
        &mut self,
        opcode: Opcode,
        fin: bool,
        payload: &[u8],
        tx: &mut [u8],
    ) -> Result<usize, Error> {
        let mask = match (self.role, self.rng.as_mut()) {
            (Role::Client, Some(rng)) => {
                let mut key = [0u8; 4];
                rng.fill_bytes(&mut key);
                Some(key)
            }
            _ => None,
        };
        let header = FrameHeader { fin, rsv: 0, opcode, mask, len: payload.len() as u64 };
        let total = header.encoded_len() + payload.len();
        let frame = tx.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let n = header.encode(frame)?;
        // Taking exactly `payload.len()` bytes lets the compiler see the lengths match.
        let body = frame.get_mut(n..n + payload.len()).ok_or(Error::BufferTooSmall)?;
        body.copy_from_slice(payload);
        if let Some(key) = mask {
            mask::apply(body, key, 0);
        }
        Ok(n + payload.len())
    }

    /// Whether this end has sent its close frame.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Whether the peer's close frame has arrived.
    pub fn close_received(&self) -> bool {
        self.close_received
    }

    /// Whether a protocol error has failed the connection.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// The closing handshake is over (or the stream can no longer be read after a
    /// failure): nothing more will be sent or delivered, and the TCP connection should
    /// be closed — at once by a server (RFC 6455 §7.1.1).
    pub fn is_closed(&self) -> bool {
        self.close_sent && (self.close_received || self.dead)
    }
}

fn close_payload(code: CloseCode, reason: &str) -> ControlPayload {
    let mut buf = ControlPayload::EMPTY;
    buf.push(&code.0.to_be_bytes());
    let reason = reason.as_bytes();
    buf.push(reason.get(..reason.len().min(MAX_REASON_LEN)).unwrap_or_default());
    buf
}
