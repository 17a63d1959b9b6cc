//! The echo server's polling loop, generic over the TCP stack: one thread, a fixed set of
//! connection slots with fixed buffers, as the firmware runs it. Shared by `echo_server`
//! (host stack) and `echo_server_sim` (W5100 chip model).

use std::time::{Duration, Instant};

use embedded_nal::TcpFullStack;
use ws_nal::{echo, Event, Listener, Session, SessionConfig};

/// A connection slot: its buffers wait while it is free, and move into a session.
/// (Kept unboxed, as the firmware must: every slot is as large as a session anyway.)
#[allow(clippy::large_enum_variant)]
enum Slot<'b, S: TcpFullStack> {
    Free(&'b mut [u8], &'b mut [u8]),
    Busy(Session<'b, 'static, S>),
    Moving,
}

/// Serves WebSocket echo on `listener` forever with `slots` connections at most, each
/// with `buf_len`-byte receive and transmit buffers. `tune` sees each accepted socket
/// before it is used (the host stack sets it non-blocking there).
pub fn serve<S: TcpFullStack>(
    stack: &mut S,
    listener: &mut Listener<S>,
    slots: usize,
    buf_len: usize,
    tune: impl Fn(&S::TcpSocket),
) -> ! {
    let started = Instant::now();
    let clock = || started.elapsed().as_millis() as u64;
    let mut buffers = vec![0u8; 2 * slots * buf_len];
    let mut table: Vec<Slot<'_, S>> = Vec::with_capacity(slots);
    let mut rest = &mut buffers[..];
    while rest.len() >= 2 * buf_len {
        let (rx, tail) = rest.split_at_mut(buf_len);
        let (tx, tail) = tail.split_at_mut(buf_len);
        table.push(Slot::Free(rx, tx));
        rest = tail;
    }
    loop {
        let now = clock();
        let mut progress = false;
        // Take new connections only while a slot is free; others wait in the backlog.
        if let Some(slot) = table.iter_mut().find(|s| matches!(s, Slot::Free(..))) {
            match listener.accept(stack) {
                Ok(socket) => {
                    tune(&socket);
                    if let Slot::Free(rx, tx) = std::mem::replace(slot, Slot::Moving) {
                        *slot = Slot::Busy(Session::server(socket, rx, tx, SessionConfig::default(), now));
                    }
                    progress = true;
                }
                Err(nb::Error::WouldBlock) => {}
                Err(nb::Error::Other(e)) => eprintln!("accept: {e}"),
            }
        }
        for slot in table.iter_mut() {
            let Slot::Busy(session) = slot else { continue };
            let finished = match session.poll(stack, now) {
                Ok((Event::Closed, _)) => true,
                Ok((event, mut reply)) => {
                    if let Err(e) = echo(&event, &mut reply) {
                        eprintln!("echo: {e}");
                    }
                    false
                }
                Err(nb::Error::WouldBlock) => continue,
                // Timeouts, rejected handshakes and TCP errors end only this session.
                Err(nb::Error::Other(_)) => true,
            };
            progress = true;
            if finished {
                if let Slot::Busy(session) = std::mem::replace(slot, Slot::Moving) {
                    let (rx, tx) = session.into_buffers(stack);
                    *slot = Slot::Free(rx, tx);
                }
            }
        }
        if !progress {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}
