//! Keepalive: a ping after a while of silence, and a close after a longer while.

/// Pings a peer that has been silent for `ping_after_ms`, and closes the connection
/// (1001, going away) when nothing at all has arrived for `close_after_ms`.
///
/// ```
/// let keepalive = ws_io::Keepalive::new(30_000, 60_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Keepalive {
    /// Silence before a ping, in milliseconds.
    pub ping_after_ms: u32,
    /// Silence before the connection is closed, in milliseconds.
    pub close_after_ms: u32,
}

impl Keepalive {
    /// Ping after `ping_after_ms` of silence, close after `close_after_ms`.
    pub const fn new(ping_after_ms: u32, close_after_ms: u32) -> Self {
        Self { ping_after_ms, close_after_ms }
    }
}

/// What the keepalive asks for after some silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    Nothing,
    Ping,
    Close,
}

/// The silence so far, measured by the time that passed without a byte arriving.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeepaliveState {
    pub(crate) config: Option<Keepalive>,
    silence_ms: u32,
    pinged: bool,
    /// Time of the last [`tick`](Self::tick), for callers that poll with a clock.
    last_tick_ms: Option<u64>,
}

impl KeepaliveState {
    /// Bytes arrived: the silence is over.
    pub(crate) fn activity(&mut self) {
        self.silence_ms = 0;
        self.pinged = false;
    }

    /// How long to wait for bytes before the keepalive has something to do.
    pub(crate) fn next_wait_ms(&self) -> Option<u32> {
        let config = self.config?;
        let until = if self.pinged { config.close_after_ms } else { config.ping_after_ms };
        Some(until.saturating_sub(self.silence_ms).max(1))
    }

    /// `ms` passed without a byte.
    pub(crate) fn elapse(&mut self, ms: u32) -> Due {
        let Some(config) = self.config else { return Due::Nothing };
        self.silence_ms = self.silence_ms.saturating_add(ms);
        if self.silence_ms >= config.close_after_ms {
            Due::Close
        } else if self.silence_ms >= config.ping_after_ms && !self.pinged {
            self.pinged = true;
            Due::Ping
        } else {
            Due::Nothing
        }
    }

    /// The time is `now_ms` (any monotonic millisecond clock): what passed since the last
    /// tick counts as silence, unless bytes arrived since.
    pub(crate) fn tick(&mut self, now_ms: u64) -> Due {
        let elapsed = self.last_tick_ms.map_or(0, |last| now_ms.saturating_sub(last));
        self.last_tick_ms = Some(now_ms);
        self.elapse(u32::try_from(elapsed).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_once_then_closes() {
        let mut state = KeepaliveState { config: Some(Keepalive::new(100, 250)), ..Default::default() };
        assert_eq!(state.next_wait_ms(), Some(100));
        assert_eq!(state.elapse(60), Due::Nothing);
        assert_eq!(state.next_wait_ms(), Some(40));
        assert_eq!(state.elapse(40), Due::Ping);
        assert_eq!(state.next_wait_ms(), Some(150));
        assert_eq!(state.elapse(100), Due::Nothing);
        state.activity();
        assert_eq!(state.next_wait_ms(), Some(100));
        assert_eq!(state.elapse(100), Due::Ping);
        assert_eq!(state.elapse(150), Due::Close);
    }

    #[test]
    fn ticks_measure_silence_with_a_clock() {
        let mut state = KeepaliveState { config: Some(Keepalive::new(100, 250)), ..Default::default() };
        assert_eq!(state.tick(1_000), Due::Nothing);
        assert_eq!(state.tick(1_120), Due::Ping);
        state.activity();
        assert_eq!(state.tick(1_200), Due::Nothing);
        assert_eq!(state.tick(1_500), Due::Close);
        assert_eq!(KeepaliveState::default().tick(9_999_999), Due::Nothing, "off by default");
    }
}
