//! One WebSocket connection over one TCP socket: the opening handshake (`handshake.rs`),
//! then frames, then the closing handshake, driven without blocking by the loop here;
//! the socket calls are in `transport.rs`, the sending half in `reply.rs`.

mod handshake;
mod reply;
mod transport;

pub use reply::Reply;

use embedded_nal::{nb, TcpClientStack};
use rand_core::RngCore;
use ws_proto::handshake::{ClientHandshake, ClientRequest, Request};
use ws_proto::{CloseCode, Connection, Event as WsEvent, NoRng, ReadBuffer, Role};

use crate::event::Ready;
use crate::{Buffers, Error, Event, SessionConfig};

/// Where the session is.
#[derive(Debug, Clone, Copy)]
enum Phase<'c> {
    /// Server: waiting for the request head.
    AwaitRequest { deadline: u64 },
    /// Server: the request (`rx[..head]`) was reported; the application may answer it.
    Requested { head: usize, deadline: u64 },
    /// Client: request queued, waiting for the 101.
    AwaitResponse { handshake: ClientHandshake<'c>, deadline: u64 },
    /// Sending what is queued (an HTTP error response, say), then closing and reporting.
    Ending(Why),
    /// Frames flow.
    Open,
    /// Our close frame is sent; waiting for the peer's, or for TCP to close.
    Closing { deadline: u64 },
    /// The socket is closed and the end reported.
    Done,
}

/// Why a session ends before opening: an [`Error`] without the stack's error type.
#[derive(Debug, Clone, Copy)]
enum Why {
    Ws(ws_proto::Error),
    Rejected(u16),
    Timeout,
    Disconnected,
}

impl Why {
    fn error<E>(self) -> Error<E> {
        match self {
            Self::Ws(e) => Error::Ws(e),
            Self::Rejected(status) => Error::Rejected(status),
            Self::Timeout => Error::Timeout,
            Self::Disconnected => Error::Disconnected,
        }
    }
}

/// The role's opening handshake step, and its reading of a request head.
///
/// Reached through pointers the constructor sets, so a server-only program never links
/// the client's response parser, nor a client the server's (about 2 KiB of flash each on
/// a Cortex-M0).
struct RoleFns<'b, 'c, S: TcpClientStack, R> {
    step: fn(&mut Session<'b, 'c, S, R>),
    request: fn(&[u8]) -> Option<Request<'_>>,
}

impl<S: TcpClientStack, R> Clone for RoleFns<'_, '_, S, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: TcpClientStack, R> Copy for RoleFns<'_, '_, S, R> {}

/// A WebSocket session on one TCP socket, in either role.
///
/// Owns its socket and works in two caller-provided [`Buffers`]; every call borrows the
/// stack, so several sessions share one. Non-blocking: [`poll`](Self::poll) makes what
/// progress it can and returns the next [`Event`] with a [`Reply`] to answer it.
pub struct Session<'b, 'c, S: TcpClientStack, R = NoRng> {
    socket: Option<S::TcpSocket>,
    conn: Connection<R>,
    config: SessionConfig<'c>,
    phase: Phase<'c>,
    rx: ReadBuffer<&'b mut [u8]>,
    /// Bytes of `rx` to consume before reading on: an accepted request's head.
    rx_skip: usize,
    tx: &'b mut [u8],
    tx_start: usize,
    tx_end: usize,
    ready: Option<Ready>,
    /// The peer's close code, for [`Event::Closed`] (1006 until its close arrives).
    peer_code: CloseCode,
    role: RoleFns<'b, 'c, S, R>,
    /// permessage-deflate: what to negotiate, the shared inflater, and the inflater while
    /// this session holds it (a compressed message is in progress, or its last chunk is
    /// the event held).
    #[cfg(feature = "deflate")]
    deflate: Option<(ws_proto::deflate::DeflateConfig, &'b crate::SharedInflater<'b>)>,
    #[cfg(feature = "deflate")]
    held: Option<&'b mut ws_proto::deflate::Inflater<&'b mut [u8]>>,
    /// The compressor for messages sent compressed, and the one held while sending one.
    #[cfg(feature = "compress")]
    compressing: crate::deflate::Compressing<'b>,
}

impl<S: TcpClientStack, R: RngCore> core::fmt::Debug for Session<'_, '_, S, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session").field("phase", &self.phase).field("role", &self.conn.role()).finish()
    }
}

