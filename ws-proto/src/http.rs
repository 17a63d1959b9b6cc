//! HTTP/1.1 message heads (RFC 9112), as far as the opening handshake needs them: a
//! request line or status line, then header fields, then an empty line.
//!
//! Strict where the handshake can afford it (CRLF line ends, no obsolete line folding,
//! token names), and checked as bytes arrive, so a peer speaking another protocol is
//! turned away at its first byte rather than at the size limit. Line by line, with nom
//! parsing each complete line and no indexing that could panic, so the link-time panic
//! check covers the handshake too. Partial input is a state, not an error, as in
//! httparse; tests check this parser against httparse.

use nom::{
    bytes::complete::{tag, take_while, take_while1},
    character::complete::char,
    combinator::{all_consuming, opt},
    IResult, Parser,
};

/// A header field, borrowing the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'b> {
    /// Field name, as sent (compare case-insensitively).
    pub name: &'b str,
    /// Field value without surrounding white space.
    pub value: &'b [u8],
}

impl Header<'_> {
    /// A placeholder for header arrays.
    pub const EMPTY: Header<'static> = Header { name: "", value: b"" };
}

/// A request line: `GET /chat HTTP/1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'b> {
    /// The method token.
    pub method: &'b str,
    /// The request target.
    pub target: &'b str,
    /// `x` in `HTTP/1.x`.
    pub minor_version: u8,
}

/// A status line: `HTTP/1.1 101 Switching Protocols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine {
    /// `x` in `HTTP/1.x`.
    pub minor_version: u8,
    /// The three-digit status code.
    pub status: u16,
}

/// Why a head is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP/1.x as RFC 9112 writes it.
    Malformed,
    /// More header fields than the caller's array holds.
    TooManyHeaders,
}

/// A complete head: its length in bytes, its first line, and how many headers were
/// stored at the start of the caller's array.
pub type Head<L> = (usize, L, usize);

/// Parses a request head; `Ok(None)` while it is incomplete.
pub fn parse_request<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
) -> Result<Option<Head<RequestLine<'b>>>, HeadError> {
    parse_head(buf, headers, request_line)
}

/// Parses a response head; `Ok(None)` while it is incomplete.
pub fn parse_response<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
) -> Result<Option<Head<StatusLine>>, HeadError> {
    parse_head(buf, headers, status_line)
}

fn parse_head<'b, L>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
    first_line: fn(&'b [u8]) -> Option<L>,
) -> Result<Option<Head<L>>, HeadError> {
    let mut rest = buf;
    let mut first = None;
    let mut count = 0;
    // Every pass consumes a whole line, so this ends within `buf.len()` passes.
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            // An unfinished line: fail now if it can never become a valid one.
            return if partial_line_ok(rest) { Ok(None) } else { Err(HeadError::Malformed) };
        };
        let (line, after) = rest.split_at(end + 1);
        rest = after;
        let line = line.strip_suffix(b"\r\n").ok_or(HeadError::Malformed)?;
        match first {
            None => first = Some(first_line(line).ok_or(HeadError::Malformed)?),
            Some(parsed) if line.is_empty() => return Ok(Some((buf.len() - rest.len(), parsed, count))),
            Some(_) => {
                let header = header_line(line).ok_or(HeadError::Malformed)?;
                *headers.get_mut(count).ok_or(HeadError::TooManyHeaders)? = header;
                count += 1;
            }
        }
    }
}

/// `tchar` (RFC 9110 §5.6.2): the characters of methods and field names.
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Visible ASCII: request targets.
fn is_vchar(c: u8) -> bool {
    (0x21..=0x7E).contains(&c)
}

/// What may appear inside a field value or reason phrase: VCHAR, obs-text, SP, HTAB.
fn is_text(c: u8) -> bool {
    is_vchar(c) || c >= 0x80 || c == b' ' || c == b'\t'
}

/// A field name or method: one or more `tchar`s.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&c| is_tchar(c))
}

/// What may be written as a field value: no control characters (CR and LF among them).
pub(crate) fn is_field_value(s: &[u8]) -> bool {
    s.iter().all(|&c| is_text(c))
}

/// A request target: one or more visible ASCII characters.
pub(crate) fn is_target(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&c| is_vchar(c))
}

fn partial_line_ok(line: &[u8]) -> bool {
    let body = line.strip_suffix(b"\r").unwrap_or(line);
    body.iter().all(|&c| is_text(c))
}

fn http_version(i: &[u8]) -> IResult<&[u8], u8> {
    let (i, _) = tag(&b"HTTP/1."[..]).parse(i)?;
    let (i, digits) = digits::<1>(i)?;
    Ok((i, digits[0] - b'0'))
}

/// Exactly `N` ASCII digits.
fn digits<const N: usize>(i: &[u8]) -> IResult<&[u8], [u8; N]> {
    match i.split_first_chunk::<N>() {
        Some((digits, rest)) if digits.iter().all(u8::is_ascii_digit) => Ok((rest, *digits)),
        _ => Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Digit))),
    }
}

/// What the line parsers' nom tuples produce (kept nameable for the compiler).
type Fields<'b, T> = IResult<&'b [u8], T>;
type RequestFields<'b> = (&'b [u8], char, &'b [u8], char, u8);
type StatusFields<'b> = (u8, char, [u8; 3], Option<(char, &'b [u8])>);
type HeaderFields<'b> = (&'b [u8], char, &'b [u8], &'b [u8]);

