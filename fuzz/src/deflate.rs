//! The compressed receive path: a server `Connection` with permessage-deflate agreed, fed
//! a client's bytes (compressed messages, RSV1 wherever the input puts it) through an
//! `Inflater`, with the documented bounds checked on every call.
//!
//! Input layout: a [`PLAN_LEN`]-byte plan, then the client's bytes. Plan byte 0 is the
//! largest chunk (0: all at once), byte 1 the window (8 + its low three bits), byte 2
//! bit 0 context takeover off (the client compresses each message on its own).

use ws_proto::deflate::{DeflateConfig, Inflater};
use ws_proto::handshake::Request;
use ws_proto::{Config, Connection, DataKind, Event};

use crate::Xorshift;

/// Bytes at the start of the input that steer the harness.
pub const PLAN_LEN: usize = 3;

/// The message limit: a bomb is cut off here with 1009, which keeps runs fast.
const MAX_MESSAGE: u64 = 1 << 16;

/// Runs one input.
pub fn run(data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let (max_chunk, bits, fresh) = (byte(0), 8 + (byte(1) & 7), byte(2) & 1 != 0);
    let wire = data.get(PLAN_LEN..).unwrap_or_default();
    let offer = format!(
        "permessage-deflate; client_max_window_bits={bits}{}",
        if fresh { "; client_no_context_takeover" } else { "" }
    );
    let head = format!(
        "GET / HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    let request = Request::parse(head.as_bytes(), &Config::default()).unwrap().unwrap();
    let agreed = request.deflate(&DeflateConfig::new()).expect("a valid offer is accepted");
    assert_eq!(agreed.receive_window_bits(), bits);
    let mut conn = Connection::server(Config::default().max_message_size(MAX_MESSAGE));
    conn.set_deflate(Some(agreed));
    let mut inflater = Inflater::new(vec![0u8; 1 << bits]);

    let mut choices = Xorshift::new(u32::from(byte(1)) << 8 | u32::from(max_chunk));
    let mut pending: Vec<u8> = Vec::new();
    let (mut message, mut kind): (Vec<u8>, Option<DataKind>) = (Vec::new(), None);
    let mut failed = false;
    let mut pos = 0;
    while pos < wire.len() {
        let take = if max_chunk == 0 { wire.len() - pos } else { 1 + choices.below(usize::from(max_chunk)) };
        let end = (pos + take).min(wire.len());
        pending.extend_from_slice(&wire[pos..end]);
        pos = end;
        let mut start = 0;
        loop {
            let buf = &mut pending[start..];
            let len = buf.len();
            let (used, event) = conn.receive_with(buf, Some(&mut inflater));
            assert!(used <= len, "consumed {used} of {len}");
            start += used;
            match event {
                Ok(None) => {
                    assert!(!conn.needs_inflater(), "the inflater was given");
                    break;
                }
                Ok(Some(Event::Data { kind: k, payload, fin, .. })) => {
                    assert!(!failed, "data after a failure");
                    if conn.last_frame().compressed {
                        assert!(payload.len() <= 1 << bits, "an inflated chunk is at most the window");
                    }
                    assert_eq!(*kind.get_or_insert(k), k, "a message keeps its type");
                    message.extend_from_slice(payload);
                    assert!(message.len() as u64 <= MAX_MESSAGE, "the message limit holds for inflated bytes");
                    if fin {
                        if k == DataKind::Text {
                            assert!(core::str::from_utf8(&message).is_ok(), "a text message is UTF-8");
                        }
                        message.clear();
                        kind = None;
                    }
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    let code = e.close_code().expect("a receive error has a close code").0;
                    assert!(matches!(code, 1002 | 1007 | 1009), "close code {code} for {e:?}");
                    failed = true;
                }
            }
        }
        pending.drain(..start);
    }
}
