//! The driver against fake SPI devices: no chip, a broken bus.

use core::convert::Infallible;
use std::cell::Cell;
use std::rc::Rc;

use embedded_hal::spi::{self, ErrorKind, ErrorType, Operation, SpiDevice};
use embedded_nal::TcpClientStack;
use ws_w5100::{Clock, Error, NetConfig, SocketSizes, W5100};

/// A clock that advances a millisecond each time it is read: waits end without real time.
fn ticking() -> impl Clock {
    let mut now = 0;
    move || {
        now += 1;
        now
    }
}

/// A bus with nothing on it: every byte read is the same level (pull-down or pull-up).
struct Floating(u8);

impl ErrorType for Floating {
    type Error = Infallible;
}

impl SpiDevice for Floating {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        for operation in operations {
            match operation {
                Operation::Read(words) | Operation::TransferInPlace(words) => words.fill(self.0),
                Operation::Transfer(read, _) => read.fill(self.0),
                Operation::Write(_) | Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BusFault;

impl spi::Error for BusFault {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// A bus whose controller reports an error on every transaction.
struct Broken;

impl ErrorType for Broken {
    type Error = BusFault;
}

impl SpiDevice for Broken {
    fn transaction(&mut self, _: &mut [Operation<'_, u8>]) -> Result<(), BusFault> {
        Err(BusFault)
    }
}

#[test]
fn init_reports_a_chip_that_never_answers() {
    for level in [0x00, 0xFF] {
        let mut w5100 = W5100::new(Floating(level), ticking());
        let result = w5100.init(&NetConfig::default(), &SocketSizes::default());
        assert_eq!(result, Err(Error::NotAnswering), "bus reading 0x{level:02X}");
        // Still unusable afterwards.
        assert_eq!(w5100.socket().err(), Some(Error::NotInitialized));
    }
}

#[test]
fn init_passes_bus_errors_through() {
    let mut w5100 = W5100::new(Broken, ticking());
    let result = w5100.init(&NetConfig::default(), &SocketSizes::default());
    assert_eq!(result, Err(Error::Spi(BusFault)));
}

#[test]
fn stack_refuses_before_init() {
    let mut w5100 = W5100::new(Floating(0), ticking());
    assert_eq!(w5100.socket().err(), Some(Error::NotInitialized));
}

/// A register file that stores what is written, with socket commands played by a script:
/// enough chip to reach the driver's rarer paths (timeouts, a stuck command register, a
/// slow chip).
struct Scripted {
    mem: Vec<u8>,
    /// Called on a write to Sn_CR with (memory, socket register base, command); returns
    /// what Sn_CR reads back afterwards.
    script: fn(&mut [u8], usize, u8) -> u8,
    /// Frames decoded so far, shared with the test's clock.
    frames: Rc<Cell<u64>>,
    /// Reads of Sn_CR that still show a command the script accepted (0 = none).
    cr_busy: usize,
    /// Reads of Sn_SR that still show the state before a command (0 = none).
    sr_lag: usize,
    /// The Sn_CR still showing a command: its address and the reads left.
    busy: Option<(usize, usize)>,
    /// A state change not shown yet: the Sn_SR address, the new value, the reads left.
    lagging: Option<(usize, u8, usize)>,
}

impl Scripted {
    fn new(script: fn(&mut [u8], usize, u8) -> u8) -> Self {
        let mut mem = vec![0; 0x8000];
        mem[0x0017] = 0x07;
        mem[0x0018] = 0xD0;
        Self { mem, script, frames: Rc::default(), cr_busy: 0, sr_lag: 0, busy: None, lagging: None }
    }

    fn frame(&mut self, frame: &mut [u8]) {
        self.frames.set(self.frames.get() + 1);
        let [op, hi, lo, data] = [frame[0], frame[1], frame[2], frame[3]];
        let addr = usize::from(u16::from_be_bytes([hi, lo])) % 0x8000;
        match op {
            0xF0 if addr == 0 => {} // MR: the reset completes at once.
            0xF0 if (0x0400..0x0800).contains(&addr) && addr & 0xFF == 0x01 => {
                let base = addr & !0xFF;
                let before = self.mem[base + SR];
                let cr = (self.script)(&mut self.mem, base, data);
                if self.sr_lag > 0 && self.mem[base + SR] != before {
                    self.lagging = Some((base + SR, self.mem[base + SR], self.sr_lag));
                    self.mem[base + SR] = before;
                }
                if cr == 0 && self.cr_busy > 0 {
                    self.mem[addr] = data;
                    self.busy = Some((addr, self.cr_busy));
                } else {
                    self.mem[addr] = cr;
                }
            }
            0xF0 if (0x0400..0x0800).contains(&addr) && addr & 0xFF == 0x02 => {
                self.mem[addr] &= !data; // Sn_IR: write 1 to clear
            }
            0xF0 => self.mem[addr] = data,
            0x0F => {
                match self.busy {
                    Some((at, 0)) if at == addr => {
                        self.mem[at] = 0;
                        self.busy = None;
                    }
                    Some((at, left)) if at == addr => self.busy = Some((at, left - 1)),
                    _ => {}
                }
                match self.lagging {
                    Some((at, value, 0)) if at == addr => {
                        self.mem[at] = value;
                        self.lagging = None;
                    }
                    Some((at, value, left)) if at == addr => self.lagging = Some((at, value, left - 1)),
                    _ => {}
                }
                frame[3] = self.mem[addr];
            }
            _ => {}
        }
    }
}

impl ErrorType for Scripted {
    type Error = Infallible;
}

impl SpiDevice for Scripted {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        for operation in operations {
            match operation {
                Operation::TransferInPlace(words) if words.len() == 4 => self.frame(words),
                Operation::Write(words) if words.len() == 4 => {
                    let mut frame = [words[0], words[1], words[2], words[3]];
                    self.frame(&mut frame);
                }
                _ => panic!("the driver sends one 4-byte frame per transaction"),
            }
        }
        Ok(())
    }
}

const SR: usize = 0x03;
const IR: usize = 0x02;

fn stack(script: fn(&mut [u8], usize, u8) -> u8) -> W5100<Scripted, impl Clock> {
    let mut w5100 = W5100::new(Scripted::new(script), ticking());
    w5100.init(&NetConfig::default(), &SocketSizes::default()).unwrap();
    w5100
}

fn remote() -> core::net::SocketAddr {
    "10.0.0.2:80".parse().unwrap()
}

#[test]
fn connect_timeout_is_reported() {
    let mut w5100 = stack(|mem, base, command| {
        match command {
            0x01 => mem[base + SR] = 0x13, // OPEN → INIT
            0x04 => {
                mem[base + SR] = 0x00; // CONNECT: ARP/SYN retries ran out
                mem[base + IR] |= 0x08;
            }
            _ => {}
        }
        0
    });
    let mut socket = w5100.socket().unwrap();
    assert_eq!(w5100.connect(&mut socket, remote()), Err(nb::Error::WouldBlock));
    let result = w5100.connect(&mut socket, remote());
    assert_eq!(result, Err(nb::Error::Other(Error::Timeout)));
}

#[test]
fn send_timeout_is_reported_on_the_next_send() {
    let mut w5100 = stack(|mem, base, command| {
        match command {
            0x01 => mem[base + SR] = 0x13,
            0x04 => mem[base + SR] = 0x17, // CONNECT → ESTABLISHED
            0x20 => {
                // SEND: no SEND_OK; the retransmissions run out (TIMEOUT) and, as on the
                // chip, the socket closes with it.
                mem[base + IR] |= 0x08;
                mem[base + SR] = 0x00;
            }
            _ => {}
        }
        0
    });
    // Free space: 2 KiB in Sn_TX_FSR of socket 0.
    w5100.spi_mut().mem[0x0420] = 0x08;
    let mut socket = w5100.socket().unwrap();
    assert_eq!(w5100.connect(&mut socket, remote()), Err(nb::Error::WouldBlock));
    assert_eq!(w5100.connect(&mut socket, remote()), Ok(()));
    assert_eq!(w5100.send(&mut socket, b"abc"), Ok(3));
    assert_eq!(w5100.send(&mut socket, b"def"), Err(nb::Error::Other(Error::Timeout)));
}

#[test]
fn a_stuck_command_register_is_an_error_not_a_hang() {
    // Sn_CR never clears.
    let mut w5100 = stack(|_, _, command| command);
    let mut socket = w5100.socket().unwrap();
    assert_eq!(w5100.connect(&mut socket, remote()), Err(nb::Error::Other(Error::CommandTimeout)));
    let mut listener = w5100.socket().unwrap();
    embedded_nal::TcpFullStack::bind(&mut w5100, &mut listener, 80).unwrap();
    assert_eq!(embedded_nal::TcpFullStack::listen(&mut w5100, &mut listener), Err(Error::CommandTimeout));
}

/// A chip that does what each command asks, at once: OPEN → INIT, LISTEN → LISTEN,
/// CONNECT → ESTABLISHED, DISCON and CLOSE → CLOSED.
fn obedient(mem: &mut [u8], base: usize, command: u8) -> u8 {
    match command {
        0x01 => mem[base + SR] = 0x13,
        0x02 => mem[base + SR] = 0x14,
        0x04 => mem[base + SR] = 0x17,
        0x08 | 0x10 => mem[base + SR] = 0x00,
        _ => {}
    }
    0
}

/// The clock of a bus on which every frame takes 10 µs: milliseconds from the frame count.
fn frame_clock(frames: &Rc<Cell<u64>>) -> impl Clock {
    let frames = Rc::clone(frames);
    move || frames.get() / 100
}

#[test]
fn waits_are_timed_by_the_clock_not_by_a_poll_count() {
    // A chip that shows each command in Sn_CR for 5,000 reads (50 ms at 10 µs a frame):
    // within the 100 ms a command may take, however many polls that is.
    let mut chip = Scripted::new(obedient);
    chip.cr_busy = 5_000;
    let frames = Rc::clone(&chip.frames);
    let mut w5100 = W5100::new(chip, frame_clock(&frames));
    w5100.init(&NetConfig::default(), &SocketSizes::default()).unwrap();
    let mut listener = w5100.socket().unwrap();
    embedded_nal::TcpFullStack::bind(&mut w5100, &mut listener, 80).unwrap();
    assert_eq!(embedded_nal::TcpFullStack::listen(&mut w5100, &mut listener), Ok(()));
    // A command register that never clears is given up on after 100 ms of the clock.
    w5100.spi_mut().script = |_, _, command| command;
    let mut socket = w5100.socket().unwrap();
    let before = frames.get();
    assert_eq!(w5100.connect(&mut socket, remote()), Err(nb::Error::Other(Error::CommandTimeout)));
    let waited = frames.get() - before;
    assert!((9_900..=10_100).contains(&waited), "gave up after {waited} frames, not 100 ms");
}

#[test]
fn every_arp_code_is_a_connection_on_its_way() {
    // W5100s report ARP as 0x01, the datasheet as 0x11, 0x21 and 0x31.
    for code in [0x01, 0x11, 0x21, 0x31] {
        let mut w5100 = stack(obedient);
        let mut socket = w5100.socket().unwrap();
        assert_eq!(w5100.connect(&mut socket, remote()), Err(nb::Error::WouldBlock));
        w5100.spi_mut().mem[0x0403] = code;
        assert_eq!(w5100.send(&mut socket, b"x"), Err(nb::Error::WouldBlock), "0x{code:02X}");
        assert_eq!(w5100.receive(&mut socket, &mut [0; 4]), Err(nb::Error::WouldBlock), "0x{code:02X}");
        assert_eq!(w5100.connect(&mut socket, remote()), Err(nb::Error::WouldBlock), "0x{code:02X}");
    }
}

#[test]
fn the_driver_waits_for_the_state_a_command_causes() {
    // The chip shows the state before a command for 20 reads of Sn_SR after taking it.
    let mut chip = Scripted::new(obedient);
    chip.cr_busy = 3;
    chip.sr_lag = 20;
    let mut w5100 = W5100::new(chip, ticking());
    w5100.init(&NetConfig::default(), &SocketSizes::default()).unwrap();
    let mut listener = w5100.socket().unwrap();
    embedded_nal::TcpFullStack::bind(&mut w5100, &mut listener, 80).unwrap();
    assert_eq!(embedded_nal::TcpFullStack::listen(&mut w5100, &mut listener), Ok(()));
    assert_eq!(w5100.spi_mut().mem[0x0403], 0x14);
    let mut socket = w5100.socket().unwrap();
    assert_eq!(nb::block!(w5100.connect(&mut socket, remote())), Ok(()));
    assert_eq!(w5100.close(socket), Ok(()));
    assert_eq!(w5100.close(listener), Ok(()));
    assert_eq!(w5100.spi_mut().mem[0x0403], 0x00);
}
