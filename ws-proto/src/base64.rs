//! The two base64 jobs of the handshake (RFC 4648, standard alphabet, padded): encoding a
//! 16-byte nonce or a 20-byte digest, and checking that a key decodes to 16 bytes.
//!
//! Fixed sizes make this a few loops over the alphabet, with no indexing that can panic
//! (the link-time panic check depends on it) and a fraction of a general engine's flash.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `input` into `out`, which must be `4 * ceil(len / 3)` bytes; returns false
/// (writing nothing useful) if it is not.
pub fn encode(input: &[u8], out: &mut [u8]) -> bool {
    if out.len() != input.len().div_ceil(3) * 4 {
        return false;
    }
    let symbol = |six: u32| ALPHABET.get((six & 63) as usize).copied().unwrap_or(b'=');
    for (group, quad) in input.chunks(3).zip(out.chunks_exact_mut(4)) {
        let mut bytes = [0u8; 3];
        for (b, g) in bytes.iter_mut().zip(group) {
            *b = *g;
        }
        let bits = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        for (i, slot) in quad.iter_mut().enumerate() {
            // A group of n bytes gives n + 1 symbols; the rest is padding.
            *slot = if i <= group.len() { symbol(bits >> (18 - 6 * i)) } else { b'=' };
        }
    }
    true
}

/// The 6-bit value of a base64 symbol: by range, not a search of the alphabet (a sixth
/// of the server handshake's time when it searched).
fn value(symbol: u8) -> Option<u8> {
    match symbol {
        b'A'..=b'Z' => Some(symbol - b'A'),
        b'a'..=b'z' => Some(symbol - b'a' + 26),
        b'0'..=b'9' => Some(symbol - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Whether `key` is the canonical base64 of exactly 16 bytes: 22 symbols, the last with
/// its four unused bits clear, then `==` (RFC 6455 §4.1 `Sec-WebSocket-Key`).
pub fn is_16_byte_key(key: &[u8]) -> bool {
    let [body @ .., b'=', b'='] = key else { return false };
    let Some((&last, head)) = body.split_last() else { return false };
    body.len() == 22 && head.iter().all(|&s| value(s).is_some()) && value(last).is_some_and(|v| v & 0x0F == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn values_are_positions_in_the_alphabet() {
        for symbol in 0..=255u8 {
            let expected = ALPHABET.iter().position(|&s| s == symbol).map(|v| v as u8);
            assert_eq!(value(symbol), expected, "{symbol:#x}");
        }
    }

    #[test]
    fn rfc4648_vectors() {
        for (plain, coded) in [
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = vec![0u8; coded.len()];
            assert!(encode(plain.as_bytes(), &mut out));
            assert_eq!(out, coded.as_bytes());
        }
        assert!(!encode(b"abc", &mut [0u8; 3]));
    }

    #[test]
    fn keys() {
        assert!(is_16_byte_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_16_byte_key(b"dGhlIHNhbXBsZSBub25jZR==")); // stray bits in the last symbol
        assert!(!is_16_byte_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_16_byte_key(b"c2hvcnQ="));
        assert!(!is_16_byte_key(b"!GhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_16_byte_key(b""));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_base64_crate(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let expected = base64::engine::general_purpose::STANDARD.encode(&data);
            let mut out = vec![0u8; expected.len()];
            proptest::prop_assert!(encode(&data, &mut out));
            proptest::prop_assert_eq!(out, expected.into_bytes());
        }

        #[test]
        fn key_check_agrees_with_the_base64_crate(key in proptest::collection::vec(proptest::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=!".to_vec()), 20..28)) {
            let mut out = [0u8; 32];
            let expected = key.len() == 24 && base64::engine::general_purpose::STANDARD.decode_slice(&key, &mut out) == Ok(16);
            proptest::prop_assert_eq!(is_16_byte_key(&key), expected);
        }
    }
}
