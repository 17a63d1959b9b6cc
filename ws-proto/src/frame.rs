//! Frame headers (RFC 6455 §5.2): opcodes, decoding (running out of bytes is a normal
//! outcome, not an error), and encoding into a caller buffer.
//!
//! A header is at most 14 bytes of fixed layout, so it is decoded by slice patterns
//! rather than parser combinators: on a Cortex-M0 that is 300 bytes less flash, and it is
//! the first thing every receive call does.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! ```

use crate::Error;

/// Longest possible header: 2 fixed bytes, 8 length bytes, 4 mask bytes.
pub const MAX_HEADER_LEN: usize = 14;

/// Largest control frame payload.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Header bit and field positions.
mod field {
    pub const FIN: u8 = 0x80;
    pub const RSV: u8 = 0x70;
    pub const OPCODE: u8 = 0x0F;
    pub const MASK: u8 = 0x80;
    pub const LEN: u8 = 0x7F;
    /// 7-bit length values that announce a 16-bit or 64-bit extended length.
    pub const LEN_16: u8 = 126;
    pub const LEN_64: u8 = 127;
}

/// A frame opcode (RFC 6455 §5.2); reserved values are rejected when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Opcode {
    /// Continues a fragmented message.
    Continuation = 0x0,
    /// First frame of a UTF-8 text message.
    Text = 0x1,
    /// First frame of a binary message.
    Binary = 0x2,
    /// Starts or answers the closing handshake.
    Close = 0x8,
    /// Asks for a pong.
    Ping = 0x9,
    /// Answers a ping, or an unsolicited heartbeat.
    Pong = 0xA,
}

impl Opcode {
    /// Decodes a 4-bit opcode; 3-7 and 0xB-0xF are reserved.
    pub const fn from_u8(bits: u8) -> Result<Self, Error> {
        Ok(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return Err(Error::ReservedOpcode),
        })
    }

    /// Close, ping and pong are control frames: short, never fragmented.
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// RSV1-3 as they appear in the first byte (bits 6-4), zero without extensions.
    pub rsv: u8,
    /// What the frame carries.
    pub opcode: Opcode,
    /// Masking key: present on every client-to-server frame, absent otherwise.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub len: u64,
}

impl FrameHeader {
    /// Decodes a header from the start of `bytes`.
    ///
    /// `Ok(None)` when more bytes are needed; `Ok(Some((header, header_len)))` otherwise.
    /// Reserved opcodes and 64-bit lengths with the top bit set are errors; everything
    /// else (reserved bits, masking rules, control frame limits) is checked by the
    /// connection, which knows the role and the negotiated extensions.
    pub fn decode(bytes: &[u8]) -> Result<Option<(Self, usize)>, Error> {
        let [b0, b1, rest @ ..] = bytes else { return Ok(None) };
        let (len, rest) = match b1 & field::LEN {
            field::LEN_16 => match rest.split_first_chunk::<2>() {
                Some((ext, rest)) => (u64::from(u16::from_be_bytes(*ext)), rest),
                None => return Ok(None),
            },
            field::LEN_64 => match rest.split_first_chunk::<8>() {
                Some((ext, rest)) => (u64::from_be_bytes(*ext), rest),
                None => return Ok(None),
            },
            short => (u64::from(short), rest),
        };
        let (mask, rest) = if b1 & field::MASK == 0 {
            (None, rest)
        } else {
            match rest.split_first_chunk::<4>() {
                Some((key, rest)) => (Some(*key), rest),
                None => return Ok(None),
            }
        };
        let opcode = Opcode::from_u8(b0 & field::OPCODE)?;
        if len > i64::MAX as u64 {
            return Err(Error::LengthOverflow);
        }
        let header = FrameHeader { fin: b0 & field::FIN != 0, rsv: b0 & field::RSV, opcode, mask, len };
        Ok(Some((header, bytes.len() - rest.len())))
    }

