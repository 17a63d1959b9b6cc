//! The ATSAMD21G18A's peripherals as the echo firmware meets them, register by register
//! (SAMD21 datasheet, DS40001882): the clock tree (SYSCTRL, GCLK, PM, NVMCTRL), PORT,
//! SERCOM4 as an SPI master, SysTick and the rest of the System Control Space, and the
//! serial-number and calibration words.
//!
//! Every register the model knows is listed in [`REGISTERS`]; an access to any other
//! address in a peripheral window stops the run ([`Stop::UnknownRegister`]). The status
//! bits the bring-up code polls follow what was configured: an oscillator is ready only
//! once enabled, the DFLL locks only in closed loop with a running reference clock, and
//! a SERCOM register reads or writes only while the SERCOM's bus clock is on. SPI bytes
//! reach the W5100 only when the whole path is right: SERCOM4's clocks, SPI master mode
//! 0, MSB first, 8-bit characters, its pads on PA12/PB10/PB11 (peripheral function D),
//! a baud within the shield's limit, D10 (PA18) low as chip select and D4 (PA08, the
//! microSD card's select) high. Anything else stops the run with what is wrong.

use std::fmt;

/// Why the run stopped on a peripheral access (the bring-up or wiring is wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// An access to an address no modelled register covers.
    UnknownRegister {
        /// The address accessed.
        addr: u32,
        /// Access width in bytes.
        size: usize,
        /// Whether it was a write.
        write: bool,
    },
    /// A peripheral was used in a way the chip or the board does not allow.
    Misconfigured(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::UnknownRegister { addr, size, write } => write!(
                f,
                "{} of {size} byte(s) at {addr:#010x} ({}): no such register in the model",
                if *write { "write" } else { "read" },
                window_name(*addr)
            ),
            Stop::Misconfigured(what) => f.write_str(what),
        }
    }
}

/// The highest SPI clock a W5100 shield takes on the Arduino Zero: the Arduino Ethernet
/// library caps the Zero at 8 MHz for W5100 shields, whose ICSP wiring fails at 12.
pub const SHIELD_SPI_MAX_HZ: u32 = 8_000_000;

// Peripheral base addresses.
const PM: u32 = 0x4000_0400;
const SYSCTRL: u32 = 0x4000_0800;
const GCLK: u32 = 0x4000_0C00;
const NVMCTRL: u32 = 0x4100_4000;
const PORT: u32 = 0x4100_4400;
const SERCOM4: u32 = 0x4200_1800;
// SERCOM4's registers on the per-byte path, read by address (a binary search) rather than
// by name (a scan of the register list).
const SERCOM4_CTRLA: u32 = SERCOM4;
const SERCOM4_CTRLB: u32 = SERCOM4 + 0x04;
const SERCOM4_BAUD: u32 = SERCOM4 + 0x0C;
const SERCOM4_INTFLAG: u32 = SERCOM4 + 0x18;
const SCS: u32 = 0xE000_E000;

/// The address windows the model maps (4 KiB aligned, as Unicorn needs).
pub const WINDOWS: [(u32, u32); 6] = [
    (0x4000_0000, 0x1_0000), // APB-A: PM, SYSCTRL, GCLK, WDT, RTC, EIC
    (0x4100_0000, 0x1_0000), // APB-B: DSU, NVMCTRL, PORT, DMAC, USB
    (0x4200_0000, 0x1_0000), // APB-C: EVSYS, SERCOM0-5, TCC, TC, ADC, DAC
    (0xE000_E000, 0x1000),   // System Control Space: SysTick, NVIC, SCB
    (0x0080_6000, 0x1000),   // NVM software calibration row
    (0x0080_A000, 0x1000),   // serial number words
];

fn window_name(addr: u32) -> &'static str {
    match addr {
        0x4000_0000..=0x4000_03FF => "PAC0",
        0x4000_0400..=0x4000_07FF => "PM",
        0x4000_0800..=0x4000_0BFF => "SYSCTRL",
        0x4000_0C00..=0x4000_0FFF => "GCLK",
        0x4000_1000..=0x4000_13FF => "WDT",
        0x4000_1400..=0x4000_17FF => "RTC",
        0x4000_1800..=0x4000_1BFF => "EIC",
        0x4100_2000..=0x4100_3FFF => "DSU",
        0x4100_4000..=0x4100_43FF => "NVMCTRL",
        0x4100_4400..=0x4100_47FF => "PORT",
        0x4100_4800..=0x4100_4FFF => "DMAC",
        0x4100_5000..=0x4100_5FFF => "USB",
        0x4200_0400..=0x4200_07FF => "EVSYS",
        0x4200_0800..=0x4200_1FFF => "SERCOM",
        0x4200_2000..=0x4200_3FFF => "TCC/TC",
        0x4200_4000..=0x4200_43FF => "ADC",
        0x4200_4800..=0x4200_4BFF => "DAC",
        0xE000_E010..=0xE000_E01F => "SysTick",
        0xE000_E100..=0xE000_E4FF => "NVIC",
        0xE000_ED00..=0xE000_ED3F => "SCB",
        0x0080_6000..=0x0080_6FFF => "NVM calibration row",
        0x0080_A000..=0x0080_AFFF => "serial number",
        _ => "unmodelled peripheral space",
    }
}

/// A modelled register: address, width in bytes, name, reset value.
struct Register {
    addr: u32,
    size: u32,
    name: &'static str,
    reset: u32,
}

