//! The client role as the Autobahn TestSuite's fuzzing server expects it: ask for the
//! number of cases, run each one echoing every message, then ask for the reports.
//!
//! `cargo run --release -p ws-nal --example autobahn_client [URL]` (default ws://127.0.0.1:9001)

fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    if let Err(e) = ws_examples::suite::walk(&mut std_embedded_nal::Stack, &url, ws_examples::host::tune) {
        eprintln!("autobahn_client: {e}");
        std::process::exit(1);
    }
}
