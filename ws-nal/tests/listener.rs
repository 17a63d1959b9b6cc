//! Sockets given back on failure: a W5100 has four, and a server retries a failed listen
//! (the firmware every 100 ms), so a socket kept by each failure soon leaves none.

use core::net::SocketAddr;

use embedded_nal::{nb, TcpClientStack, TcpError, TcpErrorKind, TcpFullStack};
use ws_nal::{Error, Listener};

#[derive(Debug, PartialEq)]
enum Fault {
    NoFreeSocket,
    Refused,
    AddrInUse,
}

impl TcpError for Fault {
    fn kind(&self) -> TcpErrorKind {
        TcpErrorKind::Other
    }
}

/// Four sockets; every listen and connect fails.
#[derive(Default)]
struct Failing {
    taken: [bool; 4],
}

impl TcpClientStack for Failing {
    type TcpSocket = usize;
    type Error = Fault;

    fn socket(&mut self) -> Result<usize, Fault> {
        let free = self.taken.iter().position(|taken| !taken).ok_or(Fault::NoFreeSocket)?;
        self.taken[free] = true;
        Ok(free)
    }
    fn connect(&mut self, _: &mut usize, _: SocketAddr) -> nb::Result<(), Fault> {
        Err(nb::Error::Other(Fault::Refused))
    }
    fn send(&mut self, _: &mut usize, _: &[u8]) -> nb::Result<usize, Fault> {
        Err(nb::Error::WouldBlock)
    }
    fn receive(&mut self, _: &mut usize, _: &mut [u8]) -> nb::Result<usize, Fault> {
        Err(nb::Error::WouldBlock)
    }
    fn close(&mut self, socket: usize) -> Result<(), Fault> {
        self.taken[socket] = false;
        Ok(())
    }
}

impl TcpFullStack for Failing {
    fn bind(&mut self, _: &mut usize, _: u16) -> Result<(), Fault> {
        Ok(())
    }
    fn listen(&mut self, _: &mut usize) -> Result<(), Fault> {
        Err(Fault::AddrInUse)
    }
    fn accept(&mut self, _: &mut usize) -> nb::Result<(usize, SocketAddr), Fault> {
        Err(nb::Error::WouldBlock)
    }
}

#[test]
fn a_failed_listen_closes_its_socket() {
    let mut stack = Failing::default();
    for _ in 0..10 {
        assert_eq!(Listener::bind(&mut stack, 9001).err(), Some(Error::Tcp(Fault::AddrInUse)));
    }
    assert_eq!(stack.taken, [false; 4]);
}

#[test]
fn a_failed_connect_closes_its_socket() {
    let mut stack = Failing::default();
    let remote: SocketAddr = "10.0.0.2:80".parse().unwrap();
    for _ in 0..10 {
        assert_eq!(ws_nal::connect(&mut stack, remote).err(), Some(Error::Tcp(Fault::Refused)));
    }
    assert_eq!(stack.taken, [false; 4]);
}