const fn reg(addr: u32, size: u32, name: &'static str, reset: u32) -> Register {
    Register { addr, size, name, reset }
}

/// Every register the model knows, with its reset value (datasheet register summaries).
/// PORT's PMUX and PINCFG arrays and the NVIC priority registers are added by
/// [`Soc::new`].
const REGISTERS: &[Register] = &[
    // PM (datasheet 16.8)
    reg(PM, 1, "PM.CTRL", 0),
    reg(PM + 0x01, 1, "PM.SLEEP", 0),
    reg(PM + 0x08, 1, "PM.CPUSEL", 0),
    reg(PM + 0x09, 1, "PM.APBASEL", 0),
    reg(PM + 0x0A, 1, "PM.APBBSEL", 0),
    reg(PM + 0x0B, 1, "PM.APBCSEL", 0),
    reg(PM + 0x14, 4, "PM.AHBMASK", 0x7F),
    reg(PM + 0x18, 4, "PM.APBAMASK", 0x7F),
    reg(PM + 0x1C, 4, "PM.APBBMASK", 0x7F),
    reg(PM + 0x20, 4, "PM.APBCMASK", 0x0001_0000),
    reg(PM + 0x34, 1, "PM.INTENCLR", 0),
    reg(PM + 0x35, 1, "PM.INTENSET", 0),
    reg(PM + 0x36, 1, "PM.INTFLAG", 0),
    reg(PM + 0x38, 1, "PM.RCAUSE", 0x01),
    // SYSCTRL (datasheet 17.8)
    reg(SYSCTRL, 4, "SYSCTRL.INTENCLR", 0),
    reg(SYSCTRL + 0x04, 4, "SYSCTRL.INTENSET", 0),
    reg(SYSCTRL + 0x08, 4, "SYSCTRL.INTFLAG", 0),
    reg(SYSCTRL + 0x0C, 4, "SYSCTRL.PCLKSR", 0),
    reg(SYSCTRL + 0x10, 2, "SYSCTRL.XOSC", 0x0080),
    reg(SYSCTRL + 0x14, 2, "SYSCTRL.XOSC32K", 0x0080),
    reg(SYSCTRL + 0x18, 4, "SYSCTRL.OSC32K", 0x003F_0080),
    reg(SYSCTRL + 0x1C, 1, "SYSCTRL.OSCULP32K", 0x1F),
    reg(SYSCTRL + 0x20, 4, "SYSCTRL.OSC8M", 0x8707_0382),
    reg(SYSCTRL + 0x24, 2, "SYSCTRL.DFLLCTRL", 0x0080),
    reg(SYSCTRL + 0x28, 4, "SYSCTRL.DFLLVAL", 0),
    reg(SYSCTRL + 0x2C, 4, "SYSCTRL.DFLLMUL", 0),
    reg(SYSCTRL + 0x30, 1, "SYSCTRL.DFLLSYNC", 0),
    reg(SYSCTRL + 0x34, 4, "SYSCTRL.BOD33", 0),
    reg(SYSCTRL + 0x3C, 2, "SYSCTRL.VREG", 0),
    reg(SYSCTRL + 0x40, 4, "SYSCTRL.VREF", 0),
    // GCLK (datasheet 15.8): GENCTRL, GENDIV and CLKCTRL are indirect, see `gclk_*`.
    reg(GCLK, 1, "GCLK.CTRL", 0),
    reg(GCLK + 0x01, 1, "GCLK.STATUS", 0),
    reg(GCLK + 0x02, 2, "GCLK.CLKCTRL", 0),
    reg(GCLK + 0x04, 4, "GCLK.GENCTRL", 0),
    reg(GCLK + 0x08, 4, "GCLK.GENDIV", 0),
    // NVMCTRL (datasheet 22.8)
    reg(NVMCTRL, 2, "NVMCTRL.CTRLA", 0),
    reg(NVMCTRL + 0x04, 4, "NVMCTRL.CTRLB", 0),
    reg(NVMCTRL + 0x08, 4, "NVMCTRL.PARAM", 0x0003_1000),
    reg(NVMCTRL + 0x0C, 1, "NVMCTRL.INTENCLR", 0),
    reg(NVMCTRL + 0x10, 1, "NVMCTRL.INTENSET", 0),
    reg(NVMCTRL + 0x14, 1, "NVMCTRL.INTFLAG", 0x01),
    reg(NVMCTRL + 0x18, 2, "NVMCTRL.STATUS", 0),
    reg(NVMCTRL + 0x1C, 4, "NVMCTRL.ADDR", 0),
    reg(NVMCTRL + 0x20, 2, "NVMCTRL.LOCK", 0xFFFF),
    // PORT groups A and B (datasheet 23.8)
    reg(PORT, 4, "PORT.DIR0", 0),
    reg(PORT + 0x04, 4, "PORT.DIRCLR0", 0),
    reg(PORT + 0x08, 4, "PORT.DIRSET0", 0),
    reg(PORT + 0x0C, 4, "PORT.DIRTGL0", 0),
    reg(PORT + 0x10, 4, "PORT.OUT0", 0),
    reg(PORT + 0x14, 4, "PORT.OUTCLR0", 0),
    reg(PORT + 0x18, 4, "PORT.OUTSET0", 0),
    reg(PORT + 0x1C, 4, "PORT.OUTTGL0", 0),
    reg(PORT + 0x20, 4, "PORT.IN0", 0),
    reg(PORT + 0x24, 4, "PORT.CTRL0", 0),
    reg(PORT + 0x28, 4, "PORT.WRCONFIG0", 0),
    reg(PORT + 0x80, 4, "PORT.DIR1", 0),
    reg(PORT + 0x84, 4, "PORT.DIRCLR1", 0),
    reg(PORT + 0x88, 4, "PORT.DIRSET1", 0),
    reg(PORT + 0x8C, 4, "PORT.DIRTGL1", 0),
    reg(PORT + 0x90, 4, "PORT.OUT1", 0),
    reg(PORT + 0x94, 4, "PORT.OUTCLR1", 0),
    reg(PORT + 0x98, 4, "PORT.OUTSET1", 0),
    reg(PORT + 0x9C, 4, "PORT.OUTTGL1", 0),
    reg(PORT + 0xA0, 4, "PORT.IN1", 0),
    reg(PORT + 0xA4, 4, "PORT.CTRL1", 0),
    reg(PORT + 0xA8, 4, "PORT.WRCONFIG1", 0),
    // SERCOM4 in SPI mode (datasheet 27.8)
    reg(SERCOM4, 4, "SERCOM4.CTRLA", 0),
    reg(SERCOM4 + 0x04, 4, "SERCOM4.CTRLB", 0),
    reg(SERCOM4 + 0x0C, 1, "SERCOM4.BAUD", 0),
    reg(SERCOM4 + 0x14, 1, "SERCOM4.INTENCLR", 0),
    reg(SERCOM4 + 0x16, 1, "SERCOM4.INTENSET", 0),
    reg(SERCOM4 + 0x18, 1, "SERCOM4.INTFLAG", 0),
    reg(SERCOM4 + 0x1A, 2, "SERCOM4.STATUS", 0),
    reg(SERCOM4 + 0x1C, 4, "SERCOM4.SYNCBUSY", 0),
    reg(SERCOM4 + 0x24, 4, "SERCOM4.ADDR", 0),
    reg(SERCOM4 + 0x28, 4, "SERCOM4.DATA", 0),
    reg(SERCOM4 + 0x30, 1, "SERCOM4.DBGCTRL", 0),
    // System Control Space (ARMv6-M ARM B3): SysTick, NVIC, SCB
    reg(SCS + 0x010, 4, "SYST.CSR", 0),
    reg(SCS + 0x014, 4, "SYST.RVR", 0),
    reg(SCS + 0x018, 4, "SYST.CVR", 0),
    reg(SCS + 0x01C, 4, "SYST.CALIB", 0x4000_0000),
    reg(SCS + 0x100, 4, "NVIC.ISER", 0),
    reg(SCS + 0x180, 4, "NVIC.ICER", 0),
    reg(SCS + 0x200, 4, "NVIC.ISPR", 0),
    reg(SCS + 0x280, 4, "NVIC.ICPR", 0),
    reg(SCS + 0xD00, 4, "SCB.CPUID", 0x410C_C601),
    reg(SCS + 0xD04, 4, "SCB.ICSR", 0),
    // The Arduino bootloader points VTOR at the application before starting it.
    reg(SCS + 0xD08, 4, "SCB.VTOR", crate::APP_BASE),
    reg(SCS + 0xD0C, 4, "SCB.AIRCR", 0xFA05_0000),
    reg(SCS + 0xD10, 4, "SCB.SCR", 0),
    reg(SCS + 0xD14, 4, "SCB.CCR", 0x0000_0204),
    reg(SCS + 0xD1C, 4, "SCB.SHPR2", 0),
    reg(SCS + 0xD20, 4, "SCB.SHPR3", 0),
    reg(SCS + 0xD24, 4, "SCB.SHCSR", 0),
    // NVM software calibration row (datasheet 9.5) and the serial number (9.6): the
    // values of one real chip's rows, as any would have.
    reg(0x0080_6020, 4, "NVM.CALIB0", 0xFFFF_FFFF),
    reg(0x0080_6024, 4, "NVM.CALIB1", 0xFC9F_FC7F),
    reg(0x0080_A00C, 4, "SERIAL0", 0x6786_DA5A),
    reg(0x0080_A040, 4, "SERIAL1", 0x5050_4A4B),
    reg(0x0080_A044, 4, "SERIAL2", 0x312E_3120),
    reg(0x0080_A048, 4, "SERIAL3", 0xFF0C_1F26),
];

