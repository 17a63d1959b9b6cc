//! The real driver against the chip model, with real host TCP peers on 127.0.0.1.

#![cfg(feature = "sim")]

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use embedded_nal::{TcpClientStack, TcpError, TcpErrorKind, TcpFullStack};
use ws_w5100::regs::{self, sn};
use ws_w5100::sim::W5100Sim;
use ws_w5100::{BufSize, Error, NetConfig, SocketSizes, TcpSocket, W5100};

type Stack = W5100<W5100Sim>;
type StackError = Error<core::convert::Infallible>;

const DEADLINE: Duration = Duration::from_secs(10);

/// The driver's clock: milliseconds since the first call.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

fn stack_with(sizes: &SocketSizes) -> Stack {
    // As strict as the chip: clients are refused while no socket listens.
    let mut chip = W5100Sim::new(Ipv4Addr::LOCALHOST);
    chip.set_backlog(false);
    let mut w5100: Stack = W5100::new(chip, now_ms);
    w5100.init(&NetConfig::default(), sizes).unwrap();
    w5100
}

fn stack() -> Stack {
    stack_with(&SocketSizes::default())
}

/// A port that was free a moment ago (the chip cannot listen on "any port").
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Retry a non-blocking call until it completes; fail the test at the deadline.
fn poll<T>(mut op: impl FnMut() -> nb::Result<T, StackError>) -> Result<T, StackError> {
    let deadline = Instant::now() + DEADLINE;
    let mut spins = 0u32;
    loop {
        match op() {
            Ok(value) => return Ok(value),
            Err(nb::Error::Other(e)) => return Err(e),
            Err(nb::Error::WouldBlock) => {
                assert!(Instant::now() < deadline, "still WouldBlock at the deadline");
                spins += 1;
                if spins > 50 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}

fn send_all(w5100: &mut Stack, socket: &mut TcpSocket, data: &[u8]) {
    let mut sent = 0;
    while sent < data.len() {
        let rest = data.get(sent..).unwrap();
        sent += poll(|| w5100.send(socket, rest)).unwrap();
    }
}

fn receive_exact(w5100: &mut Stack, socket: &mut TcpSocket, len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    let mut got = 0;
    while got < len {
        let rest = data.get_mut(got..).unwrap();
        got += poll(|| w5100.receive(socket, rest)).unwrap();
    }
    data
}

fn peer(stream: &TcpStream) -> &TcpStream {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream
}

/// The driver connects to a std listener; returns the stack, the socket and the peer.
fn connected_pair(sizes: &SocketSizes, open_pointer: u16) -> (Stack, TcpSocket, TcpStream) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut w5100 = stack_with(sizes);
    w5100.spi_mut().set_connection_pointer(open_pointer);
    let mut socket = w5100.socket().unwrap();
    poll(|| w5100.connect(&mut socket, local(port))).unwrap();
    let (stream, _) = listener.accept().unwrap();
    peer(&stream);
    (w5100, socket, stream)
}

#[test]
fn init_writes_and_reads_back_the_configuration() {
    let net = NetConfig {
        mac: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
        ip: Ipv4Addr::new(10, 0, 0, 7),
        subnet: Ipv4Addr::new(255, 255, 0, 0),
        gateway: Ipv4Addr::new(10, 0, 0, 1),
    };
    let sizes = SocketSizes {
        rx: [BufSize::K4, BufSize::K2, BufSize::K1, BufSize::K1],
        tx: [BufSize::K1, BufSize::K1, BufSize::K2, BufSize::K4],
    };
    let mut w5100: Stack = W5100::new(W5100Sim::default(), now_ms);
    w5100.init(&net, &sizes).unwrap();
    assert_eq!(w5100.read_net_config().unwrap(), net);
    let sim = w5100.spi_mut();
    assert_eq!(sim.register(regs::RMSR), 0b00_00_01_10);
    assert_eq!(sim.register(regs::TMSR), 0b10_01_00_00);
    assert_eq!(sim.register(regs::SIPR), 10);
    assert_eq!(sim.register(regs::SHAR + 5), 0x55);
    assert_eq!(sim.register(regs::IMR), 0);
    // Every socket has memory with this split.
    let sockets: Vec<_> = (0..4).map(|_| w5100.socket().unwrap()).collect();
    assert_eq!(sockets.len(), 4);
}

#[test]
fn sockets_run_out_and_come_back() {
    let mut w5100 = stack();
    let mut sockets: Vec<_> = (0..4).map(|_| w5100.socket().unwrap()).collect();
    assert_eq!(w5100.socket().err(), Some(Error::NoFreeSocket));
    w5100.close(sockets.pop().unwrap()).unwrap();
    let again = w5100.socket().unwrap();
    assert_eq!(again.hardware_socket().map(|s| s.index()), Some(3));
}

#[test]
fn sockets_without_memory_are_never_handed_out() {
    // Socket 0 takes all 8 KiB of TX memory: only it is usable.
    let sizes =
        SocketSizes { rx: [BufSize::K2; 4], tx: [BufSize::K8, BufSize::K1, BufSize::K1, BufSize::K1] };
    let mut w5100 = stack_with(&sizes);
    let _only = w5100.socket().unwrap();
    assert_eq!(w5100.socket().err(), Some(Error::NoFreeSocket));
}

#[test]
fn client_connects_to_a_std_listener() {
    let (mut w5100, mut socket, mut peer) = connected_pair(&SocketSizes::default(), 0);
    assert_eq!(peer.peer_addr().unwrap().ip(), Ipv4Addr::LOCALHOST);
    send_all(&mut w5100, &mut socket, b"hello");
    let mut buf = [0; 5];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    peer.write_all(b"world").unwrap();
    assert_eq!(receive_exact(&mut w5100, &mut socket, 5), b"world");
    // Graceful close: the peer reads EOF and closes too, which ends the close.
    let reader = std::thread::spawn(move || peer.read(&mut buf));
    w5100.close(socket).unwrap();
    assert_eq!(reader.join().unwrap().unwrap(), 0);
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    let mut w5100 = stack();
    let mut socket = w5100.socket().unwrap();
    let result = poll(|| w5100.connect(&mut socket, local(free_port())));
    assert_eq!(result, Err(Error::ConnectionRefused));
    // The handle may try again.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    poll(|| w5100.connect(&mut socket, local(port))).unwrap();
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut w5100 = stack();
    let mut socket = w5100.socket().unwrap();
    let v6 = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 80);
    assert_eq!(w5100.connect(&mut socket, v6), Err(nb::Error::Other(Error::Unsupported)));
    assert_eq!(w5100.bind(&mut socket, 0), Err(Error::InvalidPort));
    assert_eq!(w5100.send(&mut socket, b"x"), Err(nb::Error::Other(Error::InvalidState)));
    assert_eq!(w5100.accept(&mut socket).err(), Some(nb::Error::Other(Error::InvalidState)));
    assert_eq!(w5100.listen(&mut socket), Err(Error::InvalidState));
    w5100.close(socket).unwrap();
}

#[test]
fn server_accepts_and_echoes() {
    let mut w5100 = stack();
    let port = free_port();
    let mut listener = w5100.socket().unwrap();
    w5100.bind(&mut listener, port).unwrap();
    w5100.listen(&mut listener).unwrap();
    assert!(listener.is_armed());
    assert!(matches!(w5100.accept(&mut listener), Err(nb::Error::WouldBlock)));

    let mut client = TcpStream::connect(local(port)).unwrap();
    peer(&client);
    let (mut conn, remote) = poll(|| w5100.accept(&mut listener)).unwrap();
    assert_eq!(remote, client.local_addr().unwrap());
    assert!(listener.is_armed(), "re-armed on another hardware socket");
    assert_ne!(listener.hardware_socket(), conn.hardware_socket());

    client.write_all(b"ping").unwrap();
    let data = receive_exact(&mut w5100, &mut conn, 4);
    send_all(&mut w5100, &mut conn, &data);
    let mut buf = [0; 4];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");

    // The peer's FIN: buffered data first, then PipeClosed.
    client.write_all(b"bye").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(receive_exact(&mut w5100, &mut conn, 3), b"bye");
    let closed = poll(|| w5100.receive(&mut conn, &mut buf)).unwrap_err();
    assert_eq!(closed, Error::Closed);
    assert_eq!(closed.kind(), TcpErrorKind::PipeClosed);
    // Half-close: we may still send.
    send_all(&mut w5100, &mut conn, b"late");
    w5100.close(conn).unwrap();
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"late");
    w5100.close(listener).unwrap();
}

