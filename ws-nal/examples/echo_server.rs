//! WebSocket echo server over the host TCP stack (`std-embedded-nal`), with the same fixed
//! 4 KiB + 4 KiB buffers per connection as the firmware: messages of any size pass
//! through by streaming chunks back as they arrive.
//!
//! `cargo run --release -p ws-nal --example echo_server [ADDR]` (default 127.0.0.1:9001)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std_embedded_nal::Stack;
use ws_nal::{echo, Error, Event, Listener, Session, SessionConfig};

/// Per-connection buffers: the firmware's sizes.
const RX_LEN: usize = 4096;
const TX_LEN: usize = 4096;

fn main() {
    let addr: SocketAddr = match std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into()).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("usage: echo_server [IP:PORT]: {e}");
            std::process::exit(2);
        }
    };
    let mut stack = Stack;
    let mut listener = match Listener::bind(&mut stack, addr.port()) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on port {}: {e}", addr.port());
            std::process::exit(1);
        }
    };
    // embedded-nal binds a port, not an address: the host stack listens on every interface.
    println!("ws-nal echo server listening on ws://{addr} (port {} on all interfaces)", addr.port());
    let started = Instant::now();
    loop {
        match listener.accept(&mut stack) {
            Ok(socket) => {
                // The host stack's accepted sockets block on read, so each connection gets
                // a thread; the session code is the same one the firmware polls.
                std::thread::spawn(move || serve(socket, started));
            }
            Err(nb::Error::WouldBlock) => std::thread::sleep(Duration::from_millis(1)),
            Err(nb::Error::Other(e)) => eprintln!("accept: {e}"),
        }
    }
}

fn serve(socket: <Stack as embedded_nal::TcpClientStack>::TcpSocket, started: Instant) {
    let mut stack = Stack;
    let clock = || started.elapsed().as_millis() as u64;
    let (mut rx, mut tx) = ([0u8; RX_LEN], [0u8; TX_LEN]);
    let mut session = Session::server(socket, &mut rx, &mut tx, SessionConfig::default(), clock());
    loop {
        match session.poll_blocking(&mut stack, clock, || std::thread::sleep(Duration::from_micros(100))) {
            Ok((Event::Closed, _)) | Err(Error::Closed) => return,
            Ok((event, mut reply)) => {
                if let Err(e) = echo(&event, &mut reply) {
                    eprintln!("echo: {e}");
                }
            }
            Err(e) => {
                eprintln!("session: {e}");
                return;
            }
        }
    }
}