/// Starts a [`Session`]: the socket and buffers first, optionally a configuration, then
/// the role.
///
/// ```no_run
/// # fn demo<S: embedded_nal::TcpClientStack>(socket: S::TcpSocket) -> Result<(), ws_proto::Error> {
/// use ws_nal::{Buffers, Session, SessionConfig};
/// use ws_proto::handshake::ClientRequest;
/// # let rng = rand::rng();
/// let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
/// let session: Session<'_, '_, S, _> = Session::builder(socket, Buffers { rx: &mut rx, tx: &mut tx })
///     .config(SessionConfig::new().handshake_timeout_ms(2000))
///     .client(ClientRequest::from_url("ws://192.168.1.10:9001/chat")?, rng, 0);
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `server` or `client` starts the session"]
pub struct SessionBuilder<'b, 'c, S: TcpClientStack> {
    socket: S::TcpSocket,
    buffers: Buffers<'b>,
    config: SessionConfig<'c>,
    #[cfg(feature = "deflate")]
    deflate: Option<(ws_proto::deflate::DeflateConfig, &'b crate::SharedInflater<'b>)>,
    #[cfg(feature = "compress")]
    compressor: Option<&'b crate::SharedCompressor<'b>>,
}

impl<'b, 'c, S: TcpClientStack> SessionBuilder<'b, 'c, S> {
    /// Sets the configuration (default [`SessionConfig::new`]).
    pub fn config(mut self, config: SessionConfig<'c>) -> Self {
        self.config = config;
        self
    }

    /// Offers (a client) or accepts (a server) permessage-deflate within `config` and the
    /// shared inflater's window, always with every message compressed on its own (so the
    /// inflater can serve other sessions between messages). Compressed messages arrive
    /// as data chunks of at most the window's size; what the session sends stays
    /// uncompressed, which is always allowed. The inflater's window must fit a frame in
    /// the transmit buffer (at most `tx.len() - 14` bytes), or the session fails with
    /// [`ws_proto::Error::BufferTooSmall`].
    #[cfg(feature = "deflate")]
    pub fn deflate(
        mut self,
        config: ws_proto::deflate::DeflateConfig,
        inflater: &'b crate::SharedInflater<'b>,
    ) -> Self {
        self.deflate = Some((inflater.limit(config), inflater));
        self
    }

    /// Sends messages compressed through `compressor` ([`Reply::send_chunk`], and so
    /// `echo`) once permessage-deflate is agreed ([`deflate`](Self::deflate)); while another
    /// session holds it, they go uncompressed.
    #[cfg(feature = "compress")]
    pub fn compressor(mut self, compressor: &'b crate::SharedCompressor<'b>) -> Self {
        self.compressor = Some(compressor);
        self
    }

    /// Serves an accepted connection: waits for the client's request and reports it as
    /// [`Event::Request`]. `now_ms` starts the handshake timeout.
    pub fn server(self, now_ms: u64) -> Session<'b, 'c, S, NoRng> {
        let deadline = now_ms.saturating_add(self.config.handshake_timeout_ms);
        let role = RoleFns { step: Session::server_step, request: handshake::parse_request };
        let conn = Connection::server(self.config.ws);
        Session::new(self, conn, Phase::AwaitRequest { deadline }, role)
    }

    /// Starts the client side on a connected socket: queues `request` with a nonce from
    /// `rng` (which then masks every frame) and waits for the 101, reported as
    /// [`Event::Open`].
    pub fn client<R: RngCore>(
        self,
        request: ClientRequest<'c>,
        mut rng: R,
        now_ms: u64,
    ) -> Session<'b, 'c, S, R> {
        #[cfg(feature = "deflate")]
        let request = match self.deflate {
            Some((offer, _)) => request.deflate(offer),
            None => request,
        };
        let handshake = ClientHandshake::new(request, self.config.ws, &mut rng);
        let deadline = now_ms.saturating_add(self.config.handshake_timeout_ms);
        let role = RoleFns { step: Session::client_step, request: |_| None };
        let conn = handshake.into_connection(rng);
        let mut session = Session::new(self, conn, Phase::AwaitResponse { handshake, deadline }, role);
        // A request that does not fit fails the session on its first poll, which closes
        // the socket (the constructor has no stack to close it with).
        match handshake.write_request(session.tx) {
            Ok(n) => session.tx_end = n,
            Err(e) => session.phase = Phase::Ending(Why::Ws(e)),
        }
        session
    }
}

