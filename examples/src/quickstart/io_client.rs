use ws_io::{CloseCode, Message};
fn client(url: &str) -> Result<(), ws_io::Error<std::io::Error>> {
    let mut ws = ws_io::std::connect(url)?;
    ws.send(Message::text("hello"))?;
    ws.send(Message::binary(&[1, 2, 3]))?;
    let mut buf = Vec::new();
    for _ in 0..2 {
        if let Some(message) = ws.recv(&mut buf)? {
            println!("echo: {message:?}");
        }
    }
    ws.close(CloseCode::NORMAL, "done")
}
