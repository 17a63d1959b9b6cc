//! The async binding on tokio, in both roles over loopback TCP.
#![cfg(feature = "tokio")]

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ws_io::std::Options;
use ws_io::{Accept, CloseCode, Error, Keepalive, Message, OwnedMessage, Reject};

/// An echo server on an ephemeral port for one connection; returns its URL and the
/// task, which gives back the close frame the client sent.
async fn echo_once() -> (String, tokio::task::JoinHandle<Option<(u16, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/echo", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ws_io::tokio::accept_with(stream, |request| {
            if request.header("authorization") == Some(b"no") {
                return Err(Reject::new(401).headers(&[("WWW-Authenticate", "Bearer")]));
            }
            Ok(Accept::new().protocol(request.choose_protocol(&["chat"])))
        })
        .await
        .ok()?;
        let mut buf = Vec::new();
        while let Some(message) = ws.recv(&mut buf).await.unwrap() {
            ws.send(message).await.unwrap();
        }
        ws.peer_close().map(|f| (f.code.0, f.reason.to_owned()))
    });
    (url, task)
}

#[tokio::test]
async fn messages_of_any_size_round_trip() {
    let (url, server) = echo_once().await;
    let mut ws =
        ws_io::tokio::connect_with(&url, &Options::new().protocols(&["superchat", "chat"])).await.unwrap();
    assert_eq!(ws.protocol(), Some("chat"));
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let text = "κόσμε 😀 ".repeat(10_000);
    let mut buf = Vec::new();
    for message in [Message::text(""), Message::text(&text), Message::binary(&big), Message::binary(b"x")] {
        ws.send(message).await.unwrap();
        assert_eq!(ws.recv(&mut buf).await.unwrap(), Some(message));
    }
    ws.send(Message::Ping(b"are you there")).await.unwrap();
    ws.send(Message::text("after the ping")).await.unwrap();
    assert_eq!(ws.recv_owned().await.unwrap(), Some(OwnedMessage::Text("after the ping".into())));
    ws.close(CloseCode(4000), "bye").await.unwrap();
    assert_eq!(
        ws.peer_close().map(|f| (f.code, f.reason)),
        Some((CloseCode(4000), "bye")),
        "the reason is echoed"
    );
    assert_eq!(server.await.unwrap(), Some((4000, "bye".to_owned())));
}

#[tokio::test]
async fn a_rejected_client_sees_the_status() {
    let (url, server) = echo_once().await;
    let options = Options::new().headers(&[("Authorization", "no")]);
    let result = ws_io::tokio::connect_with(&url, &options).await;
    assert!(
        matches!(result, Err(Error::Ws(ws_io::ws_proto::Error::HandshakeRejected(401)))),
        "{:?}",
        result.err()
    );
    assert_eq!(server.await.unwrap(), None);
}

#[tokio::test]
async fn keepalive_pings_then_closes_a_silent_peer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = ws_io::asynch::WebSocket::builder(
            embedded_io_adapters::tokio_1::FromTokio::new(stream),
            ws_io::Buffers::with_len(1024),
        )
        .timer(ws_io::tokio::TokioTimer)
        .keepalive(Keepalive::new(50, 200))
        .server()
        .await
        .unwrap();
        let started = Instant::now();
        let mut buf = Vec::new();
        let result = ws.recv(&mut buf).await;
        (result.map(|m| m.map(OwnedMessage::from)), started.elapsed())
    });
    // A raw client that completes the handshake and then says nothing.
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        match tokio::time::timeout(Duration::from_secs(2), raw.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => panic!("{e}"),
        }
    }
    let (result, waited) = server.await.unwrap();
    assert!(matches!(result, Err(Error::Timeout)), "{result:?}");
    assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(1), "{waited:?}");
    let head = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let frames = &got[head..];
    // A ping ("keepalive"), then a close with 1001.
    assert_eq!(&frames[..11], b"\x89\x09keepalive");
    assert_eq!(&frames[11..15], &[0x88, 19, 0x03, 0xe9]);
}