// SYSCTRL.PCLKSR bits.
const XOSC32KRDY: u32 = 1 << 1;
const OSC32KRDY: u32 = 1 << 2;
const OSC8MRDY: u32 = 1 << 3;
const DFLLRDY: u32 = 1 << 4;
const DFLLLCKF: u32 = 1 << 6;
const DFLLLCKC: u32 = 1 << 7;

// GCLK clock sources (GENCTRL.SRC) and the generic clock channels used here.
const SRC_XOSC32K: u32 = 0x05;
const SRC_OSC8M: u32 = 0x06;
const SRC_DFLL48M: u32 = 0x07;
const SRC_OSCULP32K: u32 = 0x03;
const SRC_OSC32K: u32 = 0x04;
const CLK_DFLL48M_REF: usize = 0x00;
const CLK_SERCOM4_CORE: usize = 0x18;

/// PM.APBCMASK: SERCOM4's bus clock.
const APBC_SERCOM4: u32 = 1 << 6;
/// PM.APBAMASK: GCLK's and SYSCTRL's bus clocks.
const APBA_SYSCTRL: u32 = 1 << 2;
const APBA_GCLK: u32 = 1 << 3;

// The board's pins (Arduino Zero): ICSP MISO/MOSI/SCK, D10 (W5100 select), D4 (SD select).
const PA12: (usize, u32) = (0, 12);
const PB10: (usize, u32) = (1, 10);
const PB11: (usize, u32) = (1, 11);
const PA18: (usize, u32) = (0, 18);
const PA08: (usize, u32) = (0, 8);
/// Peripheral function D (PMUX value 3): SERCOM-ALT, where PA12/PB10/PB11 are SERCOM4.
const FUNCTION_D: u8 = 3;

