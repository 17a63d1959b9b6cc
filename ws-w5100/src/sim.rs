//! A register-level W5100 model whose hardware sockets are host TCP sockets.
//!
//! [`W5100Sim`] implements [`SpiDevice`]: it decodes the chip's 4-byte SPI frames against a
//! model of its 32 KiB address space (common registers, four socket register blocks, the
//! 8 KiB TX and 8 KiB RX memories split by RMSR/TMSR) and runs the socket command state
//! machine. The real driver code runs against it unchanged, and real clients reach it:
//!
//! - OPEN (TCP mode only) → INIT. Ring pointers start at [`W5100Sim::set_open_pointer`]'s
//!   value (0 by default), so tests can start a connection right before the 16-bit wrap.
//! - LISTEN → a std [`TcpListener`] bound on the sim's host IP and Sn_PORT. Hardware
//!   sockets listening on the same port share one listener; an incoming connection goes to
//!   whichever of them is polled first. The listener lives while any hardware socket that
//!   listened on that port is not CLOSED, so a client arriving while all of them are busy
//!   waits in the host's backlog (a real chip would refuse it with RST).
//! - CONNECT → a std [`TcpStream`] to Sn_DIPR:Sn_DPORT (a blocking connect of up to 2 s,
//!   straight to ESTABLISHED; refused → CLOSED with DISCON, other failures → CLOSED with
//!   TIMEOUT). Sn_PORT is not used for the host socket's local port.
//! - SEND → the bytes between Sn_TX_RD and Sn_TX_WR go to the stream; SEND_OK is set once
//!   all are written, and Sn_TX_RD advances as they are (so a peer that does not read
//!   backs up into Sn_TX_FSR, as on the wire).
//! - Received bytes fill the RX ring up to its free space; Sn_RX_RSR is the distance from
//!   the chip's write pointer to the Sn_RX_RD acknowledged by the last RECV.
//! - Peer EOF → CLOSE_WAIT with DISCON (buffered data stays readable); peer reset or a
//!   failed write → CLOSED with DISCON.
//! - DISCON → pending TX data is flushed, the write side shut down, the socket CLOSED; the
//!   host socket lingers, discarding input until the peer closes, so the peer sees a clean
//!   FIN rather than a reset. CLOSE → the host socket is dropped, CLOSED.
//! - Sn_CR reads back 0 at once: commands are processed when written.
//!
//! There is no background thread: host sockets are non-blocking and are serviced ("pumped")
//! whenever the driver reads a socket's Sn_SR, Sn_IR, Sn_TX_FSR or Sn_RX_RSR (high byte),
//! or the common IR. No SPI input makes the model panic: frames with an unknown opcode are
//! ignored and read as 0, partial frames are dropped when the transaction ends.
//!
//! ```
//! use std::io::Read;
//! use std::net::{Ipv4Addr, TcpListener};
//!
//! use embedded_nal::TcpClientStack;
//! use ws_w5100::{sim::W5100Sim, NetConfig, SocketSizes, W5100};
//!
//! // A host peer, and the driver on the model connecting to it.
//! let peer = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
//! let mut w5100 = W5100::new(W5100Sim::new(Ipv4Addr::LOCALHOST));
//! w5100.init(&NetConfig::default(), &SocketSizes::default())?;
//! let mut socket = w5100.socket()?;
//! nb::block!(w5100.connect(&mut socket, peer.local_addr()?))?;
//! nb::block!(w5100.send(&mut socket, b"hi"))?;
//!
//! let (mut conn, _) = peer.accept()?;
//! let mut buf = [0; 2];
//! conn.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"hi");
//! w5100.close(socket)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

use core::convert::Infallible;

use embedded_hal::spi::{ErrorType, Operation, SpiDevice};

use crate::bus::{READ, WRITE};
use crate::regs::{self, ir, mr, sn, sn_mr, Command, SocketInterrupts, Status};

/// How long CONNECT may block on the host connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long DISCON may block flushing TX data to a slow peer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(1);
/// Upper bound on host read/write calls per pump, so a pump always ends.
const PUMP_CALLS: usize = 64;
/// Host sockets kept draining after DISCON; the oldest is dropped beyond this.
const MAX_LINGERING: usize = 16;

/// The W5100 model: an [`SpiDevice`] whose sockets are host TCP sockets on `host`.
pub struct W5100Sim {
    host: Ipv4Addr,
    mem: Vec<u8>,
    sockets: [SimSocket; regs::SOCKETS as usize],
    listeners: Vec<PortListener>,
    lingering: Vec<TcpStream>,
    open_pointer: u16,
    last_io_error: Option<io::Error>,
}

