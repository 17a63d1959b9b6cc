//! Echo over loopback TCP.
//!
//! - `round_trip`: one client's echo round trip of a 16-byte text message, each library at
//!   both ends (its client against its server).
//! - `ten_clients`: ten clients at once, 1,000 echoes each, against each server. The
//!   clients are the same for every server and as cheap as a client can be (a thread
//!   writing one pre-masked frame and reading the 18 bytes of its echo), so the servers
//!   are what is compared.
//!
//! The servers:
//! - **ws-io tokio**: the README's tokio echo server (`ws_io::tokio::accept`, a task per
//!   connection on the multi-thread runtime, `recv` then `send`); its client is
//!   `ws_io::tokio::connect`.
//! - **ws-io echo_server**: the `echo_server` example's code (`ws_examples::echo::serve`,
//!   a thread per connection, frames echoed as they stream in); its client is
//!   `ws_io::std::connect` (blocking).
//! - **tungstenite**: a thread per connection running `tungstenite::accept`, `read` then
//!   `send`, as in its README; its client `tungstenite::connect`.
//! - **tokio-tungstenite**: `accept_async` in a task per connection on the multi-thread
//!   runtime, `next` then `send`, as in its echo example; its client `connect_async`.
//!
//! Every TCP socket has `TCP_NODELAY` on (ws-io sets it itself; the peers get it here).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use ws_io::{CloseCode, Message};

const PAYLOAD: &str = "a sixteen byte m";
const CLIENTS: usize = 10;
const PER_CLIENT: usize = 1000;

/// A server on an ephemeral port, running in the background for the rest of the process.
fn ws_io_tokio_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut ws = ws_io::tokio::accept(stream).await?;
                    let mut buf = Vec::new();
                    while let Some(message) = ws.recv(&mut buf).await? {
                        ws.send(message).await?;
                    }
                    Ok::<_, ws_io::Error<std::io::Error>>(())
                });
            }
        })
    });
    addr
}

fn ws_io_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || ws_examples::echo::serve(listener, ws_examples::echo::Serve::default()));
    addr
}

fn tungstenite_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let stream = stream.unwrap();
            stream.set_nodelay(true).unwrap();
            thread::spawn(move || {
                let Ok(mut ws) = tungstenite::accept(stream) else { return };
                while let Ok(message) = ws.read() {
                    if (message.is_binary() || message.is_text()) && ws.send(message).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn tokio_tungstenite_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
                    while let Some(Ok(message)) = ws.next().await {
                        if (message.is_binary() || message.is_text()) && ws.send(message).await.is_err() {
                            return;
                        }
                    }
                });
            }
        })
    });
    addr
}

/// A connected client of one library, echoing one message at a time.
trait Client: Sized {
    fn connect(addr: SocketAddr) -> Self;
    fn round_trip(&mut self);
    /// The closing handshake, so that servers see a clean end rather than a dropped peer.
    fn close(self);
}

struct WsIoBlocking(ws_io::std::Client, Vec<u8>);

impl Client for WsIoBlocking {
    fn connect(addr: SocketAddr) -> Self {
        Self(ws_io::std::connect(&format!("ws://{addr}/")).unwrap(), Vec::new())
    }

    fn round_trip(&mut self) {
        self.0.send(Message::text(PAYLOAD)).unwrap();
        let echo = self.0.recv(&mut self.1).unwrap();
        assert!(matches!(echo, Some(Message::Text(PAYLOAD))));
    }

    fn close(mut self) {
        self.0.close(CloseCode::NORMAL, "").unwrap();
    }
}

struct WsIoTokio(tokio::runtime::Runtime, ws_io::tokio::Client, Vec<u8>);

impl Client for WsIoTokio {
    fn connect(addr: SocketAddr) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let ws = rt.block_on(ws_io::tokio::connect(&format!("ws://{addr}/"))).unwrap();
        Self(rt, ws, Vec::new())
    }

    fn round_trip(&mut self) {
        let Self(rt, ws, buf) = self;
        rt.block_on(async {
            ws.send(Message::text(PAYLOAD)).await.unwrap();
            let echo = ws.recv(buf).await.unwrap();
            assert!(matches!(echo, Some(Message::Text(PAYLOAD))));
        });
    }

    fn close(self) {
        let Self(rt, mut ws, _) = self;
        rt.block_on(ws.close(CloseCode::NORMAL, "")).unwrap();
    }
}

struct Tungstenite(tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>);

impl Client for Tungstenite {
    fn connect(addr: SocketAddr) -> Self {
        let (ws, _) = tungstenite::connect(format!("ws://{addr}/")).unwrap();
        if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_nodelay(true).unwrap();
        }
        Self(ws)
    }

    fn round_trip(&mut self) {
        self.0.send(tungstenite::Message::text(PAYLOAD)).unwrap();
        let echo = self.0.read().unwrap();
        assert_eq!(echo.to_text().unwrap(), PAYLOAD);
    }

    fn close(mut self) {
        self.0.close(None).unwrap();
        // Reads until the server's close has come back and the connection is over.
        loop {
            match self.0.read() {
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return,
                Err(e) => panic!("closing: {e}"),
            }
        }
    }
}

type TokioTungsteniteStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct TokioTungstenite(tokio::runtime::Runtime, TokioTungsteniteStream);

impl Client for TokioTungstenite {
    fn connect(addr: SocketAddr) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (ws, _) = rt.block_on(tokio_tungstenite::connect_async(format!("ws://{addr}/"))).unwrap();
        if let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_nodelay(true).unwrap();
        }
        Self(rt, ws)
    }

    fn round_trip(&mut self) {
        let Self(rt, ws) = self;
        rt.block_on(async {
            ws.send(tungstenite::Message::text(PAYLOAD)).await.unwrap();
            let echo = ws.next().await.unwrap().unwrap();
            assert_eq!(echo.to_text().unwrap(), PAYLOAD);
        });
    }

    fn close(self) {
        let Self(rt, mut ws) = self;
        rt.block_on(async {
            ws.close(None).await.unwrap();
            while let Some(message) = ws.next().await {
                message.unwrap();
            }
        });
    }
}

/// The cheapest client there is: a pre-masked frame out, its echo's bytes in.
struct Raw(TcpStream);

/// The message as a client sends it: FIN + text, masked with a zero key.
const RAW_FRAME: [u8; 22] = {
    let mut frame = [0u8; 22];
    frame[0] = 0x81;
    frame[1] = 0x80 | 16;
    let payload = PAYLOAD.as_bytes();
    let mut i = 0;
    while i < 16 {
        frame[6 + i] = payload[i];
        i += 1;
    }
    frame
};

impl Raw {
    fn connect(addr: SocketAddr) -> Self {
        use std::io::{Read, Write};
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp.write_all(
            b"GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            tcp.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"));
        Self(tcp)
    }

    fn round_trip(&mut self) {
        use std::io::{Read, Write};
        self.0.write_all(&RAW_FRAME).unwrap();
        let mut echo = [0u8; 18];
        self.0.read_exact(&mut echo).unwrap();
        assert_eq!(&echo[2..], PAYLOAD.as_bytes());
    }

    /// Sends a close (1000, masked with a zero key) and reads the server's: 88 02 03 e8.
    fn close(mut self) {
        use std::io::{Read, Write};
        self.0.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]).unwrap();
        let mut close = [0u8; 4];
        self.0.read_exact(&mut close).unwrap();
        assert_eq!(close, [0x88, 0x02, 0x03, 0xe8]);
    }
}

/// Ten clients, each on its own thread, each sending `PER_CLIENT` messages one echo at a
/// time; the time from all connected to all done, per `iters` rounds.
fn ten_clients(addr: SocketAddr, iters: u64) -> Duration {
    let start = Barrier::new(CLIENTS + 1);
    let done = Barrier::new(CLIENTS + 1);
    thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                let mut client = Raw::connect(addr);
                start.wait();
                for _ in 0..iters * PER_CLIENT as u64 {
                    client.round_trip();
                }
                done.wait();
                // After the clock stops.
                client.close();
            });
        }
        start.wait();
        let began = Instant::now();
        done.wait();
        began.elapsed()
    })
}

fn one<C: Client>(c: &mut Criterion, group: &str, name: &str, addr: SocketAddr) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    let mut client = C::connect(addr);
    g.bench_function(BenchmarkId::new(name, "16B"), |b| b.iter(|| client.round_trip()));
    g.finish();
    client.close();
}

fn many(c: &mut Criterion, name: &str, addr: SocketAddr) {
    let mut g = c.benchmark_group("ten_clients");
    g.throughput(Throughput::Elements((CLIENTS * PER_CLIENT) as u64));
    g.bench_function(BenchmarkId::new(name, "16B"), |b| b.iter_custom(|iters| ten_clients(addr, iters)));
    g.finish();
}

fn round_trip(c: &mut Criterion) {
    let (io_tokio, io_echo) = (ws_io_tokio_server(), ws_io_echo_server());
    let (tung, tokio_tung) = (tungstenite_server(), tokio_tungstenite_server());
    one::<WsIoTokio>(c, "round_trip", "ws-io tokio", io_tokio);
    one::<WsIoBlocking>(c, "round_trip", "ws-io echo_server", io_echo);
    one::<Tungstenite>(c, "round_trip", "tungstenite", tung);
    one::<TokioTungstenite>(c, "round_trip", "tokio-tungstenite", tokio_tung);
    many(c, "ws-io tokio", io_tokio);
    many(c, "ws-io echo_server", io_echo);
    many(c, "tungstenite", tung);
    many(c, "tokio-tungstenite", tokio_tung);
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
