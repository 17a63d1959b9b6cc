//! Where a received message is put together: the caller's buffer, fixed or growable.

/// A buffer [`recv`](crate::blocking::WebSocket::recv) assembles a whole message in: a
/// slice or array of fixed size, or (with `alloc`) a `Vec<u8>` that grows up to the
/// connection's message limit.
pub trait MessageBuf {
    /// The bytes available now.
    fn bytes(&mut self) -> &mut [u8];

    /// Makes at least `len` bytes available, if the buffer can grow; false otherwise.
    fn reserve(&mut self, len: usize) -> bool {
        let _ = len;
        false
    }
}

impl MessageBuf for [u8] {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }
}

impl<const N: usize> MessageBuf for [u8; N] {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }
}

#[cfg(feature = "alloc")]
impl MessageBuf for alloc::vec::Vec<u8> {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }

    fn reserve(&mut self, len: usize) -> bool {
        if self.len() < len {
            // Doubling keeps the number of reallocations logarithmic in the message size.
            let target = len.max(self.len().saturating_mul(2)).max(256);
            self.resize(target, 0);
        }
        true
    }
}

/// A short string kept inline: a subprotocol name or a close reason.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inline<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> Inline<N> {
    pub(crate) const EMPTY: Self = Self { bytes: [0; N], len: 0 };

    /// A copy of `text`, or `None` if it is longer than `N` bytes.
    pub(crate) fn new(text: &str) -> Option<Self> {
        let mut inline = Self::EMPTY;
        inline.bytes.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
        inline.len = u8::try_from(text.len()).ok()?;
        Some(inline)
    }

    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.bytes.get(..usize::from(self.len)).unwrap_or_default()).unwrap_or_default()
    }
}
