//! The permessage-deflate offer and response (RFC 7692 §5, §7.1).

use super::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::handshake::Writer;
use crate::{Error, Role};

/// What this end can afford and wants, for either role: the largest window it inflates
/// with (its receive memory, 2^bits bytes), the largest it compresses with, and whether
/// either side should start each message afresh ("no context takeover": no window kept
/// between messages).
///
/// The default accepts every offer a browser makes: a 32 KiB window both ways, context
/// kept.
///
/// ```
/// use ws_proto::deflate::DeflateConfig;
/// // A device: the peer may compress with 512-byte windows and must reset after each
/// // message, so one small window serves and nothing is kept between messages.
/// let config = DeflateConfig::new().receive_window_bits(9).receive_no_context_takeover(true);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeflateConfig {
    receive_window_bits: u8,
    receive_no_context_takeover: bool,
    send_window_bits: u8,
    send_no_context_takeover: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl DeflateConfig {
    /// 32 KiB windows both ways, context kept.
    pub const fn new() -> Self {
        Self {
            receive_window_bits: MAX_WINDOW_BITS,
            receive_no_context_takeover: false,
            send_window_bits: MAX_WINDOW_BITS,
            send_no_context_takeover: false,
        }
    }

    /// The largest window the peer may compress with (8-15, clamped): what this end
    /// inflates with. Below 15, a server declines offers that do not let it limit the
    /// client's window (Firefox's, for one).
    #[must_use]
    pub const fn receive_window_bits(mut self, bits: u8) -> Self {
        self.receive_window_bits = clamp(bits);
        self
    }

    /// Lowers the receive window to at most `bits` (an inflater's window).
    #[must_use]
    pub const fn limit_receive_window(mut self, bits: u8) -> Self {
        if bits < self.receive_window_bits {
            self.receive_window_bits = clamp(bits);
        }
        self
    }

    /// Asks the peer to compress every message on its own.
    #[must_use]
    pub const fn receive_no_context_takeover(mut self, on: bool) -> Self {
        self.receive_no_context_takeover = on;
        self
    }

    /// The largest window this end compresses with (8-15, clamped).
    #[must_use]
    pub const fn send_window_bits(mut self, bits: u8) -> Self {
        self.send_window_bits = clamp(bits);
        self
    }

    /// Compresses every message on its own.
    #[must_use]
    pub const fn send_no_context_takeover(mut self, on: bool) -> Self {
        self.send_no_context_takeover = on;
        self
    }

    /// Writes the client's offer, the value of its `Sec-WebSocket-Extensions` header.
    ///
    /// `client_max_window_bits` goes without a value (some servers refuse one), so the
    /// server may pick the client's window.
    pub(crate) fn write_offer(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.put(b"permessage-deflate; client_max_window_bits")?;
        if self.receive_window_bits < MAX_WINDOW_BITS {
            w.put_all(&[b"; server_max_window_bits=", digits(self.receive_window_bits).as_bytes()])?;
        }
        if self.receive_no_context_takeover {
            w.put(b"; server_no_context_takeover")?;
        }
        if self.send_no_context_takeover {
            w.put(b"; client_no_context_takeover")?;
        }
        Ok(())
    }

    /// The server's choice: the first offer in the header values it can accept, and the
    /// parameters to answer it with.
    pub(crate) fn choose<'h>(&self, values: impl Iterator<Item = &'h [u8]>) -> Option<Deflate> {
        values.flat_map(Extensions::new).find_map(|offer| {
            let offer = offer.ok()?;
            let mut answer = Params {
                server_no_context_takeover: offer.server_no_context_takeover || self.send_no_context_takeover,
                client_no_context_takeover: offer.client_no_context_takeover
                    || self.receive_no_context_takeover,
                server_max_window_bits: None,
                client_max_window_bits: None,
            };
            // Our compressor: no larger than the client allows; named when below 15.
            let send =
                offer.server_max_window_bits.map_or(self.send_window_bits, |b| b.min(self.send_window_bits));
            answer.server_max_window_bits =
                (send < MAX_WINDOW_BITS || offer.server_max_window_bits.is_some()).then_some(send);
            // The client's compressor: limited only if it let us (RFC 7692 §7.1.2.2).
            answer.client_max_window_bits = match offer.client_max_window_bits {
                Bits::Absent if self.receive_window_bits < MAX_WINDOW_BITS => return None,
                Bits::Absent => None,
                Bits::Any => (self.receive_window_bits < MAX_WINDOW_BITS).then_some(self.receive_window_bits),
                Bits::Value(b) => Some(b.min(self.receive_window_bits)),
            };
            Some(Deflate { params: answer, role: Role::Server })
        })
    }

    /// The client's check of the server's answer to its offer: the agreement, or
    /// [`Error::UnexpectedExtension`] for anything not offered, a window larger than
    /// asked for, or a malformed answer (RFC 7692 §7.1: the client fails the connection).
    pub(crate) fn accept_response<'h>(
        &self,
        values: impl Iterator<Item = &'h [u8]>,
    ) -> Result<Option<Deflate>, Error> {
        let mut agreed = None;
        for extension in values.flat_map(Extensions::new) {
            let params = extension.map_err(|()| Error::UnexpectedExtension)?;
            if agreed.is_some() {
                // One extension was offered; it can be accepted once.
                return Err(Error::UnexpectedExtension);
            }
            let server_bits = match params.server_max_window_bits {
                Some(b) if b > self.receive_window_bits => return Err(Error::UnexpectedExtension),
                None if self.receive_window_bits < MAX_WINDOW_BITS => return Err(Error::UnexpectedExtension),
                bits => bits,
            };
            if self.receive_no_context_takeover && !params.server_no_context_takeover {
                return Err(Error::UnexpectedExtension);
            }
            let client_bits = match params.client_max_window_bits {
                Bits::Absent => None,
                Bits::Value(b) => Some(b),
                // The response must give a value.
                Bits::Any => return Err(Error::UnexpectedExtension),
            };
            agreed = Some(Deflate {
                params: Params {
                    server_no_context_takeover: params.server_no_context_takeover,
                    client_no_context_takeover: params.client_no_context_takeover,
                    server_max_window_bits: server_bits,
                    client_max_window_bits: client_bits,
                },
                role: Role::Client,
            });
        }
        Ok(agreed)
    }
}

