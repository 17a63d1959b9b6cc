//! permessage-deflate throughput beside zlib (through flate2, zlib-rs backend) on the same
//! bytes: JSON-like text messages of 125 B, 4 KiB and 64 KiB, 1 MiB of them per
//! iteration, a 32 KiB window with context takeover (what a browser agrees to).
//!
//! - `inflate`: a server `Connection` receiving the compressed messages (zlib level 6
//!   output, one sync flush per message) through ws-proto's `Inflater`, beside flate2's
//!   `Decompress` on the same bytes. Throughput counts inflated bytes.
//! - `deflate`: ws-proto's own `Compressor` (fixed codes, the device's), miniz_oxide at
//!   level 4 (what ws-io sends with at a 32 KiB window), and zlib level 6, each ending
//!   every message with a sync flush. Throughput counts message bytes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use miniz_oxide::deflate::core::{compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush};

use benches::{json_message, size_label, DEFLATE_SIZES, DEFLATE_STREAM_BYTES};
use ws_proto::deflate::{Compress as _, Compressor, DeflateConfig, Inflater};
use ws_proto::handshake::Request;
use ws_proto::{Config, Connection, Event};

/// `DEFLATE_STREAM_BYTES` of messages of `size` bytes.
fn messages(size: usize) -> Vec<Vec<u8>> {
    (0..DEFLATE_STREAM_BYTES / size).map(|i| json_message(size, i as u64)).collect()
}

/// zlib level 6, raw, 32 KiB window, a sync flush per message, its tail removed.
fn zlib_compress(messages: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut z = Compress::new(Compression::new(6), false);
    messages
        .iter()
        .map(|m| {
            let mut out = Vec::with_capacity(m.len() + 64);
            z.compress_vec(m, &mut out, FlushCompress::Sync).unwrap();
            while !out.ends_with(&[0, 0, 0xff, 0xff]) {
                out.reserve(64);
                z.compress_vec(&[], &mut out, FlushCompress::Sync).unwrap();
            }
            out.truncate(out.len() - 4);
            out
        })
        .collect()
}

/// The client's frames: each compressed message masked, RSV1 set.
fn frames(compressed: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for c in compressed {
        let mut header = [0u8; 14];
        let h = ws_proto::frame::FrameHeader {
            fin: true,
            rsv: 0x40,
            opcode: ws_proto::frame::Opcode::Text,
            mask: Some([0; 4]),
            len: c.len() as u64,
        };
        let n = h.encode(&mut header).unwrap();
        wire.extend_from_slice(&header[..n]);
        wire.extend_from_slice(c);
    }
    wire
}

fn server() -> Connection {
    let head = b"GET / HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
    let request = Request::parse(head, &Config::default()).unwrap().unwrap();
    let mut conn = Connection::server(Config::default());
    conn.set_deflate(request.deflate(&DeflateConfig::new()));
    conn
}

fn inflate(c: &mut Criterion) {
    for size in DEFLATE_SIZES {
        let messages = messages(size);
        let compressed = zlib_compress(&messages);
        let wire = frames(&compressed);
        let total: usize = messages.iter().map(Vec::len).sum();
        let mut g = c.benchmark_group(format!("inflate/{}", size_label(size)));
        g.throughput(Throughput::Bytes(total as u64));
        let mut inflater = Inflater::new(vec![0u8; 1 << 15]);
        g.bench_function("ws-proto", |b| {
            b.iter_batched_ref(
                || (server(), wire.clone()),
                |(conn, buf)| {
                    let mut pos = 0;
                    let mut got = 0;
                    loop {
                        let (used, event) = conn.receive_with(&mut buf[pos..], Some(&mut inflater));
                        pos += used;
                        match event.unwrap() {
                            Some(Event::Data { payload, .. }) => got += payload.len(),
                            Some(_) => {}
                            None => break,
                        }
                    }
                    assert_eq!(got, total);
                },
                criterion::BatchSize::LargeInput,
            )
        });
        g.bench_function("zlib", |b| {
            b.iter(|| {
                let mut z = Decompress::new(false);
                let mut out = Vec::with_capacity(size + 64);
                let mut got = 0;
                for m in &compressed {
                    out.clear();
                    z.decompress_vec(m, &mut out, FlushDecompress::Sync).unwrap();
                    z.decompress_vec(&[0, 0, 0xff, 0xff], &mut out, FlushDecompress::Sync).unwrap();
                    got += out.len();
                }
                assert_eq!(got, total);
            })
        });
        g.finish();
    }
}

fn deflate(c: &mut Criterion) {
    for size in DEFLATE_SIZES {
        let messages = messages(size);
        let total: usize = messages.iter().map(Vec::len).sum();
        let mut g = c.benchmark_group(format!("deflate/{}", size_label(size)));
        g.throughput(Throughput::Bytes(total as u64));
        let mut out = vec![0u8; size * 2 + 1024];
        let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(15)];
        g.bench_function(BenchmarkId::new("ws-proto", "fixed"), |b| {
            b.iter(|| {
                let mut compressor = Compressor::new(&mut storage[..], 15, false).unwrap();
                let mut written = 0;
                for m in &messages {
                    let done = compressor.compress(m, &mut out, true).unwrap();
                    assert!(done.finished);
                    written += done.written;
                }
                written
            })
        });
        g.bench_function(BenchmarkId::new("miniz_oxide", "4"), |b| {
            b.iter(|| {
                let flags = create_comp_flags_from_zip_params(4, -15, 0);
                let mut d = Box::new(CompressorOxide::new(flags));
                let mut written = 0;
                for m in &messages {
                    let (_, _, n) = compress(&mut d, m, &mut out, TDEFLFlush::Sync);
                    written += n;
                }
                written
            })
        });
        g.bench_function(BenchmarkId::new("zlib", "6"), |b| b.iter(|| zlib_compress(&messages)));
        g.finish();
    }
}

criterion_group!(benches, inflate, deflate);
criterion_main!(benches);
