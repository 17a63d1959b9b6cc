//! Inflating received messages: miniz_oxide's core decompressor over a ring window the
//! caller provides.

use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::MIN_WINDOW_BITS;
use crate::Error;

/// What a sync flush ends with and RFC 7692 §7.2.2 has the receiver put back.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The decompressor of one connection's received messages: miniz_oxide's
/// `DecompressorOxide` (about 10.5 KB, no allocation) and a window of memory the caller
/// provides, a power of two at least as large as the peer's window (2^bits bytes,
/// [`Deflate::receive_window_bits`]). Inflated bytes are handed out as slices of the
/// window, so the window is also the output buffer: every chunk is at most its size.
///
/// ```
/// use ws_proto::deflate::Inflater;
/// let inflater = Inflater::new([0u8; 512]);
/// assert_eq!(inflater.window_bits(), 9);
/// ```
///
/// [`Deflate::receive_window_bits`]: super::Deflate::receive_window_bits
pub struct Inflater<W> {
    state: DecompressorOxide,
    window: W,
    /// Where the next inflated byte goes.
    pos: usize,
    phase: Phase,
    /// The stream ended (a block with BFINAL): the next message starts a new one.
    ended: bool,
    /// The latest chunk inflated: where it starts in the window, and its length.
    last: (usize, usize),
}

/// Where the inflater is within a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between messages.
    Idle,
    /// Taking the message's compressed bytes; `pending`: output is waiting for room.
    Body { pending: bool },
    /// The compressed bytes are in; the sync-flush tail is being fed (bytes fed so far).
    Tail { fed: u8, pending: bool },
}

/// What one [`Inflater::inflate`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Compressed bytes taken.
    pub(crate) taken: usize,
    /// Inflated bytes, at `start` in the window.
    pub(crate) start: usize,
    pub(crate) len: usize,
    /// The message is complete.
    pub(crate) done: bool,
}

impl<W: AsRef<[u8]> + AsMut<[u8]>> Inflater<W> {
    /// An inflater over `window`, whose length must be a power of two of at least 256
    /// bytes: any other window has [`window_bits`](Self::window_bits) 0, and
    /// [`Connection::receive_with`](crate::Connection::receive_with) refuses it with
    /// [`Error::BufferTooSmall`]. (Infallible, so that its 10.5 KB are built in place: a
    /// device keeps it in a stack frame or a static without a copy.)
    pub fn new(window: W) -> Self {
        Self {
            state: DecompressorOxide::new(),
            window,
            pos: 0,
            phase: Phase::Idle,
            ended: false,
            last: (0, 0),
        }
    }

    /// The largest peer window it can inflate, as a base-2 logarithm; 0 for a window that
    /// is not a power of two of at least 256 bytes.
    pub fn window_bits(&self) -> u8 {
        let len = self.window.as_ref().len();
        if !len.is_power_of_two() || len < 1 << MIN_WINDOW_BITS {
            return 0;
        }
        // A power of two: its trailing zeros are its logarithm.
        len.trailing_zeros().min(u32::from(u8::MAX)) as u8
    }

