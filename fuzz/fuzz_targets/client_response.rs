//! `handshake::Response::parse` on arbitrary bytes, for a request sent with the RFC 6455
//! §1.3 key offering the subprotocol "chat".
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_fuzz::rfc_client_key;
use ws_proto::handshake::Response;
use ws_proto::Config;

fuzz_target!(|data: &[u8]| {
    let config = Config::default();
    let key = rfc_client_key();
    let offered = ["chat"];
    match Response::parse(data, &key, &offered, &config) {
        Ok(None) => assert!(data.len() < config.max_handshake_size, "{} bytes still partial", data.len()),
        Ok(Some((n, response))) => {
            assert!(n <= data.len() && n <= config.max_handshake_size, "head of {n} bytes");
            assert!(matches!(response.protocol, None | Some("chat")), "protocol {:?}", response.protocol);
            let again = Response::parse(&data[..n], &key, &offered, &config);
            assert_eq!(again, Ok(Some((n, response))), "the head alone");
            let short = Response::parse(&data[..n - 1], &key, &offered, &config);
            assert_eq!(short, Ok(None), "head minus one byte");
        }
        Err(e) => assert!(e.close_code().is_none(), "handshake error {e:?} has a close code"),
    }
});
