//! The client role as the Autobahn TestSuite's fuzzing server expects it, on the async
//! binding over tokio: ask for the number of cases, run each one echoing every message,
//! then ask for the reports.
//!
//! `cargo run --release -p ws-io --features tokio --example tokio_autobahn_client [URL]`
//! (default ws://127.0.0.1:9001)

use ws_io::{Error, Message};

const AGENT: &str = "ws-io-tokio";

/// How many cases run at once, each in a task of its own.
const WALKERS: u32 = 2;

type Result<T> = std::result::Result<T, Error<std::io::Error>>;

#[tokio::main]
async fn main() {
    let base = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let base = base.trim_end_matches('/').to_owned();
    let count = match case_count(&base).await {
        Ok(count) if count > 0 => count,
        Ok(_) => fail(&format!("no cases from {base}/getCaseCount")),
        Err(e) => fail(&format!("getCaseCount: {e}")),
    };
    println!("running {count} cases against {base} as {AGENT}, {WALKERS} at a time");
    // The fuzzing server runs cases side by side: one walker leaves a core half idle.
    let walkers: Vec<_> = (1..=WALKERS)
        .map(|first| tokio::spawn(walk(base.clone(), (first..=count).step_by(WALKERS as usize))))
        .collect();
    for walker in walkers {
        if let Err(e) = walker.await {
            fail(&format!("walker: {e}"));
        }
    }
    // The fuzzing server may exit once the reports are written, before its close frame.
    match echo(&format!("{base}/updateReports?agent={AGENT}"), &mut Vec::new()).await {
        Ok(()) | Err(Error::Disconnected) => {}
        Err(e) => fail(&format!("updateReports: {e}")),
    }
    println!("reports updated");
}

/// Runs `cases`, one after another.
async fn walk(base: String, cases: impl Iterator<Item = u32>) {
    let mut buf = Vec::new();
    for case in cases {
        if let Err(e) = echo(&format!("{base}/runCase?case={case}&agent={AGENT}"), &mut buf).await {
            eprintln!("case {case}: {e}");
        }
    }
}

/// Echoes every message until the server closes.
async fn echo(url: &str, buf: &mut Vec<u8>) -> Result<()> {
    // permessage-deflate offered with the `client_no_context_takeover` hint: the suite's
    // server asks a client to compress each message on its own (cases 13.2, 13.5, 13.6)
    // only if its offer allows it.
    let config = ws_io::DeflateConfig::new().send_no_context_takeover(true);
    let mut ws = ws_io::tokio::connect_with(url, &ws_io::std::Options::new().deflate(Some(config))).await?;
    while let Some(message) = ws.recv(buf).await? {
        ws.send(message).await?;
    }
    Ok(())
}

async fn case_count(base: &str) -> Result<u32> {
    let mut ws = ws_io::tokio::connect(&format!("{base}/getCaseCount")).await?;
    let mut buf = Vec::new();
    let count = match ws.recv(&mut buf).await? {
        Some(Message::Text(text)) => text.trim().parse().unwrap_or(0),
        _ => 0,
    };
    while ws.recv(&mut buf).await?.is_some() {}
    Ok(count)
}

fn fail(why: &str) -> ! {
    eprintln!("tokio_autobahn_client: {why}");
    std::process::exit(1);
}
