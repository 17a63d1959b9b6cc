//! embedded-nal's [`TcpClientStack`] and [`TcpFullStack`] on the W5100's hardware sockets.
//!
//! # Sockets
//! [`socket`](TcpClientStack::socket) reserves one of the four hardware sockets (only those
//! that have buffer memory, see [`SocketSizes`](crate::SocketSizes)); [`close`] gives it back.
//! With all four in use, `socket` fails with [`Error::NoFreeSocket`].
//!
//! # Listening: a listening socket *becomes* the connection
//! The chip has no accept queue: a hardware socket in LISTEN turns into the connection when a
//! client arrives. So a listener handle remembers its port and the hardware socket currently
//! listening for it ("armed"). [`accept`](TcpFullStack::accept):
//! 1. if the listener is not armed, takes a free hardware socket, opens it on the port and
//!    issues LISTEN, then looks at it like an armed one (no free socket: `WouldBlock`);
//! 2. LISTEN / SYNRECV: `WouldBlock`;
//! 3. ESTABLISHED or CLOSE_WAIT (a client that already sent FIN may have left data): that
//!    hardware socket is handed out as the accepted connection, with the peer's address from
//!    Sn_DIPR/Sn_DPORT, and the listener re-arms on another free hardware socket with the
//!    same port. If none is free (all four busy), accept still returns the connection and
//!    the listener stays unarmed until a later `accept` finds a socket free again: while
//!    unarmed, clients are refused by the chip (RST), and `accept` returns `WouldBlock`;
//! 4. CLOSED or INIT (a handshake that timed out or was reset): listens again, `WouldBlock`.
//!
//! No step waits for the network, so `accept` never hangs.
//!
//! [`listen`](TcpFullStack::listen) arms the listener for the first time. If that fails
//! (the chip does not reach LISTEN), the hardware socket is closed and given back at once,
//! and the handle is an unarmed listener that `accept` tries to arm again, or `close` ends.
//!
//! # Sending
//! [`send`](TcpClientStack::send) copies as much as fits (Sn_TX_FSR) into the TX ring at
//! `Sn_TX_WR & mask`, wrapping at the ring's end, advances Sn_TX_WR and issues SEND. It
//! returns the number of bytes taken, which may be fewer than offered. Until the chip
//! reports SEND_OK for that SEND, the next `send` returns `WouldBlock` (the chip must not be
//! given a second SEND while one is in flight), as it does when the ring is full.
//!
//! # Receiving and errors
//! The status (Sn_SR) is read *before* the byte count (Sn_RX_RSR): the chip stores data
//! before it moves to CLOSE_WAIT, so data is never lost to a FIN that arrived in between.
//!
//! | chip state | bytes waiting | `receive` | `send` |
//! |---|---|---|---|
//! | ESTABLISHED | > 0 | `Ok(n)` | queued |
//! | ESTABLISHED | 0 | `WouldBlock` | queued |
//! | CLOSE_WAIT (peer sent FIN) | > 0 | `Ok(n)` | queued (half-close) |
//! | CLOSE_WAIT | 0 | [`Error::Closed`] | queued (half-close) |
//! | INIT, ARP, SYNSENT, SYNRECV | – | `WouldBlock` | `WouldBlock` |
//! | CLOSED, Sn_IR TIMEOUT set | – | [`Error::Timeout`] | [`Error::Timeout`] |
//! | CLOSED (peer reset or closed) | – | [`Error::Closed`] | [`Error::Closed`] |
//! | FIN_WAIT, CLOSING, TIME_WAIT, LAST_ACK | as CLOSE_WAIT | as CLOSE_WAIT | [`Error::Closed`] |
//!
//! [`Error::Closed`] has [`TcpErrorKind::PipeClosed`](embedded_nal::TcpErrorKind::PipeClosed);
//! every other error has kind `Other`. An empty buffer gives `Ok(0)` without touching the chip.
//!
//! # Connecting
//! The first [`connect`](TcpClientStack::connect) opens the socket (on the bound port, or an
//! ephemeral one from 49152 up) and issues CONNECT, returning `WouldBlock`; later calls
//! ignore `remote` and report the outcome: `Ok` once ESTABLISHED, [`Error::Timeout`] or
//! [`Error::ConnectionRefused`] if the socket closed (the handle may then connect again).
//!
//! # Closing
//! [`close`] on a connection ends it gracefully, as the WIZnet ioLibrary and the Arduino
//! Ethernet library do, within 1 s on the caller's clock:
//! 1. it waits for the last SEND to complete (SEND_OK): DISCON in the middle of one cuts
//!    the data short;
//! 2. it issues DISCON (the chip sends FIN after the data and goes through FIN_WAIT) and
//!    waits for CLOSED: the peer's FIN, or the chip's TIMEOUT;
//! 3. it issues CLOSE and waits for CLOSED.
//!
//! Steps 1 and 2 share the second. When it is up, or the connection is gone already,
//! `close` goes on to step 3; CLOSE while the chip is still in FIN_WAIT drops whatever it
//! has not sent, and the chip answers the peer's FIN with RST. Step 2 lasts as long as the
//! peer takes to close its side, usually a round trip (a WebSocket server closes first, and
//! its client closes when the FIN arrives). On any other handle `close` is step 3. The
//! hardware socket is given back whatever the outcome.
//!
//! # Waiting
//! Every wait on the chip ends at a deadline on the caller's [`Clock`]: a
//! command (Sn_CR back to 0) and the state change it causes (Sn_SR, which the chip updates
//! after clearing Sn_CR) 100 ms, failing with [`Error::CommandTimeout`] or
//! [`Error::UnexpectedStatus`]; a graceful close 1 s.
//!
//! [`close`]: TcpClientStack::close

