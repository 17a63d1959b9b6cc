//! The opening handshake (RFC 6455 §4): the server parses a request and writes
//! a 101 or an HTTP error response; the client writes a request with a random nonce and
//! validates the 101 it gets back. Header token lists are parsed with nom.
//!
//! Every parser here takes the bytes received so far: `Ok(None)` means the head is not
//! complete yet, `Ok(Some((len, ..)))` gives the head length, and bytes after it already
//! belong to the WebSocket stream.

use nom::{
    bytes::complete::{take_while, take_while1},
    character::complete::char,
    combinator::opt,
    Parser,
};
use rand_core::RngCore;

use crate::{http, Config, Error};

/// Appended to the client's key before hashing (RFC 6455 §1.3).
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Most request or response headers the parsers look at; more is a 431.
pub const MAX_HEADERS: usize = 32;

/// Most subprotocol header lines remembered from a request.
pub const MAX_PROTOCOL_HEADERS: usize = 4;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key ++ GUID)).
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    let mut sha = crate::sha1::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let mut out = [0u8; 28];
    // 20 bytes always encode to exactly 28 base64 characters.
    crate::base64::encode(&sha.digest(), &mut out);
    out
}

/// Iterates over the comma-separated tokens of a header value (RFC 7230 §7 `#token`),
/// skipping empty elements and optional white space; parameters after `;` stay attached.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = value;
    core::iter::from_fn(move || loop {
        let ows = |i| take_while(|c| c == b' ' || c == b'\t').parse(i);
        let element = take_while1(|c| c != b',');
        let parsed: nom::IResult<&[u8], Element<'_>> =
            (ows, opt(element), opt(char(','))).map(|(_, e, c)| (e, c)).parse(rest);
        let (next, (element, comma)) = parsed.ok()?;
        if element.is_none() && comma.is_none() {
            return None;
        }
        rest = next;
        if let Some(token) = element.map(trim).filter(|t| !t.is_empty()) {
            return Some(token);
        }
    })
}

/// One list element and whether a comma followed it.
type Element<'a> = (Option<&'a [u8]>, Option<char>);

fn trim(bytes: &[u8]) -> &[u8] {
    let is_ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = bytes.iter().position(|c| !is_ows(c)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|c| !is_ows(c)).map_or(start, |p| p + 1);
    bytes.get(start..end).unwrap_or_default()
}

fn has_token(value: &[u8], wanted: &str) -> bool {
    tokens(value).any(|t| t.eq_ignore_ascii_case(wanted.as_bytes()))
}

/// Classifies a head parse against the size limit.
fn head_len<L>(
    parsed: Result<Option<http::Head<L>>, http::HeadError>,
    received: usize,
    limit: usize,
) -> Result<Option<http::Head<L>>, Error> {
    match parsed {
        Ok(Some((n, ..))) if n > limit => Err(Error::HeadTooLarge),
        Ok(Some(head)) => Ok(Some(head)),
        Ok(None) if received >= limit => Err(Error::HeadTooLarge),
        Ok(None) => Ok(None),
        Err(http::HeadError::TooManyHeaders) => Err(Error::HeadTooLarge),
        Err(http::HeadError::Malformed) => Err(Error::MalformedHttp),
    }
}

/// A validated client request, borrowing from the receive buffer.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Request target, e.g. `/chat?room=1`.
    pub path: &'a str,
    /// `Host` header value.
    pub host: &'a str,
    /// `Origin` header value, if the client sent one (browsers do).
    pub origin: Option<&'a str>,
    key: &'a [u8],
    protocols: heapless::Vec<&'a [u8], MAX_PROTOCOL_HEADERS>,
}

