//! WebSockets over an async byte stream ([`embedded_io_async::Read`] + [`Write`]): an
//! embassy-net `TcpSocket`, a tokio `TcpStream` (through `embedded-io-adapters`'
//! `FromTokio`, or [`crate::tokio::connect`]), a TLS stream.
//!
//! A timer ([`Builder::timer`], any `embedded-hal-async` `DelayNs`: embassy-time's
//! `Delay`, [`crate::tokio::TokioTimer`]) drives keepalive and bounds the wait for the
//! peer's close. Reading is cancel-safe when the stream's `read` is (embassy-net's and
//! tokio's are): a `recv` dropped in a `select` loses nothing, and resumes where it was
//! when called again with the same buffer.
//!
//! [`Write`]: embedded_io_async::Write

use embassy_futures::select::{select, Either};
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, Write};
use rand_core::RngCore;
use ws_proto::handshake::{Accept, ClientRequest, Reject, Request};
use ws_proto::{CloseCode, CloseFrame, Config, Connection, DataKind, Event, Message, NoRng};

use crate::engine::{self, Answer, Core, Engine, Inbox, Step};
use crate::keepalive::Due;
use crate::{Buffers, Error, IntoRequest, Keepalive, MessageBuf};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use crate::split::{ReadHalf, Split, WriteHalf};

/// Sets up a [`WebSocket`]: the stream and buffers first, then optional settings, then
/// the role, which runs the opening handshake.
///
/// ```no_run
/// # async fn demo<S: embedded_io_async::Read + embedded_io_async::Write>(stream: S, timer: impl embedded_hal_async::delay::DelayNs, rng: impl rand_core::RngCore) -> Result<(), ws_io::Error<S::Error>> {
/// use ws_io::{asynch::WebSocket, Buffers, Keepalive};
///
/// let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
/// let mut ws = WebSocket::builder(stream, Buffers { rx: &mut rx[..], tx: &mut tx[..] })
///     .timer(timer)
///     .keepalive(Keepalive::new(30_000, 60_000))
///     .client("ws://192.168.1.10:9001/chat", rng)
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `client` or `server` runs the handshake"]
pub struct Builder<S, B, T = NoTimer> {
    stream: S,
    buffers: Buffers<B>,
    config: Config,
    keepalive: Option<Keepalive>,
    timer: T,
    close_timeout_ms: u32,
    #[cfg(feature = "deflate")]
    deflate: Option<ws_proto::deflate::DeflateConfig>,
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>, T: DelayNs> Builder<S, B, T> {
    /// Sets the timer that drives keepalive and bounds [`WebSocket::close`].
    pub fn timer<T2: DelayNs>(self, timer: T2) -> Builder<S, B, T2> {
        Builder {
            stream: self.stream,
            buffers: self.buffers,
            config: self.config,
            keepalive: self.keepalive,
            timer,
            close_timeout_ms: self.close_timeout_ms,
            #[cfg(feature = "deflate")]
            deflate: self.deflate,
        }
    }

    /// Sets how long [`WebSocket::close`] waits for the peer's close (default 2 s; needs a
    /// timer).
    pub fn close_timeout_ms(mut self, ms: u32) -> Self {
        self.close_timeout_ms = ms;
        self
    }

    /// Sets the protocol limits (default [`Config::default`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Offers (a client) or accepts (a server) permessage-deflate within what `config`
    /// affords; `None` (the default) leaves it off. Its state is on the heap: the
    /// inflater's window once agreed, the compressor when the first message goes out.
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, config: Option<ws_proto::deflate::DeflateConfig>) -> Self {
        self.deflate = config;
        self
    }

