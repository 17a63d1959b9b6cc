//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, by machine words (64 bits on
//! 64-bit targets, 32 on the rest: on a Cortex-M0 a 64-bit word is two 32-bit ones anyway,
//! in more code).
//!
//! Position-aware, so a payload unmasked chunk by chunk as it arrives gives the same bytes
//! as one unmasked whole.

/// XORs `data` with `key`, where `data` starts at byte `offset` of the frame's payload.
#[inline]
pub fn apply(data: &mut [u8], key: [u8; 4], offset: u64) {
    let key = rotate(key, offset);
    let word = repeat(key);
    let mut words = data.chunks_exact_mut(WORD);
    for chunk in &mut words {
        let masked = xor_word(chunk, word);
        chunk.copy_from_slice(&masked);
    }
    // The tail is shorter than a word and starts at a multiple of 4, so the key is in phase.
    for (byte, k) in words.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Copies `src` into `dst` XORed with `key`, where `src` starts at byte `offset` of the
/// frame's payload: the send side's copy and masking in one pass over the bytes. Copies
/// as many bytes as the shorter of the two holds.
///
/// 64-bit targets only: on a Cortex-M0 the fused loop costs 200 bytes of flash beside
/// [`apply`], which the receive side links anyway, for little gain.
#[cfg(target_pointer_width = "64")]
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: u64) {
    let n = dst.len().min(src.len());
    let (Some(dst), Some(src)) = (dst.get_mut(..n), src.get(..n)) else { return };
    let key = rotate(key, offset);
    let word = repeat(key);
    // 64 bytes at a time first: the compiler turns each block into four 16-byte vector
    // XORs with one loop test (word by word, it tests every 32 bytes). Not in `apply`:
    // in place, on a payload streaming from memory, the shorter loop is the faster one.
    let mut dst_blocks = dst.chunks_exact_mut(BLOCK);
    let mut src_blocks = src.chunks_exact(BLOCK);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        copy_xor_words(d, s, word);
    }
    let (dst_tail, src_tail) = copy_xor_words(dst_blocks.into_remainder(), src_blocks.remainder(), word);
    // As in `apply`, the tails start at a multiple of 4: the key is in phase.
    for ((d, s), k) in dst_tail.iter_mut().zip(src_tail).zip(key.iter().cycle()) {
        *d = s ^ k;
    }
}

/// The block `copy_masked` takes at a time.
#[cfg(target_pointer_width = "64")]
const BLOCK: usize = 64;

/// Writes the whole words of `src` XORed with `word` into `dst` (as long); returns the
/// tails shorter than a word.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
fn copy_xor_words<'a>(dst: &'a mut [u8], src: &'a [u8], word: Word) -> (&'a mut [u8], &'a [u8]) {
    let mut dst_words = dst.chunks_exact_mut(WORD);
    let mut src_words = src.chunks_exact(WORD);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        d.copy_from_slice(&xor_word(s, word));
    }
    (dst_words.into_remainder(), src_words.remainder())
}

/// A word's worth of `bytes` XORed with `word`.
#[inline(always)]
fn xor_word(bytes: &[u8], word: Word) -> [u8; WORD] {
    let mut read = [0u8; WORD];
    read.copy_from_slice(bytes);
    (Word::from_ne_bytes(read) ^ word).to_ne_bytes()
}

#[cfg(target_pointer_width = "64")]
type Word = u64;
#[cfg(not(target_pointer_width = "64"))]
type Word = u32;
const WORD: usize = core::mem::size_of::<Word>();

/// The key repeated over a machine word.
#[inline]
fn repeat(key: [u8; 4]) -> Word {
    let mut repeated = [0u8; WORD];
    for (byte, k) in repeated.iter_mut().zip(key.iter().cycle()) {
        *byte = *k;
    }
    Word::from_ne_bytes(repeated)
}

/// The key as seen from payload position `offset`.
#[inline]
const fn rotate(key: [u8; 4], offset: u64) -> [u8; 4] {
    // Byte 0 is the least significant in little-endian order: rotating right by one
    // byte brings key[1] to the front.
    u32::from_le_bytes(key).rotate_right(8 * (offset % 4) as u32).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(data: &mut [u8], key: [u8; 4], offset: u64) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[((offset + i as u64) % 4) as usize];
        }
    }

    #[test]
    fn rfc_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut data = *b"Hello";
        apply(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[cfg(target_pointer_width = "64")]
    proptest::proptest! {
        #[test]
        fn copy_masked_equals_copy_then_mask(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
                                             key in proptest::prelude::any::<[u8; 4]>(),
                                             offset in 0u64..8,
                                             room in 0usize..300) {
            // Into a destination shorter, as long or longer: the shorter length is copied.
            let n = data.len().min(room);
            let mut expected = data[..n].to_vec();
            naive(&mut expected, key, offset);
            expected.resize(room, 0xAA);
            let mut got = vec![0xAA; room];
            copy_masked(&mut got, &data, key, offset);
            proptest::prop_assert_eq!(got, expected);
        }
    }

    proptest::proptest! {
        #[test]
        fn chunked_equals_naive(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
                                key in proptest::prelude::any::<[u8; 4]>(),
                                split in 1usize..20) {
            let mut expected = data.clone();
            naive(&mut expected, key, 0);
            let mut got = data.clone();
            let mut offset = 0u64;
            for chunk in got.chunks_mut(split) {
                apply(chunk, key, offset);
                offset += chunk.len() as u64;
            }
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