/// What the two ends agreed on, seen from one of them.
///
/// ```
/// use ws_proto::deflate::{Deflate, DeflateConfig};
/// use ws_proto::handshake::Request;
/// use ws_proto::Config;
///
/// let wire = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
///     Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
/// let request = Request::parse(wire, &Config::default())?.expect("whole head");
/// let config = DeflateConfig::new().receive_window_bits(10);
/// let deflate: Deflate = request.deflate(&config).expect("an acceptable offer");
/// assert_eq!(deflate.receive_window_bits(), 10);
/// assert_eq!(deflate.send_window_bits(), 15);
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Deflate {
    params: Params,
    role: Role,
}

impl Deflate {
    /// The window the peer compresses with (its largest distance): the inflate window.
    pub fn receive_window_bits(&self) -> u8 {
        let bits = match self.role {
            Role::Server => self.params.client_max_window_bits,
            Role::Client => self.params.server_max_window_bits,
        };
        bits.unwrap_or(MAX_WINDOW_BITS)
    }

    /// Whether the peer starts every message afresh (the inflater resets per message).
    pub fn receive_no_context_takeover(&self) -> bool {
        match self.role {
            Role::Server => self.params.client_no_context_takeover,
            Role::Client => self.params.server_no_context_takeover,
        }
    }

    /// The largest window this end may compress with.
    pub fn send_window_bits(&self) -> u8 {
        let bits = match self.role {
            Role::Server => self.params.server_max_window_bits,
            Role::Client => self.params.client_max_window_bits,
        };
        bits.unwrap_or(MAX_WINDOW_BITS)
    }