    /// Whether no message is being inflated: between messages it may serve another
    /// connection whose peer compresses without context takeover, as this one's does.
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Idle
    }

    /// The latest chunk of inflated bytes, as the last
    /// [`Event::Data`](crate::Event::Data) from a compressed message gave it.
    pub fn last_output(&self) -> &[u8] {
        self.output(self.last.0, self.last.1)
    }

    /// Forgets any message in progress and the history: a fresh start.
    pub fn reset(&mut self) {
        self.state.init();
        self.phase = Phase::Idle;
        self.ended = false;
    }

    /// Whether output is waiting for the next call, with or without more input.
    pub(crate) fn pending(&self) -> bool {
        matches!(self.phase, Phase::Body { pending: true } | Phase::Tail { .. })
    }

    /// Inflated bytes at `start..start + len` of the window.
    pub(crate) fn output(&self, start: usize, len: usize) -> &[u8] {
        self.window.as_ref().get(start..start + len).unwrap_or_default()
    }

    /// Inflates from `input`, the message's next compressed bytes; `last` when they are
    /// all of the rest of it. `fresh` starts the message with no history (the peer does
    /// not take over its context).
    pub(crate) fn inflate(&mut self, input: &[u8], last: bool, fresh: bool) -> Result<Step, Error> {
        let step = self.inflate_inner(input, last, fresh);
        if let Ok(step) = &step {
            self.last = (step.start, step.len);
        }
        step
    }

    fn inflate_inner(&mut self, input: &[u8], last: bool, fresh: bool) -> Result<Step, Error> {
        if self.phase == Phase::Idle {
            if fresh || self.ended {
                self.state.init();
                self.ended = false;
            }
            self.phase = Phase::Body { pending: false };
        }
        let mut step = Step { taken: 0, start: self.pos, len: 0, done: false };
        if let Phase::Body { .. } = self.phase {
            let (status, taken, written) = self.run(input);
            step.taken = taken;
            step.len = written;
            match status {
                TINFLStatus::HasMoreOutput => {
                    self.phase = Phase::Body { pending: true };
                    return Ok(step);
                }
                TINFLStatus::Done => {
                    // The peer ended the DEFLATE stream inside the message: nothing of the
                    // message may follow.
                    if taken < input.len() || !last {
                        return Err(Error::InvalidCompressedData);
                    }
                    self.ended = true;
                    self.phase = Phase::Idle;
                    step.done = true;
                    return Ok(step);
                }
                TINFLStatus::NeedsMoreInput if taken == input.len() => {
                    self.phase = if last {
                        Phase::Tail { fed: 0, pending: false }
                    } else {
                        Phase::Body { pending: false }
                    };
                    // The tail's output follows on in the window unless this output ended
                    // at the window's end; then it comes with the next call.
                    if !last || (written > 0 && self.pos == 0) {
                        return Ok(step);
                    }
                }
                _ => return Err(Error::InvalidCompressedData),
            }
        }
        // The tail: fed after the last compressed byte, it flushes the rest out.
        if let Phase::Tail { fed, .. } = self.phase {
            let rest = TAIL.get(usize::from(fed)..).unwrap_or_default();
            let (status, taken, written) = self.run(rest);
            step.len += written;
            let fed = fed + taken as u8;
            match status {
                TINFLStatus::HasMoreOutput => self.phase = Phase::Tail { fed, pending: true },
                TINFLStatus::NeedsMoreInput if usize::from(fed) == TAIL.len() => {
                    self.phase = Phase::Idle;
                    step.done = true;
                }
                TINFLStatus::Done => {
                    self.ended = true;
                    self.phase = Phase::Idle;
                    step.done = true;
                }
                _ => return Err(Error::InvalidCompressedData),
            }
        }
        Ok(step)
    }

    /// One decompressor call from `input` into the window at `pos`, up to its end.
    fn run(&mut self, input: &[u8]) -> (TINFLStatus, usize, usize) {
        let window = self.window.as_mut();
        let (status, taken, written) =
            decompress(&mut self.state, input, window, self.pos, TINFL_FLAG_HAS_MORE_INPUT);
        // Wrap to the start once the end is reached (a power-of-two length).
        self.pos = (self.pos + written) & (window.len() - 1);
        (status, taken, written)
    }
}

impl<W: AsRef<[u8]> + AsMut<[u8]>> crate::connection::receive::Inflate for Inflater<W> {
    fn inflate(&mut self, input: &[u8], last: bool, fresh: bool) -> Result<Step, Error> {
        Inflater::inflate(self, input, last, fresh)
    }

    fn pending(&self) -> bool {
        Inflater::pending(self)
    }

    fn output(&self, start: usize, len: usize) -> &[u8] {
        Inflater::output(self, start, len)
    }
}

impl<W> core::fmt::Debug for Inflater<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater").field("pos", &self.pos).field("phase", &self.phase).finish_non_exhaustive()
    }
}