impl<'b, 'c, S: TcpClientStack> Session<'b, 'c, S> {
    /// A session on `socket` working in `buffers`; choose the role on the builder.
    pub fn builder(socket: S::TcpSocket, buffers: Buffers<'b>) -> SessionBuilder<'b, 'c, S> {
        SessionBuilder {
            socket,
            buffers,
            config: SessionConfig::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
            #[cfg(feature = "compress")]
            compressor: None,
        }
    }
}

impl<'b, 'c, S: TcpClientStack, R: RngCore> Session<'b, 'c, S, R> {
    fn new(
        builder: SessionBuilder<'b, 'c, S>,
        conn: Connection<R>,
        phase: Phase<'c>,
        role: RoleFns<'b, 'c, S, R>,
    ) -> Self {
        #[cfg(feature = "deflate")]
        let deflate = builder.deflate;
        #[cfg(feature = "compress")]
        let compressor = builder.compressor;
        let SessionBuilder { socket, buffers: Buffers { rx, tx }, mut config, .. } = builder;
        #[allow(unused_mut)]
        let mut too_small = rx.len() < Buffers::MIN_LEN || tx.len() < Buffers::MIN_LEN;
        // An inflated chunk is at most the inflater's window, and must go out in one frame.
        #[cfg(feature = "deflate")]
        if let Some((_, shared)) = deflate {
            too_small |= (1usize << shared.window_bits()) > tx.len().saturating_sub(14);
        }
        // A handshake head must fit the receive buffer.
        config.ws = config.ws.max_handshake_size(config.ws.max_handshake_size.min(rx.len()));
        Self {
            socket: Some(socket),
            conn,
            config,
            phase: if too_small { Phase::Ending(Why::Ws(ws_proto::Error::BufferTooSmall)) } else { phase },
            rx: ReadBuffer::new(rx),
            rx_skip: 0,
            tx,
            tx_start: 0,
            tx_end: 0,
            ready: None,
            peer_code: CloseCode::ABNORMAL,
            role,
            #[cfg(feature = "deflate")]
            deflate,
            #[cfg(feature = "deflate")]
            held: None,
            #[cfg(feature = "compress")]
            compressing: crate::deflate::Compressing::new(compressor),
        }
    }

    /// The protocol state machine, for inspection.
    pub fn connection(&self) -> &Connection<R> {
        &self.conn
    }

    /// Whether the session is over and its socket closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Makes progress without blocking: sends what is queued, reads what has arrived, and
    /// returns the next event with a [`Reply`] to answer it, or `WouldBlock`.
    ///
    /// A session that opened ends with [`Event::Closed`]; one that did not, with an
    /// error. Either is reported once: a poll after it is [`Error::Finished`].
    pub fn poll(
        &mut self,
        stack: &mut S,
        now_ms: u64,
    ) -> nb::Result<(Event<'_>, Reply<'_, 'c, R>), Error<S::Error>> {
        self.advance(stack, now_ms)?;
        Ok(self.take_event())
    }

    /// Like [`poll`](Self::poll), but waits until there is an event, reading the clock
    /// before each attempt and calling `idle` whenever nothing can be done (sleep, `wfi`,
    /// or poll other sessions).
    pub fn poll_blocking(
        &mut self,
        stack: &mut S,
        clock: impl Fn() -> u64,
        mut idle: impl FnMut(),
    ) -> Result<(Event<'_>, Reply<'_, 'c, R>), Error<S::Error>> {
        loop {
            match self.advance(stack, clock()) {
                Ok(()) => return Ok(self.take_event()),
                Err(nb::Error::Other(e)) => return Err(e),
                Err(nb::Error::WouldBlock) => idle(),
            }
        }
    }

