//! The socket command state machine: what a write to Sn_CR does.
//!
//! Commands take effect when written (Sn_CR reads back 0 at once); a command the socket's
//! state does not allow is ignored, as the chip does.

use std::io::ErrorKind;
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

use super::registers::socket_reg;
use super::{PortListener, W5100Sim};
use crate::regs::{sn, sn_mr, Command, SocketInterrupts, Status};

/// How long CONNECT may block on the host connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl W5100Sim {
    pub(super) fn command(&mut self, n: usize, code: u8) {
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

    fn connect(&mut self, n: usize) {
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
    use super::*;
    use crate::regs;
    use crate::sim::tests::{read, write};

    #[test]
    fn open_requires_tcp_mode() {
        let mut sim = W5100Sim::default();
        let sr = regs::socket_register(1, sn::SR);
        write(&mut sim, regs::socket_register(1, sn::MR), sn_mr::UDP);
        write(&mut sim, regs::socket_register(1, sn::CR), Command::Open.code());
        assert_eq!(read(&mut sim, sr), Status::CLOSED.code());
        write(&mut sim, regs::socket_register(1, sn::MR), sn_mr::TCP);
        write(&mut sim, regs::socket_register(1, sn::CR), Command::Open.code());
        assert_eq!(read(&mut sim, regs::socket_register(1, sn::CR)), 0);
        assert_eq!(read(&mut sim, sr), Status::INIT.code());
        assert_eq!(read(&mut sim, regs::socket_register(1, sn::TX_FSR)), 0x08);
    }
}
