//! A register-level W5100 model whose hardware sockets are host TCP sockets.
//!
//! [`W5100Sim`] implements [`SpiDevice`]: it decodes the chip's 4-byte SPI frames against a
//! model of its 32 KiB address space (common registers, four socket register blocks, the
//! 8 KiB TX and 8 KiB RX memories split by RMSR/TMSR) and runs the socket command state
//! machine. The real driver code runs against it unchanged, and real clients reach it.
//!
//! The model is as strict as the chip where a driver can get the chip wrong:
//!
//! - **One frame per chip-select period.** The datasheet has /SS rise after every 32-bit
//!   frame; only the first frame of a transaction is decoded, the bytes after it are
//!   ignored (and shift out 0).
//! - **Commands take time.** Time is counted in SPI frames. Sn_CR reads back the command
//!   on the two frames after it is written and 0 from the third on, when the chip has taken
//!   it: SEND and RECV take effect then. The state change of OPEN, LISTEN, CONNECT, DISCON
//!   and CLOSE comes two frames later still, so Sn_SR read right after Sn_CR cleared shows
//!   the state before the command. A command written before the last one took effect
//!   makes that one take effect first.
//! - OPEN (TCP mode only) → INIT, ring pointers at 0. When a connection is established the
//!   chip re-initialises them (Sn_TX_RD, Sn_TX_WR, Sn_RX_RD and its write pointer) to a
//!   value of its own: [`W5100Sim::set_connection_pointer`]'s, or a different one for
//!   each connection, so a driver must read them from the chip, not assume 0.
//! - LISTEN → a std [`TcpListener`] bound on the sim's host IP and Sn_PORT. Hardware
//!   sockets listening on the same port share one listener; an incoming connection goes to
//!   whichever of them is polled first (→ ESTABLISHED with CON). The chip has no backlog: a
//!   client arriving while none of its sockets is in LISTEN on the port is refused (RST).
//!   With [`W5100Sim::set_backlog`]`(false)` the model does the same: it closes the listener
//!   as soon as no hardware socket is in LISTEN on its port, and the kernel refuses. By
//!   default it is more lenient, for load tests that open more connections at once than
//!   the chip has sockets listening (see `set_backlog`): such clients wait in the host's
//!   backlog while a socket accepted from the listener is open.
//! - CONNECT → ARP (Sn_SR 0x01) and SYNSENT for a few frames each, then a std
//!   [`TcpStream`] to Sn_DIPR:Sn_DPORT (a blocking connect of up to 2 s): ESTABLISHED;
//!   refused → CLOSED with DISCON, other failures → CLOSED with TIMEOUT. Sn_PORT is not
//!   used for the host socket's local port.
//! - SEND → the bytes between Sn_TX_RD and Sn_TX_WR go to the stream from when the chip
//!   takes the command (never within the SPI access that wrote it) and as the socket is
//!   serviced after; Sn_TX_RD and with it Sn_TX_FSR advance as they leave, and SEND_OK is
//!   set once all have (so a peer that does not read backs up into Sn_TX_FSR and SEND_OK,
//!   as on the wire).
//! - Received bytes fill the RX ring up to its free space; Sn_RX_RSR is the distance from
//!   the chip's write pointer to the Sn_RX_RD acknowledged by the last RECV.
//! - Peer EOF → CLOSE_WAIT with DISCON (buffered data stays readable); peer reset or a
//!   failed write → CLOSED with DISCON.
//! - **DISCON is not the end.** ESTABLISHED → FIN_WAIT, CLOSE_WAIT → LAST_ACK: the rest of
//!   the last SEND still goes out, then FIN (the host socket's write side is shut down);
//!   the socket reaches CLOSED (with DISCON) only once the peer has closed too, or with
//!   TIMEOUT after RTR × (RCR + 1) (1.8 s at the reset values). Data arriving meanwhile is
//!   dropped.
//! - CLOSE → CLOSED at once, dropping the host socket: in FIN_WAIT or LAST_ACK whatever the
//!   chip has not sent yet is lost, and the peer sees the stream end short of it.
//! - TIMEOUT always comes with CLOSED.
//!
//! There is no background thread: host sockets are non-blocking and are serviced ("pumped")
//! whenever the driver reads a socket's Sn_SR, Sn_IR, Sn_TX_FSR or Sn_RX_RSR (high byte),
//! or the common IR. No SPI input makes the model panic: frames with an unknown opcode are
//! ignored and read as 0, partial frames are dropped when the transaction ends.
//!
//! ```
//! use std::io::Read;
//! use std::net::{Ipv4Addr, TcpListener};
//! use std::time::Instant;
//!
//! use embedded_nal::TcpClientStack;
//! use ws_w5100::{sim::W5100Sim, NetConfig, SocketSizes, W5100};
//!
//! // A host peer, and the driver on the model connecting to it.
//! let peer = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
//! let start = Instant::now();
//! let clock = move || start.elapsed().as_millis() as u64;
//! let mut w5100 = W5100::new(W5100Sim::new(Ipv4Addr::LOCALHOST), clock);
//! w5100.init(&NetConfig::default(), &SocketSizes::default())?;
//! let mut socket = w5100.socket()?;
//! nb::block!(w5100.connect(&mut socket, peer.local_addr()?))?;
//! nb::block!(w5100.send(&mut socket, b"hi"))?;
//!
//! let (mut conn, _) = peer.accept()?;
//! let mut buf = [0; 2];
//! conn.read_exact(&mut buf)?;
//! assert_eq!(&buf, b"hi");
//! // The peer closes too, so the driver's graceful close completes at once.
//! drop(conn);
//! w5100.close(socket)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The model in three parts, besides the SPI side and the public API here: the address
// space and rings, the socket commands, and the servicing of host sockets.
mod commands;
mod pump;
mod registers;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::Instant;