    /// The length of the header at the start of `bytes` and of its whole frame, read from
    /// the length bytes without decoding the rest: `None` before the second byte. The
    /// frame's length is `usize::MAX` while a 16-bit length is cut short, and for 64-bit
    /// lengths (no receive buffer holds such a frame).
    #[inline]
    pub(crate) fn sizes(bytes: &[u8]) -> Option<(usize, usize)> {
        let [_, b1, ..] = *bytes else { return None };
        let mask = if b1 & field::MASK != 0 { 4 } else { 0 };
        Some(match (b1 & field::LEN, bytes) {
            (field::LEN_16, [_, _, hi, lo, ..]) => {
                (4 + mask, 4 + mask + usize::from(u16::from_be_bytes([*hi, *lo])))
            }
            (field::LEN_16, _) => (4 + mask, usize::MAX),
            (field::LEN_64, _) => (10 + mask, usize::MAX),
            (len, _) => (2 + mask, 2 + mask + usize::from(len)),
        })
    }

    /// Encoded length of this header.
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.len < field::LEN_16 as u64 {
            0
        } else if self.len <= u16::MAX as u64 {
            2
        } else {
            8
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header to the start of `out`, using the shortest length encoding.
    ///
    /// Returns the number of bytes written, or [`Error::BufferTooSmall`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        // Written in place, field by field: copying a header assembled elsewhere is a
        // copy of 2 to 14 bytes, a call to `memcpy` that costs more than a small frame.
        let n = self.encoded_len();
        let too_small = Error::BufferTooSmall;
        let (head, rest) = out.get_mut(..n).and_then(<[u8]>::split_first_chunk_mut::<2>).ok_or(too_small)?;
        head[0] = if self.fin { field::FIN } else { 0 } | (self.rsv & field::RSV) | self.opcode as u8;
        let (len, rest) = if self.len < u64::from(field::LEN_16) {
            (self.len as u8, rest)
        } else if let Ok(len) = u16::try_from(self.len) {
            let (ext, rest) = rest.split_first_chunk_mut::<2>().ok_or(too_small)?;
            *ext = len.to_be_bytes();
            (field::LEN_16, rest)
        } else {
            let (ext, rest) = rest.split_first_chunk_mut::<8>().ok_or(too_small)?;
            *ext = self.len.to_be_bytes();
            (field::LEN_64, rest)
        };
        head[1] = if self.mask.is_some() { field::MASK } else { 0 } | len;
        if let (Some(key), Some(dst)) = (self.mask, rest.first_chunk_mut::<4>()) {
            *dst = key;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 §5.7 examples: (wire bytes, header, payload after unmasking).
    static RFC_EXAMPLES: &[(&[u8], FrameHeader, &[u8])] = &[
        // A single-frame unmasked text message
        (
            &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            FrameHeader { fin: true, rsv: 0, opcode: Opcode::Text, mask: None, len: 5 },
            b"Hello",
        ),
        // A single-frame masked text message
        (
            &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
            FrameHeader {
                fin: true,
                rsv: 0,
                opcode: Opcode::Text,
                mask: Some([0x37, 0xfa, 0x21, 0x3d]),
                len: 5,
            },
            b"Hello",
        ),
        // A fragmented unmasked text message: "Hel" then "lo"
        (
            &[0x01, 0x03, 0x48, 0x65, 0x6c],
            FrameHeader { fin: false, rsv: 0, opcode: Opcode::Text, mask: None, len: 3 },
            b"Hel",
        ),
        (
            &[0x80, 0x02, 0x6c, 0x6f],
            FrameHeader { fin: true, rsv: 0, opcode: Opcode::Continuation, mask: None, len: 2 },
            b"lo",
        ),
        // Unmasked ping with "Hello"
        (
            &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            FrameHeader { fin: true, rsv: 0, opcode: Opcode::Ping, mask: None, len: 5 },
            b"Hello",
        ),
        // Masked pong with "Hello"
        (
            &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
            FrameHeader {
                fin: true,
                rsv: 0,
                opcode: Opcode::Pong,
                mask: Some([0x37, 0xfa, 0x21, 0x3d]),
                len: 5,
            },
            b"Hello",
        ),
    ];

    #[test]
    fn test_parse_rfc_examples() {
        for (wire, header, payload) in RFC_EXAMPLES {
            let (got, n) = FrameHeader::decode(wire).unwrap().unwrap();
            assert_eq!(&got, header);
            let mut body = wire[n..].to_vec();
            if let Some(key) = got.mask {
                crate::mask::apply(&mut body, key, 0);
            }
            assert_eq!(&body[..], *payload);
        }
    }

    #[test]
    fn test_emit_rfc_examples() {
        for (wire, header, payload) in RFC_EXAMPLES {
            let mut out = [0u8; 32];
            let n = header.encode(&mut out).unwrap();
            let mut body = payload.to_vec();
            if let Some(key) = header.mask {
                crate::mask::apply(&mut body, key, 0);
            }
            out[n..n + body.len()].copy_from_slice(&body);
            assert_eq!(&out[..n + body.len()], *wire);
        }
    }

    #[test]
    fn rfc_256_byte_and_64k_binary_lengths() {
        // "256 bytes binary message in a single unmasked frame": 0x82 0x7E 0x0100
        let (h, n) = FrameHeader::decode(&[0x82, 0x7e, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!((h.opcode, h.len, n), (Opcode::Binary, 256, 4));
        // "64KiB binary message in a single unmasked frame": 0x82 0x7F 0x0000000000010000
        let wire = [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        let (h, n) = FrameHeader::decode(&wire).unwrap().unwrap();
        assert_eq!((h.len, n), (65536, 10));
        let mut out = [0u8; 14];
        assert_eq!(h.encode(&mut out), Ok(10));
        assert_eq!(out[..10], wire);
    }

    #[test]
    fn partial_headers_need_more() {
        let wire = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..wire.len() {
            assert_eq!(FrameHeader::decode(&wire[..cut]), Ok(None), "cut {cut}");
        }
        assert!(FrameHeader::decode(&wire).unwrap().is_some());
    }

    #[test]
    fn bad_headers() {
        assert_eq!(FrameHeader::decode(&[0x83, 0x00]), Err(Error::ReservedOpcode));
        assert_eq!(FrameHeader::decode(&[0x8b, 0x00]), Err(Error::ReservedOpcode));
        let huge = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::decode(&huge), Err(Error::LengthOverflow));
    }

    #[test]
    fn encode_into_short_buffer_fails_cleanly() {
        let h =
            FrameHeader { fin: true, rsv: 0, opcode: Opcode::Binary, mask: Some([1, 2, 3, 4]), len: 70000 };
        assert_eq!(h.encoded_len(), 14);
        assert_eq!(h.encode(&mut [0u8; 13]), Err(Error::BufferTooSmall));
    }

    proptest::proptest! {
        #[test]
        fn header_round_trip(fin: bool, op in 0usize..6, mask: Option<[u8; 4]>, len in 0u64..(1 << 63)) {
            let opcode = [Opcode::Continuation, Opcode::Text, Opcode::Binary, Opcode::Close, Opcode::Ping, Opcode::Pong][op];
            let h = FrameHeader { fin, rsv: 0, opcode, mask, len };
            let mut out = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut out).unwrap();
            proptest::prop_assert_eq!(n, h.encoded_len());
            proptest::prop_assert_eq!(FrameHeader::decode(&out[..n]), Ok(Some((h, n))));
        }

        #[test]
        fn sizes_read_from_the_length_bytes_match_the_header(mask: Option<[u8; 4]>, len in 0u64..(1 << 63), cut in 0usize..MAX_HEADER_LEN) {
            let h = FrameHeader { fin: true, rsv: 0, opcode: Opcode::Binary, mask, len };
            let mut out = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut out).unwrap();
            let total = if len <= u64::from(u16::MAX) { n + len as usize } else { usize::MAX };
            let expected = match cut.min(n) {
                0 | 1 => None,
                2 | 3 if len > 125 && len <= u64::from(u16::MAX) => Some((n, usize::MAX)),
                _ => Some((n, total)),
            };
            proptest::prop_assert_eq!(FrameHeader::sizes(&out[..cut.min(n)]), expected);
        }
    }
}