/// A fault to inject into the firmware's own register writes, so tests can show that a
/// bring-up mistake stops the run with a clear message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// SERCOM4's data-out/clock pads as if `DOPO` were 0 (MOSI on PAD0, SCK on PAD1).
    WrongSercomPads,
    /// PM.APBCMASK written without SERCOM4's bus clock.
    MissingSercomClock,
    /// SPI mode 1 (CPHA set) instead of mode 0.
    WrongSpiMode,
    /// SERCOM4.BAUD = 1: SCK at 12 MHz from 48 MHz, which W5100 shields on the Zero fail at.
    Spi12MHz,
    /// PA18 (D10, the W5100's select) never made an output: the select line floats.
    FloatingChipSelect,
}

/// What changed on the chip-select line or the SPI bus with an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// Nothing for the W5100.
    Idle,
    /// D10 went low (true) or high (false).
    Select(bool),
    /// A byte shifted out on MOSI; the model's answer goes into [`Soc::set_miso`].
    Byte(u8),
}

/// The peripherals' state.
pub struct Soc {
    regs: Vec<(Register, u32)>,
    /// Indirect GCLK state: per generator (GENCTRL, GENDIV), per channel CLKCTRL.
    genctrl: [u32; 9],
    gendiv: [u32; 9],
    clkctrl: [u16; 0x25],
    /// The chip-select level last seen (true = asserted, D10 low).
    selected: bool,
    /// MISO byte for the next DATA read.
    miso: u8,
    /// Systick: when the counter was last (re)loaded, in core cycles.
    pub(crate) systick_loaded_at: u64,
    fault: Option<Fault>,
    /// Whether the SPI path passed [`Soc::check_spi`] since its registers last changed.
    spi_checked: bool,
    /// Count of peripheral register accesses.
    pub accesses: u64,
}

impl Soc {
    /// The peripherals at reset; `fault` is injected into the firmware's writes.
    pub fn new(fault: Option<Fault>) -> Self {
        let mut regs: Vec<(Register, u32)> =
            REGISTERS.iter().map(|r| (reg(r.addr, r.size, r.name, r.reset), r.reset)).collect();
        for group in 0..2u32 {
            let base = PORT + group * 0x80;
            for i in 0..16 {
                regs.push((reg(base + 0x30 + i, 1, "PORT.PMUX", 0), 0));
            }
            for i in 0..32 {
                regs.push((reg(base + 0x40 + i, 1, "PORT.PINCFG", 0), 0));
            }
        }
        for i in 0..8 {
            regs.push((reg(SCS + 0x400 + 4 * i, 4, "NVIC.IPR", 0), 0));
        }
        regs.sort_by_key(|(r, _)| r.addr);
        let mut genctrl = [0; 9];
        // Generator 0 runs from OSC8M after reset (datasheet 15.6.2.1), divided by 1.
        genctrl[0] = (SRC_OSC8M << 8) | (1 << 16);
        Self {
            regs,
            genctrl,
            gendiv: [0; 9],
            clkctrl: [0; 0x25],
            selected: false,
            miso: 0,
            systick_loaded_at: 0,
            fault,
            spi_checked: false,
            accesses: 0,
        }
    }

    fn find(&self, addr: u32) -> Option<usize> {
        let i = self.regs.partition_point(|(r, _)| r.addr <= addr);
        let i = i.checked_sub(1)?;
        let (r, _) = self.regs.get(i)?;
        (addr < r.addr + r.size).then_some(i)
    }

    fn value(&self, name: &str) -> u32 {
        self.regs.iter().find(|(r, _)| r.name == name).map_or(0, |(_, v)| *v)
    }

    /// The value of the register at `addr`.
    fn at(&self, addr: u32) -> u32 {
        self.find(addr).and_then(|i| self.regs.get(i)).map_or(0, |(_, v)| *v)
    }

    fn set_at(&mut self, addr: u32, value: u32) {
        if let Some(i) = self.find(addr) {
            if let Some((_, v)) = self.regs.get_mut(i) {
                *v = value;
            }
        }
    }

    /// The frequency of a clock source, 0 if it is not running.
    fn source_hz(&self, src: u32, depth: u32) -> u64 {
        match src {
            SRC_XOSC32K => {
                let x = self.value("SYSCTRL.XOSC32K");
                // ENABLE, XTALEN (the Zero has a crystal) and EN32K.
                if x & 0b110 == 0b110 && x & (1 << 3) != 0 {
                    32_768
                } else {
                    0
                }
            }
            SRC_OSC32K if self.value("SYSCTRL.OSC32K") & 0b110 == 0b110 => 32_768,
            SRC_OSCULP32K => 32_768,
            SRC_OSC8M => {
                let x = self.value("SYSCTRL.OSC8M");
                if x & 0b10 != 0 {
                    8_000_000 >> ((x >> 8) & 3)
                } else {
                    0
                }
            }
            SRC_DFLL48M => {
                let ctrl = self.value("SYSCTRL.DFLLCTRL");
                if ctrl & 0b10 == 0 {
                    return 0;
                }
                if ctrl & 0b100 == 0 {
                    // Open loop: about 48 MHz from the calibration values.
                    return 48_000_000;
                }
                let mul = u64::from(self.value("SYSCTRL.DFLLMUL") & 0xFFFF);
                mul * self.channel_hz(CLK_DFLL48M_REF, depth + 1)
            }
            _ => 0,
        }
    }

