//! The SAMD21 echo firmware, executed: its release ELF runs instruction by instruction on
//! an emulated Cortex-M0+ (Unicorn's ARMv6-M core) at the ATSAMD21G18A's memory map, with
//! the chip's peripherals modelled by register ([`soc`]) and ws-w5100's W5100 chip model
//! on SERCOM4's SPI bus, byte by byte, serving real host sockets.
//!
//! What the run checks beyond the compiler: the clock bring-up (every status bit it polls
//! answers as configured), the SPI wiring (SERCOM4 mode, pads, pin functions, baud, chip
//! selects), SysTick and its interrupt (stacked, taken and returned from here, since
//! Unicorn has no NVIC), and that every register touched exists. A wrong step stops the
//! run with the register, what is wrong and where the firmware was ([`Error`]).
//!
//! Counted as it runs ([`Stats`]): instructions, Cortex-M0+ cycles ([`cycles`]), SPI
//! bytes, peripheral accesses; the stack's high-water mark is read from the RAM the
//! firmware never wrote ([`Emulator::stack_high_water`]).
//!
//! Time: SysTick interrupts come at the period the firmware programs, measured against the
//! host's clock, so the firmware's milliseconds are real ones for the peers on the network.
//!
//! This crate links Unicorn (GPL-2.0) and is not published.

pub mod cycles;
pub mod soc;

use std::cell::RefCell;
use std::fmt;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use object::elf::PT_LOAD;
use object::read::elf::{ElfFile32, ProgramHeader};
use object::{Object, ObjectSection, ObjectSymbol};
use unicorn_engine::unicorn_const::{Arch, Mode, Prot};
use unicorn_engine::{ArmCpuModel, RegisterARM, Unicorn};
use ws_w5100::sim::W5100Sim;

pub use soc::{Fault, Stop};

/// Where the application starts: the Arduino bootloader keeps the first 8 KiB.
pub const APP_BASE: u32 = 0x2000;
/// Flash: 256 KiB at 0.
pub const FLASH: (u32, u32) = (0, 256 * 1024);
/// SRAM: 32 KiB.
pub const SRAM: (u32, u32) = (0x2000_0000, 32 * 1024);
/// The word the unused stack is painted with before boot.
const PAINT: u32 = 0xC5C5_C5C5;
/// SysTick's exception number.
const SYSTICK: u32 = 15;
/// Exception entry and return on the Cortex-M0+ (TRM: 15 cycles each with zero wait states).
const EXCEPTION_CYCLES: u64 = 15;
/// Unicorn's interrupt number for an exception return (QEMU's EXCP_EXCEPTION_EXIT).
const EXCEPTION_EXIT: u32 = 8;
/// Instructions between looks at the host clock (whether a SysTick is due).
const CLOCK_CHECK_INSTRUCTIONS: u64 = 2048;

/// How the firmware's run went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The ELF cannot be loaded.
    Elf(String),
    /// A peripheral access stopped the run (bring-up or wiring wrong, unknown register).
    Peripheral {
        /// What is wrong.
        stop: Stop,
        /// Where: the start of the code block making the access, and its function.
        at: Location,
    },
    /// The CPU faulted (unmapped access, invalid instruction, ...).
    Cpu {
        /// Unicorn's error.
        error: String,
        /// The PC and its function.
        at: Location,
    },
    /// The firmware did not get where it should before the deadline.
    Stuck {
        /// What it should have done.
        waiting_for: String,
        /// The register it read last (a poll that never ends shows here).
        last_read: String,
        /// Where it was.
        at: Location,
    },
    /// Unicorn could not be set up.
    Setup(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Elf(e) => write!(f, "firmware ELF: {e}"),
            Error::Peripheral { stop, at } => write!(f, "{stop} (firmware at {at})"),
            Error::Cpu { error, at } => write!(f, "CPU fault: {error} (firmware at {at})"),
            Error::Stuck { waiting_for, last_read, at } => {
                write!(f, "firmware stuck: no {waiting_for}; it last read {last_read}, at {at}")
            }
            Error::Setup(e) => write!(f, "emulator setup: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// A code address and the function it is in.
#[derive(Debug, Clone)]
pub struct Location {
    /// The address.
    pub pc: u32,
    /// The function (demangled), if the ELF's symbols tell.
    pub function: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some(name) => write!(f, "{:#010x} in {name}", self.pc),
            None => write!(f, "{:#010x}", self.pc),
        }
    }
}

