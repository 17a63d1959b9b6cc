//! The Autobahn client walk over the W5100 driver and its chip model: two walkers, each
//! with a chip of its own, run the cases side by side.
//!
//! `cargo run --release -p ws-w5100 --features sim --example autobahn_client_sim [URL]`
//! (default ws://127.0.0.1:9001)

use std::net::Ipv4Addr;
use std::time::Instant;

use ws_w5100::sim::W5100Sim;
use ws_w5100::{NetConfig, SocketSizes, W5100};

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    // Two walkers, each with a chip of its own, run cases side by side.
    let chip = || {
        let start = Instant::now();
        let mut stack =
            W5100::new(W5100Sim::new(Ipv4Addr::LOCALHOST), move || start.elapsed().as_millis() as u64);
        let net = NetConfig { ip: Ipv4Addr::LOCALHOST, ..NetConfig::default() };
        stack.init(&net, &SocketSizes::default()).map_err(|e| format!("W5100 init: {e}"))?;
        Ok(stack)
    };
    if let Err(e) = ws_examples::suite::walk(chip, &url, 2, |_| {}) {
        eprintln!("autobahn_client_sim: {e}");
        std::process::exit(1);
    }
}