    /// Turns keepalive on (it needs a [`timer`](Self::timer)): a ping after
    /// `ping_after_ms` of silence, a close after `close_after_ms`.
    pub fn keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = Some(keepalive);
        self
    }

    /// The client's handshake: sends `request` (a `ws://` URL or a
    /// [`ClientRequest`]) with a key from `rng`, which then masks every frame, and checks
    /// the server's answer.
    pub async fn client<'r, R: RngCore>(
        self,
        request: impl IntoRequest<'r>,
        rng: R,
    ) -> Result<WebSocket<S, B, R, T>, Error<S::Error>> {
        check_buffers(&self.buffers)?;
        let request: ClientRequest<'r> = request.into_request()?;
        let (engine, handshake) = Engine::client(
            request,
            self.config,
            #[cfg(feature = "deflate")]
            self.deflate,
            rng,
            self.buffers.rx,
            self.buffers.tx,
        )?;
        let mut ws = WebSocket {
            stream: self.stream,
            engine,
            timer: self.timer,
            close_timeout_ms: self.close_timeout_ms,
        };
        ws.engine.core.keepalive.config = self.keepalive;
        ws.flush().await?;
        while !ws.engine.client_response(&handshake)? {
            if ws.read().await? == 0 {
                return Err(Error::Disconnected);
            }
        }
        Ok(ws)
    }

    /// The server's handshake: reads the request and accepts it, without a subprotocol.
    pub async fn server(self) -> Result<WebSocket<S, B, NoRng, T>, Error<S::Error>> {
        self.server_with(|_| Ok(Accept::new())).await
    }

    /// The server's handshake: reads the request and lets `policy` decide, from its path,
    /// headers and offered subprotocols, to accept it (with a subprotocol and headers) or
    /// to turn it down with any status.
    pub async fn server_with<F>(self, policy: F) -> Result<WebSocket<S, B, NoRng, T>, Error<S::Error>>
    where
        F: for<'r> FnOnce(&Request<'r>) -> Result<Accept<'r>, Reject<'r>>,
    {
        check_buffers(&self.buffers)?;
        let conn = Connection::server(self.config);
        #[allow(unused_mut)]
        let mut engine = Engine::server(conn, self.buffers.rx, self.buffers.tx);
        #[cfg(feature = "deflate")]
        {
            engine.deflate = self.deflate;
        }
        let mut ws = WebSocket {
            stream: self.stream,
            engine,
            timer: self.timer,
            close_timeout_ms: self.close_timeout_ms,
        };
        ws.engine.core.keepalive.config = self.keepalive;
        let mut policy = Some(policy);
        loop {
            match ws.engine.server_request(&self.config, &mut policy) {
                None => {
                    if ws.read().await? == 0 {
                        return Err(Error::Disconnected);
                    }
                }
                Some(answer) => {
                    ws.flush().await?;
                    return match answer {
                        Answer::Accepted => Ok(ws),
                        Answer::Rejected(status) => Err(Error::Rejected(status)),
                        Answer::Invalid(e) => Err(Error::Ws(e)),
                    };
                }
            }
        }
    }
}

fn check_buffers<B: AsRef<[u8]>, E>(buffers: &Buffers<B>) -> Result<(), Error<E>> {
    if buffers.rx.as_ref().len() < Buffers::<B>::MIN_LEN || buffers.tx.as_ref().len() < Buffers::<B>::MIN_LEN
    {
        return Err(Error::Ws(ws_proto::Error::BufferTooSmall));
    }
    Ok(())
}

/// A timer that never fires: without one, keepalive is off and `close` waits as long as
/// the peer takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTimer;

impl DelayNs for NoTimer {
    async fn delay_ns(&mut self, _: u32) {
        core::future::pending::<()>().await;
    }
}

/// A WebSocket connection over an async byte stream, after its opening handshake.
///
/// Receiving answers pings and the peer's close by itself; sending takes a message of
/// any size through the transmit buffer, as one frame.
pub struct WebSocket<S, B, R = NoRng, T = NoTimer> {
    stream: S,
    engine: Engine<B, R>,
    timer: T,
    close_timeout_ms: u32,
}

impl<S, B, R, T> core::fmt::Debug for WebSocket<S, B, R, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket").field("protocol", &self.engine.core.protocol()).finish_non_exhaustive()
    }
}

