//! WebSocket echo server over the host TCP stack (`std-embedded-nal`), run as the firmware
//! runs: one polling loop, fixed slots, and the firmware's 4 KiB + 4 KiB buffers per
//! connection. Messages of any size pass through by streaming chunks back as they arrive.
//!
//! `cargo run --release -p ws-nal --example echo_server [ADDR]` (default 127.0.0.1:9001)

use std::net::SocketAddr;
use std_embedded_nal::Stack;
use ws_nal::Listener;

mod host;
mod serve;

/// Connections served at once; more wait in the listen backlog.
const SLOTS: usize = 64;
/// Per-connection receive and transmit buffer: the firmware's size.
const BUF_LEN: usize = 4096;

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
    serve::serve(&mut stack, &mut listener, SLOTS, BUF_LEN, host::tune);
}
