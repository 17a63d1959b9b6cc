//! ws-nal sessions in both roles over the host TCP stack: streaming, the server's view of
//! the request and its answer, and what a bad request gets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use std_embedded_nal::Stack;
use ws_nal::ws_proto::handshake::{Accept, ClientRequest, Reject};
use ws_nal::ws_proto::{CloseCode, DataKind, Message};
use ws_nal::{connect, echo, Buffers, Error, Event, Listener, Session, SessionConfig};

/// What a server saw of its one connection.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    path: String,
    origin: Option<String>,
    protocol: Option<String>,
    closed: Option<(u16, bool)>,
    error: Option<String>,
}

/// Runs an echo server on `port` for one connection, with `len`-byte buffers; a request
/// with a `Authorization: no` header is turned down with 401.
fn echo_once(port: u16, len: usize, protocols: &'static [&'static str]) -> thread::JoinHandle<Seen> {
    let mut stack = Stack;
    let mut listener = Listener::bind(&mut stack, port).unwrap();
    thread::spawn(move || {
        let started = Instant::now();
        let clock = || started.elapsed().as_millis() as u64;
        let (socket, _peer) = loop {
            match listener.accept(&mut stack) {
                Ok(accepted) => break accepted,
                Err(nb::Error::WouldBlock) => thread::sleep(Duration::from_millis(1)),
                Err(nb::Error::Other(e)) => panic!("accept: {e}"),
            }
        };
        // Non-blocking, as a polling server needs its sockets.
        ws_examples::host::tune(&socket);
        let (mut rx, mut tx) = (vec![0u8; len], vec![0u8; len]);
        let config = SessionConfig::new().protocols(protocols);
        let mut session =
            Session::builder(socket, Buffers { rx: &mut rx, tx: &mut tx }).config(config).server(clock());
        let mut seen = Seen::default();
        loop {
            match session.poll_blocking(&mut stack, clock, thread::yield_now) {
                Ok((Event::Request(request), mut reply)) => {
                    seen.path = request.target().to_owned();
                    seen.origin = request.origin().map(str::to_owned);
                    if request.header("authorization") == Some(b"no") {
                        reply.reject(&Reject::new(401).headers(&[("WWW-Authenticate", "Bearer")])).unwrap();
                    } else if request.header("x-accept-explicitly").is_some() {
                        let accept =
                            Accept::new().protocol(request.choose_protocol(&["b"])).headers(&[("X-Hi", "1")]);
                        reply.accept(&request, &accept).unwrap();
                    }
                }
                Ok((Event::Open { protocol }, _)) => seen.protocol = protocol.map(str::to_owned),
                Ok((Event::Closed { code, clean }, _)) => {
                    seen.closed = Some((code.0, clean));
                    return seen;
                }
                Ok((event, mut reply)) => echo(&event, &mut reply).unwrap(),
                Err(e) => {
                    seen.error = Some(e.to_string());
                    return seen;
                }
            }
        }
    })
}

fn clock(started: Instant) -> impl Fn() -> u64 {
    move || started.elapsed().as_millis() as u64
}

