//! permessage-deflate for sessions (feature `deflate`): one inflater, shared.

use core::cell::Cell;

#[cfg(feature = "compress")]
use ws_proto::deflate::{Compress, Compressor};
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

/// A compressor for sessions' echoes and replies: a session takes it for a message it
/// sends compressed and gives it back at the message's end. Sessions may share one (a
/// session that finds it taken sends its message uncompressed, which is always allowed),
/// or each have their own. It compresses every message on its own, within the window the
/// peer agreed to and the one it was built for.
///
/// ```
/// use ws_nal::SharedCompressor;
/// use ws_proto::deflate::Compressor;
/// let mut storage = [0u8; Compressor::<&mut [u8]>::storage_len(8)];
/// let mut compressor = Compressor::new(&mut storage[..], 8, true).expect("storage for the window");
/// let shared = SharedCompressor::new(&mut compressor);
/// ```
#[cfg(feature = "compress")]
pub struct SharedCompressor<'m> {
    slot: Cell<Option<&'m mut Compressor<&'m mut [u8]>>>,
}

#[cfg(feature = "compress")]
impl<'m> SharedCompressor<'m> {
    /// Shares `compressor`.
    pub fn new(compressor: &'m mut Compressor<&'m mut [u8]>) -> Self {
        Self { slot: Cell::new(Some(compressor)) }
    }

    /// The compressor, if no session holds it.
    pub(crate) fn take(&self) -> Option<&'m mut Compressor<&'m mut [u8]>> {
        self.slot.take()
    }

    /// Gives the compressor back.
    pub(crate) fn give(&self, compressor: &'m mut Compressor<&'m mut [u8]>) {
        self.slot.set(Some(compressor));
    }
}

#[cfg(feature = "compress")]
/// A session's hold on its compressor: the shared one, and the one held while a message
/// is sent compressed.
pub(crate) struct Compressing<'m> {
    shared: Option<&'m SharedCompressor<'m>>,
    held: Option<&'m mut Compressor<&'m mut [u8]>>,
}

#[cfg(feature = "compress")]
impl<'m> Compressing<'m> {
    pub(crate) fn new(shared: Option<&'m SharedCompressor<'m>>) -> Self {
        Self { shared, held: None }
    }
}

#[cfg(feature = "compress")]
/// What a reply needs of [`Compressing`], without its lifetime.
pub(crate) trait CompressSlot: core::fmt::Debug {
    /// The compressor for the message being sent: the one held for it, or the shared one
    /// if free (then limited to `window_bits`); `None` if there is none to use.
    fn hold(&mut self, window_bits: u8) -> Option<&mut dyn Compress>;
    /// The message is over: the compressor goes back.
    fn release(&mut self);
}

#[cfg(feature = "compress")]
impl core::fmt::Debug for Compressing<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compressing").field("held", &self.held.is_some()).finish_non_exhaustive()
    }
}

#[cfg(feature = "compress")]
impl CompressSlot for Compressing<'_> {
    fn hold(&mut self, window_bits: u8) -> Option<&mut dyn Compress> {
        if self.held.is_none() {
            let compressor = self.shared?.take()?;
            compressor.set_window_bits(window_bits);
            self.held = Some(compressor);
        }
        self.held.as_deref_mut().map(|c| c as &mut dyn Compress)
    }

    fn release(&mut self) {
        if let (Some(shared), Some(compressor)) = (self.shared, self.held.take()) {
            compressor.reset();
            shared.give(compressor);
        }
    }
}

#[cfg(feature = "compress")]
impl core::fmt::Debug for SharedCompressor<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedCompressor").finish_non_exhaustive()
    }
}