    /// The frequency of generic clock generator `gen`, 0 if off.
    fn generator_hz(&self, gen: usize, depth: u32) -> u64 {
        let Some(&ctrl) = self.genctrl.get(gen) else { return 0 };
        if ctrl & (1 << 16) == 0 || depth > 4 {
            return 0;
        }
        let src_hz = self.source_hz((ctrl >> 8) & 0x1F, depth);
        let div = self.gendiv.get(gen).map_or(0, |d| u64::from(d >> 8) & 0xFFFF);
        if ctrl & (1 << 20) != 0 {
            src_hz >> (div + 1).min(32)
        } else {
            src_hz / div.max(1)
        }
    }

    /// The frequency of generic clock channel `id`, 0 if not enabled.
    fn channel_hz(&self, id: usize, depth: u32) -> u64 {
        let Some(&ctrl) = self.clkctrl.get(id) else { return 0 };
        if ctrl & (1 << 14) == 0 {
            return 0;
        }
        self.generator_hz(usize::from((ctrl >> 8) & 0xF), depth)
    }

    /// The CPU clock: generator 0 through PM.CPUSEL.
    pub fn core_hz(&self) -> u64 {
        self.generator_hz(0, 0) >> (self.value("PM.CPUSEL") & 7)
    }

    /// SysTick's reload period in core cycles, if it is counting with its interrupt on.
    pub fn systick_period(&self) -> Option<u64> {
        let csr = self.value("SYST.CSR");
        // ENABLE and TICKINT; CLKSOURCE must be the core clock (there is no reference).
        if csr & 0b11 != 0b11 {
            return None;
        }
        Some(u64::from(self.value("SYST.RVR") & 0xFF_FFFF) + 1)
    }

    /// The byte the W5100 shifted out, for the next DATA read.
    pub fn set_miso(&mut self, byte: u8) {
        self.miso = byte;
    }

    fn pin_function(&self, (group, pin): (usize, u32)) -> Option<u8> {
        let base = PORT + group as u32 * 0x80;
        let pincfg = self.at(base + 0x40 + pin);
        if pincfg & 1 == 0 {
            return None;
        }
        let pmux = self.at(base + 0x30 + pin / 2);
        Some(if pin % 2 == 0 { pmux & 0xF } else { pmux >> 4 } as u8)
    }

    fn output(&self, (group, pin): (usize, u32)) -> Option<bool> {
        let base = PORT + group as u32 * 0x80;
        if self.at(base) & (1 << pin) == 0 || self.pin_function((group, pin)).is_some() {
            return None;
        }
        Some(self.at(base + 0x10) & (1 << pin) != 0)
    }

    fn chip_selected(&self) -> bool {
        self.output(PA18) == Some(false)
    }

    /// Reads a register: `Err` stops the run.
    pub fn read(&mut self, addr: u32, size: usize, cycles: u64) -> Result<u32, Stop> {
        self.accesses += 1;
        let Some(i) = self.find(addr) else {
            return Err(Stop::UnknownRegister { addr, size, write: false });
        };
        let Some((r, value)) = self.regs.get(i) else {
            return Err(Stop::UnknownRegister { addr, size, write: false });
        };
        let (base, name, value) = (r.addr, r.name, *value);
        self.check_bus_clock(name)?;
        let value = match name {
            "SYSCTRL.PCLKSR" => self.pclksr(),
            "GCLK.CTRL" | "GCLK.STATUS" | "SERCOM4.SYNCBUSY" => 0,
            "GCLK.GENCTRL" => {
                self.genctrl.get(usize::from(value as u8 & 0xF)).copied().unwrap_or(0) | (value & 0xF)
            }
            "GCLK.GENDIV" => {
                self.gendiv.get(usize::from(value as u8 & 0xF)).copied().unwrap_or(0) | (value & 0xF)
            }
            "GCLK.CLKCTRL" => {
                let id = value & 0x3F;
                u32::from(self.clkctrl.get(id as usize).copied().unwrap_or(0) & !0x3F) | id
            }
            "PORT.IN0" => self.value("PORT.OUT0"),
            "PORT.IN1" => self.value("PORT.OUT1"),
            "SERCOM4.INTFLAG" => {
                // DRE always (the byte is gone at once); TXC and RXC after a byte.
                if self.at(SERCOM4_CTRLA) & 0b10 != 0 {
                    value | 1
                } else {
                    0
                }
            }
            "SERCOM4.DATA" => {
                let flags = self.at(SERCOM4_INTFLAG);
                self.set_at(SERCOM4_INTFLAG, flags & !(1 << 2));
                u32::from(self.miso)
            }
            "SYST.CVR" => self.systick_current(cycles),
            _ => value,
        };
        let shift = (addr - base) * 8;
        Ok(value >> shift)
    }

