//! permessage-deflate (RFC 7692): negotiation, inflating received messages and
//! compressing sent ones, `no_std` and without an allocator.
//!
//! - Negotiation: a client offers with [`ClientRequest::deflate`]; a server picks the
//!   first acceptable offer with [`Request::deflate`] and answers it with
//!   [`Accept::deflate`]; the client checks the answer in
//!   [`ClientHandshake::read_response`] ([`Response::deflate`] tells the outcome). What
//!   each end can afford (window sizes, context takeover) is its [`DeflateConfig`]; what
//!   was agreed is a [`Deflate`], which the [`Connection`] is given with
//!   [`Connection::set_deflate`].
//! - Receiving: [`Connection::receive_with`] inflates compressed messages through an
//!   [`Inflater`] whose window is memory the caller provides (2^bits bytes), and hands out
//!   the inflated bytes as chunks like any other data, UTF-8-checked and counted against
//!   `Config::max_message_size` (1009 beyond: a small message that inflates to a huge
//!   one costs nothing but the close).
//! - Sending: [`Connection::send_compressed`] compresses a message into frames through
//!   any [`Compress`]; [`Compressor`] is one that keeps every distance within the
//!   negotiated window, in memory the caller provides. Any message may also go out
//!   uncompressed.
//!
//! [`ClientRequest::deflate`]: crate::handshake::ClientRequest::deflate
//! [`Request::deflate`]: crate::handshake::Request::deflate
//! [`Accept::deflate`]: crate::handshake::Accept::deflate
//! [`ClientHandshake::read_response`]: crate::handshake::ClientHandshake::read_response
//! [`Response::deflate`]: crate::handshake::Response::deflate
//! [`Connection`]: crate::Connection
//! [`Connection::set_deflate`]: crate::Connection::set_deflate
//! [`Connection::receive_with`]: crate::Connection::receive_with
//! [`Connection::send_compressed`]: crate::Connection::send_compressed

mod compress;
mod inflate;
mod negotiate;

pub use compress::Compressor;
pub use inflate::Inflater;
pub(crate) use inflate::Step;
pub use negotiate::{Deflate, DeflateConfig};

use crate::Error;

/// The smallest and largest LZ77 window RFC 7692 allows, as base-2 logarithms.
pub const MIN_WINDOW_BITS: u8 = 8;
/// See [`MIN_WINDOW_BITS`].
pub const MAX_WINDOW_BITS: u8 = 15;

/// A DEFLATE compressor as permessage-deflate needs it: raw DEFLATE, each message ended
/// at a byte boundary with the empty stored block of a sync flush minus its last four
/// bytes (`00 00 ff ff`, RFC 7692 §7.2.1), and no match farther back than its window.
pub trait Compress {
    /// The base-2 logarithm of the farthest distance a match may reach back: at most the
    /// window the peer agreed to inflate with.
    fn window_bits(&self) -> u8;

    /// Compresses from `input` into `out`. With `finish`, the message ends once all of
    /// `input` is taken and its output written. Returns how many input bytes were taken,
    /// how many output bytes were written, and whether the message is finished; call
    /// again with the rest (and `finish` as before) until it is.
    fn compress(&mut self, input: &[u8], out: &mut [u8], finish: bool) -> Result<Compressed, Error>;
}

/// What one [`Compress::compress`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
    /// Input bytes taken.
    pub taken: usize,
    /// Output bytes written.
    pub written: usize,
    /// The message is complete: its last byte is written.
    pub finished: bool,
}
