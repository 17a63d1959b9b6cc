//! Panic freedom, proven at link time.
//!
//! This binary drives ws-proto's server and client handshake parsers and writers, the
//! receive path of a `Connection` in both roles, close handling and the send path, on
//! input the optimizer cannot see through (`black_box`). Its panic handler calls a
//! function that exists nowhere: with LTO, the link succeeds only if no panic is reachable
//! from any of those paths. Its `.text` is also the core's size on thumbv6m.
//!
//! `cargo xtask panic-check` builds it; `--features find-panics` defines the missing
//! function so that, should a panic path appear, the binary still links and its
//! disassembly shows which function calls into the panic machinery.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use ws_proto::handshake::{Accept, ClientHandshake, ClientRequest, Reject, Request, Url};
use ws_proto::rand_core::RngCore;
use ws_proto::{Assembler, CloseCode, Config, Connection, Event, Message};

/// Opaque bytes standing in for the network and for entropy.
struct Opaque;

impl RngCore for Opaque {
    fn next_u32(&mut self) -> u32 {
        black_box(0x2545_f491)
    }
    fn next_u64(&mut self) -> u64 {
        black_box(0x9e37_79b9_7f4a_7c15)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for b in dst {
            *b = black_box(0xa5);
        }
    }
}

#[entry]
fn main() -> ! {
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 512];
    let mut message = [0u8; 256];
    let config = Config::default();
    let mut server = Connection::server(config);
    let mut client = Connection::client(config, Opaque);
    let request = ClientRequest::new("h", "/").protocols(&["chat"]).headers(&[("X-Key", "1")]);
    let handshake = ClientHandshake::new(request, config, &mut Opaque);
    loop {
        let n = black_box(rx.len()).min(rx.len());
        black_box(&mut rx);

        // Opening handshake, server side: answer or reject.
        match Request::parse(rx.get(..n).unwrap_or_default(), &config) {
            Ok(Some(request)) => {
                black_box((request.path(), request.query(), request.origin(), request.header("cookie")));
                let accept =
                    Accept::new().protocol(request.choose_protocol(&["chat"])).headers(&[("X", "1")]);
                black_box(request.accept(&accept, &mut tx).ok());
                black_box(Reject::new(black_box(401)).headers(&[("X", "1")]).write(&mut tx).ok());
            }
            Ok(None) => {}
            Err(e) => {
                black_box(Reject::for_error(e).write(&mut tx).ok());
            }
        }
        // Opening handshake, client side.
        let url = core::str::from_utf8(rx.get(..n).unwrap_or_default()).unwrap_or_default();
        black_box(Url::parse(url).ok());
        black_box(handshake.write_request(&mut tx).ok());
        if let Ok(Some(response)) = handshake.read_response(rx.get(..n).unwrap_or_default()) {
            black_box((response.protocol(), response.header("x")));
        }

        // Receive and echo, both roles, with reassembly.
        let mut assembler = Assembler::new(&mut message);
        for conn in [&mut server as &mut dyn Echo, &mut client] {
            conn.echo(rx.get_mut(..black_box(n)).unwrap_or_default(), &mut tx, &mut assembler);
        }
        black_box(&tx);
        // permessage-deflate: negotiation, inflating, compressing (feature `deflate`).
        #[cfg(feature = "deflate")]
        deflate(&mut server, &mut rx, &mut tx, n, &config);
    }
}

/// The permessage-deflate paths: negotiation, inflating a received message, compressing
/// one to send.
#[cfg(feature = "deflate")]
fn deflate(server: &mut Connection, rx: &mut [u8], tx: &mut [u8], n: usize, config: &Config) {
    let mut window = [0u8; 512];
    let mut inflater = ws_proto::deflate::Inflater::new(&mut window[..]);
    let cfg = ws_proto::deflate::DeflateConfig::new().receive_window_bits(9);
    if let Ok(Some(request)) = Request::parse(rx.get(..n).unwrap_or_default(), config) {
        let agreed = request.deflate(&cfg);
        black_box(request.accept(&Accept::new().deflate(agreed), tx).ok());
        server.set_deflate(agreed);
    }
    let mut input = rx.get_mut(..black_box(n)).unwrap_or_default();
    loop {
        let (used, event) = server.receive_with(input, Some(&mut inflater));
        match event {
            Ok(Some(Event::Data { payload, .. })) => {
                black_box(payload);
            }
            Ok(None) => break,
            _ => {}
        }
        input = input.get_mut(used..).unwrap_or_default();
    }
    let mut storage = [0u8; 2304];
    if let Ok(mut compressor) = ws_proto::deflate::Compressor::new(&mut storage[..], 8, true) {
        let message = rx.get(..n).unwrap_or_default();
        black_box(server.send_compressed(&mut compressor, ws_proto::DataKind::Text, message, true, tx).ok());
    }
}

/// One receive-and-echo pass, for either role.
trait Echo {
    fn echo(&mut self, input: &mut [u8], tx: &mut [u8], assembler: &mut Assembler<'_>);
}

impl<R: RngCore> Echo for Connection<R> {
    fn echo(&mut self, mut input: &mut [u8], tx: &mut [u8], assembler: &mut Assembler<'_>) {
        loop {
            let (used, event) = self.receive(input);
            match event {
                Ok(Some(Event::Data { kind, payload, fin, .. })) => {
                    let frame = self.last_frame();
                    if frame.offset == 0 {
                        black_box(self.start_frame(kind, frame.len, frame.fin, tx).ok());
                    }
                    black_box(self.write_payload(payload, tx).ok());
                    black_box(self.send_fragment(kind, payload, fin, tx).ok());
                    if let Ok(Some(whole)) = assembler.push(kind, payload, fin) {
                        black_box(whole);
                    }
                }
                Ok(Some(Event::Ping(p))) => {
                    black_box(self.send(Message::Pong(p), tx).ok());
                }
                Ok(None) => break,
                Ok(Some(_)) | Err(_) => {}
            }
            black_box(self.poll_transmit(tx).ok());
            input = input.get_mut(used..).unwrap_or_default();
        }
        black_box(self.close(CloseCode::NORMAL, "bye").ok());
        black_box(self.poll_transmit(tx).ok());
    }
}

extern "Rust" {
    /// Defined nowhere: any reachable panic makes the link fail.
    fn panic_is_reachable() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: never called; if a panic were reachable the program would not link.
    unsafe { panic_is_reachable() }
}

/// With `--features find-panics` the symbol exists, so the binary links and its
/// disassembly shows which functions call into the panic machinery.
#[cfg(feature = "find-panics")]
mod find {
    #[no_mangle]
    extern "Rust" fn panic_is_reachable() -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}
