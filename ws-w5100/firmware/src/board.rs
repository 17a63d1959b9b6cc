//! Arduino Zero bring-up: 48 MHz clocks, SysTick, and the Ethernet shield's SPI.
//!
//! Both WIZnet shields (Ethernet Shield with a W5100, Ethernet Shield 2 with a W5500) take
//! SPI from the 2x3 ICSP header, which on the Zero is SERCOM4 (pins from the Zero's
//! variant and atsamd-hal's Zero-compatible `metro_m0` BSP):
//!
//! | signal | ICSP pin | SAMD21 | SERCOM4 pad |
//! |---|---|---|---|
//! | MISO | 1 | PA12 | PAD0 (peripheral D) |
//! | SCK  | 3 | PB11 | PAD3 (peripheral D) |
//! | MOSI | 4 | PB10 | PAD2 (peripheral D) |
//!
//! The Ethernet chip's select is D10 (PA18). The shields' microSD slot shares the bus with
//! its select on D4 (PA08): it is driven high here, or the card could answer too.

use atsamd_hal::clock::GenericClockController;
use atsamd_hal::gpio::{AlternateD, Pin, Pins, PushPullOutput, Reset, PA02, PA12, PA17, PA18, PB10, PB11};
use atsamd_hal::pac::{self, CorePeripherals, Peripherals};
use atsamd_hal::sercom::{spi, Sercom4};
use atsamd_hal::time::Hertz;
use embedded_hal::digital::OutputPin;
use embedded_hal_bus::spi::{ExclusiveDevice, NoDelay};

use crate::clock;

/// Core clock after [`Board::take`].
pub const CORE_HZ: u32 = 48_000_000;

/// SPI clock: 48 MHz / 6. The W5100's datasheet allows 14 MHz, but W5100 shields do not
/// work faster than 8 MHz on the Zero (the Arduino Ethernet library caps them there); the
/// W5500 (up to 33 MHz) shares the setting.
pub const SPI_HZ: u32 = 8_000_000;
// Checked at build time: the W5100 shield's limit, and a rate the SERCOM divides exactly
// (f = 48 MHz / (2 × (BAUD + 1))), so no rounding takes it past the limit.
const _: () = assert!(SPI_HZ <= 8_000_000 && CORE_HZ % (2 * SPI_HZ) == 0);

/// ICSP MISO.
pub type Miso = Pin<PA12, AlternateD>;
/// ICSP MOSI.
pub type Mosi = Pin<PB10, AlternateD>;
/// ICSP SCK.
pub type Sclk = Pin<PB11, AlternateD>;
/// The SERCOM4 pads of the ICSP header.
pub type SpiPads = spi::Pads<Sercom4, Miso, Mosi, Sclk>;
/// The ICSP SPI bus (mode 0, [`SPI_HZ`]).
pub type SpiBus = spi::Spi<spi::Config<SpiPads>, spi::Duplex>;
/// The Ethernet chip's select, D10.
pub type ChipSelect = Pin<PA18, PushPullOutput>;
/// The Ethernet chip as an embedded-hal 1.0 `SpiDevice`: select low for each transaction.
pub type EthernetSpi = ExclusiveDevice<SpiBus, ChipSelect, NoDelay>;

/// What the firmware uses of the board after bring-up.
pub struct Board {
    /// The Ethernet chip's SPI device.
    pub ethernet: EthernetSpi,
    /// The clock tree (48 MHz on GCLK0), for further peripherals.
    pub clocks: GenericClockController,
    /// Power manager, for enabling further peripheral clocks.
    pub pm: pac::Pm,
    /// The ADC, unused by the echo server (the client reads noise with it).
    pub adc: pac::Adc,
    /// A0, left unconnected on both shields.
    pub a0: Pin<PA02, Reset>,
    /// D13, the yellow "L" LED.
    pub led: Pin<PA17, Reset>,
}

impl Board {
    /// Sets up clocks, SysTick and the Ethernet SPI; `None` if called twice.
    pub fn take() -> Option<Self> {
        let mut dp = Peripherals::take()?;
        let cp = CorePeripherals::take()?;
        // The Zero has a 32.768 kHz crystal: the DFLL locks to it for 48 MHz.
        let mut clocks = GenericClockController::with_external_32kosc(
            dp.gclk,
            &mut dp.pm,
            &mut dp.sysctrl,
            &mut dp.nvmctrl,
        );
        clock::start(cp.SYST, CORE_HZ);

        let pins = Pins::new(dp.port);
        // Deselect the microSD card before the bus runs.
        // Dropping the pin handle at the end leaves it driven high.
        let mut sd_cs = pins.pa08.into_push_pull_output();
        let _ = sd_cs.set_high();
        let mut cs = pins.pa18.into_push_pull_output();
        let _ = cs.set_high();

        let gclk0 = clocks.gclk0();
        let sercom_clock = clocks.sercom4_core(&gclk0)?;
        let pads = spi::Pads::<Sercom4>::default().data_in(pins.pa12).data_out(pins.pb10).sclk(pins.pb11);
        let bus = spi::Config::new(&dp.pm, dp.sercom4, pads, sercom_clock.freq())
            .baud(Hertz::from_raw(SPI_HZ))
            .spi_mode(spi::MODE_0)
            .enable();
        let ethernet = ExclusiveDevice::new_no_delay(bus, cs).ok()?;

        Some(Self { ethernet, clocks, pm: dp.pm, adc: dp.adc, a0: pins.pa02, led: pins.pa17 })
    }
}

/// Stops here for good (a fault the firmware cannot recover from), sleeping.
pub fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
