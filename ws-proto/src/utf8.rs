//! Incremental UTF-8 validation across frame and chunk boundaries.
//!
//! A text message may be split anywhere, even inside a code point. The validator keeps
//! at most three bytes of an unfinished code point between chunks and fails at the first
//! byte that can never start or continue a valid sequence, so a peer streaming bad text
//! is stopped at once rather than at the end of the message.

use crate::Error;

// Text chunks are checked by simdutf8's pass/fail check (feature `simd`, on targets it has
// SIMD for) up to a code point cut short at their end, and by core's validator, which says
// where bytes stop being valid and whether they end in a code point cut short: all of the
// chunk without simdutf8 (the smallest code), only those last few bytes with it.
use core::str::from_utf8;

/// Validator state carried from one chunk of a text message to the next.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// Bytes of an unfinished code point (a valid prefix), at most three.
    pending: [u8; 4],
    pending_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Self {
        Self { pending: [0; 4], pending_len: 0 }
    }

    /// Validates the next chunk of the message.
    ///
    /// Fails with [`Error::InvalidUtf8`] as soon as some byte can never become valid UTF-8;
    /// a chunk ending inside a code point is fine, and is completed by the next one.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let rest = skip_valid(self.finish_pending(chunk)?)?;
        match from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                // The tail is a valid prefix of a code point: keep it for the next chunk.
                let tail = rest.get(e.valid_up_to()..).unwrap_or_default();
                self.keep(tail)
            }
            Err(_) => Err(Error::InvalidUtf8),
        }
    }

    /// Ends the message: an unfinished code point at the end is an error.
    pub fn finish(&mut self) -> Result<(), Error> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete {
            Ok(())
        } else {
            Err(Error::InvalidUtf8)
        }
    }

    /// Completes a code point left over from the previous chunk with the first bytes of
    /// `chunk`, returning the part of `chunk` that follows it.
    fn finish_pending<'c>(&mut self, chunk: &'c [u8]) -> Result<&'c [u8], Error> {
        let have = usize::from(self.pending_len);
        if have == 0 {
            return Ok(chunk);
        }
        let first = self.pending.first().copied().unwrap_or(0);
        let want = sequence_len(first).saturating_sub(have);
        let take = want.min(chunk.len());
        let (head, rest) = chunk.split_at(take);
        let mut seq = self.pending;
        let end = have + take;
        if let Some(dst) = seq.get_mut(have..end) {
            dst.copy_from_slice(head);
        }
        let seq = seq.get(..end).unwrap_or_default();
        match from_utf8(seq) {
            Ok(_) => {
                self.pending_len = 0;
                Ok(rest)
            }
            Err(e) if e.error_len().is_none() => {
                // Still unfinished: the chunk was shorter than the code point.
                self.keep(seq)?;
                Ok(rest)
            }
            Err(_) => Err(Error::InvalidUtf8),
        }
    }

    fn keep(&mut self, tail: &[u8]) -> Result<(), Error> {
        let dst = self.pending.get_mut(..tail.len()).ok_or(Error::InvalidUtf8)?;
        dst.copy_from_slice(tail);
        self.pending_len = tail.len() as u8;
        Ok(())
    }
}

/// Checks all of `bytes` but an unfinished code point at their end with simdutf8's
/// fastest check (which only says valid or not), and returns that unfinished end, for
/// the validator that says where to stop.
#[cfg(simd_host)]
fn skip_valid(bytes: &[u8]) -> Result<&[u8], Error> {
    let (body, end) = bytes.split_at(unfinished_start(bytes));
    simdutf8::basic::from_utf8(body).map_err(|_| Error::InvalidUtf8)?;
    Ok(end)
}

/// Without simdutf8, the byte-wise validator checks everything itself.
#[cfg(not(simd_host))]
fn skip_valid(bytes: &[u8]) -> Result<&[u8], Error> {
    Ok(bytes)
}

/// Where a code point cut short at the end of `bytes` starts: the last lead byte, if
/// fewer bytes follow it than it needs; `bytes.len()` if there is none.
#[cfg(simd_host)]
fn unfinished_start(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(3) {
        let i = len - back;
        match bytes.get(i) {
            // A continuation byte: the lead is further back.
            Some(&byte) if byte & 0xC0 == 0x80 => {}
            Some(&lead) if sequence_len(lead) > back => return i,
            _ => return len,
        }
    }
    len
}

/// Length of the sequence a valid lead byte starts (1 for anything else; such bytes never
/// reach the pending buffer).
const fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// Validates a complete byte string (a short message, a close reason) and returns it as
/// `&str`. With simdutf8 where it is used: several times faster than core's check even on
/// 125 bytes of text that is not all ASCII.
pub fn validate_complete(bytes: &[u8]) -> Result<&str, Error> {
    #[cfg(simd_host)]
    let checked = simdutf8::basic::from_utf8(bytes);
    #[cfg(not(simd_host))]
    let checked = core::str::from_utf8(bytes);
    checked.map_err(|_| Error::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_split(bytes: &[u8], split: usize) -> Result<(), Error> {
        let mut v = Utf8Validator::new();
        for chunk in bytes.chunks(split.max(1)) {
            v.feed(chunk)?;
        }
        v.finish()
    }

    #[test]
    fn valid_text_at_every_chop() {
        let text = "κόσμε ascii 𝄞 \u{10FFFF} \u{FFFD} ü".as_bytes();
        for split in 1..=text.len() {
            assert_eq!(feed_split(text, split), Ok(()), "split {split}");
        }
    }

    #[test]
    fn invalid_text_at_every_chop() {
        let bad: &[&[u8]] = &[
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xff",
            b"\xc0\xaf",
            b"\xf4\x90\x80\x80",
            b"\xed\xbf\xbf",
            b"abc\xe0\x80",
            b"\xf0\x9f\x98", // truncated at the end of the message
        ];
        for bytes in bad {
            for split in 1..=bytes.len() {
                assert_eq!(feed_split(bytes, split), Err(Error::InvalidUtf8), "{bytes:x?} / {split}");
            }
        }
    }

    #[test]
    fn fails_fast_on_the_first_impossible_byte() {
        // 0xED 0xA0 starts a surrogate: invalid before the third byte arrives.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ok\xed"), Ok(()));
        assert_eq!(v.feed(b"\xa0"), Err(Error::InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"\xf4\x90"), Err(Error::InvalidUtf8));
        // An impossible code point cut short at the end of a long chunk (the SIMD path).
        let mut long = [b'a'; 100].to_vec();
        long.extend_from_slice(b"\xe0\x80");
        assert_eq!(Utf8Validator::new().feed(&long), Err(Error::InvalidUtf8));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_core_for_any_bytes_and_split(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), split in 1usize..9) {
            let expected = core::str::from_utf8(&bytes).is_ok();
            proptest::prop_assert_eq!(feed_split(&bytes, split).is_ok(), expected);
        }

        /// Long text (past the SIMD validator's blocks), cut anywhere, with one byte
        /// perhaps changed.
        #[test]
        fn agrees_with_core_on_long_text(text in "\\PC{0,200}", split in 1usize..300, flip in proptest::option::of((0usize..1000, proptest::prelude::any::<u8>()))) {
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = flip {
                let len = bytes.len();
                if let Some(b) = bytes.get_mut(at % len.max(1)) {
                    *b = byte;
                }
            }
            let expected = core::str::from_utf8(&bytes).is_ok();
            proptest::prop_assert_eq!(feed_split(&bytes, split).is_ok(), expected);
        }
    }
}
