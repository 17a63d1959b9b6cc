//! Async WebSockets on tokio, in one call: [`connect`] to a `ws://` (or, with `rustls`,
//! `wss://`) URL, [`accept`] an incoming stream. Heap buffers, a `Send` random number
//! generator, `TCP_NODELAY` on, and [`TokioTimer`] for keepalive and the close timeout.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let (stream, _) = listener.accept().await?;
//! let mut ws = ws_io::tokio::accept(stream).await?;
//! let mut buf = Vec::new();
//! while let Some(message) = ws.recv(&mut buf).await? {
//!     println!("{message:?}");
//! }
//! # Ok(()) }
//! ```

use ::core::pin::Pin;
use ::core::task::{Context, Poll};
use ::std::io;
use ::std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;
use embedded_hal_async::delay::DelayNs;
use embedded_io_adapters::tokio_1::FromTokio;
use rand::rngs::StdRng;
use rand::SeedableRng;
use ws_proto::handshake::Url;

use crate::asynch::WebSocket;
use crate::std::{Options, BUFFER_LEN};
use crate::{Accept, Buffers, Error, Reject, Request};
use ws_proto::NoRng;

/// A client connection made by [`connect`].
pub type Client = WebSocket<FromTokio<Stream>, Vec<u8>, StdRng, TokioTimer>;

/// A server connection made by [`accept`], on the stream it was given.
pub type Server<T = TcpStream> = WebSocket<FromTokio<T>, Vec<u8>, NoRng, TokioTimer>;

/// tokio's timer, for keepalive and the close timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl DelayNs for TokioTimer {
    async fn delay_ns(&mut self, ns: u32) {
        ::tokio::time::sleep(Duration::from_nanos(u64::from(ns))).await;
    }

    async fn delay_ms(&mut self, ms: u32) {
        ::tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
    }
}

/// Connects to a `ws://` or `wss://` URL and runs the opening handshake.
pub async fn connect(url: &str) -> Result<Client, Error<io::Error>> {
    connect_with(url, &Options::new()).await
}

/// [`connect`] with subprotocols, headers, limits, keepalive or TLS settings.
pub async fn connect_with(url: &str, options: &Options<'_>) -> Result<Client, Error<io::Error>> {
    let target = Url::parse(url)?;
    let tcp = TcpStream::connect((target.host(), target.port())).await.map_err(Error::Io)?;
    tcp.set_nodelay(true).map_err(Error::Io)?;
    let stream = if target.is_secure() {
        tls::connect(tcp, target.host(), options).await?
    } else {
        Stream::Plain(tcp)
    };
    let mut builder = WebSocket::builder(FromTokio::new(stream), Buffers::with_len(BUFFER_LEN))
        .config(options.config)
        .timer(TokioTimer);
    if let Some(keepalive) = options.keepalive {
        builder = builder.keepalive(keepalive);
    }
    #[cfg(feature = "deflate")]
    let builder = builder.deflate(options.deflate);
    builder.client(options.request(url)?, StdRng::from_os_rng()).await
}

/// Runs the server's opening handshake on an accepted stream (TCP, or TLS over it),
/// accepting every valid request without a subprotocol.
pub async fn accept<T: AsyncRead + AsyncWrite + Unpin>(stream: T) -> Result<Server<T>, Error<io::Error>> {
    accept_with(stream, |_| Ok(Accept::new())).await
}

/// Runs the server's opening handshake on an accepted stream and lets `policy` decide from
/// the request (path, headers, offered subprotocols): accept, or turn it down with any
/// status.
pub async fn accept_with<T, F>(stream: T, policy: F) -> Result<Server<T>, Error<io::Error>>
where
    T: AsyncRead + AsyncWrite + Unpin,
    F: for<'r> FnOnce(&Request<'r>) -> Result<Accept<'r>, Reject<'r>>,
{
    let builder = WebSocket::builder(FromTokio::new(stream), Buffers::with_len(BUFFER_LEN)).timer(TokioTimer);
    #[cfg(feature = "deflate")]
    let builder = builder.deflate(Some(ws_proto::deflate::DeflateConfig::new()));
    builder.server_with(policy).await
}

/// A client's byte stream: TCP, or TLS over TCP for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(feature = "rustls")]
mod tls {
    use ::tokio::net::TcpStream;

    use super::Stream;
    use crate::std::{client_config, server_name, Options};
    use crate::Error;

    pub(super) async fn connect(
        tcp: TcpStream,
        host: &str,
        options: &Options<'_>,
    ) -> Result<Stream, Error<::std::io::Error>> {
        let connector = tokio_rustls::TlsConnector::from(client_config(options)?);
        let tls = connector.connect(server_name(host)?, tcp).await.map_err(Error::Io)?;
        Ok(Stream::Tls(Box::new(tls)))
    }
}

#[cfg(not(feature = "rustls"))]
mod tls {
    #![allow(clippy::unused_async)]
    use ::tokio::net::TcpStream;

    use super::Stream;
    use crate::std::Options;
    use crate::Error;

    /// Without `rustls`, `wss://` cannot be spoken.
    pub(super) async fn connect(
        _: TcpStream,
        _: &str,
        _: &Options<'_>,
    ) -> Result<Stream, Error<::std::io::Error>> {
        Err(Error::Ws(ws_proto::Error::InvalidUrl))
    }
}
