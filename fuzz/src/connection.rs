//! The connection harness: a whole [`Connection`] in one role, fed the peer's bytes in
//! input-chosen chunks, with every event, reply and send checked against the documented
//! behaviour.
//!
//! Input layout: the first [`PLAN_LEN`] bytes are the [`Plan`], the rest is what the peer
//! sent. A seed is therefore `00 00 00 00` followed by frames as they appear on the wire.

use ws_proto::frame::{FrameHeader, Opcode, MAX_CONTROL_PAYLOAD};
use ws_proto::fuzzing::parse_close_payload;
use ws_proto::rand_core::RngCore;
use ws_proto::{CloseCode, Config, Connection, DataKind, Error, Event, Message, Role};

const MAX_REASON_LEN: usize = CloseCode::MAX_REASON_LEN;

/// The most `receive` may leave unconsumed: a control frame short of one byte, with the
/// longest header.
const MAX_LEFT: usize = 14 + MAX_CONTROL_PAYLOAD - 1;

use crate::{check_written_frame, is_control, Xorshift};

/// Bytes at the start of the input that steer the harness rather than reach the peer.
pub const PLAN_LEN: usize = 4;

/// Text messages longer than this are not reassembled for the UTF-8 check (memory bound).
const MAX_TEXT: usize = 64 << 10;

/// How the harness drives the connection.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Byte 0: 0 feeds the whole stream at once; `n` cuts it into chunks of `1..=n` bytes.
    pub max_chunk: u8,
    /// Byte 1: seeds chunk sizes, sends and the client's masking keys.
    pub seed: u8,
    /// Byte 2: after each receive step, something is sent with probability `n / 256`.
    pub send_rate: u8,
    /// Byte 3, bit 0: small frame and message limits (100 and 300 bytes), so that the
    /// 1009 paths are reachable with short inputs.
    pub small_limits: bool,
}

impl Plan {
    /// Reads the plan from the start of the input; missing bytes count as zero.
    pub fn new(data: &[u8]) -> Self {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        Self { max_chunk: byte(0), seed: byte(1), send_rate: byte(2), small_limits: byte(3) & 1 != 0 }
    }

    /// The connection limits.
    pub fn config(&self) -> Config {
        if self.small_limits {
            Config::default().max_frame_size(100).max_message_size(300)
        } else {
            Config::default()
        }
    }
}

/// Runs one input through a connection in `role`.
pub fn run(data: &[u8], role: Role) {
    let plan = Plan::new(data);
    let wire = data.get(PLAN_LEN..).unwrap_or_default();
    match role {
        Role::Server => Harness::new(Connection::server(plan.config()), role, plan).feed(wire),
        Role::Client => {
            let rng = Xorshift::new(0x100 | u32::from(plan.seed));
            Harness::new(Connection::client(plan.config(), rng), role, plan).feed(wire)
        }
    }
}

/// A frame `poll_transmit` wrote: its opcode and unmasked payload.
type Written = (Opcode, Vec<u8>);

struct Harness<R> {
    conn: Connection<R>,
    role: Role,
    plan: Plan,
    choices: Xorshift,
    /// A receive error was reported: no data or ping may be delivered any more.
    failed: bool,
    /// The peer's close was delivered: no event may follow it.
    peer_closed: bool,
    /// Type of the message being received.
    receiving: Option<DataKind>,
    /// The text message being received, while it is at most [`MAX_TEXT`] bytes.
    text: Vec<u8>,
    text_overflow: bool,
    /// The fragmented message being sent: the harness's model of the send side.
    sending: Option<DataKind>,
    /// Payload still owed to a frame begun with `start_frame`.
    owed: u64,
    /// This end started the closing handshake.
    closing: bool,
}

impl<R: RngCore> Harness<R> {
    fn new(conn: Connection<R>, role: Role, plan: Plan) -> Self {
        Self {
            conn,
            role,
            plan,
            choices: Xorshift::new(u32::from(plan.seed)),
            failed: false,
            peer_closed: false,
            receiving: None,
            text: Vec::new(),
            text_overflow: false,
            sending: None,
            owed: 0,
            closing: false,
        }
    }

