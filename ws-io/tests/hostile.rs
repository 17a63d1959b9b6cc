//! Hostile peers against the echo server example: each gets its HTTP status or close
//! code, the server's memory stays bounded, and a well-behaved client served at the same
//! time keeps getting prompt echoes.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use ws_io::ws_proto::frame::{FrameHeader, Opcode};
use ws_io::ws_proto::{Config, Connection, Event, ReadBuffer};

/// The echo server example, running on `port` until dropped.
struct Server(Child, u16);

impl Server {
    fn start(port: u16) -> Self {
        Self::start_example("echo_server", port)
    }

    fn start_example(name: &str, port: u16) -> Self {
        // Integration tests live in target/<profile>/deps; cargo builds examples beside them.
        let exe = std::env::current_exe().unwrap();
        let examples: PathBuf = exe.parent().unwrap().parent().unwrap().join("examples");
        let mut child = Command::new(examples.join(name))
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "target/<profile>/examples/echo_server: run `cargo test -p ws-io`, which builds the examples",
            );
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self(child, port);
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("echo server did not start");
    }

    /// Resident memory of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }

    /// CPU time the server process has used so far, in clock ticks (user and system).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap();
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.1)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    /// A connected WebSocket client.
    fn open(&self) -> Client {
        let mut stream = self.connect();
        stream.write_all(REQUEST).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101 "), "{}", String::from_utf8_lossy(&head));
        let buf = ReadBuffer::new(vec![0u8; 1 << 16]);
        Client { stream, conn: Connection::client(Config::default(), StdRng::from_os_rng()), buf }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Raw masked frame bytes, as a client sends them.
fn frame(opcode: Opcode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let header = FrameHeader { fin, rsv: 0, opcode, mask: Some(key), len: payload.len() as u64 };
    let mut out = vec![0u8; header.encoded_len()];
    header.encode(&mut out).unwrap();
    out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    out
}

/// What the server sent back.
#[derive(Debug, PartialEq)]
enum Got {
    Message(Vec<u8>),
    Pong,
    Close(Option<u16>),
    /// TCP closed without (further) frames.
    Eof,
}

struct Client {
    stream: TcpStream,
    conn: Connection<StdRng>,
    buf: ReadBuffer<Vec<u8>>,
}

impl Client {
    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next whole message, pong, close or EOF.
    fn next(&mut self) -> Got {
        let mut message = Vec::new();
        loop {
            let got = match self.buf.receive(&mut self.conn).expect("server frames are valid") {
                Some(Event::Data { payload, fin, .. }) => {
                    message.extend_from_slice(payload);
                    fin.then(|| Got::Message(std::mem::take(&mut message)))
                }
                Some(Event::Pong(_)) => Some(Got::Pong),
                Some(Event::Close { code, .. }) => Some(Got::Close(code.map(|c| c.0))),
                Some(_) => None,
                None => match self.buf.fill(|spare| self.stream.read(spare)) {
                    Ok(0) => Some(Got::Eof),
                    Ok(_) => None,
                    Err(e) if e.kind() == ErrorKind::ConnectionReset => Some(Got::Eof),
                    Err(e) => panic!("read: {e}"),
                },
            };
            if let Some(got) = got {
                return got;
            }
        }
    }

    /// Reads until the server closes TCP; returns the close code it sent first.
    fn close_code(&mut self) -> Option<u16> {
        let mut code = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.next() {
                Got::Close(c) => {
                    // Answer, as a peer should, so the server may close at once.
                    code = c;
                    let _ =
                        self.stream.write_all(&frame(Opcode::Close, true, &c.unwrap_or(1000).to_be_bytes()));
                }
                Got::Eof => return code,
                _ => {}
            }
        }
        panic!("server did not close");
    }
}

/// A well-behaved client echoing all along; fails the test if any echo takes over 1 s.
struct Bystander {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<(usize, Duration)>>,
}

impl Bystander {
    fn start(server: &Server) -> Self {
        let mut client = server.open();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = thread::spawn(move || {
            let (mut echoes, mut worst) = (0, Duration::ZERO);
            while !flag.load(Ordering::Relaxed) {
                let start = Instant::now();
                client.send(&frame(Opcode::Text, true, b"still there?"));
                assert_eq!(client.next(), Got::Message(b"still there?".to_vec()));
                worst = worst.max(start.elapsed());
                echoes += 1;
                thread::sleep(Duration::from_millis(5));
            }
            (echoes, worst)
        });
        Self { stop, handle: Some(handle) }
    }

    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let (echoes, worst) = self.handle.take().unwrap().join().expect("bystander was disturbed");
        assert!(echoes > 0);
        assert!(worst < Duration::from_secs(1), "an echo took {worst:?}");
    }
}

fn http_response(stream: &mut TcpStream) -> String {
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn a_dribbled_handshake_is_dropped_at_the_timeout() {
    let server = Server::start(29_501);
    let bystander = Bystander::start(&server);
    let mut stream = server.connect();
    let start = Instant::now();
    let mut closed = false;
    for byte in REQUEST.iter().take(REQUEST.len() - 1) {
        if stream.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        thread::sleep(Duration::from_millis(100));
        let mut probe = [0u8; 1];
        stream.set_nonblocking(true).unwrap();
        let read = stream.read(&mut probe);
        stream.set_nonblocking(false).unwrap();
        if matches!(read, Ok(0)) || matches!(&read, Err(e) if e.kind() != ErrorKind::WouldBlock) {
            closed = true;
            break;
        }
        assert!(read.is_err(), "no response before the head is complete");
    }
    assert!(closed, "the server kept a dribbling client past its handshake timeout");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(5) && waited < Duration::from_secs(8), "closed after {waited:?}");
    bystander.finish();
}

