//! Which of the chip's four hardware sockets are free, and the little the driver must
//! remember about a taken one (everything else about a socket is in the chip's registers).
//!
//! The stack takes a socket here for every handle from `socket` and for every listener it
//! (re-)arms, and releases it when the handle is closed or arming fails. Whether a listener
//! is armed is part of the listener's handle (see [`stack`](crate::stack)): to the pool, the
//! hardware socket listening for it is simply taken.
//!
//! The one thing remembered about a taken socket is whether a SEND is in flight. Taking and
//! releasing a socket clear it, so a socket never inherits one from its previous owner. Only
//! a connection sends, and a connection's socket is never reopened before it is released, so
//! the stack does not clear the flag again when it opens a socket to connect or listen.

use crate::memory::SocketMemory;
use crate::regs;
use crate::socket::Socket;

/// Number of hardware sockets, as an array length.
const SOCKETS: usize = regs::SOCKETS as usize;

/// Driver-side bookkeeping for one hardware socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    /// A [`TcpSocket`](crate::TcpSocket) handle or a listener owns the socket.
    taken: bool,
    /// A SEND was issued and its SEND_OK (or TIMEOUT) has not been seen yet.
    send_pending: bool,
}

/// The four hardware sockets: their buffer memory and which are taken.
#[derive(Debug)]
pub(crate) struct SocketPool {
    /// The RMSR and TMSR values: where each socket's buffers live (worked out when needed,
    /// see [`SocketMemory::of`]); a socket without buffers is never handed out.
    msr: [u8; 2],
    slots: [Slot; SOCKETS],
}

impl SocketPool {
    /// All sockets free, with the memory split `rmsr` / `tmsr`.
    pub(crate) fn new(rmsr: u8, tmsr: u8) -> Self {
        Self { msr: [rmsr, tmsr], slots: [Slot::default(); SOCKETS] }
    }

    /// Mark every socket free (the chip was reset: every handle from before is stale).
    pub(crate) fn release_all(&mut self) {
        self.slots = [Slot::default(); SOCKETS];
    }

    /// Use a new memory split (the chip was given new RMSR/TMSR values).
    pub(crate) fn set_layout(&mut self, rmsr: u8, tmsr: u8) {
        self.msr = [rmsr, tmsr];
    }

    /// A free hardware socket that has buffer memory, now taken, lowest number first.
    pub(crate) fn take(&mut self) -> Option<Socket> {
        let [rmsr, tmsr] = self.msr;
        for (slot, socket) in self.slots.iter_mut().zip(Socket::ALL) {
            if !slot.taken && SocketMemory::of(socket.index(), rmsr, tmsr).usable() {
                *slot = Slot { taken: true, send_pending: false };
                return Some(socket);
            }
        }
        None
    }

    /// Give a hardware socket back; releasing a free socket does nothing.
    pub(crate) fn release(&mut self, socket: Socket) {
        if let Some(slot) = self.slot_mut(socket) {
            *slot = Slot::default();
        }
    }

    /// The buffer layout of `socket`.
    pub(crate) fn memory(&self, socket: Socket) -> SocketMemory {
        let [rmsr, tmsr] = self.msr;
        SocketMemory::of(socket.index(), rmsr, tmsr)
    }

    /// Whether a SEND on `socket` is still waiting for its SEND_OK.
    pub(crate) fn send_pending(&self, socket: Socket) -> bool {
        self.slots.get(usize::from(socket.index())).is_some_and(|slot| slot.send_pending)
    }

    /// Record that a SEND on `socket` was issued (`true`) or has completed or no longer
    /// matters because the socket was reopened (`false`).
    pub(crate) fn set_send_pending(&mut self, socket: Socket, pending: bool) {
        if let Some(slot) = self.slot_mut(socket) {
            slot.send_pending = pending;
        }
    }

    fn slot_mut(&mut self, socket: Socket) -> Option<&mut Slot> {
        self.slots.get_mut(usize::from(socket.index()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{BufSize, SocketSizes};

    #[test]
    fn take_hands_out_free_sockets_in_order_until_none_is_left() {
        let mut pool = SocketPool::new(regs::MSR_RESET, regs::MSR_RESET);
        let taken: Vec<_> = core::iter::from_fn(|| pool.take()).map(Socket::index).collect();
        assert_eq!(taken, [0, 1, 2, 3]);
        let two = Socket::new(2).unwrap();
        pool.release(two);
        assert_eq!(pool.take(), Some(two));
        assert_eq!(pool.take(), None);
        pool.release_all();
        assert_eq!(pool.take().map(Socket::index), Some(0));
    }

    #[test]
    fn sockets_without_memory_are_never_taken() {
        let sizes =
            SocketSizes { rx: [BufSize::K2; 4], tx: [BufSize::K4, BufSize::K4, BufSize::K1, BufSize::K1] };
        let mut pool = SocketPool::new(regs::MSR_RESET, regs::MSR_RESET);
        pool.set_layout(sizes.rmsr(), sizes.tmsr());
        assert_eq!(pool.take().map(Socket::index), Some(0));
        assert_eq!(pool.take().map(Socket::index), Some(1));
        assert_eq!(pool.take(), None);
        assert_eq!(pool.memory(Socket::new(2).unwrap()).tx_size, 0);
    }

    #[test]
    fn a_pending_send_is_forgotten_when_the_socket_changes_hands() {
        let mut pool = SocketPool::new(regs::MSR_RESET, regs::MSR_RESET);
        let socket = pool.take().unwrap();
        assert!(!pool.send_pending(socket));
        pool.set_send_pending(socket, true);
        assert!(pool.send_pending(socket));
        pool.release(socket);
        assert!(!pool.send_pending(socket));
        assert_eq!(pool.take(), Some(socket));
        assert!(!pool.send_pending(socket));
    }
}
