//! The chip as a whole: reset, the "is anyone there" check, network configuration and the
//! split of the 8 KiB TX and 8 KiB RX memories across the four sockets.

use core::net::Ipv4Addr;

use embedded_hal::spi::SpiDevice;

use crate::bus::Bus;
use crate::regs::{self, mr};
use crate::socket::Socket;
use crate::Error;

/// How many times MR is polled for the reset bit to clear.
const RESET_POLLS: usize = 10_000;

/// First port handed to client sockets that were not bound (the IANA dynamic range).
pub(crate) const EPHEMERAL_PORT_START: u16 = 49_152;

/// Addresses the chip answers to and routes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// MAC address (SHAR).
    pub mac: [u8; 6],
    /// The chip's IPv4 address (SIPR).
    pub ip: Ipv4Addr,
    /// Subnet mask (SUBR).
    pub subnet: Ipv4Addr,
    /// Default gateway (GAR).
    pub gateway: Ipv4Addr,
}

impl Default for NetConfig {
    /// A locally administered MAC and the Arduino examples' 192.168.1.177/24 via 192.168.1.1.
    fn default() -> Self {
        Self {
            mac: [0x02, 0x00, 0x00, 0x57, 0x51, 0x00],
            ip: Ipv4Addr::new(192, 168, 1, 177),
            subnet: Ipv4Addr::new(255, 255, 255, 0),
            gateway: Ipv4Addr::new(192, 168, 1, 1),
        }
    }
}

/// Size of one socket's TX or RX buffer: the two-bit codes of RMSR/TMSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BufSize {
    /// 1 KiB.
    K1,
    /// 2 KiB (the reset default).
    #[default]
    K2,
    /// 4 KiB.
    K4,
    /// 8 KiB: the whole memory of that direction.
    K8,
}

impl BufSize {
    /// Size in bytes.
    pub const fn bytes(self) -> u16 {
        match self {
            Self::K1 => 1024,
            Self::K2 => 2048,
            Self::K4 => 4096,
            Self::K8 => 8192,
        }
    }

    /// The two-bit code in RMSR/TMSR.
    pub const fn code(self) -> u8 {
        match self {
            Self::K1 => 0,
            Self::K2 => 1,
            Self::K4 => 2,
            Self::K8 => 3,
        }
    }
}

/// How the 8 KiB RX and 8 KiB TX memories are split across sockets 0..=3.
///
/// Memory is handed out in socket order, as the chip does; from the first socket whose
/// buffer would run past the 8 KiB on, sockets get none and the driver never allocates them. The default, 2 KiB each,
/// gives all four sockets memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SocketSizes {
    /// RX buffer size of each socket.
    pub rx: [BufSize; 4],
    /// TX buffer size of each socket.
    pub tx: [BufSize; 4],
}

impl SocketSizes {
    /// The same RX and TX size for every socket.
    pub const fn uniform(size: BufSize) -> Self {
        Self { rx: [size; 4], tx: [size; 4] }
    }

    /// The RMSR value.
    pub fn rmsr(&self) -> u8 {
        msr(&self.rx)
    }

    /// The TMSR value.
    pub fn tmsr(&self) -> u8 {
        msr(&self.tx)
    }

    /// Where each socket's buffers live.
    pub(crate) fn layout(&self) -> [SocketMemory; 4] {
        let tx = split(&self.tx, regs::TX_BASE);
        let rx = split(&self.rx, regs::RX_BASE);
        let mut out = [SocketMemory::NONE; 4];
        for ((slot, (tx_base, tx_size)), (rx_base, rx_size)) in out.iter_mut().zip(tx).zip(rx) {
            *slot = SocketMemory { tx_base, tx_size, rx_base, rx_size };
        }
        out
    }
}

/// Pack four two-bit size codes, socket 0 in the low bits.
fn msr(sizes: &[BufSize; 4]) -> u8 {
    sizes.iter().enumerate().fold(0, |acc, (n, size)| acc | (size.code() << (2 * n)))
}

/// Base and size of each socket's buffer in one 8 KiB memory starting at `base`.
///
/// Allocation stops at the first socket that does not fit: it and all later sockets get none.
fn split(sizes: &[BufSize; 4], base: u16) -> [(u16, u16); 4] {
    let mut out = [(base, 0); 4];
    let mut used: u16 = 0;
    for (slot, size) in out.iter_mut().zip(sizes) {
        let end = used.saturating_add(size.bytes());
        if end > regs::BUFFER_MEMORY {
            *slot = (base.wrapping_add(used), 0);
            used = regs::BUFFER_MEMORY;
        } else {
            *slot = (base.wrapping_add(used), size.bytes());
            used = end;
        }
    }
    out
}

