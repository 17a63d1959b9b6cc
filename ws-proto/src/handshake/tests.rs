//! Opening handshake tests: RFC 6455 §1.3 byte for byte, malformed requests and their
//! HTTP status, the client's request and its check of the answer.

use rand_core::RngCore;

use super::*;
use crate::Config;

const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn parse(bytes: &[u8]) -> Result<Option<Request<'_>>, Error> {
    Request::parse(bytes, &Config::default())
}

#[test]
fn rfc_accept_key() {
    assert_eq!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn rfc_request_and_response() {
    let req = parse(RFC_REQUEST).unwrap().unwrap();
    assert_eq!(req.len(), RFC_REQUEST.len());
    assert_eq!(
        (req.path(), req.query(), req.host(), req.origin()),
        ("/chat", None, "server.example.com", Some("http://example.com"))
    );
    assert_eq!(req.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    let chosen = req.choose_protocol(&["superchat", "chat"]);
    assert_eq!(chosen, Some("chat"));
    let mut out = [0u8; 256];
    let n = req.accept(&Accept::new().protocol(chosen), &mut out).unwrap();
    assert_eq!(
        &out[..n],
        &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"[..]
    );
    assert_eq!(req.accept(&Accept::new().protocol("other"), &mut out), Err(Error::UnexpectedProtocol));
    assert_eq!(req.accept(&Accept::new(), &mut out[..40]), Err(Error::BufferTooSmall));
}

#[test]
fn every_header_is_visible() {
    let text = core::str::from_utf8(RFC_REQUEST).unwrap();
    let with_more = text.replacen("GET /chat ", "GET /chat?room=1&x ", 1).replacen(
        "\r\n\r\n",
        "\r\nAuthorization: Bearer abc \r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
        1,
    );
    let req = parse(with_more.as_bytes()).unwrap().unwrap();
    assert_eq!((req.target(), req.path(), req.query()), ("/chat?room=1&x", "/chat", Some("room=1&x")));
    assert_eq!(req.header("authorization"), Some(&b"Bearer abc"[..]));
    assert_eq!(req.headers().get_all("COOKIE").collect::<Vec<_>>(), [&b"a=1"[..], b"b=2"]);
    let names: Vec<&str> = req.headers().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "Host",
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Key",
            "Origin",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Version",
            "Authorization",
            "Cookie",
            "Cookie"
        ]
    );
    assert_eq!(req.header("x-missing"), None);
}