    /// Whether this end must compress every message on its own.
    pub fn send_no_context_takeover(&self) -> bool {
        match self.role {
            Role::Server => self.params.server_no_context_takeover,
            Role::Client => self.params.client_no_context_takeover,
        }
    }

    /// Writes the server's answer, the value of its `Sec-WebSocket-Extensions` header.
    pub(crate) fn write_response(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        let p = &self.params;
        w.put(b"permessage-deflate")?;
        if p.server_no_context_takeover {
            w.put(b"; server_no_context_takeover")?;
        }
        if p.client_no_context_takeover {
            w.put(b"; client_no_context_takeover")?;
        }
        if let Some(bits) = p.server_max_window_bits {
            w.put_all(&[b"; server_max_window_bits=", digits(bits).as_bytes()])?;
        }
        if let Some(bits) = p.client_max_window_bits {
            w.put_all(&[b"; client_max_window_bits=", digits(bits).as_bytes()])?;
        }
        Ok(())
    }
}

/// The parameters on the wire, in the server's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<u8>,
}

/// `client_max_window_bits` in an offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bits {
    Absent,
    /// Without a value: offered, the server may pick.
    Any,
    Value(u8),
}

/// One permessage-deflate offer or answer, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Bits,
}

/// The permessage-deflate elements of an extension list (RFC 6455 §9.1), in order; other
/// extensions are passed over. `Err` for one that is not valid: a parameter unknown,
/// repeated, or with a bad value (RFC 7692 §7.1: such an offer is declined).
struct Extensions<'h> {
    rest: &'h [u8],
}

impl<'h> Extensions<'h> {
    fn new(value: &'h [u8]) -> Self {
        Self { rest: value }
    }
}

impl Iterator for Extensions<'_> {
    type Item = Result<Offer, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (element, rest) = split_unquoted(self.rest, b',');
            self.rest = rest;
            let mut parts = Parts { rest: element };
            let name = parts.next();
            match name {
                None if self.rest.is_empty() => return None,
                Some(Ok((name, None))) if name.eq_ignore_ascii_case(b"permessage-deflate") => {
                    return Some(parse_params(parts));
                }
                // Another extension, an empty element, or a malformed name: not ours.
                _ => {
                    if self.rest.is_empty() {
                        return None;
                    }
                }
            }
        }
    }
}

fn parse_params(parts: Parts<'_>) -> Result<Offer, ()> {
    let mut offer = Offer {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: None,
        client_max_window_bits: Bits::Absent,
    };
    let mut seen = [false; 4];
    for part in parts {
        let (name, value) = part?;
        let index = param_index(name).ok_or(())?;
        let Some(slot) = seen.get_mut(index) else { return Err(()) };
        if core::mem::replace(slot, true) {
            return Err(());
        }
        match (index, value) {
            (0, None) => offer.server_no_context_takeover = true,
            (1, None) => offer.client_no_context_takeover = true,
            (2, Some(v)) => offer.server_max_window_bits = Some(window_bits(v)?),
            (3, None) => offer.client_max_window_bits = Bits::Any,
            (3, Some(v)) => offer.client_max_window_bits = Bits::Value(window_bits(v)?),
            _ => return Err(()),
        }
    }
    Ok(offer)
}

/// Which of the four parameters a name is.
fn param_index(name: &[u8]) -> Option<usize> {
    const NAMES: [&[u8]; 4] = [
        b"server_no_context_takeover",
        b"client_no_context_takeover",
        b"server_max_window_bits",
        b"client_max_window_bits",
    ];
    NAMES.iter().position(|n| name.eq_ignore_ascii_case(n))
}

/// A window-bits value: 8-15, digits only, no leading zero (RFC 7692 §7.1.2.1).
fn window_bits(value: &[u8]) -> Result<u8, ()> {
    let bits = match value {
        [d] if d.is_ascii_digit() => d - b'0',
        [b'1', d] if d.is_ascii_digit() => 10 + (d - b'0'),
        _ => return Err(()),
    };
    if (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) {
        Ok(bits)
    } else {
        Err(())
    }
}