impl<S, B, R, T> WebSocket<S, B, R, T> {
    /// The stream, the state and the timer, for [`split`](Self::split).
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) fn into_split_parts(self) -> (S, Engine<B, R>, T) {
        (self.stream, self.engine, self.timer)
    }
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>> WebSocket<S, B> {
    /// Starts setting up a connection on `stream`, working in `buffers`.
    pub fn builder(stream: S, buffers: Buffers<B>) -> Builder<S, B> {
        Builder {
            stream,
            buffers,
            config: Config::default(),
            keepalive: None,
            timer: NoTimer,
            #[cfg(feature = "deflate")]
            deflate: None,
            close_timeout_ms: 2000,
        }
    }
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>, R: RngCore, T: DelayNs> WebSocket<S, B, R, T> {
    /// The next whole text or binary message, put together in `buf` (a `Vec` grows to
    /// fit, up to the message limit; a message too large for a fixed buffer fails the
    /// connection with 1009). Pings are answered and pongs passed over on the way.
    ///
    /// `Ok(None)` once the closing handshake is over ([`peer_close`](Self::peer_close)
    /// tells the peer's code); a peer that disappears without one is
    /// [`Error::Disconnected`].
    pub async fn recv<'m, M: MessageBuf + ?Sized>(
        &mut self,
        buf: &'m mut M,
    ) -> Result<Option<Message<'m>>, Error<S::Error>> {
        loop {
            self.flush().await?;
            match self.engine.step_message(buf) {
                Ok(Step::Ready((kind, len))) => {
                    self.flush().await?;
                    return Ok(Some(engine::message(buf, kind, len)));
                }
                Ok(Step::Closed) => return self.flush().await.map(|()| None),
                Ok(Step::Read) => {
                    // A pong or close the bytes so far called for goes out before the wait.
                    self.flush().await?;
                    if self.read_or_keepalive().await? {
                        return self.end_of_stream();
                    }
                }
                Err(e) => {
                    // The peer is told why first.
                    let _ = self.flush().await;
                    return Err(Error::Ws(e));
                }
            }
        }
    }

    /// The next whole message, owned: a fresh buffer for each message, for applications
    /// that keep messages or hand them to other tasks.
    #[cfg(feature = "alloc")]
    pub async fn recv_owned(&mut self) -> Result<Option<crate::OwnedMessage>, Error<S::Error>> {
        let mut buf = alloc::vec::Vec::new();
        let message = self.recv(&mut buf).await?;
        Ok(message.map(crate::OwnedMessage::from))
    }

    /// The next event, as the protocol core gives it: a data chunk (of any size; its
    /// payload borrowed from the receive buffer, never copied), a ping, a pong or the
    /// peer's close. `Ok(None)` once the closing handshake is over.
    pub async fn recv_event(&mut self) -> Result<Option<Event<'_>>, Error<S::Error>> {
        let event = loop {
            self.flush().await?;
            match self.engine.step_event() {
                Ok(Step::Ready(event)) => break event,
                Ok(Step::Closed) => return self.flush().await.map(|()| None),
                Ok(Step::Read) => {
                    // A pong or close the bytes so far called for goes out before the wait.
                    self.flush().await?;
                    if self.read_or_keepalive().await? {
                        return self.end_of_stream();
                    }
                }
                Err(e) => {
                    let _ = self.flush().await;
                    return Err(Error::Ws(e));
                }
            }
        };
        self.flush().await?;
        Ok(Some(event.event(&self.engine.inbox)))
    }

    /// Sends a message. Text and binary of any size go out as one frame, streamed through
    /// the transmit buffer; a close starts the closing handshake (finish it with
    /// [`recv`](Self::recv) until `None`, or use [`close`](Self::close)).
    pub async fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.flush_control().await?;
        let (kind, payload) = match message {
            Message::Text(text) => (DataKind::Text, text.as_bytes()),
            Message::Binary(bytes) => (DataKind::Binary, bytes),
            other => {
                self.engine.core.queue_message(other)?;
                return self.flush().await;
            }
        };
        #[cfg(feature = "deflate")]
        if self.engine.core.compresses() {
            return self.send_compressed(kind, payload, true).await;
        }
        self.engine.core.start_frame(kind, payload.len() as u64, true)?;
        self.write_payload(payload).await
    }

    /// Starts a data frame of `len` payload bytes, to be sent through
    /// [`write_payload`](Self::write_payload): a frame as large as a file, from a reader.
    /// `fin` ends the message; a message of several frames continues with more.
    pub async fn start_frame(&mut self, kind: DataKind, len: u64, fin: bool) -> Result<(), Error<S::Error>> {
        self.flush_control().await?;
        Ok(self.engine.core.start_frame(kind, len, fin)?)
    }

    /// Sends payload bytes of the frame begun with [`start_frame`](Self::start_frame).
    pub async fn write_payload(&mut self, mut payload: &[u8]) -> Result<(), Error<S::Error>> {
        loop {
            let n = self.engine.core.queue_payload(payload)?;
            payload = payload.get(n..).unwrap_or_default();
            self.flush().await?;
            if payload.is_empty() {
                return Ok(());
            }
        }
    }

    /// Sends a piece of a `kind` message; `fin` ends the message. Compressed when
    /// permessage-deflate is agreed (the pieces feed one compressed message), otherwise a
    /// frame per piece. For a message whose size is not known in advance, or an echo
    /// that forwards what arrives as it arrives.
    pub async fn send_chunk(
        &mut self,
        kind: DataKind,
        chunk: &[u8],
        fin: bool,
    ) -> Result<(), Error<S::Error>> {
        #[cfg(feature = "deflate")]
        if self.engine.core.compresses() {
            self.flush_control().await?;
            return self.send_compressed(kind, chunk, fin).await;
        }
        self.start_frame(kind, chunk.len() as u64, fin).await?;
        self.write_payload(chunk).await
    }

    /// Compresses `payload` into frames through the transmit buffer.
    #[cfg(feature = "deflate")]
    async fn send_compressed(
        &mut self,
        kind: DataKind,
        mut payload: &[u8],
        fin: bool,
    ) -> Result<(), Error<S::Error>> {
        loop {
            let done = self.engine.core.queue_compressed(kind, payload, fin)?;
            payload = payload.get(done.taken..).unwrap_or_default();
            self.flush().await?;
            if done.finished || (!fin && payload.is_empty()) {
                return Ok(());
            }
        }
    }

    /// Closes the connection: sends our close frame, then reads (dropping data) until the
    /// peer's close arrives or it closes TCP, for at most the close timeout (with a timer;
    /// [`Error::Timeout`] after it).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        self.flush_control().await?;
        if !self.engine.core.conn.close_sent() && !self.engine.core.conn.close_received() {
            self.engine.core.queue_message(Message::Close(Some(CloseFrame { code, reason })))?;
        }
        let Self { stream, engine, timer, close_timeout_ms } = self;
        match select(drain(stream, engine), timer.delay_ms(*close_timeout_ms)).await {
            Either::First(done) => done,
            Either::Second(()) => Err(Error::Timeout),
        }
    }

    /// Turns keepalive on or off, or changes it.
    pub fn set_keepalive(&mut self, keepalive: Option<Keepalive>) {
        self.engine.core.keepalive.config = keepalive;
    }

    /// The subprotocol agreed on in the opening handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.engine.core.protocol()
    }

    /// The peer's close frame, once it has arrived with a code.
    pub fn peer_close(&self) -> Option<CloseFrame<'_>> {
        self.engine.core.peer_close()
    }

    /// The protocol state machine, for inspection.
    pub fn connection(&self) -> &Connection<R> {
        &self.engine.core.conn
    }

    /// The byte stream.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream and both buffers back.
    pub fn into_parts(self) -> (S, Buffers<B>) {
        let (rx, tx) = self.engine.into_buffers();
        (self.stream, Buffers { rx, tx })
    }

    /// Writes what is queued.
    async fn flush(&mut self) -> Result<(), Error<S::Error>> {
        flush(&mut self.stream, &mut self.engine.core).await
    }

    /// Writes what is queued and the control frames owed, so a frame of ours can start.
    async fn flush_control(&mut self) -> Result<(), Error<S::Error>> {
        self.flush().await?;
        self.engine.core.queue_control()?;
        self.flush().await
    }

    /// Reads once into the receive buffer; 0 at the end of the stream.
    async fn read(&mut self) -> Result<usize, Error<S::Error>> {
        read(&mut self.stream, &mut self.engine.inbox).await
    }

    /// Reads once, or acts for the keepalive when the silence lasts: a ping, or a close
    /// with 1001 and [`Error::Timeout`]. True at the end of the stream.
    async fn read_or_keepalive(&mut self) -> Result<bool, Error<S::Error>> {
        let Some(wait_ms) = self.engine.core.keepalive.next_wait_ms() else {
            return Ok(self.read().await? == 0);
        };
        let Self { stream, engine, timer, .. } = self;
        match select(read(stream, &mut engine.inbox), timer.delay_ms(wait_ms)).await {
            Either::First(read) => return Ok(read? == 0),
            Either::Second(()) => {}
        }
        match self.engine.core.keepalive.elapse(wait_ms) {
            Due::Nothing => {}
            Due::Ping => {
                self.flush_control().await?;
                self.engine.core.queue_message(Message::Ping(b"keepalive"))?;
                self.flush().await?;
            }
            Due::Close => {
                self.flush_control().await?;
                let frame = CloseFrame { code: CloseCode::GOING_AWAY, reason: "keepalive timeout" };
                let _ = self.engine.core.queue_message(Message::Close(Some(frame)));
                let _ = self.flush().await;
                return Err(Error::Timeout);
            }
        }
        Ok(false)
    }

    /// The stream ended: after our close (or the peer's) that is the end; before, the
    /// peer is gone without one.
    fn end_of_stream<X>(&mut self) -> Result<Option<X>, Error<S::Error>> {
        let conn = &self.engine.core.conn;
        if conn.close_sent() || conn.close_received() {
            Ok(None)
        } else {
            Err(Error::Disconnected)
        }
    }
}

