//! SPI framing: one 4-byte frame per byte of chip memory.
//!
//! Write: `0xF0 addr_hi addr_lo data`. Read: `0x0F addr_hi addr_lo 0x00`, the data comes back
//! in the fourth byte. The W5100 needs chip select to rise after every frame (it has no burst
//! mode on SPI), so each frame is its own [`SpiDevice`] transaction.

use embedded_hal::spi::SpiDevice;

use crate::{Clock, Error};

/// Opcode of a write frame.
pub(crate) const WRITE: u8 = 0xF0;
/// Opcode of a read frame.
pub(crate) const READ: u8 = 0x0F;

/// How many times a 16-bit counter is re-read while waiting for two equal readings.
const STABLE_READS: usize = 8;

/// The SPI device with the W5100's framing on top, and the caller's clock that every wait
/// on the chip is measured with.
#[derive(Debug)]
pub(crate) struct Bus<SPI, C> {
    spi: SPI,
    clock: C,
}

impl<SPI, C: Clock> Bus<SPI, C> {
    /// The time `ms` milliseconds from now, for a wait on the chip.
    pub(crate) fn deadline(&mut self, ms: u16) -> u64 {
        // A millisecond count reaches 2^64 in 584 million years: no overflow to guard.
        self.clock.now_ms().wrapping_add(u64::from(ms))
    }

    /// Whether `deadline` has passed.
    pub(crate) fn expired(&mut self, deadline: u64) -> bool {
        self.clock.now_ms() >= deadline
    }
}

impl<SPI: SpiDevice, C> Bus<SPI, C> {
    pub(crate) const fn new(spi: SPI, clock: C) -> Self {
        Self { spi, clock }
    }

    pub(crate) fn spi_mut(&mut self) -> &mut SPI {
        &mut self.spi
    }

    pub(crate) fn release(self) -> (SPI, C) {
        (self.spi, self.clock)
    }

    /// Write one byte.
    pub(crate) fn write(&mut self, addr: u16, data: u8) -> Result<(), Error<SPI::Error>> {
        let [hi, lo] = addr.to_be_bytes();
        self.spi.write(&[WRITE, hi, lo, data]).map_err(Error::Spi)
    }

    /// Read one byte.
    pub(crate) fn read(&mut self, addr: u16) -> Result<u8, Error<SPI::Error>> {
        let [hi, lo] = addr.to_be_bytes();
        let mut frame = [READ, hi, lo, 0];
        self.spi.transfer_in_place(&mut frame).map_err(Error::Spi)?;
        Ok(frame[3])
    }

    /// Write a big-endian 16-bit register.
    pub(crate) fn write_u16(&mut self, addr: u16, value: u16) -> Result<(), Error<SPI::Error>> {
        self.write_bytes(addr, &value.to_be_bytes())
    }

    /// Read a big-endian 16-bit register once (for registers only the host changes).
    pub(crate) fn read_u16(&mut self, addr: u16) -> Result<u16, Error<SPI::Error>> {
        let mut bytes = [0; 2];
        self.read_bytes(addr, &mut bytes)?;
        Ok(u16::from_be_bytes(bytes))
    }

    /// Read a 16-bit register the chip updates on its own (Sn_TX_FSR, Sn_RX_RSR).
    ///
    /// The datasheet asks to read until two readings agree, because the two bytes may be
    /// taken either side of an update. If they never agree within the budget, the smaller
    /// of the last two is returned: a torn read of a counter that only grows behind our back
    /// is never larger than the true value, so the caller moves no byte that is not there.
    pub(crate) fn read_u16_stable(&mut self, addr: u16) -> Result<u16, Error<SPI::Error>> {
        let mut last = self.read_u16(addr)?;
        for _ in 0..STABLE_READS {
            let next = self.read_u16(addr)?;
            if next == last {
                return Ok(next);
            }
            last = next;
        }
        let next = self.read_u16(addr)?;
        Ok(next.min(last))
    }

    /// Write consecutive bytes starting at `addr`.
    pub(crate) fn write_bytes(&mut self, addr: u16, data: &[u8]) -> Result<(), Error<SPI::Error>> {
        let mut at = addr;
        for &byte in data {
            self.write(at, byte)?;
            at = at.wrapping_add(1);
        }
        Ok(())
    }

    /// Read consecutive bytes starting at `addr`.
    pub(crate) fn read_bytes(&mut self, addr: u16, data: &mut [u8]) -> Result<(), Error<SPI::Error>> {
        let mut at = addr;
        for byte in data {
            *byte = self.read(at)?;
            at = at.wrapping_add(1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::convert::Infallible;
    use embedded_hal::spi::{ErrorType, Operation};

    /// Records frames and answers reads from a script.
    struct Script {
        frames: Vec<[u8; 4]>,
        answers: Vec<u8>,
    }

    impl ErrorType for Script {
        type Error = Infallible;
    }

    impl SpiDevice for Script {
        fn transaction(&mut self, ops: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
            for op in ops {
                match op {
                    Operation::Write(bytes) => {
                        self.frames.push([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    }
                    Operation::TransferInPlace(bytes) => {
                        self.frames.push([bytes[0], bytes[1], bytes[2], bytes[3]]);
                        bytes[3] = if self.answers.is_empty() { 0 } else { self.answers.remove(0) };
                    }
                    _ => unreachable!("the bus only writes and transfers in place"),
                }
            }
            Ok(())
        }
    }

    fn bus(answers: &[u8]) -> Bus<Script, fn() -> u64> {
        Bus::new(Script { frames: Vec::new(), answers: answers.to_vec() }, || 0)
    }

    #[test]
    fn frames_are_byte_exact() {
        let mut bus = bus(&[0xAB]);
        bus.write(0x0401, 0x20).unwrap();
        assert_eq!(bus.read(0x0403).unwrap(), 0xAB);
        assert_eq!(bus.spi.frames, [[0xF0, 0x04, 0x01, 0x20], [0x0F, 0x04, 0x03, 0x00]]);
    }

    #[test]
    fn u16_is_big_endian() {
        let mut bus = bus(&[0x07, 0xD0]);
        assert_eq!(bus.read_u16(0x0017).unwrap(), 0x07D0);
        bus.write_u16(0x0424, 0x1234).unwrap();
        assert_eq!(bus.spi.frames[2], [0xF0, 0x04, 0x24, 0x12]);
        assert_eq!(bus.spi.frames[3], [0xF0, 0x04, 0x25, 0x34]);
    }

    #[test]
    fn stable_read_waits_for_two_equal_readings() {
        // 0x00FF, then 0x0100, then 0x0100 again.
        let mut bus = bus(&[0x00, 0xFF, 0x01, 0x00, 0x01, 0x00]);
        assert_eq!(bus.read_u16_stable(0x0426).unwrap(), 0x0100);
        assert_eq!(bus.spi.frames.len(), 6);
    }

    #[test]
    fn stable_read_is_bounded() {
        // A counter that changes on every reading: the read still returns.
        let answers: Vec<u8> = (0..64u8).flat_map(|i| [0, i]).collect();
        let mut bus = bus(&answers);
        let value = bus.read_u16_stable(0x0426).unwrap();
        assert_eq!(value, u16::try_from(STABLE_READS).unwrap());
    }
}
