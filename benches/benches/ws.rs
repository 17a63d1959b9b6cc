//! ws-proto against tungstenite, embedded-websocket, fastwebsockets, yawc and memcpy, in one
//! run.
//!
//! `cargo bench -p benches -- --warm-up-time 0.5 --measurement-time 1.5 --sample-size 10`
//! (about 14 minutes on 2 cores; 16 with the echo and deflate benches), then
//! `cargo run -p benches --bin results` writes `benches/RESULTS.md`. A filter such as
//! `recv-binary-64KiB` runs a part.
//!
//! What each measurement times (throughput is wire bytes on the receive path, payload
//! bytes on the send path):
//! - `ws-proto`: `Connection::receive` over the masked bytes already in a buffer, in place
//!   (decode, unmask, UTF-8 check). Receiving unmasks the buffer, so it is refilled before
//!   each timed run, outside the timing (`iter_custom`).
//! - `ws-proto+copy`: each chop is first read from the pristine stream into a receive
//!   buffer of ws-io's default size (16 KiB), as `recv()` would, then received in place
//!   with `ReadBuffer::receive`, which holds the middle of a payload back until half the
//!   buffer has arrived (ws-io itself receives every read at once, so invalid text fails
//!   as soon as it arrives): the whole cost of a socket read. "Whole" input then arrives
//!   in reads that fill the buffer, as a fast socket's would.
//! - `tungstenite`, `fastwebsockets`: their `WebSocket` reading from an in-memory stream
//!   whose reads return at most one chop (so they pay that copy too, through their
//!   `Read`/`AsyncRead`), up to delivered messages; constructed outside the timing.
//!   tungstenite's read buffer is sized to the chop (`read_buffer_size`): with its default
//!   128 KiB, every read first zero-fills up to 128 KiB, measured as `tungstenite-default`
//!   for 536- and 1460-byte chops.
//! - `embedded-websocket`: its codec `WebSocket::read(from, to)` over slices of the stream
//!   (unmasking copy into a message buffer); its `Framer` fails on a header split across
//!   reads, so the harness carries an incomplete header itself (at most 14 bytes). Text is
//!   validated with `str::from_utf8` per message, as its `Framer` does.
//! - `yawc`: its `WebSocket::next_frame` over the same chopped stream, constructed outside
//!   the timing like fastwebsockets'. That is its lowest read that still validates text:
//!   `Streaming` and the split halves below it skip UTF-8, and its check is off unless
//!   asked (`Options::with_utf8`; simdutf8 with its `simd` feature). Its frame limit is
//!   raised to take the 1 MiB messages; otherwise its default options, no compression. Its
//!   payloads share its read buffer (no copy), but that buffer starts at 8 KiB, grows for a
//!   larger frame and shrinks back after it: fed in chops, each 64 KiB frame costs it about
//!   six allocations, each 1 MiB frame ten.
//! - `memcpy`: copying each chop into a buffer, the floor for any reader.

use std::hint::black_box;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use benches::{
    masked_stream, payload, receive_group, send_group, Kind, Wire, XorShift, CHOPS, HANDSHAKE_GROUP,
    HANDSHAKE_REQUEST, RECEIVE_STREAM_BYTES, SEND_STREAM_BYTES, SIZES, TEXT_CHOPS, UTF8_CHECK,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use futures_util::SinkExt as _;
use ws_proto::handshake::{Accept, Request};
use ws_proto::{Config, Connection, Event, Message, ReadBuffer};

/// An in-memory socket: reads copy out at most `chop` bytes of `src`; writes are discarded.
struct ChopStream<'a> {
    src: &'a [u8],
    pos: usize,
    chop: usize,
}

impl<'a> ChopStream<'a> {
    fn new(src: &'a [u8], chop: usize) -> Self {
        Self { src, pos: 0, chop }
    }

    fn next_chop(&mut self, room: usize) -> &'a [u8] {
        let n = self.chop.min(room).min(self.src.len() - self.pos);
        let out = &self.src[self.pos..self.pos + n];
        self.pos += n;
        out
    }
}

impl io::Read for ChopStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.next_chop(buf.len());
        buf[..chunk.len()].copy_from_slice(chunk);
        Ok(chunk.len())
    }
}

