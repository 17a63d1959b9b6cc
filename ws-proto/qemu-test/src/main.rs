//! ws-proto on an emulated Cortex-M0: QEMU's `microbit` machine (nRF51822, 256 KiB
//! flash, 16 KiB RAM, ARMv6-M like the SAMD21 the firmware runs on).
//!
//! Runs the RFC 6455 §5.7 vectors, the opening handshake in both roles, a 1 MiB message
//! streamed through 512-byte buffers, and the closing handshake; prints `test <name> ...
//! ok` per test and a final `N passed, M failed` over semihosting, then exits with
//! semihosting's success or failure status. `cargo xtask qemu` builds and runs it.
//!
//! No allocator: ws-proto has none, and every buffer here is a 512-byte (or smaller)
//! array on the stack. The stack is painted at reset (cortex-m-rt's `paint-stack`), so
//! the program reports the most of it any test used.
#![no_std]
#![no_main]

#[macro_use]
mod check;
mod close;
mod handshake;
mod rng;
mod stream;
mod vectors;

use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

/// A test: it passes by returning `Ok`.
type Test = fn() -> check::Outcome;

/// Every test, by name, in the order run.
const TESTS: &[(&str, Test)] = &[
    ("rfc6455_5_7_decode", vectors::decode),
    ("rfc6455_5_7_encode", vectors::encode),
    ("handshake_rfc6455_1_3", handshake::rfc_exchange),
    ("handshake_client_round_trip", handshake::client_round_trip),
    ("stream_1mib_through_512b_buffers", stream::one_mebibyte),
    ("close_handshake", close::handshake),
];

/// The test running now, and how many passed and failed before it: the panic handler
/// reports them. (Load and store only: ARMv6-M has no compare-and-swap.)
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

#[entry]
fn main() -> ! {
    hprintln!("ws-proto on qemu-system-arm -machine microbit (Cortex-M0, 16 KiB RAM)");
    hprintln!("no heap: no allocator is linked (ws-proto has none); buffers are stack arrays of 512 bytes");
    let (mut passed, mut failed) = (0, 0);
    for (index, (name, test)) in TESTS.iter().enumerate() {
        RUNNING.store(index, Ordering::Relaxed);
        match test() {
            Ok(()) => {
                passed += 1;
                PASSED.store(passed, Ordering::Relaxed);
                hprintln!("test {} ... ok", name);
            }
            Err(fail) => {
                failed += 1;
                FAILED.store(failed, Ordering::Relaxed);
                hprintln!("test {} ... FAILED: {}", name, fail);
            }
        }
    }
    let ram = ram::usage();
    hprintln!(
        "RAM: {} bytes static, stack high-water {} of {} bytes",
        ram.statics,
        ram.stack_used,
        ram.stack_size
    );
    hprintln!("{} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    halt()
}

/// Stops here if the host did not end the program.
fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// A panic fails the test that was running and ends the run: report it, give the
/// summary so far, and exit with failure.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let running = RUNNING.load(Ordering::Relaxed);
    let name = TESTS.get(running).map_or("?", |(name, _)| name);
    hprintln!("test {} ... FAILED: {}", name, info);
    hprintln!("tests not run after it: {}", TESTS.len().saturating_sub(running + 1));
    let (passed, failed) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed));
    hprintln!("{} passed, {} failed", passed, failed + 1);
    debug::exit(debug::EXIT_FAILURE);
    halt()
}

/// RAM use, from cortex-m-rt's linker symbols and the stack paint.
mod ram {
    /// The word cortex-m-rt's `paint-stack` fills the stack with at reset.
    const PAINT: u32 = 0xcccc_cccc;

    extern "C" {
        /// Start of RAM: `.data`, then `.bss` and `.uninit`.
        static __sdata: u32;
        /// Lowest address of the stack: the end of the statics.
        static _stack_end: u32;
        /// Highest address of the stack, where it starts.
        static _stack_start: u32;
    }

    /// Bytes of RAM in use.
    pub struct Usage {
        pub statics: usize,
        pub stack_used: usize,
        pub stack_size: usize,
    }

    pub fn usage() -> Usage {
        let ram = (&raw const __sdata) as usize;
        let bottom = (&raw const _stack_end) as usize;
        let top = (&raw const _stack_start) as usize;
        // The lowest word the stack ever reached no longer holds the paint.
        let mut low = bottom;
        // SAFETY: `bottom..top` is the stack region, word-aligned (the linker script
        // asserts it), and reading a word of RAM has no side effect.
        while low < top && unsafe { core::ptr::read_volatile(low as *const u32) } == PAINT {
            low += 4;
        }
        Usage { statics: bottom - ram, stack_used: top - low, stack_size: top - bottom }
    }
}
