//! Hardware sockets: a small `Copy` handle, command issue, status and the ring buffers.
//!
//! The state lives in the chip; a [`Socket`] is only the index of one of its four register
//! blocks. Every wait polls until a deadline on the caller's clock and ends in an error
//! instead of hanging on a chip that stopped answering.

use core::net::{Ipv4Addr, SocketAddrV4};

use embedded_hal::spi::SpiDevice;

use crate::bus::Bus;
use crate::memory::SocketMemory;
use crate::regs::{self, sn, sn_mr, Command, SocketInterrupts, Status};
use crate::{Clock, Error};

/// How long the chip may take to accept a socket command (clear Sn_CR) and make the state
/// change it causes, in milliseconds.
const COMMAND_MS: u16 = 100;

/// One of the chip's four hardware sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Socket(u8);

impl Socket {
    /// Socket `index` (0..=3), if the chip has it.
    pub const fn new(index: u8) -> Option<Self> {
        if index < regs::SOCKETS {
            Some(Self(index))
        } else {
            None
        }
    }

    /// The socket's number, 0..=3.
    pub const fn index(self) -> u8 {
        self.0
    }

    /// All four sockets, in allocation order.
    pub(crate) const ALL: [Socket; regs::SOCKETS as usize] = [Socket(0), Socket(1), Socket(2), Socket(3)];

    /// Address of this socket's register at `offset` (one of [`regs::sn`]).
    pub(crate) const fn reg(self, offset: u16) -> u16 {
        regs::socket_register(self.0, offset)
    }

