//! The Autobahn client walk, generic over the TCP stack: run by
//! `autobahn_client_sim` over the W5100 chip model.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use embedded_nal::TcpClientStack;
use ws_nal::ws_proto::deflate::{Compressor, DeflateConfig, Inflater};
use ws_nal::{connect, echo, Buffers, Error, Event, Session, SharedCompressor, SharedInflater};
use ws_proto::handshake::{ClientRequest, Url};

/// The agent name reports are filed under.
pub const AGENT: &str = "ws-nal";
const BUF_LEN: usize = 4096;

/// Walks the suite at `url` (`ws://HOST:PORT`): case count, every case, then the reports.
/// The cases are dealt round-robin to `walkers` threads, each on a stack of its own from
/// `stack` (kosoku runs cases side by side; one walker leaves most of a core idle
/// waiting for it).
pub fn walk<S: TcpClientStack>(
    stack: impl Fn() -> Result<S, String> + Sync,
    url: &str,
    walkers: u32,
    tune: impl Fn(&S::TcpSocket) + Sync,
) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let addr = (parsed.host(), parsed.port())
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(format!("cannot resolve {}", parsed.host()))?;
    let host = parsed.authority();
    let started = Instant::now();
    let mut first = stack()?;
    let count = match run(&mut first, addr, host, "/getCaseCount", started, &tune) {
        Ok(Some(text)) => text.trim().parse::<u32>().unwrap_or(0),
        Ok(None) => 0,
        Err(e) => return Err(format!("getCaseCount: {e}")),
    };
    if count == 0 {
        return Err(format!("no cases from ws://{host}/getCaseCount"));
    }
    let walkers = walkers.max(1);
    println!("running {count} cases against ws://{host} as {AGENT}, {walkers} at a time");
    let walk_from = |stack: &mut S, first_case: u32| {
        for case in (first_case..=count).step_by(walkers as usize) {
            let path = format!("/runCase?case={case}&agent={AGENT}");
            if let Err(e) = run(stack, addr, host, &path, started, &tune) {
                eprintln!("case {case}: {e}");
            }
        }
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = (2..=walkers)
            .map(|first_case| {
                let (stack, walk_from) = (&stack, &walk_from);
                scope.spawn(move || stack().map(|mut s| walk_from(&mut s, first_case)))
            })
            .collect();
        walk_from(&mut first, 1);
        others.into_iter().try_for_each(|walker| walker.join().map_err(|_| "a walker panicked".to_owned())?)
    })?;
    run(&mut first, addr, host, &format!("/updateReports?agent={AGENT}"), started, &tune)
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
    // permessage-deflate through an inflater whose chunks fit a frame in `tx`.
    let mut window = vec![0u8; BUF_LEN / 2];
    let mut inflater = Inflater::new(&mut window[..]);
    let shared = SharedInflater::new(&mut inflater);
    let bits = (BUF_LEN / 2).trailing_zeros() as u8;
    let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(bits)];
    let mut compressor = Compressor::new(&mut storage[..], bits, true).map_err(Error::Ws)?;
    let compressor = SharedCompressor::new(&mut compressor);
    let (mut rx, mut tx) = (vec![0u8; BUF_LEN], vec![0u8; BUF_LEN]);
    let buffers = Buffers { rx: &mut rx, tx: &mut tx };
    let mut session = Session::builder(socket, buffers)
        .deflate(DeflateConfig::new(), &shared)
        .compressor(&compressor)
        .client(ClientRequest::new(host, path), rand::rng(), clock());
    let mut first_text = None;
    loop {
        let idle = || std::thread::sleep(Duration::from_micros(50));
        let (event, mut reply) = session.poll_blocking(stack, clock, idle)?;
        match event {
            Event::Closed { .. } => return Ok(first_text),
            Event::Data { payload, .. } if first_text.is_none() && payload.len() < 32 => {
                first_text = Some(String::from_utf8_lossy(payload).into_owned());
            }
            _ => {}
        }
        echo(&event, &mut reply)?;
    }
}
