//! permessage-deflate on the wire: compressed messages sent by one connection and
//! received by another in any chopping, cross-checked against zlib (flate2), the RSV1
//! rules, bad and oversized compressed data.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use proptest::prelude::*;

use super::{client_frame, Ev, TestRng, MAX_LEFT};
use crate::deflate::{Compress as _, Compressor, Deflate, DeflateConfig, Inflater};
use crate::handshake::Request;
use crate::{Config, Connection, DataKind, Error, Event, NoRng};

/// The agreement a server reaches on `offer`.
fn agree(offer: &str, config: DeflateConfig) -> Deflate {
    let head = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    let request = Request::parse(head.as_bytes(), &Config::default()).unwrap().unwrap();
    request.deflate(&config).expect("accepted")
}

fn server_with(deflate: Deflate) -> Connection<NoRng> {
    let mut server = Connection::server(Config::default());
    server.set_deflate(Some(deflate));
    server
}

/// Feeds `stream` chopped as given through `receive_with`, keeping unconsumed bytes as a
/// caller must; collects whole messages and other events.
fn run<W: AsRef<[u8]> + AsMut<[u8]>>(
    conn: &mut Connection<NoRng>,
    inflater: &mut Inflater<W>,
    stream: &[u8],
    chops: &[usize],
) -> Vec<Ev> {
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
            let len = buf.len();
            let (used, event) = conn.receive_with(buf, Some(&mut *inflater));
            assert!(used <= len);
            start += used;
            match event {
                Err(e) => events.push(Ev::Err(e)),
                Ok(None) => {
                    assert!(len - used <= MAX_LEFT, "{} bytes left unconsumed", len - used);
                    break;
                }
                Ok(Some(Event::Data { kind, payload, fin, .. })) => {
                    let p = partial.get_or_insert((kind, Vec::new()));
                    assert_eq!(p.0, kind);
                    p.1.extend_from_slice(payload);
                    if fin {
                        let (k, m) = partial.take().unwrap();
                        events.push(Ev::Msg(k, m));
                    }
                }
                Ok(Some(Event::Ping(p))) => events.push(Ev::Ping(p.to_vec())),
                Ok(Some(Event::Pong(p))) => events.push(Ev::Pong(p.to_vec())),
                Ok(Some(Event::Close { code, reason })) => {
                    events.push(Ev::Close(code.map(|c| c.0), reason.to_owned()))
                }
            }
        }
        pending.drain(..start);
    }
    events
}

/// A client sending `messages` compressed through `compressor` in `tx`-sized frames.
fn client_stream<C: crate::deflate::Compress>(
    deflate: Deflate,
    compressor: &mut C,
    messages: &[(DataKind, Vec<u8>)],
    tx_len: usize,
    piece: usize,
) -> Vec<u8> {
    let client_side = client_view(deflate);
    let mut client = Connection::client(Config::default(), TestRng(7));
    client.set_deflate(Some(client_side));
    let mut wire = Vec::new();
    let mut tx = vec![0u8; tx_len];
    for (kind, message) in messages {
        // In pieces of `piece` bytes, as a message streamed out while it is made.
        let pieces: Vec<&[u8]> =
            if message.is_empty() { vec![&message[..]] } else { message.chunks(piece).collect() };
        for (i, piece) in pieces.iter().enumerate() {
            let fin = i + 1 == pieces.len();
            let mut rest = *piece;
            loop {
                let done = client.send_compressed(compressor, *kind, rest, fin, &mut tx).unwrap();
                wire.extend_from_slice(&tx[..done.written]);
                rest = &rest[done.taken..];
                if done.finished || (!fin && rest.is_empty()) {
                    break;
                }
            }
            assert!(rest.is_empty());
        }
    }
    wire
}

/// The same agreement seen from the client: what the server's answer gives it.
fn client_view(server: Deflate) -> Deflate {
    let mut out = [0u8; 256];
    let mut w = crate::handshake::Writer::new(&mut out);
    server.write_response(&mut w).unwrap();
    let n = w.pos;
    DeflateConfig::new().accept_response([&out[..n]].into_iter()).unwrap().unwrap()
}