    /// Issue `command` and wait for the chip to accept it (clear Sn_CR); returns the
    /// deadline for the state change that follows.
    pub(crate) fn command<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
        command: Command,
    ) -> Result<u64, Error<SPI::Error>> {
        bus.write(self.reg(sn::CR), command.code())?;
        let deadline = bus.deadline(COMMAND_MS);
        while bus.read(self.reg(sn::CR))? != 0 {
            if bus.expired(deadline) {
                return Err(Error::CommandTimeout);
            }
        }
        Ok(deadline)
    }

    /// Issue `command`, then wait for the state change it causes: until `done` holds for
    /// Sn_SR or the deadline passes. Returns the last Sn_SR read.
    ///
    /// The chip changes Sn_SR some time after it clears Sn_CR: a status read right after
    /// the command may still show the state before it.
    fn command_until<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
        command: Command,
        done: fn(Status) -> bool,
    ) -> Result<Status, Error<SPI::Error>> {
        let deadline = self.command(bus, command)?;
        self.wait_until(bus, deadline, done)
    }

    /// Poll Sn_SR until `done` holds for it or `deadline` passes; returns the last read.
    pub(crate) fn wait_until<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
        deadline: u64,
        done: fn(Status) -> bool,
    ) -> Result<Status, Error<SPI::Error>> {
        loop {
            let status = self.status(bus)?;
            if done(status) || bus.expired(deadline) {
                return Ok(status);
            }
        }
    }

    /// Close the socket at once (CLOSE), wait for CLOSED and clear its interrupt flags.
    pub(crate) fn close_now<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
    ) -> Result<(), Error<SPI::Error>> {
        let status = self.command_until(bus, Command::Close, |s| s == Status::CLOSED)?;
        self.clear_interrupts(bus, SocketInterrupts::ALL)?;
        expect(status, Status::CLOSED)
    }

    /// The socket's current state.
    pub(crate) fn status<SPI: SpiDevice, C>(
        self,
        bus: &mut Bus<SPI, C>,
    ) -> Result<Status, Error<SPI::Error>> {
        Ok(Status::from_code(bus.read(self.reg(sn::SR))?))
    }

    /// The socket's interrupt flags (Sn_IR).
    pub(crate) fn interrupts<SPI: SpiDevice, C>(
        self,
        bus: &mut Bus<SPI, C>,
    ) -> Result<SocketInterrupts, Error<SPI::Error>> {
        Ok(SocketInterrupts::from_bits(bus.read(self.reg(sn::IR))?))
    }

    /// Clear the interrupt flags in `flags` (the chip clears a bit written as 1).
    pub(crate) fn clear_interrupts<SPI: SpiDevice, C>(
        self,
        bus: &mut Bus<SPI, C>,
        flags: SocketInterrupts,
    ) -> Result<(), Error<SPI::Error>> {
        bus.write(self.reg(sn::IR), flags.bits())
    }

    /// Close whatever the socket was doing, then open it in TCP mode on `port` (→ INIT).
    ///
    /// TCP mode with no delayed ACK (ND), as the Arduino Ethernet library sets it: without
    /// it the chip holds every ACK back for up to RTR (200 ms), which throttles a peer
    /// that waits for ACKs.
    pub(crate) fn open_tcp<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
        port: u16,
    ) -> Result<(), Error<SPI::Error>> {
        self.close_now(bus)?;
        bus.write(self.reg(sn::MR), sn_mr::TCP | sn_mr::ND)?;
        bus.write_u16(self.reg(sn::PORT), port)?;
        let status = self.command_until(bus, Command::Open, |s| s != Status::CLOSED)?;
        expect(status, Status::INIT)
    }

    /// Start listening (INIT → LISTEN).
    ///
    /// A client may arrive between the command and the status read, so a handshake in
    /// progress or done counts as success too.
    pub(crate) fn listen<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
    ) -> Result<(), Error<SPI::Error>> {
        match self.command_until(bus, Command::Listen, |s| s != Status::INIT)? {
            Status::LISTEN | Status::SYN_RECV | Status::ESTABLISHED | Status::CLOSE_WAIT => Ok(()),
            other => Err(Error::UnexpectedStatus(other.code())),
        }
    }

    /// Start connecting to `remote` (INIT → SYNSENT); completion is seen in the status.
    pub(crate) fn connect<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
        remote: SocketAddrV4,
    ) -> Result<(), Error<SPI::Error>> {
        bus.write_bytes(self.reg(sn::DIPR), &remote.ip().octets())?;
        bus.write_u16(self.reg(sn::DPORT), remote.port())?;
        self.command(bus, Command::Connect).map(drop)
    }

    /// The peer's address (valid once a connection is established).
    pub(crate) fn remote<SPI: SpiDevice, C>(
        self,
        bus: &mut Bus<SPI, C>,
    ) -> Result<SocketAddrV4, Error<SPI::Error>> {
        let mut ip = [0; 4];
        bus.read_bytes(self.reg(sn::DIPR), &mut ip)?;
        let port = bus.read_u16(self.reg(sn::DPORT))?;
        Ok(SocketAddrV4::new(Ipv4Addr::from(ip), port))
    }

    /// Copy as much of `data` as fits into the TX ring and advance Sn_TX_WR.
    ///
    /// Returns the number of bytes queued (0 when the ring is full). The caller issues SEND.
    pub(crate) fn write_tx<SPI: SpiDevice, C>(
        self,
        bus: &mut Bus<SPI, C>,
        memory: &SocketMemory,
        data: &[u8],
    ) -> Result<usize, Error<SPI::Error>> {
        let free = bus.read_u16_stable(self.reg(sn::TX_FSR))?.min(memory.tx_size);
        let len = data.len().min(usize::from(free));
        let Some(data) = data.get(..len) else {
            return Ok(0);
        };
        if data.is_empty() {
            return Ok(0);
        }
        let wr = bus.read_u16(self.reg(sn::TX_WR))?;
        ring_write(bus, memory.tx_base, memory.tx_size, wr, data)?;
        // `len` fits in u16: it is at most `free`.
        let advanced = wr.wrapping_add(u16::try_from(len).unwrap_or(0));
        bus.write_u16(self.reg(sn::TX_WR), advanced)?;
        Ok(len)
    }

    /// Bytes waiting in the RX ring.
    pub(crate) fn rx_available<SPI: SpiDevice, C>(
        self,
        bus: &mut Bus<SPI, C>,
        memory: &SocketMemory,
    ) -> Result<u16, Error<SPI::Error>> {
        Ok(bus.read_u16_stable(self.reg(sn::RX_RSR))?.min(memory.rx_size))
    }

    /// Copy up to `available` received bytes into `buf`, advance Sn_RX_RD and issue RECV.
    pub(crate) fn read_rx<SPI: SpiDevice, C: Clock>(
        self,
        bus: &mut Bus<SPI, C>,
        memory: &SocketMemory,
        available: u16,
        buf: &mut [u8],
    ) -> Result<usize, Error<SPI::Error>> {
        let len = buf.len().min(usize::from(available));
        let Some(buf) = buf.get_mut(..len) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let rd = bus.read_u16(self.reg(sn::RX_RD))?;
        ring_read(bus, memory.rx_base, memory.rx_size, rd, buf)?;
        let advanced = rd.wrapping_add(u16::try_from(len).unwrap_or(0));
        bus.write_u16(self.reg(sn::RX_RD), advanced)?;
        self.command(bus, Command::Recv)?;
        Ok(len)
    }
}