/// The `;`-separated parts of one element: the name first, then parameters, each
/// trimmed, with `name=value` split and a quoted value unquoted.
struct Parts<'h> {
    rest: &'h [u8],
}

impl<'h> Iterator for Parts<'h> {
    type Item = Result<(&'h [u8], Option<&'h [u8]>), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (part, rest) = split_unquoted(self.rest, b';');
        let last = rest.is_empty() && !self.rest.ends_with(b";");
        self.rest = rest;
        let part = trim(part);
        if part.is_empty() {
            // `a;;b`, or a trailing `;`.
            return if last { None } else { Some(Err(())) };
        }
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let name = trim(part.get(..eq).unwrap_or_default());
                let value = trim(part.get(eq + 1..).unwrap_or_default());
                (name, Some(unquote(value)))
            }
            None => (part, None),
        };
        let token = crate::http::is_token;
        match value {
            _ if !token(name) => Some(Err(())),
            Some(Some(v)) if token(v) => Some(Ok((name, Some(v)))),
            Some(_) => Some(Err(())),
            None => Some(Ok((name, None))),
        }
    }
}

/// Splits at the first `sep` outside a quoted string.
fn split_unquoted(s: &[u8], sep: u8) -> (&[u8], &[u8]) {
    let mut quoted = false;
    let mut escaped = false;
    for (i, &b) in s.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == sep && !quoted => {
                return (s.get(..i).unwrap_or_default(), s.get(i + 1..).unwrap_or_default());
            }
            _ => {}
        }
    }
    (s, &[])
}

/// A value without its quotes (`"10"` → `10`); `None` for a malformed quoted string.
/// The values permessage-deflate uses are tokens, so escapes are not unfolded: a quoted
/// value with one is not a token and is refused by the caller.
fn unquote(value: &[u8]) -> Option<&[u8]> {
    match value {
        [b'"', inner @ .., b'"'] => Some(inner),
        [b'"', ..] => None,
        v => Some(v),
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}

/// A window-bits value as text.
fn digits(bits: u8) -> &'static str {
    const TEXT: [&str; 8] = ["8", "9", "10", "11", "12", "13", "14", "15"];
    TEXT.get(usize::from(clamp(bits) - MIN_WINDOW_BITS)).copied().unwrap_or("15")
}