/// Text that does not compress: zlib sends it in stored blocks.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            b'!' + ((x >> 33) % 90) as u8
        })
        .collect()
}

fn json(n: usize, seed: u64) -> Vec<u8> {
    let mut s = String::from("[");
    let mut x = seed;
    while s.len() < n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s.push_str(&format!(
            "{{\"id\":{},\"name\":\"sensor-{}\",\"value\":{}.{},\"ok\":{}}},",
            x >> 50,
            (x >> 40) % 97,
            (x >> 20) % 1000,
            x % 100,
            x & 1 == 0
        ));
    }
    s.truncate(n);
    s.into_bytes()
}

#[test]
fn compressed_messages_round_trip_at_every_window() {
    for bits in 8..=15u8 {
        for takeover in [true, false] {
            let mut offer = format!("permessage-deflate; client_max_window_bits={bits}");
            if !takeover {
                offer.push_str("; client_no_context_takeover");
            }
            let deflate = agree(&offer, DeflateConfig::new());
            assert_eq!(deflate.receive_window_bits(), bits);
            let messages: Vec<(DataKind, Vec<u8>)> = vec![
                (DataKind::Text, json(3000, 1)),
                (DataKind::Text, Vec::new()),
                (DataKind::Binary, (0..70_000u32).map(|i| (i % 251) as u8).collect()),
                (DataKind::Text, json(20, 2)),
                (DataKind::Text, "héllo wörld 😀".repeat(50).into_bytes()),
            ];
            let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(bits)];
            let mut compressor = Compressor::new(&mut storage[..], bits, !takeover).unwrap();
            let wire = client_stream(deflate, &mut compressor, &messages, 1000, 700);
            for chops in [&[usize::MAX][..], &[1], &[7, 300, 13]] {
                let mut server = server_with(deflate);
                let mut inflater = Inflater::new(vec![0u8; 1 << bits]);
                let got = run(&mut server, &mut inflater, &wire, chops);
                let want: Vec<Ev> = messages.iter().map(|(k, m)| Ev::Msg(*k, m.clone())).collect();
                assert_eq!(got, want, "window {bits}, takeover {takeover}, chops {chops:?}");
            }
        }
    }
}

/// Raw DEFLATE from zlib with a sync flush per message, its tail removed.
fn zlib_messages(messages: &[&[u8]], bits: u8, takeover: bool) -> Vec<Vec<u8>> {
    let mut z = Compress::new_with_window_bits(Compression::new(6), false, bits.max(9));
    messages
        .iter()
        .map(|m| {
            if !takeover {
                z.reset();
            }
            let mut out = Vec::with_capacity(m.len() + 64);
            let before = z.total_in();
            loop {
                let taken = (z.total_in() - before) as usize;
                out.reserve(64);
                z.compress_vec(&m[taken..], &mut out, FlushCompress::Sync).unwrap();
                if (z.total_in() - before) as usize == m.len() && out.ends_with(&[0, 0, 0xff, 0xff]) {
                    break;
                }
            }
            out.truncate(out.len() - 4);
            out
        })
        .collect()
}

