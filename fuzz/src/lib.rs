//! Shared code for the fuzz targets in `fuzz_targets/`: a deterministic random number
//! generator, the fixed client key, a check for frames `ws-proto` writes, and the
//! connection harness that the two connection targets run in either role, and the
//! compressed receive harness (`deflate`).
//!
//! Every check is an `assert!`: libFuzzer reports a failed assertion as a crash and keeps
//! the input that caused it.

pub mod connection;
pub mod deflate;

use ws_proto::frame::{FrameHeader, Opcode};
use ws_proto::fuzzing::apply_mask;
use ws_proto::handshake::{ClientHandshake, ClientKey, ClientRequest};
use ws_proto::rand_core::RngCore;
use ws_proto::{Config, Role};

/// A xorshift32 generator: masking keys for a client connection, and the harness's own
/// choices (chunk sizes, what to send), all reproducible from the input.
#[derive(Debug, Clone)]
pub struct Xorshift(u32);

impl Xorshift {
    /// A generator from a seed; any seed works (zero, the fixed point, is avoided).
    pub fn new(seed: u32) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9) | 1)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        self.next_u32() as usize % n
    }

    /// A coin flip.
    pub fn flip(&mut self) -> bool {
        self.next_u32() & 1 != 0
    }
}

impl RngCore for Xorshift {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_u32()) << 32 | u64::from(self.next_u32())
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(4) {
            let word = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(word.get(..chunk.len()).unwrap_or_default());
        }
    }
}

/// Yields the RFC 6455 §1.3 nonce, "the sample nonce", so that the client key is the
/// RFC's `dGhlIHNhbXBsZSBub25jZQ==` and its §1.3 response is a valid seed.
struct RfcNonce;

impl RngCore for RfcNonce {
    fn next_u32(&mut self) -> u32 {
        0
    }

    fn next_u64(&mut self) -> u64 {
        0
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for (d, s) in dst.iter_mut().zip(b"the sample nonce".iter().cycle()) {
            *d = *s;
        }
    }
}

/// The client handshake the `client_response` target checks responses against: the RFC
/// 6455 §1.3 key, offering the subprotocol "chat".
pub fn rfc_handshake() -> ClientHandshake<'static> {
    assert_eq!(ClientKey::generate(&mut RfcNonce).as_bytes(), b"dGhlIHNhbXBsZSBub25jZQ==");
    let request = ClientRequest::new("server.example.com", "/chat").protocols(&["chat"]);
    ClientHandshake::new(request, Config::default(), &mut RfcNonce)
}

/// Checks one whole frame that `ws-proto` wrote: its header decodes, is masked exactly
/// when `role` is the client, has no reserved bits, and announces exactly the payload
/// that follows. Returns the header and the unmasked payload.
pub fn check_written_frame(frame: &[u8], role: Role) -> (FrameHeader, Vec<u8>) {
    let decoded = FrameHeader::decode(frame);
    let Ok(Some((header, n))) = decoded else {
        panic!("written frame {frame:02x?} does not decode: {decoded:?}");
    };
    assert_eq!(header.rsv, 0, "reserved bits in a written frame");
    assert_eq!(header.mask.is_some(), role == Role::Client, "{role:?} masking of a written frame");
    assert_eq!(n, header.encoded_len(), "written header not in its shortest form");
    assert_eq!(frame.len() as u64 - n as u64, header.len, "written frame length");
    let mut payload = frame[n..].to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut payload, key, 0);
    }
    if header.opcode.is_control() {
        assert!(header.fin, "fragmented control frame written");
        assert!(payload.len() <= 125, "control frame of {} bytes written", payload.len());
    }
    (header, payload)
}

/// Whether `opcode` is one `poll_transmit` may write.
pub fn is_control(opcode: Opcode) -> bool {
    matches!(opcode, Opcode::Ping | Opcode::Pong | Opcode::Close)
}
