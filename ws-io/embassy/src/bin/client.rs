//! `ws://` client on a WIZnet W5500-EVB-Pico (RP2040 + W5500): gets an address by DHCP,
//! opens a TCP connection to [`SERVER`], runs ws-io's async client handshake on the
//! embassy-net `TcpSocket`, sends one text message, receives the echo into a fixed buffer
//! and closes with 1000. No allocator; every buffer is a fixed array.
//!
//! Any echo server will do, e.g. ws-io's own on a host of the same network:
//! `cargo run --release -p ws-io --features std --example echo_server 0.0.0.0:9001`
//! (from the repository's root; set [`SERVER`] and [`URL`] to the host's address).
//!
//! Build and flash (from this directory, which targets thumbv6m-none-eabi):
//!
//! - With a debug probe (Raspberry Pi Debug Probe or other CMSIS-DAP) on the SWD pins:
//!   `cargo run --release --bin client` (runs `probe-rs run --chip RP2040`, which also
//!   prints the defmt log).
//! - Over USB, without a probe: `elf2uf2-rs target/thumbv6m-none-eabi/release/client`
//!   (or `picotool uf2 convert`), then copy the `.uf2` to the board while it is in
//!   BOOTSEL mode (hold BOOTSEL while plugging it in). The defmt log needs a probe.
#![no_std]
#![no_main]

use defmt::{error, info, warn};
use embassy_executor::Spawner;
use embassy_net::tcp::{self, TcpSocket};
use embassy_net::Ipv4Address;
use embassy_rp::clocks::RoscRng;
use embassy_time::{Delay, Duration};
use ws_io::asynch::WebSocket;
use ws_io::{Buffers, CloseCode, Keepalive, Message};
use {defmt_rtt as _, panic_probe as _};

/// The echo server's address and port.
const SERVER: (Ipv4Address, u16) = (Ipv4Address::new(192, 168, 1, 10), 9001);
/// The URL asked for: its host goes into the `Host` header, its path into the request line
/// (the TCP connection goes to [`SERVER`]; this example resolves no names).
const URL: &str = "ws://192.168.1.10:9001/";
/// The message sent, and expected back.
const GREETING: &str = "Hello from an RP2040 over ws://";

/// What the example needs in RAM besides the network stack: the TCP socket's buffers, the
/// WebSocket's receive and transmit buffers (at least `Buffers::MIN_LEN`, 256 bytes; the
/// handshake response must fit in `rx`) and the buffer a message is assembled in.
const TCP_BUFFER: usize = 2048;
const WS_BUFFER: usize = 1024;
const MESSAGE_BUFFER: usize = 1024;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_rp::init(Default::default());
    let stack = ws_io_embassy::start_network(spawner, p).await;

    // Locals of the main task live in its future, which embassy keeps in a static: they
    // count as .bss, not stack.
    let (mut tcp_rx, mut tcp_tx) = ([0; TCP_BUFFER], [0; TCP_BUFFER]);
    let mut socket = TcpSocket::new(stack, &mut tcp_rx, &mut tcp_tx);
    // A backstop: the WebSocket keepalive below notices a silent peer first.
    socket.set_timeout(Some(Duration::from_secs(60)));
    ws_io_embassy::tcp_connect(&mut socket, SERVER).await;
    info!("TCP connected to {}", socket.remote_endpoint());

    match echo(&mut socket).await {
        Ok(()) => info!("closed cleanly"),
        Err(e) => error!("WebSocket failed: {}", e),
    }
    socket.close();
    let _ = socket.flush().await;
    info!("peak stack use: {} bytes", ws_io_embassy::stack_used());
}

/// The WebSocket part: handshake, one message and its echo, close.
async fn echo(socket: &mut TcpSocket<'_>) -> Result<(), ws_io::Error<tcp::Error>> {
    let (mut rx, mut tx) = ([0; WS_BUFFER], [0; WS_BUFFER]);
    let mut ws = WebSocket::builder(socket, Buffers { rx: &mut rx[..], tx: &mut tx[..] })
        // embassy-time's `Delay` is the timer: keepalive pings after 20 s of silence and
        // gives up after 40 s; `close` waits at most 2 s for the server's close.
        .timer(Delay)
        .keepalive(Keepalive::new(20_000, 40_000))
        // The RP2040's ring-oscillator RNG makes the handshake key and the frame masks.
        .client(URL, RoscRng)
        .await?;
    info!("WebSocket open");

    ws.send(Message::text(GREETING)).await?;
    let mut message = [0; MESSAGE_BUFFER];
    match ws.recv(&mut message).await? {
        Some(Message::Text(text)) => info!("echo: {=str}", text),
        Some(Message::Binary(bytes)) => info!("binary echo, {} bytes", bytes.len()),
        Some(_) => {}
        None => {
            warn!("the server closed first: {}", ws.peer_close().map(|close| close.code));
            return Ok(());
        }
    }
    ws.close(CloseCode::NORMAL, "bye").await
}
