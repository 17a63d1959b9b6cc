//! The WebSocket echo server over the W5100 driver and its chip model: the firmware's
//! single polling loop, with the real driver code, serving real clients on the host.
//!
//! `cargo run --release -p ws-w5100 --features sim --example echo_server_sim [ADDR] [--protocol NAME]...`
//! (default 127.0.0.1:9002)

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use ws_examples::args::ServerArgs;
use ws_examples::serve::{serve, Serve};
use ws_nal::Listener;
use ws_w5100::sim::W5100Sim;
use ws_w5100::{NetConfig, SocketSizes, W5100};

fn main() {
    let args = ServerArgs::from_env("echo_server_sim", "127.0.0.1:9002");
    let host = match args.addr.ip() {
        IpAddr::V4(ip) => ip,
        IpAddr::V6(_) => Ipv4Addr::LOCALHOST,
    };
    let start = Instant::now();
    let mut stack = W5100::new(W5100Sim::new(host), move || start.elapsed().as_millis() as u64);
    let net = NetConfig { ip: host, ..NetConfig::default() };
    if let Err(e) = stack.init(&net, &SocketSizes::default()) {
        eprintln!("W5100 init: {e}");
        std::process::exit(1);
    }
    let mut listener = match Listener::bind(&mut stack, args.addr.port()) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.addr);
            std::process::exit(1);
        }
    };
    println!("ws-w5100 (chip model) echo server listening on ws://{}", args.addr);
    // The W5100 has four hardware sockets: one listens while three serve.
    let config = Serve { slots: 3, buf_len: 4096, protocols: args.protocol_list(), deflate: true };
    serve(&mut stack, &mut listener, config, |_| {});
}
