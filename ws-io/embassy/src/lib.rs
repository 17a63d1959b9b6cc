//! Board bring-up shared by the `client` and `wss_client` binaries, for the WIZnet
//! [W5500-EVB-Pico](https://docs.wiznet.io/Product/iEthernet/W5500/w5500-evb-pico): an
//! RP2040 (Cortex-M0+, thumbv6m-none-eabi) wired to a W5500 Ethernet chip on SPI0.
//!
//! [`start_network`] starts the W5500 driver (`embassy-net-wiznet`, MACRAW mode) and
//! embassy-net on top of it, then waits for an address from DHCP; [`tcp_connect`] opens a
//! TCP connection, whose `TcpSocket` is the `embedded-io-async` stream ws-io (or
//! embedded-tls) runs on. [`stack_used`] reports how deep the stack has been.
//!
//! Another RP2040 board with a W5500 (a Pico with a WIZnet Ethernet HAT, say) works with
//! its pins changed in [`start_network`].
#![no_std]

use defmt::{info, unwrap, warn};
use embassy_executor::Spawner;
use embassy_net::tcp::TcpSocket;
use embassy_net::{IpEndpoint, Stack, StackResources};
use embassy_net_wiznet::chip::W5500;
use embassy_net_wiznet::{Device, Runner, State};
use embassy_rp::clocks::RoscRng;
use embassy_rp::gpio::{Input, Level, Output, Pull};
use embassy_rp::peripherals::{DMA_CH0, DMA_CH1, SPI0};
use embassy_rp::spi::{self, Async, Spi};
use embassy_rp::{bind_interrupts, dma, Peripherals};
use embassy_time::{Delay, Duration, Timer};
use embedded_hal_bus::spi::ExclusiveDevice;
use static_cell::ConstStaticCell;

/// The board's MAC address: locally administered (the 0x02 bit), so it cannot clash with a
/// vendor's. Give each board on a network its own, e.g. from the flash chip's unique ID.
pub const MAC_ADDRESS: [u8; 6] = [0x02, 0x00, 0x00, 0x57, 0x53, 0x01];

bind_interrupts!(struct Irqs {
    DMA_IRQ_0 => dma::InterruptHandler<DMA_CH0>, dma::InterruptHandler<DMA_CH1>;
});

/// The W5500 on SPI0, chip select on GP17.
type W5500Spi = ExclusiveDevice<Spi<'static, SPI0, Async>, Output<'static>, Delay>;

/// Frames in flight between the W5500 driver and embassy-net, each way (1514 bytes each).
const FRAMES: usize = 2;

/// Moves Ethernet frames between the W5500 and embassy-net.
#[embassy_executor::task]
async fn ethernet_task(runner: Runner<'static, W5500, W5500Spi, Input<'static>, Output<'static>>) -> ! {
    runner.run().await
}

/// Runs the IP stack: timers, DHCP, TCP.
#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Device<'static>>) -> ! {
    runner.run().await
}

/// Starts the W5500 (SPI0 at 50 MHz: MISO GP16, CS GP17, SCK GP18, MOSI GP19, reset GP20,
/// interrupt GP21, as wired on the W5500-EVB-Pico) and embassy-net with DHCP, and returns
/// the network stack once it has an IPv4 address. It takes all the peripherals for
/// brevity; an application that needs others would pass only the ones used here.
pub async fn start_network(spawner: Spawner, p: Peripherals) -> Stack<'static> {
    static STATE: ConstStaticCell<State<FRAMES, FRAMES>> = ConstStaticCell::new(State::new());
    // A socket for DHCP and one for the TCP connection.
    static RESOURCES: ConstStaticCell<StackResources<2>> = ConstStaticCell::new(StackResources::new());

    let mut config = spi::Config::default();
    config.frequency = 50_000_000;
    let spi = Spi::new(p.SPI0, p.PIN_18, p.PIN_19, p.PIN_16, p.DMA_CH0, p.DMA_CH1, Irqs, config);
    let cs = Output::new(p.PIN_17, Level::High);
    let interrupt = Input::new(p.PIN_21, Pull::Up);
    let reset = Output::new(p.PIN_20, Level::High);
    let spi = unwrap!(ExclusiveDevice::new(spi, cs, Delay));

    let (device, runner) =
        unwrap!(embassy_net_wiznet::new(MAC_ADDRESS, STATE.take(), spi, interrupt, reset).await);
    spawner.spawn(unwrap!(ethernet_task(runner)));

    let seed = RoscRng.next_u64();
    let config = embassy_net::Config::dhcpv4(Default::default());
    let (stack, runner) = embassy_net::new(device, config, RESOURCES.take(), seed);
    spawner.spawn(unwrap!(net_task(runner)));

    info!("waiting for DHCP");
    stack.wait_config_up().await;
    if let Some(config) = stack.config_v4() {
        info!("IP address {}", config.address);
    }
    stack
}

/// Opens a TCP connection to `server` on `socket`, trying again every two seconds until
/// the server answers.
pub async fn tcp_connect(socket: &mut TcpSocket<'_>, server: impl Into<IpEndpoint> + Copy) {
    loop {
        match socket.connect(server).await {
            Ok(()) => return,
            Err(e) => {
                warn!("TCP connect failed: {}; again in 2 s", e);
                socket.abort();
                Timer::after(Duration::from_secs(2)).await;
            }
        }
    }
}

/// The deepest the main stack has been since reset, in bytes: cortex-m-rt's `paint-stack`
/// fills the stack with `0xCCCC_CCCC` at reset, and the paint left untouched below the
/// deepest point tells how much was never used.
pub fn stack_used() -> usize {
    extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    let mut addr = core::ptr::addr_of!(_stack_end) as usize;
    let top = core::ptr::addr_of!(_stack_start) as usize;
    while addr < top {
        // SAFETY: every word between `_stack_end` and `_stack_start` is the stack's RAM,
        // word-aligned and readable; the words below the current stack pointer are unused
        // (the read may race with an interrupt handler's frame, which at worst counts it).
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        addr += 4;
    }
    top - addr
}
