//! The chip as a whole: reset, the "is anyone there" check, network configuration, and
//! applying the socket memory split (computed in [`memory`](crate::memory)).

use core::net::Ipv4Addr;

use embedded_hal::spi::SpiDevice;

use crate::bus::Bus;
use crate::memory::SocketSizes;
use crate::pool::SocketPool;
use crate::regs::{self, mr};
use crate::{Clock, Error};

/// How long the chip may take to clear MR's reset bit, in milliseconds (the Arduino
/// Ethernet library allows 20).
const RESET_MS: u16 = 20;

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

/// A W5100 on an SPI bus; after [`init`](Self::init) it is an embedded-nal TCP stack.
///
/// `C` is the caller's millisecond [`Clock`]; a function, `fn() -> u64`, by default.
#[derive(Debug)]
// `repr(C)` pins the field order below. The firmware is within a few hundred bytes of its
// flash budget, and the order rustc picks on its own (the pool first) costs it 64 bytes of
// Cortex-M0 code; of the orders measured with `cargo xtask size`, this one was the smallest.
#[repr(C)]
pub struct W5100<SPI, C = fn() -> u64> {
    pub(crate) bus: Bus<SPI, C>,
    pub(crate) pool: SocketPool,
    pub(crate) initialized: bool,
    pub(crate) next_port: u16,
}

impl<SPI: SpiDevice, C: Clock> W5100<SPI, C> {
    /// Wrap the chip's SPI device and a millisecond clock; nothing is sent until
    /// [`init`](Self::init).
    ///
    /// The device must toggle chip select per transaction: the W5100 needs CS to rise after
    /// every 4-byte frame. SPI mode 0, up to 14 MHz (8 MHz on an Arduino Zero with a W5100
    /// shield, which does not work faster there).
    ///
    /// Every wait on the chip ends at a deadline on `clock` (see [`Clock`]): the reset
    /// 20 ms, a socket command and the state change it causes 100 ms, a graceful
    /// [`close`](embedded_nal::TcpClientStack::close) 1 s (as the Arduino Ethernet library).
    pub fn new(spi: SPI, clock: C) -> Self {
        Self {
            bus: Bus::new(spi, clock),
            pool: SocketPool::new(regs::MSR_RESET, regs::MSR_RESET),
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
        self.pool.release_all();
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
        self.pool.set_layout(sizes.rmsr(), sizes.tmsr());
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

    /// Give the SPI device and the clock back.
    pub fn release(self) -> (SPI, C) {
        self.bus.release()
    }

    /// Software reset through MR, waiting (until a deadline) for the chip to clear the bit.
    fn reset(&mut self) -> Result<(), Error<SPI::Error>> {
        self.bus.write(regs::MR, mr::RST)?;
        let deadline = self.bus.deadline(RESET_MS);
        loop {
            if self.bus.read(regs::MR)? & mr::RST == 0 {
                return Ok(());
            }
            if self.bus.expired(deadline) {
                return Err(Error::NotAnswering);
            }
        }
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
        let mut w5100 = W5100::new(NoSpi, || 0);
        w5100.next_port = u16::MAX;
        assert_eq!(w5100.ephemeral_port(), u16::MAX);
        assert_eq!(w5100.ephemeral_port(), EPHEMERAL_PORT_START);
    }
}
