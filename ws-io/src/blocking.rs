//! WebSockets over a blocking byte stream ([`embedded_io::Read`] + [`Write`]): a
//! `std::net::TcpStream` (through `embedded-io-adapters`' `FromStd`, or
//! [`crate::std::connect`]), a UART, a TLS stream.
//!
//! [`Write`]: embedded_io::Write

use embedded_io::{Read, Write};
use rand_core::RngCore;
use ws_proto::handshake::{Accept, ClientRequest, Reject, Request};
use ws_proto::{CloseCode, CloseFrame, Config, Connection, DataKind, Event, Message, NoRng};

use crate::engine::{self, Answer, Engine, Step};
use crate::keepalive::Due;
use crate::{Buffers, Error, IntoRequest, Keepalive, MessageBuf};

/// Sets up a [`WebSocket`]: the stream and buffers first, then optional settings, then
/// the role, which runs the opening handshake.
///
/// ```no_run
/// # fn demo(stream: std::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
/// use embedded_io_adapters::std::FromStd;
/// use ws_io::{blocking::WebSocket, Buffers, Keepalive};
///
/// let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
/// let mut ws = WebSocket::builder(FromStd::new(stream), Buffers { rx: &mut rx[..], tx: &mut tx[..] })
///     .keepalive(Keepalive::new(30_000, 60_000))
///     .client("ws://example.com/chat", rand::rng())?;
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until `client` or `server` runs the handshake"]
pub struct Builder<S, B> {
    stream: S,
    buffers: Buffers<B>,
    config: Config,
    keepalive: Option<Keepalive>,
    #[cfg(feature = "deflate")]
    deflate: Option<ws_proto::deflate::DeflateConfig>,
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>> Builder<S, B> {
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

    /// Turns keepalive on: see [`WebSocket::keepalive_tick`].
    pub fn keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = Some(keepalive);
        self
    }

