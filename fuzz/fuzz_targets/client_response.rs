//! `ClientHandshake::read_response` on arbitrary bytes, for a request sent with the RFC
//! 6455 §1.3 key offering the subprotocol "chat".
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_fuzz::rfc_handshake;
use ws_proto::handshake::Response;
use ws_proto::Config;

fuzz_target!(|data: &[u8]| {
    let config = Config::default();
    let handshake = rfc_handshake();
    match handshake.read_response(data) {
        Ok(None) => assert!(data.len() < config.max_handshake_size, "{} bytes still partial", data.len()),
        Ok(Some(response)) => {
            let n = response.len();
            assert!(n <= data.len() && n <= config.max_handshake_size, "head of {n} bytes");
            assert_eq!(response.status(), 101);
            assert!(matches!(response.protocol(), None | Some("chat")), "protocol {:?}", response.protocol());
            let again = handshake.read_response(&data[..n]);
            assert_eq!(again, Ok(Some(response)), "the head alone");
            assert_eq!(handshake.read_response(&data[..n - 1]), Ok(None), "head minus one byte");
            // Every header reads back, and the raw view agrees.
            let raw = Response::parse(&data[..n], &config).expect("valid").expect("whole");
            assert_eq!(raw.headers().count(), response.headers().count());
        }
        Err(e) => {
            assert!(e.close_code().is_none(), "handshake error {e:?} has a close code");
            if let ws_proto::Error::HandshakeRejected(status) = e {
                // A rejection's head can still be read.
                let raw = Response::parse(data, &config).expect("a rejection parses").expect("whole");
                assert_eq!(raw.status(), status);
            }
        }
    }
});
