//! Connection-level tests: both roles, malformed frames and their close codes, the
//! closing handshake, and properties over arbitrary messages and chunkings.

use proptest::prelude::*;

use crate::frame::{FrameHeader, Opcode};
use crate::{mask, CloseCode, Config, Connection, DataKind, Error, Event, Message, NoRng, Role};

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

/// Feeds `stream` split at the given chunk sizes (cycled) and collects events, merging
/// data chunks into whole messages; stops at the first error.
fn run<R: rand_core::RngCore>(conn: &mut Connection<R>, stream: &[u8], chops: &[usize]) -> Vec<Ev> {
    let mut events = Vec::new();
    let mut partial: Option<(DataKind, Vec<u8>)> = None;
    let mut data = stream.to_vec();
    let mut pos = 0;
    let mut chop = chops.iter().copied().cycle();
    while pos < data.len() {
        let end = (pos + chop.next().unwrap_or(usize::MAX).max(1)).min(data.len());
        let mut rest = &mut data[pos..end];
        while !rest.is_empty() {
            let len = rest.len();
            match conn.receive(rest) {
                Err(e) => {
                    events.push(Ev::Err(e));
                    return events;
                }
                Ok((used, event)) => {
                    assert!(used > 0 && used <= len, "used {used} of {len}");
                    match event {
                        Some(Event::Data { kind, payload, fin }) => {
                            let p = partial.get_or_insert((kind, Vec::new()));
                            assert_eq!(p.0, kind);
                            p.1.extend_from_slice(payload);
                            if fin {
                                let (k, m) = partial.take().unwrap();
                                events.push(Ev::Msg(k, m));
                            }
                        }
                        Some(Event::Ping(p)) => events.push(Ev::Ping(p.to_vec())),
                        Some(Event::Pong(p)) => events.push(Ev::Pong(p.to_vec())),
                        Some(Event::Close { code, reason }) => {
                            events.push(Ev::Close(code.map(|c| c.0), reason.as_str().to_owned()))
                        }
                        None => {}
                    }
                    rest = &mut rest[used..];
                }
            }
        }
        pos = end;
    }
    events
}

fn server() -> Connection<NoRng> {
    Connection::server(Config::default())
}

fn transmit<R: rand_core::RngCore>(conn: &mut Connection<R>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut tx = [0u8; 256];
    loop {
        let n = conn.poll_transmit(&mut tx);
        if n == 0 {
            return out;
        }
        out.push(tx[..n].to_vec());
    }
}

#[test]
fn server_receives_rfc_fragmented_text_with_interleaved_ping() {
    let mut stream = client_frame(0x1, false, b"Hel");
    stream.extend(client_frame(0x9, true, b"ping"));
    stream.extend(client_frame(0x0, true, b"lo"));
    let mut conn = server();
    let events = run(&mut conn, &stream, &[usize::MAX]);
    assert_eq!(events, [Ev::Ping(b"ping".to_vec()), Ev::Msg(DataKind::Text, b"Hello".to_vec())]);
    assert_eq!(transmit(&mut conn), [b"\x8a\x04ping".to_vec()]);
}

#[test]
fn close_handshake_initiated_by_peer() {
    let mut conn = server();
    let events = run(&mut conn, &client_frame(0x8, true, b"\x03\xe8bye"), &[3]);
    assert_eq!(events, [Ev::Close(Some(1000), "bye".into())]);
    assert!(conn.close_received() && !conn.is_closed());
    assert_eq!(transmit(&mut conn), [b"\x88\x02\x03\xe8".to_vec()]);
    assert!(conn.is_closed());
    // Nothing is sent after close, and later input is ignored.
    assert_eq!(conn.send(Message::text("late"), &mut [0u8; 64]), Err(Error::Closed));
    assert_eq!(run(&mut conn, &client_frame(0x1, true, b"x"), &[100]), []);
}

#[test]
fn codeless_close_is_answered_codeless() {
    let mut conn = server();
    assert_eq!(run(&mut conn, &client_frame(0x8, true, b""), &[1]), [Ev::Close(None, String::new())]);
    assert_eq!(transmit(&mut conn), [b"\x88\x00".to_vec()]);
}