#[test]
fn peer_reset_is_pipe_closed_not_a_hang() {
    let mut w5100 = stack();
    let port = free_port();
    let mut listener = w5100.socket().unwrap();
    w5100.bind(&mut listener, port).unwrap();
    w5100.listen(&mut listener).unwrap();
    let client = TcpStream::connect(local(port)).unwrap();
    let (mut conn, _) = poll(|| w5100.accept(&mut listener)).unwrap();

    // Closing a socket with unread data makes the host send RST instead of FIN.
    send_all(&mut w5100, &mut conn, b"unread");
    let mut probe = [0; 6];
    peer(&client).peek(&mut probe).unwrap();
    drop(client);

    let mut buf = [0; 16];
    let error = poll(|| w5100.receive(&mut conn, &mut buf)).unwrap_err();
    assert_eq!(error, Error::Closed);
    assert_eq!(error.kind(), TcpErrorKind::PipeClosed);
    let status =
        w5100.spi_mut().register(regs::socket_register(conn.hardware_socket().unwrap().index(), sn::SR));
    assert_eq!(status, regs::Status::CLOSED.code());
    assert_eq!(w5100.send(&mut conn, b"more").err(), Some(nb::Error::Other(Error::Closed)));
    w5100.close(conn).unwrap();
    // The listener still works.
    let _second = TcpStream::connect(local(port)).unwrap();
    poll(|| w5100.accept(&mut listener)).unwrap();
}