/// Counts since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Instructions executed.
    pub instructions: u64,
    /// Cortex-M0+ cycles at zero wait states (NVM cache hits).
    pub cycles: u64,
    /// 32-bit flash fetches: add one cycle each for the upper bound at one wait state.
    pub fetch_words: u64,
    /// Bytes shifted over SPI.
    pub spi_bytes: u64,
    /// Peripheral register accesses.
    pub mmio: u64,
    /// SysTick interrupts taken.
    pub ticks: u64,
}

impl Stats {
    /// The difference of two snapshots.
    pub fn since(&self, earlier: &Stats) -> Stats {
        Stats {
            instructions: self.instructions - earlier.instructions,
            cycles: self.cycles - earlier.cycles,
            fetch_words: self.fetch_words - earlier.fetch_words,
            spi_bytes: self.spi_bytes - earlier.spi_bytes,
            mmio: self.mmio - earlier.mmio,
            ticks: self.ticks - earlier.ticks,
        }
    }
}

/// What the emulated board is set up with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The host address the W5100 model's listening sockets bind to.
    pub host: Ipv4Addr,
    /// A bring-up fault to inject into the firmware's register writes (tests).
    pub fault: Option<Fault>,
}

impl Default for Config {
    fn default() -> Self {
        Self { host: Ipv4Addr::LOCALHOST, fault: None }
    }
}

impl Config {
    /// Listening sockets bind on `host`.
    pub fn host(mut self, host: Ipv4Addr) -> Self {
        self.host = host;
        self
    }

    /// Injects `fault` into the firmware's register writes.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }
}

/// The W5100 model as strict as the chip: a client arriving while no socket listens is
/// refused, not kept waiting in the host's backlog.
fn strict_chip(host: Ipv4Addr) -> W5100Sim {
    let mut sim = W5100Sim::new(host);
    sim.set_backlog(false);
    sim
}

/// Everything the hooks share.
struct Machine {
    soc: soc::Soc,
    chip: W5100Sim,
    stats: Stats,
    /// Per-block costs, by (address - flash start) / 2.
    costs: Vec<Option<cycles::Cost>>,
    /// The block running now and its conditional fall-through address, if any.
    block_pc: u32,
    fallthrough: Option<u32>,
    /// Why the hooks stopped emulation.
    stop: Option<Stop>,
    exception_return: bool,
    tick_due: bool,
    next_tick: Option<Instant>,
    tick_period: Duration,
    last_read: Option<(u32, u32)>,
    /// Print every peripheral write (`WS_EMULATOR_TRACE=1`).
    trace: bool,
}

impl Machine {
    fn systick_period(&self) -> Option<Duration> {
        let cycles = self.soc.systick_period()?;
        let hz = self.soc.core_hz();
        (hz > 0).then(|| Duration::from_nanos(cycles.saturating_mul(1_000_000_000) / hz))
    }
}

/// The board: CPU, memory, peripherals and the W5100 model.
pub struct Emulator {
    uc: Unicorn<'static, Rc<RefCell<Machine>>>,
    machine: Rc<RefCell<Machine>>,
    symbols: Vec<(u32, u32, String)>,
    stack: (u32, u32),
    /// Where execution resumes.
    pc: u32,
    in_handler: bool,
}

