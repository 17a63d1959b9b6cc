//! HTTP/1.1 message heads (RFC 9112), as far as the opening handshake needs them: a
//! request line or status line, then header fields, then an empty line.
//!
//! The parser checks every line and counts the fields, but keeps none: once a head is
//! known to be well-formed, [`Headers`](crate::handshake::Headers) reads its fields from
//! the bytes on demand, so no array of fields sits on the stack (768 bytes on a device).
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
    /// More header fields than the caller allows.
    TooManyHeaders,
}

/// A complete head: its length in bytes and its first line.
pub type Head<L> = (usize, L);

/// Parses a request head with at most `max_headers` fields; `Ok(None)` while it is
/// incomplete.
#[cfg(test)]
pub fn parse_request(buf: &[u8], max_headers: usize) -> Result<Option<Head<RequestLine<'_>>>, HeadError> {
    parse_head(buf, max_headers, request_line, |_, _| {})
}

/// [`parse_request`], handing each header field to `field` as `(name, value)` as it is
/// checked (the value with its trailing white space), so a caller that wants a few
/// fields need not read the head a second time. Fields seen before an error or the end
/// of the input are handed over too.
pub fn parse_request_fields<'b>(
    buf: &'b [u8],
    max_headers: usize,
    field: impl FnMut(&'b [u8], &'b [u8]),
) -> Result<Option<Head<RequestLine<'b>>>, HeadError> {
    parse_head(buf, max_headers, request_line, field)
}

/// Parses a response head with at most `max_headers` fields; `Ok(None)` while it is
/// incomplete.
pub fn parse_response(buf: &[u8], max_headers: usize) -> Result<Option<Head<StatusLine>>, HeadError> {
    parse_head(buf, max_headers, status_line, |_, _| {})
}

fn parse_head<'b, L>(
    buf: &'b [u8],
    max_headers: usize,
    first_line: fn(&'b [u8]) -> Option<L>,
    mut field: impl FnMut(&'b [u8], &'b [u8]),
) -> Result<Option<Head<L>>, HeadError> {
    let mut rest = buf;
    let mut first = None;
    let mut count = 0;
    // Every pass consumes a whole line, so this ends within `buf.len()` passes.
    loop {
        let Some(end) = find_newline(rest) else {
            // An unfinished line: fail now if it can never become a valid one.
            return if partial_line_ok(rest) { Ok(None) } else { Err(HeadError::Malformed) };
        };
        let (line, after) = rest.split_at(end + 1);
        rest = after;
        let line = line.strip_suffix(b"\r\n").ok_or(HeadError::Malformed)?;
        match first {
            None => first = Some(first_line(line).ok_or(HeadError::Malformed)?),
            Some(parsed) if line.is_empty() => return Ok(Some((buf.len() - rest.len(), parsed))),
            Some(_) => {
                let (name, value) = header_line(line).ok_or(HeadError::Malformed)?;
                field(name, value);
                count += 1;
                if count > max_headers {
                    return Err(HeadError::TooManyHeaders);
                }
            }
        }
    }
}

/// Where the first `\n` in `bytes` is. Eight bytes at a time on 64-bit targets, where
/// finding line ends was a fifth of the handshake's time; byte by byte elsewhere, the
/// smallest code.
#[cfg(target_pointer_width = "64")]
pub(crate) fn find_newline(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        // The lowest byte found below 1 (zero: it was `\n`) is found exactly.
        let found = bytes_below(le_word(word) ^ u64::from_ne_bytes([b'\n'; 8]), 1);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words.remainder().iter().position(|&b| b == b'\n').map(|i| at + i)
}

/// Eight bytes as a little-endian word (the first byte lowest).
#[cfg(target_pointer_width = "64")]
fn le_word(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_le_bytes)
}

/// The high bit of each byte of `word` below `n` (at most 0x80): exact for the lowest
/// such byte, and nonzero exactly when there is one; higher bytes may be marked wrongly.
#[cfg(target_pointer_width = "64")]
const fn bytes_below(word: u64, n: u8) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    word.wrapping_sub(ONES * n as u64) & !word & (ONES * 0x80)
}

/// Where the first `\n` in `bytes` is.
#[cfg(not(target_pointer_width = "64"))]
pub(crate) fn find_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// `tchar` (RFC 9110 §5.6.2): the characters of methods and field names.
fn is_tchar(c: u8) -> bool {
    // A bit per ASCII code: 16 bytes of table instead of 150 of comparisons on a Cortex-M0.
    TCHAR.get(usize::from(c >> 5)).is_some_and(|bits| bits >> (c & 31) & 1 != 0)
}

/// The `tchar` bit table.
#[allow(clippy::indexing_slicing)] // evaluated by the compiler: an index out of range would not build
const TCHAR: [u32; 4] = {
    let mut table = [0u32; 4];
    let mut c = 0;
    while c < 128 {
        let symbol = matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        );
        if c.is_ascii_alphanumeric() || symbol {
            table[(c >> 5) as usize] |= 1 << (c & 31);
        }
        c += 1;
    }
    table
};

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
type HeaderFields<'b> = (&'b [u8], char, &'b [u8]);

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