#[test]
fn accept_rearms_lazily_when_all_sockets_are_busy() {
    let mut w5100 = stack();
    let port = free_port();
    let mut listener = w5100.socket().unwrap();
    w5100.bind(&mut listener, port).unwrap();
    w5100.listen(&mut listener).unwrap();

    let mut clients = Vec::new();
    let mut conns = Vec::new();
    for _ in 0..4 {
        let client = TcpStream::connect(local(port)).unwrap();
        let (conn, remote) = poll(|| w5100.accept(&mut listener)).unwrap();
        assert_eq!(remote, client.local_addr().unwrap());
        clients.push(client);
        conns.push(conn);
    }
    // The fourth connection took the last hardware socket: nothing left to listen on.
    assert!(!listener.is_armed());
    assert_eq!(w5100.socket().err(), Some(Error::NoFreeSocket));
    let started = Instant::now();
    for _ in 0..1_000 {
        assert!(matches!(w5100.accept(&mut listener), Err(nb::Error::WouldBlock)));
    }
    assert!(started.elapsed() < DEADLINE);

    // Nothing listens: a fifth client is refused, as the chip refuses it (RST) ...
    let refused = TcpStream::connect(local(port)).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert!(matches!(w5100.accept(&mut listener), Err(nb::Error::WouldBlock)));
    // ... until a connection closes and the next accept re-arms on the freed socket. The
    // first client closes too, so the graceful close need not wait for it.
    clients[0].shutdown(Shutdown::Write).unwrap();
    w5100.close(conns.remove(0)).unwrap();
    assert!(matches!(w5100.accept(&mut listener), Err(nb::Error::WouldBlock)));
    assert!(listener.is_armed());
    let mut fifth = TcpStream::connect(local(port)).unwrap();
    peer(&fifth);
    let (mut conn, remote) = poll(|| w5100.accept(&mut listener)).unwrap();
    assert_eq!(remote, fifth.local_addr().unwrap());
    fifth.write_all(b"five").unwrap();
    let data = receive_exact(&mut w5100, &mut conn, 4);
    assert_eq!(data, b"five");

    // The first client saw a clean close; the others are still served.
    let mut buf = [0; 8];
    assert_eq!(peer(&clients[0]).read(&mut buf).unwrap(), 0);
    for (client, conn) in clients.iter_mut().skip(1).zip(&mut conns) {
        client.write_all(b"hi").unwrap();
        assert_eq!(receive_exact(&mut w5100, conn, 2), b"hi");
    }
}