impl Emulator {
    /// Loads `elf` (the release ELF, as flashed) and resets the board: the Arduino
    /// bootloader's hand-off (VTOR, MSP and PC from the application's vector table).
    pub fn new(elf: &[u8], config: Config) -> Result<Self, Error> {
        let file = ElfFile32::<object::Endianness>::parse(elf).map_err(|e| Error::Elf(e.to_string()))?;
        let setup = |e: unicorn_engine::unicorn_const::uc_error| Error::Setup(format!("{e:?}"));
        let machine = Rc::new(RefCell::new(Machine {
            soc: soc::Soc::new(config.fault),
            chip: strict_chip(config.host),
            stats: Stats::default(),
            costs: vec![None; (FLASH.1 / 2) as usize],
            block_pc: 0,
            fallthrough: None,
            stop: None,
            exception_return: false,
            tick_due: false,
            next_tick: None,
            tick_period: Duration::from_millis(1),
            last_read: None,
            trace: std::env::var_os("WS_EMULATOR_TRACE").is_some(),
        }));
        let mut uc = Unicorn::new_with_data(Arch::ARM, Mode::THUMB | Mode::MCLASS, Rc::clone(&machine))
            .map_err(setup)?;
        uc.ctl_set_cpu_model(ArmCpuModel::CORTEX_M0 as i32).map_err(setup)?;
        uc.mem_map(u64::from(FLASH.0), u64::from(FLASH.1), Prot::READ | Prot::EXEC).map_err(setup)?;
        uc.mem_map(u64::from(SRAM.0), u64::from(SRAM.1), Prot::ALL).map_err(setup)?;

        // Flash image: every PT_LOAD segment holding sections, at its load (physical)
        // address (what a flasher writes; the ELF header's own segment is left out).
        let endian = file.endian();
        let sections: Vec<(u64, u64)> = file
            .sections()
            .filter(|s| s.kind() != object::SectionKind::UninitializedData)
            .filter_map(|s| s.file_range())
            .filter(|&(_, len)| len > 0)
            .collect();
        for segment in file.elf_program_headers() {
            if segment.p_type(endian) != PT_LOAD {
                continue;
            }
            let (offset, len) = segment.file_range(endian);
            if !sections.iter().any(|&(o, l)| o < offset + len && offset < o + l) {
                continue;
            }
            let data =
                segment.data(endian, elf).map_err(|()| Error::Elf("segment out of the file".into()))?;
            let addr = segment.p_paddr(endian);
            if data.is_empty() {
                continue;
            }
            if addr < APP_BASE || u64::from(addr) + data.len() as u64 > u64::from(FLASH.0 + FLASH.1) {
                return Err(Error::Elf(format!("segment at {addr:#x} is outside the application's flash")));
            }
            uc.mem_write(u64::from(addr), data).map_err(setup)?;
        }
        let mut symbols = Vec::new();
        let mut stack_bottom = None;
        let mut stack_top = None;
        for symbol in file.symbols() {
            let Ok(name) = symbol.name() else { continue };
            let addr = symbol.address() as u32;
            match name {
                "__sheap" | "__euninit" if stack_bottom.is_none() => stack_bottom = Some(addr),
                "_stack_start" => stack_top = Some(addr),
                _ => {}
            }
            if symbol.kind() == object::SymbolKind::Text && symbol.size() > 0 {
                symbols.push((addr & !1, symbol.size() as u32, rustc_demangle::demangle(name).to_string()));
            }
        }
        symbols.sort();
        let stack = (
            stack_bottom
                .ok_or_else(|| Error::Elf("no __sheap symbol (cortex-m-rt's end of statics)".into()))?,
            stack_top.unwrap_or(SRAM.0 + SRAM.1),
        );
        // Paint the stack: what is still paint later was never written.
        let paint: Vec<u8> =
            std::iter::repeat_n(PAINT.to_le_bytes(), ((stack.1 - stack.0) / 4) as usize).flatten().collect();
        uc.mem_write(u64::from(stack.0), &paint).map_err(setup)?;

        for &(base, size) in &soc::WINDOWS {
            uc.mmio_map(
                u64::from(base),
                u64::from(size),
                Some(move |uc: &mut Unicorn<'_, Rc<RefCell<Machine>>>, offset: u64, size: usize| -> u64 {
                    let addr = base + offset as u32;
                    let machine = Rc::clone(uc.get_data());
                    let mut m = machine.borrow_mut();
                    let cycles = m.stats.cycles;
                    m.last_read = Some((addr, m.block_pc));
                    match m.soc.read(addr, size, cycles) {
                        Ok(value) => u64::from(value),
                        Err(stop) => {
                            m.stop = Some(stop);
                            drop(m);
                            let _ = uc.emu_stop();
                            0
                        }
                    }
                }),
                Some(
                    move |uc: &mut Unicorn<'_, Rc<RefCell<Machine>>>,
                          offset: u64,
                          size: usize,
                          value: u64| {
                        let addr = base + offset as u32;
                        let machine = Rc::clone(uc.get_data());
                        let mut m = machine.borrow_mut();
                        let cycles = m.stats.cycles;
                        if m.trace {
                            eprintln!("write {addr:#010x} <- {value:#x} ({size} B) at {:#x}", m.block_pc);
                        }
                        match m.soc.write(addr, size, value as u32, cycles) {
                            Ok(soc::Bus::Idle) => {}
                            Ok(soc::Bus::Select(_)) => m.chip.select(),
                            Ok(soc::Bus::Byte(mosi)) => {
                                let miso = m.chip.exchange(mosi);
                                m.soc.set_miso(miso);
                                m.stats.spi_bytes += 1;
                            }
                            Err(stop) => {
                                m.stop = Some(stop);
                                drop(m);
                                let _ = uc.emu_stop();
                            }
                        }
                    },
                ),
            )
            .map_err(setup)?;
        }

