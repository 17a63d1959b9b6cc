//! `wss://` client on a WIZnet W5500-EVB-Pico (RP2040 + W5500): the `client` example with
//! TLS 1.3 between the TCP socket and the WebSocket. embedded-tls runs the TLS handshake
//! on the embassy-net `TcpSocket`; its `TlsConnection` is an `embedded-io-async` stream,
//! and ws-io's client runs on it unchanged: handshake, one text message, its echo, close
//! with 1000. No allocator; every buffer is a fixed array.
//!
//! # Certificate verification is OFF
//!
//! This example uses embedded-tls' `UnsecureProvider`, which does **not** verify the
//! server's certificate: the connection is encrypted, but anyone on the path can
//! impersonate the server. Before production, give `TlsConnection::open` a
//! `CryptoProvider` whose `verifier()` returns a real verifier. embedded-tls 0.19 offers
//! `embedded_tls::pki::CertVerifier` (feature `rustpki`, no_std): it checks the chain
//! against one CA certificate you embed (ECDSA P-256 signatures; P-384, Ed25519 and RSA
//! with the `p384`, `ed25519` and `rsa` features, RSA needing an allocator), the host
//! name against the certificate's SAN/CN, and the validity dates only when its
//! `TlsClock` knows the time (`NoClock` skips them). Its `webpki` feature (a webpki
//! verifier) needs std. See the README for what verification costs.
//!
//! The server must speak TLS 1.3 with TLS_AES_128_GCM_SHA256 and secp256r1 (P-256) key
//! exchange, the only group embedded-tls offers.
//!
//! Build and flash (from this directory, which targets thumbv6m-none-eabi):
//!
//! - With a debug probe (Raspberry Pi Debug Probe or other CMSIS-DAP) on the SWD pins:
//!   `cargo run --release --bin wss_client` (runs `probe-rs run --chip RP2040`, which also
//!   prints the defmt log).
//! - Over USB, without a probe: `elf2uf2-rs target/thumbv6m-none-eabi/release/wss_client`
//!   (or `picotool uf2 convert`), then copy the `.uf2` to the board while it is in
//!   BOOTSEL mode (hold BOOTSEL while plugging it in). The defmt log needs a probe.
#![no_std]
#![no_main]

use defmt::{error, info, warn};
use embassy_executor::Spawner;
use embassy_net::tcp::TcpSocket;
use embassy_net::Ipv4Address;
use embassy_rp::clocks::RoscRng;
use embassy_time::{Delay, Duration};
use embedded_tls::{Aes128GcmSha256, TlsConfig, TlsConnection, TlsContext, UnsecureProvider};
use static_cell::ConstStaticCell;
use ws_io::asynch::WebSocket;
use ws_io::embedded_io_async::{Read, Write};
use ws_io::{Buffers, CloseCode, Keepalive, Message};
use {defmt_rtt as _, panic_probe as _};

/// The echo server's address and port (this example resolves no names).
const SERVER: (Ipv4Address, u16) = (Ipv4Address::new(192, 168, 1, 10), 9443);
/// The server's name: sent in TLS as SNI and in the `Host` header, and the name a
/// certificate verifier would check.
const HOST: &str = "echo.local";
/// The URL asked for: `wss://` + [`HOST`], port, path.
const URL: &str = "wss://echo.local:9443/";
/// The message sent, and expected back.
const GREETING: &str = "Hello from an RP2040 over wss://";

const TCP_BUFFER: usize = 2048;
/// A whole TLS record must fit to be decrypted: 16 KiB of plaintext + 256 bytes of
/// overhead, 16,640 bytes, unless the server agrees to a smaller maximum fragment length
/// (`TlsConfig::with_max_fragment_length`; many servers ignore it).
const TLS_READ_BUFFER: usize = 16_640;
/// Records we send: ws-io flushes at most [`WS_BUFFER`] bytes at a time, and embedded-tls
/// adds at most 128 bytes (`TLS_RECORD_OVERHEAD`) to a record, so this needs no 16 KiB.
/// (The ClientHello is built in the larger of the two buffers.)
const TLS_WRITE_BUFFER: usize = 4096;
const WS_BUFFER: usize = 1024;
const MESSAGE_BUFFER: usize = 1024;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    // The record buffers are statics of their own rather than locals of the main task, so
    // that they show by name in the symbol table.
    static TLS_READ: ConstStaticCell<[u8; TLS_READ_BUFFER]> = ConstStaticCell::new([0; TLS_READ_BUFFER]);
    static TLS_WRITE: ConstStaticCell<[u8; TLS_WRITE_BUFFER]> = ConstStaticCell::new([0; TLS_WRITE_BUFFER]);

    let p = embassy_rp::init(Default::default());
    let stack = ws_io_embassy::start_network(spawner, p).await;

    let (mut tcp_rx, mut tcp_tx) = ([0; TCP_BUFFER], [0; TCP_BUFFER]);
    let mut socket = TcpSocket::new(stack, &mut tcp_rx, &mut tcp_tx);
    // Generous: the TLS handshake's P-256 arithmetic takes a while on a Cortex-M0+.
    socket.set_timeout(Some(Duration::from_secs(60)));
    ws_io_embassy::tcp_connect(&mut socket, SERVER).await;
    info!("TCP connected to {}", socket.remote_endpoint());

    // Offering RSA signature schemes lets servers with RSA certificates answer; with no
    // verification they are not checked anyway (verifying them needs the `rsa` feature).
    let config = TlsConfig::new().with_server_name(HOST).enable_rsa_signatures();
    let mut tls = TlsConnection::new(&mut socket, TLS_READ.take(), TLS_WRITE.take());
    // NO CERTIFICATE VERIFICATION: see the module documentation before production use.
    let provider = UnsecureProvider::new::<Aes128GcmSha256>(RoscRng);
    if let Err(e) = tls.open(TlsContext::new(&config, provider)).await {
        error!("TLS handshake failed: {}", e);
        return;
    }
    info!("TLS 1.3 session open");

    match echo(&mut tls).await {
        Ok(()) => info!("closed cleanly"),
        Err(e) => error!("WebSocket failed: {}", e),
    }
    // TLS close_notify, then TCP's FIN.
    if let Err((_, e)) = tls.close().await {
        // Usual when the server has already closed TCP after the WebSocket close.
        info!("TLS close_notify not sent: {}", e);
    }
    socket.close();
    let _ = socket.flush().await;
    info!("peak stack use: {} bytes", ws_io_embassy::stack_used());
}

/// The WebSocket part, on any async stream (here the TLS connection): handshake, one
/// message and its echo, close.
async fn echo<S: Read + Write>(stream: S) -> Result<(), ws_io::Error<S::Error>> {
    let (mut rx, mut tx) = ([0; WS_BUFFER], [0; WS_BUFFER]);
    let mut ws = WebSocket::builder(stream, Buffers { rx: &mut rx[..], tx: &mut tx[..] })
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
