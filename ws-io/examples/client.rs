//! A small interactive WebSocket client: sends each line of stdin, prints what arrives.
//!
//! `cargo run -p ws-io --features tokio,rustls --example client -- URL [--binary]
//! [--protocol NAME]... [--header 'Name: value']...`
//!
//! `ws://` and `wss://` URLs; `--binary` sends lines as binary messages; binary messages
//! that arrive are written to stdout as they are. Ends at the end of stdin (closing the
//! connection) or when the server closes. A server may drop replies it has not sent by
//! the time the close arrives, so a pipe that wants its answers keeps stdin open until
//! they are in (`(echo hello; sleep 1) | client URL`).

use std::io::Write as _;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use ws_io::std::Options;
use ws_io::{CloseCode, Message, OwnedMessage};

const USAGE: &str = "usage: client URL [--binary] [--protocol NAME]... [--header 'Name: value']...";

#[tokio::main]
async fn main() {
    let mut url = None;
    let (mut binary, mut protocols, mut headers) = (false, Vec::new(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--binary" => binary = true,
            "--protocol" => protocols.push(args.next().unwrap_or_else(|| fail(USAGE))),
            "--header" => {
                let header = args.next().unwrap_or_else(|| fail(USAGE));
                let (name, value) =
                    header.split_once(':').unwrap_or_else(|| fail("a header is 'Name: value'"));
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => fail(USAGE),
        }
    }
    let url = url.unwrap_or_else(|| fail(USAGE));
    let protocols: Vec<&str> = protocols.iter().map(String::as_str).collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let options = Options::new().protocols(&protocols).headers(&headers);
    let ws = match ws_io::tokio::connect_with(&url, &options).await {
        Ok(ws) => ws,
        Err(e) => fail(&format!("{url}: {e}")),
    };
    eprintln!("connected to {url}{}", ws.protocol().map(|p| format!(" (protocol {p})")).unwrap_or_default());

    let (mut reader, writer) = ws.split();
    let printer = tokio::spawn(async move {
        loop {
            match reader.recv_owned().await {
                Ok(Some(OwnedMessage::Text(text))) => println!("{text}"),
                Ok(Some(OwnedMessage::Binary(bytes))) => {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&bytes).and_then(|()| out.flush());
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    let close = reader.peer_close().await;
                    eprintln!("closed{}", close.map(|(c, r)| format!(": {} {r}", c.0)).unwrap_or_default());
                    return;
                }
                Err(e) => return eprintln!("receive: {e}"),
            }
        }
    });

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let message = if binary { Message::binary(line.as_bytes()) } else { Message::text(&line) };
        if let Err(e) = writer.send(message).await {
            eprintln!("send: {e}");
            break;
        }
    }
    let _ = writer.close(CloseCode::NORMAL, "").await;
    let _ = tokio::time::timeout(Duration::from_secs(2), printer).await;
}

fn fail(why: &str) -> ! {
    eprintln!("client: {why}");
    std::process::exit(2);
}