#[test]
fn accept_writes_extra_headers_and_refuses_forged_ones() {
    let req = parse(RFC_REQUEST).unwrap().unwrap();
    let mut out = [0u8; 256];
    let n = req.accept(&Accept::new().headers(&[("Set-Cookie", "id=7")]), &mut out).unwrap();
    assert!(out[..n].ends_with(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: id=7\r\n\r\n"));
    for bad in [("Set-Cookie", "a\r\nX-Evil: 1"), ("Bad Name", "x"), ("", "x"), ("X", "nul\0")] {
        let accept = Accept::new().headers(core::slice::from_ref(&bad));
        assert_eq!(req.accept(&accept, &mut out), Err(Error::InvalidHeader), "{bad:?}");
    }
}

#[test]
fn partial_requests_need_more() {
    for cut in 0..RFC_REQUEST.len() {
        assert!(parse(&RFC_REQUEST[..cut]).unwrap().is_none(), "cut {cut}");
    }
}

fn with(replace: &str, by: &str) -> Vec<u8> {
    let text = core::str::from_utf8(RFC_REQUEST).unwrap();
    assert!(text.contains(replace), "{replace}");
    text.replacen(replace, by, 1).into_bytes()
}

fn response_text(reject: &Reject<'_>) -> String {
    let mut out = [0u8; 512];
    let n = reject.write(&mut out).unwrap();
    String::from_utf8(out[..n].to_vec()).unwrap()
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
        (with("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"), Error::DuplicateHeader, 400),
        (with("Host: server.example.com\r\n", "Host: a\r\nhost: a\r\n"), Error::DuplicateHeader, 400),
        (
            with("Sec-WebSocket-Key: ", "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Key: "),
            Error::DuplicateHeader,
            400,
        ),
        (
            with(
                "Sec-WebSocket-Version: 13\r\n",
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n",
            ),
            Error::DuplicateHeader,
            400,
        ),
    ];
    for (request, error, status) in cases {
        let got = parse(&request);
        assert_eq!(got.map(|_| ()), Err(error), "{}", String::from_utf8_lossy(&request));
        assert_eq!(error.http_status(), Some(status));
        let text = response_text(&Reject::for_error(error));
        assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        assert_eq!(text.contains("Sec-WebSocket-Version: 13"), status == 426);
        if status == 405 {
            // No body: a HEAD request gets a 405 too, and its answer must not have one.
            assert!(
                text.contains("\r\nAllow: GET\r\n") && text.ends_with("Content-Length: 0\r\n\r\n"),
                "{text}"
            );
        } else {
            let body = error.reason();
            assert!(text.ends_with(&format!("Content-Length: {}\r\n\r\n{body}", body.len())), "{text}");
        }
    }
}

#[test]
fn a_head_request_gets_405_without_a_body() {
    let head = with("GET", "HEAD");
    assert_eq!(parse(&head).map(|_| ()), Err(Error::MethodNotGet));
    let text = response_text(&Reject::for_error(Error::MethodNotGet));
    assert_eq!(
        text,
        "HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn rejections_carry_any_status_headers_and_body() {
    let reject = Reject::new(401).headers(&[("WWW-Authenticate", "Bearer")]).body(b"{\"error\":1}");
    assert_eq!(
        response_text(&reject),
        "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nWWW-Authenticate: Bearer\r\nContent-Length: 11\r\n\r\n{\"error\":1}"
    );
    assert!(response_text(&Reject::new(418)).starts_with("HTTP/1.1 418 \r\n"));
    assert!(response_text(&Reject::new(429)).starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
    let mut out = [0u8; 64];
    assert_eq!(Reject::new(101).write(&mut out), Err(Error::InvalidStatus));
    assert_eq!(Reject::new(600).write(&mut out), Err(Error::InvalidStatus));
    assert_eq!(Reject::new(403).headers(&[("X", "\n")]).write(&mut out), Err(Error::InvalidHeader));
    assert_eq!(Reject::new(403).body(&[b'x'; 64]).write(&mut out), Err(Error::BufferTooSmall));
}

#[test]
fn case_insensitive_tokens_are_accepted() {
    let req = with("Upgrade: websocket", "Upgrade: WebSocket");
    let req =
        String::from_utf8(req).unwrap().replace("Connection: Upgrade", "Connection: keep-alive, upgrade");
    assert!(parse(req.as_bytes()).unwrap().is_some());
}

#[test]
fn oversized_heads_are_431() {
    let config = Config::default().max_handshake_size(64);
    assert_eq!(Request::parse(RFC_REQUEST, &config).map(|_| ()), Err(Error::HeadTooLarge));
    // Still partial but already past the limit: no need to wait for the rest.
    assert_eq!(Request::parse(&RFC_REQUEST[..100], &config).map(|_| ()), Err(Error::HeadTooLarge));
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..40 {
        many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(parse(&many).map(|_| ()), Err(Error::HeadTooLarge));
    assert_eq!(Error::HeadTooLarge.http_status(), Some(431));
}

#[test]
fn token_lists() {
    let t: Vec<&[u8]> = tokens(b" a ,, b\t,c;x=1 ,").collect();
    assert_eq!(t, [&b"a"[..], b"b", b"c;x=1"]);
    assert_eq!(tokens(b"").count(), 0);
    assert_eq!(tokens(b" , ,").count(), 0);
}

/// Counts up from its seed: distinct, reproducible keys.
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

fn handshake(request: ClientRequest<'_>, seed: u8) -> ClientHandshake<'_> {
    ClientHandshake::new(request, Config::default(), &mut Counter(seed))
}

/// A 101 for the key of `handshake`, with `extra` header lines.
fn response(handshake: &ClientHandshake<'_>, extra: &str) -> String {
    let mut request = [0u8; 512];
    let n = handshake.write_request(&mut request).unwrap();
    let key = parse(&request[..n]).unwrap().unwrap().header("sec-websocket-key").unwrap().to_vec();
    let accept = accept_key(&key);
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
        core::str::from_utf8(&accept).unwrap()
    )
}

#[test]
fn client_request_round_trips_through_the_server_parser() {
    let key = ClientKey::generate(&mut Counter(0));
    assert_ne!(key, ClientKey::generate(&mut Counter(1)));
    let request = ClientRequest::new("h:1", "/p?q=1")
        .protocols(&["a", "b"])
        .origin("http://o")
        .headers(&[("Authorization", "Bearer t"), ("X-Two", "2")]);
    let hs = handshake(request, 0);
    let mut out = [0u8; 512];
    let n = hs.write_request(&mut out).unwrap();
    let parsed = parse(&out[..n]).unwrap().unwrap();
    assert_eq!((parsed.len(), parsed.path(), parsed.query(), parsed.host()), (n, "/p", Some("q=1"), "h:1"));
    assert_eq!(parsed.origin(), Some("http://o"));
    assert_eq!(parsed.header("authorization"), Some(&b"Bearer t"[..]));
    assert_eq!(parsed.header("x-two"), Some(&b"2"[..]));
    assert_eq!(parsed.protocols().collect::<Vec<_>>(), ["a", "b"]);
    let mut resp = [0u8; 256];
    let m = parsed.accept(&Accept::new().protocol("b"), &mut resp).unwrap();
    let r = hs.read_response(&resp[..m]).unwrap().unwrap();
    assert_eq!((r.len(), r.status(), r.protocol()), (m, 101, Some("b")));
    assert_eq!(hs.write_request(&mut [0u8; 50]), Err(Error::BufferTooSmall));
}

#[test]
fn client_request_refuses_forged_values() {
    for request in [
        ClientRequest::new("h", "/p\r\nX: 1"),
        ClientRequest::new("h\r\nX: 1", "/"),
        ClientRequest::new("h", "/").origin("o\n"),
        ClientRequest::new("h", "/").protocols(&["a\r\n"]),
        ClientRequest::new("h", "/").headers(&[("X:", "1")]),
        ClientRequest::new("h", ""),
    ] {
        let hs = handshake(request, 3);
        assert_eq!(hs.write_request(&mut [0u8; 512]), Err(Error::InvalidHeader), "{request:?}");
    }
}

#[test]
fn client_from_url() {
    let request = ClientRequest::from_url("ws://localhost:9001/a?b#c").unwrap();
    assert_eq!((request.host(), request.path()), ("localhost:9001", "/a?b"));
    assert_eq!(ClientRequest::from_url("http://x/").map(|_| ()), Err(Error::InvalidUrl));
}

#[test]
fn bad_responses_are_rejected() {
    let hs = handshake(ClientRequest::new("h", "/"), 7);
    let ok = response(&hs, "");
    assert!(hs.read_response(ok.as_bytes()).unwrap().is_some());
    for cut in 0..ok.len() {
        assert_eq!(hs.read_response(&ok.as_bytes()[..cut]).map(|r| r.is_none()), Ok(true));
    }
    let accept_line = ok.lines().find(|l| l.starts_with("Sec-WebSocket-Accept")).unwrap().to_owned();
    let cases = [
        (ok.replace("101 Switching Protocols", "403 Forbidden"), Error::HandshakeRejected(403)),
        (ok.replace("Upgrade: websocket\r\n", ""), Error::NotWebSocketUpgrade),
        (ok.replace("Connection: Upgrade", "Connection: close"), Error::MissingConnectionUpgrade),
        (ok.replace("Sec-WebSocket-Accept: ", "Sec-WebSocket-Accept: x"), Error::BadAccept),
        (response(&hs, "Sec-WebSocket-Protocol: chat\r\n"), Error::UnexpectedProtocol),
        (response(&hs, "Sec-WebSocket-Extensions: permessage-deflate\r\n"), Error::UnexpectedExtension),
        // A wrong accept before the right one: the field may appear once.
        (response(&hs, &format!("Sec-WebSocket-Accept: x\r\n{accept_line}\r\n")), Error::DuplicateHeader),
        (response(&hs, &format!("{accept_line}\r\n")), Error::DuplicateHeader),
    ];
    for (resp, error) in cases {
        assert_eq!(hs.read_response(resp.as_bytes()).map(|_| ()), Err(error), "{resp}");
    }
    let other = handshake(ClientRequest::new("h", "/"), 99);
    assert_eq!(other.read_response(ok.as_bytes()).map(|_| ()), Err(Error::BadAccept));
}

#[test]
fn a_client_sees_a_rejection_s_status_and_headers() {
    let hs = handshake(ClientRequest::new("h", "/"), 1);
    let mut out = [0u8; 256];
    let n = Reject::new(401).headers(&[("WWW-Authenticate", "Bearer")]).body(b"no").write(&mut out).unwrap();
    assert_eq!(hs.read_response(&out[..n]).map(|_| ()), Err(Error::HandshakeRejected(401)));
    let head = Response::parse(&out[..n], &Config::default()).unwrap().unwrap();
    assert_eq!((head.status(), head.header("www-authenticate")), (401, Some(&b"Bearer"[..])));
    assert_eq!(&out[head.len()..n], b"no");
}

#[test]
fn protocol_choice_must_be_one_offered() {
    let hs = handshake(ClientRequest::new("h", "/").protocols(&["a", "b"]), 5);
    assert_eq!(
        hs.read_response(response(&hs, "Sec-WebSocket-Protocol: b\r\n").as_bytes())
            .unwrap()
            .unwrap()
            .protocol(),
        Some("b")
    );
    let two = response(&hs, "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n");
    assert_eq!(hs.read_response(two.as_bytes()).map(|_| ()), Err(Error::UnexpectedProtocol));
    let list = response(&hs, "Sec-WebSocket-Protocol: a, b\r\n");
    assert_eq!(hs.read_response(list.as_bytes()).map(|_| ()), Err(Error::UnexpectedProtocol));
}
