//! ws-proto's receive and send paths make no heap allocation: a counting global allocator
//! sees none while megabytes of frames go through, whole and in chops.
// A global allocator is an `unsafe impl`; it only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use benches::{masked_stream, Kind, XorShift, CHOPS};
use ws_proto::{handshake, Config, Connection, DataKind, Event, Message};

/// Counts allocations per thread, so the test harness's other threads do not interfere.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the slot may already be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every call is forwarded unchanged to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Feeds `wire` in `chop`-byte pieces (whole if `None`); returns the payload bytes
/// delivered and the messages completed. Panics on any protocol error.
fn receive_all(wire: &mut [u8], chop: Option<usize>, expected: &[u8]) -> (usize, usize) {
    let mut conn = Connection::server(Config::default());
    let (mut delivered, mut messages, mut offset) = (0, 0, 0);
    let chop = chop.unwrap_or(wire.len());
    let (mut start, mut end) = (0, 0);
    while end < wire.len() {
        end = (end + chop).min(wire.len());
        loop {
            let (used, event) = conn.receive(&mut wire[start..end]);
            start += used;
            match event.expect("a valid stream") {
                Some(Event::Data { payload, fin, .. }) => {
                    // Compare without allocating: the chunk continues the expected payload.
                    assert_eq!(payload, &expected[offset..offset + payload.len()]);
                    offset += payload.len();
                    delivered += payload.len();
                    if fin {
                        assert_eq!(offset, expected.len());
                        offset = 0;
                        messages += 1;
                    }
                }
                Some(_) => {}
                None => break,
            }
        }
    }
    (delivered, messages)
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    drop(std::hint::black_box(Vec::<u8>::with_capacity(16)));
    assert_eq!(allocations() - before, 1);
}

#[test]
fn receive_path_does_not_allocate() {
    for kind in [Kind::Binary, Kind::Text] {
        for size in [16, 125, 4 << 10, 64 << 10, 1 << 20] {
            let wire = masked_stream(kind, size, 256 << 10);
            let mut scratch = wire.bytes.clone();
            for chop in CHOPS {
                scratch.copy_from_slice(&wire.bytes);
                let before = allocations();
                let (delivered, messages) = receive_all(&mut scratch, chop, &wire.payload);
                let after = allocations();
                assert_eq!(after - before, 0, "{kind:?} {size} B frames, chop {chop:?}");
                assert_eq!((delivered, messages), (wire.frames * size, wire.frames));
            }
        }
    }
}

#[test]
fn send_path_does_not_allocate() {
    let payload = benches::payload(Kind::Binary, 1 << 20);
    let text = String::from_utf8(benches::payload(Kind::Text, 64 << 10)).expect("text payload");
    let mut tx = vec![0u8; (1 << 20) + 14];
    let before = allocations();
    let mut client = Connection::client(Config::default(), XorShift::new(7));
    let mut server = Connection::server(Config::default());
    let mut sent = 0;
    for size in [0, 16, 125, 126, 4 << 10, 64 << 10, 1 << 20] {
        for _ in 0..8 {
            let n = client.send(Message::binary(&payload[..size]), &mut tx).expect("fits");
            sent += n;
            // The server gets exactly the payload back.
            let (used, event) = server.receive(&mut tx[..n]);
            let event = event.expect("valid frame");
            assert_eq!(used, n);
            let Some(Event::Data { kind: DataKind::Binary, payload: got, fin: true, .. }) = event else {
                panic!("expected one whole binary message of {size} bytes");
            };
            assert_eq!(got, &payload[..size]);
        }
    }
    for _ in 0..8 {
        sent += client.send(Message::text(&text), &mut tx).expect("fits");
        for piece in payload[..64 << 10].chunks(1460) {
            let last = piece.as_ptr_range().end == payload[..64 << 10].as_ptr_range().end;
            sent += client.send_fragment(DataKind::Binary, piece, last, &mut tx).expect("fits");
        }
    }
    // The opening handshake, server side: parse and write the 101.
    let config = Config::default();
    let request =
        handshake::Request::parse(benches::HANDSHAKE_REQUEST, &config).expect("valid").expect("whole");
    sent += request.accept(&handshake::Accept::new(), &mut tx).expect("fits");
    let after = allocations();
    assert_eq!(after - before, 0);
    assert!(sent > 8 << 20);
}