impl io::Write for ChopStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(black_box(buf).len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for ChopStream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // `put_slice`, not `initialize_unfilled`: no zeroing of the reader's spare capacity.
        let chunk = self.next_chop(buf.remaining());
        buf.put_slice(chunk);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for ChopStream<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(black_box(buf).len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(black_box(bufs).iter().map(|b| b.len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Receives `wire` in place, a chop at a time: each call sees what arrived so far and was
/// not consumed (a partial header stays where it is); returns the payload bytes delivered.
fn ws_proto_receive(wire: &mut [u8], chop: usize) -> usize {
    let mut conn = Connection::server(Config::default());
    let (mut delivered, mut start, mut end) = (0, 0, 0);
    while end < wire.len() {
        end = (end + chop).min(wire.len());
        loop {
            let (used, event) = conn.receive(&mut wire[start..end]);
            start += used;
            match event.expect("valid stream") {
                Some(Event::Data { payload, .. }) => delivered += black_box(payload).len(),
                Some(_) => {}
                None => break,
            }
        }
    }
    delivered
}

/// Reads `src` a chop at a time into a receive buffer (as ws-io does with a socket: each
/// read fills at most the spare room, after what the last receive left), then receives it
/// in place.
fn ws_proto_copy_receive(src: &[u8], rx: &mut ReadBuffer<&mut [u8]>, chop: usize) -> usize {
    let mut conn = Connection::server(Config::default());
    let mut stream = ChopStream::new(src, chop);
    let mut delivered = 0;
    while rx.fill(|spare| io::Read::read(&mut stream, spare)).expect("in memory") > 0 {
        while let Some(event) = rx.receive(&mut conn).expect("valid stream") {
            if let Event::Data { payload, .. } = event {
                delivered += black_box(payload).len();
            }
        }
    }
    rx.consume(usize::MAX);
    delivered
}

/// Copies each chop of `src` into `rx`: the floor for any reader.
fn memcpy_chops(src: &[u8], rx: &mut [u8], chop: usize) -> usize {
    for piece in src.chunks(chop) {
        rx[..piece.len()].copy_from_slice(piece);
        black_box(&mut *rx);
    }
    src.len()
}

/// embedded-websocket's codec over slices of `src`, reassembling each message into `out`.
fn embedded_receive(src: &[u8], chop: usize, out: &mut [u8], text: bool) -> usize {
    use embedded_websocket::{Error, WebSocketReadResult, WebSocketServer, WebSocketState};
    const MAX_HEADER: usize = 14;
    let mut ws = WebSocketServer::new_server();
    ws.state = WebSocketState::Open; // after the handshake
    let mut carry = [0u8; MAX_HEADER];
    let mut carried = 0;
    let (mut cursor, mut delivered) = (0, 0);
    for piece in src.chunks(chop) {
        let mut rest = piece;
        while !rest.is_empty() {
            let read: WebSocketReadResult = if carried > 0 {
                // Complete a header split across reads from the carried bytes.
                let take = (MAX_HEADER - carried).min(rest.len());
                carry[carried..carried + take].copy_from_slice(&rest[..take]);
                match ws.read(&carry[..carried + take], &mut out[cursor..]) {
                    Ok(read) => {
                        rest = &rest[read.len_from - carried..];
                        carried = 0;
                        read
                    }
                    Err(Error::ReadFrameIncomplete) => {
                        carried += take;
                        rest = &rest[take..];
                        continue;
                    }
                    Err(e) => panic!("embedded-websocket: {e:?}"),
                }
            } else {
                match ws.read(rest, &mut out[cursor..]) {
                    Ok(read) => {
                        rest = &rest[read.len_from..];
                        read
                    }
                    Err(Error::ReadFrameIncomplete) => {
                        carry[..rest.len()].copy_from_slice(rest);
                        carried = rest.len();
                        break;
                    }
                    Err(e) => panic!("embedded-websocket: {e:?}"),
                }
            };
            cursor += read.len_to;
            if read.end_of_message {
                if text {
                    black_box(std::str::from_utf8(&out[..cursor]).expect("valid UTF-8"));
                }
                delivered += black_box(&out[..cursor]).len();
                cursor = 0;
            }
        }
    }
    delivered
}

/// tungstenite's default read buffer, 128 KiB.
const DEFAULT_READ_BUFFER: usize = 128 << 10;

fn tungstenite_config(read_buffer: usize) -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default().read_buffer_size(read_buffer)
}

/// tungstenite's server reading every message of `wire`, delivered in `chop`-byte reads.
fn tungstenite_bench(
    b: &mut criterion::Bencher<'_>,
    wire: &Wire,
    chop: usize,
    config: tungstenite::protocol::WebSocketConfig,
) {
    b.iter_batched_ref(
        || {
            let stream = ChopStream::new(&wire.bytes, chop);
            tungstenite::WebSocket::from_raw_socket(stream, tungstenite::protocol::Role::Server, Some(config))
        },
        |ws| {
            let mut delivered = 0;
            for _ in 0..wire.frames {
                delivered += match ws.read().expect("tungstenite read") {
                    tungstenite::Message::Binary(b) => black_box(b).len(),
                    tungstenite::Message::Text(t) => black_box(t).len(),
                    other => panic!("tungstenite: unexpected {other:?}"),
                };
            }
            assert_eq!(delivered, wire.frames * wire.payload_len);
        },
        BatchSize::PerIteration,
    )
}

/// yawc's frame limit is exclusive (a payload of exactly its default, 1 MiB, is refused):
/// one more byte than the largest message measured.
const YAWC_MAX_PAYLOAD: usize = SIZES[SIZES.len() - 1] + 1;

/// A server-role yawc `WebSocket` on `src`, delivered in `chop`-byte reads. Its UTF-8 check
/// of text is off by default; the RFC requires it, so it is on.
fn yawc_server(src: &[u8], chop: usize) -> yawc::WebSocket<ChopStream<'_>> {
    let options = yawc::Options::default().with_max_payload_read(YAWC_MAX_PAYLOAD).with_utf8();
    yawc::WebSocket::from_stream(ChopStream::new(src, chop), yawc::Role::Server, options)
        .expect("no extensions to negotiate")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime")
}

fn receive(c: &mut Criterion) {
    let rt = runtime();
    let cases = [(Kind::Binary, &CHOPS[..]), (Kind::Text, &TEXT_CHOPS[..])];
    for (kind, chops) in cases {
        for size in SIZES {
            let wire = masked_stream(kind, size, RECEIVE_STREAM_BYTES);
            let expected = wire.frames * size;
            let src = &wire.bytes[..];
            let mut rx = vec![0u8; src.len()];
            // ws-io's receive buffer: a read fills at most its spare room.
            let mut read_buffer = vec![0u8; ws_io::std::BUFFER_LEN];
            let mut out = vec![0u8; size + 64];
            for chop in chops.iter().copied() {
                let mut group = c.benchmark_group(receive_group(kind, size, chop));
                group.throughput(Throughput::Bytes(src.len() as u64));
                group.sampling_mode(SamplingMode::Flat);
                let chop = black_box(chop.unwrap_or(src.len()));
                group.bench_function("ws-proto", |b| {
                    // Receiving unmasks in place: refill the buffer before each timed run.
                    b.iter_custom(|iters| {
                        let mut timed = Duration::ZERO;
                        for _ in 0..iters {
                            rx.copy_from_slice(src);
                            let start = Instant::now();
                            let delivered = ws_proto_receive(&mut rx, chop);
                            timed += start.elapsed();
                            assert_eq!(delivered, expected);
                        }
                        timed
                    })
                });
                group.bench_function("ws-proto+copy", |b| {
                    b.iter(|| {
                        let mut rx = ReadBuffer::new(&mut read_buffer[..]);
                        assert_eq!(ws_proto_copy_receive(src, &mut rx, chop), expected)
                    })
                });
                // Its read buffer matched to the chop: by default each read first zeroes
                // 128 KiB of buffer, which dominates small reads (measured apart below).
                let tuned = tungstenite_config(chop.min(DEFAULT_READ_BUFFER));
                group.bench_function("tungstenite", |b| tungstenite_bench(b, &wire, chop, tuned));
                if kind == Kind::Binary && (536..=1460).contains(&chop) {
                    let default = tungstenite_config(DEFAULT_READ_BUFFER);
                    group.bench_function("tungstenite-default", |b| {
                        tungstenite_bench(b, &wire, chop, default)
                    });
                }
                group.bench_function("embedded-websocket", |b| {
                    b.iter(|| assert_eq!(embedded_receive(src, chop, &mut out, kind == Kind::Text), expected))
                });
                group.bench_function("fastwebsockets", |b| {
                    b.iter_batched_ref(
                        || {
                            let stream = ChopStream::new(src, chop);
                            fastwebsockets::WebSocket::after_handshake(stream, fastwebsockets::Role::Server)
                        },
                        |ws| {
                            let delivered = rt.block_on(async {
                                let mut delivered = 0;
                                for _ in 0..wire.frames {
                                    let frame = ws.read_frame().await.expect("fastwebsockets read");
                                    delivered += black_box(&frame.payload).len();
                                }
                                delivered
                            });
                            assert_eq!(delivered, expected);
                        },
                        BatchSize::PerIteration,
                    )
                });
                group.bench_function("yawc", |b| {
                    b.iter_batched_ref(
                        || yawc_server(src, chop),
                        |ws| {
                            let delivered = rt.block_on(async {
                                let mut delivered = 0;
                                for _ in 0..wire.frames {
                                    let frame = ws.next_frame().await.expect("yawc read");
                                    delivered += black_box(frame.payload()).len();
                                }
                                delivered
                            });
                            assert_eq!(delivered, expected);
                        },
                        BatchSize::PerIteration,
                    )
                });
                group.bench_function("memcpy", |b| b.iter(|| memcpy_chops(src, &mut rx, chop)));
                if kind == Kind::Text && size == 64 << 10 && chop == src.len() {
                    // Not a receiver: simdutf8's check of every message, nothing else (the
                    // text target's size). No receiver that validates with it can deliver
                    // the stream faster.
                    group.bench_function(UTF8_CHECK, |b| {
                        b.iter(|| {
                            for _ in 0..wire.frames {
                                black_box(
                                    simdutf8::basic::from_utf8(black_box(&wire.payload)).expect("valid text"),
                                );
                            }
                        })
                    });
                }
                group.finish();
            }
        }
    }
}

/// A rand_core 0.6 generator for embedded-websocket's client.
struct Rng06(XorShift);

impl rand_core_06::RngCore for Rng06 {
    fn next_u32(&mut self) -> u32 {
        ws_proto::rand_core::RngCore::next_u32(&mut self.0)
    }

    fn next_u64(&mut self) -> u64 {
        ws_proto::rand_core::RngCore::next_u64(&mut self.0)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        ws_proto::rand_core::RngCore::fill_bytes(&mut self.0, dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

fn send(c: &mut Criterion) {
    let rt = runtime();
    for size in SIZES {
        let data = payload(Kind::Binary, size);
        let shared = bytes::Bytes::from(data.clone());
        let frames = (SEND_STREAM_BYTES / size).max(1);
        let mut tx = vec![0u8; size + 14];
        let mut scratch = vec![0u8; size];
        let mut group = c.benchmark_group(send_group(size));
        group.throughput(Throughput::Bytes((frames * size) as u64));
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("ws-proto", |b| {
            b.iter(|| {
                let mut conn = Connection::client(Config::default(), XorShift::new(1));
                for _ in 0..frames {
                    let n = conn.send(Message::binary(&data), &mut tx).expect("fits");
                    black_box(&tx[..n]);
                }
            })
        });
        group.bench_function("tungstenite", |b| {
            b.iter_batched_ref(
                || {
                    let sink = ChopStream::new(&[], usize::MAX);
                    tungstenite::WebSocket::from_raw_socket(sink, tungstenite::protocol::Role::Client, None)
                },
                |ws| {
                    for _ in 0..frames {
                        ws.send(tungstenite::Message::Binary(shared.clone())).expect("tungstenite send");
                    }
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("embedded-websocket", |b| {
            b.iter(|| {
                let mut ws = embedded_websocket::WebSocketClient::new_client(Rng06(XorShift::new(1)));
                ws.state = embedded_websocket::WebSocketState::Open;
                for _ in 0..frames {
                    let n = ws
                        .write(embedded_websocket::WebSocketSendMessageType::Binary, true, &data, &mut tx)
                        .expect("fits");
                    black_box(&tx[..n]);
                }
            })
        });
        group.bench_function("fastwebsockets", |b| {
            b.iter_batched_ref(
                || {
                    let sink = ChopStream::new(&[], usize::MAX);
                    fastwebsockets::WebSocket::after_handshake(sink, fastwebsockets::Role::Client)
                },
                |ws| {
                    rt.block_on(async {
                        for _ in 0..frames {
                            // Its client masks in place: copy the payload to mask a scratch
                            // buffer (a `Payload::Borrowed` would allocate that copy).
                            scratch.copy_from_slice(&data);
                            let payload = fastwebsockets::Payload::BorrowedMut(&mut scratch);
                            ws.write_frame(fastwebsockets::Frame::binary(payload))
                                .await
                                .expect("fastwebsockets write");
                        }
                    })
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("yawc", |b| {
            b.iter_batched_ref(
                || {
                    let sink = ChopStream::new(&[], usize::MAX);
                    yawc::WebSocket::from_stream(sink, yawc::Role::Client, yawc::Options::default())
                        .expect("no extensions to negotiate")
                },
                |ws| {
                    rt.block_on(async {
                        for _ in 0..frames {
                            // Queued and flushed per frame, as tungstenite's `send` does. It
                            // masks while copying the payload into its write buffer, with a
                            // fresh random key per frame (rand's thread generator).
                            ws.send(yawc::Frame::binary(shared.clone())).await.expect("yawc send");
                        }
                    })
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                for _ in 0..frames {
                    tx[..size].copy_from_slice(&data);
                    black_box(&mut tx);
                }
            })
        });
        group.finish();
    }
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group(HANDSHAKE_GROUP);
    group.throughput(Throughput::Bytes(HANDSHAKE_REQUEST.len() as u64));
    let config = Config::default();
    let mut tx = [0u8; 512];
    group.bench_function("ws-proto", |b| {
        b.iter(|| {
            let request =
                Request::parse(black_box(HANDSHAKE_REQUEST), &config).expect("valid").expect("whole head");
            let n = request.accept(&Accept::new(), &mut tx).expect("fits");
            black_box(&tx[..n]);
        })
    });
    group.bench_function("tungstenite", |b| {
        b.iter(|| {
            let stream = ChopStream::new(black_box(HANDSHAKE_REQUEST), usize::MAX);
            black_box(tungstenite::accept(stream).expect("valid"));
        })
    });
    group.bench_function("embedded-websocket", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            let status = request.parse(black_box(HANDSHAKE_REQUEST)).expect("valid");
            assert!(status.is_complete());
            let context =
                embedded_websocket::read_http_header(request.headers.iter().map(|h| (h.name, h.value)))
                    .expect("valid")
                    .expect("a websocket request");
            let mut ws = embedded_websocket::WebSocketServer::new_server();
            let n = ws.server_accept(&context.sec_websocket_key, None, &mut tx).expect("fits");
            black_box(&tx[..n]);
        })
    });
    group.finish();
}

/// Checks every receiver's harness on a short stream before timing anything.
fn self_check(_: &mut Criterion) {
    let rt = runtime();
    for kind in [Kind::Binary, Kind::Text] {
        for size in SIZES {
            let wire: Wire = masked_stream(kind, size, 64 << 10);
            let expected = wire.frames * size;
            let mut out = vec![0u8; size + 64];
            let mut read_buffer = vec![0u8; ws_io::std::BUFFER_LEN];
            for chop in [1, 3, 64, wire.bytes.len()] {
                assert_eq!(ws_proto_receive(&mut wire.bytes.clone(), chop), expected);
                let mut rx = ReadBuffer::new(&mut read_buffer[..]);
                assert_eq!(ws_proto_copy_receive(&wire.bytes, &mut rx, chop), expected);
                assert_eq!(embedded_receive(&wire.bytes, chop, &mut out, kind == Kind::Text), expected);
                // What embedded-websocket delivers is the payload.
                assert_eq!(&out[..size], &wire.payload[..]);
                let mut ws = fastwebsockets::WebSocket::after_handshake(
                    ChopStream::new(&wire.bytes, chop),
                    fastwebsockets::Role::Server,
                );
                rt.block_on(async {
                    for _ in 0..wire.frames {
                        let frame = ws.read_frame().await.expect("fastwebsockets read");
                        assert_eq!(&frame.payload[..], &wire.payload[..]);
                    }
                });
                let mut ws = yawc_server(&wire.bytes, chop);
                rt.block_on(async {
                    for _ in 0..wire.frames {
                        let frame = ws.next_frame().await.expect("yawc read");
                        assert_eq!(&frame.payload()[..], &wire.payload[..]);
                    }
                });
                let mut ws = tungstenite::WebSocket::from_raw_socket(
                    ChopStream::new(&wire.bytes, chop),
                    tungstenite::protocol::Role::Server,
                    Some(tungstenite_config(chop.min(DEFAULT_READ_BUFFER))),
                );
                for _ in 0..wire.frames {
                    assert_eq!(ws.read().expect("tungstenite read").into_data(), wire.payload);
                }
            }
        }
    }
}

criterion_group!(benches, self_check, receive, send, handshake);
criterion_main!(benches);