#[test]
fn close_handshake_initiated_locally() {
    let mut conn = server();
    conn.close(CloseCode::GOING_AWAY, "bye").unwrap();
    assert_eq!(conn.close(CloseCode::NORMAL, ""), Err(Error::Closed));
    assert_eq!(transmit(&mut conn), [b"\x88\x05\x03\xe9bye".to_vec()]);
    assert!(conn.close_sent() && !conn.is_closed());
    // The peer answers; no second close goes out.
    assert_eq!(
        run(&mut conn, &client_frame(0x8, true, b"\x03\xe9"), &[64]),
        [Ev::Close(Some(1001), String::new())]
    );
    assert_eq!(transmit(&mut conn), Vec::<Vec<u8>>::new());
    assert!(conn.is_closed());
    assert_eq!(conn.close(CloseCode(1005), ""), Err(Error::Closed));
    assert_eq!(server().close(CloseCode(1005), ""), Err(Error::InvalidSend));
}

/// (frames as the client sends them, the error, the close code it must get)
fn malformed_cases() -> Vec<(Vec<u8>, Error, u16)> {
    let mut rsv = client_frame(0x1, true, b"x");
    rsv[0] |= 0x40;
    let mut huge = vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0];
    huge.extend([1, 2, 3, 4]);
    let mut too_big = vec![0x82, 0xff, 0, 0, 0, 0, 0x10, 0, 0, 0];
    too_big.extend([1, 2, 3, 4]);
    let both = |a: Vec<u8>, b: Vec<u8>| [a, b].concat();
    vec![
        (rsv, Error::ReservedBits, 1002),
        (client_frame(0x3, true, b""), Error::ReservedOpcode, 1002),
        (client_frame(0xB, true, b""), Error::ReservedOpcode, 1002),
        (frame(0x1, true, b"x", None), Error::UnmaskedFrame, 1002),
        (client_frame(0x9, true, &[0; 126]), Error::ControlFrameTooLong, 1002),
        (client_frame(0x9, false, b""), Error::FragmentedControlFrame, 1002),
        (client_frame(0x0, true, b"x"), Error::UnexpectedContinuation, 1002),
        (
            both(client_frame(0x1, false, b"a"), client_frame(0x2, true, b"b")),
            Error::ExpectedContinuation,
            1002,
        ),
        (huge, Error::LengthOverflow, 1002),
        (too_big, Error::FrameTooLarge, 1009),
        (
            client_frame(0x1, true, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
            Error::InvalidUtf8,
            1007,
        ),
        (both(client_frame(0x1, false, b"\xf0\x9f"), client_frame(0x0, true, b"")), Error::InvalidUtf8, 1007),
        (client_frame(0x8, true, b"\x03"), Error::InvalidCloseCode, 1002),
        (client_frame(0x8, true, b"\x03\xed"), Error::InvalidCloseCode, 1002),
        (client_frame(0x8, true, b"\x03\xe8\xff"), Error::InvalidUtf8, 1007),
    ]
}

#[test]
fn malformed_frames_get_their_close_code() {
    for (stream, error, code) in malformed_cases() {
        for chop in [1, 2, 5, usize::MAX] {
            let mut conn = server();
            let events = run(&mut conn, &stream, &[chop]);
            assert_eq!(events.last(), Some(&Ev::Err(error)), "{stream:x?} chop {chop}");
            assert_eq!(error.close_code(), Some(CloseCode(code)));
            let sent = transmit(&mut conn);
            assert_eq!(sent.len(), 1);
            assert_eq!(&sent[0][..4], &[0x88, sent[0][1], (code >> 8) as u8, code as u8]);
            assert!(conn.is_failed());
            assert_eq!(conn.send(Message::binary(b"x"), &mut [0u8; 16]), Err(Error::Closed));
        }
    }
}

#[test]
fn message_limit_is_1009_across_fragments() {
    let mut conn = Connection::server(Config { max_message_size: 4, ..Config::default() });
    let stream = [client_frame(0x2, false, b"abc"), client_frame(0x0, true, b"de")].concat();
    assert_eq!(run(&mut conn, &stream, &[100]), [Ev::Err(Error::MessageTooLarge)]);
}

#[test]
fn client_rejects_masked_frames_and_accepts_unmasked() {
    let mut conn = Connection::client(Config::default(), TestRng(1));
    assert_eq!(
        run(&mut conn, &frame(0x2, true, b"ok", None), &[1]),
        [Ev::Msg(DataKind::Binary, b"ok".to_vec())]
    );
    assert_eq!(run(&mut conn, &client_frame(0x2, true, b"no"), &[1]), [Ev::Err(Error::MaskedFrame)]);
}