    fn pclksr(&self) -> u32 {
        let mut ready = DFLLRDY;
        if self.value("SYSCTRL.OSC8M") & 0b10 != 0 {
            ready |= OSC8MRDY;
        }
        if self.source_hz(SRC_XOSC32K, 0) != 0 {
            ready |= XOSC32KRDY;
        }
        if self.value("SYSCTRL.OSC32K") & 0b10 != 0 {
            ready |= OSC32KRDY;
        }
        let dfll = self.value("SYSCTRL.DFLLCTRL");
        // Closed loop locks only on a running reference clock.
        if dfll & 0b110 == 0b110 && self.channel_hz(CLK_DFLL48M_REF, 0) != 0 {
            ready |= DFLLLCKF | DFLLLCKC;
        }
        ready
    }

    fn systick_current(&self, cycles: u64) -> u32 {
        let reload = u64::from(self.value("SYST.RVR") & 0xFF_FFFF) + 1;
        if self.value("SYST.CSR") & 1 == 0 {
            return self.value("SYST.CVR");
        }
        let elapsed = cycles.saturating_sub(self.systick_loaded_at) % reload;
        (reload - 1 - elapsed) as u32
    }

    /// A peripheral's registers answer only while its bus clock runs.
    fn check_bus_clock(&self, name: &str) -> Result<(), Stop> {
        let (mask, bit, what) = if name.starts_with("SERCOM4.") {
            ("PM.APBCMASK", APBC_SERCOM4, "SERCOM4 (PM.APBCMASK bit 6)")
        } else if name.starts_with("GCLK.") {
            ("PM.APBAMASK", APBA_GCLK, "GCLK (PM.APBAMASK bit 3)")
        } else if name.starts_with("SYSCTRL.") {
            ("PM.APBAMASK", APBA_SYSCTRL, "SYSCTRL (PM.APBAMASK bit 2)")
        } else {
            return Ok(());
        };
        if self.value(mask) & bit == 0 {
            return Err(Stop::Misconfigured(format!(
                "{name} accessed while the bus clock of {what} is off: on the chip the access stalls"
            )));
        }
        Ok(())
    }

    /// Writes a register: what it means for the W5100's bus, or `Err` to stop the run.
    pub fn write(&mut self, addr: u32, size: usize, value: u32, cycles: u64) -> Result<Bus, Stop> {
        self.accesses += 1;
        let Some(i) = self.find(addr) else {
            return Err(Stop::UnknownRegister { addr, size, write: true });
        };
        let Some((r, old)) = self.regs.get(i) else {
            return Err(Stop::UnknownRegister { addr, size, write: true });
        };
        let (base, name, old, width) = (r.addr, r.name, *old, r.size);
        self.check_bus_clock(name)?;
        // Merge a narrow write into the register's other bytes.
        let shift = (addr - base) * 8;
        let mask = if size >= 4 { u32::MAX } else { ((1u32 << (size * 8)) - 1) << shift };
        let mut value = (old & !mask) | ((value << shift) & mask);
        value = self.inject(name, value);
        let wide = size as u32 >= width;
        // The SPI path stays checked until a register it depends on may have changed:
        // anything but a data byte, a flag clear or the W5100's select toggling.
        let select_only = matches!(name, "PORT.OUTSET0" | "PORT.OUTCLR0") && value & !(1 << 18) == 0;
        if !(select_only || matches!(name, "SERCOM4.DATA" | "SERCOM4.INTFLAG")) {
            self.spi_checked = false;
        }
        match name {
            "GCLK.CTRL" => {
                if value & 1 != 0 {
                    // SWRST: every generator and channel back to reset.
                    let fresh = Soc::new(None);
                    self.genctrl = fresh.genctrl;
                    self.gendiv = fresh.gendiv;
                    self.clkctrl = fresh.clkctrl;
                }
                return Ok(Bus::Idle);
            }
            "GCLK.GENCTRL" => {
                let id = (value & 0xF) as usize;
                if wide {
                    if let Some(g) = self.genctrl.get_mut(id) {
                        *g = value & !0xF;
                    }
                    if id == 0 {
                        self.check_flash_wait_states()?;
                    }
                }
                self.set_at(base, id as u32);
                return Ok(Bus::Idle);
            }
            "GCLK.GENDIV" => {
                let id = (value & 0xF) as usize;
                if wide {
                    if let Some(g) = self.gendiv.get_mut(id) {
                        *g = value & !0xF;
                    }
                }
                self.set_at(base, id as u32);
                return Ok(Bus::Idle);
            }
            "GCLK.CLKCTRL" => {
                let id = (value & 0x3F) as usize;
                if wide {
                    if let Some(c) = self.clkctrl.get_mut(id) {
                        *c = value as u16;
                    }
                }
                self.set_at(base, id as u32);
                return Ok(Bus::Idle);
            }
            "PM.CPUSEL" => {
                self.set_at(base, value);
                self.check_flash_wait_states()?;
                return Ok(Bus::Idle);
            }
            "SYSCTRL.PCLKSR" | "PM.RCAUSE" | "SCB.CPUID" | "SYST.CALIB" | "NVMCTRL.PARAM" => {
                return Err(Stop::Misconfigured(format!("write to the read-only register {name}")))
            }
            _ => {}
        }
        if let Some(group) = name.strip_prefix("PORT.").and_then(port_group) {
            return self.port_write(name, group, base, value);
        }
        if name.starts_with("SERCOM4.") {
            return self.sercom_write(name, base, value);
        }
        match name {
            "SYST.CVR" => {
                // Any write clears the counter (and COUNTFLAG).
                self.systick_loaded_at = cycles;
                self.set_at(base, 0);
            }
            "SYST.CSR" => {
                if value & 0b100 == 0 && value & 1 != 0 {
                    return Err(Stop::Misconfigured(
                        "SysTick counts the external reference clock (CSR.CLKSOURCE = 0), which the SAMD21 does not \
                         connect: it never ticks"
                            .into(),
                    ));
                }
                if old & 1 == 0 && value & 1 != 0 {
                    self.systick_loaded_at = cycles;
                }
                self.set_at(base, value);
            }
            _ => self.set_at(base, value),
        }
        Ok(Bus::Idle)
    }

