//! W5100 register map: addresses, bit fields, socket commands and socket states.
//!
//! Every number the driver (and the chip model) puts on the wire is named here once, after
//! the W5100 datasheet (v1.2.x). Multi-byte registers are big-endian; the constant is the
//! address of the first (most significant) byte.
//!
//! Not part of the driver's supported API. The driver and the chip model (`sim`) use it from
//! inside the crate; it is public, and hidden from the docs, only for tests and tools that
//! work at register level from outside: the integration tests, which read registers back
//! through `W5100Sim::register`, and a future emulator. It may change in any release.

/// Number of hardware sockets on the chip.
pub const SOCKETS: u8 = 4;

/// Size of the whole address space the chip decodes (registers plus buffer memory).
pub const ADDRESS_SPACE: usize = 0x8000;

/// Mode register (1 byte).
pub const MR: u16 = 0x0000;
/// Gateway IP address register (4 bytes).
pub const GAR: u16 = 0x0001;
/// Subnet mask register (4 bytes).
pub const SUBR: u16 = 0x0005;
/// Source hardware (MAC) address register (6 bytes).
pub const SHAR: u16 = 0x0009;
/// Source IP address register (4 bytes).
pub const SIPR: u16 = 0x000F;
/// Interrupt register (1 byte).
pub const IR: u16 = 0x0015;
/// Interrupt mask register (1 byte).
pub const IMR: u16 = 0x0016;
/// Retry time register, in units of 100 µs (2 bytes).
pub const RTR: u16 = 0x0017;
/// Retry count register (1 byte).
pub const RCR: u16 = 0x0019;
/// RX memory size register: two bits per socket, socket 0 in the low bits (1 byte).
pub const RMSR: u16 = 0x001A;
/// TX memory size register: two bits per socket, socket 0 in the low bits (1 byte).
pub const TMSR: u16 = 0x001B;

/// RTR value after reset: 0x07D0 × 100 µs = 200 ms; the init read-back check expects it.
pub const RTR_RESET: u16 = 0x07D0;
/// RCR value after reset.
pub const RCR_RESET: u8 = 0x08;
/// RMSR/TMSR value after reset: 2 KiB for each socket.
pub const MSR_RESET: u8 = 0x55;

/// Base address of socket 0's register block.
pub const SOCKET_BASE: u16 = 0x0400;
/// Distance between two sockets' register blocks.
pub const SOCKET_STRIDE: u16 = 0x0100;

/// Base address of the TX buffer memory.
pub const TX_BASE: u16 = 0x4000;
/// Base address of the RX buffer memory.
pub const RX_BASE: u16 = 0x6000;
/// Size of each of the TX and RX memories, shared by the four sockets.
pub const BUFFER_MEMORY: u16 = 0x2000;

/// Address of register `offset` (one of the [`sn`] constants) of socket `n`.
pub const fn socket_register(n: u8, offset: u16) -> u16 {
    SOCKET_BASE.wrapping_add((n as u16).wrapping_mul(SOCKET_STRIDE)).wrapping_add(offset)
}

/// Per-socket register offsets, added to [`socket_register`]'s base (`Sn_*` in the datasheet).
pub mod sn {
    /// Sn_MR: socket mode (protocol and flags).
    pub const MR: u16 = 0x00;
    /// Sn_CR: socket command; the chip clears it when the command has been accepted.
    pub const CR: u16 = 0x01;
    /// Sn_IR: socket interrupt flags; write 1 to a bit to clear it.
    pub const IR: u16 = 0x02;
    /// Sn_SR: socket status (read only).
    pub const SR: u16 = 0x03;
    /// Sn_PORT: local port (2 bytes).
    pub const PORT: u16 = 0x04;
    /// Sn_DHAR: destination hardware address (6 bytes).
    pub const DHAR: u16 = 0x06;
    /// Sn_DIPR: destination IP address (4 bytes); the peer's address once connected.
    pub const DIPR: u16 = 0x0C;
    /// Sn_DPORT: destination port (2 bytes); the peer's port once connected.
    pub const DPORT: u16 = 0x10;
    /// Sn_MSSR: maximum segment size (2 bytes).
    pub const MSSR: u16 = 0x12;
    /// Sn_TX_FSR: free space in the TX ring (2 bytes, read only, read until stable).
    pub const TX_FSR: u16 = 0x20;
    /// Sn_TX_RD: where the chip will read the next byte to transmit (2 bytes, read only).
    pub const TX_RD: u16 = 0x22;
    /// Sn_TX_WR: where the host writes the next byte to transmit (2 bytes).
    pub const TX_WR: u16 = 0x24;
    /// Sn_RX_RSR: bytes received and not yet acknowledged with RECV (2 bytes, read only).
    pub const RX_RSR: u16 = 0x26;
    /// Sn_RX_RD: where the host reads the next received byte (2 bytes).
    pub const RX_RD: u16 = 0x28;
}

