//! The limits a connection enforces, and which end it is.

/// Which end of the connection this is; it decides the masking rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// Masks every frame it sends; rejects masked frames.
    Client,
    /// Never masks; rejects unmasked frames.
    Server,
}

/// Limits, with defaults safe for a small device; set them with the builder methods.
///
/// Payloads stream through the caller's buffers, so the frame and message limits bound
/// how long a peer may keep one message going, not memory.
///
/// ```
/// let config = ws_proto::Config::default().max_message_size(1 << 20);
/// assert_eq!(config.max_message_size, 1 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Config {
    /// Largest accepted frame payload (default 64 MiB); larger is closed with 1009.
    pub max_frame_size: u64,
    /// Largest accepted message, all fragments together (default 64 MiB); 1009 beyond.
    pub max_message_size: u64,
    /// Largest opening handshake head, request or response (default 2 KiB); 431 beyond.
    pub max_handshake_size: usize,
}

impl Config {
    /// The defaults: 64 MiB frames and messages, 2 KiB handshake heads.
    pub const fn new() -> Self {
        Self { max_frame_size: 64 << 20, max_message_size: 64 << 20, max_handshake_size: 2048 }
    }

    /// Sets the largest accepted frame payload.
    #[must_use]
    pub const fn max_frame_size(mut self, bytes: u64) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets the largest accepted message, all fragments together.
    #[must_use]
    pub const fn max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets the largest opening handshake head.
    #[must_use]
    pub const fn max_handshake_size(mut self, bytes: usize) -> Self {
        self.max_handshake_size = bytes;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}
