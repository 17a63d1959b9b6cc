//! ws-nal's WebSocket *client* on an Arduino Zero with an Arduino Ethernet Shield 2 (W5500),
//! over the `w5500` crate's embedded-nal stack.
//!
//! Connects to [`SERVER`], does the opening handshake, sends [`MESSAGE`], waits for the
//! echo, closes. The "L" LED (D13) lights when the echo came back intact; on any failure
//! the board tries again a second later. Run an echo server on the host, e.g.
//! `cargo run --release -p ws-io --example echo_server 0.0.0.0:9001`.
//!
//! The client needs random nonces and masking keys: [`ws_w5100_firmware::rng`] says where
//! they come from on a chip without a random number generator, and how little that is.
#![no_std]
#![no_main]

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use atsamd_hal::adc::{Accumulation, Adc0, AdcBuilder, AdcResolution, Prescaler, Reference};
use atsamd_hal::clock::GenericClockController;
use atsamd_hal::gpio::{Pin, Reset, B, PA02};
use atsamd_hal::pac;
use cortex_m_rt::{entry, exception};
use embedded_hal::digital::OutputPin;
use embedded_nal::{nb, TcpClientStack};
use panic_halt as _;
use static_cell::ConstStaticCell;
use w5500::bus::FourWire;
use w5500::{MacAddress, Mode, UninitializedDevice};
use ws_nal::ws_proto::handshake::ClientRequest;
use ws_nal::ws_proto::{CloseCode, Message};
use ws_nal::{connect, Buffers, Event, Session};
use ws_w5100_firmware::board::{self, Board};
use ws_w5100_firmware::clock;
use ws_w5100_firmware::rng::{EntropyPool, Xoshiro128pp};

// ---- Network configuration: the one place to change it. ----
/// MAC address (locally administered; the Shield 2 has its own on a sticker: use that).
const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x57, 0x55, 0x00];
/// The board's address.
const IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 178);
/// Subnet mask.
const SUBNET: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);
/// Default gateway.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
/// The WebSocket server to talk to.
const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 168, 1, 10), 9001);
/// `Host` header for [`SERVER`].
const HOST: &str = "192.168.1.10:9001";
/// Request path.
const PATH: &str = "/";
// -------------------------------------------------------------

/// What is sent and expected back.
const MESSAGE: &str = "Hello from an Arduino Zero with a W5500";

const RX_LEN: usize = 512;
const TX_LEN: usize = 512;

struct Memory {
    rx: [u8; RX_LEN],
    tx: [u8; TX_LEN],
}

static MEMORY: ConstStaticCell<Memory> = ConstStaticCell::new(Memory { rx: [0; RX_LEN], tx: [0; TX_LEN] });

#[exception]
fn SysTick() {
    clock::tick();
}

#[entry]
fn main() -> ! {
    let Some(board) = Board::take() else { board::halt() };
    let Board { ethernet, mut clocks, mut pm, adc, a0, led } = board;
    let mut led = led.into_push_pull_output();
    let _ = led.set_low();

    let mut entropy = EntropyPool::new();
    entropy.add_serial_number();
    add_adc_noise(&mut entropy, &mut clocks, &mut pm, adc, a0);

    // The shield comes out of reset with the Zero: wait until the chip reports its
    // version (0x04) before handing the bus to the driver, which would give it up on failure.
    let mut chip = UninitializedDevice::new(FourWire::new(ethernet));
    while chip.version().ok() != Some(0x04) {
        wait_ms(100);
    }
    let device =
        match chip.initialize_advanced(MacAddress { octets: MAC }, IP, GATEWAY, SUBNET, Mode::default()) {
            Ok(device) => device,
            Err(_) => board::halt(),
        };
    // How long the reset and set-up took, to the core clock's cycle: jitter between the
    // W5500's crystal and the Zero's.
    entropy.add(clock::systick_phase());
    let mut stack = W5500Nal(device);

    let Some(buffers) = MEMORY.try_take() else { board::halt() };
    let mut rng: Option<Xoshiro128pp> = None;
    loop {
        let Ok(socket) = connect(&mut stack, SocketAddr::V4(SERVER)) else {
            wait_ms(1000);
            continue;
        };
        // The first TCP handshake's round trip, to the cycle, is the last seed word.
        let rng = rng.get_or_insert_with(|| {
            entropy.add(clock::systick_phase());
            entropy.clone().into_rng()
        });
        if exchange(&mut stack, socket, rng, &mut buffers.rx, &mut buffers.tx) {
            let _ = led.set_high();
            board::halt();
        }
        wait_ms(1000);
    }
}

