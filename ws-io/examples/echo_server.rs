//! WebSocket echo server on the blocking stream binding: a thread per connection, blocked
//! in reads while idle. Every frame goes back as one frame, streamed as it arrives, so
//! messages of any size pass through 16 KiB buffers. One line per connection: peer,
//! path, subprotocol, close code.
//!
//! `cargo run --release -p ws-io --example echo_server [ADDR] [--protocol NAME]...`
//! (default 127.0.0.1:9001; of the subprotocols a client offers, the first one named by a
//! `--protocol` is selected)

use std::net::TcpListener;

use ws_examples::args::ServerArgs;
use ws_examples::echo::{serve, Serve};

fn main() {
    let args = ServerArgs::from_env("echo_server", "127.0.0.1:9001");
    let listener = match TcpListener::bind(args.addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.addr);
            std::process::exit(1);
        }
    };
    println!("ws-io echo server listening on ws://{}", args.addr);
    serve(listener, Serve { protocols: args.protocol_list(), ..Serve::default() });
}