#[test]
fn failed_connection_still_notices_the_peer_close() {
    let mut conn = server();
    let mut stream = client_frame(0x1, true, b"\xff bad");
    stream.extend(client_frame(0x1, true, b"ignored after the failure"));
    stream.extend(client_frame(0x9, true, b"no pong either"));
    stream.extend(client_frame(0x2, true, b"skipped"));
    stream.extend(client_frame(0x8, true, b"\x03\xef"));
    let (mut errors, mut seen_close) = (Vec::new(), false);
    for chunk in stream.chunks_mut(4) {
        let mut buf = chunk;
        while !buf.is_empty() {
            match conn.receive(buf) {
                Err(e) => {
                    errors.push(e);
                    break;
                }
                Ok((used, event)) => {
                    seen_close |= matches!(event, Some(Event::Close { code: Some(CloseCode(1007)), .. }));
                    assert!(!matches!(event, Some(Event::Data { .. } | Event::Ping(_))));
                    buf = &mut buf[used..];
                }
            }
        }
    }
    assert_eq!(errors, [Error::InvalidUtf8]);
    assert!(seen_close);
    assert_eq!(transmit(&mut conn).len(), 1);
    assert!(conn.is_closed());
}

#[test]
fn a_second_error_in_the_same_input_keeps_the_stream_in_sync() {
    // Found by fuzzing: two bad frames and the peer's close in one buffer. The close
    // must be noticed whether the bytes arrive together or one at a time.
    for chop in [usize::MAX, 1] {
        let mut conn = server();
        let stream =
            [frame(0x1, true, b"", None), frame(0x1, true, b"", None), client_frame(0x8, true, b"")].concat();
        let events = run(&mut conn, &stream, &[chop]);
        assert_eq!(events, [Ev::Err(Error::UnmaskedFrame)]);
        if chop == 1 {
            // `run` stops at the first error: feed the rest byte by byte.
            let header_len = 2;
            let mut rest = stream[header_len..].to_vec();
            for byte in rest.chunks_mut(1) {
                let _ = conn.receive(byte);
            }
        }
        assert!(conn.close_received(), "chop {chop}");
        assert_eq!(transmit(&mut conn), [b"\x88\x19\x03\xeaclient frame not masked".to_vec()]);
        assert!(conn.is_closed());
    }
}

#[test]
fn header_errors_end_parsing() {
    let mut conn = server();
    let stream = [client_frame(0x3, true, b""), client_frame(0x8, true, b"")].concat();
    assert_eq!(run(&mut conn, &stream, &[100]), [Ev::Err(Error::ReservedOpcode)]);
    assert_eq!(transmit(&mut conn).len(), 1);
    assert!(conn.is_closed(), "an unparseable stream ends the connection after our close");
}

#[test]
fn send_rules() {
    let mut conn = server();
    let mut tx = [0u8; 64];
    assert_eq!(conn.send(Message::Ping(&[0; 126]), &mut tx), Err(Error::InvalidSend));
    assert_eq!(conn.send(Message::binary(&[0; 63]), &mut tx), Err(Error::BufferTooSmall));
    assert_eq!(conn.send_fragment(DataKind::Text, b"He", false, &mut tx), Ok(4));
    assert_eq!(&tx[..4], b"\x01\x02He");
    assert_eq!(conn.send(Message::text("x"), &mut tx), Err(Error::InvalidSend));
    assert_eq!(conn.send_fragment(DataKind::Binary, b"x", true, &mut tx), Err(Error::InvalidSend));
    assert_eq!(conn.send(Message::Ping(b"p"), &mut tx), Ok(3));
    assert_eq!(conn.send_fragment(DataKind::Text, b"llo", true, &mut tx), Ok(5));
    assert_eq!(&tx[..5], b"\x80\x03llo");
    assert_eq!(conn.max_payload_for(64), 62);
    assert_eq!(conn.max_payload_for(1), 0);
    assert_eq!(Connection::client(Config::default(), TestRng(0)).max_payload_for(4096), 4096 - 8);
}

#[test]
fn client_masks_with_fresh_keys() {
    let mut conn = Connection::client(Config::default(), TestRng(42));
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    let n = conn.send(Message::text("Hello"), &mut a).unwrap();
    conn.send(Message::text("Hello"), &mut b).unwrap();
    assert_eq!(n, 11);
    assert_eq!(a[1], 0x85);
    assert_ne!(a[2..6], b[2..6], "each frame gets its own key");
    let mut srv = server();
    assert_eq!(run(&mut srv, &a[..n], &[1]), [Ev::Msg(DataKind::Text, b"Hello".to_vec())]);
    assert_eq!(conn.role(), Role::Client);
}

