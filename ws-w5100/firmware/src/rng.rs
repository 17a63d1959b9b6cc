//! A small seeded PRNG for WebSocket client nonces and masking keys.
//!
//! The SAMD21 has no true random number generator, so this is the best a bare Zero can do,
//! and it is not much:
//! - [`Xoshiro128pp`] is xoshiro128++ (Blackman and Vigna): 16 bytes of state, good
//!   statistics, **not** cryptographically secure: whoever sees enough outputs (masking
//!   keys are sent in clear in every client frame) can recover the state and predict the
//!   following keys. RFC 6455 §10.3 asks masking keys to be unpredictable so that a
//!   hostile script cannot steer the bytes on the wire towards a proxy; that threat
//!   matters for browsers running untrusted code, much less for firmware that sends its
//!   own messages, but do not rely on these keys for more.
//! - The seed is only as good as its sources ([`EntropyPool`]): the chip's 128-bit serial
//!   number makes the streams of two boards differ but is no secret (it can be read over
//!   SWD, and it is the same after every reset); SysTick phase at moments that depend on
//!   other oscillators (the Ethernet chip's reset, a TCP handshake's round trip) and the
//!   low bits of a floating ADC input add real but unmeasured entropy, a few bits each.
//!
//! A board with a hardware TRNG (SAMD51, RP2040's ring oscillator, an ATECC608) should seed
//! from that instead.

use rand_core::RngCore;

/// xoshiro128++: a 32-bit PRNG with a 2^128 - 1 period. Not cryptographically secure.
#[derive(Debug, Clone)]
pub struct Xoshiro128pp {
    s: [u32; 4],
}

impl Xoshiro128pp {
    /// Starts from a 128-bit seed; an all-zero seed (the one fixed point) is replaced.
    pub fn from_seed(seed: [u32; 4]) -> Self {
        if seed == [0; 4] {
            return Self { s: [0x9E37_79B9, 0x7F4A_7C15, 0xF39C_C060, 0x5CED_C834] };
        }
        Self { s: seed }
    }
}

impl RngCore for Xoshiro128pp {
    fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_u32(self)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dst)
    }
}

/// Collects seed material word by word and stirs it into 128 bits.
///
/// The stirring is ChaCha's quarter round: it spreads every input bit over the state, it
/// does not create entropy. The seed has exactly as much as the sources added.
#[derive(Debug, Clone, Default)]
pub struct EntropyPool {
    s: [u32; 4],
    count: u32,
}

impl EntropyPool {
    /// An empty pool.
    pub const fn new() -> Self {
        Self { s: [0; 4], count: 0 }
    }

    /// Adds one word of seed material.
    pub fn add(&mut self, word: u32) {
        self.count = self.count.wrapping_add(1);
        self.s[0] ^= word;
        self.s[3] ^= self.count;
        self.stir();
        self.stir();
    }

    /// Adds the chip's 128-bit serial number: unique per chip, not secret.
    pub fn add_serial_number(&mut self) {
        let (a, b, c, d) = atsamd_hal::split_serial_number();
        for word in [a, b, c, d] {
            self.add(word);
        }
    }

    /// Finishes the seed and starts a generator from it.
    pub fn into_rng(mut self) -> Xoshiro128pp {
        for _ in 0..4 {
            self.stir();
        }
        Xoshiro128pp::from_seed(self.s)
    }

    fn stir(&mut self) {
        let [mut a, mut b, mut c, mut d] = self.s;
        a = a.wrapping_add(b);
        d = (d ^ a).rotate_left(16);
        c = c.wrapping_add(d);
        b = (b ^ c).rotate_left(12);
        a = a.wrapping_add(b);
        d = (d ^ a).rotate_left(8);
        c = c.wrapping_add(d);
        b = (b ^ c).rotate_left(7);
        // Rotate the words so the next round mixes them in a different order.
        self.s = [b, c, d, a];
    }
}
