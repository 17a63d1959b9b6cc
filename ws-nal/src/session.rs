//! One WebSocket connection over one TCP socket: the opening handshake, then frames, then
//! the closing handshake, driven without blocking.

use core::net::SocketAddr;

use embedded_nal::{nb, TcpClientStack, TcpError, TcpErrorKind};
use rand_core::RngCore;
use ws_proto::handshake::{self, ClientKey, ClientRequest};
use ws_proto::{
    CloseCode, Config, Connection, ControlPayload, DataKind, Event as WsEvent, Message, NoRng, Role,
};

use crate::Error;

/// Session settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig<'c> {
    /// Protocol limits.
    pub ws: Config,
    /// Subprotocols: a server's supported list (the client's first supported offer wins),
    /// or the list a client offers.
    pub protocols: &'c [&'c str],
    /// Longest the opening handshake may take, in milliseconds (default 5000).
    pub handshake_timeout_ms: u64,
    /// Longest to wait for the peer's close frame or TCP close after sending ours
    /// (default 2000).
    pub close_timeout_ms: u64,
}

impl Default for SessionConfig<'_> {
    fn default() -> Self {
        Self { ws: Config::default(), protocols: &[], handshake_timeout_ms: 5000, close_timeout_ms: 2000 }
    }
}

/// What a session reports.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The opening handshake completed, with the negotiated subprotocol.
    Open {
        /// One of [`SessionConfig::protocols`], if any was agreed.
        protocol: Option<&'a str>,
    },
    /// A frame-level event from the protocol core; data chunks borrow the receive buffer.
    Ws(WsEvent<'a>),
    /// The peer broke the protocol; a close frame with the matching code is on its way.
    Failed(ws_proto::Error),
    /// The TCP connection is closed: the session is over.
    Closed,
}

/// The half of a session that sends, handed out beside each event so that a data chunk
/// (borrowed from the receive buffer) can be answered while it is held. Frames are
/// encoded into the transmit buffer and leave on the next poll.
#[derive(Debug)]
pub struct Reply<'s, R> {
    conn: &'s mut Connection<R>,
    tx: &'s mut [u8],
    tx_end: &'s mut usize,
}

impl<R: RngCore> Reply<'_, R> {
    /// Queues a whole message as one frame.
    pub fn send(&mut self, message: Message<'_>) -> Result<(), ws_proto::Error> {
        let tx = self.tx.get_mut(*self.tx_end..).unwrap_or_default();
        *self.tx_end += self.conn.send(message, tx)?;
        Ok(())
    }

    /// Queues one fragment of a streamed message (see [`Connection::send_fragment`]).
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), ws_proto::Error> {
        let tx = self.tx.get_mut(*self.tx_end..).unwrap_or_default();
        *self.tx_end += self.conn.send_fragment(kind, payload, fin, tx)?;
        Ok(())
    }

    /// Starts the closing handshake.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), ws_proto::Error> {
        self.conn.close(code, reason)?;
        let tx = self.tx.get_mut(*self.tx_end..).unwrap_or_default();
        *self.tx_end += self.conn.poll_transmit(tx);
        Ok(())
    }

    /// Largest payload one frame can carry with the transmit buffer's free space.
    pub fn max_payload(&self) -> usize {
        self.conn.max_payload_for(self.tx.len().saturating_sub(*self.tx_end))
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Server: waiting for the request head.
    AwaitRequest { deadline: u64 },
    /// Client: request queued, waiting for the 101.
    AwaitResponse { key: ClientKey, deadline: u64 },
    /// Server: sending an HTTP error response, then closing.
    Rejecting(ws_proto::Error),
    /// Frames flow.
    Open,
    /// Our close frame is queued or sent; waiting for the peer's, or for TCP to close.
    Closing { deadline: u64 },
    /// The socket is closed.
    Done,
}

/// An event held by the session, as positions rather than borrows.
#[derive(Debug, Clone, Copy)]
enum Ready {
    Open(Option<usize>),
    Data { kind: DataKind, start: usize, end: usize, fin: bool },
    Ping(ControlPayload),
    Pong(ControlPayload),
    Close(Option<CloseCode>, ControlPayload),
    Failed(ws_proto::Error),
    Closed,
}

