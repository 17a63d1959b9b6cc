//! The closing handshake: the client starts it, the server echoes, both are closed.

use ws_proto::{CloseCode, Config, Connection, Error, Event, Message};

use crate::check::Outcome;
use crate::rng::XorShift;

/// Client `close(1000, "bye")`, server echo, both ends closed and refusing to send.
pub fn handshake() -> Outcome {
    let config = Config::default();
    let mut client = Connection::client(config, XorShift::new(0x9e37_79b9));
    let mut server = Connection::server(config);
    let mut tx = [0u8; 131];

    client.close(CloseCode::NORMAL, "bye")?;
    check!(client.wants_transmit());
    let n = client.poll_transmit(&mut tx)?;
    // Masked close: 2 header bytes, 4 key bytes, 2 code bytes, "bye".
    check!(n == 2 + 4 + 2 + 3);
    check!(tx[0] == 0x88 && tx[1] == 0x80 | 5);
    check!(client.close_sent() && !client.is_closed());
    check!(client.poll_transmit(&mut tx) == Ok(0));

    let (used, event) = server.receive(&mut tx[..n]);
    check!(used == n);
    let Some(Event::Close { code, reason }) = event? else {
        fail!("server: no close event");
    };
    check!(code == Some(CloseCode::NORMAL));
    check!(reason == "bye");
    check!(server.close_received() && !server.is_closed());

    // The server echoes the code and the reason.
    check!(server.wants_transmit());
    let n = server.poll_transmit(&mut tx)?;
    check_eq!(tx[..n], [0x88, 0x05, 0x03, 0xe8, b'b', b'y', b'e'][..]);
    check!(server.is_closed());

    let (used, event) = client.receive(&mut tx[..n]);
    check!(used == n);
    let Some(Event::Close { code, reason }) = event? else {
        fail!("client: no close echo");
    };
    check!(code == Some(CloseCode::NORMAL) && reason == "bye");
    check!(client.is_closed() && server.is_closed());
    check!(!client.wants_transmit() && !server.wants_transmit());

    // Nothing more may be sent, and nothing is sent twice.
    check!(client.send(Message::text("late"), &mut tx) == Err(Error::Closed));
    check!(server.send(Message::text("late"), &mut tx) == Err(Error::Closed));
    check!(client.close(CloseCode::NORMAL, "") == Err(Error::Closed));
    check!(client.poll_transmit(&mut tx) == Ok(0) && server.poll_transmit(&mut tx) == Ok(0));
    Ok(())
}
