//! The server's side of the opening handshake: the client's request, and the answer to it.

use super::{accept_key, has_token, head_len, tokens, trim, Headers, Writer, MAX_HEADERS};
use crate::{http, Config, Error};

/// A validated opening handshake request, borrowing the receive buffer.
///
/// It holds no storage of its own (header fields are read from the head on demand), so
/// the buffer is free again as soon as the request is no longer used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'b> {
    head: &'b [u8],
    target: &'b str,
    host: &'b str,
    key: &'b [u8],
}

impl<'b> Request<'b> {
    /// Parses and validates an opening handshake request from the bytes received so far.
    ///
    /// `Ok(None)` while the head is incomplete. Errors carry the HTTP status to answer
    /// with ([`Error::http_status`]); [`Reject::for_error`] writes that response.
    pub fn parse(buf: &'b [u8], config: &Config) -> Result<Option<Self>, Error> {
        let (mut host, mut version, mut key) = (Once::default(), Once::default(), Once::default());
        let (mut upgrade, mut connection, mut duplicate) = (false, false, Ok(()));
        // The fields that matter are picked up as the parser checks each line.
        let parsed = http::parse_request_fields(buf, MAX_HEADERS, |name, value| {
            let value = trim(value);
            let set = if name.eq_ignore_ascii_case(b"host") {
                host.set(value)
            } else if name.eq_ignore_ascii_case(b"upgrade") {
                upgrade |= has_token(value, "websocket");
                Ok(())
            } else if name.eq_ignore_ascii_case(b"connection") {
                connection |= has_token(value, "upgrade");
                Ok(())
            } else if name.eq_ignore_ascii_case(b"sec-websocket-version") {
                version.set(value)
            } else if name.eq_ignore_ascii_case(b"sec-websocket-key") {
                key.set(value)
            } else {
                Ok(())
            };
            duplicate = duplicate.and(set);
        });
        let Some((len, line)) = head_len(parsed, buf.len(), config.max_handshake_size)? else {
            return Ok(None);
        };
        let head = buf.get(..len).unwrap_or_default();
        if line.method != "GET" {
            return Err(Error::MethodNotGet);
        }
        if line.minor_version != 1 {
            return Err(Error::HttpVersion);
        }
        duplicate?;
        let host = host.0.and_then(|h| core::str::from_utf8(h).ok()).filter(|h| !h.is_empty());
        let host = host.ok_or(Error::MissingHost)?;
        if !upgrade {
            return Err(Error::NotWebSocketUpgrade);
        }
        if !connection {
            return Err(Error::MissingConnectionUpgrade);
        }
        if version.0 != Some(b"13") {
            return Err(Error::UnsupportedVersion);
        }
        let key = key.0.filter(|k| crate::base64::is_16_byte_key(k)).ok_or(Error::BadKey)?;
        Ok(Some(Self { head, target: line.target, host, key }))
    }

    /// Length of the request head in bytes: the WebSocket stream starts after it.
    #[allow(clippy::len_without_is_empty)] // a head is never empty
    pub fn len(&self) -> usize {
        self.head.len()
    }

    /// The request target as sent, e.g. `/chat?room=1`.
    pub fn target(&self) -> &'b str {
        self.target
    }

    /// The path part of the target, e.g. `/chat`.
    pub fn path(&self) -> &'b str {
        self.target.split_once('?').map_or(self.target, |(path, _)| path)
    }

    /// The query part of the target, without the `?`, if there is one.
    pub fn query(&self) -> Option<&'b str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The `Host` header value.
    pub fn host(&self) -> &'b str {
        self.host
    }

    /// The `Origin` header value, if the client sent one (browsers do).
    pub fn origin(&self) -> Option<&'b str> {
        self.header("origin").and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The value of the first header field called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers().get(name)
    }

    /// Every header field, in order.
    pub fn headers(&self) -> Headers<'b> {
        Headers::new(self.head)
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &'b str> {
        self.headers()
            .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-protocol"))
            .flat_map(|(_, value)| tokens(value))
            .filter_map(|t| core::str::from_utf8(t).ok())
    }

    /// The first of the client's offered subprotocols that the application supports.
    pub fn choose_protocol(&self, supported: &[&str]) -> Option<&'b str> {
        self.protocols().find(|p| supported.contains(p))
    }

    /// The first of the client's permessage-deflate offers that `config` can accept, with
    /// the parameters to answer it with ([`Accept::deflate`]); `None` if it made none, or
    /// none this end can afford or understand (RFC 7692 §7.1: such offers are declined,
    /// and the connection goes on uncompressed).
    #[cfg(feature = "deflate")]
    pub fn deflate(&self, config: &crate::deflate::DeflateConfig) -> Option<crate::deflate::Deflate> {
        config.choose(self.headers().get_all("sec-websocket-extensions"))
    }

    /// Writes the whole `101 Switching Protocols` response into `out`, so that it leaves
    /// in one TCP segment; returns its length.
    ///
    /// The subprotocol, if any, must be one the client offered
    /// ([`Error::UnexpectedProtocol`]); extra headers must be well-formed
    /// ([`Error::InvalidHeader`]).
    pub fn accept(&self, accept: &Accept<'_>, out: &mut [u8]) -> Result<usize, Error> {
        if let Some(p) = accept.protocol {
            if !self.protocols().any(|offered| offered == p) {
                return Err(Error::UnexpectedProtocol);
            }
        }
        let mut w = Writer::new(out);
        w.put_all(&[
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
            &accept_key(self.key),
            b"\r\n",
        ])?;
        if let Some(p) = accept.protocol {
            w.put_all(&[b"Sec-WebSocket-Protocol: ", p.as_bytes(), b"\r\n"])?;
        }
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &accept.deflate {
            w.put(b"Sec-WebSocket-Extensions: ")?;
            deflate.write_response(&mut w)?;
            w.put(b"\r\n")?;
        }
        w.put_headers(accept.headers)?;
        w.put(b"\r\n")?;
        Ok(w.pos)
    }
}