use core::convert::Infallible;

use embedded_hal::spi::{ErrorType, Operation, SpiDevice};

use crate::bus::{READ, WRITE};
use crate::regs::{self, ir, mr, sn, Status};

use registers::{socket_of, socket_reg};

/// "Nothing scheduled", as a frame number.
const NEVER: u64 = u64::MAX;

/// The W5100 model: an [`SpiDevice`] whose sockets are host TCP sockets on `host`.
pub struct W5100Sim {
    host: Ipv4Addr,
    mem: Vec<u8>,
    sockets: [SimSocket; regs::SOCKETS as usize],
    listeners: Vec<PortListener>,
    /// The ring pointers a connection starts at, if a test fixed them.
    connection_pointer: Option<u16>,
    /// The ring pointers the next connection starts at otherwise.
    next_pointer: u16,
    /// Keep host listeners while a socket accepted from them is open (see `set_backlog`).
    backlog: bool,
    last_io_error: Option<io::Error>,
    /// SPI frames decoded so far: the clock commands take effect by.
    frames: u64,
    /// The earliest frame at which a socket has something scheduled.
    next_due: u64,
    /// The select period of [`W5100Sim::exchange`], for a bus driven byte by byte.
    period: Frame,
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
    /// The command in Sn_CR that has not taken effect yet.
    pending: Option<Pending>,
    /// Frame at which a connection on its way moves on (ARP → SYNSENT → connected).
    wake: u64,
    /// DISCON asked for FIN: it goes out once the last SEND's data has.
    fin: Fin,
    /// The peer's FIN has arrived.
    peer_fin: bool,
    /// After DISCON: when the chip gives up on the peer (TIMEOUT).
    give_up: Option<Instant>,
}

/// A command written to Sn_CR, on its way through the chip.
#[derive(Debug, Clone, Copy)]
struct Pending {
    code: u8,
    /// First frame at which Sn_CR reads 0 again.
    clear_at: u64,
    /// Frame at which the command takes effect.
    run_at: u64,
}

/// Where our FIN is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fin {
    /// Not asked for.
    None,
    /// DISCON asked for it; it waits for the data before it.
    Queued,
    /// Sent: the host socket's write side is shut down.
    Sent,
}

impl SimSocket {
    const fn new() -> Self {
        Self {
            status: Status::CLOSED,
            stream: None,
            listen_port: None,
            tx_rd: 0,
            tx_end: None,
            rx_wr: 0,
            rx_ack: 0,
            pending: None,
            wake: NEVER,
            fin: Fin::None,
            peer_fin: false,
            give_up: None,
        }
    }

    /// The next frame at which something is due for this socket, after frame `now`.
    fn next_due(&self, now: u64) -> u64 {
        let command = match self.pending {
            Some(p) if p.clear_at > now => p.clear_at,
            Some(p) => p.run_at,
            None => NEVER,
        };
        command.min(self.wake)
    }
}

#[derive(Debug)]
struct PortListener {
    port: u16,
    listener: TcpListener,
}

