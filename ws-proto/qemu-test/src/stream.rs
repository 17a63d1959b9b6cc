//! A 1 MiB message streamed through 512-byte buffers: the client sends it as fragments,
//! the server receives each frame in chops of varying size, keeping what `receive` leaves
//! (a partial header) for the next chop, as a socket loop does. Nothing holds the message:
//! its bytes are a function of their position, made and checked on the fly.

use ws_proto::{Config, Connection, DataKind, Event};

use crate::check::Outcome;
use crate::rng::XorShift;

/// The message length.
const MESSAGE_LEN: usize = 1 << 20;

/// Every buffer: the fragment source, the client's tx and the server's rx window.
const BUFFER: usize = 512;

/// Sizes the frames are cut into on their way to the server, in turn. The turn carries
/// on from one frame to the next, so the cuts move around: headers split at every byte,
/// payload chunks of 1 to 512 bytes.
const CHOPS: [usize; 8] = [1, 2, 13, 64, 100, 255, 512, 7];

/// The byte at `pos` in a test message: a multiplicative hash, so that a byte lost,
/// repeated or moved shows up.
pub fn pattern(pos: usize) -> u8 {
    ((pos as u32).wrapping_mul(0x9e37_79b1) >> 24) as u8
}

/// 1 MiB, client to server, in frames of `max_payload_for(512)` bytes.
pub fn one_mebibyte() -> Outcome {
    let config = Config::default();
    let mut client = Connection::client(config, XorShift::new(0x1234_5678));
    let mut server = Connection::server(config);
    let mut source = [0u8; BUFFER];
    let mut tx = [0u8; BUFFER];
    let mut rx = [0u8; BUFFER];

    let per_frame = client.max_payload_for(BUFFER);
    // 512 less a header of 2 bytes, a 16-bit length and a masking key.
    check!(per_frame == BUFFER - 8);

    let (mut sent, mut received, mut frames, mut fins, mut chop, mut kept) = (0, 0, 0, 0, 0, 0);
    while sent < MESSAGE_LEN {
        let n = per_frame.min(MESSAGE_LEN - sent);
        for (i, b) in source[..n].iter_mut().enumerate() {
            *b = pattern(sent + i);
        }
        let fin = sent + n == MESSAGE_LEN;
        let len = client.send_fragment(DataKind::Binary, &source[..n], fin, &mut tx)?;
        check!(len <= BUFFER);
        sent += n;
        frames += 1;

        let mut at = 0;
        while at < len {
            // A read appends to what the last receive left, at most a partial header.
            let size = CHOPS[chop % CHOPS.len()].min(len - at).min(BUFFER - kept);
            chop += 1;
            rx[kept..kept + size].copy_from_slice(&tx[at..at + size]);
            at += size;
            let (mut start, end) = (0, kept + size);
            loop {
                let (used, event) = server.receive(&mut rx[start..end]);
                start += used;
                match event? {
                    None => break,
                    Some(Event::Data { kind: DataKind::Binary, payload, fin, .. }) => {
                        if !payload.iter().enumerate().all(|(i, &b)| b == pattern(received + i)) {
                            fail!("payload byte differs from the message sent");
                        }
                        received += payload.len();
                        if fin {
                            fins += 1;
                            check!(received == MESSAGE_LEN);
                        }
                    }
                    Some(_) => fail!("event other than binary data"),
                }
            }
            check!(end - start < 14);
            rx.copy_within(start..end, 0);
            kept = end - start;
        }
    }
    check!(sent == MESSAGE_LEN && received == MESSAGE_LEN);
    check!(fins == 1);
    check!(frames == MESSAGE_LEN.div_ceil(per_frame));
    check!(!server.is_failed() && !server.wants_transmit());
    Ok(())
}