/// Bits of the mode register [`MR`].
pub mod mr {
    /// Software reset; the chip clears it when the reset is done.
    pub const RST: u8 = 0x80;
    /// Ping block: do not answer ICMP echo requests.
    pub const PB: u8 = 0x10;
    /// PPPoE mode.
    pub const PPPOE: u8 = 0x08;
    /// Address auto-increment (parallel bus only).
    pub const AI: u8 = 0x02;
    /// Indirect bus interface mode (parallel bus only).
    pub const IND: u8 = 0x01;
}

/// Bits of the common interrupt register [`IR`] and mask [`IMR`].
pub mod ir {
    /// IP address conflict detected.
    pub const CONFLICT: u8 = 0x80;
    /// Destination unreachable (ICMP).
    pub const UNREACH: u8 = 0x40;
    /// PPPoE connection closed.
    pub const PPPOE: u8 = 0x20;
    /// Socket `n` has a pending interrupt: bit `n` for socket 0..=3.
    pub const fn socket(n: u8) -> u8 {
        1 << (n & 0x03)
    }
}

/// Bits of a socket mode register [`sn::MR`].
pub mod sn_mr {
    /// Mask of the protocol field.
    pub const PROTOCOL: u8 = 0x0F;
    /// Socket closed / unused.
    pub const CLOSED: u8 = 0x00;
    /// TCP.
    pub const TCP: u8 = 0x01;
    /// UDP.
    pub const UDP: u8 = 0x02;
    /// IP raw.
    pub const IPRAW: u8 = 0x03;
    /// MAC raw (socket 0 only).
    pub const MACRAW: u8 = 0x04;
    /// No delayed ACK (TCP).
    pub const ND: u8 = 0x20;
    /// Multicast (UDP).
    pub const MULTI: u8 = 0x80;
}

/// Bits of a socket interrupt register [`sn::IR`]; the driver uses them through the typed
/// [`SocketInterrupts`].
pub mod sn_ir {
    /// Connection established.
    pub const CON: u8 = 0x01;
    /// FIN or RST received from the peer, or a disconnect completed.
    pub const DISCON: u8 = 0x02;
    /// Data received.
    pub const RECV: u8 = 0x04;
    /// ARP or TCP retransmission timed out.
    pub const TIMEOUT: u8 = 0x08;
    /// The last SEND command completed.
    pub const SEND_OK: u8 = 0x10;
    /// All bits, for clearing everything.
    pub const ALL: u8 = 0x1F;
}

/// The flags of a socket interrupt register [`sn::IR`], as a typed value.
///
/// The bit values are the [`sn_ir`] constants; this type keeps them from being mixed up with
/// other register bytes. Reading Sn_IR gives one with [`from_bits`](Self::from_bits); writing
/// [`bits`](Self::bits) back clears the flags that are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SocketInterrupts(u8);