/// The frame being shifted in during one chip-select period.
#[derive(Debug, Default)]
struct Frame {
    bytes: [u8; 4],
    len: usize,
    /// The period's one frame is complete: the rest is ignored.
    done: bool,
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
            .field("frames", &self.frames)
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
            connection_pointer: None,
            next_pointer: 0x1234,
            backlog: true,
            last_io_error: None,
            frames: 0,
            next_due: NEVER,
            period: Frame::default(),
        };
        sim.reset();
        sim
    }

    /// The address host listeners bind to.
    pub fn host(&self) -> Ipv4Addr {
        self.host
    }

    /// Start every connection's ring pointers at `pointer` (a test knob; by default each
    /// connection starts at a value of its own).
    pub fn set_connection_pointer(&mut self, pointer: u16) {
        self.connection_pointer = Some(pointer);
    }

    /// Whether clients that arrive while no hardware socket listens on their port wait in
    /// the host's listen backlog until one does (`true`, the default: the host listener
    /// stays open while a socket accepted from it is), or are refused as the chip refuses
    /// them, with RST (`false`).
    ///
    /// The backlog is for load tests that open more connections at once than the chip has
    /// sockets listening, such as the Autobahn suite running cases side by side against an
    /// echo server that serves two or three connections: on a real W5100 some of them are
    /// refused whenever they arrive between a socket leaving LISTEN and the next being
    /// armed. The driver's own tests run without it.
    pub fn set_backlog(&mut self, backlog: bool) {
        self.backlog = backlog;
    }

    /// /SS falls: a select period starts, and the next byte from
    /// [`exchange`](Self::exchange) is a frame's first. For a bus model that shifts byte by
    /// byte (an emulated microcontroller's SPI peripheral) rather than by transaction.
    pub fn select(&mut self) {
        self.period = Frame::default();
    }

    /// Shifts `mosi` in during the select period begun by [`select`](Self::select) and
    /// returns the byte the chip shifts out with it: 0x00, 0x01, 0x02, then the data read
    /// (or 0x03 for a write); bytes after the period's one frame are ignored (0).
    pub fn exchange(&mut self, mosi: u8) -> u8 {
        let mut period = core::mem::take(&mut self.period);
        let miso = self.shift(&mut period, mosi);
        self.period = period;
        miso
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
        self.next_due = NEVER;
    }

    // --- the SPI side ---

    /// Decode one whole frame, first running what is due by now; returns the byte shifted
    /// out with the frame's last (0x03 for a write, the data for a read).
    fn frame(&mut self, op: u8, addr: u16, data: u8) -> u8 {
        self.frames += 1;
        if self.frames >= self.next_due {
            self.run_due();
        }
        match op {
            WRITE => {
                self.write_byte(addr, data);
                0x03
            }
            READ => self.read_byte(addr),
            _ => 0,
        }
    }

    /// Shift one byte in, return the byte shifted out (0x00, 0x01, 0x02, then data/0x03).
    fn shift(&mut self, frame: &mut Frame, mosi: u8) -> u8 {
        if frame.done {
            return 0;
        }
        let index = frame.len;
        if let Some(byte) = frame.bytes.get_mut(index) {
            *byte = mosi;
        }
        frame.len = index + 1;
        match index {
            0 => 0x00,
            1 => 0x01,
            2 => 0x02,
            _ => {
                frame.done = true;
                let [op, hi, lo, _] = frame.bytes;
                self.frame(op, u16::from_be_bytes([hi, lo]), mosi)
            }
        }
    }

    /// Clear Sn_CR, run the commands and connection steps due by now, and work out when
    /// the next is due.
    fn run_due(&mut self) {
        let now = self.frames;
        for n in 0..self.sockets.len() {
            let Some(socket) = self.sockets.get_mut(n) else { continue };
            if let Some(pending) = socket.pending {
                if now >= pending.run_at {
                    socket.pending = None;
                }
                if now >= pending.clear_at {
                    self.set(socket_reg(n, sn::CR), 0);
                }
                if now >= pending.run_at {
                    self.execute(n, pending.code);
                }
            }
            if self.sockets.get(n).is_some_and(|s| s.wake <= now) {
                self.advance(n);
            }
        }
        self.next_due = self.sockets.iter().map(|s| s.next_due(now)).min().unwrap_or(NEVER);
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
}

impl ErrorType for W5100Sim {
    type Error = Infallible;
}

impl SpiDevice for W5100Sim {
    /// One chip-select period: its first 4-byte frame is decoded, the rest ignored.
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        // The driver's one frame per transaction, shifted as a whole: the same bytes out
        // as byte by byte, without the per-byte bookkeeping (most of the model's time).
        match operations {
            [Operation::TransferInPlace([op, hi, lo, data])] => {
                *data = self.frame(*op, u16::from_be_bytes([*hi, *lo]), *data);
                (*op, *hi, *lo) = (0x00, 0x01, 0x02);
                return Ok(());
            }
            [Operation::Write([op, hi, lo, data])] => {
                self.frame(*op, u16::from_be_bytes([*hi, *lo]), *data);
                return Ok(());
            }
            _ => {}
        }
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
    use crate::regs::{sn_ir, Command, SocketInterrupts};