    fn inject(&self, name: &str, value: u32) -> u32 {
        match (self.fault, name) {
            (Some(Fault::WrongSercomPads), "SERCOM4.CTRLA") => value & !(3 << 16),
            (Some(Fault::MissingSercomClock), "PM.APBCMASK") => value & !APBC_SERCOM4,
            (Some(Fault::WrongSpiMode), "SERCOM4.CTRLA") => value | (1 << 28),
            (Some(Fault::Spi12MHz), "SERCOM4.BAUD") => 1,
            (Some(Fault::FloatingChipSelect), "PORT.DIRSET0" | "PORT.DIR0") => value & !(1 << 18),
            _ => value,
        }
    }

    /// At 48 MHz the flash needs one wait state (datasheet 37.12, NVM characteristics).
    fn check_flash_wait_states(&self) -> Result<(), Stop> {
        let hz = self.core_hz();
        let rws = (self.value("NVMCTRL.CTRLB") >> 1) & 0xF;
        if hz > 24_000_000 && rws == 0 {
            return Err(Stop::Misconfigured(format!(
                "the core clock goes to {} MHz with NVMCTRL.CTRLB.RWS = 0: above 24 MHz the flash needs a wait state",
                hz / 1_000_000
            )));
        }
        Ok(())
    }

    fn port_write(&mut self, name: &str, group: u32, base: u32, value: u32) -> Result<Bus, Stop> {
        let gbase = PORT + group * 0x80;
        let dir = self.at(gbase);
        let out = self.at(gbase + 0x10);
        let reg = name.trim_start_matches("PORT.").trim_end_matches(char::is_numeric);
        match reg {
            "DIR" => self.set_at(gbase, value),
            "DIRCLR" => self.set_at(gbase, dir & !value),
            "DIRSET" => self.set_at(gbase, dir | value),
            "DIRTGL" => self.set_at(gbase, dir ^ value),
            "OUT" => self.set_at(gbase + 0x10, value),
            "OUTCLR" => self.set_at(gbase + 0x10, out & !value),
            "OUTSET" => self.set_at(gbase + 0x10, out | value),
            "OUTTGL" => self.set_at(gbase + 0x10, out ^ value),
            "WRCONFIG" => {
                // Writes PINCFG and/or PMUX of every pin in PINMASK, in one half of the group.
                let pins = value & 0xFFFF;
                let offset = if value & (1 << 31) != 0 { 16 } else { 0 };
                for bit in 0..16 {
                    if pins & (1 << bit) == 0 {
                        continue;
                    }
                    let pin = bit + offset;
                    if value & (1 << 30) != 0 {
                        let cfg = (value >> 16) & 0x47;
                        self.set_at(gbase + 0x40 + pin, cfg);
                    }
                    if value & (1 << 28) != 0 {
                        let func = (value >> 24) & 0xF;
                        let at = gbase + 0x30 + pin / 2;
                        let old = self.at(at);
                        let new = if pin % 2 == 0 { (old & 0xF0) | func } else { (old & 0x0F) | (func << 4) };
                        self.set_at(at, new);
                    }
                }
            }
            "IN" => return Err(Stop::Misconfigured(format!("write to the read-only register {name}"))),
            _ => self.set_at(base, value),
        }
        let selected = self.chip_selected();
        if selected != self.selected {
            self.selected = selected;
            return Ok(Bus::Select(selected));
        }
        Ok(Bus::Idle)
    }

    fn sercom_write(&mut self, name: &str, base: u32, value: u32) -> Result<Bus, Stop> {
        let enabled = self.at(SERCOM4_CTRLA) & 0b10 != 0;
        match name {
            "SERCOM4.CTRLA" => {
                if value & 1 != 0 {
                    // SWRST: every SERCOM4 register back to reset.
                    for (r, v) in &mut self.regs {
                        if r.name.starts_with("SERCOM4.") {
                            *v = r.reset;
                        }
                    }
                    return Ok(Bus::Idle);
                }
                if enabled && value & 0b10 != 0 && (value ^ self.at(SERCOM4_CTRLA)) & !0b10 != 0 {
                    return Err(Stop::Misconfigured(
                        "SERCOM4.CTRLA changed while the SERCOM is enabled (enable-protected)".into(),
                    ));
                }
                self.set_at(base, value);
            }
            "SERCOM4.CTRLB" | "SERCOM4.BAUD" if enabled => {
                // CTRLB.RXEN may change while enabled; nothing else of these may.
                if name == "SERCOM4.BAUD" || (value ^ self.at(SERCOM4_CTRLB)) & !(1 << 17) != 0 {
                    return Err(Stop::Misconfigured(format!(
                        "{name} written while SERCOM4 is enabled (enable-protected)"
                    )));
                }
                self.set_at(base, value);
            }
            "SERCOM4.INTFLAG" => {
                // TXC, SSL and ERROR clear on writing one.
                let flags = self.at(SERCOM4_INTFLAG) & !(value & 0x8A);
                self.set_at(base, flags);
            }
            "SERCOM4.DATA" => {
                if !self.spi_checked {
                    self.check_spi()?;
                    self.spi_checked = true;
                }
                if !self.selected {
                    return Err(Stop::Misconfigured(
                        "SPI byte to the W5100 cannot go out: the W5100's select, D10 (PA18), is not driven low".into(),
                    ));
                }
                let flags = self.at(SERCOM4_INTFLAG);
                self.set_at(base, value);
                // TXC; RXC only with the receiver on (drivers turn it off for writes).
                let rxc = if self.at(SERCOM4_CTRLB) & (1 << 17) != 0 { 0b100 } else { 0 };
                self.set_at(SERCOM4_INTFLAG, flags | 0b010 | rxc);
                return Ok(Bus::Byte(value as u8));
            }
            _ => self.set_at(base, value),
        }
        Ok(Bus::Idle)
    }

