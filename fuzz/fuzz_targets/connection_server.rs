//! A server `Connection` fed a client's bytes; see `ws_fuzz::connection` for the input
//! layout and the checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::Role;

fuzz_target!(|data: &[u8]| ws_fuzz::connection::run(data, Role::Server));
