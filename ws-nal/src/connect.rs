//! Opening a TCP connection for a client session.

use core::net::SocketAddr;

use embedded_nal::{nb, TcpClientStack};

use crate::Error;

/// Opens a TCP connection, blocking until it is established. On failure the socket is
/// closed again: on a W5100 it is one of only four.
pub fn connect<S: TcpClientStack>(
    stack: &mut S,
    remote: SocketAddr,
) -> Result<S::TcpSocket, Error<S::Error>> {
    let mut socket = stack.socket().map_err(Error::Tcp)?;
    match nb::block!(stack.connect(&mut socket, remote)) {
        Ok(()) => Ok(socket),
        Err(e) => {
            let _ = stack.close(socket);
            Err(Error::Tcp(e))
        }
    }
}