#[test]
fn send_takes_what_fits() {
    let (mut w5100, mut socket, mut peer) = connected_pair(&SocketSizes::default(), 0);
    let big = vec![0xA5; 5_000];
    let taken = poll(|| w5100.send(&mut socket, &big)).unwrap();
    assert!(taken > 0 && taken <= 2048, "took {taken}");
    let mut buf = vec![0; taken];
    peer.read_exact(&mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0xA5));
    assert_eq!(w5100.send(&mut socket, &[]), Ok(0));
    assert_eq!(w5100.receive(&mut socket, &mut []), Ok(0));
    assert_eq!(w5100.receive(&mut socket, &mut [0; 4]), Err(nb::Error::WouldBlock));
}

/// Payload `round` of a wrap test: every byte depends on its position and the round.
fn pattern(round: usize, len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ round.wrapping_mul(7)) as u8 ^ salt).collect()
}

/// Send and receive `rounds` payloads of `len` bytes each way, checking every byte and the
/// ring pointers the driver leaves in the chip.
fn exchange(w5100: &mut Stack, socket: &mut TcpSocket, peer: &mut TcpStream, rounds: usize, len: usize) {
    let n = socket.hardware_socket().unwrap().index();
    let tx_wr = regs::socket_register(n, sn::TX_WR);
    let rx_rd = regs::socket_register(n, sn::RX_RD);
    let pointer = |w5100: &mut Stack, addr: u16| {
        let sim = w5100.spi_mut();
        u16::from_be_bytes([sim.register(addr), sim.register(addr + 1)])
    };
    let start_tx = pointer(w5100, tx_wr);
    let start_rx = pointer(w5100, rx_rd);
    let mut got = vec![0; len];
    for round in 0..rounds {
        let outbound = pattern(round, len, 0x00);
        send_all(w5100, socket, &outbound);
        peer.read_exact(&mut got).unwrap();
        assert_eq!(got, outbound, "driver → peer, round {round}");

        let inbound = pattern(round, len, 0xFF);
        peer.write_all(&inbound).unwrap();
        let received = receive_exact(w5100, socket, len);
        assert_eq!(received, inbound, "peer → driver, round {round}");

        let moved = u16::try_from((round + 1) * len % 0x1_0000).unwrap();
        assert_eq!(pointer(w5100, tx_wr), start_tx.wrapping_add(moved));
        assert_eq!(pointer(w5100, rx_rd), start_rx.wrapping_add(moved));
    }
}

#[test]
fn rings_wrap_at_every_offset() {
    // 301 is odd, so 2048 rounds of 301 bytes start a transfer at every offset of a
    // 2 KiB ring, most of them wrapping, in both directions.
    let (mut w5100, mut socket, mut peer) = connected_pair(&SocketSizes::default(), 0);
    exchange(&mut w5100, &mut socket, &mut peer, 2048, 301);
}

#[test]
fn rings_wrap_across_the_16_bit_pointer_boundary() {
    // Pointers start just below 0xFFFF; 1 KiB buffers, payloads close to the ring size.
    let sizes = SocketSizes::uniform(BufSize::K1);
    let (mut w5100, mut socket, mut peer) = connected_pair(&sizes, 0xFF00);
    exchange(&mut w5100, &mut socket, &mut peer, 8, 1021);
}