impl<'a> Request<'a> {
    /// Parses and validates an opening handshake request.
    ///
    /// `Ok(None)` while the head is incomplete. Errors carry the HTTP status to answer
    /// with ([`Error::http_status`]); [`write_rejection`] writes that response.
    pub fn parse(buf: &'a [u8], config: &Config) -> Result<Option<(usize, Self)>, Error> {
        let mut headers = [http::Header::EMPTY; MAX_HEADERS];
        let parsed = http::parse_request(buf, &mut headers);
        let Some((len, line, count)) = head_len(parsed, buf.len(), config.max_handshake_size)? else {
            return Ok(None);
        };
        if line.method != "GET" {
            return Err(Error::MethodNotGet);
        }
        if line.minor_version != 1 {
            return Err(Error::HttpVersion);
        }
        let mut host = None;
        let mut origin = None;
        let mut upgrade = false;
        let mut connection = false;
        let mut version = None;
        let mut key = None;
        let mut protocols = heapless::Vec::new();
        for h in headers.iter().take(count) {
            let (name, value) = (h.name, h.value);
            if name.eq_ignore_ascii_case("host") {
                host = core::str::from_utf8(value).ok();
            } else if name.eq_ignore_ascii_case("upgrade") {
                upgrade |= has_token(value, "websocket");
            } else if name.eq_ignore_ascii_case("connection") {
                connection |= has_token(value, "upgrade");
            } else if name.eq_ignore_ascii_case("sec-websocket-version") {
                version = Some(value);
            } else if name.eq_ignore_ascii_case("sec-websocket-key") {
                key = Some(value);
            } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                protocols.push(value).map_err(|_| Error::HeadTooLarge)?;
            } else if name.eq_ignore_ascii_case("origin") {
                origin = core::str::from_utf8(value).ok();
            }
        }
        let host = host.filter(|h| !h.is_empty()).ok_or(Error::MissingHost)?;
        if !upgrade {
            return Err(Error::NotWebSocketUpgrade);
        }
        if !connection {
            return Err(Error::MissingConnectionUpgrade);
        }
        if version != Some(b"13") {
            return Err(Error::UnsupportedVersion);
        }
        let key = key.filter(|k| decodes_to_16_bytes(k)).ok_or(Error::BadKey)?;
        Ok(Some((len, Self { path: line.target, host, origin, key, protocols })))
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.protocols.iter().flat_map(|v| tokens(v)).filter_map(|t| core::str::from_utf8(t).ok())
    }

    /// The first of the client's offered subprotocols that the application supports.
    pub fn choose_protocol(&self, supported: &[&str]) -> Option<&'a str> {
        self.protocols().find(|p| supported.contains(p))
    }

    /// Writes the whole `101 Switching Protocols` response into `out`, so that it leaves
    /// in one TCP segment. `protocol`, if any, must be one the client offered.
    pub fn accept(&self, protocol: Option<&str>, out: &mut [u8]) -> Result<usize, Error> {
        if let Some(p) = protocol {
            if !self.protocols().any(|offered| offered == p) {
                return Err(Error::UnexpectedProtocol);
            }
        }
        let accept = accept_key(self.key);
        let (protocol_header, protocol): (&[u8], &[u8]) = match protocol {
            Some(p) => (b"\r\nSec-WebSocket-Protocol: ", p.as_bytes()),
            None => (b"", b""),
        };
        let mut w = Writer::new(out);
        w.put_all(&[
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
            &accept,
            protocol_header,
            protocol,
            b"\r\n\r\n",
        ])?;
        Ok(w.pos)
    }
}

fn decodes_to_16_bytes(key: &[u8]) -> bool {
    crate::base64::is_16_byte_key(key)
}

/// Writes the HTTP error response for a request that failed with `error`: its status, a
/// short plain-text reason, `Connection: close`, and for 426 the version the server speaks.
pub fn write_rejection(error: Error, out: &mut [u8]) -> Result<usize, Error> {
    let (status_line, extra): (&[u8], &[u8]) = match error.http_status() {
        Some(405) => (b"HTTP/1.1 405 Method Not Allowed\r\n", b""),
        Some(426) => {
            (b"HTTP/1.1 426 Upgrade Required\r\n", b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
        }
        Some(431) => (b"HTTP/1.1 431 Request Header Fields Too Large\r\n", b""),
        _ => (b"HTTP/1.1 400 Bad Request\r\n", b""),
    };
    let reason = error.reason().as_bytes();
    let mut w = Writer::new(out);
    w.put_all(&[
        status_line,
        b"Connection: close\r\nContent-Type: text/plain\r\n",
        extra,
        b"Content-Length: ",
    ])?;
    w.put_decimal(reason.len() as u32 + 1)?;
    w.put_all(&[b"\r\n\r\n", reason, b"\n"])?;
    Ok(w.pos)
}

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

/// What the client asks for in its opening handshake.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// `Host` header value, e.g. `example.com:9001`.
    pub host: &'a str,
    /// Request target, e.g. `/chat`.
    pub path: &'a str,
    /// Subprotocols to offer, most preferred first.
    pub protocols: &'a [&'a str],
    /// `Origin` to send, if any.
    pub origin: Option<&'a str>,
}

