//! RFC 6455 §5.7 examples, byte for byte: decoded by the role that receives each, and
//! encoded by the role that sends it.

use ws_proto::frame::{FrameHeader, Opcode};
use ws_proto::{Config, Connection, DataKind, Event, Message};

use crate::check::Outcome;
use crate::rng::FixedKey;
use crate::stream::pattern;

/// The masking key of the RFC's masked examples.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A single-frame unmasked text message ("Hello"), server to client.
const HELLO: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
/// A single-frame masked text message ("Hello"), client to server.
const MASKED_HELLO: [u8; 11] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// A fragmented unmasked text message: "Hel", then "lo".
const HEL: [u8; 5] = [0x01, 0x03, 0x48, 0x65, 0x6c];
const LO: [u8; 4] = [0x80, 0x02, 0x6c, 0x6f];
/// Unmasked ping with "Hello", server to client.
const PING: [u8; 7] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
/// Masked pong with "Hello" (the answer to it), client to server.
const MASKED_PONG: [u8; 11] = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// Headers of the 256-byte and the 64 KiB binary messages in single unmasked frames.
const BINARY_256: [u8; 4] = [0x82, 0x7e, 0x01, 0x00];
const BINARY_64K: [u8; 10] = [0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];

/// Every example, decoded by a `Connection` of the receiving role.
pub fn decode() -> Outcome {
    let config = Config::default();

    // Client to server: masked.
    let mut server = Connection::server(config);
    let mut wire = MASKED_HELLO;
    let (used, event) = server.receive(&mut wire);
    let event = event?;
    check!(used == MASKED_HELLO.len());
    check!(matches!(event, Some(Event::Data { kind: DataKind::Text, payload: b"Hello", fin: true, .. })));
    let mut wire = MASKED_PONG;
    let (used, event) = server.receive(&mut wire);
    let event = event?;
    check!(used == MASKED_PONG.len());
    check!(matches!(event, Some(Event::Pong(p)) if p == b"Hello"));
    check!(!server.wants_transmit());

    // Server to client: unmasked; the two fragments arrive in one read.
    let mut client = Connection::client(config, FixedKey(KEY));
    let mut wire = HELLO;
    let (used, event) = client.receive(&mut wire);
    let event = event?;
    check!(used == HELLO.len());
    check!(matches!(event, Some(Event::Data { kind: DataKind::Text, payload: b"Hello", fin: true, .. })));
    let mut wire = [0u8; HEL.len() + LO.len()];
    wire[..HEL.len()].copy_from_slice(&HEL);
    wire[HEL.len()..].copy_from_slice(&LO);
    let (used, event) = client.receive(&mut wire);
    let event = event?;
    check!(used == HEL.len());
    check!(matches!(event, Some(Event::Data { kind: DataKind::Text, payload: b"Hel", fin: false, .. })));
    let (used, event) = client.receive(&mut wire[HEL.len()..]);
    let event = event?;
    check!(used == LO.len());
    check!(matches!(event, Some(Event::Data { kind: DataKind::Text, payload: b"lo", fin: true, .. })));

    // The ping is answered with the RFC's masked pong (the client masks with its key).
    let mut wire = PING;
    let (used, event) = client.receive(&mut wire);
    let event = event?;
    check!(used == PING.len());
    check!(matches!(event, Some(Event::Ping(p)) if p == b"Hello"));
    let mut tx = [0u8; 131];
    let n = client.poll_transmit(&mut tx)?;
    check_eq!(tx[..n], MASKED_PONG[..]);

    // 256 bytes of binary in one frame.
    let mut wire = [0u8; BINARY_256.len() + 256];
    wire[..BINARY_256.len()].copy_from_slice(&BINARY_256);
    for (i, b) in wire[BINARY_256.len()..].iter_mut().enumerate() {
        *b = pattern(i);
    }
    let (used, event) = client.receive(&mut wire);
    let event = event?;
    check!(used == BINARY_256.len() + 256);
    let Some(Event::Data { kind: DataKind::Binary, payload, fin: true, .. }) = event else {
        fail!("256-byte binary frame not delivered whole");
    };
    check!(payload.len() == 256 && payload.iter().enumerate().all(|(i, &b)| b == pattern(i)));

    // 64 KiB of binary in one frame, through a 512-byte window.
    let mut window = [0u8; 512];
    window[..BINARY_64K.len()].copy_from_slice(&BINARY_64K);
    let (used, event) = client.receive(&mut window[..BINARY_64K.len()]);
    let event = event?;
    check!(used == BINARY_64K.len() && event.is_none());
    let mut received = 0;
    let mut fins = 0;
    while received < 1 << 16 {
        for (i, b) in window.iter_mut().enumerate() {
            *b = pattern(received + i);
        }
        let (used, event) = client.receive(&mut window);
        let event = event?;
        check!(used == 512);
        let Some(Event::Data { kind: DataKind::Binary, payload, fin, .. }) = event else {
            fail!("64 KiB frame: chunk not delivered");
        };
        check!(payload.iter().enumerate().all(|(i, &b)| b == pattern(received + i)));
        received += payload.len();
        fins += usize::from(fin);
        check!(fin == (received == 1 << 16));
    }
    check!(received == 1 << 16 && fins == 1);
    check!(!client.is_failed() && !server.is_failed());
    Ok(())
}

/// The examples each role sends, encoded by `Connection::send` and by `FrameHeader`.
pub fn encode() -> Outcome {
    let config = Config::default();
    let mut tx = [0u8; 512];

    // Server: unmasked.
    let mut server = Connection::server(config);
    let n = server.send(Message::text("Hello"), &mut tx)?;
    check_eq!(tx[..n], HELLO[..]);
    let n = server.send_fragment(DataKind::Text, b"Hel", false, &mut tx)?;
    check_eq!(tx[..n], HEL[..]);
    let n = server.send_fragment(DataKind::Text, b"lo", true, &mut tx)?;
    check_eq!(tx[..n], LO[..]);
    let n = server.send(Message::Ping(b"Hello"), &mut tx)?;
    check_eq!(tx[..n], PING[..]);
    let payload = [0u8; 256];
    let n = server.send(Message::binary(&payload), &mut tx)?;
    check!(n == BINARY_256.len() + 256);
    check_eq!(tx[..BINARY_256.len()], BINARY_256[..]);

    // The masked example from its parts: header, then the payload masked in place.
    let header = FrameHeader { fin: true, rsv: 0, opcode: Opcode::Text, mask: Some(KEY), len: 5 };
    let n = header.encode(&mut tx)?;
    check!(n == header.encoded_len());
    tx[n..n + 5].copy_from_slice(b"Hello");
    for (i, b) in tx[n..n + 5].iter_mut().enumerate() {
        *b ^= KEY[i % 4];
    }
    check_eq!(tx[..n + 5], MASKED_HELLO[..]);

    // The same from a client whose key source gives the RFC's key.
    let mut client = Connection::client(config, FixedKey(KEY));
    let n = client.send(Message::text("Hello"), &mut tx)?;
    check_eq!(tx[..n], MASKED_HELLO[..]);
    let n = client.send(Message::Pong(b"Hello"), &mut tx)?;
    check_eq!(tx[..n], MASKED_PONG[..]);

    // The 64 KiB header needs the 64-bit length form.
    let header = FrameHeader { fin: true, rsv: 0, opcode: Opcode::Binary, mask: None, len: 1 << 16 };
    let n = header.encode(&mut tx)?;
    check_eq!(tx[..n], BINARY_64K[..]);
    Ok(())
}