/// A WebSocket session on one TCP socket, in either role.
///
/// Owns its socket and borrows two buffers: `rx` for received bytes (the request head must
/// fit) and `tx` for outgoing frames. Data chunks are at most `tx.len() - 14` bytes, so any
/// chunk can be forwarded or echoed in one frame.
#[derive(Debug)]
pub struct Session<'b, 'c, S: TcpClientStack, R = NoRng> {
    socket: Option<S::TcpSocket>,
    conn: Connection<R>,
    config: SessionConfig<'c>,
    phase: Phase,
    rx: &'b mut [u8],
    rx_start: usize,
    rx_end: usize,
    tx: &'b mut [u8],
    tx_start: usize,
    tx_end: usize,
    ready: Option<Ready>,
    /// The role's handshake parser (see `handshake`).
    parse_head: HeadParser<'b, 'c, S, R>,
}

type HeadParser<'b, 'c, S, R> =
    fn(&mut Session<'b, 'c, S, R>, Config) -> nb::Result<bool, Error<<S as TcpClientStack>::Error>>;

impl<'b, 'c, S: TcpClientStack> Session<'b, 'c, S, NoRng> {
    /// Serves an accepted connection: waits for the client's request, answers it, and
    /// reports [`Event::Open`].
    pub fn server(
        socket: S::TcpSocket,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: SessionConfig<'c>,
        now_ms: u64,
    ) -> Self {
        let deadline = now_ms.saturating_add(config.handshake_timeout_ms);
        Self::new(
            socket,
            Connection::server(config.ws),
            config,
            Phase::AwaitRequest { deadline },
            Self::parse_request,
            rx,
            tx,
        )
    }
}

impl<'b, 'c, S: TcpClientStack, R: RngCore> Session<'b, 'c, S, R> {
    /// Starts the client side on a connected socket: queues the request for `host` and
    /// `path` (with a nonce from `rng`, which also masks every frame) and waits for the 101.
    #[allow(clippy::too_many_arguments)]
    pub fn client(
        socket: S::TcpSocket,
        host: &str,
        path: &str,
        mut rng: R,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        config: SessionConfig<'c>,
        now_ms: u64,
    ) -> Self {
        let key = ClientKey::generate(&mut rng);
        let request = ClientRequest { host, path, protocols: config.protocols, origin: None };
        // A request that does not fit `tx` fails the session on its first poll, which
        // closes the socket (the constructor has no stack to close it with).
        let (n, phase) = match request.write(&key, tx) {
            Ok(n) => (
                n,
                Phase::AwaitResponse { key, deadline: now_ms.saturating_add(config.handshake_timeout_ms) },
            ),
            Err(e) => (0, Phase::Rejecting(e)),
        };
        let conn = Connection::client(config.ws, rng);
        let mut session = Self::new(socket, conn, config, phase, Self::parse_response, rx, tx);
        session.tx_end = n;
        session
    }

