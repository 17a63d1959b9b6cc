//! The sans-IO part both bindings share: the protocol core, the receive buffer, the
//! transmit queue, the opening handshake of each role, and the receive loop's decisions.
//! The bindings add only the reads, the writes and the waiting.

use rand_core::RngCore;
use ws_proto::handshake::{Accept, ClientHandshake, ClientRequest, Reject, Request};
use ws_proto::{CloseCode, CloseFrame, Config, Connection, DataKind, Event, Message, NoRng, ReadBuffer};

use crate::keepalive::KeepaliveState;
use crate::storage::{Inline, MessageBuf};

/// Longest subprotocol name a connection keeps.
pub(crate) const MAX_PROTOCOL_LEN: usize = 64;

/// What the receive loop does next.
pub(crate) enum Step<T> {
    /// Read more bytes (after sending what is queued).
    Read,
    /// Hand this out.
    Ready(T),
    /// The closing handshake is over: nothing more will arrive.
    Closed,
}

/// An event kept as lengths: a payload ends where the consumed bytes end, or, for an
/// inflated chunk, it is the inflater's latest output.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EventAt {
    Data { kind: DataKind, len: usize, fin: bool, inflated: bool },
    Ping(usize),
    Pong(usize),
    Close { code: Option<CloseCode>, len: usize },
}

impl EventAt {
    /// The event, with its payload taken from the receive buffer (whose consumed bytes
    /// it ends) or the inflater.
    pub(crate) fn event<B: AsRef<[u8]> + AsMut<[u8]>>(self, inbox: &Inbox<B>) -> Event<'_> {
        let (filled, consumed) = (inbox.rx.filled(), inbox.rx.consumed());
        let last = |len: usize| filled.get(consumed.saturating_sub(len)..consumed).unwrap_or_default();
        match self {
            Self::Data { kind, len, fin, inflated } => {
                Event::data(kind, if inflated { inbox.inflated() } else { last(len) }, fin)
            }
            Self::Ping(len) => Event::Ping(last(len)),
            Self::Pong(len) => Event::Pong(last(len)),
            Self::Close { code, len } => {
                Event::Close { code, reason: core::str::from_utf8(last(len)).unwrap_or_default() }
            }
        }
    }
}

/// The permessage-deflate agreement a server's answer carries.
#[cfg(feature = "deflate")]
type Agreed = Option<ws_proto::deflate::Deflate>;
#[cfg(not(feature = "deflate"))]
type Agreed = Option<core::convert::Infallible>;

/// How the server's answer to a request turned out.
pub(crate) enum Answer {
    /// The 101 is queued; frames follow.
    Accepted,
    /// The application's rejection is queued, with this status.
    Rejected(u16),
    /// The request was invalid; its HTTP error is queued.
    Invalid(ws_proto::Error),
}

/// The sending side and the connection's state: what both halves of a split connection
/// share.
pub(crate) struct Core<B, R = NoRng> {
    pub(crate) conn: Connection<R>,
    tx: B,
    tx_start: usize,
    tx_end: usize,
    protocol: Option<Inline<MAX_PROTOCOL_LEN>>,
    /// The peer's close frame, once it arrived with a code.
    peer_close: Option<(CloseCode, Inline<{ CloseCode::MAX_REASON_LEN }>)>,
    pub(crate) keepalive: KeepaliveState,
    /// The compressor, once permessage-deflate is agreed and a message is sent.
    #[cfg(feature = "deflate")]
    compressor: Option<crate::deflate::HeapCompressor>,
}

/// The receiving side: what the reading half of a split connection owns.
pub(crate) struct Inbox<B> {
    pub(crate) rx: ReadBuffer<B>,
    /// The data message being assembled in the caller's buffer: its type and length so far.
    assembling: Option<(DataKind, usize)>,
    /// The inflater, once permessage-deflate is agreed.
    #[cfg(feature = "deflate")]
    inflater: Option<crate::deflate::HeapInflater>,
}