    /// Feeds `wire` chunk by chunk as a caller must: each chunk is appended to what the
    /// last `receive` left, and `receive` is called until it needs more.
    fn feed(&mut self, wire: &[u8]) {
        let mut pending: Vec<u8> = Vec::new();
        let mut pos = 0;
        while pos < wire.len() {
            let left = wire.len() - pos;
            let size = match self.plan.max_chunk {
                0 => left,
                n => (1 + self.choices.below(usize::from(n))).min(left),
            };
            pending.extend_from_slice(&wire[pos..pos + size]);
            pos += size;
            let mut start = 0;
            loop {
                let (used, more) = self.receive(&mut pending[start..]);
                start += used;
                self.maybe_send(wire);
                if !more {
                    break;
                }
            }
            assert!(pending.len() - start <= MAX_LEFT, "{} bytes left unconsumed", pending.len() - start);
            pending.drain(..start);
        }
        // Every usable byte was consumed, so the connection must have kept the framing and
        // found the peer's close if the stream holds one.
        let expected = close_in_stream(wire, self.role);
        assert_eq!(self.conn.close_received(), expected, "peer's close noticed");
    }

    /// One `receive` call; returns how much of `rest` it consumed, and whether to call
    /// again before more bytes arrive.
    fn receive(&mut self, rest: &mut [u8]) -> (usize, bool) {
        let len = rest.len();
        let base = rest.as_ptr() as usize;
        let close_sent = self.conn.close_sent();
        let (used, result) = self.conn.receive(rest);
        assert!(used <= len, "receive used {used} of {len} bytes");
        match result {
            Ok(Some(event)) => {
                let expected = self.on_event(event, base, used, close_sent);
                let written = self.drain();
                assert_eq!(written, expected, "replies queued by receive");
                (used, true)
            }
            Ok(None) => {
                assert_eq!(self.drain(), [], "frames queued by a receive without an event");
                (used, false)
            }
            Err(e) => {
                assert!(!self.failed, "a second receive error {e:?}: only the first is reported");
                let code = e.close_code();
                assert!(code.is_some(), "receive error {e:?} has no close code");
                assert!(self.conn.is_failed(), "receive error {e:?} did not fail the connection");
                self.failed = true;
                self.receiving = None;
                let written = self.drain();
                if close_sent || self.owed > 0 {
                    // Nothing goes out after our close, nor inside a frame we are sending.
                    assert_eq!(written, [], "frames queued after the close was sent");
                } else {
                    let [(Opcode::Close, payload)] = written.as_slice() else {
                        panic!("receive error {e:?} queued {written:?}, not one close frame");
                    };
                    let sent = parse_close_payload(payload).map(|(code, _)| code);
                    assert_eq!(sent, Ok(code), "close code sent for {e:?}");
                }
                (used, true)
            }
        }
    }

