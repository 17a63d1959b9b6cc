//! A server `Connection` with permessage-deflate agreed, fed a client's bytes; see
//! `ws_fuzz::deflate` for the input layout and the checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ws_fuzz::deflate::run(data));