/// One hardware socket's hidden state (what the chip keeps outside its register file).
#[derive(Debug)]
struct SimSocket {
    status: Status,
    stream: Option<TcpStream>,
    /// Port of the host listener this socket listens on or was accepted from.
    listen_port: Option<u16>,
    /// The chip's TX read pointer (Sn_TX_RD).
    tx_rd: u16,
    /// Sn_TX_WR as of the last SEND: transmit up to here.
    tx_end: Option<u16>,
    /// The chip's RX write pointer.
    rx_wr: u16,
    /// Sn_RX_RD as of the last RECV.
    rx_ack: u16,
}

impl SimSocket {
    const fn new() -> Self {
        Self {
            status: Status::Closed,
            stream: None,
            listen_port: None,
            tx_rd: 0,
            tx_end: None,
            rx_wr: 0,
            rx_ack: 0,
        }
    }
}

#[derive(Debug)]
struct PortListener {
    port: u16,
    listener: TcpListener,
}

/// Base address and size of one socket's ring.
#[derive(Debug, Clone, Copy)]
struct Ring {
    base: u16,
    size: u16,
}

impl Ring {
    /// Address range of the contiguous run of at most `len` bytes from pointer `ptr`.
    fn run(self, ptr: u16, len: u16) -> std::ops::Range<usize> {
        let offset = ptr & self.size.wrapping_sub(1);
        let len = len.min(self.size.saturating_sub(offset));
        let start = usize::from(self.base) + usize::from(offset);
        start..start + usize::from(len)
    }
}

/// Position in the 4-byte frame being shifted in.
#[derive(Debug, Default)]
struct Frame {
    bytes: [u8; 4],
    len: usize,
}

impl Default for W5100Sim {
    /// A model listening on 127.0.0.1.
    fn default() -> Self {
        Self::new(Ipv4Addr::LOCALHOST)
    }
}

impl fmt::Debug for W5100Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("W5100Sim")
            .field("host", &self.host)
            .field("sockets", &self.sockets)
            .field("listeners", &self.listeners)
            .field("lingering", &self.lingering.len())
            .finish_non_exhaustive()
    }
}

impl W5100Sim {
    /// A chip in its reset state whose listening sockets bind on `host`.
    pub fn new(host: Ipv4Addr) -> Self {
        let mut sim = Self {
            host,
            mem: vec![0; regs::ADDRESS_SPACE],
            sockets: [const { SimSocket::new() }; regs::SOCKETS as usize],
            listeners: Vec::new(),
            lingering: Vec::new(),
            open_pointer: 0,
            last_io_error: None,
        };
        sim.reset();
        sim
    }

    /// The address host listeners bind to.
    pub fn host(&self) -> Ipv4Addr {
        self.host
    }

    /// Make OPEN start every ring pointer at `pointer` instead of 0 (a test knob).
    pub fn set_open_pointer(&mut self, pointer: u16) {
        self.open_pointer = pointer;
    }

    /// A register or memory byte as the driver would read it, without servicing sockets.
    pub fn register(&self, addr: u16) -> u8 {
        if let Some((n, offset)) = socket_of(addr) {
            let Some(socket) = self.sockets.get(n) else {
                return 0;
            };
            match offset {
                sn::SR => socket.status.code(),
                o if o & !1 == sn::TX_FSR => byte_of(self.tx_free(n), o == sn::TX_FSR),
                o if o & !1 == sn::TX_RD => byte_of(socket.tx_rd, o == sn::TX_RD),
                o if o & !1 == sn::RX_RSR => byte_of(self.rx_used(n), o == sn::RX_RSR),
                _ => self.get(addr),
            }
        } else if addr == regs::IR {
            let sockets = (0..regs::SOCKETS)
                .filter(|&n| self.get(regs::socket_register(n, sn::IR)) != 0)
                .fold(0, |acc, n| acc | ir::socket(n));
            (self.get(regs::IR) & 0xF0) | sockets
        } else {
            self.get(addr)
        }
    }

    /// The last host socket error the model ran into (bind, connect, ...), for diagnostics.
    pub fn last_io_error(&self) -> Option<&io::Error> {
        self.last_io_error.as_ref()
    }

    /// Power-on / MR.RST state: registers at their defaults, every socket closed.
    fn reset(&mut self) {
        self.mem.fill(0);
        self.set_u16(regs::RTR, regs::RTR_RESET);
        self.set(regs::RCR, regs::RCR_RESET);
        self.set(regs::RMSR, regs::MSR_RESET);
        self.set(regs::TMSR, regs::MSR_RESET);
        for socket in &mut self.sockets {
            *socket = SimSocket::new();
        }
        self.listeners.clear();
    }

