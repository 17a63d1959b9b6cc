//! The opening handshake (RFC 6455 §4).
//!
//! Server: [`Request::parse`] reads and validates the client's request, which shows its
//! path, query and every header; [`Request::accept`] writes the `101 Switching Protocols`
//! (with a subprotocol and extra headers, see [`Accept`]), and [`Reject`] writes an HTTP
//! error response of any status instead.
//!
//! Client: a [`ClientRequest`] (from a `ws://` URL, with subprotocols, Origin and extra
//! headers) goes into a [`ClientHandshake`], which writes it with a fresh key, validates
//! the server's answer and becomes the [`Connection`](crate::Connection).
//!
//! Every parser takes the bytes received so far: `Ok(None)` means the head is not complete
//! yet; a complete head knows its length (`len()`), and the bytes after it already belong
//! to the WebSocket stream.
//!
//! ```
//! use ws_proto::handshake::{Accept, ClientHandshake, ClientRequest, Request};
//! use ws_proto::Config;
//! # struct Rng(u8);
//! # impl rand_core::RngCore for Rng {
//! #     fn next_u32(&mut self) -> u32 { 4 }
//! #     fn next_u64(&mut self) -> u64 { 4 }
//! #     fn fill_bytes(&mut self, dst: &mut [u8]) { dst.fill(self.0) }
//! # }
//!
//! let mut rng = Rng(7);
//! let request = ClientRequest::from_url("ws://example.com/chat?room=1")?.protocols(&["chat"]);
//! let handshake = ClientHandshake::new(request, Config::default(), &mut rng);
//! let mut wire = [0u8; 512];
//! let n = handshake.write_request(&mut wire)?;
//!
//! // The server reads it, looks at it and accepts.
//! let request = Request::parse(&wire[..n], &Config::default())?.expect("a whole head");
//! assert_eq!((request.path(), request.query(), request.host()), ("/chat", Some("room=1"), "example.com"));
//! let mut answer = [0u8; 256];
//! let m = request.accept(&Accept::new().protocol(request.choose_protocol(&["chat"])), &mut answer)?;
//!
//! // The client checks the answer.
//! let response = handshake.read_response(&answer[..m])?.expect("a whole head");
//! assert_eq!(response.protocol(), Some("chat"));
//! let connection = handshake.into_connection(rng);
//! # Ok::<(), ws_proto::Error>(())
//! ```

mod client;
mod headers;
mod server;
mod url;

pub use client::{ClientHandshake, ClientKey, ClientRequest, Response};
pub use headers::Headers;
pub use server::{Accept, Reject, Request};
pub use url::Url;

use crate::{http, Error};

/// Appended to the client's key before hashing (RFC 6455 §1.3).
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Most header fields a request or response may have; more is a 431.
pub const MAX_HEADERS: usize = 32;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key ++ GUID)).
pub fn accept_key(key: &[u8]) -> [u8; 28] {
    let mut out = [0u8; 28];
    // 20 bytes always encode to exactly 28 base64 characters.
    crate::base64::encode(&sha1(key), &mut out);
    out
}

/// SHA-1 of `key ++ GUID`: RustCrypto's, with the CPU's SHA extensions, on hosts.
#[cfg(simd_host)]
fn sha1(key: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::new().chain_update(key).chain_update(GUID).finalize().into()
}

/// SHA-1 of `key ++ GUID`: the small rolled loop.
#[cfg(not(simd_host))]
fn sha1(key: &[u8]) -> [u8; 20] {
    let mut sha = crate::sha1::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    sha.digest()
}

/// Iterates over the comma-separated elements of a header value (RFC 9110 §5.6.1 `#token`),
/// skipping empty elements and optional white space; parameters after `;` stay attached.
/// (A split on commas: none of the lists the handshake reads quotes a comma.)
pub(crate) fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&c| c == b',').map(trim).filter(|t| !t.is_empty())
}

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
        Ok(Some((n, _))) if n > limit => Err(Error::HeadTooLarge),
        Ok(Some(head)) => Ok(Some(head)),
        Ok(None) if received >= limit => Err(Error::HeadTooLarge),
        Ok(None) => Ok(None),
        Err(http::HeadError::TooManyHeaders) => Err(Error::HeadTooLarge),
        Err(http::HeadError::Malformed) => Err(Error::MalformedHttp),
    }
}

/// Appends to a caller buffer, failing cleanly when it is full.
pub(crate) struct Writer<'b> {
    out: &'b mut [u8],
    pub(crate) pos: usize,
}

impl<'b> Writer<'b> {
    pub(crate) fn new(out: &'b mut [u8]) -> Self {
        Self { out, pos: 0 }
    }

    pub(crate) fn put_all(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        parts.iter().try_for_each(|part| self.put(part))
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.pos + bytes.len();
        self.out.get_mut(self.pos..end).ok_or(Error::BufferTooSmall)?.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Writes `name: value\r\n` for each caller-supplied header, refusing any that could
    /// break the head (a name that is not a token, a value with a control character).
    fn put_headers(&mut self, headers: &[(&str, &str)]) -> Result<(), Error> {
        for (name, value) in headers {
            if !http::is_token(name.as_bytes()) || !http::is_field_value(value.as_bytes()) {
                return Err(Error::InvalidHeader);
            }
            self.put_all(&[name.as_bytes(), b": ", value.as_bytes(), b"\r\n"])?;
        }
        Ok(())
    }

    /// Writes `n` in decimal by subtracting powers of ten: a Cortex-M0 has no divide
    /// instruction, and the software division routine would cost 400 bytes of flash.
    fn put_decimal(&mut self, mut n: u16) -> Result<(), Error> {
        let mut started = false;
        for power in [10_000, 1_000, 100, 10, 1] {
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
mod tests;