impl SocketInterrupts {
    /// No flag.
    pub const NONE: Self = Self(0);
    /// Connection established.
    pub const CON: Self = Self(sn_ir::CON);
    /// FIN or RST received from the peer, or a disconnect completed.
    pub const DISCON: Self = Self(sn_ir::DISCON);
    /// Data received.
    pub const RECV: Self = Self(sn_ir::RECV);
    /// ARP or TCP retransmission timed out.
    pub const TIMEOUT: Self = Self(sn_ir::TIMEOUT);
    /// The last SEND command completed.
    pub const SEND_OK: Self = Self(sn_ir::SEND_OK);
    /// Every flag, for clearing everything.
    pub const ALL: Self = Self(sn_ir::ALL);

    /// The flags of an Sn_IR value. Bits the datasheet reserves are kept as they are, so a
    /// value read and written back is the same byte.
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The Sn_IR value of these flags.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set in `self` (always true for [`NONE`](Self::NONE)).
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flags set in `self`, in `other` or in both.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl core::ops::BitOr for SocketInterrupts {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        self.union(other)
    }
}

impl core::ops::BitOrAssign for SocketInterrupts {
    fn bitor_assign(&mut self, other: Self) {
        *self = self.union(other);
    }
}

/// A socket command, written to [`sn::CR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Command {
    /// Open the socket in the mode set in Sn_MR; TCP sockets go to INIT.
    Open = 0x01,
    /// Wait for a connection on Sn_PORT (TCP server).
    Listen = 0x02,
    /// Connect to Sn_DIPR:Sn_DPORT (TCP client).
    Connect = 0x04,
    /// Send FIN: graceful disconnect.
    Discon = 0x08,
    /// Close the socket at once.
    Close = 0x10,
    /// Transmit the bytes between Sn_TX_RD and Sn_TX_WR.
    Send = 0x20,
    /// Send a keep-alive probe.
    SendKeep = 0x22,
    /// Acknowledge received bytes up to Sn_RX_RD.
    Recv = 0x40,
}

impl Command {
    /// The value written to Sn_CR.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The command with this Sn_CR code, if any.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(Self::Open),
            0x02 => Some(Self::Listen),
            0x04 => Some(Self::Connect),
            0x08 => Some(Self::Discon),
            0x10 => Some(Self::Close),
            0x20 => Some(Self::Send),
            0x22 => Some(Self::SendKeep),
            0x40 => Some(Self::Recv),
            _ => None,
        }
    }
}

/// A socket state: the value of [`sn::SR`], with the states' names as constants.
///
/// A plain byte, so reading Sn_SR costs no decoding: any value the chip reports is a
/// `Status` (UDP, IPRAW and MACRAW states too), and compares unequal to the TCP states
/// named here.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status(u8);

impl Status {
    /// 0x00: the socket is closed.
    pub const CLOSED: Self = Self(0x00);
    /// 0x13: opened in TCP mode, neither listening nor connected.
    pub const INIT: Self = Self(0x13);
    /// 0x14: waiting for a connection.
    pub const LISTEN: Self = Self(0x14);
    /// 0x15: SYN sent (client connecting).
    pub const SYN_SENT: Self = Self(0x15);
    /// 0x16: SYN received (server side of a handshake in progress).
    pub const SYN_RECV: Self = Self(0x16);
    /// 0x17: connected.
    pub const ESTABLISHED: Self = Self(0x17);
    /// 0x18: FIN sent, waiting for the peer's.
    pub const FIN_WAIT: Self = Self(0x18);
    /// 0x1A: both sides sent FIN at once.
    pub const CLOSING: Self = Self(0x1A);
    /// 0x1B: waiting out the connection's last segments.
    pub const TIME_WAIT: Self = Self(0x1B);
    /// 0x1C: the peer sent FIN; we may still send and read buffered data.
    pub const CLOSE_WAIT: Self = Self(0x1C);
    /// 0x1D: our FIN is sent after the peer's, waiting for its ACK.
    pub const LAST_ACK: Self = Self(0x1D);
    /// 0x01: resolving the peer's MAC address (ARP) before CONNECT's SYN goes out, as
    /// W5100s report it (the Arduino Ethernet library's `SnSR::ARP`). The datasheet lists
    /// 0x11 (TCP), 0x21 (UDP) and 0x31 (IPRAW) for it: [`is_arp`](Self::is_arp) takes all.
    pub const ARP: Self = Self(0x01);