/// [`Error::UnexpectedStatus`] unless `status` is `want`.
fn expect<E>(status: Status, want: Status) -> Result<(), Error<E>> {
    if status == want {
        Ok(())
    } else {
        Err(Error::UnexpectedStatus(status.code()))
    }
}

/// Split a ring access of `len` bytes at pointer `ptr` into the part before the end of the
/// ring and the part that wraps to its start: `(offset, first_len)`.
fn ring_split(size: u16, ptr: u16, len: usize) -> (u16, usize) {
    let mask = size.wrapping_sub(1);
    let offset = ptr & mask;
    let to_end = usize::from(size.saturating_sub(offset));
    (offset, len.min(to_end))
}

/// Write `data` into a ring of `size` bytes (a power of two) at `base`, starting at `ptr`.
fn ring_write<SPI: SpiDevice, C>(
    bus: &mut Bus<SPI, C>,
    base: u16,
    size: u16,
    ptr: u16,
    data: &[u8],
) -> Result<(), Error<SPI::Error>> {
    let (offset, first) = ring_split(size, ptr, data.len());
    let (head, tail) = data.split_at_checked(first).unwrap_or((data, &[]));
    bus.write_bytes(base.wrapping_add(offset), head)?;
    bus.write_bytes(base, tail)
}

/// Read `buf.len()` bytes from a ring of `size` bytes (a power of two) at `base`, from `ptr`.
fn ring_read<SPI: SpiDevice, C>(
    bus: &mut Bus<SPI, C>,
    base: u16,
    size: u16,
    ptr: u16,
    buf: &mut [u8],
) -> Result<(), Error<SPI::Error>> {
    let (offset, first) = ring_split(size, ptr, buf.len());
    let (head, tail) = match buf.split_at_mut_checked(first) {
        Some(parts) => parts,
        None => (buf, &mut [][..]),
    };
    bus.read_bytes(base.wrapping_add(offset), head)?;
    bus.read_bytes(base, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_indices_are_checked() {
        assert_eq!(Socket::new(3).map(Socket::index), Some(3));
        assert_eq!(Socket::new(4), None);
        assert_eq!(Socket::ALL[2].reg(sn::TX_WR), 0x0624);
    }

    #[test]
    fn ring_split_wraps_at_the_end() {
        assert_eq!(ring_split(2048, 0, 100), (0, 100));
        assert_eq!(ring_split(2048, 2000, 100), (2000, 48));
        assert_eq!(ring_split(2048, 2048 + 5, 10), (5, 10));
        assert_eq!(ring_split(2048, u16::MAX, 2), (2047, 1));
        assert_eq!(ring_split(1024, 1023, 1024), (1023, 1));
    }
}
