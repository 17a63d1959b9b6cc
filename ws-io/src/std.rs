//! Blocking WebSockets over `std::net::TcpStream`, in one call: [`connect`] to a `ws://`
//! (or, with `rustls`, `wss://`) URL, [`accept`] an incoming stream. Heap buffers of
//! [`BUFFER_LEN`] bytes, a `Send` random number generator, `TCP_NODELAY` on.

use ::std::io;
use ::std::net::TcpStream;

use embedded_io_adapters::std::FromStd;
use rand::rngs::StdRng;
use rand::SeedableRng;
use ws_proto::handshake::Url;

use crate::blocking::WebSocket;
use crate::{Accept, Buffers, ClientRequest, Config, Error, Keepalive, Reject, Request};

/// Size of each of a connection's two buffers: a whole handshake head, and reads and
/// writes large enough for throughput.
pub const BUFFER_LEN: usize = 16 * 1024;

/// A client connection made by [`connect`].
pub type Client = WebSocket<FromStd<Stream>, Vec<u8>, StdRng>;

/// A server connection made by [`accept`], on the stream it was given.
pub type Server<T = TcpStream> = WebSocket<FromStd<T>, Vec<u8>>;

/// What [`connect_with`] asks for beyond the URL.
///
/// ```
/// let options = ws_io::std::Options::new().protocols(&["chat"]).headers(&[("Authorization", "Bearer t")]);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options<'a> {
    /// Subprotocols to offer, most preferred first.
    pub protocols: &'a [&'a str],
    /// Extra request header fields.
    pub headers: &'a [(&'a str, &'a str)],
    /// The `Origin` to send.
    pub origin: Option<&'a str>,
    /// Protocol limits.
    pub config: Config,
    /// Keepalive: with [`connect`], reads time out after `ping_after_ms` so that it runs.
    pub keepalive: Option<Keepalive>,
    /// TLS settings for `wss://` (default: the Mozilla root certificates).
    #[cfg(feature = "rustls")]
    pub tls: Option<::std::sync::Arc<rustls::ClientConfig>>,
    /// permessage-deflate to offer (default: offered, 32 KiB windows); `None`: not.
    #[cfg(feature = "deflate")]
    pub deflate: Option<ws_proto::deflate::DeflateConfig>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Options<'a> {
    /// No subprotocols, headers or Origin; default limits; no keepalive; permessage-deflate
    /// offered (with the `deflate` feature).
    pub fn new() -> Self {
        Self {
            protocols: &[],
            headers: &[],
            origin: None,
            config: Config::default(),
            keepalive: None,
            #[cfg(feature = "rustls")]
            tls: None,
            #[cfg(feature = "deflate")]
            deflate: Some(ws_proto::deflate::DeflateConfig::new()),
        }
    }

    /// Sets the permessage-deflate offer, or turns it off with `None`.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(mut self, config: Option<ws_proto::deflate::DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }

    /// Sets the subprotocols to offer.
    #[must_use]
    pub fn protocols(mut self, protocols: &'a [&'a str]) -> Self {
        self.protocols = protocols;
        self
    }

    /// Sets extra request header fields.
    #[must_use]
    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the `Origin`.
    #[must_use]
    pub fn origin(mut self, origin: &'a str) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Sets the protocol limits.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Turns keepalive on.
    #[must_use]
    pub fn keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = Some(keepalive);
        self
    }

    /// Sets the TLS client settings for `wss://` (a private root certificate, say).
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls(mut self, config: ::std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// The request for `url`.
    pub(crate) fn request<'u>(&self, url: &'u str) -> Result<ClientRequest<'u>, ws_proto::Error>
    where
        'a: 'u,
    {
        let mut request = ClientRequest::from_url(url)?.protocols(self.protocols).headers(self.headers);
        if let Some(origin) = self.origin {
            request = request.origin(origin);
        }
        Ok(request)
    }
}

/// Connects to a `ws://` or `wss://` URL and runs the opening handshake.
pub fn connect(url: &str) -> Result<Client, Error<io::Error>> {
    connect_with(url, &Options::new())
}

