//! Inputs and names shared by the benchmarks (`benches/ws.rs`), the allocation test
//! (`tests/no_alloc.rs`) and the `results` binary that turns criterion's estimates into
//! `RESULTS.md`.
//!
//! ```
//! use benches::{masked_stream, Kind};
//!
//! let wire = masked_stream(Kind::Text, 125, 4 << 20);
//! assert_eq!(wire.bytes.len(), wire.frames * (2 + 4 + 125));
//! ```

use ws_proto::rand_core::RngCore;

/// Payload sizes measured: the smallest frames, the largest one-byte-length frame, a page,
/// the largest two-byte-length frame region, and a big message.
pub const SIZES: [usize; 5] = [16, 125, 4 << 10, 64 << 10, 1 << 20];

/// How the receive side is fed: whole (`None`), or in chops of this many bytes (one byte,
/// a tiny read, a small buffer, the IPv4 minimum MSS, the Ethernet MSS).
pub const CHOPS: [Option<usize>; 6] = [None, Some(1), Some(4), Some(64), Some(536), Some(1460)];

/// Chops also measured for text (UTF-8 validation); binary gets all of [`CHOPS`].
pub const TEXT_CHOPS: [Option<usize>; 3] = [None, Some(64), Some(1460)];

/// Wire bytes per receive measurement: a stream of whole frames of one size.
pub const RECEIVE_STREAM_BYTES: usize = 4 << 20;

/// Payload bytes per send measurement: frames of one size sent one after the other.
pub const SEND_STREAM_BYTES: usize = 1 << 20;

/// Implementations on the receive and send paths, in table order.
pub const IMPLS: [&str; 7] =
    ["ws-proto", "ws-proto+copy", "tungstenite", "embedded-websocket", "fastwebsockets", "yawc", "memcpy"];

/// The peers (not ws-proto, not memcpy) that the "best peer" ratio is taken over.
pub const PEERS: [&str; 4] = ["tungstenite", "embedded-websocket", "fastwebsockets", "yawc"];

/// In the text 64 KiB group fed whole, beside the receivers: simdutf8's check of every
/// message alone, the bound on a receiver that validates with it.
pub const UTF8_CHECK: &str = "simdutf8-check";

/// Text or binary data frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Opcode 1, valid UTF-8 with some multi-byte characters.
    Text,
    /// Opcode 2, arbitrary bytes.
    Binary,
}

impl Kind {
    /// Lower-case name used in benchmark ids.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Binary => "binary",
        }
    }
}

/// A human size label: `16B`, `4KiB`, `1MiB`.
pub fn size_label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{}MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{}KiB", s >> 10),
        s => format!("{s}B"),
    }
}

/// `whole` or `chop1460`.
pub fn chop_label(chop: Option<usize>) -> String {
    chop.map_or_else(|| "whole".to_owned(), |c| format!("chop{c}"))
}

/// Criterion group id of a receive measurement, e.g. `recv-binary-64KiB-chop64`.
pub fn receive_group(kind: Kind, size: usize, chop: Option<usize>) -> String {
    format!("recv-{}-{}-{}", kind.name(), size_label(size), chop_label(chop))
}

/// Criterion group id of a send measurement, e.g. `send-binary-125B`.
pub fn send_group(size: usize) -> String {
    format!("send-binary-{}", size_label(size))
}

/// Criterion group id of the handshake measurement.
pub const HANDSHAKE_GROUP: &str = "handshake";

/// A payload of `len` bytes; text is valid UTF-8 (about one character in six is
/// multi-byte, as in European text), binary is a byte ramp.
pub fn payload(kind: Kind, len: usize) -> Vec<u8> {
    match kind {
        Kind::Binary => (0..len).map(|i| (i * 31 + 7) as u8).collect(),
        Kind::Text => {
            const SAMPLE: &str = "Größenmaßstäbe: naïve café façade, €5 — “quoted” 🎉 plain ascii text. ";
            let mut out = String::with_capacity(len + 4);
            'fill: loop {
                for c in SAMPLE.chars() {
                    if out.len() + c.len_utf8() > len {
                        break 'fill;
                    }
                    out.push(c);
                }
            }
            // Pad with ASCII to the exact length.
            while out.len() < len {
                out.push('.');
            }
            out.into_bytes()
        }
    }
}

/// A stream of masked client-to-server frames, all with the same payload.
#[derive(Debug, Clone)]
pub struct Wire {
    /// The bytes on the wire.
    pub bytes: Vec<u8>,
    /// How many frames it holds.
    pub frames: usize,
    /// Payload length of each frame.
    pub payload_len: usize,
    /// The unmasked payload, to check what a receiver delivers.
    pub payload: Vec<u8>,
}

/// As many whole masked `kind` frames of `size` payload bytes as fit in `total` wire bytes
/// (at least one), each with its own masking key.
pub fn masked_stream(kind: Kind, size: usize, total: usize) -> Wire {
    let payload = payload(kind, size);
    let extended_len = match size {
        0..=125 => 0,
        126..=0xFFFF => 2,
        _ => 8,
    };
    let header_len = 2 + extended_len + 4;
    let frames = (total / (header_len + size)).max(1);
    let mut rng = XorShift::new(0x5eed);
    let mut bytes = Vec::with_capacity(frames * (header_len + size));
    for _ in 0..frames {
        let opcode = match kind {
            Kind::Text => 0x1,
            Kind::Binary => 0x2,
        };
        bytes.push(0x80 | opcode);
        match size {
            0..=125 => bytes.push(0x80 | size as u8),
            126..=0xFFFF => {
                bytes.push(0x80 | 126);
                bytes.extend_from_slice(&(size as u16).to_be_bytes());
            }
            _ => {
                bytes.push(0x80 | 127);
                bytes.extend_from_slice(&(size as u64).to_be_bytes());
            }
        }
        let key = rng.next_u32().to_be_bytes();
        bytes.extend_from_slice(&key);
        bytes.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    }
    Wire { bytes, frames, payload_len: size, payload }
}

/// A small deterministic generator for client masking keys: fast, and the same keys on
/// every run.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub const fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
}

impl RngCore for XorShift {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(word.get(..chunk.len()).unwrap_or_default());
        }
    }
}

/// A typical browser opening handshake request.
pub const HANDSHAKE_REQUEST: &[u8] = b"GET /chat?room=bench HTTP/1.1\r\n\
Host: device.local:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate\r\n\
Sec-WebSocket-Version: 13\r\n\
Origin: http://device.local:8080\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Connection: keep-alive, Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
Upgrade: websocket\r\n\r\n";

/// Message sizes of the compression benchmarks (`benches/deflate.rs`).
pub const DEFLATE_SIZES: [usize; 3] = [125, 4 << 10, 64 << 10];

/// Bytes of messages per compression measurement.
pub const DEFLATE_STREAM_BYTES: usize = 1 << 20;

/// JSON-like text as an application sends it: an array of small records with repeated
/// keys and varying values, `len` bytes long, reproducible from `seed`.
pub fn json_message(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut s = String::from("[");
    while s.len() < len {
        let r = next();
        s.push_str(&format!(
            "{{\"id\":{},\"sensor\":\"room-{}\",\"temperature\":{}.{},\"humidity\":{},\"ok\":{}}},",
            r % 100_000,
            (r >> 20) % 64,
            (r >> 30) % 40,
            (r >> 40) % 10,
            (r >> 44) % 100,
            r >> 63 == 0
        ));
    }
    s.truncate(len);
    s.into_bytes()
}
