//! permessage-deflate for sessions (feature `deflate`): one inflater, shared.

use core::cell::Cell;

use ws_proto::deflate::{DeflateConfig, Inflater};

/// An inflater that sessions share, one message at a time: a session takes it for the
/// message it is inflating and gives it back when the message is over (or the session
/// ends). A session whose peer sends a compressed message while another holds it waits
/// (its input stays buffered) until it is free.
///
/// On a device this is what makes compression affordable: miniz_oxide's decompressor
/// takes about 10.5 KB, once for all sessions, plus its window. Sharing is possible
/// because sessions that use one ask their peers to compress every message on its own
/// (`client_no_context_takeover`, or `server_no_context_takeover` in a client's offer),
/// so no history outlives a message; and a peer's window is limited to this one's.
///
/// ```
/// use ws_nal::SharedInflater;
/// use ws_proto::deflate::Inflater;
/// let mut window = [0u8; 512];
/// let mut inflater = Inflater::new(&mut window[..]);
/// let shared = SharedInflater::new(&mut inflater);
/// ```
pub struct SharedInflater<'m> {
    slot: Cell<Option<&'m mut Inflater<&'m mut [u8]>>>,
    window_bits: u8,
}

impl<'m> SharedInflater<'m> {
    /// Shares `inflater`.
    pub fn new(inflater: &'m mut Inflater<&'m mut [u8]>) -> Self {
        let window_bits = inflater.window_bits();
        Self { slot: Cell::new(Some(inflater)), window_bits }
    }

    /// The window the peers may use, as a base-2 logarithm.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// The inflater, if no session holds it.
    pub(crate) fn take(&self) -> Option<&'m mut Inflater<&'m mut [u8]>> {
        self.slot.take()
    }

    /// Gives the inflater back.
    pub(crate) fn give(&self, inflater: &'m mut Inflater<&'m mut [u8]>) {
        self.slot.set(Some(inflater));
    }

    /// What a session negotiates with `config`: within this inflater's window, with
    /// every message compressed on its own, and (sessions send uncompressed) no context
    /// of its own to keep either.
    pub(crate) fn limit(&self, config: DeflateConfig) -> DeflateConfig {
        config
            .limit_receive_window(self.window_bits)
            .receive_no_context_takeover(true)
            .send_no_context_takeover(true)
    }
}

impl core::fmt::Debug for SharedInflater<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedInflater").field("window_bits", &self.window_bits).finish_non_exhaustive()
    }
}
