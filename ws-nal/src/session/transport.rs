//! The socket side of a session: sending what is queued, reading into the free part of
//! the receive buffer, deadlines, and closing.

use embedded_nal::{nb, TcpClientStack, TcpError, TcpErrorKind};
use rand_core::RngCore;
use ws_proto::handshake::Reject;

use super::{Phase, Session, Why};
use crate::event::Ready;
use crate::Error;

impl<S: TcpClientStack, R: RngCore> Session<'_, '_, S, R> {
    /// Sends queued bytes; `WouldBlock` until all are out.
    pub(super) fn flush(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        while self.tx_start < self.tx_end {
            let (Some(socket), Some(out)) = (self.socket.as_mut(), self.tx.get(self.tx_start..self.tx_end))
            else {
                self.tx_start = self.tx_end;
                break;
            };
            match stack.send(socket, out) {
                Ok(n) => self.tx_start += n,
                Err(nb::Error::WouldBlock) => return self.check_deadline(stack, now),
                // The peer is gone (it may have closed right after its close frame).
                Err(nb::Error::Other(e)) if e.kind() == TcpErrorKind::PipeClosed => {
                    return self.finish(stack)
                }
                Err(nb::Error::Other(e)) => return self.fail_tcp(stack, e),
            }
        }
        self.tx_start = 0;
        self.tx_end = 0;
        Ok(())
    }

    /// Reads from TCP into the free part of `rx` (what the last receive left, part of a
    /// frame, moves to the front first).
    pub(super) fn read(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        let Some(socket) = self.socket.as_mut() else { return Err(nb::Error::Other(Error::Finished)) };
        let window = self.rx.spare();
        if window.is_empty() {
            // Only a handshake head can fill the buffer: it is too large.
            let e = ws_proto::Error::HeadTooLarge;
            if matches!(self.phase, Phase::AwaitRequest { .. }) {
                self.tx_end = Reject::for_error(e).write(self.tx).unwrap_or(0);
                self.tx_start = 0;
            }
            self.phase = Phase::Ending(Why::Ws(e));
            return Ok(());
        }
        match stack.receive(socket, window) {
            Ok(0) => self.finish(stack),
            Ok(n) => {
                self.rx.commit(n);
                Ok(())
            }
            Err(nb::Error::WouldBlock) => self.check_deadline(stack, now),
            Err(nb::Error::Other(e)) if e.kind() == TcpErrorKind::PipeClosed => self.finish(stack),
            Err(nb::Error::Other(e)) => self.fail_tcp(stack, e),
        }
    }

    /// Nothing can happen now: give up if a deadline has passed.
    fn check_deadline(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        if self.deadline_passed(now) {
            self.expire(stack)
        } else {
            Err(nb::Error::WouldBlock)
        }
    }

    pub(super) fn deadline_passed(&self, now: u64) -> bool {
        match self.phase {
            Phase::AwaitRequest { deadline }
            | Phase::Requested { deadline, .. }
            | Phase::AwaitResponse { deadline, .. }
            | Phase::Closing { deadline } => now >= deadline,
            _ => false,
        }
    }

    /// A handshake took too long: the opening one fails, the closing one just ends.
    pub(super) fn expire(&mut self, stack: &mut S) -> nb::Result<(), Error<S::Error>> {
        if matches!(self.phase, Phase::Closing { .. }) {
            // The peer never finished the closing handshake.
            return self.finish(stack);
        }
        self.shut(stack);
        Err(nb::Error::Other(Why::Timeout.error()))
    }

    /// The peer closed TCP, or the session is over: close our side and report the end.
    pub(super) fn finish(&mut self, stack: &mut S) -> nb::Result<(), Error<S::Error>> {
        let opened = matches!(self.phase, Phase::Open | Phase::Closing { .. });
        self.shut(stack);
        if !opened {
            return Err(nb::Error::Other(Why::Disconnected.error()));
        }
        self.ready = Some(Ready::Closed { code: self.peer_code, clean: self.conn.is_closed() });
        Ok(())
    }

    /// The stack failed: before the opening, that is the session's error; after it, the
    /// session just ends (without a clean close).
    fn fail_tcp(&mut self, stack: &mut S, e: S::Error) -> nb::Result<(), Error<S::Error>> {
        let opened = matches!(self.phase, Phase::Open | Phase::Closing { .. });
        self.shut(stack);
        if opened {
            self.ready = Some(Ready::Closed { code: self.peer_code, clean: false });
            return Ok(());
        }
        Err(nb::Error::Other(Error::Tcp(e)))
    }

    pub(super) fn shut(&mut self, stack: &mut S) {
        self.return_inflater();
        if let Some(mut socket) = self.socket.take() {
            // Closing with unread input makes TCP send a reset, which can destroy what we
            // sent last (an HTTP error, a close frame) before the peer reads it: read and
            // drop what has already arrived first (bounded).
            for _ in 0..8 {
                match stack.receive(&mut socket, self.tx) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
            let _ = stack.close(socket);
        }
        self.phase = Phase::Done;
        self.tx_start = 0;
        self.tx_end = 0;
    }
}
