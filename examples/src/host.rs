//! Socket options the host stack (`std-embedded-nal`) does not set.

use std::os::fd::RawFd;

use embedded_nal::TcpClientStack;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{setsockopt, sockopt::TcpNoDelay};
use std_embedded_nal::Stack;

/// The host stack hands out sockets in blocking mode with Nagle's algorithm on. A polling
/// loop needs them non-blocking, and an echo of many small frames stalls 40 ms a message
/// on Nagle against delayed ACKs: switch both off.
pub fn tune(socket: &<Stack as TcpClientStack>::TcpSocket) {
    let Some(fd) = socket.as_raw_fd() else { return };
    if let Err(e) = set_nonblocking(fd).and_then(|()| setsockopt(fd, TcpNoDelay, &true)) {
        eprintln!("socket options: {e}");
    }
}

fn set_nonblocking(fd: RawFd) -> nix::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map(|_| ())
}
