//! A tokio WebSocket echo server: `cargo run -p ws-io --features tokio --example tokio_echo_server [ADDR]`.
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let mut ws = ws_io::tokio::accept(stream).await?;
            let mut buf = Vec::new();
            while let Some(message) = ws.recv(&mut buf).await? {
                ws.send(message).await?;
            }
            Ok::<_, ws_io::Error<std::io::Error>>(())
        });
    }
}