/// One session: handshake, [`MESSAGE`] out, its echo back, close. True if the echo matched.
fn exchange<S: TcpClientStack>(
    stack: &mut S,
    socket: S::TcpSocket,
    rng: &mut Xoshiro128pp,
    rx: &mut [u8],
    tx: &mut [u8],
) -> bool {
    let request = ClientRequest::new(HOST, PATH);
    let mut session = Session::builder(socket, Buffers { rx, tx }).client(request, rng, clock::now_ms());
    // How much of the echo has matched so far (it may arrive in chunks).
    let mut matched = 0;
    let mut echoed = false;
    loop {
        let (event, mut reply) = match session.poll_blocking(stack, clock::now_ms, || {}) {
            Ok(next) => next,
            // Closed, timed out, rejected or a TCP failure: the session is over.
            Err(_) => return echoed,
        };
        let sent = match event {
            Event::Open { .. } => reply.send(Message::Text(MESSAGE)),
            Event::Data { payload, fin, .. } => {
                let expected = MESSAGE.as_bytes().get(matched..matched + payload.len());
                if expected != Some(payload) {
                    reply.close(CloseCode::PROTOCOL_ERROR, "not my message")
                } else {
                    matched += payload.len();
                    echoed = fin && matched == MESSAGE.len();
                    if echoed {
                        reply.close(CloseCode::NORMAL, "")
                    } else {
                        Ok(())
                    }
                }
            }
            Event::Closed { .. } => return echoed,
            _ => Ok(()),
        };
        if sent.is_err() {
            session.abort(stack);
            return false;
        }
    }
}

/// Adds the low bits of a floating ADC input (A0, unconnected on the shield) and the
/// sampling time: thermal noise plus interference, a few bits per sample at best.
fn add_adc_noise(
    entropy: &mut EntropyPool,
    clocks: &mut GenericClockController,
    pm: &mut pac::Pm,
    adc: pac::Adc,
    a0: Pin<PA02, Reset>,
) {
    let gclk0 = clocks.gclk0();
    let Some(adc_clock) = clocks.adc(&gclk0) else { return };
    // 48 MHz / 32 = 1.5 MHz: within the SAMD21 ADC's 2.1 MHz limit.
    let adc = AdcBuilder::new(Accumulation::single(AdcResolution::_12))
        .with_clock_cycles_per_sample(5)
        .with_clock_divider(Prescaler::Div32)
        .with_vref(Reference::Intvcc1)
        .enable::<Adc0>(adc, pm, &adc_clock);
    let Ok(mut adc) = adc else { return };
    let mut a0 = a0.into_alternate::<B>();
    for _ in 0..32 {
        let sample = u32::from(adc.read(&mut a0));
        entropy.add(sample ^ (clock::systick_phase() << 12));
    }
}

/// The `w5500` crate's stack, with one difference: w5500 0.6 answers "no data yet" with
/// `Ok(0)`, which embedded-nal (and ws-nal) read as the peer's end of stream; here it is
/// `WouldBlock`. Everything else passes through.
struct W5500Nal<D>(D);

impl<D: TcpClientStack> TcpClientStack for W5500Nal<D> {
    type TcpSocket = D::TcpSocket;
    type Error = D::Error;

    fn socket(&mut self) -> Result<Self::TcpSocket, Self::Error> {
        self.0.socket()
    }

    fn connect(&mut self, socket: &mut Self::TcpSocket, remote: SocketAddr) -> nb::Result<(), Self::Error> {
        self.0.connect(socket, remote)
    }

    fn send(&mut self, socket: &mut Self::TcpSocket, buffer: &[u8]) -> nb::Result<usize, Self::Error> {
        self.0.send(socket, buffer)
    }

    fn receive(&mut self, socket: &mut Self::TcpSocket, buffer: &mut [u8]) -> nb::Result<usize, Self::Error> {
        match self.0.receive(socket, buffer)? {
            0 if !buffer.is_empty() => Err(nb::Error::WouldBlock),
            n => Ok(n),
        }
    }

    fn close(&mut self, socket: Self::TcpSocket) -> Result<(), Self::Error> {
        self.0.close(socket)
    }
}

/// Waits `ms` milliseconds, sleeping between SysTicks.
fn wait_ms(ms: u64) {
    let until = clock::now_ms().saturating_add(ms);
    while clock::now_ms() < until {
        cortex_m::asm::wfi();
    }
}