    // --- the SPI side ---

    /// Shift one byte in, return the byte shifted out (0x00, 0x01, 0x02, then data/0x03).
    fn shift(&mut self, frame: &mut Frame, mosi: u8) -> u8 {
        let index = frame.len;
        if let Some(byte) = frame.bytes.get_mut(index) {
            *byte = mosi;
        }
        frame.len = (index + 1) % 4;
        match index {
            0 => 0x00,
            1 => 0x01,
            2 => 0x02,
            _ => {
                let [op, hi, lo, _] = frame.bytes;
                let addr = u16::from_be_bytes([hi, lo]);
                match op {
                    WRITE => {
                        self.write_byte(addr, mosi);
                        0x03
                    }
                    READ => self.read_byte(addr),
                    _ => 0,
                }
            }
        }
    }

    fn read_byte(&mut self, addr: u16) -> u8 {
        if let Some((n, offset)) = socket_of(addr) {
            if matches!(offset, sn::SR | sn::IR | sn::TX_FSR | sn::RX_RSR) {
                self.pump(n);
            }
        } else if addr == regs::IR {
            for n in 0..self.sockets.len() {
                self.pump(n);
            }
        }
        self.register(addr)
    }

    fn write_byte(&mut self, addr: u16, value: u8) {
        if let Some((n, offset)) = socket_of(addr) {
            match offset {
                sn::CR => self.command(n, value),
                sn::IR => {
                    let flags = self.get(addr) & !value;
                    self.set(addr, flags);
                }
                // Read-only registers.
                sn::SR => {}
                o if o & !1 == sn::TX_FSR || o & !1 == sn::TX_RD || o & !1 == sn::RX_RSR => {}
                _ => self.set(addr, value),
            }
        } else if addr == regs::MR && value & mr::RST != 0 {
            self.reset();
        } else if addr == regs::IR {
            // Writing 1 clears the common flags; the socket bits mirror Sn_IR.
            let flags = self.get(addr) & !value;
            self.set(addr, flags);
        } else {
            self.set(addr, value);
        }
    }

    // --- the socket state machine ---