impl<B> Inbox<B> {
    /// The latest inflated chunk.
    fn inflated(&self) -> &[u8] {
        #[cfg(feature = "deflate")]
        if let Some(inflater) = &self.inflater {
            return inflater.last_output();
        }
        &[]
    }
}

/// The connection's state apart from the byte stream.
pub(crate) struct Engine<B, R = NoRng> {
    pub(crate) core: Core<B, R>,
    pub(crate) inbox: Inbox<B>,
    /// What permessage-deflate this end offers (a client) or accepts (a server).
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<ws_proto::deflate::DeflateConfig>,
}

impl<B, R> Core<B, R> {
    /// The subprotocol agreed on.
    pub(crate) fn protocol(&self) -> Option<&str> {
        self.protocol.as_ref().map(Inline::as_str)
    }

    /// The peer's close frame, if it came with a code.
    pub(crate) fn peer_close(&self) -> Option<CloseFrame<'_>> {
        self.peer_close.as_ref().map(|(code, reason)| CloseFrame { code: *code, reason: reason.as_str() })
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>, R: RngCore> Engine<B, R> {
    fn new(conn: Connection<R>, rx: B, tx: B) -> Self {
        Self {
            core: Core {
                conn,
                tx,
                tx_start: 0,
                tx_end: 0,
                protocol: None,
                peer_close: None,
                keepalive: KeepaliveState::default(),
                #[cfg(feature = "deflate")]
                compressor: None,
            },
            inbox: Inbox {
                rx: ReadBuffer::new(rx),
                assembling: None,
                #[cfg(feature = "deflate")]
                inflater: None,
            },
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// Turns permessage-deflate on as agreed: the inflater now (a compressed message may
    /// come at once), the compressor when the first message goes out.
    #[cfg(feature = "deflate")]
    fn agree(&mut self, deflate: Option<ws_proto::deflate::Deflate>) -> Result<(), ws_proto::Error> {
        if let Some(agreed) = &deflate {
            self.inbox.inflater = Some(crate::deflate::inflater(agreed)?);
        }
        self.core.conn.set_deflate(deflate);
        Ok(())
    }

    /// A server connection, before the request.
    pub(crate) fn server(conn: Connection<R>, rx: B, tx: B) -> Self {
        Self::new(conn, rx, tx)
    }

    /// A client: `request` is queued with a fresh key from `rng`, which then masks frames.
    pub(crate) fn client(
        request: ClientRequest<'_>,
        config: Config,
        #[cfg(feature = "deflate")] deflate: Option<ws_proto::deflate::DeflateConfig>,
        mut rng: R,
        rx: B,
        tx: B,
    ) -> Result<(Self, ClientHandshake<'_>), ws_proto::Error> {
        #[cfg(feature = "deflate")]
        let request = match deflate {
            Some(offer) => request.deflate(offer),
            None => request,
        };
        let handshake = ClientHandshake::new(request, config, &mut rng);
        let mut engine = Self::new(handshake.into_connection(rng), rx, tx);
        engine.core.tx_end = handshake.write_request(engine.core.tx.as_mut())?;
        Ok((engine, handshake))
    }

    /// Checks the server's answer: true once it is complete and valid.
    pub(crate) fn client_response(
        &mut self,
        handshake: &ClientHandshake<'_>,
    ) -> Result<bool, ws_proto::Error> {
        let Some(response) = handshake.read_response(self.inbox.rx.pending())? else {
            if self.inbox.rx.spare().is_empty() {
                return Err(ws_proto::Error::HeadTooLarge);
            }
            return Ok(false);
        };
        self.core.protocol = match response.protocol() {
            Some(protocol) => Some(Inline::new(protocol).ok_or(ws_proto::Error::UnexpectedProtocol)?),
            None => None,
        };
        #[cfg(feature = "deflate")]
        let agreed = response.deflate();
        let len = response.len();
        #[cfg(feature = "deflate")]
        self.agree(agreed)?;
        self.inbox.rx.consume(len);
        Ok(true)
    }

    /// Answers the request once its head is complete: `Ok(None)` while it is not.
    pub(crate) fn server_request<F>(&mut self, config: &Config, policy: &mut Option<F>) -> Option<Answer>
    where
        F: for<'r> FnOnce(&Request<'r>) -> Result<Accept<'r>, Reject<'r>>,
    {
        #[cfg(feature = "deflate")]
        let offer = self.deflate;
        #[allow(unused_mut, unused_assignments)] // set only with permessage-deflate
        let mut agreed: Agreed = None;
        let (core, rx) = (&mut self.core, &mut self.inbox.rx);
        if Request::parse(rx.pending(), config) == Ok(None) {
            if rx.spare().is_empty() {
                let e = ws_proto::Error::HeadTooLarge;
                core.tx_end = Reject::for_error(e).write(core.tx.as_mut()).unwrap_or(0);
                return Some(Answer::Invalid(e));
            }
            return None;
        }
        let tx = core.tx.as_mut();
        let answer = match Request::parse(rx.pending(), config) {
            Ok(None) => return None,
            Ok(Some(request)) => {
                let decision = match policy.take() {
                    Some(policy) => policy(&request),
                    None => Ok(Accept::new()),
                };
                match decision {
                    Ok(accept) => {
                        // permessage-deflate, unless the policy answered it itself.
                        #[cfg(feature = "deflate")]
                        let accept = match (accept.selected_deflate(), &offer) {
                            (None, Some(config)) => accept.deflate(request.deflate(config)),
                            _ => accept,
                        };
                        #[cfg(feature = "deflate")]
                        {
                            agreed = accept.selected_deflate();
                        }
                        let protocol = match accept.selected_protocol() {
                            Some(p) => Inline::new(p).ok_or(ws_proto::Error::UnexpectedProtocol),
                            None => Ok(Inline::EMPTY),
                        };
                        match protocol.and_then(|p| request.accept(&accept, tx).map(|n| (p, n))) {
                            Ok((protocol, n)) => {
                                core.protocol = accept.selected_protocol().map(|_| protocol);
                                core.tx_end = n;
                                let head = request.len();
                                rx.consume(head);
                                return Some(self.accepted(agreed));
                            }
                            // The application's own answer is wrong: a server error.
                            Err(_) => (Reject::new(500).write(tx), Answer::Rejected(500)),
                        }
                    }
                    Err(reject) => (reject.write(tx), Answer::Rejected(reject.status())),
                }
            }
            Err(e) => (Reject::for_error(e).write(tx), Answer::Invalid(e)),
        };
        let (written, outcome) = answer;
        core.tx_end = written.unwrap_or(0);
        Some(outcome)
    }

    /// The request is answered: permessage-deflate goes on as agreed.
    fn accepted(&mut self, agreed: Agreed) -> Answer {
        #[cfg(feature = "deflate")]
        if let Err(e) = self.agree(agreed) {
            return Answer::Invalid(e);
        }
        #[cfg(not(feature = "deflate"))]
        let _ = agreed;
        Answer::Accepted
    }

    /// See [`step_message`].
    pub(crate) fn step_message<M: MessageBuf + ?Sized>(
        &mut self,
        buf: &mut M,
    ) -> Result<Step<(DataKind, usize)>, ws_proto::Error> {
        step_message(&mut self.core, &mut self.inbox, buf)
    }

    /// See [`step_event`].
    pub(crate) fn step_event(&mut self) -> Result<Step<EventAt>, ws_proto::Error> {
        step_event(&mut self.core, &mut self.inbox)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>, R: RngCore> Core<B, R> {
    /// Bytes waiting to be written.
    pub(crate) fn outgoing(&self) -> &[u8] {
        self.tx.as_ref().get(self.tx_start..self.tx_end).unwrap_or_default()
    }

    /// `n` bytes of [`outgoing`](Self::outgoing) were written.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.tx_start = (self.tx_start + n).min(self.tx_end);
        if self.tx_start == self.tx_end {
            (self.tx_start, self.tx_end) = (0, 0);
        }
    }

    /// Queues the control frames the connection owes (a pong, a close) behind what is
    /// queued, while the largest one fits: each ping of a burst gets its own pong (the
    /// core keeps only the latest owed, so one not queued now is answered by a later one).
    pub(crate) fn queue_control(&mut self) -> Result<(), ws_proto::Error> {
        /// The longest control frame: 125 payload bytes, a 2-byte header and a mask.
        const LONGEST: usize = 131;
        while self.conn.wants_transmit() {
            let tx = self.tx.as_mut().get_mut(self.tx_end..).unwrap_or_default();
            if self.tx_end > 0 && tx.len() < LONGEST {
                break;
            }
            match self.conn.poll_transmit(tx)? {
                0 => break,
                n => self.tx_end += n,
            }
        }
        Ok(())
    }

    /// Queues a ping, a pong or a close (a data message goes out through
    /// [`start_frame`](Self::start_frame)).
    pub(crate) fn queue_message(&mut self, message: Message<'_>) -> Result<(), ws_proto::Error> {
        let tx = self.tx.as_mut().get_mut(self.tx_end..).unwrap_or_default();
        self.tx_end += self.conn.send(message, tx)?;
        Ok(())
    }

    /// Queues the header of a data frame of `len` payload bytes.
    pub(crate) fn start_frame(&mut self, kind: DataKind, len: u64, fin: bool) -> Result<(), ws_proto::Error> {
        let tx = self.tx.as_mut().get_mut(self.tx_end..).unwrap_or_default();
        self.tx_end += self.conn.start_frame(kind, len, fin, tx)?;
        Ok(())
    }

    /// Whether text and binary messages go out compressed (permessage-deflate agreed).
    #[cfg(feature = "deflate")]
    pub(crate) fn compresses(&self) -> bool {
        self.conn.deflate().is_some()
    }

    /// Queues the next frame of a compressed `kind` message from `input` (the compressor
    /// made when first needed); `fin` once `input` ends the message.
    #[cfg(feature = "deflate")]
    pub(crate) fn queue_compressed(
        &mut self,
        kind: DataKind,
        input: &[u8],
        fin: bool,
    ) -> Result<ws_proto::deflate::Compressed, ws_proto::Error> {
        let compressor = match &mut self.compressor {
            Some(compressor) => compressor,
            slot => {
                let agreed = self.conn.deflate().ok_or(ws_proto::Error::InvalidSend)?;
                slot.insert(crate::deflate::compressor(agreed)?)
            }
        };
        let tx = self.tx.as_mut().get_mut(self.tx_end..).unwrap_or_default();
        let done = self.conn.send_compressed(&mut **compressor, kind, input, fin, tx)?;
        self.tx_end += done.written;
        Ok(done)
    }

    /// Queues as much of the frame's payload as fits; returns how much.
    pub(crate) fn queue_payload(&mut self, payload: &[u8]) -> Result<usize, ws_proto::Error> {
        let tx = self.tx.as_mut().get_mut(self.tx_end..).unwrap_or_default();
        let n = self.conn.write_payload(payload, tx)?;
        self.tx_end += n;
        Ok(n)
    }
}

/// The next whole data message, assembled in `buf` (grown if it can be, up to the message
/// limit); pings and pongs are answered and passed over, the peer's close is kept for
/// [`Core::peer_close`].
pub(crate) fn step_message<B, R, M>(
    core: &mut Core<B, R>,
    inbox: &mut Inbox<B>,
    buf: &mut M,
) -> Result<Step<(DataKind, usize)>, ws_proto::Error>
where
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: RngCore,
    M: MessageBuf + ?Sized,
{
    loop {
        let Some(event) = receive(core, inbox)? else {
            return Ok(if core.conn.is_closed() { Step::Closed } else { Step::Read });
        };
        let EventAt::Data { kind, len, fin, inflated } = event else { continue };
        let (kind, have) = inbox.assembling.unwrap_or((kind, 0));
        let total = have + len;
        let limit = usize::try_from(core.conn.config().max_message_size).unwrap_or(usize::MAX);
        let room = buf.bytes().len() >= total || (total <= limit && buf.reserve(total));
        let (filled, consumed) = (inbox.rx.filled(), inbox.rx.consumed());
        let chunk = match inflated {
            true => inbox.inflated(),
            false => filled.get(consumed.saturating_sub(len)..consumed).unwrap_or_default(),
        };
        match buf.bytes().get_mut(have..total) {
            Some(dst) if room => dst.copy_from_slice(chunk),
            _ => {
                // Too large for the application's buffer: 1009, as for the limit.
                inbox.assembling = None;
                core.conn.fail(ws_proto::Error::MessageTooLarge);
                core.queue_control()?;
                return Err(ws_proto::Error::MessageTooLarge);
            }
        }
        if fin {
            inbox.assembling = None;
            return Ok(Step::Ready((kind, total)));
        }
        inbox.assembling = Some((kind, total));
    }
}

/// The next event, its payload left where it arrived.
pub(crate) fn step_event<B, R>(
    core: &mut Core<B, R>,
    inbox: &mut Inbox<B>,
) -> Result<Step<EventAt>, ws_proto::Error>
where
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: RngCore,
{
    match receive(core, inbox)? {
        Some(event) => Ok(Step::Ready(event)),
        None if core.conn.is_closed() => Ok(Step::Closed),
        None => Ok(Step::Read),
    }
}

/// One call of the protocol core on the pending bytes; `None` when it needs more.
fn receive<B, R>(core: &mut Core<B, R>, inbox: &mut Inbox<B>) -> Result<Option<EventAt>, ws_proto::Error>
where
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: RngCore,
{
    core.queue_control()?;
    if core.conn.is_closed() {
        return Ok(None);
    }
    #[cfg(feature = "deflate")]
    let (used, event) = match inbox.inflater.as_deref_mut() {
        Some(inflater) => core.conn.receive_with(inbox.rx.pending_mut(), Some(inflater)),
        None => core.conn.receive(inbox.rx.pending_mut()),
    };
    #[cfg(not(feature = "deflate"))]
    let (used, event) = core.conn.receive(inbox.rx.pending_mut());
    let event = match event {
        Ok(None) => None,
        Ok(Some(Event::Data { kind, payload, fin, .. })) => {
            #[cfg(feature = "deflate")]
            let inflated = core.conn.last_frame().compressed;
            #[cfg(not(feature = "deflate"))]
            let inflated = false;
            Some(EventAt::Data { kind, len: payload.len(), fin, inflated })
        }
        Ok(Some(Event::Ping(p))) => Some(EventAt::Ping(p.len())),
        Ok(Some(Event::Pong(p))) => Some(EventAt::Pong(p.len())),
        Ok(Some(Event::Close { code, reason })) => {
            core.peer_close = code.map(|code| (code, Inline::new(reason).unwrap_or(Inline::EMPTY)));
            Some(EventAt::Close { code, len: reason.len() })
        }
        Ok(Some(_)) => None,
        Err(e) => {
            inbox.rx.consume(used);
            inbox.assembling = None;
            core.queue_control()?;
            return Err(e);
        }
    };
    inbox.rx.consume(used);
    if used > 0 {
        core.keepalive.activity();
    }
    // `None` with bytes consumed: frames that gave nothing (after a failure), and the core
    // has looked at everything usable; either way it needs more.
    core.queue_control()?;
    Ok(event)
}

impl<B: AsRef<[u8]> + AsMut<[u8]>, R> Engine<B, R> {
    /// Both buffers, for another connection.
    pub(crate) fn into_buffers(self) -> (B, B) {
        (self.inbox.rx.into_inner(), self.core.tx)
    }
}

/// The message `step_message` assembled in `buf`.
pub(crate) fn message<M: MessageBuf + ?Sized>(buf: &mut M, kind: DataKind, len: usize) -> Message<'_> {
    let bytes: &[u8] = buf.bytes().get(..len).unwrap_or_default();
    match kind {
        // The core validated it as it arrived.
        DataKind::Text => Message::Text(core::str::from_utf8(bytes).unwrap_or_default()),
        DataKind::Binary => Message::Binary(bytes),
    }
}
