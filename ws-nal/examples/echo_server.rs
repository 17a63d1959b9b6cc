//! WebSocket echo server over the host TCP stack (`std-embedded-nal`), run as the firmware
//! runs: one polling loop, fixed slots, and the firmware's 4 KiB + 4 KiB buffers per
//! connection. Every frame goes back as one frame, streamed as it arrives, so messages of
//! any size pass through. One line per connection: peer, path, subprotocol, close code.
//!
//! `cargo run --release -p ws-nal --example echo_server [ADDR] [--protocol NAME]...`
//! (default 127.0.0.1:9001; of the subprotocols a client offers, the first one named by a
//! `--protocol` is selected)

use std_embedded_nal::Stack;
use ws_examples::args::ServerArgs;
use ws_examples::serve::{serve, Serve};
use ws_nal::Listener;

fn main() {
    let args = ServerArgs::from_env("echo_server", "127.0.0.1:9001");
    let mut stack = Stack;
    let mut listener = match Listener::bind(&mut stack, args.addr.port()) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on port {}: {e}", args.addr.port());
            std::process::exit(1);
        }
    };
    // embedded-nal binds a port, not an address: the host stack listens on every interface.
    println!(
        "ws-nal echo server listening on ws://{} (port {} on all interfaces)",
        args.addr,
        args.addr.port()
    );
    let config = Serve { slots: 64, buf_len: 4096, protocols: args.protocol_list() };
    serve(&mut stack, &mut listener, config, ws_examples::host::tune);
}
