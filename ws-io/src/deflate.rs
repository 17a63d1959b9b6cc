//! permessage-deflate (feature `deflate`, which needs `alloc`): the state a connection
//! allocates once compression is agreed, each part when first used.
//!
//! - Receiving: ws-proto's [`Inflater`] over a heap window of the peer's size (2^bits
//!   bytes; 32 KiB for a browser).
//! - Sending: at a 32 KiB window, miniz_oxide's compressor at level 4 (dynamic Huffman
//!   codes, lazy matching: within 5 % of zlib level 6's size on JSON and faster than it,
//!   where level 6 is 3× slower for 4 % less; about 230 KB of heap); below it,
//!   ws-proto's [`Compressor`], the one that keeps every match within a small window
//!   (RFC 7692 lets a peer ask for 256 bytes).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use ws_proto::deflate::{Compress, Compressed, Compressor, Deflate, Inflater, MAX_WINDOW_BITS};

/// The heap inflater of a connection.
pub(crate) type HeapInflater = Box<Inflater<Vec<u8>>>;

/// The heap compressor of a connection.
pub(crate) type HeapCompressor = Box<dyn Compress + Send>;

/// An inflater for what was agreed.
pub(crate) fn inflater(deflate: &Deflate) -> Result<HeapInflater, ws_proto::Error> {
    Ok(Box::new(Inflater::new(vec![0u8; 1 << deflate.receive_window_bits()])))
}

/// A compressor for what was agreed.
pub(crate) fn compressor(deflate: &Deflate) -> Result<HeapCompressor, ws_proto::Error> {
    let (bits, fresh) = (deflate.send_window_bits(), deflate.send_no_context_takeover());
    if bits == MAX_WINDOW_BITS {
        return Ok(Box::new(Miniz::new(fresh)));
    }
    let storage = vec![0u8; Compressor::<Vec<u8>>::storage_len(bits)];
    Ok(Box::new(Compressor::new(storage, bits, fresh)?))
}

/// miniz_oxide's compressor at a 32 KiB window, level [`LEVEL`], in the shape permessage-deflate
/// wants: a sync flush ends each message and its `00 00 ff ff` is left off.
/// miniz_oxide's level: 4 searches 16 candidates per match where 6 searches 128.
const LEVEL: i32 = 4;

struct Miniz {
    inner: Box<CompressorOxide>,
    no_context_takeover: bool,
    /// Output of the message so far (`..end`), written out as room allows; the rest is
    /// room kept zeroed for the next call.
    out: Vec<u8>,
    end: usize,
    /// How much of `out` is written.
    sent: usize,
    /// The message's sync flush is in `out`.
    flushed: bool,
}

impl Miniz {
    fn new(no_context_takeover: bool) -> Self {
        let flags = create_comp_flags_from_zip_params(LEVEL, -i32::from(MAX_WINDOW_BITS), 0);
        Self {
            inner: Box::new(CompressorOxide::new(flags)),
            no_context_takeover,
            out: Vec::new(),
            end: 0,
            sent: 0,
            flushed: false,
        }
    }

    /// Runs the compressor on `input` until it has taken all of it and holds no output.
    fn run(&mut self, input: &[u8], flush: TDEFLFlush) -> Result<(), ws_proto::Error> {
        let mut taken = 0;
        loop {
            // Room for anything the call can produce (miniz_oxide flushes blocks of up to
            // about 85 KB), so that none stays inside it: output held back by a call
            // without a flush would be all a flushing call gives, and the flush itself
            // would be lost.
            let room = 2 * (input.len() - taken) + (96 << 10);
            if self.out.len() < self.end + room {
                self.out.resize(self.end + room, 0);
            }
            let rest = input.get(taken..).unwrap_or_default();
            let spare = self.out.get_mut(self.end..self.end + room).unwrap_or_default();
            let (status, used, written) = compress(&mut self.inner, rest, spare, flush);
            self.end += written;
            taken += used;
            if status != TDEFLStatus::Okay {
                return Err(ws_proto::Error::InvalidSend);
            }
            if taken == input.len() && written < room {
                return Ok(());
            }
        }
    }
}

impl Compress for Miniz {
    fn window_bits(&self) -> u8 {
        MAX_WINDOW_BITS
    }

