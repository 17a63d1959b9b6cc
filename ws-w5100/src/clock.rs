//! The caller's millisecond clock, which every wait on the chip is measured with.

/// A monotonic millisecond clock: the driver's waits on the chip (reset, socket commands,
/// state changes, a graceful close) end at deadlines on it, so they last as long whatever
/// the SPI clock.
///
/// Any `FnMut() -> u64` is one: a function such as a firmware's SysTick counter
/// (`W5100::new(spi, clock::now_ms)`), or on a host a closure over a start
/// [`Instant`](https://doc.rust-lang.org/std/time/struct.Instant.html):
/// `move || start.elapsed().as_millis() as u64`.
///
/// The clock must advance on its own (from a timer interrupt or the host's clock): a clock
/// that stands still while the driver waits makes every wait last until the chip answers.
pub trait Clock {
    /// Milliseconds since any fixed point; never goes backwards.
    fn now_ms(&mut self) -> u64;
}

impl<F: FnMut() -> u64> Clock for F {
    fn now_ms(&mut self) -> u64 {
        self()
    }
}