/// Writes what `core` has queued to `stream`.
pub(crate) async fn flush<S: Write, B: AsRef<[u8]> + AsMut<[u8]>, R: RngCore>(
    stream: &mut S,
    core: &mut Core<B, R>,
) -> Result<(), Error<S::Error>> {
    while !core.outgoing().is_empty() {
        let n = stream.write(core.outgoing()).await.map_err(Error::Io)?;
        if n == 0 {
            return Err(Error::Disconnected);
        }
        core.wrote(n);
    }
    stream.flush().await.map_err(Error::Io)
}

/// Reads once from `stream` into the receive buffer; 0 at the end of the stream.
pub(crate) async fn read<S: Read, B: AsRef<[u8]> + AsMut<[u8]>>(
    stream: &mut S,
    inbox: &mut Inbox<B>,
) -> Result<usize, Error<S::Error>> {
    let n = stream.read(inbox.rx.spare()).await.map_err(Error::Io)?;
    inbox.rx.commit(n);
    Ok(n)
}

/// Reads and drops everything until the closing handshake is over or the stream ends.
async fn drain<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>, R: RngCore>(
    stream: &mut S,
    engine: &mut Engine<B, R>,
) -> Result<(), Error<S::Error>> {
    loop {
        flush(stream, &mut engine.core).await?;
        match engine.step_event() {
            Ok(Step::Ready(_)) => {}
            Ok(Step::Closed) => return flush(stream, &mut engine.core).await,
            Ok(Step::Read) => {
                if read(stream, &mut engine.inbox).await? == 0 {
                    return Ok(());
                }
            }
            Err(e) => {
                let _ = flush(stream, &mut engine.core).await;
                return Err(Error::Ws(e));
            }
        }
    }
}