use core::net::SocketAddr;

use embedded_hal::spi::SpiDevice;
use embedded_nal::{TcpClientStack, TcpFullStack};

use crate::regs::{Command, SocketInterrupts, Status};
use crate::socket::Socket;
use crate::{Clock, Error, W5100};

/// How long a graceful `close` may take, in milliseconds (as the Arduino Ethernet library).
const CLOSE_MS: u16 = 1_000;

/// A TCP socket handle of the [`W5100`] stack.
///
/// Deliberately neither `Copy` nor `Clone`: embedded-nal's `close` consumes it, and a copy
/// would outlive the hardware socket it names.
#[derive(Debug, PartialEq, Eq)]
pub struct TcpSocket {
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reserved by `socket`, chip socket closed.
    Idle(Socket),
    /// `bind` recorded a port; opened by `listen` or `connect`.
    Bound { socket: Socket, port: u16 },
    /// CONNECT issued.
    Connecting(Socket),
    /// Connected, by `connect` or `accept`.
    Connected(Socket),
    /// A listener: its port and the hardware socket listening for it, if any.
    Listener { port: u16, armed: Option<Socket> },
}

impl TcpSocket {
    const fn new(state: State) -> Self {
        Self { state }
    }

    /// The hardware socket this handle drives now (an unarmed listener has none).
    pub fn hardware_socket(&self) -> Option<Socket> {
        match self.state {
            State::Idle(socket)
            | State::Bound { socket, .. }
            | State::Connecting(socket)
            | State::Connected(socket) => Some(socket),
            State::Listener { armed, .. } => armed,
        }
    }

    /// Whether this is a listener with a hardware socket waiting for clients.
    pub fn is_armed(&self) -> bool {
        matches!(self.state, State::Listener { armed: Some(_), .. })
    }

    /// The socket of a connection (or a connection being made), for send and receive.
    fn stream<E>(&self) -> Result<Socket, Error<E>> {
        match self.state {
            State::Connecting(socket) | State::Connected(socket) => Ok(socket),
            _ => Err(Error::InvalidState),
        }
    }
}

impl<SPI: SpiDevice, C: Clock> W5100<SPI, C> {
    /// The error for a connection the chip has closed: TIMEOUT if Sn_IR says so.
    fn closed_error(&mut self, socket: Socket) -> Result<Error<SPI::Error>, Error<SPI::Error>> {
        let interrupts = socket.interrupts(&mut self.bus)?;
        Ok(if interrupts.contains(SocketInterrupts::TIMEOUT) { Error::Timeout } else { Error::Closed })
    }

    /// Open `socket` on `port` and listen; on failure the socket is closed again.
    fn arm(&mut self, socket: Socket, port: u16) -> Result<(), Error<SPI::Error>> {
        let armed = socket.open_tcp(&mut self.bus, port).and_then(|()| socket.listen(&mut self.bus));
        if armed.is_err() {
            // Best effort: the first error is the one worth reporting.
            let _ = socket.close_now(&mut self.bus);
        }
        armed
    }

    /// Take a free hardware socket and listen on it; `None` when none is free.
    fn arm_free(&mut self, port: u16) -> Result<Option<Socket>, Error<SPI::Error>> {
        let Some(socket) = self.pool.take() else {
            return Ok(None);
        };
        match self.arm(socket, port) {
            Ok(()) => Ok(Some(socket)),
            Err(e) => {
                self.pool.release(socket);
                Err(e)
            }
        }
    }

