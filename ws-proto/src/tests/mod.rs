//! Connection-level tests, by subject: receiving (`receive`), sending (`send`), the
//! closing handshake and failures (`close`), and properties over arbitrary messages and
//! chunkings (`properties`). The helpers here drive a connection as a caller must: keep
//! what `receive` leaves unconsumed and offer it again with the next bytes.

mod close;
#[cfg(feature = "deflate")]
mod deflate;
mod properties;
mod receive;
mod send;

use crate::frame::{FrameHeader, Opcode};
use crate::{mask, Config, Connection, DataKind, Error, Event, NoRng};

/// A deterministic RNG for client masking keys in tests.
struct TestRng(u64);

impl rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 16
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dst)
    }
}

/// An event with owned payload, for comparing streams of events.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Msg(DataKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
    Err(Error),
}

/// Raw frame bytes as a client (masked) or server (unmasked) would put them on the wire.
fn frame(opcode: u8, fin: bool, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0u8; 14 + payload.len()];
    let header = FrameHeader { fin, rsv: 0, opcode: Opcode::Text, mask: key, len: payload.len() as u64 };
    let n = header.encode(&mut out).unwrap();
    out[0] = (out[0] & 0xF0) | opcode;
    out[n..n + payload.len()].copy_from_slice(payload);
    if let Some(k) = key {
        mask::apply(&mut out[n..n + payload.len()], k, 0);
    }
    out.truncate(n + payload.len());
    out
}

fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    frame(opcode, fin, payload, Some([0xde, 0xad, 0xbe, 0xef]))
}

/// The largest tail `receive` may leave unconsumed: a control frame short of one byte,
/// with the longest header (a peer may encode 125 in 64 bits).
const MAX_LEFT: usize = 14 + 125 - 1;

/// Feeds `stream` split at the given chunk sizes (cycled), keeping unconsumed bytes for
/// the next chunk as a caller must, and collects events, merging data chunks into whole
/// messages. Checks the documented contract on every call.
fn run<R: rand_core::RngCore>(conn: &mut Connection<R>, stream: &[u8], chops: &[usize]) -> Vec<Ev> {
    let mut events = Vec::new();
    let mut partial: Option<(DataKind, Vec<u8>)> = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut pos = 0;
    let mut chop = chops.iter().copied().cycle();
    while pos < stream.len() {
        let end = (pos + chop.next().unwrap_or(usize::MAX).max(1)).min(stream.len());
        pending.extend_from_slice(&stream[pos..end]);
        pos = end;
        let mut start = 0;
        loop {
            let buf = &mut pending[start..];
            let (len, base) = (buf.len(), buf.as_ptr() as usize);
            let (used, event) = conn.receive(buf);
            assert!(used <= len, "used {used} of {len}");
            start += used;
            match event {
                Err(e) => events.push(Ev::Err(e)),
                Ok(None) => {
                    assert!(len - used <= MAX_LEFT, "{} bytes left unconsumed", len - used);
                    break;
                }
                Ok(Some(event)) => {
                    let payload: &[u8] = match event {
                        Event::Data { payload, .. } | Event::Ping(payload) | Event::Pong(payload) => payload,
                        Event::Close { reason, .. } => reason.as_bytes(),
                    };
                    // A payload is always the last bytes consumed.
                    assert_eq!(payload.as_ptr() as usize + payload.len(), base + used);
                    match event {
                        Event::Data { kind, payload, fin, .. } => {
                            let p = partial.get_or_insert((kind, Vec::new()));
                            assert_eq!(p.0, kind);
                            p.1.extend_from_slice(payload);
                            if fin {
                                let (k, m) = partial.take().unwrap();
                                events.push(Ev::Msg(k, m));
                            }
                        }
                        Event::Ping(p) => events.push(Ev::Ping(p.to_vec())),
                        Event::Pong(p) => events.push(Ev::Pong(p.to_vec())),
                        Event::Close { code, reason } => {
                            events.push(Ev::Close(code.map(|c| c.0), reason.to_owned()))
                        }
                    }
                }
            }
        }
        pending.drain(..start);
    }
    events
}

fn server() -> Connection<NoRng> {
    Connection::server(Config::default())
}

/// Every frame `poll_transmit` has queued, with a 256-byte buffer.
fn transmit<R: rand_core::RngCore>(conn: &mut Connection<R>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut tx = [0u8; 256];
    loop {
        let n = conn.poll_transmit(&mut tx).unwrap();
        if n == 0 {
            return out;
        }
        out.push(tx[..n].to_vec());
    }
}