    /// A [`Reply`] for sending on the application's initiative (not in answer to an
    /// event), once queued bytes have left: `WouldBlock` until then or while the opening
    /// handshake is still running.
    pub fn send_ready(
        &mut self,
        stack: &mut S,
        now_ms: u64,
    ) -> nb::Result<Reply<'_, 'c, R>, Error<S::Error>> {
        match self.phase {
            Phase::Open | Phase::Closing { .. } => {}
            Phase::Done => return Err(nb::Error::Other(Error::Finished)),
            _ => return Err(nb::Error::WouldBlock),
        }
        self.flush(stack, now_ms)?;
        if self.tx_end > 0 {
            return Err(nb::Error::WouldBlock);
        }
        let Self { conn, tx, tx_end, phase, ready, rx_skip, .. } = self;
        Ok(Reply::new(conn, tx, tx_end, phase, ready, rx_skip, &[]))
    }

    /// Closes the socket at once, without a closing handshake (e.g. at shutdown).
    pub fn abort(&mut self, stack: &mut S) {
        self.shut(stack);
    }

    /// Ends the session and hands its buffers back for the next one, closing the socket
    /// first if it is still open.
    pub fn into_buffers(mut self, stack: &mut S) -> Buffers<'b> {
        self.shut(stack);
        Buffers { rx: self.rx.into_inner(), tx: self.tx }
    }

    /// Turns the held event into a borrowed one (nothing held reads as the end), with the
    /// reply half.
    fn take_event(&mut self) -> (Event<'_>, Reply<'_, 'c, R>) {
        let ready = self.ready.take().unwrap_or(Ready::Closed { code: self.peer_code, clean: false });
        let Self { rx, conn, tx, tx_end, phase, ready: held, rx_skip, role, .. } = self;
        let consumed = rx.consumed();
        let rx = rx.filled();
        let head = match *phase {
            Phase::Requested { head, .. } => rx.get(..head).unwrap_or_default(),
            _ => &[],
        };
        #[cfg(feature = "deflate")]
        let inflated = self.held.as_deref().map_or(&[][..], |inflater| inflater.last_output());
        let event = ready.event(
            rx,
            consumed,
            role.request,
            #[cfg(feature = "deflate")]
            inflated,
        );
        #[allow(unused_mut)]
        let mut reply = Reply::new(conn, tx, tx_end, phase, held, rx_skip, head);
        #[cfg(feature = "deflate")]
        {
            reply.offer(self.deflate.map(|(config, _)| config));
            #[cfg(feature = "compress")]
            reply.compress_with(&mut self.compressing);
        }
        (event, reply)
    }

    /// Runs the session until an event is held in `self.ready`.
    fn advance(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        if self.ready.is_some() {
            return Ok(());
        }
        // Reads per poll: a peer that floods bytes yielding no event (after a failure)
        // must not hold the caller's loop. Buffered input is always used up before a
        // read, so stopping here never leaves bytes waiting in `rx`.
        let mut reads = 0;
        self.rx.consume(core::mem::take(&mut self.rx_skip));
        loop {
            if self.ready.is_some() {
                // The session ended while reading.
                return Ok(());
            }
            // Checked on every pass, not only when the stack would block: a peer that
            // dribbles a byte at a time never lets it block.
            if self.deadline_passed(now) {
                return self.expire(stack);
            }
            self.flush(stack, now)?;
            if self.ready.is_some() {
                // The peer went away while we were sending.
                return Ok(());
            }
            match self.phase {
                Phase::Done => return Err(nb::Error::Other(Error::Finished)),
                Phase::Ending(why) => {
                    self.shut(stack);
                    return Err(nb::Error::Other(why.error()));
                }
                Phase::AwaitRequest { .. } | Phase::Requested { .. } | Phase::AwaitResponse { .. } => {
                    (self.role.step)(self);
                    if self.ready.is_some() {
                        return Ok(());
                    }
                    if !matches!(self.phase, Phase::AwaitRequest { .. } | Phase::AwaitResponse { .. }) {
                        continue;
                    }
                }
                Phase::Open | Phase::Closing { .. } => {
                    if self.conn.is_failed() && self.conn.payload_remaining() > 0 {
                        // Our close cannot go out inside an unfinished frame of ours.
                        return self.finish(stack);
                    }
                    let n = self.conn.poll_transmit(self.tx).map_err(|e| nb::Error::Other(e.into()))?;
                    if n > 0 {
                        self.tx_end = n;
                        continue;
                    }
                    if self.conn.close_sent() && matches!(self.phase, Phase::Open) {
                        self.phase =
                            Phase::Closing { deadline: now.saturating_add(self.config.close_timeout_ms) };
                    }
                    // A server closes TCP first once the handshake is over (RFC 6455 §7.1.1);
                    // a client waits for it, up to the close timeout.
                    if self.conn.is_closed() && self.conn.role() == Role::Server {
                        return self.finish(stack);
                    }
                    if self.feed() {
                        return Ok(());
                    }
                    #[cfg(feature = "deflate")]
                    if self.conn.needs_inflater() {
                        // Another session is inflating with the shared inflater: the
                        // compressed input stays buffered until it is free.
                        return Err(nb::Error::WouldBlock);
                    }
                }
            }
            if reads == 8 {
                return Err(nb::Error::WouldBlock);
            }
            reads += 1;
            self.read(stack, now)?;
        }
    }

    /// Feeds buffered bytes to the protocol core until it gives an event (held; true) or
    /// needs more bytes. Input is cut so that a data chunk fits one frame in `tx`.
    fn feed(&mut self) -> bool {
        let cap = self.tx.len().saturating_sub(14);
        loop {
            let pending = self.rx.pending_mut();
            let len = pending.len().min(cap);
            let Some(input) = pending.get_mut(..len) else { return false };
            // With no input left, an inflater in the middle of a message may still hold
            // output (its window was full): the core must be asked for it.
            #[cfg(feature = "deflate")]
            let inflating = self.held.is_some();
            #[cfg(not(feature = "deflate"))]
            let inflating = false;
            if input.is_empty() && !inflating {
                return false;
            }
            #[cfg(feature = "deflate")]
            let (used, event) = match self.deflate {
                Some((_, shared)) if self.conn.deflate().is_some() => {
                    // The inflater this session holds, or the shared one if it is free.
                    if self.held.is_none() {
                        self.held = shared.take();
                    }
                    self.conn.receive_with(input, self.held.as_deref_mut())
                }
                _ => self.conn.receive(input),
            };
            #[cfg(not(feature = "deflate"))]
            let (used, event) = self.conn.receive(input);
            // Every payload is the last bytes consumed (or, inflated, the inflater's last
            // output): its length places it.
            let ready = match event {
                // Frames that gave nothing (after a failure): go on with the rest.
                Ok(None) if used > 0 => None,
                Ok(None) => {
                    #[cfg(feature = "deflate")]
                    self.release_inflater();
                    return false;
                }
                Ok(Some(WsEvent::Data { kind, payload, fin, .. })) => Some(Ready::Data {
                    kind,
                    len: payload.len(),
                    fin,
                    #[cfg(feature = "deflate")]
                    inflated: self.conn.last_frame().compressed,
                }),
                Ok(Some(WsEvent::Ping(p))) => Some(Ready::Ping(p.len())),
                Ok(Some(WsEvent::Pong(p))) => Some(Ready::Pong(p.len())),
                Ok(Some(WsEvent::Close { code, reason })) => {
                    self.peer_code = code.unwrap_or(CloseCode::NO_STATUS);
                    Some(Ready::Close { code, len: reason.len() })
                }
                Ok(Some(_)) => None,
                Err(e) => Some(Ready::Failed(e)),
            };
            self.rx.consume(used);
            if ready.is_some() {
                #[cfg(feature = "deflate")]
                if !matches!(ready, Some(Ready::Data { inflated: true, .. })) {
                    self.release_inflater();
                }
                self.ready = ready;
                return true;
            }
        }
    }

    /// Gives the shared inflater back unless a compressed message is in progress, so
    /// that other sessions can use it between messages.
    #[cfg(feature = "deflate")]
    fn release_inflater(&mut self) {
        if let (Some((_, shared)), Some(inflater)) = (self.deflate, self.held.take()) {
            if inflater.is_idle() {
                shared.give(inflater);
            } else {
                self.held = Some(inflater);
            }
        }
    }

    /// At the session's end: the inflater and compressor go back, reset if a message was
    /// cut off.
    pub(super) fn return_inflater(&mut self) {
        #[cfg(feature = "deflate")]
        {
            if let (Some((_, shared)), Some(inflater)) = (self.deflate, self.held.take()) {
                if !inflater.is_idle() {
                    inflater.reset();
                }
                shared.give(inflater);
            }
            #[cfg(feature = "compress")]
            crate::deflate::CompressSlot::release(&mut self.compressing);
        }
    }
}
