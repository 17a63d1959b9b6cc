//! The client role as the Autobahn TestSuite's fuzzing server expects it: ask for the
//! number of cases, run each one echoing every message, then ask for the reports.
//!
//! `cargo run --release -p ws-nal --example autobahn_client [URL]` (default ws://127.0.0.1:9001)

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use embedded_nal::TcpClientStack;
use std_embedded_nal::Stack;
use ws_nal::ws_proto::Event as WsEvent;
use ws_nal::{connect, echo, Error, Event, Session, SessionConfig};

const AGENT: &str = "ws-nal";
const RX_LEN: usize = 4096;
const TX_LEN: usize = 4096;

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let Some(host) = url.strip_prefix("ws://").map(|h| h.trim_end_matches('/').to_owned()) else {
        eprintln!("usage: autobahn_client [ws://HOST:PORT]");
        std::process::exit(2);
    };
    let Some(addr) = host.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        eprintln!("cannot resolve {host}");
        std::process::exit(2);
    };
    let started = Instant::now();
    let count = match run(addr, &host, "/getCaseCount", started) {
        Ok(Some(text)) => text.trim().parse::<u32>().unwrap_or(0),
        Ok(None) => 0,
        Err(e) => {
            eprintln!("getCaseCount: {e}");
            0
        }
    };
    if count == 0 {
        eprintln!("no cases from {url}/getCaseCount");
        std::process::exit(1);
    }
    println!("running {count} cases against {url}");
    for case in 1..=count {
        if let Err(e) = run(addr, &host, &format!("/runCase?case={case}&agent={AGENT}"), started) {
            eprintln!("case {case}: {e}");
        }
    }
    match run(addr, &host, &format!("/updateReports?agent={AGENT}"), started) {
        Ok(_) => println!("reports updated"),
        Err(e) => {
            eprintln!("updateReports: {e}");
            std::process::exit(1);
        }
    }
}

/// Runs one connection to `path`, echoing every message; returns the first text message
/// if it was small (the case count).
fn run(
    addr: SocketAddr,
    host: &str,
    path: &str,
    started: Instant,
) -> Result<Option<String>, Error<<Stack as TcpClientStack>::Error>> {
    let mut stack = Stack;
    let clock = || started.elapsed().as_millis() as u64;
    let socket = connect(&mut stack, addr)?;
    let (mut rx, mut tx) = ([0u8; RX_LEN], [0u8; TX_LEN]);
    let mut session = Session::client(
        socket,
        host,
        path,
        rand::rng(),
        &mut rx,
        &mut tx,
        SessionConfig::default(),
        clock(),
    )?;
    let mut first_text = None;
    loop {
        let idle = || std::thread::sleep(Duration::from_micros(50));
        match session.poll_blocking(&mut stack, clock, idle) {
            Ok((Event::Closed, _)) | Err(Error::Closed) => return Ok(first_text),
            Ok((event, mut reply)) => {
                if let Event::Ws(WsEvent::Data { payload, .. }) = &event {
                    if first_text.is_none() && payload.len() < 32 {
                        first_text = Some(String::from_utf8_lossy(payload).into_owned());
                    }
                }
                echo(&event, &mut reply)?;
            }
            Err(e) => return Err(e),
        }
    }
}
