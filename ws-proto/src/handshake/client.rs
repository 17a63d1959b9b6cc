//! The client's side of the opening handshake: the request, and the check of the answer.

use rand_core::RngCore;

use super::{accept_key, has_token, head_len, tokens, Headers, Url, Writer, MAX_HEADERS};
use crate::{http, Config, Connection, Error};

/// The client's `Sec-WebSocket-Key`: 16 random bytes, base64-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey([u8; 24]);

impl ClientKey {
    /// A fresh nonce from the caller's random number generator.
    pub fn generate<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        let mut key = [0u8; 24];
        // 16 bytes always encode to exactly 24 base64 characters.
        crate::base64::encode(&nonce, &mut key);
        Self(key)
    }

    /// The key as sent in the request header.
    pub fn as_bytes(&self) -> &[u8; 24] {
        &self.0
    }
}

/// What the client asks for: host, path, and optionally subprotocols, an Origin and extra
/// header fields (a token or a cookie, say).
///
/// ```
/// use ws_proto::handshake::ClientRequest;
/// let request = ClientRequest::from_url("ws://example.com:9001/chat")?
///     .protocols(&["chat"])
///     .headers(&[("Authorization", "Bearer abc")]);
/// assert_eq!((request.host(), request.path()), ("example.com:9001", "/chat"));
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    host: &'a str,
    path: &'a str,
    origin: Option<&'a str>,
    protocols: &'a [&'a str],
    headers: &'a [(&'a str, &'a str)],
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateConfig>,
}

impl<'a> ClientRequest<'a> {
    /// A request for `path` (with its query, e.g. `/chat?room=1`) on `host` (the `Host`
    /// header value, e.g. `example.com:9001`).
    pub const fn new(host: &'a str, path: &'a str) -> Self {
        Self {
            host,
            path,
            origin: None,
            protocols: &[],
            headers: &[],
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// Offers permessage-deflate with what `config` can afford; the server's answer is
    /// checked by [`ClientHandshake::read_response`] and shown by [`Response::deflate`].
    #[cfg(feature = "deflate")]
    #[must_use]
    pub const fn deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }

    /// A request for the resource a `ws://` or `wss://` URL names (see [`Url`]).
    pub fn from_url(url: &'a str) -> Result<Self, Error> {
        Url::parse(url).map(|url| Self::new(url.authority(), url.resource()))
    }

    /// Subprotocols to offer, most preferred first.
    #[must_use]
    pub const fn protocols(mut self, protocols: &'a [&'a str]) -> Self {
        self.protocols = protocols;
        self
    }

    /// The `Origin` to send (browsers always send one; servers may check it).
    #[must_use]
    pub const fn origin(mut self, origin: &'a str) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Extra header fields.
    #[must_use]
    pub const fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// The `Host` header value.
    pub const fn host(&self) -> &'a str {
        self.host
    }

    /// The request target.
    pub const fn path(&self) -> &'a str {
        self.path
    }

    /// Writes the whole request head with `key` into `out`; returns its length.
    ///
    /// A path that is not visible ASCII, or a value with a control character, is
    /// [`Error::InvalidHeader`]: nothing written here can forge a header.
    pub fn write(&self, key: &ClientKey, out: &mut [u8]) -> Result<usize, Error> {
        let valid = |s: &str| http::is_field_value(s.as_bytes());
        let values_ok =
            valid(self.host) && self.origin.is_none_or(valid) && self.protocols.iter().all(|p| valid(p));
        if !http::is_target(self.path.as_bytes()) || !values_ok {
            return Err(Error::InvalidHeader);
        }
        let mut w = Writer::new(out);
        w.put_all(&[b"GET ", self.path.as_bytes(), b" HTTP/1.1\r\nHost: ", self.host.as_bytes()])?;
        w.put(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ")?;
        w.put_all(&[key.as_bytes(), b"\r\nSec-WebSocket-Version: 13\r\n"])?;
        if let Some(origin) = self.origin {
            w.put_all(&[b"Origin: ", origin.as_bytes(), b"\r\n"])?;
        }
        for (i, p) in self.protocols.iter().enumerate() {
            w.put_all(&[if i == 0 { b"Sec-WebSocket-Protocol: " } else { b", " }, p.as_bytes()])?;
        }
        if !self.protocols.is_empty() {
            w.put(b"\r\n")?;
        }
        #[cfg(feature = "deflate")]
        if let Some(config) = &self.deflate {
            w.put(b"Sec-WebSocket-Extensions: ")?;
            config.write_offer(&mut w)?;
            w.put(b"\r\n")?;
        }
        w.put_headers(self.headers)?;
        w.put(b"\r\n")?;
        Ok(w.pos)
    }
}

/// A client's opening handshake in progress: the request with its key, then the check of
/// the server's answer, then the [`Connection`].
#[derive(Debug, Clone, Copy)]
pub struct ClientHandshake<'a> {
    request: ClientRequest<'a>,
    key: ClientKey,
    config: Config,
}

