//! The blocking binding over std TCP, and with fixed buffers as a device would use it.
#![cfg(feature = "std")]

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use embedded_io_adapters::std::FromStd;
use ws_io::blocking::WebSocket;
use ws_io::std::Options;
use ws_io::{Accept, Buffers, CloseCode, Error, Event, Keepalive, Message};

/// An echo server thread on an ephemeral port for one connection.
fn echo_once() -> (String, thread::JoinHandle<Option<(u16, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = ws_io::std::accept_with(stream, |request| {
            Ok(Accept::new().protocol(request.choose_protocol(&["chat"])))
        })
        .unwrap();
        let mut buf = Vec::new();
        loop {
            let message = match ws.recv(&mut buf) {
                Ok(Some(message)) => ws_io::OwnedMessage::from(message),
                Ok(None) => break,
                Err(e) => panic!("server: {e}"),
            };
            ws.send(message.as_message()).unwrap();
        }
        ws.peer_close().map(|f| (f.code.0, f.reason.to_owned()))
    });
    (url, server)
}

#[test]
fn a_std_client_and_server_round_trip_and_close() {
    let (url, server) = echo_once();
    let mut ws = ws_io::std::connect_with(&url, &Options::new().protocols(&["chat"])).unwrap();
    assert_eq!(ws.protocol(), Some("chat"));
    let big = vec![7u8; 300_000];
    let mut buf = Vec::new();
    for message in [Message::text("hello"), Message::binary(&big), Message::text("")] {
        ws.send(message).unwrap();
        assert_eq!(ws.recv(&mut buf).unwrap(), Some(message));
    }
    ws.close(CloseCode(4000), "bye").unwrap();
    assert_eq!(ws.peer_close().map(|f| (f.code.0, f.reason)), Some((4000, "bye")));
    assert_eq!(server.join().unwrap(), Some((4000, "bye".to_owned())));
}

#[test]
fn fixed_buffers_stream_any_frame_and_refuse_a_message_too_large() {
    let (url, server) = echo_once();
    let addr = url.trim_start_matches("ws://").trim_end_matches('/').to_owned();
    let stream = TcpStream::connect(addr).unwrap();
    // Buffers as a device would have them: 512 bytes each, a 64-byte message buffer.
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
    let buffers = Buffers { rx: &mut rx[..], tx: &mut tx[..] };
    let mut ws = WebSocket::builder(FromStd::new(stream), buffers).client(url.as_str(), rand::rng()).unwrap();
    // 100 KB out through 512 bytes, echoed back as chunks that arrive in place.
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    ws.send(Message::binary(&payload)).unwrap();
    let mut echoed = Vec::new();
    while let Some(event) = ws.recv_event().unwrap() {
        if let Event::Data { payload: chunk, fin, .. } = event {
            assert!(chunk.len() <= 512);
            echoed.extend_from_slice(chunk);
            if fin {
                break;
            }
        }
    }
    assert_eq!(echoed, payload);
    // A whole message must fit the buffer it is put together in: 1009 otherwise.
    let mut small = [0u8; 64];
    ws.send(Message::text("short")).unwrap();
    assert_eq!(ws.recv(&mut small).unwrap(), Some(Message::text("short")));
    ws.send(Message::binary(&[1u8; 100])).unwrap();
    assert!(matches!(ws.recv(&mut small), Err(Error::Ws(ws_io::ws_proto::Error::MessageTooLarge))));
    // Our close (1009) went out; the server echoes it, and the connection ends.
    assert!(matches!(ws.recv(&mut small), Ok(None)));
    assert_eq!(server.join().unwrap(), Some((1009, "message too large".to_owned())));
}

#[test]
fn keepalive_ticks_ping_then_close() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    // A server that answers the handshake, then reads and answers nothing (a dead peer).
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let ws = ws_io::std::accept(stream).unwrap();
        thread::sleep(Duration::from_secs(2));
        drop(ws);
    });
    let mut ws = ws_io::std::connect_with(&url, &Options::new().keepalive(Keepalive::new(100, 300))).unwrap();
    let started = Instant::now();
    let clock = || started.elapsed().as_millis() as u64;
    let mut buf = [0u8; 64];
    let outcome = loop {
        match ws.recv(&mut buf[..]) {
            Err(Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                if let Err(e) = ws.keepalive_tick(clock()) {
                    break e;
                }
            }
            other => panic!("{other:?}"),
        }
    };
    assert!(matches!(outcome, Error::Timeout), "{outcome:?}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_millis(1500), "{waited:?}");
    assert!(ws.connection().close_sent());
    server.join().unwrap();
}

#[test]
fn a_bad_request_gets_its_status() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        ws_io::std::accept(stream).map(|_| ()).unwrap_err().to_string()
    });
    let mut raw = TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n").unwrap();
    let mut response = String::new();
    raw.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{response}");
    assert!(server.join().unwrap().contains("Sec-WebSocket-Version 13"));
}

#[test]
fn a_server_that_only_receives_answers_pings_at_once() {
    let (url, server) = echo_once();
    let mut ws = ws_io::std::connect(&url).unwrap();
    ws.send(Message::Ping(b"are you there")).unwrap();
    // The echo server sits in `recv`, waiting for a message: the pong must not wait for one.
    ws.stream_mut().inner().tcp().set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    match ws.recv_event().expect("a pong within 2 s") {
        Some(ws_io::Event::Pong(payload)) => assert_eq!(payload, b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(server.join().unwrap(), Some((1000, String::new())));
}