#[test]
fn an_oversized_head_gets_431() {
    let server = Server::start(29_502);
    let bystander = Bystander::start(&server);
    let mut stream = server.connect();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    request.extend(
        std::iter::repeat_n(
            b"X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n".as_slice(),
            40,
        )
        .flatten(),
    );
    request.extend_from_slice(b"\r\n");
    let _ = stream.write_all(&request);
    assert!(http_response(&mut stream).starts_with("HTTP/1.1 431 "));
    bystander.finish();
}

#[test]
fn frame_level_attacks_get_their_close_codes() {
    let server = Server::start(29_503);
    let bystander = Bystander::start(&server);

    // A 2^63 length.
    let mut client = server.open();
    client.send(&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    assert_eq!(client.close_code(), Some(1002));

    // A frame cut off mid-payload, then EOF: the server just lets go.
    let mut client = server.open();
    let whole = frame(Opcode::Binary, true, &[7u8; 1000]);
    client.send(&whole[..500]);
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(client.next(), Got::Eof);

    // Invalid UTF-8 at every position of a message, in one frame and split in two.
    let text = b"twenty bytes of text".to_vec();
    for position in 0..text.len() {
        let mut bad = text.clone();
        bad[position] = 0xff;
        let mut client = server.open();
        client.send(&frame(Opcode::Text, true, &bad));
        assert_eq!(client.close_code(), Some(1007), "bad byte at {position}");
        let mut client = server.open();
        client.send(&frame(Opcode::Text, false, &bad[..position]));
        client.send(&frame(Opcode::Continuation, true, &bad[position..]));
        assert_eq!(client.close_code(), Some(1007), "bad byte at {position}, split there");
    }
    bystander.finish();
}

#[test]
fn a_ping_flood_is_answered_with_bounded_memory() {
    let server = Server::start(29_504);
    let bystander = Bystander::start(&server);
    let before = server.rss_kib();
    let mut client = server.open();
    let pings = 20_000;
    let ping = frame(Opcode::Ping, true, &[0x55; 125]);
    let flood: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * pings).collect();
    // Write the flood from a thread while reading pongs here, so neither side stalls.
    let mut writer = client.stream.try_clone().unwrap();
    let sender = thread::spawn(move || writer.write_all(&flood).unwrap());
    let mut pongs = 0;
    while pongs < pings {
        assert_eq!(client.next(), Got::Pong);
        pongs += 1;
    }
    sender.join().unwrap();
    client.send(&frame(Opcode::Text, true, b"after the flood"));
    assert_eq!(client.next(), Got::Message(b"after the flood".to_vec()));
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 2048, "server grew by {grown} KiB during the flood");
    bystander.finish();
}

#[test]
fn abandoned_connections_are_reclaimed_and_memory_stays_bounded() {
    let server = Server::start(29_505);
    let bystander = Bystander::start(&server);
    let before = server.rss_kib();
    // Fewer than the server's 64 slots, so the bystander keeps its own.
    let idle: Vec<TcpStream> = (0..40).map(|_| server.connect()).collect();
    let half_open: Vec<Client> = (0..20).map(|_| server.open()).collect();
    thread::sleep(Duration::from_millis(200));
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 4096, "server grew by {grown} KiB for 60 idle connections");
    // Connections that never finish their handshake are closed at the 5 s timeout.
    for mut stream in idle {
        assert_eq!(http_response(&mut stream), "");
    }
    // Abandoned open sessions are dropped by their peers; the server lets go of them.
    drop(half_open);
    let mut client = server.open();
    client.send(&frame(Opcode::Binary, true, b"new client"));
    assert_eq!(client.next(), Got::Message(b"new client".to_vec()));
    bystander.finish();
}

/// Idle connections cost no CPU: the servers block in reads (threads) or wait on the
/// reactor (tokio) rather than polling. A server that polled every 100 µs would use
/// several percent of a core here.
#[test]
fn idle_servers_use_no_cpu() {
    for (example, port) in [("echo_server", 29_506), ("tokio_echo_server", 29_507)] {
        let server = Server::start_example(example, port);
        let mut clients: Vec<Client> = (0..10).map(|_| server.open()).collect();
        // Each connection open and echoing before the quiet starts.
        for client in &mut clients {
            client.send(&frame(Opcode::Text, true, b"hello"));
            assert_eq!(client.next(), Got::Message(b"hello".to_vec()));
        }
        let before = server.cpu_ticks();
        thread::sleep(Duration::from_secs(3));
        let used = server.cpu_ticks() - before;
        // Clock ticks are 10 ms: at most 20 ms of CPU in 3 s, under 1 %.
        assert!(used <= 2, "{example} used {used} ticks of CPU in 3 s with 10 idle connections");
    }
}