    fn new(
        socket: S::TcpSocket,
        conn: Connection<R>,
        config: SessionConfig<'c>,
        phase: Phase,
        parse_head: HeadParser<'b, 'c, S, R>,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Self {
        Self {
            parse_head,
            socket: Some(socket),
            conn,
            config,
            phase,
            rx,
            rx_start: 0,
            rx_end: 0,
            tx,
            tx_start: 0,
            tx_end: 0,
            ready: None,
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
    pub fn poll(
        &mut self,
        stack: &mut S,
        now_ms: u64,
    ) -> nb::Result<(Event<'_>, Reply<'_, R>), Error<S::Error>> {
        self.advance(stack, now_ms)?;
        Ok(self.take_event())
    }

    /// A [`Reply`] for sending on the application's initiative (not in answer to an
    /// event), once queued bytes have left: `WouldBlock` until then or while the opening
    /// handshake is still running.
    pub fn send_ready(&mut self, stack: &mut S, now_ms: u64) -> nb::Result<Reply<'_, R>, Error<S::Error>> {
        match self.phase {
            Phase::Open => {}
            Phase::Done | Phase::Rejecting(_) => return Err(nb::Error::Other(Error::Closed)),
            _ if self.conn.close_sent() => return Err(nb::Error::Other(Error::Ws(ws_proto::Error::Closed))),
            _ => return Err(nb::Error::WouldBlock),
        }
        self.flush(stack, now_ms)?;
        if self.tx_end > 0 {
            return Err(nb::Error::WouldBlock);
        }
        Ok(Reply { conn: &mut self.conn, tx: self.tx, tx_end: &mut self.tx_end })
    }

    /// Like [`poll`](Self::poll), but waits until there is an event, reading the clock
    /// before each attempt and calling `idle` whenever nothing can be done (sleep, `wfi`,
    /// or poll other sessions).
    pub fn poll_blocking(
        &mut self,
        stack: &mut S,
        clock: impl Fn() -> u64,
        mut idle: impl FnMut(),
    ) -> Result<(Event<'_>, Reply<'_, R>), Error<S::Error>> {
        loop {
            match self.advance(stack, clock()) {
                Ok(()) => return Ok(self.take_event()),
                Err(nb::Error::Other(e)) => return Err(e),
                Err(nb::Error::WouldBlock) => idle(),
            }
        }
    }

    /// Turns the held event into a borrowed one, with the reply half.
    fn take_event(&mut self) -> (Event<'_>, Reply<'_, R>) {
        let ready = self.ready.take().unwrap_or(Ready::Closed);
        let event = match ready {
            Ready::Open(index) => {
                Event::Open { protocol: index.and_then(|i| self.config.protocols.get(i).copied()) }
            }
            Ready::Data { kind, start, end, fin } => {
                Event::Ws(WsEvent::Data { kind, payload: self.rx.get(start..end).unwrap_or_default(), fin })
            }
            Ready::Ping(p) => Event::Ws(WsEvent::Ping(p)),
            Ready::Pong(p) => Event::Ws(WsEvent::Pong(p)),
            Ready::Close(code, reason) => Event::Ws(WsEvent::Close { code, reason }),
            Ready::Failed(e) => Event::Failed(e),
            Ready::Closed => Event::Closed,
        };
        (event, Reply { conn: &mut self.conn, tx: self.tx, tx_end: &mut self.tx_end })
    }

    /// Runs the session until an event is held in `self.ready`.
    fn advance(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        if self.ready.is_some() {
            return Ok(());
        }
        // Each pass either makes progress or returns; the bound is a safety net.
        for _ in 0..64 {
            // Checked on every pass, not only when the stack would block: a peer that
            // dribbles a byte at a time never lets it block.
            if self.deadline_passed(now) {
                return self.expire(stack);
            }
            self.flush(stack, now)?;
            if self.ready.is_some() {
                return Ok(());
            }
            match self.phase {
                Phase::Done => return Err(nb::Error::Other(Error::Closed)),
                Phase::Rejecting(e) => {
                    self.shut(stack);
                    return Err(nb::Error::Other(Error::Ws(e)));
                }
                Phase::Open | Phase::Closing { .. } => {
                    let n = self.conn.poll_transmit(self.tx);
                    if n > 0 {
                        self.tx_start = 0;
                        self.tx_end = n;
                        continue;
                    }
                    if self.conn.close_sent() && !matches!(self.phase, Phase::Closing { .. }) {
                        self.phase =
                            Phase::Closing { deadline: now.saturating_add(self.config.close_timeout_ms) };
                    }
                    // A server closes TCP first once the handshake is over (RFC 6455 §7.1.1);
                    // a client waits for it, up to the close timeout.
                    if self.conn.is_closed() && self.conn.role() == Role::Server {
                        return self.finish(stack);
                    }
                    if self.rx_start < self.rx_end {
                        self.feed();
                        if self.ready.is_some() {
                            return Ok(());
                        }
                        continue;
                    }
                }
                Phase::AwaitRequest { .. } | Phase::AwaitResponse { .. } => {
                    if self.handshake()? {
                        return Ok(());
                    }
                    if matches!(self.phase, Phase::Rejecting(_)) {
                        continue;
                    }
                }
            }
            self.read(stack, now)?;
            if self.ready.is_some() {
                return Ok(());
            }
        }
        Err(nb::Error::WouldBlock)
    }

    /// Feeds buffered bytes to the protocol core, holding any event it produces.
    fn feed(&mut self) {
        let (start, end) = (self.rx_start, self.rx_end);
        let Some(input) = self.rx.get_mut(start..end) else {
            self.rx_start = self.rx_end;
            return;
        };
        let base = input.as_ptr().addr();
        match self.conn.receive(input) {
            Ok((used, event)) => {
                self.rx_start += used;
                self.ready = event.map(|event| match event {
                    WsEvent::Data { kind, payload, fin } => {
                        let offset = start + (payload.as_ptr().addr() - base);
                        Ready::Data { kind, start: offset, end: offset + payload.len(), fin }
                    }
                    WsEvent::Ping(p) => Ready::Ping(p),
                    WsEvent::Pong(p) => Ready::Pong(p),
                    WsEvent::Close { code, reason } => Ready::Close(code, reason),
                });
            }
            Err(e) => {
                self.rx_start = self.rx_end;
                self.ready = Some(Ready::Failed(e));
            }
        }
    }

    /// Parses the handshake head once it is complete; true when an event is held.
    ///
    /// The role's parser is reached through a pointer set by the constructor, so a
    /// server-only program never links the client's response parser, nor a client the
    /// server's (about 2 KiB of flash each on a Cortex-M0).
    fn handshake(&mut self) -> nb::Result<bool, Error<S::Error>> {
        let mut ws = self.config.ws;
        ws.max_handshake_size = ws.max_handshake_size.min(self.rx.len());
        (self.parse_head)(self, ws)
    }

    fn parse_request(&mut self, ws: Config) -> nb::Result<bool, Error<S::Error>> {
        let head = self.rx.get(..self.rx_end).unwrap_or_default();
        match handshake::Request::parse(head, &ws) {
            Ok(None) => Ok(false),
            Ok(Some((len, request))) => {
                let chosen = request.choose_protocol(self.config.protocols);
                let index = chosen.and_then(|p| self.config.protocols.iter().position(|s| *s == p));
                self.tx_end = request.accept(chosen, self.tx).map_err(|e| nb::Error::Other(e.into()))?;
                self.tx_start = 0;
                self.rx_start = len;
                self.phase = Phase::Open;
                self.ready = Some(Ready::Open(index));
                Ok(true)
            }
            Err(e) => {
                self.tx_end = handshake::write_rejection(e, self.tx).unwrap_or(0);
                self.tx_start = 0;
                self.phase = Phase::Rejecting(e);
                Ok(false)
            }
        }
    }

    fn parse_response(&mut self, ws: Config) -> nb::Result<bool, Error<S::Error>> {
        let Phase::AwaitResponse { key, .. } = self.phase else { return Ok(false) };
        let head = self.rx.get(..self.rx_end).unwrap_or_default();
        match handshake::Response::parse(head, &key, self.config.protocols, &ws) {
            Ok(None) => Ok(false),
            Ok(Some((len, response))) => {
                let index =
                    response.protocol.and_then(|p| self.config.protocols.iter().position(|s| *s == p));
                self.rx_start = len;
                self.phase = Phase::Open;
                self.ready = Some(Ready::Open(index));
                Ok(true)
            }
            Err(e) => {
                self.phase = Phase::Rejecting(e);
                Ok(false)
            }
        }
    }

    /// Sends queued bytes; `WouldBlock` until all are out.
    fn flush(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        while self.tx_start < self.tx_end {
            let (Some(socket), Some(out)) = (self.socket.as_mut(), self.tx.get(self.tx_start..self.tx_end))
            else {
                self.tx_start = self.tx_end;
                break;
            };
            match stack.send(socket, out) {
                Ok(n) => self.tx_start += n,
                Err(nb::Error::WouldBlock) => return self.check_deadline(stack, now),
                // The peer is gone (it may have closed right after its close frame).
                Err(nb::Error::Other(e)) if e.kind() == TcpErrorKind::PipeClosed => {
                    return self.finish(stack)
                }
                Err(nb::Error::Other(e)) => return self.fail_tcp(stack, e),
            }
        }
        self.tx_start = 0;
        self.tx_end = 0;
        Ok(())
    }

    /// Reads from TCP into the free part of `rx`.
    fn read(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        let handshaking = matches!(self.phase, Phase::AwaitRequest { .. } | Phase::AwaitResponse { .. });
        if !handshaking && self.rx_start == self.rx_end {
            self.rx_start = 0;
            self.rx_end = 0;
        }
        // Cap reads so any data chunk fits one frame in `tx` (header at most 14 bytes).
        let limit =
            if handshaking { self.rx.len() } else { self.rx.len().min(self.tx.len().saturating_sub(14)) };
        let Some(socket) = self.socket.as_mut() else { return Err(nb::Error::Other(Error::Closed)) };
        let window = self.rx.get_mut(self.rx_end..limit).unwrap_or_default();
        if window.is_empty() {
            // Only a handshake head can fill the buffer: it is too large.
            self.reject(ws_proto::Error::HeadTooLarge);
            return Ok(());
        }
        match stack.receive(socket, window) {
            Ok(0) => self.finish(stack),
            Ok(n) => {
                self.rx_end += n;
                Ok(())
            }
            Err(nb::Error::WouldBlock) => self.check_deadline(stack, now),
            Err(nb::Error::Other(e)) if e.kind() == TcpErrorKind::PipeClosed => self.finish(stack),
            Err(nb::Error::Other(e)) => self.fail_tcp(stack, e),
        }
    }

    fn reject(&mut self, error: ws_proto::Error) {
        if matches!(self.phase, Phase::AwaitRequest { .. }) {
            self.tx_end = handshake::write_rejection(error, self.tx).unwrap_or(0);
            self.tx_start = 0;
        }
        self.phase = Phase::Rejecting(error);
    }

    /// Nothing can happen now: give up if a handshake deadline has passed.
    fn check_deadline(&mut self, stack: &mut S, now: u64) -> nb::Result<(), Error<S::Error>> {
        if self.deadline_passed(now) {
            self.expire(stack)
        } else {
            Err(nb::Error::WouldBlock)
        }
    }

    fn deadline_passed(&self, now: u64) -> bool {
        match self.phase {
            Phase::AwaitRequest { deadline }
            | Phase::AwaitResponse { deadline, .. }
            | Phase::Closing { deadline } => now >= deadline,
            _ => false,
        }
    }

    /// A handshake took too long: the opening one fails, the closing one just ends.
    fn expire(&mut self, stack: &mut S) -> nb::Result<(), Error<S::Error>> {
        let closing = matches!(self.phase, Phase::Closing { .. });
        self.shut(stack);
        if closing {
            // The peer never finished the closing handshake: the session is over.
            self.ready = Some(Ready::Closed);
            return Ok(());
        }
        Err(nb::Error::Other(Error::Timeout))
    }

    /// The peer closed TCP (or the closing handshake is complete): close our side.
    fn finish(&mut self, stack: &mut S) -> nb::Result<(), Error<S::Error>> {
        let handshaking = matches!(self.phase, Phase::AwaitRequest { .. } | Phase::AwaitResponse { .. });
        self.shut(stack);
        if handshaking {
            return Err(nb::Error::Other(Error::Closed));
        }
        self.ready = Some(Ready::Closed);
        Ok(())
    }

    fn fail_tcp<T>(&mut self, stack: &mut S, e: S::Error) -> nb::Result<T, Error<S::Error>> {
        self.shut(stack);
        Err(nb::Error::Other(Error::Tcp(e)))
    }

    fn shut(&mut self, stack: &mut S) {
        if let Some(mut socket) = self.socket.take() {
            // Closing with unread input makes TCP send a reset, which can destroy what we
            // sent last (an HTTP error, a close frame) before the peer reads it: read and
            // drop what has already arrived first (bounded).
            for _ in 0..8 {
                match stack.receive(&mut socket, self.rx) {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
            let _ = stack.close(socket);
        }
        self.phase = Phase::Done;
        self.tx_start = 0;
        self.tx_end = 0;
    }

    /// Closes the socket at once, without a closing handshake (e.g. at shutdown).
    pub fn abort(&mut self, stack: &mut S) {
        self.shut(stack);
    }

    /// Ends the session and hands its buffers back for the next one, closing the socket
    /// first if it is still open.
    pub fn into_buffers(mut self, stack: &mut S) -> (&'b mut [u8], &'b mut [u8]) {
        self.shut(stack);
        (self.rx, self.tx)
    }
}

/// Opens a TCP connection, blocking until it is established.
pub fn connect<S: TcpClientStack>(
    stack: &mut S,
    remote: SocketAddr,
) -> Result<S::TcpSocket, Error<S::Error>> {
    let mut socket = stack.socket().map_err(Error::Tcp)?;
    match nb::block!(stack.connect(&mut socket, remote)) {
        Ok(()) => Ok(socket),
        Err(e) => {
            // Give the socket back: on a W5100 it is one of only four.
            let _ = stack.close(socket);
            Err(Error::Tcp(e))
        }
    }
}
