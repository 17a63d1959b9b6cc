//! A receive buffer that keeps what the connection leaves for the next read.

use rand_core::RngCore;

use crate::{Connection, Error, Event};

/// A receive buffer: bytes are read into its [`spare`](Self::spare) room, the connection
/// takes them from [`pending`](Self::pending), and what it leaves (a partial frame header
/// or control frame) stays for the next read. Any storage works: an array, a `Vec`, a
/// borrowed slice.
///
/// ```
/// use ws_proto::{Connection, Config, Event, ReadBuffer};
///
/// let mut conn = Connection::server(Config::default());
/// let mut rx = ReadBuffer::new([0u8; 256]);
/// let wire = [0x89, 0x80, 1, 2, 3, 4]; // a masked, empty ping
/// for byte in wire {
///     // One byte per read: the header is kept until it is whole.
///     rx.fill(|spare| Ok::<_, ()>(spare.iter_mut().take(1).map(|b| *b = byte).count()))?;
///     if let Some(event) = rx.receive(&mut conn).expect("valid") {
///         assert_eq!(event, Event::Ping(&[]));
///     }
/// }
/// assert!(rx.pending().is_empty());
/// # Ok::<(), ()>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReadBuffer<B> {
    buf: B,
    start: usize,
    end: usize,
    /// While `end` is below this, [`receive`](Self::receive) holds the pending bytes back
    /// without asking the connection again. Cleared whenever `start` moves other than by
    /// a delivery, so it never holds back longer than the connection would.
    release: usize,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> ReadBuffer<B> {
    /// An empty buffer in `buf`. Give it at least 139 bytes: a whole control frame must fit.
    pub fn new(buf: B) -> Self {
        Self { buf, start: 0, end: 0, release: 0 }
    }

    /// The bytes read and not yet consumed.
    pub fn pending(&self) -> &[u8] {
        self.buf.as_ref().get(self.start..self.end).unwrap_or_default()
    }

    /// The pending bytes, to be consumed in place (see [`Connection::receive`]).
    pub fn pending_mut(&mut self) -> &mut [u8] {
        self.buf.as_mut().get_mut(self.start..self.end).unwrap_or_default()
    }

    /// Marks the first `n` pending bytes as used.
    pub fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        self.release = 0;
    }

    /// How many bytes of [`filled`](Self::filled) are consumed: the pending ones start here.
    pub fn consumed(&self) -> usize {
        self.start
    }

    /// Everything read since the buffer last moved its pending bytes to the front,
    /// consumed or not. Positions in it hold until the next [`spare`](Self::spare) or
    /// [`fill`](Self::fill), so an event can be kept as a position rather than a borrow.
    pub fn filled(&self) -> &[u8] {
        self.buf.as_ref().get(..self.end).unwrap_or_default()
    }

    /// The room to read into, after the pending bytes. They are moved to the front first
    /// when the room behind them is less than half the buffer, so the room is empty only
    /// when the pending bytes fill the whole buffer.
    pub fn spare(&mut self) -> &mut [u8] {
        let (start, end, len) = (self.start, self.end, self.buf.as_ref().len());
        if start == end {
            // Everything was consumed (the usual case): nothing to move.
            (self.start, self.end, self.release) = (0, 0, 0);
        } else if start > 0 && len - end < len / 2 {
            move_to_front(self.buf.as_mut(), start, end);
            (self.start, self.end, self.release) = (0, end - start, 0);
        }
        self.buf.as_mut().get_mut(self.end..).unwrap_or_default()
    }

    /// Records that `n` bytes were read into [`spare`](Self::spare).
    pub fn commit(&mut self, n: usize) {
        self.end = self.end.saturating_add(n).min(self.buf.as_ref().len());
    }

    /// Reads once into the spare room with `read` (e.g. `|spare| stream.read(spare)`);
    /// returns what it returns: the byte count, 0 at the end of the stream.
    pub fn fill<E>(&mut self, read: impl FnOnce(&mut [u8]) -> Result<usize, E>) -> Result<usize, E> {
        let n = read(self.spare())?;
        self.commit(n);
        Ok(n)
    }

    /// Feeds the pending bytes to `conn`, consuming what it takes: the next event, or
    /// `Ok(None)` when it needs more bytes (read some, then call again).
    ///
    /// The middle of a data frame's payload is held back while it is shorter than half
    /// the buffer: it comes out once that much has arrived, or with the end of its frame.
    /// A frame that fits in half the buffer waits, once its header is there and accepted,
    /// until it is there whole (a refused header fails at once). Reads of a few bytes then
    /// cost a copy each, not an event each, and the chunks delivered are larger, a short
    /// frame's payload in one piece. The price is in text: invalid UTF-8 among held bytes is
    /// found when they come out, not as they arrive. [`Connection::receive`] on
    /// [`pending_mut`](Self::pending_mut) delivers (and checks) every byte at once
    /// instead; ws-io does that, so it fails such a message as soon as it can.
    #[inline]
    pub fn receive<R: RngCore>(&mut self, conn: &mut Connection<R>) -> Result<Option<Event<'_>>, Error> {
        if self.end < self.release {
            // Most calls end here when reads are small.
            return Ok(None);
        }
        self.deliver(conn)
    }

    /// Feeds the pending bytes to `conn`, unless more are worth waiting for (the rest of
    /// a payload or of a short frame, up to half the buffer): then it notes where they
    /// are to be released.
    #[inline(never)]
    fn deliver<R: RngCore>(&mut self, conn: &mut Connection<R>) -> Result<Option<Event<'_>>, Error> {
        let Self { buf, start, end, release } = self;
        let buf = buf.as_mut();
        let half = buf.len() / 2;
        let pending = buf.get_mut(*start..*end).unwrap_or_default();
        let hold = conn.worth_waiting_for(pending, half);
        if pending.len() < hold {
            *release = start.saturating_add(hold);
            return Ok(None);
        }
        let (used, event) = conn.receive(pending);
        *start += used;
        event
    }

    /// The storage back.
    pub fn into_inner(self) -> B {
        self.buf
    }
}

