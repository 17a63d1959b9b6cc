//! The closing handshake, and what a failure does to it.

use super::receive::malformed_cases;
use super::*;
use crate::{CloseCode, CloseFrame, Message};

#[test]
fn close_handshake_initiated_by_peer_echoes_code_and_reason() {
    let mut conn = server();
    let events = run(&mut conn, &client_frame(0x8, true, b"\x0f\xa0bye"), &[3]);
    assert_eq!(events, [Ev::Close(Some(4000), "bye".into())]);
    assert!(conn.close_received() && !conn.is_closed());
    assert_eq!(transmit(&mut conn), [b"\x88\x05\x0f\xa0bye".to_vec()]);
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
    // Data still arrives until the peer answers; no second close goes out.
    let answer = [client_frame(0x2, true, b"late"), client_frame(0x8, true, b"\x03\xe9")].concat();
    assert_eq!(
        run(&mut conn, &answer, &[64]),
        [Ev::Msg(DataKind::Binary, b"late".to_vec()), Ev::Close(Some(1001), String::new())]
    );
    assert_eq!(transmit(&mut conn), Vec::<Vec<u8>>::new());
    assert!(conn.is_closed());
    assert_eq!(conn.close(CloseCode(1005), ""), Err(Error::Closed));
    assert_eq!(server().close(CloseCode(1005), ""), Err(Error::InvalidSend));
    assert_eq!(server().close(CloseCode::NORMAL, &"x".repeat(124)), Err(Error::InvalidSend));
}

#[test]
fn failed_connection_still_notices_the_peer_close() {
    let mut stream = client_frame(0x1, true, b"\xff bad");
    stream.extend(client_frame(0x1, true, b"ignored after the failure"));
    stream.extend(client_frame(0x9, true, b"no pong either"));
    stream.extend(frame(0x2, true, b"unmasked: no second error", None));
    stream.extend(client_frame(0x8, true, b"\x03\xef"));
    for chop in [1, 4, usize::MAX] {
        let mut conn = server();
        let events = run(&mut conn, &stream, &[chop]);
        assert_eq!(
            events,
            [Ev::Err(Error::InvalidUtf8), Ev::Close(Some(1007), String::new())],
            "chop {chop}"
        );
        assert_eq!(transmit(&mut conn).len(), 1);
        assert!(conn.is_closed());
    }
}

#[test]
fn the_first_error_s_code_stands_across_calls() {
    // Text 0xff (1007), then an unmasked empty binary frame (1002): fed whole or split
    // after byte 7, the queued close says 1007.
    let wire = [0x81, 0x81, 0x01, 0x02, 0x03, 0x04, 0xfe, 0x82, 0x00];
    for split in [wire.len(), 7] {
        let mut conn = server();
        let mut rx = wire;
        let (used, event) = conn.receive(&mut rx[..split]);
        assert_eq!((used, event), (7, Err(Error::InvalidUtf8)));
        let (used, event) = conn.receive(&mut rx[7..]);
        assert_eq!((used, event), (2, Ok(None)), "a later error is not reported");
        let sent = transmit(&mut conn);
        assert_eq!(&sent[0][2..4], &[0x03, 0xef], "split {split}");
    }
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
        assert_eq!(events, [Ev::Err(Error::UnmaskedFrame), Ev::Close(None, String::new())]);
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
fn every_malformed_case_is_reported_once() {
    for (bad, error, _) in malformed_cases() {
        let stream = [bad.clone(), bad, client_frame(0x8, true, b"")].concat();
        let events = run(&mut server(), &stream, &[usize::MAX]);
        assert_eq!(events.iter().filter(|e| matches!(e, Ev::Err(_))).count(), 1, "{error:?}: {events:?}");
    }
}

#[test]
fn a_pong_that_does_not_fit_does_not_hold_back_the_close() {
    let mut conn = server();
    let stream = [client_frame(0x9, true, &[7; 125]), client_frame(0x8, true, b"\x03\xe8")].concat();
    assert_eq!(run(&mut conn, &stream, &[usize::MAX]).len(), 2);
    let mut small = [0u8; 64];
    let n = conn.poll_transmit(&mut small).unwrap();
    assert_eq!(&small[..n], b"\x88\x02\x03\xe8");
    assert!(conn.is_closed());

    // Without a close behind it, a pong that does not fit is an error and stays queued.
    let mut conn = server();
    run(&mut conn, &client_frame(0x9, true, &[7; 125]), &[usize::MAX]);
    assert_eq!(conn.poll_transmit(&mut small), Err(Error::BufferTooSmall));
    assert!(conn.wants_transmit());
    assert_eq!(transmit(&mut conn).len(), 1);
}

#[test]
fn a_close_message_is_sent_after_the_pong_owed() {
    let mut conn = server();
    run(&mut conn, &client_frame(0x9, true, b"p"), &[usize::MAX]);
    let mut tx = [0u8; 64];
    let frame = CloseFrame { code: CloseCode(4000), reason: "bye" };
    let n = conn.send(Message::Close(Some(frame)), &mut tx).unwrap();
    assert_eq!(&tx[..n], b"\x8a\x01p\x88\x05\x0f\xa0bye");
    assert!(conn.close_sent());
    assert_eq!(conn.send(Message::Close(None), &mut tx), Err(Error::Closed));
    // A codeless close is an empty close frame.
    let mut conn = server();
    let n = conn.send(Message::Close(None), &mut tx).unwrap();
    assert_eq!(&tx[..n], b"\x88\x00");
    let bad = CloseFrame { code: CloseCode(1005), reason: "" };
    assert_eq!(server().send(Message::Close(Some(bad)), &mut tx), Err(Error::InvalidSend));
}

#[test]
fn the_application_fails_a_message_too_large_for_it() {
    let mut conn = server();
    let stream =
        [client_frame(0x2, false, b"abc"), client_frame(0x0, true, b"def"), client_frame(0x8, true, b"")]
            .concat();
    let mut rx = stream.clone();
    let (used, event) = conn.receive(&mut rx);
    assert!(matches!(event, Ok(Some(Event::Data { .. }))));
    assert!(conn.fail(Error::MessageTooLarge));
    assert!(!conn.fail(Error::MessageTooLarge), "only the first failure counts");
    assert_eq!(run(&mut conn, &stream[used..], &[usize::MAX]), [Ev::Close(None, String::new())]);
    assert_eq!(&transmit(&mut conn)[0][2..4], &[0x03, 0xf1], "1009");
}
