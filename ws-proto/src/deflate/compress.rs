//! A small DEFLATE compressor that keeps every match within its window: LZ77 with one
//! hash probe per position over a sliding buffer, coded with the fixed Huffman codes.
//!
//! Written here because no crate fits: miniz_oxide's compressor needs an allocator
//! (about 234 KB of state) and does not keep to a window below 32 KiB when asked to (see
//! the project notes), while RFC 7692 lets a peer ask for windows down to 256 bytes.
//! Memory is the caller's: [`Compressor::storage_len`] bytes for a window.

use super::{Compress, Compressed, Deflate, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::Error;

/// The longest match DEFLATE codes.
const MAX_MATCH: usize = 258;
/// The shortest.
const MIN_MATCH: usize = 3;
/// Bytes of room kept after the window for input not yet coded.
const LOOKAHEAD_ROOM: usize = 1024;
/// The hash table has at most 2^12 entries.
const MAX_HASH_BITS: u8 = 12;
/// Output room one token needs at most: 31 bits, plus 7 pending.
const TOKEN_ROOM: usize = 5;

/// A DEFLATE compressor for permessage-deflate in caller memory: distances never exceed
/// its window (2^bits bytes, 8-15), so a peer that asked for a small window can inflate
/// every message. Its ratio is that of fixed Huffman codes with greedy matching: good on
/// repetitive text such as JSON, below zlib's on the rest.
///
/// ```
/// use ws_proto::deflate::{Compress, Compressor};
/// let mut storage = [0u8; Compressor::<&mut [u8]>::storage_len(9)];
/// let mut compressor = Compressor::new(&mut storage[..], 9, false)?;
/// let mut out = [0u8; 64];
/// let done = compressor.compress(b"Hello", &mut out, true)?;
/// // RFC 7692 §7.2.3.1: "Hello" with fixed codes, the sync flush's tail removed.
/// assert_eq!(&out[..done.written], &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
/// # Ok::<(), ws_proto::Error>(())
/// ```
pub struct Compressor<S> {
    storage: S,
    bits: u8,
    /// The window the storage was sized for.
    max_bits: u8,
    hash_bits: u8,
    no_context_takeover: bool,
    /// The first byte a match may reach back to.
    start: usize,
    /// The next byte to code.
    cur: usize,
    /// Bytes in the buffer.
    end: usize,
    /// Bits not yet written, the first in the lowest bit.
    acc: u64,
    nbits: u32,
    /// A fixed-Huffman block is open.
    in_block: bool,
    /// The message's end is coded into `acc`; what is left is writing it out.
    closing: bool,
}

impl<S> Compressor<S> {
    /// The storage a window of 2^`bits` bytes needs (bits clamped to 8-15): the window,
    /// room for input not yet coded, and the hash table.
    pub const fn storage_len(bits: u8) -> usize {
        let bits = clamp(bits);
        buffer_len(bits) + 2 * (1 << hash_bits(bits))
    }
}

impl<S: AsMut<[u8]>> Compressor<S> {
    /// A compressor with a window of 2^`window_bits` bytes in `storage`, which must hold
    /// [`storage_len`](Self::storage_len) bytes ([`Error::BufferTooSmall`] otherwise).
    /// `no_context_takeover`: every message is compressed on its own.
    pub fn new(mut storage: S, window_bits: u8, no_context_takeover: bool) -> Result<Self, Error> {
        let bits = clamp(window_bits);
        if storage.as_mut().len() < Self::storage_len(bits) {
            return Err(Error::BufferTooSmall);
        }
        Ok(Self {
            storage,
            bits,
            max_bits: bits,
            hash_bits: hash_bits(bits),
            no_context_takeover,
            start: 0,
            cur: 0,
            end: 0,
            acc: 0,
            nbits: 0,
            in_block: false,
            closing: false,
        })
    }

    /// A compressor for what was agreed: its window and context takeover.
    pub fn for_deflate(storage: S, deflate: &Deflate) -> Result<Self, Error> {
        Self::new(storage, deflate.send_window_bits(), deflate.send_no_context_takeover())
    }

    /// Compresses from now on with a window of 2^`bits` bytes, at most the one the storage
    /// was made for (and at least 256 bytes): a peer may agree to a smaller window than
    /// the compressor was built for. Forgets the history, as [`reset`](Self::reset) does.
    pub fn set_window_bits(&mut self, bits: u8) {
        self.bits = clamp(bits).min(self.max_bits);
        self.hash_bits = hash_bits(self.bits);
        self.reset();
    }

    /// Whether a message is in progress (input taken, its end not yet written).
    pub fn is_idle(&self) -> bool {
        self.cur == self.end && !self.in_block && !self.closing && self.nbits == 0
    }

    /// Forgets the history and any message in progress.
    pub fn reset(&mut self) {
        (self.start, self.cur, self.end) = (0, 0, 0);
        (self.acc, self.nbits, self.in_block, self.closing) = (0, 0, false, false);
    }

    fn window(&self) -> usize {
        1 << self.bits
    }

    /// Moves the last window's worth of history and the uncoded input to the front.
    fn slide(&mut self) {
        let keep_from = self.cur.saturating_sub(self.window()).max(self.start);
        if keep_from == 0 {
            return;
        }
        let (buf, head) = split(self.storage.as_mut(), self.bits);
        // Forward, byte by byte: `copy_within` keeps a panic path the optimizer cannot drop.
        for i in 0..self.end - keep_from {
            if let Some(&b) = buf.get(keep_from + i) {
                if let Some(slot) = buf.get_mut(i) {
                    *slot = b;
                }
            }
        }
        for i in 0..head.len() / 2 {
            let at = get16(head, i);
            set16(head, i, at.saturating_sub(keep_from as u16));
        }
        // History now starts at the front (`keep_from` is never before `start`).
        self.start = 0;
        self.cur -= keep_from;
        self.end -= keep_from;
    }

    fn put(&mut self, bits: u32, count: u32) {
        self.acc |= u64::from(bits) << self.nbits;
        self.nbits += count;
    }

    /// Writes whole bytes from `acc` into `out` from `w` while there is room.
    fn drain(&mut self, out: &mut [u8], w: &mut usize) {
        while self.nbits >= 8 {
            let Some(slot) = out.get_mut(*w) else { return };
            *slot = self.acc as u8;
            self.acc >>= 8;
            self.nbits -= 8;
            *w += 1;
        }
    }

    /// Codes one literal or match at `cur`.
    fn token(&mut self) {
        let (cur, end, start, window, hash_bits) =
            (self.cur, self.end, self.start, self.window(), self.hash_bits);
        let (buf, head) = split(self.storage.as_mut(), self.bits);
        let mut len = 0;
        let mut dist = 0;
        if end - cur >= MIN_MATCH {
            let h = hash(buf, cur, hash_bits);
            let candidate = usize::from(get16(head, h));
            set16(head, h, cur as u16);
            if candidate >= start && candidate < cur && cur - candidate <= window {
                let limit = (end - cur).min(MAX_MATCH);
                len = common_prefix(buf, candidate, cur, limit);
                dist = cur - candidate;
            }
        }
        if len >= MIN_MATCH {
            // Positions inside the match go into the table too, where a hash fits.
            for p in cur + 1..(cur + len).min(end.saturating_sub(MIN_MATCH - 1)) {
                let h = hash(buf, p, hash_bits);
                set16(head, h, p as u16);
            }
            let (code, extra_bits, extra) = length_code(len);
            let (lit_bits, lit_len) = literal_code(code);
            self.put(lit_bits, lit_len);
            self.put(extra, extra_bits);
            let (dcode, dextra_bits, dextra) = distance_code(dist);
            self.put(reverse(dcode, 5), 5);
            self.put(dextra, dextra_bits);
            self.cur += len;
        } else {
            let byte = buf.get(cur).copied().unwrap_or_default();
            let (bits, count) = literal_code(u16::from(byte));
            self.put(bits, count);
            self.cur += 1;
        }
    }
}

impl<S: AsMut<[u8]>> Compress for Compressor<S> {
    fn window_bits(&self) -> u8 {
        self.bits
    }

    fn compress(&mut self, input: &[u8], out: &mut [u8], finish: bool) -> Result<Compressed, Error> {
        let (mut taken, mut w) = (0, 0);
        let buffer = buffer_len(self.bits);
        if !self.closing {
            loop {
                // Take what input fits, making room first when the buffer is full.
                if taken < input.len() {
                    if self.end == buffer {
                        self.slide();
                    }
                    let n = (input.len() - taken).min(buffer - self.end);
                    let (buf, _) = split(self.storage.as_mut(), self.bits);
                    if let (Some(dst), Some(src)) =
                        (buf.get_mut(self.end..self.end + n), input.get(taken..taken + n))
                    {
                        dst.copy_from_slice(src);
                    }
                    self.end += n;
                    taken += n;
                }
                let more = taken < input.len();
                // Code while a whole match can be seen, or to the end when no more comes.
                while self.cur < self.end && (self.end - self.cur >= MAX_MATCH || (finish && !more)) {
                    if out.len() - w < TOKEN_ROOM {
                        return Ok(Compressed { taken, written: w, finished: false });
                    }
                    if !self.in_block {
                        // BFINAL 0, BTYPE 01: fixed Huffman codes.
                        self.put(0b010, 3);
                        self.in_block = true;
                    }
                    self.token();
                    self.drain(out, &mut w);
                }
                if !more {
                    break;
                }
            }
            if !finish || self.cur < self.end {
                return Ok(Compressed { taken, written: w, finished: false });
            }
            // The end of the message: end of block, then a sync flush's empty stored
            // block up to its byte boundary (its `00 00 ff ff` is left off).
            if self.in_block {
                self.put(0, 7);
                self.in_block = false;
            }
            self.put(0, 3);
            self.nbits = self.nbits.div_ceil(8) * 8;
            self.closing = true;
        }
        self.drain(out, &mut w);
        if self.nbits > 0 {
            return Ok(Compressed { taken, written: w, finished: false });
        }
        self.closing = false;
        self.acc = 0;
        if self.no_context_takeover {
            (self.start, self.cur, self.end) = (0, 0, 0);
        }
        Ok(Compressed { taken, written: w, finished: true })
    }
}

impl<S> core::fmt::Debug for Compressor<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compressor")
            .field("window_bits", &self.bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish_non_exhaustive()
    }
}

