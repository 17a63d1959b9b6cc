//! Sending: whole messages, fragments, frames streamed in pieces, masking.

use super::*;
use crate::{CloseCode, Message, Role};

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

/// Streams `payload` as one frame through a `tx_len`-byte buffer; returns the wire bytes.
fn stream_frame<R: rand_core::RngCore>(
    conn: &mut Connection<R>,
    kind: DataKind,
    payload: &[u8],
    fin: bool,
    tx_len: usize,
) -> Vec<u8> {
    let mut tx = vec![0u8; tx_len];
    let mut wire = Vec::new();
    let n = conn.start_frame(kind, payload.len() as u64, fin, &mut tx).unwrap();
    wire.extend_from_slice(&tx[..n]);
    let mut rest = payload;
    while !rest.is_empty() {
        let n = conn.write_payload(rest, &mut tx).unwrap();
        assert_eq!(n, rest.len().min(tx_len));
        wire.extend_from_slice(&tx[..n]);
        rest = &rest[n..];
    }
    assert_eq!(conn.payload_remaining(), 0);
    wire
}

#[test]
fn a_frame_of_any_size_streams_out_as_one_frame() {
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for role in [Role::Server, Role::Client] {
        let wire = match role {
            Role::Server => stream_frame(&mut server(), DataKind::Binary, &payload, true, 100),
            Role::Client => stream_frame(
                &mut Connection::client(Config::default(), TestRng(5)),
                DataKind::Binary,
                &payload,
                true,
                100,
            ),
        };
        let (header, n) = FrameHeader::decode(&wire).unwrap().unwrap();
        assert_eq!((header.fin, header.len, header.mask.is_some()), (true, 100_000, role == Role::Client));
        let events = match role {
            Role::Client => run(&mut server(), &wire, &[77]),
            Role::Server => run(&mut Connection::client(Config::default(), TestRng(1)), &wire, &[77]),
        };
        assert_eq!(events, [Ev::Msg(DataKind::Binary, payload.clone())]);
        assert_eq!(wire.len(), n + payload.len());
    }
}

#[test]
fn a_streamed_frame_cannot_be_interrupted() {
    let mut conn = server();
    let mut tx = [0u8; 64];
    assert_eq!(conn.write_payload(b"x", &mut tx), Err(Error::InvalidSend), "no frame started");
    assert_eq!(conn.write_payload(b"", &mut tx), Ok(0), "nothing is never too much");
    conn.start_frame(DataKind::Text, 4, false, &mut tx).unwrap();
    // A ping arrives mid-frame: its pong waits for the frame to end.
    run(&mut conn, &client_frame(0x9, true, b"p"), &[usize::MAX]);
    assert_eq!(conn.poll_transmit(&mut tx), Ok(0));
    assert!(!conn.wants_transmit());
    assert_eq!(conn.send(Message::Ping(b"x"), &mut tx), Err(Error::InvalidSend));
    assert_eq!(conn.send_fragment(DataKind::Text, b"x", true, &mut tx), Err(Error::InvalidSend));
    assert_eq!(conn.write_payload(b"12345", &mut tx), Err(Error::InvalidSend), "more than announced");
    assert_eq!(conn.write_payload(b"12", &mut tx), Ok(2));
    conn.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(conn.write_payload(b"34", &mut tx), Ok(2), "a started frame may be finished while closing");
    assert_eq!(transmit(&mut conn), [b"\x8a\x01p".to_vec(), b"\x88\x02\x03\xe8".to_vec()]);
}

#[test]
fn streamed_frames_follow_the_fragmentation_rules() {
    let mut conn = server();
    let first = stream_frame(&mut conn, DataKind::Text, b"Hel", false, 16);
    assert_eq!(first, b"\x01\x03Hel");
    assert_eq!(conn.start_frame(DataKind::Binary, 1, true, &mut [0u8; 16]), Err(Error::InvalidSend));
    let empty = stream_frame(&mut conn, DataKind::Text, b"", false, 16);
    assert_eq!(empty, b"\x00\x00");
    let last = stream_frame(&mut conn, DataKind::Text, b"lo", true, 16);
    assert_eq!(last, b"\x80\x02lo");
    assert_eq!(conn.send(Message::text("next"), &mut [0u8; 16]), Ok(6));
}