/// A field line: `name: value`, the name a token, the value text; gives the name and the
/// value (without its leading white space).
fn header_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let ows = take_while(|c| c == b' ' || c == b'\t');
    let mut fields = (take_while1(is_tchar), char(':'), ows);
    let parsed: Fields<'_, HeaderFields<'_>> = fields.parse(line);
    let (value, (name, _, _)) = parsed.ok()?;
    all_text(value).then_some((name, value))
}

/// Whether every byte is [text](is_text). Eight bytes at a time on 64-bit targets, where
/// header values were the handshake's largest cost: a word without a byte below 0x20 or
/// equal to 0x7F is all text; one with such a byte (a tab, perhaps) is checked byte by
/// byte. Byte by byte elsewhere, the smallest code.
#[cfg(target_pointer_width = "64")]
fn all_text(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = le_word(word);
        let suspect = bytes_below(w, 0x20) | bytes_below(w ^ u64::from_ne_bytes([0x7F; 8]), 1);
        if suspect != 0 && !word.iter().all(|&c| is_text(c)) {
            return false;
        }
    }
    words.remainder().iter().all(|&c| is_text(c))
}

/// Whether every byte is [text](is_text).
#[cfg(not(target_pointer_width = "64"))]
fn all_text(bytes: &[u8]) -> bool {
    bytes.iter().all(|&c| is_text(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\n\r\nrest";

    fn fields_of(head: &[u8]) -> Vec<(&str, &[u8])> {
        crate::handshake::Headers::new(head).collect()
    }

    #[test]
    fn parses_a_request() {
        let (len, line) = parse_request(REQUEST, 8).unwrap().unwrap();
        assert_eq!(len, REQUEST.len() - 4);
        assert_eq!(line, RequestLine { method: "GET", target: "/chat", minor_version: 1 });
        let fields = fields_of(&REQUEST[..len]);
        assert_eq!(fields.len(), 6);
        assert_eq!(fields[0], ("Host", &b"server.example.com"[..]));
        assert_eq!(fields[4], ("X-Empty", &b""[..]));
        assert_eq!(fields[5], ("X-Spaces", &b"a b"[..]));
        for cut in 0..len {
            assert_eq!(parse_request(&REQUEST[..cut], 8), Ok(None), "cut {cut}");
        }
        assert_eq!(parse_request(REQUEST, 5), Err(HeadError::TooManyHeaders));
    }

    #[test]
    fn parses_a_response() {
        let head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        let (len, line) = parse_response(head, 4).unwrap().unwrap();
        assert_eq!((len, line), (head.len(), StatusLine { minor_version: 1, status: 101 }));
        assert_eq!(fields_of(head), [("Upgrade", &b"websocket"[..])]);
        assert!(parse_response(b"HTTP/1.1 403\r\n\r\n", 4).unwrap().is_some());
    }

    #[test]
    fn rejects_malformed_heads_early() {
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
                parse_response(bad, 4).map(|_| ())
            } else {
                parse_request(bad, 4).map(|_| ())
            };
            assert_eq!(result, Err(HeadError::Malformed), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn finds_the_first_newline_wherever_it_is() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                // Bytes just around `\n` in value, and a second newline after the first.
                bytes.iter_mut().step_by(3).for_each(|b| *b = 0x0B);
                if at < len {
                    bytes[at] = b'\n';
                    if let Some(later) = bytes.get_mut(at + 2) {
                        *later = b'\n';
                    }
                }
                let expected = bytes.iter().position(|&b| b == b'\n');
                assert_eq!(find_newline(&bytes), expected, "{bytes:?}");
            }
        }
    }

    #[test]
    fn text_is_checked_in_words_as_byte_by_byte() {
        for c in 0..=255u8 {
            for len in [1, 7, 8, 9, 17] {
                for at in 0..len {
                    let mut bytes = vec![b'v'; len];
                    bytes[at] = c;
                    assert_eq!(all_text(&bytes), is_text(c), "{c:#x} at {at} of {len}");
                }
            }
        }
    }

    #[test]
    fn tchar_table_matches_the_rfc() {
        for c in 0..=255u8 {
            let expected = c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
            assert_eq!(is_tchar(c), expected, "{c:#x}");
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
            let mut theirs = [httparse::EMPTY_HEADER; 16];
            let mut request = httparse::Request::new(&mut theirs);
            match (parse_request(bytes, 16), request.parse(bytes)) {
                (Ok(Some((len, line))), Ok(httparse::Status::Complete(their_len))) => {
                    prop_assert_eq!(len, their_len);
                    prop_assert_eq!(Some(line.method), request.method);
                    prop_assert_eq!(Some(line.target), request.path);
                    let ours = fields_of(&bytes[..len]);
                    prop_assert_eq!(ours.len(), request.headers.len());
                    for (a, b) in ours.iter().zip(request.headers.iter()) {
                        prop_assert_eq!(a.0, b.name);
                        prop_assert_eq!(a.1, b.value);
                    }
                }
                (Ok(None), Ok(httparse::Status::Partial)) => {}
                (a, b) => prop_assert!(false, "ours {:?}, httparse {:?}", a, b),
            }
        }

        #[test]
        fn any_bytes_are_handled(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(Some((len, _))) = parse_request(&bytes, 4) {
                prop_assert!(len <= bytes.len() && fields_of(&bytes[..len]).len() <= 4);
            }
            let _ = parse_response(&bytes, 4);
        }
    }
}