#[test]
fn rings_wrap_in_an_8_kib_buffer() {
    let sizes = SocketSizes {
        rx: [BufSize::K8, BufSize::K1, BufSize::K1, BufSize::K1],
        tx: [BufSize::K8, BufSize::K1, BufSize::K1, BufSize::K1],
    };
    let (mut w5100, mut socket, mut peer) = connected_pair(&sizes, 0x1F00);
    exchange(&mut w5100, &mut socket, &mut peer, 5, 3001);
}

#[test]
fn listening_on_a_busy_port_is_an_error() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut w5100 = stack();
    let mut listener = w5100.socket().unwrap();
    w5100.bind(&mut listener, port).unwrap();
    let error = w5100.listen(&mut listener).unwrap_err();
    assert_eq!(error, Error::UnexpectedStatus(0x00));
    let io = w5100.spi_mut().last_io_error().map(std::io::Error::kind);
    assert_eq!(io, Some(ErrorKind::AddrInUse));
}

#[test]
fn a_peer_that_does_not_read_backs_up_into_would_block() {
    let (mut w5100, mut socket, peer) = connected_pair(&SocketSizes::default(), 0);
    let chunk = [0x5A; 2048];
    let mut total = 0usize;
    let started = Instant::now();
    // The host's socket buffers fill up, then the chip's ring, then send stops taking bytes.
    loop {
        match w5100.send(&mut socket, &chunk) {
            Ok(n) => total += n,
            Err(nb::Error::WouldBlock) => break,
            Err(nb::Error::Other(e)) => panic!("{e:?}"),
        }
        assert!(started.elapsed() < DEADLINE, "never blocked after {total} bytes");
    }
    for _ in 0..100 {
        assert_eq!(w5100.send(&mut socket, &chunk), Err(nb::Error::WouldBlock));
    }
    // The peer drains everything; the driver's polling lets the model flush its ring.
    let reader = std::thread::spawn(move || {
        let mut peer = peer;
        let mut buf = vec![0; total];
        peer.read_exact(&mut buf).map(|()| buf.iter().all(|&b| b == 0x5A))
    });
    while !reader.is_finished() {
        let _ = w5100.receive(&mut socket, &mut [0; 1]);
        assert!(started.elapsed() < DEADLINE * 2);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(reader.join().unwrap().unwrap());
    // The chip takes data again.
    assert_eq!(poll(|| w5100.send(&mut socket, &chunk)), Ok(2048));
}

#[test]
fn a_client_gone_before_accept_is_still_handed_out() {
    let mut w5100 = stack();
    let port = free_port();
    let mut listener = w5100.socket().unwrap();
    w5100.bind(&mut listener, port).unwrap();
    w5100.listen(&mut listener).unwrap();
    {
        let mut client = TcpStream::connect(local(port)).unwrap();
        client.write_all(b"note").unwrap();
    }
    // Give the FIN time to arrive so the chip model sees data then EOF.
    std::thread::sleep(Duration::from_millis(20));
    let (mut conn, _) = poll(|| w5100.accept(&mut listener)).unwrap();
    assert_eq!(receive_exact(&mut w5100, &mut conn, 4), b"note");
    let mut buf = [0; 4];
    assert_eq!(poll(|| w5100.receive(&mut conn, &mut buf)), Err(Error::Closed));
    w5100.close(conn).unwrap();
}

#[test]
fn close_sends_everything_then_fin_and_waits_for_the_peer() {
    let (mut w5100, mut socket, peer) = connected_pair(&SocketSizes::default(), 0);
    // A peer that does not read yet: the host's buffers fill, then the chip's ring.
    let chunk = [0x5A; 2048];
    let mut total = 0;
    loop {
        match w5100.send(&mut socket, &chunk) {
            Ok(n) => total += n,
            Err(nb::Error::WouldBlock) => break,
            Err(nb::Error::Other(e)) => panic!("{e:?}"),
        }
    }
    // The peer reads everything after a while, sees our FIN and closes too.
    let reader = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let mut peer = peer;
        let mut data = Vec::new();
        peer.read_to_end(&mut data).map(|_| data.len())
    });
    // The close waits for the last SEND before its FIN and for the peer's FIN after: a
    // FIN, or a CLOSE, while the chip still holds data would cut the stream short.
    let started = Instant::now();
    w5100.close(socket).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "the close ran into its deadline");
    assert_eq!(reader.join().unwrap().unwrap(), total);
}

