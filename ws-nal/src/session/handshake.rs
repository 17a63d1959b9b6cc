//! The opening handshake of each role, and the server's answer to a request.

use embedded_nal::TcpClientStack;
use rand_core::RngCore;
use ws_proto::handshake::{Accept, Reject, Request};
use ws_proto::Config;

use super::{Phase, Reply, Session, Why};
use crate::event::Ready;

/// The server's reading of a request head (already validated once).
pub(super) fn parse_request(head: &[u8]) -> Option<Request<'_>> {
    Request::parse(head, &Config::new().max_handshake_size(head.len().saturating_add(1))).ok().flatten()
}

impl<S: TcpClientStack, R: RngCore> Session<'_, '_, S, R> {
    /// Server: reports the request once its head is complete and valid, answers an
    /// invalid one with its HTTP error, and accepts a reported request the application
    /// left unanswered.
    pub(super) fn server_step(&mut self) {
        match self.phase {
            Phase::AwaitRequest { deadline } => match Request::parse(self.rx.pending(), &self.config.ws) {
                Ok(None) => {}
                Ok(Some(request)) => {
                    self.phase = Phase::Requested { head: request.len(), deadline };
                    self.ready = Some(Ready::Request { head: request.len() });
                }
                Err(e) => self.reject(&Reject::for_error(e), Why::Ws(e)),
            },
            Phase::Requested { head, .. } => {
                let Self { rx, conn, tx, tx_end, phase, ready, rx_skip, config, .. } = self;
                let head = rx.pending().get(..head).unwrap_or_default();
                let Some(request) = parse_request(head) else {
                    // Cannot happen: the head parsed before.
                    *phase = Phase::Ending(Why::Ws(ws_proto::Error::MalformedHttp));
                    return;
                };
                let accept = Accept::new().protocol(request.choose_protocol(config.protocols));
                let mut reply = Reply::new(conn, tx, tx_end, phase, ready, rx_skip, head);
                #[cfg(feature = "deflate")]
                reply.offer(self.deflate.map(|(config, _)| config));
                if let Err(e) = reply.accept(&request, &accept) {
                    *phase = Phase::Ending(Why::Ws(e));
                }
            }
            _ => {}
        }
    }

    /// Client: checks the server's answer once its head is complete.
    pub(super) fn client_step(&mut self) {
        let Phase::AwaitResponse { handshake, .. } = self.phase else { return };
        let head = self.rx.pending();
        match handshake.read_response(head) {
            Ok(None) => {}
            Ok(Some(response)) => {
                #[cfg(feature = "deflate")]
                self.conn.set_deflate(response.deflate());
                let len = response.len();
                let protocol = response.protocol().and_then(|p| find(head.get(..len).unwrap_or_default(), p));
                self.rx.consume(len);
                self.phase = Phase::Open;
                self.ready = Some(Ready::Open(protocol));
            }
            Err(e) => self.phase = Phase::Ending(Why::Ws(e)),
        }
    }

    /// Queues an HTTP error response; the session ends once it is sent.
    fn reject(&mut self, reject: &Reject<'_>, why: Why) {
        self.tx_end = reject.write(self.tx).unwrap_or(0);
        self.tx_start = 0;
        self.phase = Phase::Ending(why);
    }
}

/// Where `needle` first occurs in `haystack`: any occurrence of the protocol's bytes reads
/// as the protocol, so the session can keep a position rather than a borrow.
pub(super) fn find(haystack: &[u8], needle: &str) -> Option<(usize, usize)> {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return None;
    }
    let start = haystack.windows(needle.len()).position(|w| w == needle)?;
    Some((start, start + needle.len()))
}
