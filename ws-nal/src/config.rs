//! What a session is configured with: limits, subprotocols, timeouts, and its buffers.

use ws_proto::Config;

/// Session settings, with builder setters.
///
/// ```
/// let config = ws_nal::SessionConfig::new().protocols(&["chat"]).handshake_timeout_ms(2000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig<'c> {
    /// Protocol limits.
    pub ws: Config,
    /// A server's subprotocols, most preferred first: when the application does not
    /// answer [`Event::Request`](crate::Event::Request) itself, the first of the client's
    /// offers in this list is chosen.
    pub protocols: &'c [&'c str],
    /// Longest the opening handshake may take, in milliseconds (default 5000).
    pub handshake_timeout_ms: u64,
    /// Longest to wait for the peer's close frame or TCP close after sending ours
    /// (default 2000).
    pub close_timeout_ms: u64,
}

impl<'c> SessionConfig<'c> {
    /// The defaults: [`Config::default`], no subprotocols, 5 s and 2 s timeouts.
    pub const fn new() -> Self {
        Self { ws: Config::new(), protocols: &[], handshake_timeout_ms: 5000, close_timeout_ms: 2000 }
    }

    /// Sets the protocol limits.
    #[must_use]
    pub const fn ws(mut self, ws: Config) -> Self {
        self.ws = ws;
        self
    }

    /// Sets a server's subprotocols.
    #[must_use]
    pub const fn protocols(mut self, protocols: &'c [&'c str]) -> Self {
        self.protocols = protocols;
        self
    }

    /// Sets the opening handshake timeout.
    #[must_use]
    pub const fn handshake_timeout_ms(mut self, ms: u64) -> Self {
        self.handshake_timeout_ms = ms;
        self
    }

    /// Sets the closing handshake timeout.
    #[must_use]
    pub const fn close_timeout_ms(mut self, ms: u64) -> Self {
        self.close_timeout_ms = ms;
        self
    }
}

impl Default for SessionConfig<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The two buffers a session works in, each at least [`Buffers::MIN_LEN`] bytes: `rx`
/// for received bytes (the whole handshake head must fit), `tx` for outgoing frames
/// (received data arrives in chunks small enough to go back out in one frame).
#[derive(Debug)]
pub struct Buffers<'b> {
    /// Received bytes.
    pub rx: &'b mut [u8],
    /// Bytes to send.
    pub tx: &'b mut [u8],
}

impl<'b> Buffers<'b> {
    /// The smallest buffer: a whole control frame must fit in `rx` (139 bytes with the
    /// longest header), and a pong or close reply in `tx` (131).
    pub const MIN_LEN: usize = 256;

    /// Both buffers from one piece of memory, split in halves.
    pub fn split(memory: &'b mut [u8]) -> Self {
        let (rx, tx) = memory.split_at_mut(memory.len() / 2);
        Self { rx, tx }
    }
}