/// Write `value` to register `addr` through the chip model's SPI side.
fn poke(w5100: &mut Stack, addr: u16, value: u8) {
    use embedded_hal::spi::SpiDevice;
    let [hi, lo] = addr.to_be_bytes();
    w5100.spi_mut().write(&[0xF0, hi, lo, value]).unwrap();
}

#[test]
fn close_ends_when_the_chip_times_out_or_at_its_deadline() {
    // The peer never closes. With RTR = 1 ms and RCR = 1, the chip gives up in FIN_WAIT
    // after 2 ms (TIMEOUT, CLOSED): the close ends then.
    let (mut w5100, socket, _peer) = connected_pair(&SocketSizes::default(), 0);
    poke(&mut w5100, regs::RTR, 0x00);
    poke(&mut w5100, regs::RTR + 1, 10);
    poke(&mut w5100, regs::RCR, 1);
    let started = Instant::now();
    w5100.close(socket).unwrap();
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    // At the reset values the chip waits 1.8 s: the close gives up after its 1 s.
    let (mut w5100, socket, mut peer) = connected_pair(&SocketSizes::default(), 0);
    let started = Instant::now();
    w5100.close(socket).unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(990) && took < Duration::from_millis(1_500), "{took:?}");
    // The FIN went out before the CLOSE.
    assert_eq!(peer.read(&mut [0; 4]).unwrap(), 0);
}

#[test]
fn failed_listens_give_their_hardware_sockets_back() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut w5100 = stack();
    // More failures than the chip has sockets, each with a handle of its own that is
    // dropped without `close` (as a retry loop might): none keeps its hardware socket.
    for _ in 0..6 {
        let mut listener = w5100.socket().unwrap();
        w5100.bind(&mut listener, port).unwrap();
        assert_eq!(w5100.listen(&mut listener), Err(Error::UnexpectedStatus(0x00)));
        assert_eq!(listener.hardware_socket(), None);
    }
    // The same through ws-nal's Listener, as the firmware retries every 100 ms.
    for _ in 0..6 {
        assert!(ws_nal::Listener::bind(&mut w5100, port).is_err());
    }
    let sockets: Vec<_> = (0..4).map(|_| w5100.socket().unwrap()).collect();
    assert_eq!(sockets.len(), 4);
}

#[test]
fn sockets_are_opened_without_delayed_ack() {
    // TCP | ND (0x21): without ND the chip holds ACKs back for up to RTR (200 ms).
    let (mut w5100, socket, _peer) = connected_pair(&SocketSizes::default(), 0);
    let n = socket.hardware_socket().unwrap().index();
    assert_eq!(w5100.spi_mut().register(regs::socket_register(n, sn::MR)), 0x21);
    let mut listener = w5100.socket().unwrap();
    w5100.bind(&mut listener, free_port()).unwrap();
    w5100.listen(&mut listener).unwrap();
    let n = listener.hardware_socket().unwrap().index();
    assert_eq!(w5100.spi_mut().register(regs::socket_register(n, sn::MR)), 0x21);
}

