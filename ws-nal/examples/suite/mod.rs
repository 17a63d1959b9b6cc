//! The Autobahn client walk, generic over the TCP stack: shared by `autobahn_client`
//! (host stack) and `autobahn_client_sim` (W5100 chip model).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use embedded_nal::TcpClientStack;
use ws_nal::ws_proto::Event as WsEvent;
use ws_nal::{connect, echo, Error, Event, Session, SessionConfig};

/// The agent name reports are filed under.
pub const AGENT: &str = "ws-nal";
const RX_LEN: usize = 4096;
const TX_LEN: usize = 4096;

/// Walks the suite at `ws://{host}`: case count, every case, then the reports.
pub fn walk<S: TcpClientStack>(
    stack: &mut S,
    addr: SocketAddr,
    host: &str,
    tune: impl Fn(&S::TcpSocket),
) -> Result<(), String> {
    let started = Instant::now();
    let count = match run(stack, addr, host, "/getCaseCount", started, &tune) {
        Ok(Some(text)) => text.trim().parse::<u32>().unwrap_or(0),
        Ok(None) => 0,
        Err(e) => return Err(format!("getCaseCount: {e}")),
    };
    if count == 0 {
        return Err(format!("no cases from ws://{host}/getCaseCount"));
    }
    println!("running {count} cases against ws://{host} as {AGENT}");
    for case in 1..=count {
        if let Err(e) = run(stack, addr, host, &format!("/runCase?case={case}&agent={AGENT}"), started, &tune)
        {
            eprintln!("case {case}: {e}");
        }
    }
    run(stack, addr, host, &format!("/updateReports?agent={AGENT}"), started, &tune)
        .map_err(|e| format!("updateReports: {e}"))?;
    println!("reports updated");
    Ok(())
}

/// Runs one connection to `path`, echoing every message; returns the first text message
/// if it is short (the case count).
fn run<S: TcpClientStack>(
    stack: &mut S,
    addr: SocketAddr,
    host: &str,
    path: &str,
    started: Instant,
    tune: &impl Fn(&S::TcpSocket),
) -> Result<Option<String>, Error<S::Error>> {
    let clock = || started.elapsed().as_millis() as u64;
    let socket = connect(stack, addr)?;
    tune(&socket);
    let (mut rx, mut tx) = ([0u8; RX_LEN], [0u8; TX_LEN]);
    let config = SessionConfig::default();
    let mut session = Session::client(socket, host, path, rand::rng(), &mut rx, &mut tx, config, clock());
    let mut first_text = None;
    loop {
        let idle = || std::thread::sleep(Duration::from_micros(50));
        match session.poll_blocking(stack, clock, idle) {
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

/// Parses `ws://HOST:PORT` into the address to connect to and the Host header.
pub fn parse_url(url: &str) -> Result<(SocketAddr, String), String> {
    use std::net::ToSocketAddrs;
    let host = url.strip_prefix("ws://").ok_or("URL must start with ws://")?.trim_end_matches('/').to_owned();
    let addr =
        host.to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or(format!("cannot resolve {host}"))?;
    Ok((addr, host))
}
