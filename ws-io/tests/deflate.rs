//! permessage-deflate end to end: ws-io's client and server agree on it by default, and
//! messages of every kind and size cross compressed, in both directions.
#![cfg(all(feature = "deflate", feature = "tokio"))]

use std::net::TcpListener;
use std::thread;

use ws_io::{DeflateConfig, Message, OwnedMessage};

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if (i / 3000) % 3 == 0 {
                b"{\"sensor\":\"t\",\"value\":21.5},"[i % 28]
            } else {
                (x >> 33) as u8
            }
        })
        .collect()
}

/// The echo server example's code on an ephemeral port.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    thread::spawn(move || ws_examples::echo::serve(listener, ws_examples::echo::Serve::default()));
    url
}

#[test]
fn compressed_messages_echo_through_the_echo_server() {
    let url = echo_server();
    for config in [DeflateConfig::new(), DeflateConfig::new().receive_window_bits(9).send_window_bits(10)] {
        let options = ws_io::std::Options::new().deflate(Some(config));
        let mut ws = ws_io::std::connect_with(&url, &options).unwrap();
        let agreed = ws.connection().deflate().copied().expect("agreed");
        assert_eq!(agreed.receive_window_bits(), config_bits(&config));
        let mut buf = Vec::new();
        for (i, len) in [0, 1, 16, 125, 4096, 65_536, 131_072, 1 << 20].into_iter().enumerate() {
            let message = noise(len, i as u64);
            ws.send(Message::binary(&message)).unwrap();
            match ws.recv(&mut buf).unwrap() {
                Some(Message::Binary(echo)) => {
                    assert!(echo == &message[..], "{len} bytes: {} back", echo.len())
                }
                other => panic!("{other:?}"),
            }
            let text = String::from_utf8_lossy(&noise(len, 99)).into_owned();
            ws.send(Message::text(&text)).unwrap();
            assert_eq!(ws.recv_owned().unwrap(), Some(OwnedMessage::Text(text)));
        }
        ws.close(ws_io::CloseCode::NORMAL, "").unwrap();
    }
}

fn config_bits(config: &DeflateConfig) -> u8 {
    if *config == DeflateConfig::new() {
        15
    } else {
        9
    }
}
