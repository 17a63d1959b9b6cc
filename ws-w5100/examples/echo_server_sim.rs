//! The WebSocket echo server over the W5100 driver and its chip model: the firmware's
//! single polling loop, with the real driver code, serving real clients on the host.
//!
//! `cargo run --release -p ws-w5100 --features sim --example echo_server_sim [ADDR]`
//! (default 127.0.0.1:9002)

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ws_nal::Listener;
use ws_w5100::sim::W5100Sim;
use ws_w5100::{NetConfig, SocketSizes, W5100};

#[path = "../../ws-nal/examples/serve/mod.rs"]
mod serve;

/// The W5100 has four hardware sockets: one listens while three serve.
const SLOTS: usize = 3;
/// Per-connection buffers, as in the host example.
const BUF_LEN: usize = 4096;

fn main() {
    let addr: SocketAddr = match std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".into()).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("usage: echo_server_sim [IP:PORT]: {e}");
            std::process::exit(2);
        }
    };
    let host = match addr.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => Ipv4Addr::LOCALHOST,
    };
    let mut stack = W5100::new(W5100Sim::new(host));
    let net = NetConfig { ip: host, ..NetConfig::default() };
    if let Err(e) = stack.init(&net, &SocketSizes::default()) {
        eprintln!("W5100 init: {e}");
        std::process::exit(1);
    }
    let mut listener = match Listener::bind(&mut stack, addr.port()) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("ws-w5100 (chip model) echo server listening on ws://{addr}");
    serve::serve(&mut stack, &mut listener, SLOTS, BUF_LEN, |_| {});
}
