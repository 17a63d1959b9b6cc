//! Servicing host sockets ("pumping"): accepting clients for listening sockets, moving
//! bytes between the rings and the host streams, and draining streams closed with DISCON.
//!
//! Nothing here blocks except [`W5100Sim::flush_blocking`], which DISCON uses to hand the
//! last SEND to a slow peer; every other host call is non-blocking and bounded.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use super::registers::socket_reg;
use super::W5100Sim;
use crate::regs::{sn, SocketInterrupts, Status};

/// How long DISCON may block flushing TX data to a slow peer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(1);
/// Upper bound on host read/write calls per pump, so a pump always ends.
const PUMP_CALLS: usize = 64;
/// Host sockets kept draining after DISCON; the oldest is dropped beyond this.
const MAX_LINGERING: usize = 16;

impl W5100Sim {
    /// Drop the host socket after a reset or write failure: CLOSED with DISCON.
    fn reset_by_peer(&mut self, n: usize, error: io::Error) {
        self.last_io_error = Some(error);
        self.close(n);
        self.raise(n, SocketInterrupts::DISCON);
    }

    pub(super) fn pump(&mut self, n: usize) {
        self.pump_lingering();
        match self.sockets.get(n).map(|s| s.status) {
            Some(Status::LISTEN) => self.pump_accept(n),
            Some(Status::ESTABLISHED | Status::CLOSE_WAIT) => {
                self.pump_tx(n);
                self.pump_rx(n);
            }
            _ => {}
        }
    }

    fn pump_accept(&mut self, n: usize) {
        let Some(port) = self.sockets.get(n).and_then(|s| s.listen_port) else {
            return;
        };
        let Some(entry) = self.listeners.iter().find(|l| l.port == port) else {
            return;
        };
        let (stream, peer) = match entry.listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => {
                self.last_io_error = Some(e);
                return;
            }
        };
        if let Err(e) = stream.set_nonblocking(true) {
            self.last_io_error = Some(e);
            return;
        }
        let _ = stream.set_nodelay(true);
        let (ip, port) = match peer {
            SocketAddr::V4(v4) => (v4.ip().octets(), v4.port()),
            SocketAddr::V6(v6) => ([0; 4], v6.port()),
        };
        let dipr = socket_reg(n, sn::DIPR);
        for (i, byte) in (0u16..).zip(ip) {
            self.set(dipr.wrapping_add(i), byte);
        }
        self.set_u16(socket_reg(n, sn::DPORT), port);
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.stream = Some(stream);
            socket.status = Status::ESTABLISHED;
        }
        self.raise(n, SocketInterrupts::CON);
    }

    /// Write what the last SEND asked for, as far as the host socket takes it.
    pub(super) fn pump_tx(&mut self, n: usize) {
        let ring = self.tx_ring(n);
        let Self { mem, sockets, .. } = self;
        let Some(socket) = sockets.get_mut(n) else {
            return;
        };
        let mut failure = None;
        let mut done = false;
        for _ in 0..PUMP_CALLS {
            let (Some(end), Some(stream)) = (socket.tx_end, socket.stream.as_mut()) else {
                break;
            };
            let pending = end.wrapping_sub(socket.tx_rd);
            if pending == 0 {
                socket.tx_end = None;
                done = true;
                break;
            }
            let Some(bytes) = mem.get(ring.run(socket.tx_rd, pending)) else {
                break;
            };
            match stream.write(bytes) {
                Ok(0) => break,
                Ok(k) => {
                    socket.tx_rd = socket.tx_rd.wrapping_add(u16::try_from(k).unwrap_or(0));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if done {
            self.raise(n, SocketInterrupts::SEND_OK);
        }
        if let Some(e) = failure {
            self.reset_by_peer(n, e);
        }
    }

    /// Read from the host socket into the RX ring's free space.
    pub(super) fn pump_rx(&mut self, n: usize) {
        let ring = self.rx_ring(n);
        let Self { mem, sockets, .. } = self;
        let Some(socket) = sockets.get_mut(n) else {
            return;
        };
        if socket.status != Status::ESTABLISHED {
            return;
        }
        let mut flags = SocketInterrupts::NONE;
        let mut failure = None;
        for _ in 0..PUMP_CALLS {
            let Some(stream) = socket.stream.as_mut() else {
                break;
            };
            let used = socket.rx_wr.wrapping_sub(socket.rx_ack);
            let free = ring.size.saturating_sub(used);
            if free == 0 {
                break;
            }
            let Some(space) = mem.get_mut(ring.run(socket.rx_wr, free)) else {
                break;
            };
            match stream.read(space) {
                Ok(0) => {
                    socket.status = Status::CLOSE_WAIT;
                    flags |= SocketInterrupts::DISCON;
                    break;
                }
                Ok(k) => {
                    socket.rx_wr = socket.rx_wr.wrapping_add(u16::try_from(k).unwrap_or(0));
                    flags |= SocketInterrupts::RECV;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.raise(n, flags);
        if let Some(e) = failure {
            self.reset_by_peer(n, e);
        }
    }

    /// Before DISCON: hand the rest of the last SEND to the host socket, blocking briefly.
    pub(super) fn flush_blocking(&mut self, n: usize) {
        let ring = self.tx_ring(n);
        let Self { mem, sockets, .. } = self;
        let Some(socket) = sockets.get_mut(n) else {
            return;
        };
        let (Some(end), Some(stream)) = (socket.tx_end.take(), socket.stream.as_mut()) else {
            return;
        };
        if stream.set_nonblocking(false).is_err() || stream.set_write_timeout(Some(FLUSH_TIMEOUT)).is_err() {
            return;
        }
        // Two runs cover any wrap of the ring.
        for _ in 0..2 {
            let pending = end.wrapping_sub(socket.tx_rd);
            let Some(bytes) = mem.get(ring.run(socket.tx_rd, pending)) else {
                break;
            };
            if bytes.is_empty() || stream.write_all(bytes).is_err() {
                break;
            }
            socket.tx_rd = socket.tx_rd.wrapping_add(u16::try_from(bytes.len()).unwrap_or(0));
        }
        let _ = stream.set_nonblocking(true);
    }

    /// Drain host sockets closed with DISCON until their peers close too.
    fn pump_lingering(&mut self) {
        let mut scratch = [0u8; 512];
        self.lingering.retain_mut(|stream| {
            for _ in 0..PUMP_CALLS {
                match stream.read(&mut scratch) {
                    Ok(0) => return false,
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return false,
                }
            }
            true
        });
    }

    /// Shut the write side of `stream` (the peer sees FIN) and keep draining it until the
    /// peer closes too, so the peer sees a clean close rather than a reset.
    pub(super) fn linger(&mut self, stream: TcpStream) {
        if stream.shutdown(Shutdown::Write).is_ok() {
            if self.lingering.len() >= MAX_LINGERING {
                self.lingering.remove(0);
            }
            self.lingering.push(stream);
        }
    }
}
