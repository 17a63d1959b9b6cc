//! The client role as the Autobahn TestSuite's fuzzing server expects it, on the blocking
//! stream binding: ask for the number of cases, run each one echoing every frame, then
//! ask for the reports.
//!
//! `cargo run --release -p ws-io --example autobahn_client [URL]`
//! (default ws://127.0.0.1:9001)

use ws_examples::echo::echo_frames;
use ws_io::{Error, Message};

const AGENT: &str = "ws-io";
/// How many cases run at once, each on a thread of its own.
const WALKERS: u32 = 2;

fn main() {
    let base = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let base = base.trim_end_matches('/');
    let count = match case_count(base) {
        Ok(count) if count > 0 => count,
        Ok(_) => fail(&format!("no cases from {base}/getCaseCount")),
        Err(e) => fail(&format!("getCaseCount: {e}")),
    };
    println!("running {count} cases against {base} as {AGENT}, {WALKERS} at a time");
    // The fuzzing server runs cases side by side: one walker leaves a core half idle.
    std::thread::scope(|scope| {
        for first in 1..=WALKERS {
            scope.spawn(move || walk(base, (first..=count).step_by(WALKERS as usize)));
        }
    });
    let url = format!("{base}/updateReports?agent={AGENT}");
    // The fuzzing server may exit once the reports are written, before its close frame.
    match ws_io::std::connect(&url).and_then(|mut ws| ws.recv(&mut Vec::new()).map(|_| ())) {
        Ok(()) | Err(Error::Disconnected) => {}
        Err(e) => fail(&format!("updateReports: {e}")),
    }
    println!("reports updated");
}

/// Runs `cases`, one after another, echoing every frame.
fn walk(base: &str, cases: impl Iterator<Item = u32>) {
    // A chunk is at most the receive buffer, or an inflater's 32 KiB window.
    let mut chunk = vec![0u8; ws_io::std::BUFFER_LEN.max(1 << 15)];
    for case in cases {
        let url = format!("{base}/runCase?case={case}&agent={AGENT}");
        let outcome =
            ws_io::std::connect_with(&url, &options()).and_then(|mut ws| echo_frames(&mut ws, &mut chunk));
        if let Err(e) = outcome {
            eprintln!("case {case}: {e}");
        }
    }
}

fn case_count(base: &str) -> Result<u32, ws_io::Error<std::io::Error>> {
    let mut ws = ws_io::std::connect(&format!("{base}/getCaseCount"))?;
    let mut buf = Vec::new();
    Ok(match ws.recv(&mut buf)? {
        Some(Message::Text(text)) => text.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

/// permessage-deflate offered with the `client_no_context_takeover` hint: the suite's
/// server asks a client to compress each message on its own (cases 13.2, 13.5, 13.6) only
/// if its offer allows it.
fn options() -> ws_io::std::Options<'static> {
    ws_io::std::Options::new().deflate(Some(ws_io::DeflateConfig::new().send_no_context_takeover(true)))
}

fn fail(why: &str) -> ! {
    eprintln!("autobahn_client: {why}");
    std::process::exit(1);
}