#[test]
fn zlib_compressed_messages_inflate() {
    for bits in 9..=15u8 {
        for takeover in [true, false] {
            let texts = [json(5000, 3), json(100, 4), json(5000, 3), noise(70_000, 5), json(40_000, 6)];
            let refs: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
            let compressed = zlib_messages(&refs, bits, takeover);
            let mut wire = Vec::new();
            for c in &compressed {
                let mut f = client_frame(0x1, true, c);
                // RSV1: compressed.
                f[0] |= 0x40;
                wire.extend_from_slice(&f);
            }
            let offer = if takeover {
                format!("permessage-deflate; client_max_window_bits={bits}")
            } else {
                format!("permessage-deflate; client_max_window_bits={bits}; client_no_context_takeover")
            };
            let deflate = agree(&offer, DeflateConfig::new());
            let mut server = server_with(deflate);
            let mut inflater = Inflater::new(vec![0u8; 1 << bits]);
            let got = run(&mut server, &mut inflater, &wire, &[4096]);
            let want: Vec<Ev> = texts.iter().map(|t| Ev::Msg(DataKind::Text, t.clone())).collect();
            assert!(
                got == want,
                "window {bits}, takeover {takeover}: {:?}",
                got.iter()
                    .map(|e| match e {
                        Ev::Msg(_, m) => m.len(),
                        _ => 0,
                    })
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// Inflates one message with zlib (the tail put back), as a peer would.
fn zlib_inflate(z: &mut Decompress, compressed: &[u8]) -> Vec<u8> {
    let mut input = compressed.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 16);
    let before = z.total_in();
    loop {
        let taken = (z.total_in() - before) as usize;
        if taken == input.len() {
            return out;
        }
        out.reserve(1 << 16);
        z.decompress_vec(&input[taken..], &mut out, FlushDecompress::Sync).unwrap();
    }
}

#[test]
fn our_compressed_messages_inflate_in_zlib_within_the_window() {
    // zlib refuses 8-bit raw windows; 9 up is what a zlib peer can ask for.
    for bits in 9..=15u8 {
        let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(bits)];
        let mut compressor = Compressor::new(&mut storage[..], bits, false).unwrap();
        let mut z = Decompress::new_with_window_bits(false, bits);
        for seed in 0..5 {
            let message = json(20_000 + seed as usize * 1000, seed);
            let mut out = vec![0u8; message.len() + 1024];
            let done = compressor.compress(&message, &mut out, true).unwrap();
            assert!(done.finished && done.taken == message.len());
            assert_eq!(zlib_inflate(&mut z, &out[..done.written]), message, "window {bits}");
        }
    }
}

#[test]
fn json_compresses_well() {
    let message = json(64 << 10, 9);
    let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(15)];
    let mut compressor = Compressor::new(&mut storage[..], 15, false).unwrap();
    let mut out = vec![0u8; message.len()];
    let ours = compressor.compress(&message, &mut out, true).unwrap().written;
    let zlib = zlib_messages(&[&message], 15, true)[0].len();
    // Fixed codes and greedy matching (the device's compressor): within 1.8 times zlib
    // level 6's size on JSON, and under a third of the input.
    assert!(ours * 10 < zlib * 18, "ours {ours} B, zlib {zlib} B of {} B", message.len());
    assert!(ours * 3 < message.len());
}

#[test]
fn rsv1_is_refused_where_rfc_7692_forbids_it() {
    let deflate = agree("permessage-deflate", DeflateConfig::new());
    let with_rsv1 = |opcode: u8, fin: bool, payload: &[u8]| {
        let mut f = client_frame(opcode, fin, payload);
        f[0] |= 0x40;
        f
    };
    // On a control frame.
    let mut server = server_with(deflate);
    let mut inflater = Inflater::new(vec![0u8; 1 << 15]);
    let got = run(&mut server, &mut inflater, &with_rsv1(0x9, true, b"x"), &[usize::MAX]);
    assert_eq!(got.first(), Some(&Ev::Err(Error::ReservedBits)));
    // On a continuation.
    let mut wire = with_rsv1(0x1, false, &[0xf2, 0x48]);
    wire.extend(with_rsv1(0x0, true, &[0xcd, 0xc9, 0xc9, 0x07, 0x00]));
    let mut server = server_with(deflate);
    let got = run(&mut server, &mut Inflater::new(vec![0u8; 1 << 15]), &wire, &[usize::MAX]);
    assert_eq!(got.first(), Some(&Ev::Err(Error::ReservedBits)));
    // Without an agreement.
    let mut server = Connection::server(Config::default());
    let got = super::run(
        &mut server,
        &with_rsv1(0x1, true, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
        &[usize::MAX],
    );
    assert_eq!(got.first(), Some(&Ev::Err(Error::ReservedBits)));
    // RFC 7692 §7.2.3.1 and §7.2.3.3: "Hello" compressed, and as a stored block, arrive.
    let mut wire = with_rsv1(0x1, true, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    wire.extend(with_rsv1(0x1, true, &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]));
    let mut server = server_with(deflate);
    let got = run(&mut server, &mut Inflater::new(vec![0u8; 1 << 15]), &wire, &[1]);
    assert_eq!(
        got,
        vec![Ev::Msg(DataKind::Text, b"Hello".to_vec()), Ev::Msg(DataKind::Text, b"Hello".to_vec())]
    );
}

#[test]
fn bad_compressed_data_and_bad_inflated_text_get_1007() {
    let deflate = agree("permessage-deflate", DeflateConfig::new());
    // Block type 3 does not exist.
    let mut f = client_frame(0x2, true, &[0xff, 0xff, 0xff]);
    f[0] |= 0x40;
    let mut server = server_with(deflate);
    let got = run(&mut server, &mut Inflater::new(vec![0u8; 1 << 15]), &f, &[usize::MAX]);
    assert_eq!(got.first(), Some(&Ev::Err(Error::InvalidCompressedData)));
    assert_eq!(Error::InvalidCompressedData.close_code().map(|c| c.0), Some(1007));
    // Valid DEFLATE, invalid UTF-8 once inflated.
    let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(15)];
    let mut compressor = Compressor::new(&mut storage[..], 15, false).unwrap();
    let wire =
        client_stream(deflate, &mut compressor, &[(DataKind::Text, b"ok \xff\xfe not".to_vec())], 256, 4);
    let mut server = server_with(deflate);
    let got = run(&mut server, &mut Inflater::new(vec![0u8; 1 << 15]), &wire, &[3]);
    assert_eq!(got.first(), Some(&Ev::Err(Error::InvalidUtf8)));
}

#[test]
fn a_bomb_costs_nothing_but_the_1009() {
    // 64 MiB of zeros compresses to about 64 KB; the limit is 1 MiB.
    let zeros = vec![0u8; 64 << 20];
    let compressed = zlib_messages(&[&zeros], 15, true).remove(0);
    assert!(compressed.len() < 100_000);
    let mut f = client_frame(0x2, true, &compressed);
    f[0] |= 0x40;
    let deflate = agree("permessage-deflate", DeflateConfig::new());
    let mut server = Connection::server(Config::new().max_message_size(1 << 20));
    server.set_deflate(Some(deflate));
    // A 4 KiB window: every chunk is at most 4 KiB, so memory stays at the window.
    let got = run(&mut server, &mut Inflater::new(vec![0u8; 1 << 15]), &f, &[4096]);
    assert_eq!(got.first(), Some(&Ev::Err(Error::MessageTooLarge)));
}

#[test]
fn an_inflater_smaller_than_the_agreed_window_is_refused() {
    let deflate = agree("permessage-deflate", DeflateConfig::new());
    let mut server = server_with(deflate);
    let mut inflater = Inflater::new([0u8; 512]);
    let mut buf = client_frame(0x1, true, b"x");
    assert_eq!(server.receive_with(&mut buf, Some(&mut inflater)).1.err(), Some(Error::BufferTooSmall));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// inflate(compress(x)) == x for any messages, any window, with and without context
    /// takeover, any transmit buffer, received in any chopping.
    #[test]
    fn any_messages_round_trip(
        messages in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..3000),
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'{'), Just(b'"')], 0..5000),
            ],
            1..5,
        ),
        bits in 8u8..=15,
        takeover in any::<bool>(),
        tx_len in 64usize..2000,
        piece in 1usize..10_000,
        chops in proptest::collection::vec(1usize..700, 1..5),
    ) {
        let mut offer = format!("permessage-deflate; client_max_window_bits={bits}");
        if !takeover {
            offer.push_str("; client_no_context_takeover");
        }
        let deflate = agree(&offer, DeflateConfig::new());
        let messages: Vec<(DataKind, Vec<u8>)> = messages.into_iter().map(|m| (DataKind::Binary, m)).collect();
        let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(bits)];
        let mut compressor = Compressor::new(&mut storage[..], bits, !takeover).unwrap();
        let wire = client_stream(deflate, &mut compressor, &messages, tx_len, piece);
        let mut server = server_with(deflate);
        let mut inflater = Inflater::new(vec![0u8; 1 << bits]);
        let got = run(&mut server, &mut inflater, &wire, &chops);
        let want: Vec<Ev> = messages.iter().map(|(k, m)| Ev::Msg(*k, m.clone())).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn zlib_stored_blocks_inflate_across_the_window_end() {
    // Random bytes: zlib sends them as stored blocks, copied through the window.
    let mut x = 11u64;
    let messages: Vec<Vec<u8>> = [65_536usize, 131_072, 100, 40_000, 131_072]
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (x >> 33) as u8
                })
                .collect()
        })
        .collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    for (takeover, chops) in [(true, &[usize::MAX][..]), (true, &[4096][..]), (false, &[1000, 7][..])] {
        let compressed = zlib_messages(&refs, 15, takeover);
        let mut wire = Vec::new();
        for c in &compressed {
            let mut f = client_frame(0x2, true, c);
            f[0] |= 0x40;
            wire.extend_from_slice(&f);
        }
        let offer =
            if takeover { "permessage-deflate" } else { "permessage-deflate; client_no_context_takeover" };
        let mut server = server_with(agree(offer, DeflateConfig::new()));
        let got = run(&mut server, &mut Inflater::new(vec![0u8; 1 << 15]), &wire, chops);
        let lens: Vec<usize> = got.iter().map(|e| if let Ev::Msg(_, m) = e { m.len() } else { 0 }).collect();
        let want: Vec<Ev> = messages.iter().map(|m| Ev::Msg(DataKind::Binary, m.clone())).collect();
        assert!(got == want, "takeover {takeover}, chops {chops:?}: lengths {lens:?}");
    }
}

