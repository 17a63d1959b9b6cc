//! permessage-deflate on ws-nal: the echo loop with one inflater its connections share,
//! against clients that compress (ws-io's), several at once.
#![cfg(feature = "deflate")]

use std::thread;
use std::time::Duration;

use std_embedded_nal::Stack;
use ws_examples::serve::{serve, Serve};
use ws_nal::Listener;

const PORT: u16 = 29_451;

fn json(n: usize, seed: u64) -> String {
    let mut s = String::from("[");
    let mut x = seed;
    while s.len() < n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s.push_str(&format!(
            "{{\"id\":{},\"temp\":{}.{},\"ok\":{}}},",
            x >> 52,
            (x >> 20) % 40,
            x % 10,
            x & 1 == 0
        ));
    }
    s.truncate(n);
    s
}

#[test]
fn clients_share_the_inflater_one_message_at_a_time() {
    let mut stack = Stack;
    let mut listener = Listener::bind(&mut stack, PORT).expect("port free");
    thread::spawn(move || {
        let config = Serve { slots: 3, buf_len: 4096, protocols: &[], deflate: true };
        serve(&mut stack, &mut listener, config, ws_examples::host::tune)
    });
    thread::sleep(Duration::from_millis(50));
    let clients: Vec<_> = (0..3u64)
        .map(|c| {
            thread::spawn(move || {
                let mut ws = ws_io::std::connect(&format!("ws://127.0.0.1:{PORT}/")).unwrap();
                let agreed = *ws.connection().deflate().expect("compression agreed");
                // The server's inflater is 2 KiB, shared: the client compresses within it,
                // each message on its own.
                assert_eq!((agreed.send_window_bits(), agreed.send_no_context_takeover()), (11, true));
                let mut buf = Vec::new();
                for i in 0..40u64 {
                    let text = json(((c * 7 + i * 13) % 60) as usize * 500, c * 100 + i);
                    ws.send(ws_io::Message::text(&text)).unwrap();
                    match ws.recv(&mut buf).unwrap() {
                        Some(ws_io::Message::Text(echo)) => assert!(echo == text, "client {c} message {i}"),
                        other => panic!("{other:?}"),
                    }
                }
                ws.close(ws_io::CloseCode::NORMAL, "").unwrap();
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
}
