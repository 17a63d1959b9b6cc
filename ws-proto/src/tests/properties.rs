//! Properties over arbitrary messages, fragmentations, masks and chunkings.

use proptest::prelude::*;

use super::receive::malformed_cases;
use super::*;
use crate::Message;

fn arb_message() -> impl Strategy<Value = (bool, Vec<u8>, Vec<usize>)> {
    // (text?, payload, fragment sizes)
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..300), prop::collection::vec(0usize..80, 1..5))
        .prop_map(|(text, bytes, frags)| {
            let payload =
                if text { String::from_utf8_lossy(&bytes).into_owned().into_bytes() } else { bytes };
            (text, payload, frags)
        })
}

/// Encodes messages from a client connection, by `send_fragment` or (odd seeds)
/// `start_frame` + `write_payload`, with a ping between fragments, and returns the wire
/// bytes and the events a server must see.
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
            if seed % 2 == 1 {
                let n = client.start_frame(kind, take as u64, last, &mut tx).unwrap();
                wire.extend_from_slice(&tx[..n]);
                for piece in rest[..take].chunks(7) {
                    let n = client.write_payload(piece, &mut tx).unwrap();
                    wire.extend_from_slice(&tx[..n]);
                }
            } else {
                let n = client.send_fragment(kind, &rest[..take], last, &mut tx).unwrap();
                wire.extend_from_slice(&tx[..n]);
            }
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
    fn chop_invariance_of_errors(case in 0usize..15, prefix in prop::collection::vec(arb_message(), 0..2), suffix in prop::collection::vec(arb_message(), 0..2), chops in prop::collection::vec(1usize..20, 1..5)) {
        let (mut wire, _) = encode(&prefix, 3);
        let (bad, error, _) = malformed_cases().swap_remove(case);
        wire.extend(bad);
        wire.extend(encode(&suffix, 4).0);
        wire.extend(client_frame(0x8, true, b"\x03\xe8"));
        let whole = run(&mut server(), &wire, &[usize::MAX]);
        prop_assert!(whole.contains(&Ev::Err(error)));
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