/// A header field that must appear at most once (RFC 6455 §11.3).
#[derive(Default)]
struct Once<'b>(Option<&'b [u8]>);

impl<'b> Once<'b> {
    fn set(&mut self, value: &'b [u8]) -> Result<(), Error> {
        if self.0.replace(value).is_some() {
            return Err(Error::DuplicateHeader);
        }
        Ok(())
    }
}

/// How the server accepts a request: the subprotocol it chose and any extra response
/// headers (a cookie, say).
///
/// ```
/// use ws_proto::handshake::Accept;
/// let accept = Accept::new().protocol("chat").headers(&[("Set-Cookie", "session=1")]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Accept<'a> {
    protocol: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::Deflate>,
}

impl<'a> Accept<'a> {
    /// An acceptance with no subprotocol and no extra headers.
    pub const fn new() -> Self {
        Self {
            protocol: None,
            headers: &[],
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// Accepts permessage-deflate as [`Request::deflate`] chose (`None`: no compression).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn deflate(mut self, deflate: Option<crate::deflate::Deflate>) -> Self {
        self.deflate = deflate;
        self
    }

    /// The permessage-deflate agreement this acceptance answers with.
    #[cfg(feature = "deflate")]
    pub const fn selected_deflate(&self) -> Option<crate::deflate::Deflate> {
        self.deflate
    }

    /// The subprotocol to answer with: one the client offered, or `None`.
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<Option<&'a str>>) -> Self {
        self.protocol = protocol.into();
        self
    }

    /// Extra header fields for the response.
    #[must_use]
    pub const fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The subprotocol this acceptance answers with.
    pub const fn selected_protocol(&self) -> Option<&'a str> {
        self.protocol
    }
}

/// An HTTP error response that turns a request down: any status, headers and body, with
/// `Connection: close`.
///
/// ```
/// use ws_proto::handshake::Reject;
/// let mut out = [0u8; 256];
/// let n = Reject::new(401).headers(&[("WWW-Authenticate", "Bearer")]).write(&mut out)?;
/// assert!(out[..n].starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Reject<'a> {
    status: u16,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

impl<'a> Reject<'a> {
    /// A response with `status` (200-599), no extra headers and an empty body.
    pub const fn new(status: u16) -> Self {
        Self { status, headers: &[], body: &[] }
    }

    /// The response to a request that failed with `error`: its HTTP status (400 for errors
    /// without one), its reason as a plain-text body, for 426 the version the server
    /// speaks, and for 405 the allowed method (and no body, as a HEAD request needs).
    pub fn for_error(error: Error) -> Reject<'static> {
        const TEXT: &[(&str, &str)] = &[("Content-Type", "text/plain")];
        const UPGRADE: &[(&str, &str)] =
            &[("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Content-Type", "text/plain")];
        match error.http_status() {
            Some(405) => Reject { status: 405, headers: &[("Allow", "GET")], body: &[] },
            Some(426) => Reject { status: 426, headers: UPGRADE, body: error.reason().as_bytes() },
            status => {
                Reject { status: status.unwrap_or(400), headers: TEXT, body: error.reason().as_bytes() }
            }
        }
    }

    /// Extra header fields.
    #[must_use]
    pub const fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The body (its `Content-Length` is written for it).
    #[must_use]
    pub const fn body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    /// The status code.
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// Writes the whole response into `out`; returns its length. A status outside 200-599
    /// is [`Error::InvalidStatus`].
    pub fn write(&self, out: &mut [u8]) -> Result<usize, Error> {
        if !(200..=599).contains(&self.status) {
            return Err(Error::InvalidStatus);
        }
        let mut w = Writer::new(out);
        w.put(b"HTTP/1.1 ")?;
        w.put_decimal(self.status)?;
        w.put_all(&[b" ", reason_phrase(self.status).as_bytes(), b"\r\nConnection: close\r\n"])?;
        w.put_headers(self.headers)?;
        w.put(b"Content-Length: ")?;
        // A handshake answer's body is short; 64 KiB or more does not fit the buffer anyway.
        w.put_decimal(u16::try_from(self.body.len()).map_err(|_| Error::BufferTooSmall)?)?;
        w.put_all(&[b"\r\n\r\n", self.body])?;
        Ok(w.pos)
    }
}

/// The reason phrase for the statuses a WebSocket server is likely to answer with
/// (RFC 9110 §15); others get none, which HTTP/1.1 allows.
fn reason_phrase(status: u16) -> &'static str {
    // One table searched in a loop: on a Cortex-M0 a `match` costs a branch and a string
    // load per status.
    const PHRASES: [(u16, &str); 10] = [
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (426, "Upgrade Required"),
        (429, "Too Many Requests"),
        (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
    ];
    PHRASES.iter().find(|(code, _)| *code == status).map_or("", |(_, phrase)| phrase)
}
