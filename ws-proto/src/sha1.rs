//! SHA-1 (RFC 3174), rolled into one loop, for `Sec-WebSocket-Accept`.
//!
//! The opening handshake hashes 60 bytes once per connection, so speed does not matter
//! and size does: the unrolled `sha1_smol` costs 2.4 KB more flash on a Cortex-M0, an
//! eighth of the firmware's budget. Written without indexing that could panic, so the
//! handshake stays provably panic-free. SHA-1's weaknesses do not matter here: the
//! accept key only proves the server understood the WebSocket request.

/// Incremental SHA-1 state.
#[derive(Debug, Clone)]
pub struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    /// Bytes in `block`.
    fill: usize,
    /// Message length so far, in bytes.
    len: u64,
}

impl Default for Sha1 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha1 {
    /// A fresh hash.
    pub const fn new() -> Self {
        Self {
            state: [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0],
            block: [0; 64],
            fill: 0,
            len: 0,
        }
    }

    /// Hashes more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        for &byte in data {
            self.push(byte);
        }
    }

    /// The 20-byte digest.
    pub fn digest(mut self) -> [u8; 20] {
        let bits = self.len.wrapping_mul(8);
        self.push(0x80);
        while self.fill != 56 {
            self.push(0);
        }
        for byte in bits.to_be_bytes() {
            self.push(byte);
        }
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.block.get_mut(self.fill) {
            *slot = byte;
        }
        self.fill += 1;
        if self.fill == 64 {
            self.fill = 0;
            self.compress();
        }
    }

    fn compress(&mut self) {
        // The 16-word window of the message schedule, extended in place.
        let mut w = [0u32; 16];
        for (word, bytes) in w.iter_mut().zip(self.block.chunks_exact(4)) {
            *word = <[u8; 4]>::try_from(bytes).map(u32::from_be_bytes).unwrap_or(0);
        }
        // Masking with 15 keeps every index in range; `get` just says so to the compiler.
        let at = |w: &[u32; 16], i: usize| w.get(i & 15).copied().unwrap_or(0);
        let [mut a, mut b, mut c, mut d, mut e] = self.state;
        for t in 0..80 {
            let s = t & 15;
            if t >= 16 {
                let x = at(&w, s + 13) ^ at(&w, s + 8) ^ at(&w, s + 2) ^ at(&w, s);
                if let Some(slot) = w.get_mut(s) {
                    *slot = x.rotate_left(1);
                }
            }
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp =
                a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(at(&w, s));
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (h, v) in self.state.iter_mut().zip([a, b, c, d, e]) {
            *h = h.wrapping_add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(digest: [u8; 20]) -> String {
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn sha1(data: &[u8]) -> [u8; 20] {
        let mut h = Sha1::new();
        h.update(data);
        h.digest()
    }

    #[test]
    fn rfc3174_vectors() {
        assert_eq!(hex(sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(sha1(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(hex(sha1(&[b'a'; 1_000_000])), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
        let mut h = Sha1::new();
        for _ in 0..10 {
            h.update(b"0123456701234567012345670123456701234567012345670123456701234567");
        }
        assert_eq!(hex(h.digest()), "dea356a2cddd90c7a7ecedc5ebb563934f460452");
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_sha1_smol(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), split in 0usize..300) {
            let split = split.min(data.len());
            let mut h = Sha1::new();
            h.update(&data[..split]);
            h.update(&data[split..]);
            proptest::prop_assert_eq!(h.digest(), sha1_smol::Sha1::from(&data).digest().bytes());
        }
    }
}
