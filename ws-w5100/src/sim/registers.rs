//! The model's address space: byte and 16-bit access to the register file and buffer
//! memory, the socket register blocks, Sn_IR flags, and the socket rings.
//!
//! The ring layout is computed here from the RMSR/TMSR bytes on its own, not with the
//! driver's `memory` module, so that the model checks the driver's layout rather than
//! sharing its mistakes.

use super::W5100Sim;
use crate::regs::{self, sn, SocketInterrupts};

/// Base address and size of one socket's ring.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ring {
    pub(super) base: u16,
    pub(super) size: u16,
}

impl Ring {
    /// Address range of the contiguous run of at most `len` bytes from pointer `ptr`.
    pub(super) fn run(self, ptr: u16, len: u16) -> std::ops::Range<usize> {
        let offset = ptr & self.size.wrapping_sub(1);
        let len = len.min(self.size.saturating_sub(offset));
        let start = usize::from(self.base) + usize::from(offset);
        start..start + usize::from(len)
    }
}

impl W5100Sim {
    /// Set flags in Sn_IR.
    pub(super) fn raise(&mut self, n: usize, flags: SocketInterrupts) {
        let addr = socket_reg(n, sn::IR);
        let value = self.get(addr) | flags.bits();
        self.set(addr, value);
    }

    pub(super) fn tx_ring(&self, n: usize) -> Ring {
        self.ring(n, regs::TMSR, regs::TX_BASE)
    }

    pub(super) fn rx_ring(&self, n: usize) -> Ring {
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

    pub(super) fn tx_free(&self, n: usize) -> u16 {
        let size = self.tx_ring(n).size;
        let Some(socket) = self.sockets.get(n) else {
            return 0;
        };
        let wr = self.get_u16(socket_reg(n, sn::TX_WR));
        size.saturating_sub(wr.wrapping_sub(socket.tx_rd))
    }

    pub(super) fn rx_used(&self, n: usize) -> u16 {
        self.sockets.get(n).map_or(0, |s| s.rx_wr.wrapping_sub(s.rx_ack))
    }

    pub(super) fn get(&self, addr: u16) -> u8 {
        self.mem.get(usize::from(addr)).copied().unwrap_or(0)
    }

    pub(super) fn set(&mut self, addr: u16, value: u8) {
        if let Some(byte) = self.mem.get_mut(usize::from(addr)) {
            *byte = value;
        }
    }

    pub(super) fn get_u16(&self, addr: u16) -> u16 {
        u16::from_be_bytes([self.get(addr), self.get(addr.wrapping_add(1))])
    }

    pub(super) fn set_u16(&mut self, addr: u16, value: u16) {
        let [hi, lo] = value.to_be_bytes();
        self.set(addr, hi);
        self.set(addr.wrapping_add(1), lo);
    }
}

/// The socket number and register offset of an address in the socket register blocks.
pub(super) fn socket_of(addr: u16) -> Option<(usize, u16)> {
    let relative = addr.checked_sub(regs::SOCKET_BASE)?;
    let n = usize::from(relative / regs::SOCKET_STRIDE);
    (n < usize::from(regs::SOCKETS)).then_some((n, relative % regs::SOCKET_STRIDE))
}

/// Address of register `offset` of socket `n` (n < 4).
pub(super) fn socket_reg(n: usize, offset: u16) -> u16 {
    regs::socket_register(u8::try_from(n).unwrap_or(0), offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tests::write;

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
}