#[test]
fn client_and_server_stream_messages_larger_than_their_buffers() {
    let port = 29_417;
    let server = echo_once(port, 1024, &[]);
    let mut stack = Stack;
    let clock = clock(Instant::now());
    let socket = connect(&mut stack, format!("127.0.0.1:{port}").parse().unwrap()).unwrap();
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 1024]);
    let request = ClientRequest::from_url("ws://localhost/chat?x=1").unwrap().origin("http://o");
    let mut session =
        Session::builder(socket, Buffers { rx: &mut rx, tx: &mut tx }).client(request, rand::rng(), clock());
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = None;
    let mut echoed = Vec::new();
    let mut frames = 0;
    let mut events = Vec::new();
    loop {
        // Stream the binary message out as one frame, piece by piece whenever the transmit
        // buffer is free.
        if let Some(done) = sent.filter(|&done| done < message.len()) {
            if let Ok(mut reply) = session.send_ready(&mut stack, clock()) {
                if done == 0 {
                    reply.start_frame(DataKind::Binary, message.len() as u64, true).unwrap();
                }
                let take = reply.max_payload().min(message.len() - done).min(900);
                reply.write_payload(&message[done..done + take]).unwrap();
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
            Event::Data { kind: DataKind::Text, payload, fin: true, .. } => {
                assert_eq!(payload, b"hello");
                events.push("text");
                sent = Some(0);
            }
            Event::Data { kind: DataKind::Binary, payload, fin, .. } => {
                // The echo is one frame, as the message was.
                let frame = reply.frame();
                assert_eq!((frame.len, frame.offset), (message.len() as u64, echoed.len() as u64));
                frames += usize::from(frame.offset == 0);
                echoed.extend_from_slice(payload);
                if fin {
                    assert_eq!(echoed, message);
                    events.push("binary");
                    reply.close(CloseCode(4000), "bye").unwrap();
                }
            }
            Event::Close { code, reason } => {
                assert_eq!((code, reason), (Some(CloseCode(4000)), "bye"), "the reason is echoed");
                events.push("close");
            }
            Event::Closed { code, clean } => {
                assert_eq!((code, clean), (CloseCode(4000), true));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(events, ["text", "binary", "close"]);
    assert_eq!(frames, 1);
    let seen = server.join().unwrap();
    assert_eq!((seen.path.as_str(), seen.origin.as_deref()), ("/chat?x=1", Some("http://o")));
    assert_eq!(seen.closed, Some((4000, true)));
}

/// Opens a client session to `port` with `request` and returns its first event's outcome.
fn client_outcome(port: u16, request: ClientRequest<'_>) -> Result<Option<String>, String> {
    let mut stack = Stack;
    let clock = clock(Instant::now());
    let socket = connect(&mut stack, format!("127.0.0.1:{port}").parse().unwrap()).unwrap();
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 1024]);
    let mut session =
        Session::builder(socket, Buffers { rx: &mut rx, tx: &mut tx }).client(request, rand::rng(), clock());
    let protocol = match session.poll_blocking(&mut stack, &clock, thread::yield_now) {
        Ok((Event::Open { protocol }, mut reply)) => {
            let protocol = protocol.map(str::to_owned);
            reply.close(CloseCode::NORMAL, "").unwrap();
            protocol
        }
        Ok((other, _)) => panic!("{other:?}"),
        Err(e) => return Err(e.to_string()),
    };
    loop {
        match session.poll_blocking(&mut stack, &clock, thread::yield_now) {
            Ok((Event::Closed { .. }, _)) => return Ok(protocol),
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn the_server_chooses_a_subprotocol_from_its_list() {
    let port = 29_420;
    let server = echo_once(port, 1024, &["chat"]);
    let request = ClientRequest::new("localhost", "/").protocols(&["superchat", "chat"]);
    assert_eq!(client_outcome(port, request), Ok(Some("chat".to_owned())));
    assert_eq!(server.join().unwrap().protocol.as_deref(), Some("chat"));
}

#[test]
fn the_application_answers_the_request_itself() {
    let port = 29_421;
    let server = echo_once(port, 1024, &["chat"]);
    let request =
        ClientRequest::new("localhost", "/").protocols(&["a", "b"]).headers(&[("X-Accept-Explicitly", "1")]);
    assert_eq!(client_outcome(port, request), Ok(Some("b".to_owned())));
    assert_eq!(server.join().unwrap().protocol.as_deref(), Some("b"));

    let port = 29_422;
    let server = echo_once(port, 1024, &[]);
    let request = ClientRequest::new("localhost", "/secret").headers(&[("Authorization", "no")]);
    let outcome = client_outcome(port, request);
    assert_eq!(outcome, Err(Error::<()>::Ws(ws_nal::ws_proto::Error::HandshakeRejected(401)).to_string()));
    let seen = server.join().unwrap();
    assert_eq!((seen.path.as_str(), seen.error), ("/secret", Some(Error::<()>::Rejected(401).to_string())));
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
    let port = 29_418;
    let server = echo_once(port, 1024, &[]);
    let response = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{response}");
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
    let seen = server.join().unwrap();
    assert_eq!(seen.error, Some(Error::<()>::Ws(ws_nal::ws_proto::Error::UnsupportedVersion).to_string()));
}

#[test]
fn an_oversized_request_head_is_431() {
    let port = 29_419;
    let server = echo_once(port, 512, &[]);
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    request.extend(
        std::iter::repeat_n(b"X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n".as_slice(), 20).flatten(),
    );
    request.extend_from_slice(b"\r\n");
    let response = raw_exchange(port, &request);
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    server.join().unwrap();
}