    /// Checks one event; returns the replies it must have queued.
    fn on_event(&mut self, event: Event<'_>, base: usize, used: usize, close_sent: bool) -> Vec<Written> {
        assert!(!self.peer_closed, "{event:?} delivered after the peer's close");
        match event {
            Event::Data { kind, payload, fin, .. } => {
                assert!(!self.failed, "data delivered after a receive error");
                let at = payload.as_ptr() as usize;
                assert_eq!(at + payload.len(), base + used, "a payload is the last bytes consumed");
                let frame = self.conn.last_frame();
                assert!(
                    frame.offset + payload.len() as u64 <= frame.len,
                    "chunk beyond its frame: {frame:?}"
                );
                match self.receiving {
                    Some(open) => assert_eq!(kind, open, "chunk type changed within a message"),
                    None => {
                        self.receiving = Some(kind);
                        self.text.clear();
                        self.text_overflow = false;
                    }
                }
                if kind == DataKind::Text {
                    if self.text.len() + payload.len() <= MAX_TEXT {
                        self.text.extend_from_slice(payload);
                    } else {
                        self.text_overflow = true;
                    }
                }
                if fin {
                    if kind == DataKind::Text && !self.text_overflow {
                        let text = core::str::from_utf8(&self.text);
                        assert!(text.is_ok(), "text message delivered as invalid UTF-8: {:02x?}", self.text);
                    }
                    self.receiving = None;
                }
                Vec::new()
            }
            Event::Ping(payload) => {
                assert!(!self.failed, "ping delivered after a receive error");
                assert!(payload.len() <= MAX_CONTROL_PAYLOAD);
                assert_eq!(payload.as_ptr() as usize + payload.len(), base + used);
                // Answered while nothing closes, and not inside a frame being sent.
                if close_sent || self.conn.close_sent() || self.owed > 0 || !self.may_send() {
                    Vec::new()
                } else {
                    vec![(Opcode::Pong, payload.to_vec())]
                }
            }
            Event::Pong(payload) => {
                assert!(!self.failed, "pong delivered after a receive error");
                assert!(payload.len() <= MAX_CONTROL_PAYLOAD);
                Vec::new()
            }
            Event::Close { code, reason } => {
                self.peer_closed = true;
                assert!(self.conn.close_received(), "close delivered but not recorded");
                if let Some(code) = code {
                    assert!(code.is_valid_on_wire(), "close code {code:?} delivered");
                } else {
                    assert!(reason.is_empty(), "reason without a close code");
                }
                assert!(reason.len() <= MAX_REASON_LEN);
                // Echoed with its reason, unless this end started closing first (or a frame
                // of ours is unfinished: then it waits).
                if close_sent || self.closing || self.owed > 0 {
                    Vec::new()
                } else {
                    let mut echo = code.map(|c| c.0.to_be_bytes().to_vec()).unwrap_or_default();
                    echo.extend_from_slice(reason.as_bytes());
                    vec![(Opcode::Close, echo)]
                }
            }
            other => panic!("an event the harness does not know: {other:?}"),
        }
    }

    /// Pulls every queued frame out through a 256-byte buffer, checking each.
    fn drain(&mut self) -> Vec<Written> {
        let wanted = self.conn.wants_transmit();
        let mut written = Vec::new();
        let mut tx = [0u8; 256];
        loop {
            let n = self.conn.poll_transmit(&mut tx).expect("a control frame fits 256 bytes");
            if n == 0 {
                break;
            }
            assert!(n <= tx.len());
            let (header, payload) = check_written_frame(&tx[..n], self.role);
            assert!(is_control(header.opcode), "poll_transmit wrote a {:?} frame", header.opcode);
            if header.opcode == Opcode::Close {
                assert!(parse_close_payload(&payload).is_ok(), "invalid close payload {payload:02x?} sent");
                assert!(self.conn.close_sent(), "close written but not recorded");
            }
            written.push((header.opcode, payload));
            assert!(written.len() <= 2, "poll_transmit keeps writing: {written:?}");
        }
        assert_eq!(wanted, !written.is_empty(), "wants_transmit disagrees with poll_transmit");
        if self.owed == 0 {
            assert!(!self.conn.wants_transmit(), "frames left queued after poll_transmit gave 0");
        }
        if self.conn.close_sent() {
            assert_eq!(self.conn.send(Message::text("x"), &mut tx), Err(Error::Closed), "send after close");
        }
        written
    }

    /// Now and then, sends something made of input bytes, and checks the outcome against
    /// a model of the send rules.
    fn maybe_send(&mut self, wire: &[u8]) {
        if self.choices.below(256) >= usize::from(self.plan.send_rate) {
            return;
        }
        let start = self.choices.below(wire.len() + 1);
        let end = (start + self.choices.below(200)).min(wire.len());
        let data = &wire[start..end];
        let mut tx = vec![0u8; [4, 16, 64, 300][self.choices.below(4)]];
        self.check_max_payload(tx.len());
        if self.owed > 0 {
            // A frame begun with `start_frame` must be finished before anything else.
            self.write_payload(data, &mut tx);
            return;
        }
        match self.choices.below(8) {
            0 => self.send(Message::Text(utf8_prefix(data)), &mut tx),
            1 => self.send(Message::Binary(data), &mut tx),
            2 => self.send(Message::Ping(data), &mut tx),
            3 => self.send(Message::Pong(data), &mut tx),
            4 | 5 => {
                let kind = if self.choices.flip() { DataKind::Text } else { DataKind::Binary };
                let fin = self.choices.flip();
                self.send_fragment(kind, data, fin, &mut tx);
            }
            6 => {
                let kind = if self.choices.flip() { DataKind::Text } else { DataKind::Binary };
                let fin = self.choices.flip();
                let extra = self.choices.below(50) as u64;
                self.start_frame(kind, data.len() as u64 + extra, fin, &mut tx);
            }
            _ => self.close(data),
        }
    }

