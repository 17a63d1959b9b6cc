//! Deterministic random number generators: the runs are repeatable.

use ws_proto::rand_core::{impls, RngCore};

/// Marsaglia's xorshift32: masking keys and handshake nonces.
pub struct XorShift(u32);

impl XorShift {
    /// A generator from a non-zero seed.
    pub const fn new(seed: u32) -> Self {
        Self(seed)
    }
}

impl RngCore for XorShift {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    fn next_u64(&mut self) -> u64 {
        impls::next_u64_via_u32(self)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        impls::fill_bytes_via_next(self, dst)
    }
}

/// Always the same masking key, so that a client's frames can be compared with the RFC's.
pub struct FixedKey(pub [u8; 4]);

impl RngCore for FixedKey {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(self.0)
    }
    fn next_u64(&mut self) -> u64 {
        impls::next_u64_via_u32(self)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for (d, k) in dst.iter_mut().zip(self.0.iter().cycle()) {
            *d = *k;
        }
    }
}
