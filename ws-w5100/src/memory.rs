//! Socket buffer memory: how the chip's 8 KiB TX and 8 KiB RX memories are split across its
//! four sockets (RMSR/TMSR), and where each socket's rings end up.
//!
//! This is plain arithmetic on the register map with no bus access, so both the chip-level
//! code ([`device`](crate::device)) and the per-socket code ([`socket`](crate::socket)) can
//! use it without depending on each other.

use crate::regs;

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
/// buffer would run past the 8 KiB on, sockets get none and the driver never allocates them.
/// The default, 2 KiB each, gives all four sockets memory.
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
}

/// Pack four two-bit size codes, socket 0 in the low bits.
fn msr(sizes: &[BufSize; 4]) -> u8 {
    sizes.iter().enumerate().fold(0, |acc, (n, size)| acc | (size.code() << (2 * n)))
}

/// Base and size of socket `n`'s buffer in one 8 KiB memory starting at `base`, split by the
/// RMSR/TMSR value `msr`.
///
/// Allocation stops at the first socket that does not fit: it and all later sockets get
/// none (size 0), since each starts where the one before ends.
fn ring(msr: u8, n: u8, base: u16) -> (u16, u16) {
    let mut codes = msr;
    let mut start: u16 = 0;
    for _ in 0..n {
        // At most 3 × 8 KiB: no overflow.
        start += 1024 << (codes & 0x03);
        codes >>= 2;
    }
    let size: u16 = 1024 << (codes & 0x03);
    if start + size > regs::BUFFER_MEMORY {
        (base, 0)
    } else {
        (base + start, size)
    }
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
    /// Socket `n`'s rings (n < 4) with the memory split `rmsr` / `tmsr`.
    pub(crate) fn of(n: u8, rmsr: u8, tmsr: u8) -> Self {
        let (tx_base, tx_size) = ring(tmsr, n, regs::TX_BASE);
        let (rx_base, rx_size) = ring(rmsr, n, regs::RX_BASE);
        Self { tx_base, tx_size, rx_base, rx_size }
    }

    /// Whether the socket has both a TX and an RX buffer.
    pub(crate) const fn usable(&self) -> bool {
        self.tx_size > 0 && self.rx_size > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every socket's rings with `sizes`.
    fn layout(sizes: &SocketSizes) -> [SocketMemory; 4] {
        [0, 1, 2, 3].map(|n| SocketMemory::of(n, sizes.rmsr(), sizes.tmsr()))
    }

    #[test]
    fn default_split_is_two_kib_each() {
        let sizes = SocketSizes::default();
        assert_eq!(sizes.rmsr(), regs::MSR_RESET);
        assert_eq!(sizes.tmsr(), regs::MSR_RESET);
        let layout = layout(&sizes);
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
        let layout = layout(&sizes);
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
        let layout = layout(&sizes);
        assert_eq!(layout.map(|m| m.rx_size), [4096, 0, 0, 0]);
        assert_eq!(layout.map(|m| m.usable()), [true, false, false, false]);
    }
}