    /// Whether new messages may go out: no close of either side has started it closing.
    fn may_send(&self) -> bool {
        !self.closing && !self.failed && !self.peer_closed
    }

    fn start_frame(&mut self, kind: DataKind, len: u64, fin: bool, tx: &mut [u8]) {
        let opcode = match (self.sending, kind) {
            (Some(_), _) => Opcode::Continuation,
            (None, DataKind::Text) => Opcode::Text,
            (None, DataKind::Binary) => Opcode::Binary,
        };
        let mask = (self.role == Role::Client).then_some([0; 4]);
        let header_len = FrameHeader { fin, rsv: 0, opcode, mask, len }.encoded_len();
        let expected = if !self.may_send() {
            Err(Error::Closed)
        } else if self.sending.is_some_and(|open| open != kind) {
            Err(Error::InvalidSend)
        } else if header_len > tx.len() {
            Err(Error::BufferTooSmall)
        } else {
            Ok(header_len)
        };
        let got = self.conn.start_frame(kind, len, fin, tx);
        assert_eq!(got, expected, "start_frame {kind:?} len {len} fin {fin} into {}", tx.len());
        if let Ok(n) = got {
            let (header, _) = FrameHeader::decode(&tx[..n]).unwrap().unwrap();
            assert_eq!((header.opcode, header.fin, header.len), (opcode, fin, len), "header written");
            self.sending = (!fin).then_some(kind);
            self.owed = len;
            assert_eq!(self.conn.payload_remaining(), len);
        }
    }

    fn write_payload(&mut self, data: &[u8], tx: &mut [u8]) {
        let take = data.len().min(usize::try_from(self.owed).unwrap_or(usize::MAX));
        let got = self.conn.write_payload(&data[..take], tx);
        assert_eq!(got, Ok(take.min(tx.len())), "write_payload of {take} bytes into {}", tx.len());
        self.owed -= take.min(tx.len()) as u64;
        assert_eq!(self.conn.payload_remaining(), self.owed);
        if self.owed == 0 {
            // The frame is done: what waited (a pong, a close) may go out now.
            let _ = self.drain();
        }
    }

    fn send(&mut self, message: Message<'_>, tx: &mut [u8]) {
        let (opcode, payload) = match message {
            Message::Text(text) => (Opcode::Text, text.as_bytes()),
            Message::Binary(bytes) => (Opcode::Binary, bytes),
            Message::Ping(bytes) => (Opcode::Ping, bytes),
            Message::Pong(bytes) => (Opcode::Pong, bytes),
            other => panic!("the harness sends no {other:?}"),
        };
        let expected = if !self.may_send() {
            Err(Error::Closed)
        } else if (opcode.is_control() && payload.len() > MAX_CONTROL_PAYLOAD)
            || (!opcode.is_control() && self.sending.is_some())
        {
            Err(Error::InvalidSend)
        } else {
            self.fits(payload.len(), tx.len())
        };
        let got = self.conn.send(message, tx);
        assert_eq!(got, expected, "send {message:?} into {} bytes", tx.len());
        if let Ok(n) = got {
            self.check_sent(&tx[..n], opcode, true, payload);
        }
    }