#[tokio::test]
async fn close_gives_up_on_a_peer_that_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // Accepts, then neither reads nor answers.
        let ws = ws_io::tokio::accept(stream).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(ws);
    });
    let mut ws = ws_io::tokio::connect(&url).await.unwrap();
    let started = Instant::now();
    assert!(matches!(ws.close(CloseCode::NORMAL, "").await, Err(Error::Timeout)));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(4), "{waited:?}");
    silent.abort();
}

#[test]
fn a_client_can_move_between_tasks() {
    fn send<T: Send>(_: &T) {}
    let future = async { ws_io::tokio::connect("ws://127.0.0.1:1/").await };
    send(&future);
    fn is_send<T: Send>() {}
    is_send::<ws_io::tokio::Client>();
    is_send::<ws_io::tokio::Server>();
}

#[tokio::test]
async fn split_halves_live_in_two_tasks_and_pongs_still_go_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = ws_io::tokio::accept(stream).await.unwrap();
        let (mut reader, writer) = ws.split();
        let (to_writer, mut outgoing) = tokio::sync::mpsc::channel::<OwnedMessage>(16);
        // The writer task sends what the reader task passes it, in upper case.
        let writer_task = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if let OwnedMessage::Text(text) = message {
                    writer.send(Message::text(&text.to_uppercase())).await.unwrap();
                }
            }
            writer.close(CloseCode::NORMAL, "done").await.unwrap();
        });
        let mut count = 0;
        while let Some(message) = reader.recv_owned().await.unwrap() {
            count += 1;
            to_writer.send(message).await.unwrap();
            if count == 3 {
                drop(to_writer);
                break;
            }
        }
        writer_task.await.unwrap();
        // The reader sees the end of the closing handshake.
        assert!(reader.recv_owned().await.unwrap().is_none());
        count
    });
    let mut client = ws_io::tokio::connect(&url).await.unwrap();
    let mut buf = Vec::new();
    // A ping while the server's writer task waits on its channel: the reader answers it.
    client.send(Message::Ping(b"hi")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for word in ["one", "two", "three"] {
        client.send(Message::text(word)).await.unwrap();
    }
    let mut events = Vec::new();
    while let Some(event) = client.recv_event().await.unwrap() {
        events.push(match event {
            ws_io::Event::Data { payload, .. } => String::from_utf8_lossy(payload).into_owned(),
            ws_io::Event::Pong(p) => format!("pong {}", String::from_utf8_lossy(p)),
            ws_io::Event::Close { code, .. } => format!("close {:?}", code.map(|c| c.0)),
            other => format!("{other:?}"),
        });
    }
    assert!(events.contains(&"pong hi".to_owned()), "{events:?}");
    let data: Vec<&String> =
        events.iter().filter(|e| !e.starts_with("pong") && !e.starts_with("close")).collect();
    assert_eq!(data, ["ONE", "TWO", "THREE"]);
    assert_eq!(events.last().map(String::as_str), Some("close Some(1000)"));
    assert!(client.recv(&mut buf).await.unwrap().is_none());
    assert_eq!(server.await.unwrap(), 3);
}

#[tokio::test]
async fn a_server_that_only_receives_answers_pings_at_once() {
    let (url, server) = echo_once().await;
    let mut ws = ws_io::tokio::connect(&url).await.unwrap();
    ws.send(Message::Ping(b"are you there")).await.unwrap();
    // The echo server sits in `recv`, waiting for a message: the pong must not wait for one.
    let event = tokio::time::timeout(Duration::from_secs(2), ws.recv_event()).await;
    match event.expect("a pong within 2 s").unwrap() {
        Some(ws_io::Event::Pong(payload)) => assert_eq!(payload, b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(server.await.unwrap(), Some((1000, String::new())));
}