    /// The whole path from SERCOM4 to the W5100, checked for the byte about to shift.
    fn check_spi(&self) -> Result<(), Stop> {
        let bad =
            |what: String| Err(Stop::Misconfigured(format!("SPI byte to the W5100 cannot go out: {what}")));
        let ctrla = self.at(SERCOM4_CTRLA);
        let ctrlb = self.at(SERCOM4_CTRLB);
        if ctrla & 0b10 == 0 {
            return bad("SERCOM4 is not enabled (CTRLA.ENABLE = 0)".into());
        }
        let core = self.channel_hz(CLK_SERCOM4_CORE, 0);
        if core == 0 {
            return bad("SERCOM4's core clock (GCLK channel 0x18, GCLK_SERCOM4_CORE) is not enabled or its generator is off".into());
        }
        if (ctrla >> 2) & 7 != 3 {
            return bad(format!("SERCOM4 is in mode {} (CTRLA.MODE), not SPI master (3)", (ctrla >> 2) & 7));
        }
        let (cpol, cpha) = ((ctrla >> 29) & 1, (ctrla >> 28) & 1);
        if cpol != cpha {
            return bad(format!(
                "SPI mode {} (CPOL {cpol}, CPHA {cpha}): the W5100 takes modes 0 and 3",
                cpol * 2 + cpha
            ));
        }
        if (ctrla >> 30) & 1 != 0 {
            return bad("LSB first (CTRLA.DORD = 1): the W5100 shifts MSB first".into());
        }
        if (ctrla >> 24) & 0xF != 0 {
            return bad("CTRLA.FORM is not a plain SPI frame".into());
        }
        let (dopo, dipo) = ((ctrla >> 16) & 3, (ctrla >> 20) & 3);
        if dopo != 1 {
            return bad(format!(
                "CTRLA.DOPO = {dopo}: the shield's MOSI is on PB10 (SERCOM4 PAD2) and SCK on PB11 (PAD3), which is DOPO = 1"
            ));
        }
        if dipo != 0 {
            return bad(format!(
                "CTRLA.DIPO = {dipo}: the shield's MISO is on PA12 (SERCOM4 PAD0), which is DIPO = 0"
            ));
        }
        if ctrlb & 7 != 0 {
            return bad("CTRLB.CHSIZE is not 8 bits".into());
        }
        for (pin, name, role) in [(PA12, "PA12", "MISO"), (PB10, "PB10", "MOSI"), (PB11, "PB11", "SCK")] {
            match self.pin_function(pin) {
                Some(FUNCTION_D) => {}
                Some(f) => {
                    return bad(format!(
                        "{name} ({role}) is muxed to peripheral function {} instead of D (SERCOM4)",
                        (b'A' + f) as char
                    ))
                }
                None => {
                    return bad(format!("{name} ({role}) is not given to a peripheral (PINCFG.PMUXEN = 0)"))
                }
            }
        }
        let sck = core / (2 * (u64::from(self.at(SERCOM4_BAUD) & 0xFF) + 1));
        // The DFLL's 48 MHz is 1465 × 32768 Hz = 48.005 MHz: allow its 0.01 %.
        if sck > u64::from(SHIELD_SPI_MAX_HZ) + u64::from(SHIELD_SPI_MAX_HZ) / 1000 {
            return bad(format!(
                "SCK would run at {:.1} MHz: W5100 shields on the Zero work up to {} MHz",
                sck as f64 / 1e6,
                SHIELD_SPI_MAX_HZ / 1_000_000
            ));
        }
        if !self.chip_selected() {
            return bad("the W5100's select, D10 (PA18), is not driven low".into());
        }
        if self.output(PA08) != Some(true) {
            return bad(
                "the microSD card's select, D4 (PA08), is not driven high: the card would answer too".into(),
            );
        }
        Ok(())
    }

    /// SCK frequency as configured, for the report.
    pub fn spi_hz(&self) -> u64 {
        self.channel_hz(CLK_SERCOM4_CORE, 0) / (2 * (u64::from(self.at(SERCOM4_BAUD) & 0xFF) + 1))
    }
}

/// "DIRSET0" → group 0.
fn port_group(name: &str) -> Option<u32> {
    if name.starts_with("PMUX") || name.starts_with("PINCFG") {
        return None;
    }
    name.chars().last().and_then(|c| c.to_digit(10))
}