impl ClientRequest<'_> {
    /// Writes the whole request head into `out`.
    pub fn write(&self, key: &ClientKey, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(out);
        w.put(b"GET ")?;
        w.put(self.path.as_bytes())?;
        w.put(b" HTTP/1.1\r\nHost: ")?;
        w.put(self.host.as_bytes())?;
        w.put(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ")?;
        w.put(key.as_bytes())?;
        w.put(b"\r\nSec-WebSocket-Version: 13\r\n")?;
        if let Some(origin) = self.origin {
            w.put(b"Origin: ")?;
            w.put(origin.as_bytes())?;
            w.put(b"\r\n")?;
        }
        for (i, p) in self.protocols.iter().enumerate() {
            w.put(if i == 0 { b"Sec-WebSocket-Protocol: " } else { b", " })?;
            w.put(p.as_bytes())?;
        }
        if !self.protocols.is_empty() {
            w.put(b"\r\n")?;
        }
        w.put(b"\r\n")?;
        Ok(w.pos)
    }
}

/// A validated `101 Switching Protocols` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<&'a str>,
}

impl<'a> Response<'a> {
    /// Parses and validates the server's answer to a request sent with `key` offering
    /// `offered` subprotocols. A status other than 101 is [`Error::HandshakeRejected`].
    pub fn parse(
        buf: &'a [u8],
        key: &ClientKey,
        offered: &[&str],
        config: &Config,
    ) -> Result<Option<(usize, Self)>, Error> {
        let mut headers = [http::Header::EMPTY; MAX_HEADERS];
        let parsed = http::parse_response(buf, &mut headers);
        let Some((len, line, count)) = head_len(parsed, buf.len(), config.max_handshake_size)? else {
            return Ok(None);
        };
        if line.status != 101 {
            return Err(Error::HandshakeRejected(line.status));
        }
        let expected = accept_key(key.as_bytes());
        let (mut upgrade, mut connection, mut accept) = (false, false, false);
        let mut protocol = None;
        for h in headers.iter().take(count) {
            let (name, value) = (h.name, h.value);
            if name.eq_ignore_ascii_case("upgrade") {
                upgrade |= has_token(value, "websocket");
            } else if name.eq_ignore_ascii_case("connection") {
                connection |= has_token(value, "upgrade");
            } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
                accept = value == expected;
            } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                let chosen = core::str::from_utf8(value).map_err(|_| Error::UnexpectedProtocol)?;
                if protocol.is_some() || !offered.contains(&chosen) {
                    return Err(Error::UnexpectedProtocol);
                }
                protocol = Some(chosen);
            } else if name.eq_ignore_ascii_case("sec-websocket-extensions") && tokens(value).next().is_some()
            {
                // No extension is ever offered, so none may be accepted.
                return Err(Error::UnexpectedExtension);
            }
        }
        if !upgrade {
            return Err(Error::NotWebSocketUpgrade);
        }
        if !connection {
            return Err(Error::MissingConnectionUpgrade);
        }
        if !accept {
            return Err(Error::BadAccept);
        }
        Ok(Some((len, Self { protocol })))
    }
}