    fn send_fragment(&mut self, kind: DataKind, payload: &[u8], fin: bool, tx: &mut [u8]) {
        let opcode = match (self.sending, kind) {
            (Some(_), _) => Opcode::Continuation,
            (None, DataKind::Text) => Opcode::Text,
            (None, DataKind::Binary) => Opcode::Binary,
        };
        let expected = if !self.may_send() {
            Err(Error::Closed)
        } else if self.sending.is_some_and(|open| open != kind) {
            Err(Error::InvalidSend)
        } else {
            self.fits(payload.len(), tx.len())
        };
        let got = self.conn.send_fragment(kind, payload, fin, tx);
        assert_eq!(
            got,
            expected,
            "send_fragment {kind:?} fin {fin} of {} bytes into {}",
            payload.len(),
            tx.len()
        );
        if let Ok(n) = got {
            self.check_sent(&tx[..n], opcode, fin, payload);
            self.sending = (!fin).then_some(kind);
        }
    }

    /// Starts the closing handshake with an input-chosen code and reason.
    fn close(&mut self, data: &[u8]) {
        let pick = self.choices.below(10);
        let code = match [1000, 1001, 1005, 1006, 1015, 2999, 3000, 4999, 5000].get(pick) {
            Some(&code) => CloseCode(code),
            None => CloseCode(self.choices.next_u32() as u16),
        };
        let reason = utf8_prefix(data);
        let expected = if !self.may_send() {
            Err(Error::Closed)
        } else if !code.is_valid_on_wire() || reason.len() > MAX_REASON_LEN {
            Err(Error::InvalidSend)
        } else {
            Ok(())
        };
        assert_eq!(self.conn.close(code, reason), expected, "close({code:?}, {} bytes)", reason.len());
        if expected.is_ok() {
            self.closing = true;
        }
        let written = self.drain();
        if expected.is_ok() {
            let mut payload = code.0.to_be_bytes().to_vec();
            payload.extend_from_slice(reason.as_bytes());
            assert_eq!(written, [(Opcode::Close, payload)], "close frame written");
        } else {
            assert_eq!(written, [], "a refused close queued frames");
        }
    }

    /// The length of a frame carrying `len` bytes, or `BufferTooSmall` past `tx_len`.
    fn fits(&self, len: usize, tx_len: usize) -> Result<usize, Error> {
        let mask = (self.role == Role::Client).then_some([0; 4]);
        let header = FrameHeader { fin: true, rsv: 0, opcode: Opcode::Binary, mask, len: len as u64 };
        let total = header.encoded_len() + len;
        if total <= tx_len {
            Ok(total)
        } else {
            Err(Error::BufferTooSmall)
        }
    }

    /// `max_payload_for` is the largest payload that fits, when any frame fits at all.
    fn check_max_payload(&self, tx_len: usize) {
        let max = self.conn.max_payload_for(tx_len);
        if self.fits(0, tx_len).is_ok() {
            assert!(self.fits(max, tx_len).is_ok(), "max_payload_for({tx_len}) = {max} does not fit");
            assert!(self.fits(max + 1, tx_len).is_err(), "max_payload_for({tx_len}) = {max} is not the most");
        } else {
            assert_eq!(max, 0, "max_payload_for({tx_len}) when no frame fits");
        }
    }

    fn check_sent(&self, frame: &[u8], opcode: Opcode, fin: bool, payload: &[u8]) {
        let (header, sent) = check_written_frame(frame, self.role);
        assert_eq!((header.opcode, header.fin), (opcode, fin), "opcode and FIN of a sent frame");
        assert_eq!(sent, payload, "payload of a sent frame");
    }
}

/// Whether `wire` holds a close frame that the connection must read: frames are skipped
/// by their headers alone, whatever their content, up to the first close frame with a
/// header acceptable for `role`. A header that does not decode ends the stream.
fn close_in_stream(wire: &[u8], role: Role) -> bool {
    let mut pos = 0;
    while let Some(Ok(Some((header, n)))) = wire.get(pos..).map(FrameHeader::decode) {
        pos += n;
        let end = usize::try_from(header.len).map_or(usize::MAX, |len| pos.saturating_add(len));
        let acceptable = header.opcode == Opcode::Close
            && header.fin
            && header.rsv == 0
            && header.mask.is_some() == (role == Role::Server)
            && header.len <= MAX_CONTROL_PAYLOAD as u64;
        if acceptable || end > wire.len() {
            return acceptable && end <= wire.len();
        }
        pos = end;
    }
    false
}

/// The longest prefix of `bytes` that is UTF-8.
fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}
