//! The echo server's polling loop, generic over the TCP stack: one thread, a fixed set of
//! connection slots with fixed buffers, as the firmware runs it. Shared by `echo_server_sim`
//! (W5100 chip model) and the quick-start tests (host stack).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use embedded_nal::TcpFullStack;
use ws_nal::ws_proto::deflate::{Compressor, DeflateConfig, Inflater};
use ws_nal::{echo, Buffers, Event, Listener, Session, SessionConfig, SharedCompressor, SharedInflater};

/// A connection slot: its buffers wait while it is free, and move into a session.
/// (Kept unboxed, as the firmware must: every slot is as large as a session anyway.)
#[allow(clippy::large_enum_variant)]
enum Slot<'b, S: TcpFullStack> {
    Free(Buffers<'b>),
    Busy(Session<'b, 'static, S>, Connection),
    Moving,
}

/// What the server prints about a connection when it ends.
struct Connection {
    peer: SocketAddr,
    path: String,
    protocol: Option<String>,
}

impl Connection {
    fn log(&self, end: &str) {
        let protocol = self.protocol.as_deref().unwrap_or("-");
        println!(
            "{} {} protocol={protocol} {end}",
            self.peer,
            if self.path.is_empty() { "-" } else { &self.path }
        );
    }
}

/// How to serve.
#[derive(Debug, Clone, Copy)]
pub struct Serve {
    /// Connections served at once; more wait in the listen backlog.
    pub slots: usize,
    /// Size of each connection's receive and transmit buffer.
    pub buf_len: usize,
    /// Subprotocols to select from a client's offers, in this order of preference.
    pub protocols: &'static [&'static str],
    /// Accept permessage-deflate, inflating through one inflater the slots share (as the
    /// firmware does), with the largest window whose chunks fit a frame in a buffer, and
    /// echoing compressed messages compressed, through a compressor per slot.
    pub deflate: bool,
}

/// Serves WebSocket echo on `listener` forever: every data frame goes back as one frame
/// of the same type and length, streamed as it arrives. Prints one line per connection
/// when it ends: peer, path, subprotocol, and close code or error. `tune` sees each
/// accepted socket before it is used (the host stack sets it non-blocking there).
pub fn serve<S: TcpFullStack>(
    stack: &mut S,
    listener: &mut Listener<S>,
    serve: Serve,
    tune: impl Fn(&S::TcpSocket),
) -> ! {
    let started = Instant::now();
    let clock = || started.elapsed().as_millis() as u64;
    let config = SessionConfig::new().protocols(serve.protocols);
    // The largest power of two whose chunks fit a frame in the transmit buffer.
    let fit = serve.buf_len.saturating_sub(14).clamp(256, 1 << 15);
    let mut window = vec![0u8; 1 << (usize::BITS - 1 - fit.leading_zeros())];
    let window_bits = window.len().trailing_zeros() as u8;
    let mut inflater = Inflater::new(&mut window[..]);
    let shared = SharedInflater::new(&mut inflater);
    let mut storages = vec![vec![0u8; Compressor::<&mut [u8]>::storage_len(window_bits)]; serve.slots];
    let mut compressors: Vec<_> = storages
        .iter_mut()
        .map(|storage| Compressor::new(&mut storage[..], window_bits, true).expect("storage for the window"))
        .collect();
    let compressors: Vec<_> = compressors.iter_mut().map(SharedCompressor::new).collect();
    let mut memory = vec![0u8; 2 * serve.slots * serve.buf_len];
    let mut table: Vec<Slot<'_, S>> =
        memory.chunks_mut(2 * serve.buf_len).map(|chunk| Slot::Free(Buffers::split(chunk))).collect();
    loop {
        let now = clock();
        let mut progress = false;
        // Take new connections only while a slot is free; others wait in the backlog.
        if let Some((i, slot)) = table.iter_mut().enumerate().find(|(_, s)| matches!(s, Slot::Free(..))) {
            match listener.accept(stack) {
                Ok((socket, peer)) => {
                    tune(&socket);
                    if let Slot::Free(buffers) = std::mem::replace(slot, Slot::Moving) {
                        let mut builder = Session::builder(socket, buffers).config(config);
                        if serve.deflate {
                            builder =
                                builder.deflate(DeflateConfig::new(), &shared).compressor(&compressors[i]);
                        }
                        let session = builder.server(now);
                        *slot = Slot::Busy(session, Connection { peer, path: String::new(), protocol: None });
                    }
                    progress = true;
                }
                Err(nb::Error::WouldBlock) => {}
                Err(nb::Error::Other(e)) => eprintln!("accept: {e}"),
            }
        }
        for slot in table.iter_mut() {
            let Slot::Busy(session, info) = slot else { continue };
            let end = match session.poll(stack, now) {
                Ok((Event::Closed { code, clean }, _)) => {
                    Some(format!("close={}{}", code.0, if clean { "" } else { " (unclean)" }))
                }
                Ok((event, mut reply)) => {
                    match event {
                        Event::Request(request) => info.path = request.target().to_owned(),
                        Event::Open { protocol } => info.protocol = protocol.map(str::to_owned),
                        _ => {}
                    }
                    if let Err(e) = echo(&event, &mut reply) {
                        eprintln!("{}: echo: {e}", info.peer);
                    }
                    None
                }
                Err(nb::Error::WouldBlock) => continue,
                // A rejected handshake, a timeout or a TCP error ends only this session.
                Err(nb::Error::Other(e)) => Some(format!("error: {e}")),
            };
            progress = true;
            if let Some(end) = end {
                info.log(&end);
                if let Slot::Busy(session, _) = std::mem::replace(slot, Slot::Moving) {
                    *slot = Slot::Free(session.into_buffers(stack));
                }
            }
        }
        if !progress {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}
