//! WebSocket echo server for an Arduino Zero with a W5100 Ethernet Shield.
//!
//! The same application as ws-w5100's `echo_server_sim` example on the chip model, with
//! the same code ([`ws_nal::echo`], [`Session::builder`], [`Listener`]), on the W5100's
//! hardware TCP sockets: two clients at once on port 9001, each with its own fixed buffers, all polled
//! from one loop. Point the Autobahn suite at it: `kosoku -m fuzzingclient 192.168.1.177:9001`.
#![no_std]
#![no_main]

use core::net::Ipv4Addr;

use cortex_m_rt::{entry, exception};
use embedded_nal::{nb, TcpClientStack};
use panic_halt as _;
use static_cell::ConstStaticCell;
use ws_nal::{echo, Buffers, Event, Listener, Session};
use ws_w5100::{NetConfig, SocketSizes, W5100};
use ws_w5100_firmware::board::{self, Board, EthernetSpi};
use ws_w5100_firmware::clock;

// ---- Network configuration: the one place to change it. ----
/// MAC address: locally administered (bit 1 of the first octet set), so it clashes with
/// no vendor's; give every board on a segment its own.
const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x57, 0x51, 0x00];
/// The board's address.
const IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 177);
/// Subnet mask.
const SUBNET: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);
/// Default gateway.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
/// WebSocket port.
const PORT: u16 = 9001;
// -------------------------------------------------------------

/// Receive buffer per connection: the client's handshake request must fit (1 KiB takes any
/// tool's request; a browser with many cookies may need more and gets 431).
const RX_LEN: usize = 1024;
/// Transmit buffer per connection: a data chunk is at most `TX_LEN - 14` bytes, so each
/// chunk fits in it beside the header of the frame that echoes it.
const TX_LEN: usize = 1024;
/// Connections served at once. The W5100 has four hardware sockets: one listens, so up to
/// three; with two, a third client waits in the listening socket until a session ends.
/// Each one more costs `RX_LEN + TX_LEN` of `.bss` and a session's state on the stack
/// (`cargo xtask size` prints both).
const CONNECTIONS: usize = 2;

/// The stack type: the W5100 on the ICSP SPI, its waits timed by the SysTick clock.
type Stack = W5100<EthernetSpi>;
/// One connection: its socket, protocol state and borrowed buffers.
type EchoSession<'b> = Session<'b, 'static, Stack>;

/// Every connection's buffers, zero-initialised in `.bss` (no flash image, no stack copy).
struct Memory {
    rx: [[u8; RX_LEN]; CONNECTIONS],
    tx: [[u8; TX_LEN]; CONNECTIONS],
}

static MEMORY: ConstStaticCell<Memory> =
    ConstStaticCell::new(Memory { rx: [[0; RX_LEN]; CONNECTIONS], tx: [[0; TX_LEN]; CONNECTIONS] });

/// A connection's buffers while no session holds them.
type Spare<'b> = Option<Buffers<'b>>;

/// permessage-deflate (feature `deflate`): one inflater for both connections, taken for
/// a message at a time, with a 512-byte window (`WINDOW_LEN`): clients are asked for
/// windows of 512 bytes and to compress every message on its own. The inflater (10.5 KB)
/// lives in `main`'s frame: made in place there, it never passes through a temporary.
/// Echoes go back uncompressed, which is always allowed; with the `deflate-echo` feature
/// each connection echoes compressed messages compressed instead, through a compressor of
/// its own with a 256-byte window (`COMPRESSOR_BITS`, 1.75 KiB of `.bss` each, and about
/// 4 KiB of flash).
#[cfg(feature = "deflate")]
const WINDOW_LEN: usize = 512;
#[cfg(feature = "deflate-echo")]
const COMPRESSOR_BITS: u8 = 8;
#[cfg(feature = "deflate-echo")]
const COMPRESSOR_LEN: usize = ws_nal::ws_proto::deflate::Compressor::<&mut [u8]>::storage_len(COMPRESSOR_BITS);
#[cfg(feature = "deflate-echo")]
static COMPRESSORS: ConstStaticCell<[[u8; COMPRESSOR_LEN]; CONNECTIONS]> =
    ConstStaticCell::new([[0; COMPRESSOR_LEN]; CONNECTIONS]);
#[cfg(feature = "deflate")]
const _: () = assert!(WINDOW_LEN <= TX_LEN - 14, "an inflated chunk must fit a frame in TX_LEN");

/// What a session gets for permessage-deflate: the shared inflater, and its compressor.
#[cfg(feature = "deflate")]
#[derive(Clone, Copy)]
struct Compression<'b> {
    inflater: &'b ws_nal::SharedInflater<'b>,
    #[cfg(feature = "deflate-echo")]
    compressor: Option<&'b ws_nal::SharedCompressor<'b>>,
}

/// Sizes for `cargo xtask size` (read from the ELF; 16 bytes of flash): one connection's
/// state outside its buffers (an `Option<Session>`, on `main`'s stack), its two buffers (in `.bss`),
/// and the number of connections.
#[used]
#[no_mangle]
static WS_FIRMWARE_SIZES: [u32; 4] = [
    core::mem::size_of::<Option<EchoSession<'static>>>() as u32,
    RX_LEN as u32,
    TX_LEN as u32,
    CONNECTIONS as u32,
];

#[exception]
fn SysTick() {
    clock::tick();
}