/// One socket's TX and RX ring: base address and size (a power of two, 0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SocketMemory {
    pub(crate) tx_base: u16,
    pub(crate) tx_size: u16,
    pub(crate) rx_base: u16,
    pub(crate) rx_size: u16,
}

impl SocketMemory {
    const NONE: Self = Self { tx_base: regs::TX_BASE, tx_size: 0, rx_base: regs::RX_BASE, rx_size: 0 };

    /// Whether the socket has both a TX and an RX buffer.
    pub(crate) const fn usable(&self) -> bool {
        self.tx_size > 0 && self.rx_size > 0
    }
}

/// Driver-side bookkeeping for one hardware socket (the rest of its state is in the chip).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    /// A [`TcpSocket`](crate::TcpSocket) handle or a listener owns the socket.
    pub(crate) taken: bool,
    /// A SEND was issued and its SEND_OK (or TIMEOUT) has not been seen yet.
    pub(crate) send_pending: bool,
}

/// A W5100 on an SPI bus; after [`init`](Self::init) it is an embedded-nal TCP stack.
#[derive(Debug)]
pub struct W5100<SPI> {
    pub(crate) bus: Bus<SPI>,
    pub(crate) memory: [SocketMemory; 4],
    pub(crate) slots: [Slot; 4],
    pub(crate) initialized: bool,
    pub(crate) next_port: u16,
}

impl<SPI: SpiDevice> W5100<SPI> {
    /// Wrap the chip's SPI device; nothing is sent until [`init`](Self::init).
    ///
    /// The device must toggle chip select per transaction: the W5100 needs CS to rise after
    /// every 4-byte frame. SPI mode 0, up to 14 MHz.
    pub fn new(spi: SPI) -> Self {
        Self {
            bus: Bus::new(spi),
            memory: SocketSizes::default().layout(),
            slots: [Slot::default(); 4],
            initialized: false,
            next_port: EPHEMERAL_PORT_START,
        }
    }

    /// Reset the chip, check that it answers, and apply the network and memory settings.
    ///
    /// Calling it again resets the chip: every socket handle from before becomes stale.
    /// Fails with [`Error::NotAnswering`] when the reset bit never clears, a reset default
    /// (RTR = 0x07D0) does not read back, or a written setting does not read back.
    pub fn init(&mut self, net: &NetConfig, sizes: &SocketSizes) -> Result<(), Error<SPI::Error>> {
        self.initialized = false;
        self.slots = [Slot::default(); 4];
        self.reset()?;
        if self.bus.read_u16(regs::RTR)? != regs::RTR_RESET {
            return Err(Error::NotAnswering);
        }
        // The driver polls; no interrupt pin.
        self.bus.write(regs::IMR, 0)?;
        self.bus.write_bytes(regs::GAR, &net.gateway.octets())?;
        self.bus.write_bytes(regs::SUBR, &net.subnet.octets())?;
        self.bus.write_bytes(regs::SHAR, &net.mac)?;
        self.bus.write_bytes(regs::SIPR, &net.ip.octets())?;
        self.bus.write(regs::RMSR, sizes.rmsr())?;
        self.bus.write(regs::TMSR, sizes.tmsr())?;
        if self.read_net_config()? != *net
            || self.bus.read(regs::RMSR)? != sizes.rmsr()
            || self.bus.read(regs::TMSR)? != sizes.tmsr()
        {
            return Err(Error::NotAnswering);
        }
        self.memory = sizes.layout();
        self.initialized = true;
        Ok(())
    }

    /// Read the network settings back from the chip.
    pub fn read_net_config(&mut self) -> Result<NetConfig, Error<SPI::Error>> {
        let mut mac = [0; 6];
        let mut ip = [0; 4];
        let mut subnet = [0; 4];
        let mut gateway = [0; 4];
        self.bus.read_bytes(regs::SHAR, &mut mac)?;
        self.bus.read_bytes(regs::SIPR, &mut ip)?;
        self.bus.read_bytes(regs::SUBR, &mut subnet)?;
        self.bus.read_bytes(regs::GAR, &mut gateway)?;
        Ok(NetConfig { mac, ip: ip.into(), subnet: subnet.into(), gateway: gateway.into() })
    }

    /// The SPI device, e.g. to reach the chip model in tests.
    pub fn spi_mut(&mut self) -> &mut SPI {
        self.bus.spi_mut()
    }

    /// Give the SPI device back.
    pub fn release(self) -> SPI {
        self.bus.release()
    }