#[test]
fn a_shared_inflater_serves_one_message_at_a_time() {
    // Two connections, one inflater: a compressed payload waits while the other holds it.
    let deflate = agree(
        "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        DeflateConfig::new().receive_window_bits(9),
    );
    let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(9)];
    let mut compressor = Compressor::new(&mut storage[..], 9, true).unwrap();
    let message = json(5000, 7);
    let wire = client_stream(deflate, &mut compressor, &[(DataKind::Text, message.clone())], 600, 5000);
    let (mut a, mut b) = (server_with(deflate), server_with(deflate));
    let mut inflater = Inflater::new(vec![0u8; 512]);
    // A takes the first chunk with the inflater: the message is in progress.
    let mut got = Vec::new();
    let mut a_buf = wire.clone();
    let (a_used, event) = a.receive_with(&mut a_buf, Some(&mut inflater));
    match event {
        Ok(Some(Event::Data { payload, fin: false, .. })) => got.extend_from_slice(payload),
        other => panic!("{other:?}"),
    }
    assert!(!inflater.is_idle());
    // B's compressed frame meets no inflater: nothing of its payload is taken.
    let mut b_buf = wire.clone();
    let (b_used, event) = b.receive_with(&mut b_buf, None::<&mut Inflater<Vec<u8>>>);
    assert_eq!(event, Ok(None));
    assert!(b.needs_inflater() && b_used < 16, "only the header is taken: {b_used}");
    // A finishes; then B, from where it stopped.
    let mut rest = a_buf[a_used..].to_vec();
    loop {
        let (used, event) = a.receive_with(&mut rest, Some(&mut inflater));
        let fin = match event {
            Ok(Some(Event::Data { payload, fin, .. })) => {
                got.extend_from_slice(payload);
                fin
            }
            other => panic!("{other:?}"),
        };
        rest.drain(..used);
        if fin {
            break;
        }
    }
    assert!(got == message, "A's message: {} of {} bytes", got.len(), message.len());
    assert!(inflater.is_idle());
    let got = run(&mut b, &mut inflater, &b_buf[b_used..], &[usize::MAX]);
    assert!(got == vec![Ev::Msg(DataKind::Text, message)], "B's message");
    assert!(!b.needs_inflater());
}
