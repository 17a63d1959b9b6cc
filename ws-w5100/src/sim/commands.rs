//! The socket command state machine: what a write to Sn_CR does, and when.
//!
//! A command is scheduled when written and takes effect some frames later (see the module
//! docs of [`sim`](super)); a command the socket's state does not allow is ignored then,
//! as the chip does.

use std::io::ErrorKind;
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::registers::socket_reg;
use super::{Fin, Pending, PortListener, W5100Sim, NEVER};
use crate::regs::{self, sn, sn_mr, Command, SocketInterrupts, Status};

/// How long CONNECT may block on the host connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Frames on which Sn_CR still reads back a command after it was written.
const CR_BUSY_FRAMES: u64 = 2;
/// Frames between Sn_CR clearing and a command's state change.
const STATE_LAG_FRAMES: u64 = 2;
/// Frames a CONNECT spends in ARP, then in SYNSENT.
const CONNECT_STEP_FRAMES: u64 = 8;
/// How far apart the ring pointers of successive connections start.
const POINTER_STEP: u16 = 0x2F41;

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
            Some(Command::Send) if is_sending(status) => self.send(n),
            Some(Command::Recv) => self.recv(n),
            // SEND_KEEP, commands in the wrong state, unknown codes: nothing to do.
            _ => {}
        }
        self.prune_listeners();
    }

    /// Close the host listeners no hardware socket is listening on: clients are refused.
    /// (With a backlog, those no open socket came from.)
    pub(super) fn prune_listeners(&mut self) {
        let Self { sockets, listeners, backlog, .. } = self;
        listeners.retain(|l| {
            sockets.iter().any(|s| {
                s.listen_port == Some(l.port)
                    && (s.status == Status::LISTEN || *backlog && s.status != Status::CLOSED)
            })
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
        self.set_pointers(n, 0);
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.status = Status::INIT;
        }
    }

    /// Every ring pointer of socket `n` at `pointer`.
    fn set_pointers(&mut self, n: usize, pointer: u16) {
        self.set_u16(socket_reg(n, sn::TX_WR), pointer);
        self.set_u16(socket_reg(n, sn::RX_RD), pointer);
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.tx_rd = pointer;
            socket.tx_end = None;
            socket.rx_wr = pointer;
            socket.rx_ack = pointer;
        }
    }

    /// A connection is established on socket `n` over `stream`: the chip re-initialises the
    /// ring pointers (to a value of its own) and raises CON.
    pub(super) fn establish(&mut self, n: usize, stream: TcpStream) {
        // Nagle would only add latency to a model that already batches per SEND.
        let _ = stream.set_nodelay(true);
        let pointer = self.connection_pointer.unwrap_or(self.next_pointer);
        self.next_pointer = self.next_pointer.wrapping_add(POINTER_STEP);
        self.set_pointers(n, pointer);
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.stream = Some(stream);
            socket.status = Status::ESTABLISHED;
        }
        self.raise(n, SocketInterrupts::CON);
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
            Ok(stream) => self.establish(n, stream),
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

    /// DISCON: FIN after the rest of the last SEND; the pump takes it from there.
    fn discon(&mut self, n: usize) {
        let retry = u64::from(self.get_u16(regs::RTR)) * (u64::from(self.get(regs::RCR)) + 1);
        // RTR counts 100 µs.
        let give_up = Instant::now() + Duration::from_micros(retry * 100);
        let closing = match self.sockets.get(n).map(|s| s.status) {
            Some(Status::ESTABLISHED) => Status::FIN_WAIT,
            Some(Status::CLOSE_WAIT) => Status::LAST_ACK,
            // Nothing to disconnect.
            _ => return self.close(n),
        };
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.status = closing;
            socket.fin = Fin::Queued;
            socket.give_up = Some(give_up);
        }
    }

    /// CLOSED at once: the host socket is dropped with whatever was not sent.
    pub(super) fn close(&mut self, n: usize) {
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.stream = None;
            socket.status = Status::CLOSED;
            socket.listen_port = None;
            socket.tx_end = None;
            socket.wake = NEVER;
            socket.fin = Fin::None;
            socket.peer_fin = false;
            socket.give_up = None;
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
        // The data starts leaving when the chip takes the command (never within the SPI
        // access that wrote it), as far as the host socket takes it.
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

/// Whether SEND is allowed in `status`: a connection whose write side is open.
fn is_sending(status: Status) -> bool {
    matches!(status, Status::ESTABLISHED | Status::CLOSE_WAIT)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::Ipv4Addr;

    use super::*;
    use crate::regs;
    use crate::sim::tests::{await_status, command, connected, open, pass, read, status, write};

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

    #[test]
    fn discon_waits_for_the_peers_fin() {
        let mut sim = W5100Sim::default();
        let mut peer = connected(&mut sim, 0);
        command(&mut sim, 0, Command::Discon);
        assert_eq!(status(&mut sim, 0), Status::FIN_WAIT);
        // Our FIN reaches the peer; the socket waits for the peer's.
        assert_eq!(peer.read(&mut [0; 4]).unwrap(), 0);
        for _ in 0..100 {
            assert_eq!(status(&mut sim, 0), Status::FIN_WAIT);
        }
        drop(peer);
        await_status(&mut sim, 0, Status::CLOSED);
        assert_eq!(
            read(&mut sim, regs::socket_register(0, sn::IR)) & regs::sn_ir::DISCON,
            regs::sn_ir::DISCON
        );
    }

    #[test]
    fn discon_ends_in_timeout_when_the_peer_never_closes() {
        let mut sim = W5100Sim::default();
        // RTR = 1 ms, RCR = 1: the chip gives up after 2 ms.
        write(&mut sim, regs::RTR, 0x00);
        write(&mut sim, regs::RTR + 1, 10);
        write(&mut sim, regs::RCR, 1);
        let _peer = connected(&mut sim, 1);
        command(&mut sim, 1, Command::Discon);
        assert_eq!(status(&mut sim, 1), Status::FIN_WAIT);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(status(&mut sim, 1), Status::CLOSED);
        assert_eq!(
            read(&mut sim, regs::socket_register(1, sn::IR)) & regs::sn_ir::TIMEOUT,
            regs::sn_ir::TIMEOUT
        );
    }

    /// Queue data on socket `n` (SENDs of a ring's worth) until some of it can no longer
    /// leave because the peer does not read; returns how many bytes were queued.
    fn queue_until_stuck(sim: &mut W5100Sim, n: u8) -> usize {
        let ring = sim.tx_ring(usize::from(n));
        let fsr = regs::socket_register(n, sn::TX_FSR);
        let wr_reg = regs::socket_register(n, sn::TX_WR);
        let mut queued = 0;
        loop {
            let free = u16::from_be_bytes([read(sim, fsr), read(sim, fsr + 1)]);
            if free < ring.size {
                return queued;
            }
            let wr = u16::from_be_bytes([read(sim, wr_reg), read(sim, wr_reg + 1)]);
            for i in 0..ring.size {
                write(sim, ring.base + (wr.wrapping_add(i) & (ring.size - 1)), i as u8);
            }
            let wr = wr.wrapping_add(ring.size);
            write(sim, wr_reg, (wr >> 8) as u8);
            write(sim, wr_reg + 1, wr as u8);
            command(sim, n, Command::Send);
            queued += usize::from(ring.size);
        }
    }

    #[test]
    fn discon_sends_the_rest_of_the_data_then_fin() {
        let mut sim = W5100Sim::default();
        let mut peer = connected(&mut sim, 0);
        let queued = queue_until_stuck(&mut sim, 0);
        command(&mut sim, 0, Command::Discon);
        assert_eq!(status(&mut sim, 0), Status::FIN_WAIT);
        // The peer reads everything, then our FIN; the chip keeps sending meanwhile.
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            peer.read_to_end(&mut got).map(|_| got.len())
        });
        while !reader.is_finished() {
            status(&mut sim, 0);
        }
        assert_eq!(reader.join().unwrap().unwrap(), queued);
    }

    #[test]
    fn close_in_fin_wait_loses_what_was_not_sent() {
        let mut sim = W5100Sim::default();
        let mut peer = connected(&mut sim, 0);
        let queued = queue_until_stuck(&mut sim, 0);
        command(&mut sim, 0, Command::Discon);
        assert_eq!(status(&mut sim, 0), Status::FIN_WAIT);
        command(&mut sim, 0, Command::Close);
        assert_eq!(status(&mut sim, 0), Status::CLOSED);
        let mut got = Vec::new();
        // The stream ends (or is reset) short of what was queued.
        let _ = peer.read_to_end(&mut got);
        assert!(got.len() < queued, "{} of {queued} bytes arrived", got.len());
    }
}