    fn command(&mut self, n: usize, code: u8) {
        let Some(status) = self.sockets.get(n).map(|s| s.status) else {
            return;
        };
        match Command::from_code(code) {
            Some(Command::Open) => self.open(n),
            Some(Command::Listen) if status == Status::Init => self.listen(n),
            Some(Command::Connect) if status == Status::Init => self.connect(n),
            Some(Command::Discon) => self.discon(n),
            Some(Command::Close) => self.close(n),
            Some(Command::Send) if matches!(status, Status::Established | Status::CloseWait) => {
                self.send(n);
            }
            Some(Command::Recv) => self.recv(n),
            // SEND_KEEP, commands in the wrong state, unknown codes: nothing to do.
            _ => {}
        }
        self.listeners.retain(|l| {
            self.sockets.iter().any(|s| s.status != Status::Closed && s.listen_port == Some(l.port))
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
            socket.status = Status::Init;
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
            socket.status = Status::Listen;
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
                    socket.status = Status::Established;
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
            if stream.shutdown(Shutdown::Write).is_ok() {
                if self.lingering.len() >= MAX_LINGERING {
                    self.lingering.remove(0);
                }
                self.lingering.push(stream);
            }
        }
        self.close(n);
        self.raise(n, SocketInterrupts::DISCON);
    }

    fn close(&mut self, n: usize) {
        if let Some(socket) = self.sockets.get_mut(n) {
            socket.stream = None;
            socket.status = Status::Closed;
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

    /// Set flags in Sn_IR.
    fn raise(&mut self, n: usize, flags: SocketInterrupts) {
        let addr = socket_reg(n, sn::IR);
        let value = self.get(addr) | flags.bits();
        self.set(addr, value);
    }

    /// Drop the host socket after a reset or write failure: CLOSED with DISCON.
    fn reset_by_peer(&mut self, n: usize, error: io::Error) {
        self.last_io_error = Some(error);
        self.close(n);
        self.raise(n, SocketInterrupts::DISCON);
    }

    // --- servicing host sockets ---

    fn pump(&mut self, n: usize) {
        self.pump_lingering();
        match self.sockets.get(n).map(|s| s.status) {
            Some(Status::Listen) => self.pump_accept(n),
            Some(Status::Established | Status::CloseWait) => {
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
            socket.status = Status::Established;
        }
        self.raise(n, SocketInterrupts::CON);
    }

    /// Write what the last SEND asked for, as far as the host socket takes it.
    fn pump_tx(&mut self, n: usize) {
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
    fn pump_rx(&mut self, n: usize) {
        let ring = self.rx_ring(n);
        let Self { mem, sockets, .. } = self;
        let Some(socket) = sockets.get_mut(n) else {
            return;
        };
        if socket.status != Status::Established {
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
                    socket.status = Status::CloseWait;
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
    fn flush_blocking(&mut self, n: usize) {
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

    // --- memory helpers ---

    fn tx_ring(&self, n: usize) -> Ring {
        self.ring(n, regs::TMSR, regs::TX_BASE)
    }

    fn rx_ring(&self, n: usize) -> Ring {
        self.ring(n, regs::RMSR, regs::RX_BASE)
    }

    /// Socket `n`'s ring in the memory whose split is in register `msr`.
    fn ring(&self, n: usize, msr: u16, base: u16) -> Ring {
        let codes = self.get(msr);
        let mut start: u32 = 0;
        for i in 0..usize::from(regs::SOCKETS) {
            let code = (u32::from(codes) >> (2 * i)) & 0x03;
            let size = 1024u32 << code;
            let fits = start + size <= u32::from(regs::BUFFER_MEMORY);
            if i == n {
                return Ring {
                    base: base.wrapping_add(u16::try_from(start).unwrap_or(0)),
                    size: if fits { u16::try_from(size).unwrap_or(0) } else { 0 },
                };
            }
            if !fits {
                // The chip stops allocating at the first socket that does not fit.
                start = u32::from(regs::BUFFER_MEMORY);
            } else {
                start += size;
            }
        }
        Ring { base, size: 0 }
    }

    fn tx_free(&self, n: usize) -> u16 {
        let size = self.tx_ring(n).size;
        let Some(socket) = self.sockets.get(n) else {
            return 0;
        };
        let wr = self.get_u16(socket_reg(n, sn::TX_WR));
        size.saturating_sub(wr.wrapping_sub(socket.tx_rd))
    }

    fn rx_used(&self, n: usize) -> u16 {
        self.sockets.get(n).map_or(0, |s| s.rx_wr.wrapping_sub(s.rx_ack))
    }

    fn get(&self, addr: u16) -> u8 {
        self.mem.get(usize::from(addr)).copied().unwrap_or(0)
    }

    fn set(&mut self, addr: u16, value: u8) {
        if let Some(byte) = self.mem.get_mut(usize::from(addr)) {
            *byte = value;
        }
    }

    fn get_u16(&self, addr: u16) -> u16 {
        u16::from_be_bytes([self.get(addr), self.get(addr.wrapping_add(1))])
    }

    fn set_u16(&mut self, addr: u16, value: u16) {
        let [hi, lo] = value.to_be_bytes();
        self.set(addr, hi);
        self.set(addr.wrapping_add(1), lo);
    }
}

impl ErrorType for W5100Sim {
    type Error = Infallible;
}

impl SpiDevice for W5100Sim {
    /// One chip-select period: bytes are decoded as consecutive 4-byte frames.
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        let mut frame = Frame::default();
        for operation in operations.iter_mut() {
            match operation {
                Operation::Read(words) => {
                    for word in words.iter_mut() {
                        *word = self.shift(&mut frame, 0);
                    }
                }
                Operation::Write(words) => {
                    for &word in words.iter() {
                        self.shift(&mut frame, word);
                    }
                }
                Operation::Transfer(read, write) => {
                    for i in 0..read.len().max(write.len()) {
                        let out = self.shift(&mut frame, write.get(i).copied().unwrap_or(0));
                        if let Some(word) = read.get_mut(i) {
                            *word = out;
                        }
                    }
                }
                Operation::TransferInPlace(words) => {
                    for word in words.iter_mut() {
                        *word = self.shift(&mut frame, *word);
                    }
                }
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

/// The socket number and register offset of an address in the socket register blocks.
fn socket_of(addr: u16) -> Option<(usize, u16)> {
    let relative = addr.checked_sub(regs::SOCKET_BASE)?;
    let n = usize::from(relative / regs::SOCKET_STRIDE);
    (n < usize::from(regs::SOCKETS)).then_some((n, relative % regs::SOCKET_STRIDE))
}

/// Address of register `offset` of socket `n` (n < 4).
fn socket_reg(n: usize, offset: u16) -> u16 {
    regs::socket_register(u8::try_from(n).unwrap_or(0), offset)
}

/// The high or low byte of a 16-bit register.
fn byte_of(value: u16, high: bool) -> u8 {
    let [hi, lo] = value.to_be_bytes();
    if high {
        hi
    } else {
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regs::sn_ir;

    fn read(sim: &mut W5100Sim, addr: u16) -> u8 {
        let [hi, lo] = addr.to_be_bytes();
        let mut frame = [READ, hi, lo, 0];
        sim.transfer_in_place(&mut frame).unwrap();
        assert_eq!(frame[..3], [0, 1, 2]);
        frame[3]
    }

    fn write(sim: &mut W5100Sim, addr: u16, value: u8) {
        let [hi, lo] = addr.to_be_bytes();
        sim.write(&[WRITE, hi, lo, value]).unwrap();
    }

    #[test]
    fn reset_defaults() {
        let mut sim = W5100Sim::default();
        write(&mut sim, regs::RTR, 0x12);
        write(&mut sim, regs::MR, mr::RST);
        assert_eq!(read(&mut sim, regs::MR), 0);
        assert_eq!(read(&mut sim, regs::RTR), 0x07);
        assert_eq!(read(&mut sim, regs::RTR + 1), 0xD0);
        assert_eq!(read(&mut sim, regs::RMSR), 0x55);
    }

    #[test]
    fn ring_layout_follows_msr() {
        let mut sim = W5100Sim::default();
        // Socket 0: 4 KiB, socket 1: 8 KiB does not fit, so 1..=3 get nothing.
        write(&mut sim, regs::RMSR, 0b01_01_11_10);
        assert_eq!(sim.rx_ring(0).size, 4096);
        assert_eq!(sim.rx_ring(1).size, 0);
        assert_eq!(sim.rx_ring(3).size, 0);
        assert_eq!(sim.tx_ring(3).base, 0x5800);
        assert_eq!(sim.tx_ring(3).size, 2048);
    }

    #[test]
    fn open_requires_tcp_mode() {
        let mut sim = W5100Sim::default();
        let sr = regs::socket_register(1, sn::SR);
        write(&mut sim, regs::socket_register(1, sn::MR), sn_mr::UDP);
        write(&mut sim, regs::socket_register(1, sn::CR), Command::Open.code());
        assert_eq!(read(&mut sim, sr), Status::Closed.code());
        write(&mut sim, regs::socket_register(1, sn::MR), sn_mr::TCP);
        write(&mut sim, regs::socket_register(1, sn::CR), Command::Open.code());
        assert_eq!(read(&mut sim, regs::socket_register(1, sn::CR)), 0);
        assert_eq!(read(&mut sim, sr), Status::Init.code());
        assert_eq!(read(&mut sim, regs::socket_register(1, sn::TX_FSR)), 0x08);
    }

    #[test]
    fn interrupt_bits_clear_on_write_one() {
        let mut sim = W5100Sim::default();
        sim.raise(2, SocketInterrupts::CON | SocketInterrupts::RECV);
        assert_eq!(read(&mut sim, regs::IR), ir::socket(2));
        write(&mut sim, regs::socket_register(2, sn::IR), sn_ir::CON);
        assert_eq!(read(&mut sim, regs::socket_register(2, sn::IR)), sn_ir::RECV);
    }

    /// Random frames, partial frames and odd operations never panic. Commands that would
    /// reach the network (LISTEN, CONNECT) are left out.
    #[test]
    fn random_spi_input_never_panics() {
        let mut sim = W5100Sim::default();
        let mut state: u32 = 0x1234_5678;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..20_000 {
            let r = next();
            let mut bytes = r.to_be_bytes();
            bytes[0] = match r % 4 {
                0 => READ,
                1 => WRITE,
                _ => bytes[0],
            };
            // Bias addresses towards the registers and the socket blocks.
            if r % 3 == 0 {
                bytes[1] &= 0x07;
            }
            let addr = u16::from_be_bytes([bytes[1], bytes[2]]);
            if socket_of(addr).is_some_and(|(_, o)| o == sn::CR)
                && matches!(Command::from_code(bytes[3]), Some(Command::Listen | Command::Connect))
            {
                bytes[3] = Command::Open.code();
            }
            let len = (next() % 6) as usize;
            let mut scratch = [0u8; 8];
            let mut ops = [
                Operation::TransferInPlace(&mut bytes[..]),
                Operation::Transfer(&mut scratch[..len], &[0x0F, 0x04, 0x03]),
                Operation::DelayNs(10),
            ];
            let count = 1 + (next() % 3) as usize;
            sim.transaction(&mut ops[..count]).unwrap();
        }
    }
}
