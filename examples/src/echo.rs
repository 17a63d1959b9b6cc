//! Echo on the stream binding: every frame goes back as one frame of the same type,
//! length and FIN bit, each chunk passed on as it arrives; a compressed message goes
//! back compressed, its inflated chunks fed to the compressor as they arrive.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ws_io::blocking::WebSocket;
use ws_io::embedded_io::{Read, Write};
use ws_io::{Accept, CloseCode, Error, Event, Keepalive};

/// Echoes frames until the connection is over; returns how it ended (the peer's close
/// code, or 1006 without one).
pub fn echo_frames<S, B, R>(
    ws: &mut WebSocket<S, B, R>,
    chunk: &mut [u8],
) -> Result<CloseCode, Error<S::Error>>
where
    S: Read + Write,
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: rand::RngCore,
{
    loop {
        // The chunk is copied out, since it borrows the receive buffer the reply needs.
        let (kind, len, fin) = match ws.recv_event()? {
            Some(Event::Data { kind, payload, fin, .. }) => {
                let Some(dst) = chunk.get_mut(..payload.len()) else {
                    return Err(Error::Ws(ws_io::ws_proto::Error::BufferTooSmall));
                };
                dst.copy_from_slice(payload);
                (kind, payload.len(), fin)
            }
            Some(_) => continue,
            None => return Ok(ws.peer_close().map_or(CloseCode::NO_STATUS, |f| f.code)),
        };
        let frame = ws.connection().last_frame();
        if frame.compressed {
            ws.send_chunk(kind, &chunk[..len], fin)?;
            continue;
        }
        if frame.offset == 0 {
            ws.start_frame(kind, frame.len, frame.fin)?;
        }
        ws.write_payload(&chunk[..len])?;
    }
}

/// How the echo server serves.
#[derive(Debug, Clone, Copy)]
pub struct Serve {
    /// Connections served at once; more wait in the listen backlog.
    pub connections: usize,
    /// Subprotocols to select from a client's offers, in this order of preference.
    pub protocols: &'static [&'static str],
    /// Longest the opening handshake may take.
    pub handshake_timeout: Duration,
    /// Ping after this much silence, close after twice as much.
    pub keepalive: Duration,
}

impl Default for Serve {
    fn default() -> Self {
        Self {
            connections: 64,
            protocols: &[],
            handshake_timeout: Duration::from_secs(5),
            keepalive: Duration::from_secs(30),
        }
    }
}

/// Serves WebSocket echo on `listener` forever, a thread per connection (blocked in reads
/// while idle: no CPU), at most `serve.connections` at once. Prints one line per
/// connection when it ends: peer, path, subprotocol, close code or error.
pub fn serve(listener: TcpListener, serve: Serve) -> ! {
    let slots = Arc::new((Mutex::new(serve.connections), Condvar::new()));
    loop {
        {
            let (free, freed) = &*slots;
            let mut free = free.lock().unwrap_or_else(|e| e.into_inner());
            while *free == 0 {
                free = freed.wait(free).unwrap_or_else(|e| e.into_inner());
            }
            *free -= 1;
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                release(&slots);
                continue;
            }
        };
        let slots = slots.clone();
        std::thread::spawn(move || {
            connection(stream, serve);
            release(&slots);
        });
    }
}

fn release(slots: &(Mutex<usize>, Condvar)) {
    let (free, freed) = slots;
    *free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    freed.notify_one();
}

fn connection(stream: TcpStream, serve: Serve) {
    let peer = stream.peer_addr().map_or_else(|_| "?".to_owned(), |a: SocketAddr| a.to_string());
    let _ = stream.set_nodelay(true);
    let mut path = String::from("-");
    let mut protocol = String::from("-");
    let deadline = Deadline::new(stream, Instant::now() + serve.handshake_timeout);
    let accepted = ws_io::std::accept_with(deadline, |request| {
        path = request.target().to_owned();
        let chosen = request.choose_protocol(serve.protocols);
        if let Some(p) = chosen {
            protocol = p.to_owned();
        }
        Ok(Accept::new().protocol(chosen))
    });
    let end = match accepted {
        Ok(mut ws) => {
            // The handshake is over: from now on reads wait for the keepalive's interval.
            ws.stream_mut().inner_mut().set_idle(serve.keepalive);
            ws.set_keepalive(Some(Keepalive::new(millis(serve.keepalive), millis(serve.keepalive * 2))));
            let started = Instant::now();
            // A chunk is at most the receive buffer, or an inflater's 32 KiB window.
            let mut chunk = vec![0u8; ws_io::std::BUFFER_LEN.max(1 << 15)];
            loop {
                match echo_frames(&mut ws, &mut chunk) {
                    Ok(code) => break format!("close={}", code.0),
                    Err(Error::Io(e)) if is_timeout(&e) => {
                        if let Err(e) = ws.keepalive_tick(started.elapsed().as_millis() as u64) {
                            break format!("error: {e}");
                        }
                    }
                    Err(e) => break format!("error: {e}"),
                }
            }
        }
        Err(e) => format!("error: {e}"),
    };
    println!("{peer} {path} protocol={protocol} {end}");
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// A TCP stream whose reads give up at a deadline (the opening handshake's), then wait at
/// most an idle interval each (for the keepalive).
#[derive(Debug)]
pub struct Deadline {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Deadline {
    /// `stream`, whose reads fail with `TimedOut` from `deadline` on.
    pub fn new(stream: TcpStream, deadline: Instant) -> Self {
        Self { stream, deadline: Some(deadline) }
    }

    /// No deadline any more; each read waits at most `idle`.
    pub fn set_idle(&mut self, idle: Duration) {
        self.deadline = None;
        let _ = self.stream.set_read_timeout(Some(idle));
    }
}

impl io::Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
        }
        io::Read::read(&mut self.stream, buf)
    }
}

impl io::Write for Deadline {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut self.stream, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.stream)
    }
}