const fn clamp(bits: u8) -> u8 {
    if bits < MIN_WINDOW_BITS {
        MIN_WINDOW_BITS
    } else if bits > MAX_WINDOW_BITS {
        MAX_WINDOW_BITS
    } else {
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(config: DeflateConfig, header: &str) -> Option<Deflate> {
        config.choose([header.as_bytes()].into_iter())
    }

    fn response(d: &Deflate) -> std::string::String {
        let mut out = [0u8; 256];
        let mut w = Writer::new(&mut out);
        d.write_response(&mut w).unwrap();
        let n = w.pos;
        std::string::String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn a_browser_offer_is_accepted_plainly() {
        let d = choose(DeflateConfig::new(), "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(response(&d), "permessage-deflate");
        assert_eq!((d.receive_window_bits(), d.send_window_bits()), (15, 15));
        assert!(!d.receive_no_context_takeover() && !d.send_no_context_takeover());
    }

    #[test]
    fn autobahn_parameter_sets_get_the_answers_rfc_7692_asks_for() {
        let cases = [
            (
                "permessage-deflate; client_no_context_takeover; client_max_window_bits",
                "permessage-deflate; client_no_context_takeover",
            ),
            (
                "permessage-deflate; server_no_context_takeover; client_max_window_bits",
                "permessage-deflate; server_no_context_takeover",
            ),
            ("permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8"),
            ("permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9"),
            (
                "permessage-deflate; server_max_window_bits=15",
                "permessage-deflate; server_max_window_bits=15",
            ),
            (
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=8",
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=8",
            ),
        ];
        for (offer, answer) in cases {
            let d = choose(DeflateConfig::new(), offer).unwrap_or_else(|| panic!("{offer}"));
            assert_eq!(response(&d), answer, "{offer}");
        }
        let d = choose(DeflateConfig::new(), "permessage-deflate; server_max_window_bits=8").unwrap();
        assert_eq!(d.send_window_bits(), 8);
    }

    #[test]
    fn several_offers_are_tried_in_order() {
        let header = "permessage-deflate; server_no_context_takeover; server_max_window_bits=8; client_max_window_bits, \
                      permessage-deflate; foo=1, permessage-deflate";
        let d = choose(DeflateConfig::new(), header).unwrap();
        assert_eq!(d.send_window_bits(), 8);
        // A device that limits the client's window declines offers that do not allow it.
        let small = DeflateConfig::new().receive_window_bits(9);
        assert_eq!(choose(small, "permessage-deflate"), None);
        let d = choose(small, "x-other, permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(response(&d), "permessage-deflate; client_max_window_bits=9");
        let d = choose(small, "permessage-deflate; client_max_window_bits=12").unwrap();
        assert_eq!(d.receive_window_bits(), 9);
        let d = choose(small, "permessage-deflate; client_max_window_bits=8").unwrap();
        assert_eq!(d.receive_window_bits(), 8);
    }

    #[test]
    fn invalid_offers_are_declined() {
        for offer in [
            "permessage-deflate; foo",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_max_window_bits=1a",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate;; server_no_context_takeover",
            "permessage-deflate=1",
            "x-webkit-deflate-frame",
            "",
        ] {
            assert_eq!(choose(DeflateConfig::new(), offer), None, "{offer:?}");
        }
        // A quoted value is a value.
        let d = choose(DeflateConfig::new(), "permessage-deflate; server_max_window_bits=\"10\"").unwrap();
        assert_eq!(d.send_window_bits(), 10);
        // Case and spacing do not matter.
        assert!(choose(DeflateConfig::new(), " PerMessage-Deflate ;Client_Max_Window_Bits ").is_some());
    }

    fn offer(config: DeflateConfig) -> std::string::String {
        let mut out = [0u8; 256];
        let mut w = Writer::new(&mut out);
        config.write_offer(&mut w).unwrap();
        let n = w.pos;
        std::string::String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn a_client_offers_and_checks_the_answer() {
        let plain = DeflateConfig::new();
        assert_eq!(offer(plain), "permessage-deflate; client_max_window_bits");
        let small = DeflateConfig::new().receive_window_bits(10).receive_no_context_takeover(true);
        assert_eq!(offer(small), "permessage-deflate; client_max_window_bits; server_max_window_bits=10; server_no_context_takeover");
        let check =
            |config: DeflateConfig, answer: &str| config.accept_response([answer.as_bytes()].into_iter());
        let d = check(plain, "permessage-deflate; client_max_window_bits=9").unwrap().unwrap();
        assert_eq!((d.send_window_bits(), d.receive_window_bits()), (9, 15));
        let d = check(plain, "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
            .unwrap()
            .unwrap();
        assert!(d.receive_no_context_takeover() && d.send_no_context_takeover());
        assert_eq!(check(plain, "").unwrap(), None);
        let d = check(small, "permessage-deflate; server_no_context_takeover; server_max_window_bits=8")
            .unwrap()
            .unwrap();
        assert_eq!(d.receive_window_bits(), 8);
        for bad in [
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; foo",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; server_max_window_bits=16",
        ] {
            assert_eq!(check(plain, bad), Err(Error::UnexpectedExtension), "{bad}");
        }
        for bad in [
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
            "permessage-deflate; server_max_window_bits=10",
        ] {
            assert_eq!(check(small, bad), Err(Error::UnexpectedExtension), "{bad}");
        }
    }
}