        uc.add_block_hook(1, 0, |uc, address, size| {
            let machine = Rc::clone(uc.get_data());
            let mut m = machine.borrow_mut();
            let addr = address as u32;
            if let Some(fallthrough) = m.fallthrough.take() {
                if fallthrough != addr {
                    m.stats.cycles += 1;
                }
            }
            let index = ((addr.wrapping_sub(FLASH.0)) / 2) as usize;
            let cost = match m.costs.get(index).copied().flatten() {
                Some(cost) => cost,
                None => {
                    let mut code = vec![0; size as usize];
                    let _ = uc.mem_read(address, &mut code);
                    let cost = cycles::block(addr, &code);
                    if let Some(slot) = m.costs.get_mut(index) {
                        *slot = Some(cost);
                    }
                    cost
                }
            };
            m.block_pc = addr;
            m.fallthrough = cost.fallthrough;
            m.stats.cycles += u64::from(cost.cycles);
            m.stats.instructions += u64::from(cost.instructions);
            m.stats.fetch_words += u64::from(cost.fetch_words);
            if m.stats.instructions % CLOCK_CHECK_INSTRUCTIONS < u64::from(cost.instructions) {
                if let Some(next) = m.next_tick {
                    if Instant::now() >= next {
                        m.tick_due = true;
                        drop(m);
                        let _ = uc.emu_stop();
                    }
                }
            }
        })
        .map_err(setup)?;
        uc.add_intr_hook(|uc, number| {
            let machine = Rc::clone(uc.get_data());
            if number == EXCEPTION_EXIT {
                machine.borrow_mut().exception_return = true;
            } else {
                machine.borrow_mut().stop = Some(Stop::Misconfigured(format!(
                    "unexpected CPU exception {number} (a fault, SVC or BKPT)"
                )));
            }
            let _ = uc.emu_stop();
        })
        .map_err(setup)?;