    /// Before DISCON: wait until `deadline` for the last SEND to complete (SEND_OK; TIMEOUT
    /// closes the socket). Whether the connection is still there to be ended with DISCON.
    fn finish_send(&mut self, socket: Socket, deadline: u64) -> Result<bool, Error<SPI::Error>> {
        loop {
            let status = socket.status(&mut self.bus)?;
            if !matches!(status, Status::ESTABLISHED | Status::CLOSE_WAIT) {
                return Ok(false);
            }
            if self.send_ready(socket)? {
                return Ok(true);
            }
            if self.bus.expired(deadline) {
                return Ok(false);
            }
        }
    }

    /// Wait for (or clear) an in-flight SEND: `Ok(true)` when the chip may take another.
    fn send_ready(&mut self, socket: Socket) -> Result<bool, Error<SPI::Error>> {
        if !self.pool.send_pending(socket) {
            return Ok(true);
        }
        let interrupts = socket.interrupts(&mut self.bus)?;
        if interrupts.contains(SocketInterrupts::SEND_OK) {
            socket.clear_interrupts(&mut self.bus, SocketInterrupts::SEND_OK)?;
            self.pool.set_send_pending(socket, false);
            Ok(true)
        } else if interrupts.contains(SocketInterrupts::TIMEOUT) {
            Err(Error::Timeout)
        } else {
            Ok(false)
        }
    }
}

impl<SPI: SpiDevice, C: Clock> TcpClientStack for W5100<SPI, C> {
    type TcpSocket = TcpSocket;
    type Error = Error<SPI::Error>;

    fn socket(&mut self) -> Result<TcpSocket, Self::Error> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        let socket = self.pool.take().ok_or(Error::NoFreeSocket)?;
        Ok(TcpSocket::new(State::Idle(socket)))
    }

    fn connect(&mut self, handle: &mut TcpSocket, remote: SocketAddr) -> nb::Result<(), Self::Error> {
        match handle.state {
            State::Idle(socket) | State::Bound { socket, .. } => {
                let SocketAddr::V4(remote) = remote else {
                    return Err(nb::Error::Other(Error::Unsupported));
                };
                let port = match handle.state {
                    State::Bound { port, .. } => port,
                    _ => self.ephemeral_port(),
                };
                socket.open_tcp(&mut self.bus, port)?;
                socket.connect(&mut self.bus, remote)?;
                handle.state = State::Connecting(socket);
                Err(nb::Error::WouldBlock)
            }
            State::Connecting(socket) => match socket.status(&mut self.bus)? {
                Status::ESTABLISHED | Status::CLOSE_WAIT => {
                    socket.clear_interrupts(&mut self.bus, SocketInterrupts::CON)?;
                    handle.state = State::Connected(socket);
                    Ok(())
                }
                Status::CLOSED => {
                    let interrupts = socket.interrupts(&mut self.bus)?;
                    socket.clear_interrupts(&mut self.bus, SocketInterrupts::ALL)?;
                    handle.state = State::Idle(socket);
                    Err(nb::Error::Other(if interrupts.contains(SocketInterrupts::TIMEOUT) {
                        Error::Timeout
                    } else {
                        Error::ConnectionRefused
                    }))
                }
                _ => Err(nb::Error::WouldBlock),
            },
            State::Connected(_) | State::Listener { .. } => Err(nb::Error::Other(Error::InvalidState)),
        }
    }

    fn send(&mut self, handle: &mut TcpSocket, buffer: &[u8]) -> nb::Result<usize, Self::Error> {
        let socket = handle.stream()?;
        if buffer.is_empty() {
            return Ok(0);
        }
        match socket.status(&mut self.bus)? {
            Status::ESTABLISHED | Status::CLOSE_WAIT => handle.state = State::Connected(socket),
            s if s.is_connecting() => return Err(nb::Error::WouldBlock),
            _ => return Err(nb::Error::Other(self.closed_error(socket)?)),
        }
        if !self.send_ready(socket)? {
            return Err(nb::Error::WouldBlock);
        }
        let memory = self.pool.memory(socket);
        let queued = socket.write_tx(&mut self.bus, &memory, buffer)?;
        if queued == 0 {
            return Err(nb::Error::WouldBlock);
        }
        socket.command(&mut self.bus, Command::Send)?;
        self.pool.set_send_pending(socket, true);
        Ok(queued)
    }

    fn receive(&mut self, handle: &mut TcpSocket, buffer: &mut [u8]) -> nb::Result<usize, Self::Error> {
        let socket = handle.stream()?;
        if buffer.is_empty() {
            return Ok(0);
        }
        // Status first, then the byte count: see the module docs.
        let status = socket.status(&mut self.bus)?;
        match status {
            Status::ESTABLISHED | Status::CLOSE_WAIT => handle.state = State::Connected(socket),
            s if s.is_connecting() => return Err(nb::Error::WouldBlock),
            Status::CLOSED => return Err(nb::Error::Other(self.closed_error(socket)?)),
            _ => {}
        }
        let memory = self.pool.memory(socket);
        let available = socket.rx_available(&mut self.bus, &memory)?;
        if available == 0 {
            return Err(match status {
                Status::ESTABLISHED => nb::Error::WouldBlock,
                _ => nb::Error::Other(Error::Closed),
            });
        }
        Ok(socket.read_rx(&mut self.bus, &memory, available, buffer)?)
    }

    fn close(&mut self, handle: TcpSocket) -> Result<(), Self::Error> {
        let Some(socket) = handle.hardware_socket() else {
            return Ok(());
        };
        if let State::Connected(_) = handle.state {
            // See the module docs: the last SEND, then FIN, then the peer's FIN or TIMEOUT.
            let deadline = self.bus.deadline(CLOSE_MS);
            if matches!(self.finish_send(socket, deadline), Ok(true)) {
                let _ = socket.command(&mut self.bus, Command::Discon);
                let _ = socket.wait_until(&mut self.bus, deadline, |s| s == Status::CLOSED);
            }
        }
        // The handle is gone whatever the chip says: never leak the hardware socket.
        self.pool.release(socket);
        socket.close_now(&mut self.bus)
    }
}

