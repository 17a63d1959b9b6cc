use std::io::{Read, Write};
use std::net::TcpStream;
use ws_proto::handshake::{ClientHandshake, ClientRequest, Url};
use ws_proto::{CloseCode, Config, Message, ReadBuffer};
fn client(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let target = Url::parse(url)?;
    let mut stream = TcpStream::connect((target.host(), target.port()))?;
    let handshake = ClientHandshake::new(ClientRequest::from_url(url)?, Config::default(), &mut rand::rng());
    let (mut rx, mut tx) = (ReadBuffer::new([0u8; 4096]), [0u8; 4096]);
    let n = handshake.write_request(&mut tx)?;
    stream.write_all(&tx[..n])?;
    while rx.fill(|spare| stream.read(spare))? > 0 && handshake.read_response(rx.pending())?.is_none() {}
    let response = handshake.read_response(rx.pending())?.ok_or("closed during the handshake")?;
    rx.consume(response.len());
    let mut conn = handshake.into_connection(rand::rng());
    let mut n = conn.send(Message::text("hello"), &mut tx)?;
    n += conn.send(Message::binary(&[1, 2, 3]), &mut tx[n..])?;
    conn.close(CloseCode::NORMAL, "done")?;
    n += conn.poll_transmit(&mut tx[n..])?;
    stream.write_all(&tx[..n])?;
    while !conn.is_closed() {
        if let Some(event) = rx.receive(&mut conn)? {
            println!("{event:?}");
        } else if rx.fill(|spare| stream.read(spare))? == 0 {
            break;
        }
    }
    Ok(())
}