    /// The client's handshake: sends `request` (a `ws://` URL or a
    /// [`ClientRequest`]) with a key from `rng`, which then masks every frame, and checks
    /// the server's answer.
    pub fn client<'r, R: RngCore>(
        self,
        request: impl IntoRequest<'r>,
        rng: R,
    ) -> Result<WebSocket<S, B, R>, Error<S::Error>> {
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
        let mut ws = WebSocket { stream: self.stream, engine };
        ws.engine.core.keepalive.config = self.keepalive;
        ws.flush()?;
        while !ws.engine.client_response(&handshake)? {
            if ws.read()? == 0 {
                return Err(Error::Disconnected);
            }
        }
        Ok(ws)
    }

    /// The server's handshake: reads the request and accepts it, without a subprotocol.
    pub fn server(self) -> Result<WebSocket<S, B>, Error<S::Error>> {
        self.server_with(|_| Ok(Accept::new()))
    }

    /// The server's handshake: reads the request and lets `policy` decide, from its path,
    /// headers and offered subprotocols, to accept it (with a subprotocol and headers) or
    /// to turn it down with any status.
    pub fn server_with<F>(self, policy: F) -> Result<WebSocket<S, B>, Error<S::Error>>
    where
        F: for<'r> FnOnce(&Request<'r>) -> Result<Accept<'r>, Reject<'r>>,
    {
        check_buffers(&self.buffers)?;
        let conn = Connection::server(self.config);
        let mut ws =
            WebSocket { stream: self.stream, engine: Engine::server(conn, self.buffers.rx, self.buffers.tx) };
        #[cfg(feature = "deflate")]
        {
            ws.engine.deflate = self.deflate;
        }
        ws.engine.core.keepalive.config = self.keepalive;
        let mut policy = Some(policy);
        loop {
            match ws.engine.server_request(&self.config, &mut policy) {
                None => {
                    if ws.read()? == 0 {
                        return Err(Error::Disconnected);
                    }
                }
                Some(answer) => {
                    ws.flush()?;
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

/// A WebSocket connection over a blocking byte stream, after its opening handshake.
///
/// Receiving answers pings and the peer's close by itself; sending takes a message of
/// any size through the transmit buffer, as one frame.
pub struct WebSocket<S, B, R = NoRng> {
    stream: S,
    engine: Engine<B, R>,
}

impl<S, B, R> core::fmt::Debug for WebSocket<S, B, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket").field("protocol", &self.engine.core.protocol()).finish_non_exhaustive()
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
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

impl<S: Read + Write, B: AsRef<[u8]> + AsMut<[u8]>, R: RngCore> WebSocket<S, B, R> {
    /// The next whole text or binary message, put together in `buf` (a `Vec` grows to
    /// fit, up to the message limit; a message too large for a fixed buffer fails the
    /// connection with 1009). Pings are answered and pongs passed over on the way.
    ///
    /// `Ok(None)` once the closing handshake is over ([`peer_close`](Self::peer_close)
    /// tells the peer's code); a peer that disappears without one is
    /// [`Error::Disconnected`].
    pub fn recv<'m, M: MessageBuf + ?Sized>(
        &mut self,
        buf: &'m mut M,
    ) -> Result<Option<Message<'m>>, Error<S::Error>> {
        loop {
            self.flush()?;
            match self.engine.step_message(buf) {
                Ok(Step::Ready((kind, len))) => {
                    self.flush()?;
                    return Ok(Some(engine::message(buf, kind, len)));
                }
                Ok(Step::Closed) => return self.flush().map(|()| None),
                Ok(Step::Read) => {
                    // A pong or close the bytes so far called for goes out before the wait.
                    self.flush()?;
                    if self.read()? == 0 {
                        return self.end_of_stream();
                    }
                }
                Err(e) => {
                    // The peer is told why first.
                    let _ = self.flush();
                    return Err(Error::Ws(e));
                }
            }
        }
    }

    /// The next whole message, owned: a fresh buffer for each message, for applications
    /// that keep messages or hand them to other tasks.
    #[cfg(feature = "alloc")]
    pub fn recv_owned(&mut self) -> Result<Option<crate::OwnedMessage>, Error<S::Error>> {
        let mut buf = alloc::vec::Vec::new();
        let message = self.recv(&mut buf)?;
        Ok(message.map(crate::OwnedMessage::from))
    }

    /// The next event, as the protocol core gives it: a data chunk (of any size; its
    /// payload borrowed from the receive buffer, never copied), a ping, a pong or the
    /// peer's close. `Ok(None)` once the closing handshake is over.
    pub fn recv_event(&mut self) -> Result<Option<Event<'_>>, Error<S::Error>> {
        let event = loop {
            self.flush()?;
            match self.engine.step_event() {
                Ok(Step::Ready(event)) => break event,
                Ok(Step::Closed) => return self.flush().map(|()| None),
                Ok(Step::Read) => {
                    // A pong or close the bytes so far called for goes out before the wait.
                    self.flush()?;
                    if self.read()? == 0 {
                        return self.end_of_stream();
                    }
                }
                Err(e) => {
                    let _ = self.flush();
                    return Err(Error::Ws(e));
                }
            }
        };
        self.flush()?;
        Ok(Some(event.event(&self.engine.inbox)))
    }

    /// Sends a message. Text and binary of any size go out as one frame, streamed through
    /// the transmit buffer; a close starts the closing handshake (finish it with
    /// [`recv`](Self::recv) until `None`, or use [`close`](Self::close)).
    pub fn send(&mut self, message: Message<'_>) -> Result<(), Error<S::Error>> {
        self.flush_control()?;
        let (kind, payload) = match message {
            Message::Text(text) => (DataKind::Text, text.as_bytes()),
            Message::Binary(bytes) => (DataKind::Binary, bytes),
            other => {
                self.engine.core.queue_message(other)?;
                return self.flush();
            }
        };
        #[cfg(feature = "deflate")]
        if self.engine.core.compresses() {
            return self.send_compressed(kind, payload, true);
        }
        self.engine.core.start_frame(kind, payload.len() as u64, true)?;
        self.write_payload(payload)
    }

    /// Starts a data frame of `len` payload bytes, to be sent through
    /// [`write_payload`](Self::write_payload): a frame as large as a file, from a reader.
    /// `fin` ends the message; a message of several frames continues with more.
    pub fn start_frame(&mut self, kind: DataKind, len: u64, fin: bool) -> Result<(), Error<S::Error>> {
        self.flush_control()?;
        Ok(self.engine.core.start_frame(kind, len, fin)?)
    }

    /// Sends payload bytes of the frame begun with [`start_frame`](Self::start_frame).
    pub fn write_payload(&mut self, mut payload: &[u8]) -> Result<(), Error<S::Error>> {
        loop {
            let n = self.engine.core.queue_payload(payload)?;
            payload = payload.get(n..).unwrap_or_default();
            self.flush()?;
            if payload.is_empty() {
                return Ok(());
            }
        }
    }

    /// Sends a piece of a `kind` message; `fin` ends the message. Compressed when
    /// permessage-deflate is agreed (the pieces feed one compressed message), otherwise a
    /// frame per piece. For a message whose size is not known in advance, or an echo
    /// that forwards what arrives as it arrives.
    pub fn send_chunk(&mut self, kind: DataKind, chunk: &[u8], fin: bool) -> Result<(), Error<S::Error>> {
        #[cfg(feature = "deflate")]
        if self.engine.core.compresses() {
            self.flush_control()?;
            return self.send_compressed(kind, chunk, fin);
        }
        self.start_frame(kind, chunk.len() as u64, fin)?;
        self.write_payload(chunk)
    }

    /// Compresses `payload` into frames through the transmit buffer.
    #[cfg(feature = "deflate")]
    fn send_compressed(
        &mut self,
        kind: DataKind,
        mut payload: &[u8],
        fin: bool,
    ) -> Result<(), Error<S::Error>> {
        loop {
            let done = self.engine.core.queue_compressed(kind, payload, fin)?;
            payload = payload.get(done.taken..).unwrap_or_default();
            self.flush()?;
            if done.finished || (!fin && payload.is_empty()) {
                return Ok(());
            }
        }
    }

    /// Closes the connection: sends our close frame, then reads (dropping data) until the
    /// peer's close arrives or it closes TCP. Bounded by the stream's own read timeout,
    /// if it has one (`TcpStream::set_read_timeout`).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error<S::Error>> {
        self.flush_control()?;
        if !self.engine.core.conn.close_sent() && !self.engine.core.conn.close_received() {
            self.engine.core.queue_message(Message::Close(Some(CloseFrame { code, reason })))?;
        }
        loop {
            match self.recv_event() {
                Ok(Some(_)) => {}
                Ok(None) | Err(Error::Disconnected) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Drives keepalive when the caller's read waits are bounded (a read timeout on the
    /// stream): call it with a millisecond clock when [`recv`](Self::recv) returns the
    /// stream's time-out error. After `ping_after_ms` of silence a ping goes out; after
    /// `close_after_ms` the connection is closed with 1001 and this is
    /// [`Error::Timeout`].
    pub fn keepalive_tick(&mut self, now_ms: u64) -> Result<(), Error<S::Error>> {
        match self.engine.core.keepalive.tick(now_ms) {
            Due::Nothing => Ok(()),
            Due::Ping => self.send(Message::Ping(b"keepalive")),
            Due::Close => {
                self.flush_control()?;
                let _ = self.engine.core.queue_message(Message::Close(Some(CloseFrame {
                    code: CloseCode::GOING_AWAY,
                    reason: "keepalive timeout",
                })));
                let _ = self.flush();
                Err(Error::Timeout)
            }
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
    fn flush(&mut self) -> Result<(), Error<S::Error>> {
        while !self.engine.core.outgoing().is_empty() {
            let n = self.stream.write(self.engine.core.outgoing()).map_err(Error::Io)?;
            if n == 0 {
                return Err(Error::Disconnected);
            }
            self.engine.core.wrote(n);
        }
        self.stream.flush().map_err(Error::Io)
    }

    /// Writes what is queued and the control frames owed, so a frame of ours can start.
    fn flush_control(&mut self) -> Result<(), Error<S::Error>> {
        self.flush()?;
        self.engine.core.queue_control()?;
        self.flush()
    }

    /// Reads once into the receive buffer; 0 at the end of the stream.
    fn read(&mut self) -> Result<usize, Error<S::Error>> {
        let n = self.stream.read(self.engine.inbox.rx.spare()).map_err(Error::Io)?;
        self.engine.inbox.rx.commit(n);
        Ok(n)
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