impl<SPI: SpiDevice, C: Clock> TcpFullStack for W5100<SPI, C> {
    fn bind(&mut self, handle: &mut TcpSocket, local_port: u16) -> Result<(), Self::Error> {
        if local_port == 0 {
            return Err(Error::InvalidPort);
        }
        match handle.state {
            State::Idle(socket) | State::Bound { socket, .. } => {
                handle.state = State::Bound { socket, port: local_port };
                Ok(())
            }
            _ => Err(Error::InvalidState),
        }
    }

    fn listen(&mut self, handle: &mut TcpSocket) -> Result<(), Self::Error> {
        match handle.state {
            State::Bound { socket, port } => {
                // A failed listen gives the hardware socket back at once (the handle turns
                // into a listener without one, which `accept` re-arms): a caller that
                // retries with fresh handles and drops the failed ones leaks nothing.
                let armed = self.arm(socket, port);
                if armed.is_err() {
                    self.pool.release(socket);
                }
                handle.state = State::Listener { port, armed: armed.is_ok().then_some(socket) };
                armed
            }
            State::Listener { .. } => Ok(()),
            _ => Err(Error::InvalidState),
        }
    }

    fn accept(&mut self, handle: &mut TcpSocket) -> nb::Result<(TcpSocket, SocketAddr), Self::Error> {
        let State::Listener { port, armed } = handle.state else {
            return Err(nb::Error::Other(Error::InvalidState));
        };
        let socket = match armed {
            Some(socket) => socket,
            None => match self.arm_free(port)? {
                Some(socket) => {
                    handle.state = State::Listener { port, armed: Some(socket) };
                    socket
                }
                None => return Err(nb::Error::WouldBlock),
            },
        };
        match socket.status(&mut self.bus)? {
            Status::ESTABLISHED | Status::CLOSE_WAIT => {
                let remote = socket.remote(&mut self.bus)?;
                socket.clear_interrupts(&mut self.bus, SocketInterrupts::CON)?;
                // The connection keeps its slot; the listener moves on. A failed re-arm
                // must not lose the connection: accept retries the arming next time.
                let rearmed = self.arm_free(port).ok().flatten();
                handle.state = State::Listener { port, armed: rearmed };
                Ok((TcpSocket::new(State::Connected(socket)), SocketAddr::V4(remote)))
            }
            Status::CLOSED | Status::INIT => {
                if let Err(e) = self.arm(socket, port) {
                    self.pool.release(socket);
                    handle.state = State::Listener { port, armed: None };
                    return Err(nb::Error::Other(e));
                }
                Err(nb::Error::WouldBlock)
            }
            // LISTEN, SYNRECV, or a closing state on its way to CLOSED.
            _ => Err(nb::Error::WouldBlock),
        }
    }
}
