//! `handshake::Request::parse` on arbitrary bytes: a complete, valid request is answered
//! with a 101, anything else with the HTTP error its error names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::handshake::{Accept, Reject, Request};
use ws_proto::Config;

fuzz_target!(|data: &[u8]| {
    let config = Config::default();
    match Request::parse(data, &config) {
        // Waiting for more is only allowed below the head size limit.
        Ok(None) => assert!(data.len() < config.max_handshake_size, "{} bytes still partial", data.len()),
        Ok(Some(request)) => {
            let n = request.len();
            assert!(n <= data.len() && n <= config.max_handshake_size, "head of {n} bytes");
            // The head is self-contained, and one byte short of it is still partial.
            let again =
                Request::parse(&data[..n], &config).map(|r| r.map(|r| (r.len(), r.target(), r.host())));
            assert_eq!(again, Ok(Some((n, request.target(), request.host()))), "the head alone");
            assert!(matches!(Request::parse(&data[..n - 1], &config), Ok(None)), "head minus one byte");
            // Every header reads back; the ones the handshake needs are there.
            assert!(request.headers().count() <= ws_proto::handshake::MAX_HEADERS);
            assert!(request.header("sec-websocket-key").is_some());
            let _ = (request.path(), request.query(), request.origin());

            let mut out = [0u8; 512];
            let m = request.accept(&Accept::new(), &mut out).expect("a 101 fits in 512 bytes");
            let response = &out[..m];
            assert!(response.starts_with(b"HTTP/1.1 101 "), "{:?}", String::from_utf8_lossy(response));
            assert!(response.ends_with(b"\r\n\r\n"));
            assert_eq!(response.windows(4).filter(|w| w == b"\r\n\r\n").count(), 1, "one blank line");
            let _ = request.protocols().count();
            if let Some(protocol) = request.choose_protocol(&["chat", "superchat"]) {
                let m = request
                    .accept(&Accept::new().protocol(protocol), &mut out)
                    .expect("a 101 with a protocol fits");
                let line = format!("\r\nSec-WebSocket-Protocol: {protocol}\r\n");
                assert!(out[..m].windows(line.len()).any(|w| w == line.as_bytes()), "protocol line");
            }
        }
        Err(e) => {
            let status = e.http_status();
            assert!(status.is_some(), "request error {e:?} has no HTTP status");
            let mut out = [0u8; 512];
            let m = Reject::for_error(e).write(&mut out).expect("a rejection fits in 512 bytes");
            let head = format!("HTTP/1.1 {} ", status.unwrap_or_default());
            assert!(out[..m].starts_with(head.as_bytes()), "{:?}", String::from_utf8_lossy(&out[..m]));
        }
    }
});