#[entry]
fn main() -> ! {
    let Some(board) = Board::take() else { board::halt() };
    let mut w5100: Stack = W5100::new(board.ethernet, clock::now_ms);
    let net = NetConfig { mac: MAC, ip: IP, subnet: SUBNET, gateway: GATEWAY };
    // The shield may still be in reset when the Zero starts: try until the chip answers.
    while w5100.init(&net, &SocketSizes::default()).is_err() {
        wait_ms(100);
    }
    let mut listener = loop {
        match Listener::bind(&mut w5100, PORT) {
            Ok(listener) => break listener,
            Err(_) => wait_ms(100),
        }
    };

    let Some(memory) = MEMORY.try_take() else { board::halt() };
    #[cfg(feature = "deflate")]
    let mut window = [0u8; WINDOW_LEN];
    #[cfg(feature = "deflate")]
    let mut inflater = ws_nal::ws_proto::deflate::Inflater::new(&mut window[..]);
    #[cfg(feature = "deflate")]
    let inflater = &ws_nal::SharedInflater::new(&mut inflater);
    #[cfg(feature = "deflate-echo")]
    let Some(storage) = COMPRESSORS.try_take() else { board::halt() };
    #[cfg(feature = "deflate-echo")]
    let mut compressors = storage.each_mut().map(|s| ws_nal::ws_proto::deflate::Compressor::new(&mut s[..], COMPRESSOR_BITS, true));
    #[cfg(feature = "deflate-echo")]
    let compressors: [Option<ws_nal::SharedCompressor<'_>>; CONNECTIONS] =
        compressors.each_mut().map(|c| c.as_mut().ok().map(ws_nal::SharedCompressor::new));
    let mut pairs = memory.rx.iter_mut().zip(memory.tx.iter_mut());
    // Each connection: a session while a client is there, its buffers while none is.
    let mut spares: [Spare<'_>; CONNECTIONS] =
        core::array::from_fn(|_| pairs.next().map(|(rx, tx)| Buffers { rx: &mut rx[..], tx: &mut tx[..] }));
    let mut sessions: [Option<EchoSession<'_>>; CONNECTIONS] = core::array::from_fn(|_| None);

    loop {
        let now = clock::now_ms();
        let mut busy = false;
        // Accept only when a connection's buffers are free: meanwhile the next client
        // waits in the chip's listening socket.
        if let Some(i) = spares.iter().position(Option::is_some) {
            match listener.accept(&mut w5100) {
                Ok((socket, _peer)) => {
                    if let (Some(session), Some(spare)) = (sessions.get_mut(i), spares.get_mut(i)) {
                        start(
                            session,
                            spare,
                            socket,
                            now,
                            #[cfg(feature = "deflate")]
                            Compression {
                                inflater,
                                #[cfg(feature = "deflate-echo")]
                                compressor: compressors.get(i).and_then(Option::as_ref),
                            },
                        );
                    }
                    busy = true;
                }
                Err(nb::Error::WouldBlock) => {}
                // Nothing to do but keep listening (the driver re-arms on the next call).
                Err(nb::Error::Other(_)) => {}
            }
        }
        for (session, spare) in sessions.iter_mut().zip(&mut spares) {
            busy |= serve(session, spare, &mut w5100, now);
        }
        if !busy && sessions.iter().all(Option::is_none) {
            // Idle: sleep until the next SysTick (at most 1 ms of accept latency).
            cortex_m::asm::wfi();
        }
    }
}

/// Starts a session on an accepted socket with the spare buffers.
#[inline(never)]
fn start<'b>(
    slot: &mut Option<EchoSession<'b>>,
    spare: &mut Spare<'b>,
    socket: <Stack as TcpClientStack>::TcpSocket,
    now: u64,
    #[cfg(feature = "deflate")] compression: Compression<'b>,
) {
    if let Some(buffers) = spare.take() {
        let builder = Session::builder(socket, buffers);
        #[cfg(feature = "deflate")]
        #[allow(unused_mut)]
        let mut builder = builder.deflate(ws_nal::ws_proto::deflate::DeflateConfig::new(), compression.inflater);
        #[cfg(feature = "deflate-echo")]
        if let Some(compressor) = compression.compressor {
            builder = builder.compressor(compressor);
        }
        *slot = Some(builder.server(now));
    }
}

/// Polls one connection until it would block, echoing every event; when the session is
/// over, puts its buffers back in `spare`. True if anything happened.
#[inline(never)]
fn serve<'b>(slot: &mut Option<EchoSession<'b>>, spare: &mut Spare<'b>, stack: &mut Stack, now: u64) -> bool {
    let Some(session) = slot else { return false };
    // Bounded, so one busy client cannot starve the other or the listener.
    let mut over = false;
    for round in 0..8 {
        match session.poll(stack, now) {
            // Closed, or timed out / handshake rejected / TCP failed: the session is over.
            Ok((Event::Closed { .. }, _)) | Err(nb::Error::Other(_)) => {
                over = true;
                break;
            }
            Ok((event, mut reply)) => {
                // An error here is a frame that does not fit `tx`, which the read cap
                // rules out; the session goes on either way.
                let _ = echo(&event, &mut reply);
            }
            Err(nb::Error::WouldBlock) => return round > 0,
        }
    }
    if over {
        // Closes the hardware socket if the session has not already.
        *spare = slot.take().map(|session| session.into_buffers(stack));
    }
    true
}

/// Waits `ms` milliseconds, sleeping between SysTicks.
fn wait_ms(ms: u64) {
    let until = clock::now_ms().saturating_add(ms);
    while clock::now_ms() < until {
        cortex_m::asm::wfi();
    }
}