#[test]
fn a_16_mib_message_streams_through_a_small_buffer() {
    // 16 MiB binary in one masked frame, fed through a 512-byte window.
    let len = 16usize << 20;
    let mut conn = server();
    let header =
        FrameHeader { fin: true, rsv: 0, opcode: Opcode::Binary, mask: Some([1, 2, 3, 4]), len: len as u64 };
    let mut window = [0u8; 512];
    let n = header.encode(&mut window).unwrap();
    let (used, event) = conn.receive(&mut window[..n]).unwrap();
    assert_eq!((used, event), (n, None));
    let mut total = 0usize;
    let mut fins = 0;
    while total < len {
        let chunk = (len - total).min(window.len());
        for (i, b) in window[..chunk].iter_mut().enumerate() {
            *b = (((total + i) % 251) as u8) ^ [1, 2, 3, 4][(total + i) % 4];
        }
        let (used, event) = conn.receive(&mut window[..chunk]).unwrap();
        let Some(Event::Data { payload, fin, .. }) = event else { panic!("no data") };
        assert_eq!(used, chunk);
        assert!(payload.iter().enumerate().all(|(i, b)| *b == ((total + i) % 251) as u8));
        fins += usize::from(fin);
        total += chunk;
    }
    assert_eq!(fins, 1);
}

fn arb_message() -> impl Strategy<Value = (bool, Vec<u8>, Vec<usize>)> {
    // (text?, payload, fragment sizes)
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..300), prop::collection::vec(0usize..80, 1..5))
        .prop_map(|(text, bytes, frags)| {
            let payload =
                if text { String::from_utf8_lossy(&bytes).into_owned().into_bytes() } else { bytes };
            (text, payload, frags)
        })
}

/// Encodes messages with `send_fragment` from a client connection, with a ping between
/// fragments, and returns the wire bytes and the events a server must see.
fn encode(messages: &[(bool, Vec<u8>, Vec<usize>)], seed: u64) -> (Vec<u8>, Vec<Ev>) {
    let mut client = Connection::client(Config::default(), TestRng(seed));
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut tx = vec![0u8; 4096];
    for (text, payload, frags) in messages {
        let kind = if *text { DataKind::Text } else { DataKind::Binary };
        let mut rest = &payload[..];
        for (i, size) in frags.iter().enumerate() {
            let last = i + 1 == frags.len();
            let take = if last { rest.len() } else { (*size).min(rest.len()) };
            let n = client.send_fragment(kind, &rest[..take], last, &mut tx).unwrap();
            wire.extend_from_slice(&tx[..n]);
            rest = &rest[take..];
            if i == 0 && !last {
                let n = client.send(Message::Ping(b"mid"), &mut tx).unwrap();
                wire.extend_from_slice(&tx[..n]);
                expected.push(Ev::Ping(b"mid".to_vec()));
            }
        }
        expected.push(Ev::Msg(kind, payload.clone()));
    }
    (wire, expected)
}

proptest! {
    #[test]
    fn round_trip_any_messages_fragmentation_and_mask(messages in prop::collection::vec(arb_message(), 0..6), seed: u64) {
        let (wire, expected) = encode(&messages, seed);
        let mut server = server();
        prop_assert_eq!(run(&mut server, &wire, &[usize::MAX]), expected);
    }

    #[test]
    fn chop_invariance(messages in prop::collection::vec(arb_message(), 1..5), seed: u64, chops in prop::collection::vec(1usize..40, 1..8)) {
        let (mut wire, _) = encode(&messages, seed);
        wire.extend(client_frame(0x8, true, b"\x03\xe8done"));
        let whole = run(&mut server(), &wire, &[usize::MAX]);
        prop_assert_eq!(run(&mut server(), &wire, &chops), whole);
    }

    #[test]
    fn chop_invariance_of_errors(case in 0usize..15, prefix in prop::collection::vec(arb_message(), 0..2), chops in prop::collection::vec(1usize..20, 1..5)) {
        let (mut wire, _) = encode(&prefix, 3);
        let (bad, error, _) = malformed_cases().swap_remove(case);
        wire.extend(bad);
        let whole = run(&mut server(), &wire, &[usize::MAX]);
        prop_assert_eq!(whole.last(), Some(&Ev::Err(error)));
        prop_assert_eq!(run(&mut server(), &wire, &chops), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_consume_progressively(bytes in prop::collection::vec(any::<u8>(), 0..400), chops in prop::collection::vec(1usize..50, 1..5)) {
        let mut conn = server();
        let _ = run(&mut conn, &bytes, &chops);
        let _ = transmit(&mut conn);
        let mut client = Connection::client(Config::default(), TestRng(9));
        let _ = run(&mut client, &bytes, &chops);
    }
}
