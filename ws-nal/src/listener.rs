//! A listening socket that hands out accepted connections.

use core::net::SocketAddr;

use embedded_nal::{nb, TcpFullStack};

use crate::Error;

/// A TCP listener on a local port, for [`Session::builder`](crate::Session::builder).
#[derive(Debug)]
pub struct Listener<S: TcpFullStack> {
    socket: S::TcpSocket,
}

impl<S: TcpFullStack> Listener<S> {
    /// Opens a socket, binds it to `port` and listens. On failure the socket is closed
    /// again: on a W5100 it is one of only four.
    pub fn bind(stack: &mut S, port: u16) -> Result<Self, Error<S::Error>> {
        let mut socket = stack.socket().map_err(Error::Tcp)?;
        if let Err(e) = stack.bind(&mut socket, port).and_then(|()| stack.listen(&mut socket)) {
            let _ = stack.close(socket);
            return Err(Error::Tcp(e));
        }
        Ok(Self { socket })
    }

    /// Takes the next incoming connection, if one is waiting, with the peer's address.
    pub fn accept(&mut self, stack: &mut S) -> nb::Result<(S::TcpSocket, SocketAddr), Error<S::Error>> {
        stack.accept(&mut self.socket).map_err(|e| e.map(Error::Tcp))
    }

    /// Closes the listening socket.
    pub fn close(self, stack: &mut S) -> Result<(), Error<S::Error>> {
        stack.close(self.socket).map_err(Error::Tcp)
    }
}