fn request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let fields = (take_while1(is_tchar), char(' '), take_while1(is_vchar), char(' '), http_version);
    let parsed: Fields<'_, RequestFields<'_>> = all_consuming(fields).parse(line);
    let (_, (method, _, target, _, minor_version)) = parsed.ok()?;
    Some(RequestLine {
        method: core::str::from_utf8(method).ok()?,
        target: core::str::from_utf8(target).ok()?,
        minor_version,
    })
}

fn status_line(line: &[u8]) -> Option<StatusLine> {
    let fields = (http_version, char(' '), digits::<3>, opt((char(' '), take_while(is_text))));
    let parsed: Fields<'_, StatusFields<'_>> = all_consuming(fields).parse(line);
    let (_, (minor_version, _, code, _)) = parsed.ok()?;
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Some(StatusLine { minor_version, status })
}

fn header_line(line: &[u8]) -> Option<Header<'_>> {
    let ows = take_while(|c| c == b' ' || c == b'\t');
    let fields = (take_while1(is_tchar), char(':'), ows, take_while(is_text));
    let parsed: Fields<'_, HeaderFields<'_>> = all_consuming(fields).parse(line);
    let (_, (name, _, _, value)) = parsed.ok()?;
    let end = value.iter().rposition(|&c| c != b' ' && c != b'\t').map_or(0, |p| p + 1);
    Some(Header { name: core::str::from_utf8(name).ok()?, value: value.get(..end).unwrap_or_default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\n\r\nrest";

    #[test]
    fn parses_a_request() {
        let mut headers = [Header::EMPTY; 8];
        let (len, line, n) = parse_request(REQUEST, &mut headers).unwrap().unwrap();
        assert_eq!(len, REQUEST.len() - 4);
        assert_eq!(line, RequestLine { method: "GET", target: "/chat", minor_version: 1 });
        assert_eq!(n, 6);
        assert_eq!(headers[0], Header { name: "Host", value: b"server.example.com" });
        assert_eq!(headers[4], Header { name: "X-Empty", value: b"" });
        assert_eq!(headers[5], Header { name: "X-Spaces", value: b"a b" });
        for cut in 0..len {
            assert_eq!(parse_request(&REQUEST[..cut], &mut headers), Ok(None), "cut {cut}");
        }
        assert_eq!(parse_request(REQUEST, &mut [Header::EMPTY; 5]), Err(HeadError::TooManyHeaders));
    }

    #[test]
    fn parses_a_response() {
        let mut headers = [Header::EMPTY; 4];
        let head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        let (len, line, n) = parse_response(head, &mut headers).unwrap().unwrap();
        assert_eq!((len, line, n), (head.len(), StatusLine { minor_version: 1, status: 101 }, 1));
        assert!(parse_response(b"HTTP/1.1 403\r\n\r\n", &mut headers).unwrap().is_some());
    }

    #[test]
    fn rejects_malformed_heads_early() {
        let mut headers = [Header::EMPTY; 4];
        for bad in [
            &b"\x16\x03\x01\x02\x00"[..],          // a TLS ClientHello, at its first byte
            b"GET /chat HTTP/1.1\n",               // bare LF
            b"GET  /chat HTTP/1.1\r\n",            // two spaces
            b"GET /chat HTTP/2.0\r\n",             // not HTTP/1.x
            b"G(T /chat HTTP/1.1\r\n",             // not a token
            b"GET /chat HTTP/1.1\r\nHost : x\r\n", // space before the colon
            b"GET /chat HTTP/1.1\r\nHost: x\r\n folded\r\n", // obsolete line folding
            b"GET /chat HTTP/1.1\r\nHost: a\x00b\r\n", // control character in a value
            b"HTTP/1.1 10 OK\r\n",
        ] {
            let result = if bad.starts_with(b"HTTP") {
                parse_response(bad, &mut headers).map(|_| ())
            } else {
                parse_request(bad, &mut headers).map(|_| ())
            };
            assert_eq!(result, Err(HeadError::Malformed), "{}", String::from_utf8_lossy(bad));
        }
    }

    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
    }

    proptest! {
        #[test]
        fn agrees_with_httparse_on_well_formed_heads(
            method in token(),
            target in "/[!-~]{0,30}",
            fields in prop::collection::vec((token(), "[ -~]{0,20}"), 0..10),
            cut in 0usize..400,
        ) {
            let mut head = format!("{method} {target} HTTP/1.1\r\n");
            for (name, value) in &fields {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let bytes = head.as_bytes();
            let bytes = &bytes[..cut.min(bytes.len())];
            let mut ours = [Header::EMPTY; 16];
            let mut theirs = [httparse::EMPTY_HEADER; 16];
            let mut request = httparse::Request::new(&mut theirs);
            match (parse_request(bytes, &mut ours), request.parse(bytes)) {
                (Ok(Some((len, line, n))), Ok(httparse::Status::Complete(their_len))) => {
                    prop_assert_eq!(len, their_len);
                    prop_assert_eq!(Some(line.method), request.method);
                    prop_assert_eq!(Some(line.target), request.path);
                    prop_assert_eq!(n, request.headers.len());
                    for (a, b) in ours.iter().zip(request.headers.iter()) {
                        prop_assert_eq!(a.name, b.name);
                        prop_assert_eq!(a.value, b.value);
                    }
                }
                (Ok(None), Ok(httparse::Status::Partial)) => {}
                (a, b) => prop_assert!(false, "ours {:?}, httparse {:?}", a, b),
            }
        }

        #[test]
        fn any_bytes_are_handled(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut headers = [Header::EMPTY; 4];
            if let Ok(Some((len, _, n))) = parse_request(&bytes, &mut headers) {
                prop_assert!(len <= bytes.len() && n <= 4);
            }
            let _ = parse_response(&bytes, &mut headers);
        }
    }
}
