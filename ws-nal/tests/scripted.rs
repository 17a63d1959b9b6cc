//! Sessions over a scripted stack: exactly the reads a test gives, then `WouldBlock`
//! forever, so a session that waits for the socket with bytes still in its buffer shows.

use std::collections::VecDeque;

use embedded_nal::{nb, TcpClientStack, TcpError, TcpErrorKind};
use ws_nal::ws_proto::frame::{FrameHeader, Opcode};
use ws_nal::ws_proto::{Config, Connection, Event as WsEvent, ReadBuffer};
use ws_nal::{echo, Buffers, Event, Session};

#[derive(Debug)]
struct Closed;

impl TcpError for Closed {
    fn kind(&self) -> TcpErrorKind {
        TcpErrorKind::PipeClosed
    }
}

/// A stack with one socket: reads come from a script, writes are collected.
#[derive(Default)]
struct Script {
    reads: VecDeque<Vec<u8>>,
    written: Vec<u8>,
}

impl TcpClientStack for Script {
    type TcpSocket = ();
    type Error = Closed;

    fn socket(&mut self) -> Result<(), Closed> {
        Ok(())
    }
    fn connect(&mut self, _: &mut (), _: core::net::SocketAddr) -> nb::Result<(), Closed> {
        Ok(())
    }
    fn send(&mut self, _: &mut (), buffer: &[u8]) -> nb::Result<usize, Closed> {
        self.written.extend_from_slice(buffer);
        Ok(buffer.len())
    }
    fn receive(&mut self, _: &mut (), buffer: &mut [u8]) -> nb::Result<usize, Closed> {
        let Some(mut chunk) = self.reads.pop_front() else { return Err(nb::Error::WouldBlock) };
        let n = chunk.len().min(buffer.len());
        buffer[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.reads.push_front(chunk.split_off(n));
        }
        Ok(n)
    }
    fn close(&mut self, _: ()) -> Result<(), Closed> {
        Ok(())
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A masked frame as a client sends it.
fn frame(opcode: Opcode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let key = [9, 8, 7, 6];
    let header = FrameHeader { fin, rsv: 0, opcode, mask: Some(key), len: payload.len() as u64 };
    let mut out = vec![0u8; header.encoded_len()];
    header.encode(&mut out).unwrap();
    out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    out
}

/// Polls until the session has nothing more to do with what the script gave; returns the
/// events, in a compact form.
fn drive(session: &mut Session<'_, '_, Script>, stack: &mut Script) -> Vec<String> {
    let mut events = Vec::new();
    for _ in 0..10_000 {
        match session.poll(stack, 0) {
            Ok((event, mut reply)) => {
                events.push(match event {
                    Event::Data { payload, .. } => format!("data {}", payload.len()),
                    Event::Failed(e) => format!("failed {e:?}"),
                    Event::Close { code, .. } => format!("close {:?}", code.map(|c| c.0)),
                    Event::Closed { code, clean } => format!("closed {} {clean}", code.0),
                    Event::Request(_) => "request".into(),
                    Event::Open { .. } => "open".into(),
                    other => format!("{other:?}"),
                });
                echo(&event, &mut reply).unwrap();
                if matches!(event, Event::Closed { .. }) {
                    return events;
                }
            }
            Err(nb::Error::WouldBlock) => return events,
            Err(nb::Error::Other(e)) => panic!("{e}"),
        }
    }
    panic!("no end: {events:?}");
}

/// The server's frames in what it wrote after the 101, as (opcode, payload length, fin).
fn frames_written(written: &[u8]) -> Vec<(Opcode, usize, bool)> {
    let head = written.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut client = Connection::client(Config::default(), rand::rng());
    let mut rx = ReadBuffer::new(written[head..].to_vec());
    rx.commit(written.len() - head);
    let mut frames = Vec::new();
    while let Some(event) = rx.receive(&mut client).unwrap() {
        match event {
            WsEvent::Data { payload, .. } => {
                if client.last_frame().offset == 0 {
                    let frame = client.last_frame();
                    frames.push((Opcode::Binary, 0, frame.fin));
                }
                frames.last_mut().unwrap().1 += payload.len();
            }
            WsEvent::Close { .. } => frames.push((Opcode::Close, 0, true)),
            _ => {}
        }
    }
    frames
}

#[test]
fn a_frame_read_with_the_head_is_cut_to_fit_the_transmit_buffer() {
    // rx 1024, tx 256: the head and a 600-byte frame arrive in one read. Every chunk must
    // fit a frame in tx, so the echo goes out, as one 600-byte frame.
    let mut stack = Script::default();
    stack.reads.push_back([REQUEST, &frame(Opcode::Binary, true, &[5; 600])].concat());
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut session = Session::builder((), Buffers { rx: &mut rx, tx: &mut tx }).server(0);
    let events = drive(&mut session, &mut stack);
    assert_eq!(events, ["request", "open", "data 234", "data 242", "data 124"]);
    assert_eq!(frames_written(&stack.written), [(Opcode::Binary, 600, true)]);
}

#[test]
fn frames_that_give_no_event_never_leave_bytes_waiting() {
    // After a failure, 200 frames that give no event and the peer's close arrive in the
    // same read as the offending frame: all of it is handled without another read.
    let mut stack = Script::default();
    let mut wire = REQUEST.to_vec();
    wire.extend(frame(Opcode::Text, true, b"\xff"));
    for _ in 0..200 {
        wire.extend(frame(Opcode::Continuation, false, b""));
        wire.extend(frame(Opcode::Ping, true, b"no pong after a failure"));
    }
    wire.extend(frame(Opcode::Close, true, b"\x03\xef"));
    stack.reads.push_back(wire);
    let (mut rx, mut tx) = ([0u8; 16384], [0u8; 1024]);
    let mut session = Session::builder((), Buffers { rx: &mut rx, tx: &mut tx }).server(0);
    let events = drive(&mut session, &mut stack);
    assert_eq!(events, ["request", "open", "failed InvalidUtf8", "close Some(1007)", "closed 1007 true"]);
    assert_eq!(frames_written(&stack.written), [(Opcode::Close, 0, true)]);
}

#[test]
fn a_failure_inside_a_frame_being_echoed_drops_the_connection() {
    // The first half of a text frame is echoed as it arrives; then its second half is not
    // UTF-8. The echo frame cannot be finished, so no close frame can follow it: the
    // connection is dropped.
    let mut stack = Script::default();
    let bad = frame(Opcode::Text, true, b"valid text, then \xff");
    stack.reads.push_back([REQUEST, &bad[..10]].concat());
    stack.reads.push_back(bad[10..].to_vec());
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let mut session = Session::builder((), Buffers { rx: &mut rx, tx: &mut tx }).server(0);
    let events = drive(&mut session, &mut stack);
    assert_eq!(events, ["request", "open", "data 4", "failed InvalidUtf8", "closed 1006 false"]);
    assert!(session.is_closed());
}

#[test]
fn empty_frames_are_echoed_as_empty_frames() {
    // An empty text message, then an empty fragment and its empty final continuation.
    let mut stack = Script::default();
    let wire = [
        REQUEST,
        &frame(Opcode::Text, true, b""),
        &frame(Opcode::Binary, false, b""),
        &frame(Opcode::Continuation, true, b""),
    ]
    .concat();
    stack.reads.push_back(wire);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let mut session = Session::builder((), Buffers { rx: &mut rx, tx: &mut tx }).server(0);
    let events = drive(&mut session, &mut stack);
    assert_eq!(events, ["request", "open", "data 0", "data 0", "data 0"]);
    assert_eq!(
        frames_written(&stack.written),
        [(Opcode::Binary, 0, true), (Opcode::Binary, 0, false), (Opcode::Binary, 0, true)]
    );
}