impl<'a> ClientHandshake<'a> {
    /// A handshake for `request` with a fresh key from `rng` (the same generator then
    /// masks the connection's frames: see [`into_connection`](Self::into_connection)).
    pub fn new<R: RngCore + ?Sized>(request: ClientRequest<'a>, config: Config, rng: &mut R) -> Self {
        Self { request, key: ClientKey::generate(rng), config }
    }

    /// The request.
    pub fn request(&self) -> &ClientRequest<'a> {
        &self.request
    }

    /// Writes the request head into `out`; returns its length.
    pub fn write_request(&self, out: &mut [u8]) -> Result<usize, Error> {
        self.request.write(&self.key, out)
    }

    /// Checks the server's answer from the bytes received so far: `Ok(None)` while its
    /// head is incomplete.
    ///
    /// A status other than 101 is [`Error::HandshakeRejected`]; its head is still in the
    /// buffer for [`Response::parse`] to show its headers.
    pub fn read_response<'b>(&self, buf: &'b [u8]) -> Result<Option<Response<'b>>, Error> {
        #[allow(unused_mut)] // permessage-deflate's outcome is set below
        let Some(mut response) = Response::parse(buf, &self.config)?
        else {
            return Ok(None);
        };
        if response.status != 101 {
            return Err(Error::HandshakeRejected(response.status));
        }
        let expected = accept_key(&self.key.0);
        let (mut upgrade, mut connection, mut accept) = (false, false, None);
        let mut protocols = 0;
        for (name, value) in response.headers() {
            if name.eq_ignore_ascii_case("upgrade") {
                upgrade |= has_token(value, "websocket");
            } else if name.eq_ignore_ascii_case("connection") {
                connection |= has_token(value, "upgrade");
            } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
                if accept.replace(value).is_some() {
                    return Err(Error::DuplicateHeader);
                }
            } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                protocols += 1;
            } else if name.eq_ignore_ascii_case("sec-websocket-extensions")
                && tokens(value).next().is_some()
                && !self.offers_deflate()
            {
                // No extension was offered, so none may be accepted.
                return Err(Error::UnexpectedExtension);
            }
        }
        if !upgrade {
            return Err(Error::NotWebSocketUpgrade);
        }
        if !connection {
            return Err(Error::MissingConnectionUpgrade);
        }
        if accept != Some(&expected[..]) {
            return Err(Error::BadAccept);
        }
        let chosen_ok = response.protocol.is_none_or(|p| self.request.protocols.contains(&p));
        if protocols > 1 || !chosen_ok {
            return Err(Error::UnexpectedProtocol);
        }
        #[cfg(feature = "deflate")]
        if let Some(config) = &self.request.deflate {
            response.deflate =
                config.accept_response(response.headers().get_all("sec-websocket-extensions"))?;
        }
        Ok(Some(response))
    }

    /// Whether the request offers permessage-deflate.
    fn offers_deflate(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.request.deflate.is_some();
        #[cfg(not(feature = "deflate"))]
        false
    }

    /// The connection, once [`read_response`](Self::read_response) has accepted the
    /// answer, masking its frames with keys from `rng`; the bytes after the response head
    /// are its first input.
    pub fn into_connection<R: RngCore>(self, rng: R) -> Connection<R> {
        Connection::client(self.config, rng)
    }
}

/// A server's answer to an opening handshake, borrowing the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'b> {
    head: &'b [u8],
    status: u16,
    protocol: Option<&'b str>,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::Deflate>,
}

impl<'b> Response<'b> {
    /// Parses a response head from the bytes received so far (`Ok(None)` while it is
    /// incomplete) without checking that it accepts a handshake: use it to look at a
    /// rejection; [`ClientHandshake::read_response`] does the checking.
    pub fn parse(buf: &'b [u8], config: &Config) -> Result<Option<Self>, Error> {
        let parsed = http::parse_response(buf, MAX_HEADERS);
        let Some((len, line)) = head_len(parsed, buf.len(), config.max_handshake_size)? else {
            return Ok(None);
        };
        let head = buf.get(..len).unwrap_or_default();
        let protocol = Headers::new(head)
            .get("sec-websocket-protocol")
            .map(|value| core::str::from_utf8(value).map_err(|_| Error::UnexpectedProtocol))
            .transpose()?;
        Ok(Some(Self {
            head,
            status: line.status,
            protocol,
            #[cfg(feature = "deflate")]
            deflate: None,
        }))
    }

    /// Length of the response head in bytes: the WebSocket stream starts after it.
    #[allow(clippy::len_without_is_empty)] // a head is never empty
    pub fn len(&self) -> usize {
        self.head.len()
    }

    /// The status code: 101 for an accepted handshake.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The subprotocol the server chose.
    pub fn protocol(&self) -> Option<&'b str> {
        self.protocol
    }

    /// The permessage-deflate agreement, as checked by
    /// [`ClientHandshake::read_response`]: give it to the connection
    /// ([`Connection::set_deflate`]).
    #[cfg(feature = "deflate")]
    pub fn deflate(&self) -> Option<crate::deflate::Deflate> {
        self.deflate
    }

    /// The value of the first header field called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers().get(name)
    }

    /// Every header field, in order.
    pub fn headers(&self) -> Headers<'b> {
        Headers::new(self.head)
    }
}