    fn compress(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        finish: bool,
    ) -> Result<Compressed, ws_proto::Error> {
        let mut taken = 0;
        if !self.flushed {
            self.run(input, if finish { TDEFLFlush::Sync } else { TDEFLFlush::None })?;
            taken = input.len();
            if finish {
                if self.out.get(..self.end).is_some_and(|o| o.ends_with(&[0, 0, 0xff, 0xff])) {
                    self.end -= 4;
                }
                self.flushed = true;
            }
        }
        let pending = self.out.get(self.sent..self.end).unwrap_or_default();
        let n = pending.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), pending.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.sent += n;
        let finished = self.flushed && self.sent == self.end;
        if self.sent == self.end {
            (self.sent, self.end) = (0, 0);
        }
        if finished {
            self.flushed = false;
            if self.no_context_takeover {
                self.inner.reset();
            }
        }
        Ok(Compressed { taken, written: n, finished })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                // Half noise, half text: incompressible stretches among compressible ones.
                if (i / 4096) % 2 == 0 {
                    (x >> 33) as u8
                } else {
                    b"the quick brown fox "[i % 20]
                }
            })
            .collect()
    }

    /// Compresses `message` in `piece`-sized inputs through `out`-sized outputs, as
    /// `send_chunk` does, and inflates it with zlib.
    fn round_trip(
        c: &mut dyn Compress,
        z: &mut Decompress,
        message: &[u8],
        piece: usize,
        out_len: usize,
    ) -> Vec<u8> {
        let mut wire = Vec::new();
        let mut out = vec![0u8; out_len];
        // The message's end may come as an empty last piece, as an echo forwards it.
        let mut pieces: Vec<&[u8]> = message.chunks(piece).collect();
        if piece != 1000 {
            pieces.push(&[]);
        }
        for (i, p) in pieces.iter().enumerate() {
            let fin = i + 1 == pieces.len();
            let mut rest = *p;
            loop {
                let done = c.compress(rest, &mut out, fin).unwrap();
                wire.extend_from_slice(&out[..done.written]);
                rest = &rest[done.taken..];
                if done.finished || (!fin && rest.is_empty()) {
                    break;
                }
            }
        }
        wire.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut inflated = Vec::with_capacity(message.len() + 1024);
        let before = z.total_in();
        while ((z.total_in() - before) as usize) < wire.len() {
            let at = (z.total_in() - before) as usize;
            inflated.reserve(1 << 16);
            z.decompress_vec(&wire[at..], &mut inflated, FlushDecompress::Sync).unwrap();
        }
        inflated
    }

    /// JSON-like text: the traffic compression is for.
    fn json(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut s = String::from("[");
        while s.len() < len {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = x >> 11;
            s.push_str(&format!(
                "{{\"id\":{},\"sensor\":\"room-{}\",\"temperature\":{}.{},\"ok\":{}}},",
                r % 100_000,
                (r >> 20) % 64,
                (r >> 30) % 40,
                (r >> 40) % 10,
                r & 1 == 0
            ));
        }
        s.truncate(len);
        s.into_bytes()
    }

    #[test]
    fn json_compresses_within_15_percent_of_zlib_level_6() {
        let (mut ours, mut zlib) = (0, 0);
        for seed in 0..8 {
            let message = json(65_536, seed);
            let mut c = Miniz::new(true);
            let mut out = vec![0u8; 1 << 17];
            let done = c.compress(&message, &mut out, true).unwrap();
            assert!(done.finished);
            ours += done.written;
            let mut z = flate2::Compress::new(flate2::Compression::new(6), false);
            let mut o = Vec::with_capacity(1 << 17);
            z.compress_vec(&message, &mut o, flate2::FlushCompress::Sync).unwrap();
            zlib += o.len() - 4;
        }
        assert!(ours * 100 <= zlib * 115, "{ours} bytes against zlib's {zlib}");
    }

    #[test]
    fn miniz_messages_inflate_in_zlib_whatever_the_pieces() {
        for (piece, out_len) in [(1 << 20, 16 << 10), (32 << 10, 16 << 10), (1000, 300), (7, 64)] {
            for takeover in [false, true] {
                let mut c = Miniz::new(!takeover);
                let mut z = Decompress::new(false);
                for seed in 0..4 {
                    let message = noise(131_072, seed);
                    let got = round_trip(&mut c, &mut z, &message, piece, out_len);
                    assert!(
                        got == message,
                        "piece {piece}, out {out_len}, takeover {takeover}, seed {seed}: {} of {} bytes",
                        got.len(),
                        message.len()
                    );
                    if !takeover {
                        z.reset(false);
                    }
                }
            }
        }
    }
}
