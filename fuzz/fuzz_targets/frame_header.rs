//! `FrameHeader::decode` on arbitrary bytes, against an independent model of the RFC 6455
//! §5.2 header, plus the encode/decode round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::frame::{FrameHeader, Opcode, MAX_HEADER_LEN};
use ws_proto::Error;

fuzz_target!(|data: &[u8]| {
    let got = FrameHeader::decode(data);
    assert_eq!(got, model(data), "decode of {data:02x?}");
    match got {
        Ok(None) => assert!(data.len() < MAX_HEADER_LEN, "{} bytes do not decode", data.len()),
        Ok(Some((header, n))) => {
            assert!(n <= data.len());
            // Non-minimal length encodings are accepted, so `n` may exceed the shortest form.
            assert!(n >= header.encoded_len());
            for cut in 0..n {
                assert_eq!(FrameHeader::decode(&data[..cut]), Ok(None), "prefix of {cut} bytes");
            }
            assert_eq!(FrameHeader::decode(&data[..n]), got, "the header alone");
            let mut out = [0u8; MAX_HEADER_LEN];
            let m = header.encode(&mut out).expect("a header fits in 14 bytes");
            assert_eq!(m, header.encoded_len());
            assert_eq!(FrameHeader::decode(&out[..m]), Ok(Some((header, m))), "decode(encode(h))");
            if is_minimal(&header, n) {
                assert_eq!(&out[..m], &data[..n], "re-encoding a minimal header");
            } else {
                assert!(m < n);
            }
            if m > 0 {
                assert_eq!(header.encode(&mut out[..m - 1]), Err(Error::BufferTooSmall));
            }
        }
        Err(e) => assert!(e.close_code().is_some(), "{e:?} has no close code"),
    }
});

/// The header as RFC 6455 §5.2 lays it out, decoded by hand.
fn model(data: &[u8]) -> Result<Option<(FrameHeader, usize)>, Error> {
    let [b0, b1, ..] = *data else { return Ok(None) };
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let key_len = if b1 & 0x80 != 0 { 4 } else { 0 };
    let need = 2 + ext + key_len;
    if data.len() < need {
        return Ok(None);
    }
    let len = match ext {
        0 => u64::from(b1 & 0x7f),
        _ => data[2..2 + ext].iter().fold(0, |len, &b| len << 8 | u64::from(b)),
    };
    let mask = (key_len == 4).then(|| [data[2 + ext], data[3 + ext], data[4 + ext], data[5 + ext]]);
    let opcode = match b0 & 0x0f {
        0x0 => Opcode::Continuation,
        0x1 => Opcode::Text,
        0x2 => Opcode::Binary,
        0x8 => Opcode::Close,
        0x9 => Opcode::Ping,
        0xa => Opcode::Pong,
        _ => return Err(Error::ReservedOpcode),
    };
    if len >> 63 != 0 {
        return Err(Error::LengthOverflow);
    }
    Ok(Some((FrameHeader { fin: b0 & 0x80 != 0, rsv: b0 & 0x70, opcode, mask, len }, need)))
}

/// Whether the `n`-byte header used the shortest length encoding for its length.
fn is_minimal(header: &FrameHeader, n: usize) -> bool {
    let ext = n - 2 - if header.mask.is_some() { 4 } else { 0 };
    match ext {
        0 => true,
        2 => header.len >= 126,
        _ => header.len > u64::from(u16::MAX),
    }
}
