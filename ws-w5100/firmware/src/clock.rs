//! A monotonic millisecond clock: SysTick interrupts once a millisecond and counts.
//!
//! Each binary installs the handler (`#[exception] fn SysTick() { clock::tick() }`), so
//! it is linked in whatever the build settings. thumbv6m has atomic loads and stores but
//! no compare-and-swap; none is needed, because the handler is the only writer and thread
//! mode cannot interrupt it.

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;

/// Milliseconds since [`start`], low word.
static LOW: AtomicU32 = AtomicU32::new(0);
/// Milliseconds since [`start`], high word (bumps every 49.7 days).
static HIGH: AtomicU32 = AtomicU32::new(0);

/// Starts SysTick at 1 kHz from the core clock.
pub fn start(mut syst: SYST, core_hz: u32) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(core_hz / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Advances the clock by one millisecond. Call it from the `SysTick` handler only.
pub fn tick() {
    let low = LOW.load(Ordering::Acquire).wrapping_add(1);
    LOW.store(low, Ordering::Release);
    if low == 0 {
        HIGH.store(HIGH.load(Ordering::Acquire).wrapping_add(1), Ordering::Release);
    }
}

/// Milliseconds since [`start`]; never goes backwards.
pub fn now_ms() -> u64 {
    loop {
        let high = HIGH.load(Ordering::Acquire);
        let low = LOW.load(Ordering::Acquire);
        // A tick that carried into HIGH between the two loads shows up here: read again.
        if HIGH.load(Ordering::Acquire) == high {
            return (u64::from(high) << 32) | u64::from(low);
        }
    }
}

/// SysTick's current count (24 bits, counting down at the core clock): the sub-millisecond
/// phase, used as timing jitter when seeding the PRNG.
pub fn systick_phase() -> u32 {
    SYST::get_current()
}
