//! The opening handshake: the RFC 6455 §1.3 exchange, and a client-server round trip.

use ws_proto::handshake::{Accept, ClientHandshake, ClientRequest, Request};
use ws_proto::{Config, Connection, DataKind, Event};

use crate::check::Outcome;
use crate::rng::XorShift;

/// The client's handshake from RFC 6455 §1.3.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n";

/// The server's answer from RFC 6455 §1.3.
const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\
\r\n";

/// The server parses the RFC's request and answers with the RFC's response.
pub fn rfc_exchange() -> Outcome {
    let config = Config::default();
    // Every strict prefix is an incomplete head, not an error.
    for cut in 0..RFC_REQUEST.len() {
        check!(matches!(Request::parse(&RFC_REQUEST[..cut], &config), Ok(None)));
    }
    let Some(request) = Request::parse(RFC_REQUEST, &config)? else {
        fail!("complete request reported as partial");
    };
    check!(request.len() == RFC_REQUEST.len());
    check!(request.path() == "/chat");
    check!(request.host() == "server.example.com");
    check!(request.origin() == Some("http://example.com"));
    let mut offered = request.protocols();
    check!(offered.next() == Some("chat") && offered.next() == Some("superchat"));
    check!(offered.next().is_none());
    let protocol = request.choose_protocol(&["superchat", "chat"]);
    check!(protocol == Some("chat"));
    let mut tx = [0u8; 256];
    let n = request.accept(&Accept::new().protocol(protocol), &mut tx)?;
    let accept: &[u8] = b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    check!(tx[..n].windows(accept.len()).any(|line| line == accept));
    check_eq!(tx[..n], RFC_RESPONSE[..]);
    Ok(())
}

/// A client writes its request with a fresh key, the server accepts it, and the client
/// validates the 101; the first frame, sent with the 101, stays for the connection.
pub fn client_round_trip() -> Outcome {
    let config = Config::default();
    let offered = ["superchat", "chat"];
    let ask = ClientRequest::from_url("ws://server.example.com:9001/chat?room=1")?
        .protocols(&offered)
        .origin("http://example.com");
    let mut rng = XorShift::new(0x2545_f491);
    let handshake = ClientHandshake::new(ask, config, &mut rng);
    let mut wire = [0u8; 256];
    let n = handshake.write_request(&mut wire)?;

    // Server side.
    let Some(request) = Request::parse(&wire[..n], &config)? else {
        fail!("client request reported as partial");
    };
    check!(request.len() == n);
    check!(request.path() == "/chat" && request.query() == Some("room=1"));
    check!(request.host() == "server.example.com:9001");
    check!(request.origin() == Some("http://example.com"));
    let protocol = request.choose_protocol(&["chat"]);
    check!(protocol == Some("chat"));
    let mut reply = [0u8; 256];
    let head = request.accept(&Accept::new().protocol(protocol), &mut reply)?;
    // The server's first frame follows the head in the same segment.
    let mut server = Connection::server(config);
    let frame = server.send_fragment(DataKind::Text, b"hi", true, &mut reply[head..])?;
    let total = head + frame;

    // Client side: a head cut anywhere is partial, the whole one is valid.
    for cut in 0..head {
        check!(matches!(handshake.read_response(&reply[..cut]), Ok(None)));
    }
    let Some(response) = handshake.read_response(&reply[..total])? else {
        fail!("101 reported as partial");
    };
    check!(response.len() == head);
    check!(response.protocol() == Some("chat"));

    // Another key does not match the server's accept value.
    let other = ClientHandshake::new(ask, config, &mut rng);
    check!(other.read_response(&reply[..total]).is_err());

    let mut client = handshake.into_connection(rng);
    let (used, event) = client.receive(&mut reply[head..total]);
    check!(used == frame);
    check!(matches!(event?, Some(Event::Data { kind: DataKind::Text, payload: b"hi", fin: true, .. })));
    Ok(())
}
