//! permessage-deflate on ws-nal: the echo loop with one inflater its connections share,
//! against clients that compress (ws-io's), several at once.
#![cfg(feature = "deflate")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use std::time::Duration;

use std_embedded_nal::Stack;
use ws_examples::serve::{serve, Serve};
use ws_nal::Listener;

const PORT: u16 = 29_451;

fn json(n: usize, seed: u64) -> String {
    let mut s = String::from("[");
    let mut x = seed;
    while s.len() < n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s.push_str(&format!(
            "{{\"id\":{},\"temp\":{}.{},\"ok\":{}}},",
            x >> 52,
            (x >> 20) % 40,
            x % 10,
            x & 1 == 0
        ));
    }
    s.truncate(n);
    s
}

/// The echo loop with compression on, `slots` connections at a time, on its own thread.
fn spawn_echo_server(port: u16, slots: usize) {
    let mut stack = Stack;
    let mut listener = Listener::bind(&mut stack, port).expect("port free");
    thread::spawn(move || {
        let config = Serve { slots, buf_len: 4096, protocols: &[], deflate: true };
        serve(&mut stack, &mut listener, config, ws_examples::host::tune)
    });
    thread::sleep(Duration::from_millis(50));
}

#[test]
fn clients_share_the_inflater_one_message_at_a_time() {
    spawn_echo_server(PORT, 3);
    let clients: Vec<_> = (0..3u64)
        .map(|c| {
            thread::spawn(move || {
                let mut ws = ws_io::std::connect(&format!("ws://127.0.0.1:{PORT}/")).unwrap();
                let agreed = *ws.connection().deflate().expect("compression agreed");
                // The server's inflater is 2 KiB, shared: the client compresses within it,
                // each message on its own.
                assert_eq!((agreed.send_window_bits(), agreed.send_no_context_takeover()), (11, true));
                let mut buf = Vec::new();
                for i in 0..40u64 {
                    let text = json(((c * 7 + i * 13) % 60) as usize * 500, c * 100 + i);
                    ws.send(ws_io::Message::text(&text)).unwrap();
                    match ws.recv(&mut buf).unwrap() {
                        Some(ws_io::Message::Text(echo)) => assert!(echo == text, "client {c} message {i}"),
                        other => panic!("{other:?}"),
                    }
                }
                ws.close(ws_io::CloseCode::NORMAL, "").unwrap();
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
}

/// zlib's raw DEFLATE of `data` in a window of `bits`, sync-flushed, its tail removed
/// (RFC 7692 §7.2.1), as browsers and Python `websockets` send it.
fn zlib_message(data: &[u8], bits: u8) -> Vec<u8> {
    let mut z = Compress::new_with_window_bits(Compression::new(6), false, bits);
    let mut out = Vec::with_capacity(data.len() + 64);
    while z.total_in() < data.len() as u64 || !out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.reserve(1 << 16);
        z.compress_vec(&data[z.total_in() as usize..], &mut out, FlushCompress::Sync).unwrap();
    }
    out.truncate(out.len() - 4);
    out
}

/// A masked client frame (mask zero, which leaves the payload as it is).
fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![first];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65_536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&[0; 4]);
    f.extend_from_slice(payload);
    f
}

/// Reads one server frame: (first byte, payload).
fn read_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    tcp.read_exact(&mut head).expect("a frame before the timeout");
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            tcp.read_exact(&mut b).unwrap();
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            tcp.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0u8; len as usize];
    tcp.read_exact(&mut payload).unwrap();
    (head[0], payload)
}

/// zlib's output, whose last input leaves more inflated bytes than the inflater's window
/// holds, and the message's end after them: both come out with no more input arriving
/// (they once waited for the peer's next frame).
#[test]
fn inflated_output_left_after_the_last_input_comes_out() {
    const PORT: u16 = 29_452;
    spawn_echo_server(PORT, 1);
    let mut tcp = TcpStream::connect(("127.0.0.1", PORT)).unwrap();
    // A stall fails the test instead of hanging it.
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
          Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.contains("client_max_window_bits=11"), "{head}");
    let mut inflate = Decompress::new(false);
    for (i, len) in [131_072usize, 5_000, 1 << 20].into_iter().enumerate() {
        let text: Vec<u8> = (0..len as u64)
            .map(|j| b"abcdefghij"[((j * 2_654_435_761 + i as u64) >> 7) as usize % 10])
            .collect();
        // Text, compressed (RSV1), in one frame.
        tcp.write_all(&client_frame(0xc1, &zlib_message(&text, 11))).unwrap();
        let mut compressed = Vec::new();
        loop {
            let (first, payload) = read_frame(&mut tcp);
            compressed.extend_from_slice(&payload);
            if first & 0x80 != 0 {
                break;
            }
        }
        compressed.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut echo = Vec::with_capacity(len + 64);
        let before = inflate.total_in();
        while ((inflate.total_in() - before) as usize) < compressed.len() {
            echo.reserve(1 << 16);
            let taken = (inflate.total_in() - before) as usize;
            inflate.decompress_vec(&compressed[taken..], &mut echo, FlushDecompress::Sync).unwrap();
        }
        assert!(echo == text, "{len}-byte message: {} bytes back", echo.len());
    }
}
