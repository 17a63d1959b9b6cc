//! `ws://` and `wss://` URLs (RFC 6455 §3), as far as a client needs them.

use crate::{http, Error};

/// A parsed `ws://` or `wss://` URL: where to connect and what to ask for.
///
/// ```
/// use ws_proto::handshake::Url;
/// let url = Url::parse("wss://[::1]:8443/chat?room=1#top")?;
/// assert!(url.is_secure());
/// assert_eq!((url.host(), url.port()), ("::1", 8443));
/// assert_eq!((url.authority(), url.resource()), ("[::1]:8443", "/chat?room=1"));
/// assert_eq!(Url::parse("ws://example.com")?.resource(), "/");
/// # Ok::<(), ws_proto::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    secure: bool,
    authority: &'a str,
    host: &'a str,
    port: u16,
    resource: &'a str,
}

impl<'a> Url<'a> {
    /// Parses `ws://host[:port][/path][?query]` or the same with `wss://`; a fragment is
    /// dropped. No user information, no empty host, visible ASCII only:
    /// [`Error::InvalidUrl`] otherwise.
    pub fn parse(url: &'a str) -> Result<Self, Error> {
        // Split by characters: searching for "://" as a string would link the two-way
        // substring search, whose indexing the panic check cannot see through.
        let (scheme, rest) = url.split_once(':').ok_or(Error::InvalidUrl)?;
        let rest = rest.strip_prefix("//").ok_or(Error::InvalidUrl)?;
        let secure = if scheme.eq_ignore_ascii_case("wss") {
            true
        } else if scheme.eq_ignore_ascii_case("ws") {
            false
        } else {
            return Err(Error::InvalidUrl);
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at_checked(split).ok_or(Error::InvalidUrl)?;
        let resource = match resource {
            "" => "/",
            r if r.starts_with('?') => return Err(Error::InvalidUrl), // "ws://h?q" has no path to attach it to
            r => r,
        };
        if !http::is_target(resource.as_bytes())
            || !http::is_target(authority.as_bytes())
            || authority.contains('@')
        {
            return Err(Error::InvalidUrl);
        }
        // `rposition` rather than `rsplit_once`: core's reverse byte search indexes in ways
        // the panic check cannot see through.
        let colon = authority.bytes().rposition(|b| b == b':');
        let (host, port) = match colon.and_then(|i| Some((authority.get(..i)?, authority.get(i + 1..)?))) {
            // A colon inside brackets belongs to an IPv6 address.
            Some((host, port)) if !port.contains(']') => (host, Some(port)),
            _ => (authority, None),
        };
        let port = match port {
            None => {
                if secure {
                    443
                } else {
                    80
                }
            }
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().map_err(|_| Error::InvalidUrl)?
            }
            Some(_) => return Err(Error::InvalidUrl),
        };
        let host = match host.strip_prefix('[') {
            Some(inner) => inner.strip_suffix(']').ok_or(Error::InvalidUrl)?,
            None if host.contains(['[', ']', ':']) => return Err(Error::InvalidUrl),
            None => host,
        };
        if host.is_empty() {
            return Err(Error::InvalidUrl);
        }
        Ok(Self { secure, authority, host, port, resource })
    }

    /// Whether the scheme is `wss` (TLS).
    pub const fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host to connect to: a name, an IPv4 address, or an IPv6 address without its
    /// brackets.
    pub const fn host(&self) -> &'a str {
        self.host
    }

    /// The port: as given, or 80 for `ws` and 443 for `wss`.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Host and port as written in the URL: the `Host` header value.
    pub const fn authority(&self) -> &'a str {
        self.authority
    }

    /// Path and query, `/` if the URL has no path: the request target.
    pub const fn resource(&self) -> &'a str {
        self.resource
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_clients_meet() {
        let url = Url::parse("ws://127.0.0.1:9001").unwrap();
        assert_eq!(
            (url.is_secure(), url.host(), url.port(), url.resource()),
            (false, "127.0.0.1", 9001, "/")
        );
        let url = Url::parse("WSS://Example.com/a/b?c=d&e").unwrap();
        assert_eq!((url.is_secure(), url.host(), url.port()), (true, "Example.com", 443));
        assert_eq!((url.authority(), url.resource()), ("Example.com", "/a/b?c=d&e"));
        let url = Url::parse("ws://[::1]/").unwrap();
        assert_eq!((url.host(), url.port(), url.authority()), ("::1", 80, "[::1]"));
    }

    #[test]
    fn rejects_what_is_not_a_websocket_url() {
        for bad in [
            "http://example.com/",
            "ws:/example.com",
            "ws://",
            "ws://:80/",
            "ws://user@example.com/",
            "ws://example.com:99999/",
            "ws://example.com:/",
            "ws://example.com:8o/",
            "ws://exa mple.com/",
            "ws://example.com/pa th",
            "ws://example.com/\r\nX: y",
            "ws://[::1/",
            "ws://::1/",
            "ws://example.com?q",
        ] {
            assert_eq!(Url::parse(bad), Err(Error::InvalidUrl), "{bad:?}");
        }
    }
}