/// Appends to a caller buffer, failing cleanly when it is full.
struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    fn new(out: &'b mut [u8]) -> Self {
        Self { out, pos: 0 }
    }

    fn put_all(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        parts.iter().try_for_each(|part| self.put(part))
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.pos + bytes.len();
        self.out.get_mut(self.pos..end).ok_or(Error::BufferTooSmall)?.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Writes `n` in decimal by subtracting powers of ten: a Cortex-M0 has no divide
    /// instruction, and the software division routine would cost 400 bytes of flash.
    fn put_decimal(&mut self, mut n: u32) -> Result<(), Error> {
        let mut started = false;
        for power in [1_000_000_000, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1] {
            let mut digit = b'0';
            while n >= power {
                n -= power;
                digit += 1;
            }
            if digit != b'0' || started || power == 1 {
                started = true;
                self.put(&[digit])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn rfc_accept_key() {
        assert_eq!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn rfc_request_and_response() {
        let (len, req) = Request::parse(RFC_REQUEST, &Config::default()).unwrap().unwrap();
        assert_eq!(len, RFC_REQUEST.len());
        assert_eq!(
            (req.path, req.host, req.origin),
            ("/chat", "server.example.com", Some("http://example.com"))
        );
        assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
        let chosen = req.choose_protocol(&["superchat", "chat"]);
        assert_eq!(chosen, Some("chat"));
        let mut out = [0u8; 256];
        let n = req.accept(chosen, &mut out).unwrap();
        assert_eq!(
            &out[..n],
            &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"[..]
        );
        assert_eq!(req.accept(Some("other"), &mut out), Err(Error::UnexpectedProtocol));
        assert_eq!(req.accept(None, &mut out[..40]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn partial_requests_need_more() {
        for cut in 0..RFC_REQUEST.len() {
            assert!(Request::parse(&RFC_REQUEST[..cut], &Config::default()).unwrap().is_none(), "cut {cut}");
        }
    }

    fn with(replace: &str, by: &str) -> Vec<u8> {
        let text = core::str::from_utf8(RFC_REQUEST).unwrap();
        assert!(text.contains(replace), "{replace}");
        text.replacen(replace, by, 1).into_bytes()
    }

    #[test]
    fn malformed_requests_get_their_status() {
        let cases: Vec<(Vec<u8>, Error, u16)> = vec![
            (with("GET", "POST"), Error::MethodNotGet, 405),
            (with("HTTP/1.1", "HTTP/1.0"), Error::HttpVersion, 400),
            (with("Host: server.example.com\r\n", ""), Error::MissingHost, 400),
            (with("Upgrade: websocket", "Upgrade: h2c"), Error::NotWebSocketUpgrade, 400),
            (with("Connection: Upgrade", "Connection: keep-alive"), Error::MissingConnectionUpgrade, 400),
            (with("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), Error::BadKey, 400),
            (with("dGhlIHNhbXBsZSBub25jZQ==", "!!!!!!!!!!!!!!!!!!!!!!=="), Error::BadKey, 400),
            (with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), Error::BadKey, 400),
            (with("Version: 13", "Version: 8"), Error::UnsupportedVersion, 426),
            (with("Sec-WebSocket-Version: 13\r\n", ""), Error::UnsupportedVersion, 426),
            (with("GET /chat HTTP/1.1", "GET /chat HTTP/1.1 x"), Error::MalformedHttp, 400),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n".to_vec(), Error::MalformedHttp, 400),
        ];
        for (request, error, status) in cases {
            let got = Request::parse(&request, &Config::default());
            assert_eq!(got.map(|_| ()), Err(error), "{}", String::from_utf8_lossy(&request));
            assert_eq!(error.http_status(), Some(status));
            let mut out = [0u8; 256];
            let n = write_rejection(error, &mut out).unwrap();
            let text = core::str::from_utf8(&out[..n]).unwrap();
            assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
            assert!(text.contains(error.reason()));
            assert_eq!(text.contains("Sec-WebSocket-Version: 13"), status == 426);
        }
    }

    #[test]
    fn case_insensitive_tokens_are_accepted() {
        let req = with("Upgrade: websocket", "Upgrade: WebSocket");
        let req =
            String::from_utf8(req).unwrap().replace("Connection: Upgrade", "Connection: keep-alive, upgrade");
        assert!(Request::parse(req.as_bytes(), &Config::default()).unwrap().is_some());
    }

    #[test]
    fn oversized_heads_are_431() {
        let config = Config { max_handshake_size: 64, ..Config::default() };
        assert_eq!(Request::parse(RFC_REQUEST, &config).map(|_| ()), Err(Error::HeadTooLarge));
        // Still partial but already past the limit: no need to wait for the rest.
        assert_eq!(Request::parse(&RFC_REQUEST[..100], &config).map(|_| ()), Err(Error::HeadTooLarge));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..40 {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(Request::parse(&many, &Config::default()).map(|_| ()), Err(Error::HeadTooLarge));
        assert_eq!(Error::HeadTooLarge.http_status(), Some(431));
    }

    #[test]
    fn token_lists() {
        let t: Vec<&[u8]> = tokens(b" a ,, b\t,c;x=1 ,").collect();
        assert_eq!(t, [&b"a"[..], b"b", b"c;x=1"]);
        assert_eq!(tokens(b"").count(), 0);
        assert_eq!(tokens(b" , ,").count(), 0);
    }

    struct Counter(u8);
    impl RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            rand_core::impls::next_u32_via_fill(self)
        }
        fn next_u64(&mut self) -> u64 {
            rand_core::impls::next_u64_via_fill(self)
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            for b in dst {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
    }

    fn response(key: &ClientKey, extra: &str) -> Vec<u8> {
        let accept = accept_key(key.as_bytes());
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
            core::str::from_utf8(&accept).unwrap()
        )
        .into_bytes()
    }

    #[test]
    fn client_request_round_trips_through_the_server_parser() {
        let key = ClientKey::generate(&mut Counter(0));
        let other = ClientKey::generate(&mut Counter(1));
        assert_ne!(key, other);
        let req = ClientRequest { host: "h:1", path: "/p", protocols: &["a", "b"], origin: None };
        let mut out = [0u8; 256];
        let n = req.write(&key, &mut out).unwrap();
        let (len, parsed) = Request::parse(&out[..n], &Config::default()).unwrap().unwrap();
        assert_eq!((len, parsed.path, parsed.host), (n, "/p", "h:1"));
        assert_eq!(parsed.protocols().collect::<Vec<_>>(), ["a", "b"]);
        let mut resp = [0u8; 256];
        let m = parsed.accept(Some("b"), &mut resp).unwrap();
        let (len, r) = Response::parse(&resp[..m], &key, &["a", "b"], &Config::default()).unwrap().unwrap();
        assert_eq!((len, r.protocol), (m, Some("b")));
        assert_eq!(req.write(&key, &mut [0u8; 50]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn bad_responses_are_rejected() {
        let key = ClientKey::generate(&mut Counter(7));
        let config = Config::default();
        let ok = response(&key, "");
        assert!(Response::parse(&ok, &key, &[], &config).unwrap().is_some());
        for cut in 0..ok.len() {
            assert_eq!(Response::parse(&ok[..cut], &key, &[], &config), Ok(None));
        }
        let text = String::from_utf8(ok.clone()).unwrap();
        let cases = [
            (text.replace("101 Switching Protocols", "403 Forbidden"), Error::HandshakeRejected(403)),
            (text.replace("Upgrade: websocket\r\n", ""), Error::NotWebSocketUpgrade),
            (text.replace("Connection: Upgrade", "Connection: close"), Error::MissingConnectionUpgrade),
            (text.replace("Sec-WebSocket-Accept: ", "Sec-WebSocket-Accept: x"), Error::BadAccept),
            (
                String::from_utf8(response(&key, "Sec-WebSocket-Protocol: chat\r\n")).unwrap(),
                Error::UnexpectedProtocol,
            ),
            (
                String::from_utf8(response(&key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"))
                    .unwrap(),
                Error::UnexpectedExtension,
            ),
        ];
        for (resp, error) in cases {
            assert_eq!(Response::parse(resp.as_bytes(), &key, &[], &config), Err(error), "{resp}");
        }
        let other = ClientKey::generate(&mut Counter(99));
        assert_eq!(Response::parse(&ok, &other, &[], &config), Err(Error::BadAccept));
    }
}
