//! A listening socket that hands out accepted connections.

use embedded_nal::{nb, TcpFullStack};

use crate::Error;

/// A TCP listener on a local port, for [`Session::server`](crate::Session::server).
#[derive(Debug)]
pub struct Listener<S: TcpFullStack> {
    socket: S::TcpSocket,
}

impl<S: TcpFullStack> Listener<S> {
    /// Opens a socket, binds it to `port` and listens.
    pub fn bind(stack: &mut S, port: u16) -> Result<Self, Error<S::Error>> {
        let mut socket = stack.socket().map_err(Error::Tcp)?;
        stack.bind(&mut socket, port).map_err(Error::Tcp)?;
        stack.listen(&mut socket).map_err(Error::Tcp)?;
        Ok(Self { socket })
    }

    /// Takes the next incoming connection, if one is waiting.
    pub fn accept(&mut self, stack: &mut S) -> nb::Result<S::TcpSocket, Error<S::Error>> {
        stack.accept(&mut self.socket).map(|(socket, _peer)| socket).map_err(|e| e.map(Error::Tcp))
    }

    /// Closes the listening socket.
    pub fn close(self, stack: &mut S) -> Result<(), Error<S::Error>> {
        stack.close(self.socket).map_err(Error::Tcp)
    }
}