    /// The status for an Sn_SR value.
    pub const fn from_code(code: u8) -> Self {
        Self(code)
    }

    /// The Sn_SR value of this status.
    pub const fn code(self) -> u8 {
        self.0
    }

    /// ARP in progress: 0x01, 0x11, 0x21 or 0x31.
    pub const fn is_arp(self) -> bool {
        self.0 & 0xCF == 0x01
    }

    /// A connection on its way, not yet ESTABLISHED: INIT, ARP, SYNSENT or SYNRECV.
    pub const fn is_connecting(self) -> bool {
        matches!(self, Self::INIT | Self::SYN_SENT | Self::SYN_RECV) || self.is_arp()
    }

    /// The datasheet's name of a TCP state (`SOCK_…` without the prefix), if it is one.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::CLOSED => "CLOSED",
            Self::INIT => "INIT",
            Self::LISTEN => "LISTEN",
            Self::SYN_SENT => "SYNSENT",
            Self::SYN_RECV => "SYNRECV",
            Self::ESTABLISHED => "ESTABLISHED",
            Self::FIN_WAIT => "FIN_WAIT",
            Self::CLOSING => "CLOSING",
            Self::TIME_WAIT => "TIME_WAIT",
            Self::CLOSE_WAIT => "CLOSE_WAIT",
            Self::LAST_ACK => "LAST_ACK",
            other if other.is_arp() => "ARP",
            _ => return None,
        })
    }
}

impl core::fmt::Debug for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:02X})", self.0),
            None => write!(f, "Status(0x{:02X})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_register_addresses() {
        assert_eq!(socket_register(0, sn::MR), 0x0400);
        assert_eq!(socket_register(1, sn::SR), 0x0503);
        assert_eq!(socket_register(3, sn::RX_RD), 0x0728);
    }

    #[test]
    fn status_codes_round_trip() {
        for code in 0..=u8::MAX {
            assert_eq!(Status::from_code(code).code(), code);
        }
    }

    #[test]
    fn every_arp_code_is_arp() {
        for code in 0..=u8::MAX {
            let arp = matches!(code, 0x01 | 0x11 | 0x21 | 0x31);
            assert_eq!(Status::from_code(code).is_arp(), arp, "0x{code:02X}");
            assert_eq!(Status::from_code(code).is_connecting(), arp || matches!(code, 0x13 | 0x15 | 0x16));
        }
        assert_eq!(format!("{:?}", Status::from_code(0x11)), "ARP (0x11)");
        assert_eq!(format!("{:?}", Status::from_code(0x22)), "Status(0x22)");
    }

    #[test]
    fn socket_interrupts_are_the_sn_ir_bits() {
        let flags = SocketInterrupts::from_bits(sn_ir::CON | sn_ir::RECV);
        assert!(flags.contains(SocketInterrupts::CON));
        assert!(flags.contains(SocketInterrupts::CON | SocketInterrupts::RECV));
        assert!(!flags.contains(SocketInterrupts::CON | SocketInterrupts::TIMEOUT));
        assert!(!flags.contains(SocketInterrupts::SEND_OK));
        assert!(flags.contains(SocketInterrupts::NONE));
        let mut all = SocketInterrupts::NONE;
        for flag in [
            SocketInterrupts::CON,
            SocketInterrupts::DISCON,
            SocketInterrupts::RECV,
            SocketInterrupts::TIMEOUT,
            SocketInterrupts::SEND_OK,
        ] {
            all |= flag;
        }
        assert_eq!(all, SocketInterrupts::ALL);
        assert_eq!(SocketInterrupts::from_bits(0xE5).bits(), 0xE5);
    }

    #[test]
    fn command_codes_round_trip() {
        for code in 0..=u8::MAX {
            if let Some(command) = Command::from_code(code) {
                assert_eq!(command.code(), code);
            }
        }
        assert_eq!(Command::from_code(0x22), Some(Command::SendKeep));
    }
}