    /// Software reset through MR, waiting (bounded) for the chip to clear the bit.
    fn reset(&mut self) -> Result<(), Error<SPI::Error>> {
        self.bus.write(regs::MR, mr::RST)?;
        for _ in 0..RESET_POLLS {
            if self.bus.read(regs::MR)? & mr::RST == 0 {
                return Ok(());
            }
        }
        Err(Error::NotAnswering)
    }

    /// A free hardware socket that has buffer memory, now marked taken.
    pub(crate) fn allocate(&mut self) -> Option<Socket> {
        for ((slot, memory), socket) in self.slots.iter_mut().zip(&self.memory).zip(Socket::ALL) {
            if !slot.taken && memory.usable() {
                *slot = Slot { taken: true, send_pending: false };
                return Some(socket);
            }
        }
        None
    }

    /// Give a hardware socket back to the pool.
    pub(crate) fn free(&mut self, socket: Socket) {
        if let Some(slot) = self.slots.get_mut(usize::from(socket.index())) {
            *slot = Slot::default();
        }
    }

    /// The bookkeeping of `socket`.
    pub(crate) fn slot_mut(&mut self, socket: Socket) -> Option<&mut Slot> {
        self.slots.get_mut(usize::from(socket.index()))
    }

    /// The buffer layout of `socket`.
    pub(crate) fn memory(&self, socket: Socket) -> SocketMemory {
        self.memory.get(usize::from(socket.index())).copied().unwrap_or(SocketMemory::NONE)
    }

    /// A local port for a client socket that was not bound.
    pub(crate) fn ephemeral_port(&mut self) -> u16 {
        let port = self.next_port;
        self.next_port = port.checked_add(1).unwrap_or(EPHEMERAL_PORT_START);
        port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_split_is_two_kib_each() {
        let sizes = SocketSizes::default();
        assert_eq!(sizes.rmsr(), regs::MSR_RESET);
        assert_eq!(sizes.tmsr(), regs::MSR_RESET);
        let layout = sizes.layout();
        for (n, memory) in layout.iter().enumerate() {
            let n = u16::try_from(n).unwrap();
            assert_eq!(memory.tx_base, 0x4000 + n * 0x800);
            assert_eq!(memory.rx_base, 0x6000 + n * 0x800);
            assert_eq!((memory.tx_size, memory.rx_size), (2048, 2048));
        }
    }

    #[test]
    fn uneven_split_packs_in_socket_order() {
        let sizes = SocketSizes {
            rx: [BufSize::K4, BufSize::K2, BufSize::K1, BufSize::K1],
            tx: [BufSize::K8, BufSize::K1, BufSize::K1, BufSize::K1],
        };
        assert_eq!(sizes.rmsr(), 0b00_00_01_10);
        assert_eq!(sizes.tmsr(), 0b00_00_00_11);
        let layout = sizes.layout();
        assert_eq!(
            layout.map(|m| (m.rx_base, m.rx_size)),
            [(0x6000, 4096), (0x7000, 2048), (0x7800, 1024), (0x7C00, 1024)]
        );
        // Socket 0 takes all TX memory: the others get none and are unusable.
        assert_eq!(layout.map(|m| m.tx_size), [8192, 0, 0, 0]);
        assert_eq!(layout.map(|m| m.usable()), [true, false, false, false]);
    }

    #[test]
    fn allocation_stops_at_the_first_socket_that_does_not_fit() {
        let sizes =
            SocketSizes { rx: [BufSize::K4, BufSize::K8, BufSize::K1, BufSize::K1], tx: [BufSize::K2; 4] };
        let layout = sizes.layout();
        assert_eq!(layout.map(|m| m.rx_size), [4096, 0, 0, 0]);
        assert_eq!(layout.map(|m| m.usable()), [true, false, false, false]);
    }

    #[test]
    fn ephemeral_ports_wrap_into_the_dynamic_range() {
        struct NoSpi;
        impl embedded_hal::spi::ErrorType for NoSpi {
            type Error = core::convert::Infallible;
        }
        impl SpiDevice for NoSpi {
            fn transaction(
                &mut self,
                _: &mut [embedded_hal::spi::Operation<'_, u8>],
            ) -> Result<(), Self::Error> {
                Ok(())
            }
        }
        let mut w5100 = W5100::new(NoSpi);
        w5100.next_port = u16::MAX;
        assert_eq!(w5100.ephemeral_port(), u16::MAX);
        assert_eq!(w5100.ephemeral_port(), EPHEMERAL_PORT_START);
    }
}
