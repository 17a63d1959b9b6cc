//! A broadcast chat server on tokio: every text message a client sends goes to every
//! client, each connection split into a reading task and a writing task.
//!
//! `cargo run -p ws-io --features tokio --example tokio_chat [ADDR]` (default
//! 127.0.0.1:9003); talk to it with `cargo run -p ws-io --features tokio,rustls --example
//! client -- ws://127.0.0.1:9003`.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::broadcast;
use ws_io::{Message, OwnedMessage};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat on ws://{addr}");
    let (hub, _) = broadcast::channel::<Arc<str>>(1024);
    loop {
        let (stream, peer) = listener.accept().await?;
        let hub = hub.clone();
        tokio::spawn(async move {
            let Ok(ws) = ws_io::tokio::accept(stream).await else { return };
            let (mut reader, writer) = ws.split();
            // What the others say reaches this client through its own task.
            let mut feed = hub.subscribe();
            let forward = tokio::spawn(async move {
                loop {
                    match feed.recv().await {
                        Ok(line) => {
                            if writer.send(Message::text(&line)).await.is_err() {
                                return;
                            }
                        }
                        // A slow client misses lines rather than holding everyone up.
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
            let _ = hub.send(format!("{peer} joined").into());
            while let Ok(Some(message)) = reader.recv_owned().await {
                if let OwnedMessage::Text(text) = message {
                    let _ = hub.send(format!("{peer}: {text}").into());
                }
            }
            let _ = hub.send(format!("{peer} left").into());
            forward.abort();
        });
    }
}