#[test]
fn send_and_receive_wait_while_the_chip_connects() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut w5100 = stack();
    let mut socket = w5100.socket().unwrap();
    assert_eq!(w5100.connect(&mut socket, local(port)), Err(nb::Error::WouldBlock));
    // The chip resolves the peer (ARP), sends SYN, then is connected: until then send and
    // receive would block, they do not report a closed connection.
    let n = socket.hardware_socket().unwrap().index();
    let mut seen = Vec::new();
    let sent = poll(|| {
        let status = regs::Status::from_code(w5100.spi_mut().register(regs::socket_register(n, sn::SR)));
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        match w5100.receive(&mut socket, &mut [0; 8]) {
            Err(nb::Error::WouldBlock) => {}
            other => panic!("receive while connecting: {other:?}"),
        }
        w5100.send(&mut socket, b"early")
    });
    assert_eq!(sent, Ok(5));
    assert!(seen.contains(&regs::Status::ARP) && seen.contains(&regs::Status::SYN_SENT), "{seen:?}");
    let (mut peer, _) = listener.accept().unwrap();
    let mut buf = [0; 5];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"early");
}

/// A WebSocket client on a chip model of its own: opens a session to `port`, calls
/// `opened` once it is open, echoes `text` through the server and closes. Returns the echo.
fn echo_client(port: u16, text: &str, opened: impl FnOnce()) -> String {
    use ws_nal::ws_proto::handshake::ClientRequest;
    use ws_nal::ws_proto::{CloseCode, Message};
    use ws_nal::{Buffers, Event, Session};

    let mut w5100 = stack();
    let socket = ws_nal::connect(&mut w5100, local(port)).unwrap();
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
    let mut session = Session::builder(socket, Buffers { rx: &mut rx, tx: &mut tx }).client(
        ClientRequest::new("127.0.0.1", "/"),
        rand::rng(),
        now_ms(),
    );
    let mut opened = Some(opened);
    let mut echo = String::new();
    loop {
        let idle = || std::thread::sleep(Duration::from_micros(50));
        let (event, mut reply) = session.poll_blocking(&mut w5100, now_ms, idle).unwrap();
        match event {
            Event::Open { .. } => {
                if let Some(opened) = opened.take() {
                    opened();
                }
                reply.send(Message::Text(text)).unwrap();
            }
            Event::Data { payload, fin, .. } => {
                echo.push_str(std::str::from_utf8(payload).unwrap());
                if fin {
                    reply.close(CloseCode::NORMAL, "").unwrap();
                }
            }
            Event::Closed { clean, .. } => {
                assert!(clean, "unclean close");
                return echo;
            }
            _ => {}
        }
    }
}

#[test]
fn the_echo_loop_serves_clients_one_after_another_and_side_by_side() {
    // The firmware's loop (shared with `echo_server_sim`), three connections, on a chip
    // that refuses clients while none of its sockets listens.
    let port = free_port();
    let (listening_tx, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut w5100 = stack();
        let mut listener = ws_nal::Listener::bind(&mut w5100, port).unwrap();
        listening_tx.send(()).unwrap();
        let config = ws_examples::serve::Serve { slots: 3, buf_len: 1024, protocols: &[], deflate: false };
        ws_examples::serve::serve(&mut w5100, &mut listener, config, |_| {})
    });
    listening.recv().unwrap();
    for round in 0..4 {
        let text = format!("one after another, {round}");
        assert_eq!(echo_client(port, &text, || {}), text);
    }
    // Three at once: each connects once the one before it is open (the listener re-arms
    // after every accept), and none sends before all three are open.
    let all_open = std::sync::Barrier::new(3);
    std::thread::scope(|scope| {
        let mut previous: Option<std::sync::mpsc::Receiver<()>> = None;
        let mut clients = Vec::new();
        for i in 0..3 {
            let (open_tx, open_rx) = std::sync::mpsc::channel();
            let after = previous.replace(open_rx);
            let all_open = &all_open;
            clients.push(scope.spawn(move || {
                if let Some(after) = after {
                    after.recv().unwrap();
                }
                let text = format!("side by side, {i}");
                let echo = echo_client(port, &text, || {
                    open_tx.send(()).unwrap();
                    all_open.wait();
                });
                assert_eq!(echo, text);
            }));
        }
        for client in clients {
            client.join().unwrap();
        }
    });
}