/// [`connect`] with subprotocols, headers, limits, keepalive or TLS settings.
pub fn connect_with(url: &str, options: &Options<'_>) -> Result<Client, Error<io::Error>> {
    let target = Url::parse(url)?;
    let tcp = TcpStream::connect((target.host(), target.port())).map_err(Error::Io)?;
    tcp.set_nodelay(true).map_err(Error::Io)?;
    if let Some(keepalive) = options.keepalive {
        let timeout = ::std::time::Duration::from_millis(u64::from(keepalive.ping_after_ms.max(1)));
        tcp.set_read_timeout(Some(timeout)).map_err(Error::Io)?;
    }
    let stream =
        if target.is_secure() { tls::connect(tcp, target.host(), options)? } else { Stream::Plain(tcp) };
    let mut builder =
        WebSocket::builder(FromStd::new(stream), Buffers::with_len(BUFFER_LEN)).config(options.config);
    if let Some(keepalive) = options.keepalive {
        builder = builder.keepalive(keepalive);
    }
    #[cfg(feature = "deflate")]
    let builder = builder.deflate(options.deflate);
    builder.client(options.request(url)?, StdRng::from_os_rng())
}

/// Runs the server's opening handshake on an accepted stream (TCP, or TLS over it),
/// accepting every valid request without a subprotocol.
pub fn accept<T: io::Read + io::Write>(stream: T) -> Result<Server<T>, Error<io::Error>> {
    accept_with(stream, |_| Ok(Accept::new()))
}

/// Runs the server's opening handshake on an accepted stream and lets `policy` decide from
/// the request (path, headers, offered subprotocols): accept, or turn it down with any
/// status.
pub fn accept_with<T, F>(stream: T, policy: F) -> Result<Server<T>, Error<io::Error>>
where
    T: io::Read + io::Write,
    F: for<'r> FnOnce(&Request<'r>) -> Result<Accept<'r>, Reject<'r>>,
{
    let builder = WebSocket::builder(FromStd::new(stream), Buffers::with_len(BUFFER_LEN));
    #[cfg(feature = "deflate")]
    let builder = builder.deflate(Some(ws_proto::deflate::DeflateConfig::new()));
    builder.server_with(policy)
}

/// A client's byte stream: TCP, or TLS over TCP for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    #[cfg(feature = "rustls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// The TCP stream underneath (to set a timeout, say).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => tls.get_ref(),
        }
    }
}

impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => tls.read(buf),
        }
    }
}

impl io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            #[cfg(feature = "rustls")]
            Self::Tls(tls) => tls.flush(),
        }
    }
}

#[cfg(feature = "rustls")]
mod tls {
    use ::std::net::TcpStream;
    use ::std::sync::Arc;

    use super::{Options, Stream};
    use crate::Error;

    /// The TLS client settings: the caller's, or the Mozilla roots with the ring provider.
    pub(crate) fn client_config(
        options: &Options<'_>,
    ) -> Result<Arc<rustls::ClientConfig>, Error<::std::io::Error>> {
        if let Some(config) = &options.tls {
            return Ok(config.clone());
        }
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Io(::std::io::Error::other(e)))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Arc::new(config))
    }

    pub(crate) fn server_name(
        host: &str,
    ) -> Result<rustls_pki_types::ServerName<'static>, Error<::std::io::Error>> {
        rustls_pki_types::ServerName::try_from(host.to_owned())
            .map_err(|_| Error::Ws(ws_proto::Error::InvalidUrl))
    }

    pub(super) fn connect(
        tcp: TcpStream,
        host: &str,
        options: &Options<'_>,
    ) -> Result<Stream, Error<::std::io::Error>> {
        let conn = rustls::ClientConnection::new(client_config(options)?, server_name(host)?)
            .map_err(|e| Error::Io(::std::io::Error::other(e)))?;
        Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
    }
}

#[cfg(not(feature = "rustls"))]
mod tls {
    #![allow(clippy::unnecessary_wraps)]
    use ::std::net::TcpStream;

    use super::{Options, Stream};
    use crate::Error;

    /// Without `rustls`, `wss://` cannot be spoken.
    pub(super) fn connect(_: TcpStream, _: &str, _: &Options<'_>) -> Result<Stream, Error<::std::io::Error>> {
        Err(Error::Ws(ws_proto::Error::InvalidUrl))
    }
}

#[cfg(feature = "rustls")]
pub(crate) use tls::{client_config, server_name};