    /// Read one byte through an SPI read frame, checking the bytes shifted out before it.
    pub(super) fn read(sim: &mut W5100Sim, addr: u16) -> u8 {
        let [hi, lo] = addr.to_be_bytes();
        let mut frame = [READ, hi, lo, 0];
        sim.transfer_in_place(&mut frame).unwrap();
        assert_eq!(frame[..3], [0, 1, 2]);
        frame[3]
    }

    /// Write one byte through an SPI write frame.
    pub(super) fn write(sim: &mut W5100Sim, addr: u16, value: u8) {
        let [hi, lo] = addr.to_be_bytes();
        sim.write(&[WRITE, hi, lo, value]).unwrap();
    }

    /// Let `frames` SPI frames go by (reads of MR, which service no socket).
    pub(super) fn pass(sim: &mut W5100Sim, frames: usize) {
        for _ in 0..frames {
            read(sim, regs::MR);
        }
    }

    /// Write `command` to socket `n`'s Sn_CR and let it take effect.
    pub(super) fn command(sim: &mut W5100Sim, n: u8, command: Command) {
        write(sim, regs::socket_register(n, sn::CR), command.code());
        pass(sim, 8);
    }

    /// Socket `n`'s Sn_SR read through SPI, which services the socket.
    pub(super) fn status(sim: &mut W5100Sim, n: u8) -> Status {
        Status::from_code(read(sim, regs::socket_register(n, sn::SR)))
    }

    /// Read Sn_SR until it is `want`; panics if it takes longer than a few seconds.
    pub(super) fn await_status(sim: &mut W5100Sim, n: u8, want: Status) {
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while status(sim, n) != want {
            assert!(Instant::now() < deadline, "socket {n}: {:?}, not {want:?}", status(sim, n));
        }
    }

    /// Open socket `n` in TCP mode on `port` (→ INIT).
    pub(super) fn open(sim: &mut W5100Sim, n: u8, port: u16) {
        write(sim, regs::socket_register(n, sn::MR), crate::regs::sn_mr::TCP);
        write(sim, regs::socket_register(n, sn::PORT), (port >> 8) as u8);
        write(sim, regs::socket_register(n, sn::PORT) + 1, port as u8);
        command(sim, n, Command::Open);
        assert_eq!(status(sim, n), Status::INIT);
    }

    /// Socket `n` connected to a host listener: returns the host's end.
    pub(super) fn connected(sim: &mut W5100Sim, n: u8) -> TcpStream {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        open(sim, n, 0);
        for (i, byte) in (0..).zip(Ipv4Addr::LOCALHOST.octets()) {
            write(sim, regs::socket_register(n, sn::DIPR) + i, byte);
        }
        write(sim, regs::socket_register(n, sn::DPORT), (port >> 8) as u8);
        write(sim, regs::socket_register(n, sn::DPORT) + 1, port as u8);
        command(sim, n, Command::Connect);
        await_status(sim, n, Status::ESTABLISHED);
        let (peer, _) = listener.accept().unwrap();
        peer.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        peer
    }

    #[test]
    fn only_the_first_frame_of_a_chip_select_period_counts() {
        let mut sim = W5100Sim::default();
        // Two write frames and a read frame with chip select held low throughout: the
        // datasheet has /SS rise after each, so only the first is decoded.
        let mut bytes = [WRITE, 0x00, 0x01, 0x0A, WRITE, 0x00, 0x02, 0x0B, READ, 0x00, 0x17, 0x00];
        sim.transfer_in_place(&mut bytes).unwrap();
        assert_eq!(bytes, [0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(sim.register(regs::GAR), 0x0A);
        assert_eq!(sim.register(regs::GAR + 1), 0x00);
        // The same frames in periods of their own all count; a frame split across the
        // operations of one period is still one frame.
        for frame in [[WRITE, 0x00, 0x02, 0x0B], [WRITE, 0x00, 0x03, 0x0C]] {
            sim.write(&frame).unwrap();
        }
        let mut data = [0];
        sim.transaction(&mut [Operation::Write(&[READ, 0x00, 0x02]), Operation::Read(&mut data)]).unwrap();
        assert_eq!(data, [0x0B]);
        assert_eq!(sim.register(regs::GAR + 2), 0x0C);
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
