//! Servicing host sockets ("pumping"): accepting clients for listening sockets, moving
//! bytes between the rings and the host streams, and ending connections after DISCON.
//!
//! Nothing here blocks: every host call is non-blocking and bounded.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

use super::registers::socket_reg;
use super::{Fin, W5100Sim};
use crate::regs::{sn, SocketInterrupts, Status};

/// Upper bound on host read/write calls per pump, so a pump always ends.
const PUMP_CALLS: usize = 64;

impl W5100Sim {
    /// Drop the host socket after a reset or write failure: CLOSED with DISCON.
    fn reset_by_peer(&mut self, n: usize, error: io::Error) {
        self.last_io_error = Some(error);
        self.close(n);
        self.raise(n, SocketInterrupts::DISCON);
    }

    pub(super) fn pump(&mut self, n: usize) {
        match self.sockets.get(n).map(|s| s.status) {
            Some(Status::LISTEN) => self.pump_accept(n),
            Some(Status::ESTABLISHED | Status::CLOSE_WAIT) => {
                self.pump_tx(n);
                self.pump_rx(n);
            }
            Some(Status::FIN_WAIT | Status::LAST_ACK) => self.pump_closing(n),
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
        let (ip, port) = match peer {
            SocketAddr::V4(v4) => (v4.ip().octets(), v4.port()),
            SocketAddr::V6(v6) => ([0; 4], v6.port()),
        };
        let dipr = socket_reg(n, sn::DIPR);
        for (i, byte) in (0u16..).zip(ip) {
            self.set(dipr.wrapping_add(i), byte);
        }
        self.set_u16(socket_reg(n, sn::DPORT), port);
        self.establish(n, stream);
        // No longer listening: with no other socket in LISTEN on the port, the next
        // client is refused.
        self.prune_listeners();
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
                    socket.peer_fin = true;
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

    /// After DISCON: the rest of the last SEND, then FIN; CLOSED once the peer's FIN is in
    /// too, or with TIMEOUT when the chip gives up. Data arriving meanwhile is dropped.
    fn pump_closing(&mut self, n: usize) {
        let Some(socket) = self.sockets.get(n) else {
            return;
        };
        if socket.fin == Fin::Sent && socket.peer_fin {
            // Both FINs are through (the peer's ACK of ours with them, on the host).
            self.close(n);
            self.raise(n, SocketInterrupts::DISCON);
            return;
        }
        if socket.give_up.is_some_and(|at| Instant::now() >= at) {
            self.close(n);
            self.raise(n, SocketInterrupts::TIMEOUT);
            return;
        }
        self.pump_tx(n);
        let Some(socket) = self.sockets.get_mut(n) else {
            return;
        };
        if !matches!(socket.status, Status::FIN_WAIT | Status::LAST_ACK) {
            // The write failed: reset.
            return;
        }
        let Some(stream) = socket.stream.as_mut() else {
            return;
        };
        if socket.fin == Fin::Queued && socket.tx_end.is_none() {
            let _ = stream.shutdown(Shutdown::Write);
            socket.fin = Fin::Sent;
        }
        let mut scratch = [0u8; 512];
        let mut failure = None;
        for _ in 0..PUMP_CALLS {
            if socket.peer_fin {
                break;
            }
            match stream.read(&mut scratch) {
                Ok(0) => socket.peer_fin = true,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => failure = Some(e),
            }
            if failure.is_some() {
                break;
            }
        }
        if let Some(e) = failure {
            self.reset_by_peer(n, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::net::{Ipv4Addr, TcpListener, TcpStream};

    use super::*;
    use crate::regs::{self, sn_ir, Command};
    use crate::sim::tests::{await_status, command, connected, open, read, status, write};

    /// A port that was free a moment ago.
    fn free_port() -> u16 {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
    }

    /// Sockets `ns` listening on `port`.
    fn listen(sim: &mut W5100Sim, ns: &[u8], port: u16) {
        for &n in ns {
            open(sim, n, port);
            command(sim, n, Command::Listen);
            assert_eq!(status(sim, n), Status::LISTEN);
        }
    }

    #[test]
    fn clients_are_refused_while_no_socket_listens() {
        let mut sim = W5100Sim::default();
        sim.set_backlog(false);
        let port = free_port();
        listen(&mut sim, &[0, 1], port);
        // Two listening sockets take two clients ...
        let _first = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        await_status(&mut sim, 0, Status::ESTABLISHED);
        let _second = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        await_status(&mut sim, 1, Status::ESTABLISHED);
        // ... and with none left listening the next is refused, as the chip answers RST.
        let refused = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        // Listening again takes clients again.
        listen(&mut sim, &[2], port);
        let _third = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        await_status(&mut sim, 2, Status::ESTABLISHED);
        // CLOSE of a listening socket refuses too.
        listen(&mut sim, &[3], port);
        command(&mut sim, 3, Command::Close);
        let refused = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    }

    #[test]
    fn with_a_backlog_clients_wait_for_a_listening_socket() {
        // The default.
        let mut sim = W5100Sim::default();
        let port = free_port();
        listen(&mut sim, &[0], port);
        let _first = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        await_status(&mut sim, 0, Status::ESTABLISHED);
        let _waiting = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        open(&mut sim, 1, port);
        command(&mut sim, 1, Command::Listen);
        await_status(&mut sim, 1, Status::ESTABLISHED);
    }

    #[test]
    fn ring_pointers_restart_when_a_connection_is_established() {
        let mut sim = W5100Sim::default();
        let pointer = |sim: &mut W5100Sim, n: u8, offset: u16| {
            let addr = regs::socket_register(n, offset);
            u16::from_be_bytes([read(sim, addr), read(sim, addr + 1)])
        };
        let mut starts = Vec::new();
        for n in [0, 1] {
            open(&mut sim, n, 0);
            assert_eq!([sn::TX_WR, sn::TX_RD, sn::RX_RD].map(|o| pointer(&mut sim, n, o)), [0; 3]);
            let _peer = connected(&mut sim, n);
            let start = pointer(&mut sim, n, sn::TX_WR);
            assert_ne!(start, 0, "socket {n}: the pointers stayed at OPEN's");
            assert_eq!([sn::TX_RD, sn::RX_RD].map(|o| pointer(&mut sim, n, o)), [start; 2]);
            starts.push(start);
        }
        assert_ne!(starts[0], starts[1], "each connection starts somewhere of its own");
        sim.set_connection_pointer(0xFF00);
        let _peer = connected(&mut sim, 2);
        assert_eq!(pointer(&mut sim, 2, sn::RX_RD), 0xFF00);
    }

    #[test]
    fn send_ok_comes_when_the_data_has_left() {
        let mut sim = W5100Sim::default();
        let mut peer = connected(&mut sim, 0);
        let ir = regs::socket_register(0, sn::IR);
        write(&mut sim, ir, sn_ir::ALL);
        let wr = regs::socket_register(0, sn::TX_WR);
        let at = u16::from_be_bytes([read(&mut sim, wr), read(&mut sim, wr + 1)]).wrapping_add(3);
        write(&mut sim, wr, (at >> 8) as u8);
        write(&mut sim, wr + 1, at as u8);
        write(&mut sim, regs::socket_register(0, sn::CR), Command::Send.code());
        // Not while the chip has not taken the command.
        assert_eq!(read(&mut sim, ir) & sn_ir::SEND_OK, 0);
        assert_eq!(read(&mut sim, regs::socket_register(0, sn::TX_FSR)), 0x07);
        await_status(&mut sim, 0, Status::ESTABLISHED);
        command(&mut sim, 0, Command::Recv);
        assert_eq!(read(&mut sim, ir) & sn_ir::SEND_OK, sn_ir::SEND_OK);
        assert_eq!(read(&mut sim, regs::socket_register(0, sn::TX_FSR)), 0x08);
        let mut got = [0; 3];
        std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    }
}