const fn clamp(bits: u8) -> u8 {
    if bits < MIN_WINDOW_BITS {
        MIN_WINDOW_BITS
    } else if bits > MAX_WINDOW_BITS {
        MAX_WINDOW_BITS
    } else {
        bits
    }
}

const fn buffer_len(bits: u8) -> usize {
    (1 << bits) + LOOKAHEAD_ROOM
}

const fn hash_bits(bits: u8) -> u8 {
    if bits > MAX_HASH_BITS {
        MAX_HASH_BITS
    } else {
        bits
    }
}

/// The storage as the sliding buffer and the hash table.
fn split(storage: &mut [u8], bits: u8) -> (&mut [u8], &mut [u8]) {
    let (buf, rest) = storage.split_at_mut(buffer_len(bits).min(storage.len()));
    let head_len = (2usize << hash_bits(bits)).min(rest.len());
    (buf, rest.get_mut(..head_len).unwrap_or_default())
}

fn get16(table: &[u8], i: usize) -> u16 {
    match table.get(2 * i..2 * i + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    }
}

fn set16(table: &mut [u8], i: usize, value: u16) {
    if let Some(slot) = table.get_mut(2 * i..2 * i + 2) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

/// The hash of the three bytes at `at`.
fn hash(buf: &[u8], at: usize, bits: u8) -> usize {
    let b = |i: usize| u32::from(buf.get(at + i).copied().unwrap_or_default());
    let key = b(0) | b(1) << 8 | b(2) << 16;
    (key.wrapping_mul(0x9E37_79B1) >> (32 - u32::from(bits))) as usize
}

/// How many bytes from `a` and from `b` agree, up to `limit`.
fn common_prefix(buf: &[u8], a: usize, b: usize, limit: usize) -> usize {
    match (buf.get(a..a + limit), buf.get(b..b + limit)) {
        (Some(x), Some(y)) => x.iter().zip(y).take_while(|(p, q)| p == q).count(),
        _ => 0,
    }
}

/// `code`'s lowest `len` bits in reverse order: Huffman codes go out first bit first.
fn reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

/// The fixed Huffman code of a literal/length symbol (RFC 1951 §3.2.6), ready to put.
fn literal_code(symbol: u16) -> (u32, u32) {
    let s = u32::from(symbol);
    let (code, len) = match s {
        0..=143 => (0x30 + s, 8),
        144..=255 => (0x190 + s - 144, 9),
        256..=279 => (s - 256, 7),
        _ => (0xc0 + s - 280, 8),
    };
    (reverse(code, len), len)
}

/// A match length's symbol and extra bits (RFC 1951 §3.2.5).
fn length_code(len: usize) -> (u16, u32, u32) {
    if len == MAX_MATCH {
        return (285, 0, 0);
    }
    let x = (len - MIN_MATCH) as u32;
    if x < 8 {
        return (257 + x as u16, 0, 0);
    }
    let top = 31 - x.leading_zeros();
    let extra = top - 2;
    let code = 257 + 4 * (top - 1) + ((x >> extra) & 3);
    (code as u16, extra, x & ((1 << extra) - 1))
}

/// A distance's code and extra bits (RFC 1951 §3.2.5).
fn distance_code(dist: usize) -> (u32, u32, u32) {
    let x = (dist - 1) as u32;
    if x < 4 {
        return (x, 0, 0);
    }
    let top = 31 - x.leading_zeros();
    let extra = top - 1;
    (2 * top + ((x >> extra) & 1), extra, x & ((1 << extra) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_distance_codes_match_rfc_1951() {
        // (length, symbol, extra bits, extra value) from the table in §3.2.5.
        for (len, sym, eb, ev) in [
            (3, 257, 0, 0),
            (10, 264, 0, 0),
            (11, 265, 1, 0),
            (12, 265, 1, 1),
            (13, 266, 1, 0),
            (17, 268, 1, 0),
            (19, 269, 2, 0),
            (22, 269, 2, 3),
            (227, 284, 5, 0),
            (257, 284, 5, 30),
            (258, 285, 0, 0),
        ] {
            assert_eq!(length_code(len), (sym, eb, ev), "length {len}");
        }
        for (dist, code, eb, ev) in [
            (1, 0, 0, 0),
            (4, 3, 0, 0),
            (5, 4, 1, 0),
            (6, 4, 1, 1),
            (7, 5, 1, 0),
            (256, 15, 6, 63),
            (257, 16, 7, 0),
            (24577, 29, 13, 0),
            (32768, 29, 13, 8191),
        ] {
            assert_eq!(distance_code(dist), (code, eb, ev), "distance {dist}");
        }
    }
}
