//! ws-nal sessions in both roles over the host TCP stack, and what a bad request gets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use std_embedded_nal::Stack;
use ws_nal::ws_proto::{CloseCode, DataKind, Event as WsEvent, Message};
use ws_nal::{connect, echo, Error, Event, Listener, Session, SessionConfig};

/// Runs an echo server on `port` for one connection, with `len`-byte buffers.
fn echo_once(port: u16, len: usize) -> thread::JoinHandle<()> {
    let mut stack = Stack;
    let mut listener = Listener::bind(&mut stack, port).unwrap();
    thread::spawn(move || {
        let started = Instant::now();
        let clock = || started.elapsed().as_millis() as u64;
        let socket = loop {
            match listener.accept(&mut stack) {
                Ok(socket) => break socket,
                Err(nb::Error::WouldBlock) => thread::sleep(Duration::from_millis(1)),
                Err(nb::Error::Other(e)) => panic!("accept: {e}"),
            }
        };
        let (mut rx, mut tx) = (vec![0u8; len], vec![0u8; len]);
        let mut session = Session::server(socket, &mut rx, &mut tx, SessionConfig::default(), clock());
        loop {
            match session.poll_blocking(&mut stack, clock, thread::yield_now) {
                // A rejected handshake ends the session after its HTTP response.
                Ok((Event::Closed, _)) | Err(Error::Closed | Error::Ws(_)) => return,
                Ok((event, mut reply)) => echo(&event, &mut reply).unwrap(),
                Err(e) => panic!("server: {e}"),
            }
        }
    })
}

#[test]
fn client_and_server_stream_a_message_larger_than_their_buffers() {
    let port = 39_417;
    let server = echo_once(port, 1024);
    let mut stack = Stack;
    let started = Instant::now();
    let clock = || started.elapsed().as_millis() as u64;
    let socket = connect(&mut stack, format!("127.0.0.1:{port}").parse().unwrap()).unwrap();
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 1024]);
    let mut session = Session::client(
        socket,
        "localhost",
        "/",
        rand::rng(),
        &mut rx,
        &mut tx,
        SessionConfig::default(),
        clock(),
    );
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = None;
    let mut echoed = Vec::new();
    let mut events = Vec::new();
    loop {
        // Stream the binary message out, a fragment whenever the transmit buffer is free.
        if let Some(done) = sent.filter(|&done| done < message.len()) {
            if let Ok(mut reply) = session.send_ready(&mut stack, clock()) {
                let take = reply.max_payload().min(message.len() - done);
                let fin = done + take == message.len();
                reply.send_fragment(DataKind::Binary, &message[done..done + take], fin).unwrap();
                sent = Some(done + take);
            }
        }
        let (event, mut reply) = match session.poll(&mut stack, clock()) {
            Ok(ready) => ready,
            Err(nb::Error::WouldBlock) => {
                thread::yield_now();
                continue;
            }
            Err(nb::Error::Other(e)) => panic!("client: {e}"),
        };
        match event {
            Event::Open { protocol } => {
                assert_eq!(protocol, None);
                reply.send(Message::text("hello")).unwrap();
            }
            Event::Ws(WsEvent::Data { kind: DataKind::Text, payload, fin: true }) => {
                assert_eq!(payload, b"hello");
                events.push("text");
                sent = Some(0);
            }
            Event::Ws(WsEvent::Data { kind: DataKind::Binary, payload, fin }) => {
                echoed.extend_from_slice(payload);
                if fin {
                    assert_eq!(echoed, message);
                    events.push("binary");
                    reply.close(CloseCode::NORMAL, "done").unwrap();
                }
            }
            Event::Ws(WsEvent::Close { code, .. }) => {
                assert_eq!(code, Some(CloseCode::NORMAL));
                events.push("close");
            }
            Event::Closed => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(events, ["text", "binary", "close"]);
    server.join().unwrap();
}

fn raw_exchange(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn a_bad_request_gets_its_http_status_and_the_connection_closes() {
    let port = 39_418;
    let server = echo_once(port, 1024);
    let response = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{response}");
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
    server.join().unwrap();
}

#[test]
fn an_oversized_request_head_is_431() {
    let port = 39_419;
    let server = echo_once(port, 512);
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    request.extend(
        std::iter::repeat_n(b"X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n".as_slice(), 20).flatten(),
    );
    request.extend_from_slice(b"\r\n");
    let response = raw_exchange(port, &request);
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    server.join().unwrap();
}
