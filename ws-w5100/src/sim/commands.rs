//! The socket command state machine: what a write to Sn_CR does, and when.
//!
//! A command is scheduled when written and takes effect some frames later (see the module
//! docs of [`sim`](super)); a command the socket's state does not allow is ignored then,
//! as the chip does.

use std::io::ErrorKind;
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

use super::registers::socket_reg;
use super::{Pending, PortListener, W5100Sim, NEVER};
use crate::regs::{sn, sn_mr, Command, SocketInterrupts, Status};

/// How long CONNECT may block on the host connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Frames on which Sn_CR still reads back a command after it was written.
const CR_BUSY_FRAMES: u64 = 2;
/// Frames between Sn_CR clearing and a command's state change.
const STATE_LAG_FRAMES: u64 = 2;
/// Frames a CONNECT spends in ARP, then in SYNSENT.
const CONNECT_STEP_FRAMES: u64 = 8;

impl W5100Sim {
    /// A write of `code` to Sn_CR: scheduled to take effect.
    pub(super) fn command(&mut self, n: usize, code: u8) {
        // The last command has not taken effect yet: it does now.
        if let Some(pending) = self.sockets.get_mut(n).and_then(|s| s.pending.take()) {
            self.execute(n, pending.code);
        }
        self.set(socket_reg(n, sn::CR), code);
        let clear_at = self.frames + CR_BUSY_FRAMES + 1;
        let changes_state = matches!(
            Command::from_code(code),
            Some(Command::Open | Command::Listen | Command::Connect | Command::Discon | Command::Close)
        );
        let run_at = if changes_state { clear_at + STATE_LAG_FRAMES } else { clear_at };
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.pending = Some(Pending { code, clear_at, run_at });
        }
        self.next_due = self.next_due.min(clear_at);
    }

    /// What command `code` does, now.
    pub(super) fn execute(&mut self, n: usize, code: u8) {
        let Some(status) = self.sockets.get(n).map(|s| s.status) else {
            return;
        };
        match Command::from_code(code) {
            Some(Command::Open) => self.open(n),
            Some(Command::Listen) if status == Status::INIT => self.listen(n),
            Some(Command::Connect) if status == Status::INIT => self.connect(n),
            Some(Command::Discon) => self.discon(n),
            Some(Command::Close) => self.close(n),
            Some(Command::Send) if matches!(status, Status::ESTABLISHED | Status::CLOSE_WAIT) => {
                self.send(n);
            }
            Some(Command::Recv) => self.recv(n),
            // SEND_KEEP, commands in the wrong state, unknown codes: nothing to do.
            _ => {}
        }
        self.listeners.retain(|l| {
            self.sockets.iter().any(|s| s.status != Status::CLOSED && s.listen_port == Some(l.port))
        });
    }

    fn open(&mut self, n: usize) {
        self.close(n);
        let tcp = self.get(socket_reg(n, sn::MR)) & sn_mr::PROTOCOL == sn_mr::TCP;
        let has_memory = self.tx_ring(n).size > 0 && self.rx_ring(n).size > 0;
        if !tcp || !has_memory {
            // UDP/IPRAW/MACRAW are not modelled; the socket stays closed.
            return;
        }
        let pointer = self.open_pointer;
        self.set_u16(socket_reg(n, sn::TX_WR), pointer);
        self.set_u16(socket_reg(n, sn::RX_RD), pointer);
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.tx_rd = pointer;
            socket.tx_end = None;
            socket.rx_wr = pointer;
            socket.rx_ack = pointer;
            socket.status = Status::INIT;
        }
    }

    fn listen(&mut self, n: usize) {
        let port = self.get_u16(socket_reg(n, sn::PORT));
        if port == 0 {
            self.close(n);
            return;
        }
        if !self.listeners.iter().any(|l| l.port == port) {
            let bound = TcpListener::bind(SocketAddrV4::new(self.host, port))
                .and_then(|listener| listener.set_nonblocking(true).map(|()| listener));
            match bound {
                Ok(listener) => self.listeners.push(PortListener { port, listener }),
                Err(e) => {
                    self.last_io_error = Some(e);
                    self.close(n);
                    return;
                }
            }
        }
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.listen_port = Some(port);
            socket.status = Status::LISTEN;
        }
    }

    /// CONNECT: ARP first; [`advance`](Self::advance) takes it on.
    fn connect(&mut self, n: usize) {
        let wake = self.frames + CONNECT_STEP_FRAMES;
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.status = Status::ARP;
            socket.wake = wake;
        }
        self.next_due = self.next_due.min(wake);
    }

    /// The next step of a connection on its way: ARP → SYNSENT → the host connect.
    pub(super) fn advance(&mut self, n: usize) {
        let wake = self.frames + CONNECT_STEP_FRAMES;
        let Some(socket) = self.sockets.get_mut(n) else {
            return;
        };
        socket.wake = NEVER;
        if socket.status.is_arp() {
            socket.status = Status::SYN_SENT;
            socket.wake = wake;
            return;
        }
        if socket.status != Status::SYN_SENT {
            return;
        }
        let mut ip = [0; 4];
        for (i, byte) in (0u16..).zip(&mut ip) {
            *byte = self.get(socket_reg(n, sn::DIPR + i));
        }
        let port = self.get_u16(socket_reg(n, sn::DPORT));
        let remote = SocketAddr::V4(SocketAddrV4::new(ip.into(), port));
        let stream = TcpStream::connect_timeout(&remote, CONNECT_TIMEOUT)
            .and_then(|stream| stream.set_nonblocking(true).map(|()| stream));
        match stream {
            Ok(stream) => {
                // Nagle would only add latency to a model that already batches per SEND.
                let _ = stream.set_nodelay(true);
                if let Some(socket) = self.sockets.get_mut(n) {
                    socket.stream = Some(stream);
                    socket.status = Status::ESTABLISHED;
                }
                self.raise(n, SocketInterrupts::CON);
            }
            Err(e) => {
                let flag = if e.kind() == ErrorKind::ConnectionRefused {
                    SocketInterrupts::DISCON
                } else {
                    SocketInterrupts::TIMEOUT
                };
                self.last_io_error = Some(e);
                self.close(n);
                self.raise(n, flag);
            }
        }
    }

    fn discon(&mut self, n: usize) {
        self.flush_blocking(n);
        let stream = self.sockets.get_mut(n).and_then(|s| s.stream.take());
        if let Some(stream) = stream {
            self.linger(stream);
        }
        self.close(n);
        self.raise(n, SocketInterrupts::DISCON);
    }

    pub(super) fn close(&mut self, n: usize) {
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.stream = None;
            socket.status = Status::CLOSED;
            socket.listen_port = None;
            socket.tx_end = None;
            socket.wake = NEVER;
        }
    }

    fn send(&mut self, n: usize) {
        let size = self.tx_ring(n).size;
        let wr = self.get_u16(socket_reg(n, sn::TX_WR));
        if let Some(socket) = self.sockets.get_mut(n) {
            // A driver that wrote past the free space overwrote unsent bytes; send a ring's worth.
            let len = wr.wrapping_sub(socket.tx_rd).min(size);
            socket.tx_end = Some(socket.tx_rd.wrapping_add(len));
        }
        self.pump_tx(n);
    }

    fn recv(&mut self, n: usize) {
        let rd = self.get_u16(socket_reg(n, sn::RX_RD));
        if let Some(socket) = self.sockets.get_mut(n) {
            let used = socket.rx_wr.wrapping_sub(socket.rx_ack);
            let advance = rd.wrapping_sub(socket.rx_ack);
            socket.rx_ack = if advance > used { socket.rx_wr } else { rd };
        }
        self.pump_rx(n);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::regs;
    use crate::sim::tests::{command, open, pass, read, status, write};

    #[test]
    fn open_requires_tcp_mode() {
        let mut sim = W5100Sim::default();
        write(&mut sim, regs::socket_register(1, sn::MR), sn_mr::UDP);
        command(&mut sim, 1, Command::Open);
        assert_eq!(status(&mut sim, 1), Status::CLOSED);
        open(&mut sim, 1, 80);
        assert_eq!(read(&mut sim, regs::socket_register(1, sn::TX_FSR)), 0x08);
    }

    #[test]
    fn commands_take_effect_frames_after_they_are_written() {
        let mut sim = W5100Sim::default();
        let cr = regs::socket_register(0, sn::CR);
        let sr = regs::socket_register(0, sn::SR);
        write(&mut sim, regs::socket_register(0, sn::MR), sn_mr::TCP);
        write(&mut sim, cr, Command::Open.code());
        // Sn_CR reads back the command twice, then 0; Sn_SR changes two frames later.
        let frames: Vec<_> =
            (0..6).map(|i| if i < 3 { read(&mut sim, cr) } else { read(&mut sim, sr) }).collect();
        assert_eq!(frames, [0x01, 0x01, 0x00, 0x00, 0x13, 0x13]);
        // The same for LISTEN and CLOSE: the state right after Sn_CR clears is the old one.
        for (command, before, after) in [
            (Command::Listen, Status::INIT, Status::LISTEN),
            (Command::Close, Status::LISTEN, Status::CLOSED),
        ] {
            write(&mut sim, regs::socket_register(0, sn::PORT), 0x40);
            write(&mut sim, cr, command.code());
            pass(&mut sim, 2);
            assert_eq!(read(&mut sim, cr), 0);
            assert_eq!(status(&mut sim, 0), before, "{command:?}");
            assert_eq!(status(&mut sim, 0), after, "{command:?}");
        }
        // A command written before the last took effect makes that one take effect first.
        write(&mut sim, cr, Command::Open.code());
        write(&mut sim, cr, Command::Close.code());
        assert_eq!(status(&mut sim, 0), Status::INIT);
        pass(&mut sim, 8);
        assert_eq!(status(&mut sim, 0), Status::CLOSED);
    }

    #[test]
    fn connect_goes_through_arp_and_synsent() {
        let mut sim = W5100Sim::default();
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        open(&mut sim, 2, 0);
        for (i, byte) in (0..).zip([127, 0, 0, 1]) {
            write(&mut sim, regs::socket_register(2, sn::DIPR) + i, byte);
        }
        write(&mut sim, regs::socket_register(2, sn::DPORT), (port >> 8) as u8);
        write(&mut sim, regs::socket_register(2, sn::DPORT) + 1, port as u8);
        write(&mut sim, regs::socket_register(2, sn::CR), Command::Connect.code());
        let mut seen = vec![Status::INIT];
        while seen.last() != Some(&Status::ESTABLISHED) && seen.len() < 10 {
            let now = status(&mut sim, 2);
            if seen.last() != Some(&now) {
                seen.push(now);
            }
        }
        assert_eq!(seen, [Status::INIT, Status::ARP, Status::SYN_SENT, Status::ESTABLISHED]);
        assert_eq!(read(&mut sim, regs::socket_register(2, sn::IR)), regs::sn_ir::CON);
    }
}
