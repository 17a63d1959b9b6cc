//! Receiving: RFC 6455 examples, malformed frames and their close codes, limits, the
//! frame information on data chunks, and the leftovers a caller must keep.

use super::*;
use crate::{CloseCode, FrameInfo, Message};

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

/// (frames as the client sends them, the error, the close code it must get)
pub(super) fn malformed_cases() -> Vec<(Vec<u8>, Error, u16)> {
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
    let mut conn = Connection::server(Config::default().max_message_size(4));
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
fn every_frame_gives_a_chunk_with_its_frame() {
    let mut rx =
        [client_frame(0x2, false, b"abcdef"), client_frame(0x0, false, b""), client_frame(0x0, true, b"gh")]
            .concat();
    let mut conn = server();
    let mut chunks = Vec::new();
    // The first frame's header and three of its payload bytes, then the rest.
    let len = rx.len();
    for part in [0..9, 9..len] {
        let mut start = part.start;
        loop {
            let (used, event) = conn.receive(&mut rx[start..part.end]);
            start += used;
            match event.unwrap() {
                Some(Event::Data { payload, fin, .. }) => {
                    chunks.push((payload.to_vec(), fin, conn.last_frame()))
                }
                Some(other) => panic!("{other:?}"),
                None => break,
            }
        }
    }
    let info = |len, offset, fin| FrameInfo { len, offset, fin, ..FrameInfo::default() };
    assert_eq!(
        chunks,
        [
            (b"abc".to_vec(), false, info(6, 0, false)),
            (b"def".to_vec(), false, info(6, 3, false)),
            (b"".to_vec(), false, info(0, 0, false)),
            (b"gh".to_vec(), true, info(2, 0, true)),
        ]
    );
}

#[test]
fn partial_headers_and_control_frames_are_left_for_the_next_call() {
    let mut conn = server();
    let ping = client_frame(0x9, true, b"0123456789");
    let mut rx = ping.clone();
    for cut in 0..ping.len() {
        assert_eq!(conn.receive(&mut rx[..cut]), (0, Ok(None)), "cut {cut}");
    }
    let (used, event) = conn.receive(&mut rx);
    assert_eq!((used, event), (ping.len(), Ok(Some(Event::Ping(b"0123456789")))));
    // A data frame's payload streams: only its header must be whole.
    let mut data = client_frame(0x2, true, b"xyz");
    assert_eq!(conn.receive(&mut data[..5]), (0, Ok(None)));
    let (used, event) = conn.receive(&mut data[..7]);
    assert_eq!(used, 7);
    assert!(matches!(event, Ok(Some(Event::Data { payload: b"x", fin: false, .. }))));
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
    let (used, event) = conn.receive(&mut window[..n]);
    assert_eq!((used, event), (n, Ok(None)));
    let mut total = 0usize;
    let mut fins = 0;
    while total < len {
        let chunk = (len - total).min(window.len());
        for (i, b) in window[..chunk].iter_mut().enumerate() {
            *b = (((total + i) % 251) as u8) ^ [1, 2, 3, 4][(total + i) % 4];
        }
        let (used, event) = conn.receive(&mut window[..chunk]);
        let Ok(Some(Event::Data { payload, fin, .. })) = event else { panic!("no data") };
        let frame = conn.last_frame();
        assert_eq!((used, frame.offset, frame.len), (chunk, total as u64, len as u64));
        assert!(payload.iter().enumerate().all(|(i, b)| *b == ((total + i) % 251) as u8));
        fins += usize::from(fin);
        total += chunk;
    }
    assert_eq!(fins, 1);
}