        // The bootloader's hand-off: VTOR at the application, MSP and PC from its table.
        let mut words = [0u8; 8];
        uc.mem_read(u64::from(APP_BASE), &mut words).map_err(setup)?;
        let sp = u32::from_le_bytes([words[0], words[1], words[2], words[3]]);
        let reset = u32::from_le_bytes([words[4], words[5], words[6], words[7]]);
        uc.reg_write(RegisterARM::SP, u64::from(sp)).map_err(setup)?;
        Ok(Self { uc, machine, symbols, stack, pc: reset & !1, in_handler: false })
    }

    /// The function containing `pc`.
    pub fn location(&self, pc: u32) -> Location {
        let i = self.symbols.partition_point(|(addr, _, _)| *addr <= pc);
        let function = i
            .checked_sub(1)
            .and_then(|i| self.symbols.get(i))
            .filter(|(addr, size, _)| pc < addr + size)
            .map(|(_, _, name)| name.clone());
        Location { pc, function }
    }

    /// Counts since boot.
    pub fn stats(&self) -> Stats {
        let m = self.machine.borrow();
        Stats { mmio: m.soc.accesses, ..m.stats }
    }

    /// The W5100 model (to look at its registers).
    pub fn with_chip<T>(&self, f: impl FnOnce(&W5100Sim) -> T) -> T {
        f(&self.machine.borrow().chip)
    }

    /// Whether any hardware socket of the W5100 is listening (Sn_SR = SOCK_LISTEN).
    pub fn listening(&self) -> bool {
        self.with_chip(|sim| (0..4u16).any(|n| sim.register(0x0403 + n * 0x100) == 0x14))
    }

    /// The SPI clock the firmware configured, in Hz.
    pub fn spi_hz(&self) -> u64 {
        self.machine.borrow().soc.spi_hz()
    }

    /// The core clock the firmware configured, in Hz.
    pub fn core_hz(&self) -> u64 {
        self.machine.borrow().soc.core_hz()
    }

    /// The deepest the stack has been: bytes from its top down to the lowest word written.
    pub fn stack_high_water(&self) -> u32 {
        let (bottom, top) = self.stack;
        let mut ram = vec![0u8; (top - bottom) as usize];
        if self.uc.mem_read(u64::from(bottom), &mut ram).is_err() {
            return 0;
        }
        let untouched = ram.chunks_exact(4).take_while(|w| w == &PAINT.to_le_bytes()).count() as u32;
        top - bottom - 4 * untouched
    }

    /// The functions whose return addresses are left in the deepest `span` bytes the stack
    /// reached, innermost first: stale frames, which show the call path at the deepest point.
    pub fn deepest_frames(&self, span: u32) -> Vec<String> {
        let top = self.stack.1;
        let low = top - self.stack_high_water();
        let high = (low + span).min(top);
        let mut ram = vec![0u8; (high - low) as usize];
        if self.uc.mem_read(u64::from(low), &mut ram).is_err() {
            return Vec::new();
        }
        let mut frames: Vec<String> = Vec::new();
        for word in ram.chunks_exact(4) {
            let value = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            // A Thumb return address: odd, in the application's flash, inside a function.
            if value & 1 == 0 || !(APP_BASE..FLASH.1).contains(&value) {
                continue;
            }
            if let Some(name) = self.location(value & !1).function {
                if frames.last() != Some(&name) {
                    frames.push(name);
                }
            }
        }
        frames
    }

    /// The stack's extent: (lowest address it may reach, its top).
    pub fn stack_bounds(&self) -> (u32, u32) {
        self.stack
    }

    /// Runs until `done` says so (checked at least once a millisecond), or fails with what
    /// stopped the firmware; [`Error::Stuck`] when `deadline` passes first.
    pub fn run_until(
        &mut self,
        deadline: Option<Instant>,
        waiting_for: &str,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Result<(), Error> {
        loop {
            if done(self) {
                return Ok(());
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(self.stuck(waiting_for));
            }
            self.step()?;
        }
    }

    fn stuck(&self, waiting_for: &str) -> Error {
        let m = self.machine.borrow();
        let last_read = match m.last_read {
            Some((addr, pc)) => format!("{addr:#010x} (from {})", self.location(pc)),
            None => "no register".into(),
        };
        Error::Stuck { waiting_for: waiting_for.into(), last_read, at: self.location(self.pc) }
    }

    /// Runs until something needs the host's attention: a SysTick, an exception return,
    /// a WFI, or a stop.
    fn step(&mut self) -> Result<(), Error> {
        self.arm_systick();
        let result = self.uc.emu_start(u64::from(self.pc | 1), u64::from(u32::MAX - 1), 0, 0);
        let pc = self.uc.reg_read(RegisterARM::PC).unwrap_or(0) as u32;
        let (stop, exception_return, tick_due) = {
            let mut m = self.machine.borrow_mut();
            (m.stop.take(), std::mem::take(&mut m.exception_return), std::mem::take(&mut m.tick_due))
        };
        if let Some(stop) = stop {
            let block = self.machine.borrow().block_pc;
            return Err(Error::Peripheral { stop, at: self.location(block) });
        }
        if let Err(e) = result {
            return Err(Error::Cpu { error: format!("{e:?}"), at: self.location(pc) });
        }
        self.pc = pc;
        if exception_return {
            self.exception_return()?;
            return Ok(());
        }
        if tick_due {
            self.take_systick()?;
            return Ok(());
        }
        // Otherwise emulation returned after a WFI: sleep until the next interrupt.
        let mut wfi = [0u8; 2];
        let _ = self.uc.mem_read(u64::from(pc.wrapping_sub(2)), &mut wfi);
        if wfi != [0x30, 0xBF] {
            return Err(Error::Cpu {
                error: "emulation stopped for no known reason".into(),
                at: self.location(pc),
            });
        }
        let next = self.machine.borrow().next_tick;
        match next {
            Some(next) => {
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
                self.take_systick()
            }
            // No interrupt will ever come: the firmware sleeps for good (a deadline ends it).
            None => {
                std::thread::sleep(Duration::from_millis(1));
                self.pc = pc.wrapping_sub(2);
                Ok(())
            }
        }
    }

    /// Starts or stops the host-side SysTick clock as the firmware configured it.
    fn arm_systick(&mut self) {
        let mut m = self.machine.borrow_mut();
        match m.systick_period() {
            Some(period) => {
                if m.next_tick.is_none() || m.tick_period != period {
                    m.tick_period = period;
                    m.next_tick = Some(Instant::now() + period);
                }
            }
            None => m.next_tick = None,
        }
    }

    fn read_word(&self, addr: u32) -> Result<u32, Error> {
        let mut word = [0u8; 4];
        self.uc.mem_read(u64::from(addr), &mut word).map_err(|e| Error::Cpu {
            error: format!("stack at {addr:#x}: {e:?}"),
            at: self.location(self.pc),
        })?;
        Ok(u32::from_le_bytes(word))
    }

    /// Takes the SysTick exception if it may be taken now (not masked, not nested).
    fn take_systick(&mut self) -> Result<(), Error> {
        let primask = self.uc.reg_read(RegisterARM::PRIMASK).unwrap_or(0);
        if primask & 1 != 0 || self.in_handler {
            // Pending: look again right after the next block.
            let mut m = self.machine.borrow_mut();
            m.next_tick = Some(Instant::now());
            return Ok(());
        }
        {
            let mut m = self.machine.borrow_mut();
            let period = m.tick_period;
            m.next_tick = m.next_tick.map(|t| (t + period).max(Instant::now()));
            m.stats.ticks += 1;
            m.stats.cycles += EXCEPTION_CYCLES;
        }
        let uc_err = |e: unicorn_engine::unicorn_const::uc_error| Error::Setup(format!("{e:?}"));
        // ARMv6-M exception entry: an 8-word frame on an 8-byte aligned stack.
        let sp = self.uc.reg_read(RegisterARM::SP).map_err(uc_err)? as u32;
        let align = sp & 4;
        let frame_sp = (sp - align).wrapping_sub(32);
        let xpsr = self.uc.reg_read(RegisterARM::XPSR).map_err(uc_err)? as u32;
        let stacked_xpsr = (xpsr & !0x1FF) | (1 << 24) | if align != 0 { 1 << 9 } else { 0 };
        let mut frame = Vec::with_capacity(32);
        for reg in [
            RegisterARM::R0,
            RegisterARM::R1,
            RegisterARM::R2,
            RegisterARM::R3,
            RegisterARM::R12,
            RegisterARM::LR,
        ] {
            frame.extend_from_slice(&(self.uc.reg_read(reg).map_err(uc_err)? as u32).to_le_bytes());
        }
        frame.extend_from_slice(&self.pc.to_le_bytes());
        frame.extend_from_slice(&stacked_xpsr.to_le_bytes());
        if frame_sp < self.stack.0 {
            return Err(Error::Cpu {
                error: format!(
                    "stack overflow: exception frame at {frame_sp:#x}, below the stack's end {:#x}",
                    self.stack.0
                ),
                at: self.location(self.pc),
            });
        }
        self.uc.mem_write(u64::from(frame_sp), &frame).map_err(uc_err)?;
        self.uc.reg_write(RegisterARM::SP, u64::from(frame_sp)).map_err(uc_err)?;
        self.uc.reg_write(RegisterARM::LR, 0xFFFF_FFF9).map_err(uc_err)?;
        self.uc.reg_write(RegisterARM::IPSR, u64::from(SYSTICK)).map_err(uc_err)?;
        let vtor = APP_BASE;
        let handler = self.read_word(vtor + 4 * SYSTICK)?;
        self.pc = handler & !1;
        self.in_handler = true;
        Ok(())
    }

    /// Returns from the exception: pops the frame and resumes where it was taken.
    fn exception_return(&mut self) -> Result<(), Error> {
        let uc_err = |e: unicorn_engine::unicorn_const::uc_error| Error::Setup(format!("{e:?}"));
        let sp = self.uc.reg_read(RegisterARM::SP).map_err(uc_err)? as u32;
        let mut words = [0u32; 8];
        for (i, word) in words.iter_mut().enumerate() {
            *word = self.read_word(sp + 4 * i as u32)?;
        }
        let [r0, r1, r2, r3, r12, lr, pc, xpsr] = words;
        for (reg, value) in [
            (RegisterARM::R0, r0),
            (RegisterARM::R1, r1),
            (RegisterARM::R2, r2),
            (RegisterARM::R3, r3),
            (RegisterARM::R12, r12),
            (RegisterARM::LR, lr),
        ] {
            self.uc.reg_write(reg, u64::from(value)).map_err(uc_err)?;
        }
        let align = if xpsr & (1 << 9) != 0 { 4 } else { 0 };
        self.uc.reg_write(RegisterARM::SP, u64::from(sp + 32 + align)).map_err(uc_err)?;
        self.uc.reg_write(RegisterARM::IPSR, 0).map_err(uc_err)?;
        self.uc.reg_write(RegisterARM::XPSR_NZCVQ, u64::from(xpsr & 0xF800_0000)).map_err(uc_err)?;
        self.machine.borrow_mut().stats.cycles += EXCEPTION_CYCLES;
        self.pc = pc & !1;
        self.in_handler = false;
        Ok(())
    }
}
