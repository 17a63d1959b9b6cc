//! The WebSocket echo server over the W5100 driver and its chip model: the firmware's
//! single polling loop, with the real driver code, serving real clients on the host.
//!
//! `cargo run --release -p ws-w5100 --features sim --example echo_server_sim [ADDR]`
//! (default 127.0.0.1:9002)

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ws_nal::{echo, Event, Listener, Session, SessionConfig};
use ws_w5100::sim::W5100Sim;
use ws_w5100::{NetConfig, SocketSizes, W5100};

/// The W5100 has four hardware sockets: one listens while three serve.
const SESSIONS: usize = 3;
/// Per-connection buffers, as in the host example.
const BUF_LEN: usize = 4096;

type Stack = W5100<W5100Sim>;

/// A connection slot: its buffers wait while it is free, and move into a session.
/// (Kept unboxed, as the firmware must: every slot is as large as a session anyway.)
#[allow(clippy::large_enum_variant)]
enum Slot<'b> {
    Free(&'b mut [u8], &'b mut [u8]),
    Busy(Session<'b, 'static, Stack>),
    Moving,
}

fn main() {
    let addr: SocketAddr = match std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".into()).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("usage: echo_server_sim [IP:PORT]: {e}");
            std::process::exit(2);
        }
    };
    let host = match addr.ip() {
        std::net::IpAddr::V4(ip) => ip,
        std::net::IpAddr::V6(_) => Ipv4Addr::LOCALHOST,
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

    let started = Instant::now();
    let clock = || started.elapsed().as_millis() as u64;
    let mut buffers = vec![[0u8; BUF_LEN]; 2 * SESSIONS];
    let mut slots: Vec<Slot<'_>> = Vec::new();
    let mut rest = &mut buffers[..];
    while let [rx, tx, tail @ ..] = rest {
        slots.push(Slot::Free(rx, tx));
        rest = tail;
    }

    loop {
        let now = clock();
        let mut progress = false;
        if let Some(slot) = slots.iter_mut().find(|s| matches!(s, Slot::Free(..))) {
            match listener.accept(&mut stack) {
                Ok(socket) => {
                    if let Slot::Free(rx, tx) = std::mem::replace(slot, Slot::Moving) {
                        *slot = Slot::Busy(Session::server(socket, rx, tx, SessionConfig::default(), now));
                    }
                    progress = true;
                }
                Err(nb::Error::WouldBlock) => {}
                Err(nb::Error::Other(e)) => eprintln!("accept: {e}"),
            }
        }
        for slot in slots.iter_mut() {
            let Slot::Busy(session) = slot else { continue };
            let finished = match session.poll(&mut stack, now) {
                Ok((Event::Closed, _)) => true,
                Ok((event, mut reply)) => {
                    if let Err(e) = echo(&event, &mut reply) {
                        eprintln!("echo: {e}");
                    }
                    false
                }
                Err(nb::Error::WouldBlock) => continue,
                Err(nb::Error::Other(_)) => true,
            };
            progress = true;
            if finished {
                if let Slot::Busy(session) = std::mem::replace(slot, Slot::Moving) {
                    let (rx, tx) = session.into_buffers(&mut stack);
                    *slot = Slot::Free(rx, tx);
                }
            }
        }
        if !progress {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}