/// Moves `buf[start..end]` to the front. What is left pending is short (a partial frame)
/// and far behind, so it is copied with `memcpy`; an overlapping move goes byte by byte,
/// which spares a device the 1.3 KiB of flash of the general `memmove`.
fn move_to_front(buf: &mut [u8], start: usize, end: usize) {
    let len = end.saturating_sub(start);
    if let Some((front, back)) = buf.split_at_mut_checked(start) {
        if let (Some(dst), Some(src)) = (front.get_mut(..len), back.get(..len)) {
            dst.copy_from_slice(src);
            return;
        }
    }
    for i in 0..len {
        if let Some(&byte) = buf.get(start + i) {
            if let Some(dst) = buf.get_mut(i) {
                *dst = byte;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, DataKind};

    #[test]
    fn moves_pending_bytes_to_the_front_overlapping_or_not() {
        for (start, end) in [(6, 8), (2, 8), (0, 8), (8, 8), (3, 5)] {
            let mut buf: Vec<u8> = (0..8).collect();
            move_to_front(&mut buf, start, end);
            let expected: Vec<u8> = (start as u8..end as u8).collect();
            assert_eq!(&buf[..end - start], &expected[..], "{start}..{end}");
        }
    }

    /// A masked binary frame of `len` bytes `0, 1, 2, …`, with a 16-bit length.
    fn binary_frame(len: u16) -> Vec<u8> {
        let key = [1, 2, 3, 4];
        let mut wire = vec![0x82, 0xFE];
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&key);
        wire.extend((0..len).map(|i| (i as u8) ^ key[usize::from(i) % 4]));
        wire
    }

    /// The data delivered, and each chunk's length and fin flag.
    type Received = (Vec<u8>, Vec<(usize, bool)>);

    /// Feeds `wire` to a server's 256-byte `ReadBuffer` in reads of `read` bytes: what it
    /// delivers, or the first error.
    fn receive_in_reads(config: Config, wire: &[u8], read: usize) -> Result<Received, Error> {
        let mut conn = Connection::server(config);
        let mut rx = ReadBuffer::new([0u8; 256]);
        let (mut data, mut chunks) = (Vec::new(), Vec::new());
        let mut rest = wire;
        while !rest.is_empty() {
            // A read fills at most the spare room, as a socket's would.
            let n = rx
                .fill(|spare| {
                    let n = read.min(spare.len()).min(rest.len());
                    spare[..n].copy_from_slice(&rest[..n]);
                    Ok::<_, ()>(n)
                })
                .unwrap();
            assert!(n > 0, "the buffer filled up with nothing to deliver");
            rest = &rest[n..];
            while let Some(event) = rx.receive(&mut conn)? {
                if let Event::Data { payload, fin, .. } = event {
                    data.extend_from_slice(payload);
                    chunks.push((payload.len(), fin));
                }
            }
        }
        Ok((data, chunks))
    }

    #[test]
    fn holds_the_middle_of_a_payload_back_until_half_the_buffer() {
        let wire = binary_frame(1000);
        for read in [1, 3, 64, 100, 200] {
            let (payload, chunks) = receive_in_reads(Config::default(), &wire, read).unwrap();
            assert_eq!(payload, (0..1000).map(|i| i as u8).collect::<Vec<_>>(), "reads of {read}");
            let (last, middle) = chunks.split_last().unwrap();
            assert!(last.1, "reads of {read}: the frame's end comes out at once");
            // After the first chunk (what came with the header), each is at least 128 bytes.
            for &(len, fin) in middle.iter().skip(1) {
                assert!(len >= 128 && !fin, "reads of {read}: {chunks:?}");
            }
        }
    }

    #[test]
    fn a_short_frame_comes_out_whole() {
        // Three 100-byte frames (106 bytes each), then a ping: the ping fits as well.
        let mut wire: Vec<u8> = (0..3).flat_map(|_| binary_frame(100)).collect();
        wire.extend_from_slice(&[0x89, 0x80, 1, 2, 3, 4]);
        for read in [1, 2, 5, 64, 100] {
            let (_, chunks) = receive_in_reads(Config::default(), &wire, read).unwrap();
            assert_eq!(chunks, [(100, true); 3], "reads of {read}");
        }
    }

    #[test]
    fn a_refused_header_fails_at_once() {
        // A server refuses an unmasked frame, and one larger than its message limit.
        let unmasked = [0x82, 100];
        let too_large = &binary_frame(100)[..8];
        for (wire, config, error) in [
            (&unmasked[..], Config::default(), Error::UnmaskedFrame),
            (too_large, Config::default().max_message_size(50), Error::MessageTooLarge),
        ] {
            assert_eq!(receive_in_reads(config, wire, 1), Err(error));
        }
    }

    /// A masked binary frame of `len` bytes `0, 1, 2, …`, its length in the fewest bytes.
    fn short_or_long_frame(len: u16) -> Vec<u8> {
        let mut wire = binary_frame(len);
        if len <= 125 {
            wire.splice(1..4, [0x80 | len as u8]);
        }
        wire
    }

    proptest::proptest! {
        /// Frames of any length up to beyond half the buffer, read in pieces of any size:
        /// every payload byte comes out once, in order, and each frame ends with a fin.
        #[test]
        fn any_frames_in_any_reads_come_out_whole(
            lens in proptest::collection::vec(0u16..300, 1..8),
            read in 1usize..200,
        ) {
            let wire: Vec<u8> = lens.iter().flat_map(|&len| short_or_long_frame(len)).collect();
            let expected: Vec<u8> = lens.iter().flat_map(|&len| (0..len).map(|i| i as u8)).collect();
            let (data, chunks) = receive_in_reads(Config::default(), &wire, read).unwrap();
            proptest::prop_assert_eq!(data, expected);
            proptest::prop_assert_eq!(chunks.iter().filter(|&&(_, fin)| fin).count(), lens.len());
        }
    }

    #[test]
    fn room_runs_out_only_when_the_pending_bytes_fill_the_buffer() {
        let mut rx = ReadBuffer::new([0u8; 64]);
        rx.commit(64);
        rx.consume(10);
        // 54 pending bytes, no room behind them: they move to the front.
        assert_eq!(rx.spare().len(), 10);
        assert_eq!(rx.pending().len(), 54);
        rx.consume(20);
        // 34 pending, 10 free behind them (less than half): moved again.
        assert_eq!(rx.spare().len(), 30);
        rx.commit(30);
        rx.consume(64);
        // All consumed: the whole buffer is free.
        assert_eq!(rx.spare().len(), 64);
    }

    #[test]
    fn keeps_partial_frames_and_compacts() {
        let mut conn = Connection::server(Config::default());
        let mut rx = ReadBuffer::new([0u8; 16]);
        // Two masked frames "ab" and "cd" (8 bytes each), delivered in reads of 5 bytes.
        let wire = [0x81, 0x82, 0, 0, 0, 0, b'a', b'b', 0x81, 0x82, 0, 0, 0, 0, b'c', b'd'];
        let mut got = Vec::new();
        for piece in wire.chunks(5) {
            let n = rx.fill(|spare| {
                spare[..piece.len()].copy_from_slice(piece);
                Ok::<_, ()>(piece.len())
            });
            assert_eq!(n, Ok(piece.len()));
            while let Some(event) = rx.receive(&mut conn).unwrap() {
                if let Event::Data { kind: DataKind::Text, payload, .. } = event {
                    got.extend_from_slice(payload);
                }
            }
            assert!(rx.pending().len() < 14);
        }
        assert_eq!(got, b"abcd");
        rx.consume(100);
        assert!(rx.pending().is_empty());
        assert_eq!(rx.consumed(), rx.filled().len());
        rx.commit(100);
        assert_eq!(rx.spare().len() + rx.pending().len(), 16);
    }
}
