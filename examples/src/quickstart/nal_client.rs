use std::{net::IpAddr, time::Instant};
use std_embedded_nal::Stack;
use ws_nal::{connect, Buffers, Event, Session};
use ws_proto::handshake::{ClientRequest, Url};
use ws_proto::{CloseCode, Message};
fn client(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (mut stack, started, target) = (Stack, Instant::now(), Url::parse(url)?);
    let clock = || started.elapsed().as_millis() as u64;
    let socket = connect(&mut stack, (target.host().parse::<IpAddr>()?, target.port()).into())?;
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
    let buffers = Buffers { rx: &mut rx, tx: &mut tx };
    let mut session =
        Session::builder(socket, buffers).client(ClientRequest::from_url(url)?, rand::rng(), clock());
    loop {
        let (event, mut reply) = session.poll_blocking(&mut stack, clock, std::thread::yield_now)?;
        match event {
            Event::Open { .. } => {
                reply.send(Message::text("hello"))?;
                reply.send(Message::binary(&[1, 2, 3]))?;
                reply.close(CloseCode::NORMAL, "done")?;
            }
            Event::Data { payload, .. } => println!("echo: {payload:?}"),
            Event::Closed { .. } => return Ok(()),
            _ => {}
        }
    }
}
