//! A connection in two halves that can live in two tasks: one receives, one sends. The
//! reading half still answers pings and the peer's close, through the writing half's
//! stream, which the halves share behind an async lock.

use alloc::sync::Arc;

use embassy_futures::select::{select, Either};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::mutex::Mutex as AsyncMutex;
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{ErrorType, Read, Write};
use rand_core::RngCore;
use ws_proto::{CloseCode, CloseFrame, DataKind, Event, Message};

use crate::asynch::{flush, read, WebSocket};
use crate::engine::{self, step_event, step_message, Core, EventAt, Inbox, Step};
use crate::keepalive::Due;
use crate::{Error, MessageBuf};

/// A byte stream that divides into a reading and a writing half (tokio streams do, through
/// `tokio::io::split`).
pub trait Split: ErrorType {
    /// The reading half.
    type Read: Read<Error = Self::Error>;
    /// The writing half.
    type Write: Write<Error = Self::Error>;
    /// Divides the stream.
    fn split(self) -> (Self::Read, Self::Write);
}

#[cfg(feature = "tokio")]
impl<T: ::tokio::io::AsyncRead + ::tokio::io::AsyncWrite + Unpin> Split
    for embedded_io_adapters::tokio_1::FromTokio<T>
{
    type Read = embedded_io_adapters::tokio_1::FromTokio<::tokio::io::ReadHalf<T>>;
    type Write = embedded_io_adapters::tokio_1::FromTokio<::tokio::io::WriteHalf<T>>;

    fn split(self) -> (Self::Read, Self::Write) {
        let (read, write) = ::tokio::io::split(self.into_inner());
        (
            embedded_io_adapters::tokio_1::FromTokio::new(read),
            embedded_io_adapters::tokio_1::FromTokio::new(write),
        )
    }
}

/// The halves' lock: held across writes, so that a frame is never interleaved.
type Mutex<T> = AsyncMutex<CriticalSectionRawMutex, T>;

/// What the halves share: the writing half of the stream and the connection's state.
struct Writer<W, B, R> {
    stream: W,
    core: Core<B, R>,
}

impl<S, B, R, T> WebSocket<S, B, R, T>
where
    S: Split,
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: RngCore,
    T: DelayNs,
{
    /// Divides the connection into a half that receives and a half that sends, for two
    /// tasks. Pongs and the reply to the peer's close still go out, from the receiving
    /// half.
    // The two halves' types spelled out, rather than behind an alias, so the docs show them.
    #[allow(clippy::type_complexity)]
    pub fn split(self) -> (ReadHalf<S::Read, S::Write, B, R, T>, WriteHalf<S::Write, B, R>) {
        let (stream, engine, timer) = self.into_split_parts();
        let (read, write) = stream.split();
        let shared = Arc::new(Mutex::new(Writer { stream: write, core: engine.core }));
        let reader = ReadHalf { stream: read, inbox: engine.inbox, shared: shared.clone(), timer };
        (reader, WriteHalf { shared })
    }
}

/// The receiving half of a [split](WebSocket::split) connection.
pub struct ReadHalf<Rd, W, B, R, T> {
    stream: Rd,
    inbox: Inbox<B>,
    shared: Arc<Mutex<Writer<W, B, R>>>,
    timer: T,
}

impl<Rd, W, B, R, T> core::fmt::Debug for ReadHalf<Rd, W, B, R, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<Rd, W, B, R, T> ReadHalf<Rd, W, B, R, T>
where
    Rd: Read,
    W: Write<Error = Rd::Error>,
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: RngCore,
    T: DelayNs,
{
    /// The next whole text or binary message, as
    /// [`WebSocket::recv`](crate::asynch::WebSocket::recv) gives it.
    pub async fn recv<'m, M: MessageBuf + ?Sized>(
        &mut self,
        buf: &'m mut M,
    ) -> Result<Option<Message<'m>>, Error<Rd::Error>> {
        loop {
            let step = {
                let mut guard = self.shared.lock().await;
                let writer = &mut *guard;
                flush(&mut writer.stream, &mut writer.core).await?;
                let step = step_message(&mut writer.core, &mut self.inbox, buf);
                let _ = flush(&mut writer.stream, &mut writer.core).await;
                step
            };
            match step {
                Ok(Step::Ready((kind, len))) => return Ok(Some(engine::message(buf, kind, len))),
                Ok(Step::Closed) => return Ok(None),
                Ok(Step::Read) => {
                    if self.read_or_keepalive().await? {
                        return self.end_of_stream().await;
                    }
                }
                Err(e) => return Err(Error::Ws(e)),
            }
        }
    }

    /// The next whole message, owned.
    pub async fn recv_owned(&mut self) -> Result<Option<crate::OwnedMessage>, Error<Rd::Error>> {
        let mut buf = alloc::vec::Vec::new();
        let message = self.recv(&mut buf).await?;
        Ok(message.map(crate::OwnedMessage::from))
    }

    /// The next event, as [`WebSocket::recv_event`](crate::asynch::WebSocket::recv_event)
    /// gives it.
    pub async fn recv_event(&mut self) -> Result<Option<Event<'_>>, Error<Rd::Error>> {
        let event: EventAt = loop {
            let step = {
                let mut guard = self.shared.lock().await;
                let writer = &mut *guard;
                flush(&mut writer.stream, &mut writer.core).await?;
                let step = step_event(&mut writer.core, &mut self.inbox);
                let _ = flush(&mut writer.stream, &mut writer.core).await;
                step
            };
            match step {
                Ok(Step::Ready(event)) => break event,
                Ok(Step::Closed) => return Ok(None),
                Ok(Step::Read) => {
                    if self.read_or_keepalive().await? {
                        return self.end_of_stream().await;
                    }
                }
                Err(e) => return Err(Error::Ws(e)),
            }
        };
        Ok(Some(event.event(&self.inbox)))
    }

    /// The peer's close frame, once it has arrived with a code: its code and reason.
    pub async fn peer_close(&self) -> Option<(CloseCode, alloc::string::String)> {
        let guard = self.shared.lock().await;
        guard.core.peer_close().map(|f| (f.code, alloc::string::String::from(f.reason)))
    }

    /// Reads once, or acts for the keepalive; true at the end of the stream.
    async fn read_or_keepalive(&mut self) -> Result<bool, Error<Rd::Error>> {
        let wait = self.shared.lock().await.core.keepalive.next_wait_ms();
        let Some(wait_ms) = wait else { return Ok(read(&mut self.stream, &mut self.inbox).await? == 0) };
        match select(read(&mut self.stream, &mut self.inbox), self.timer.delay_ms(wait_ms)).await {
            Either::First(read) => return Ok(read? == 0),
            Either::Second(()) => {}
        }
        let mut guard = self.shared.lock().await;
        let writer = &mut *guard;
        match writer.core.keepalive.elapse(wait_ms) {
            Due::Nothing => {}
            Due::Ping => {
                flush(&mut writer.stream, &mut writer.core).await?;
                writer.core.queue_control()?;
                flush(&mut writer.stream, &mut writer.core).await?;
                writer.core.queue_message(Message::Ping(b"keepalive"))?;
                flush(&mut writer.stream, &mut writer.core).await?;
            }
            Due::Close => {
                let frame = CloseFrame { code: CloseCode::GOING_AWAY, reason: "keepalive timeout" };
                let _ = flush(&mut writer.stream, &mut writer.core).await;
                let _ = writer.core.queue_message(Message::Close(Some(frame)));
                let _ = flush(&mut writer.stream, &mut writer.core).await;
                return Err(Error::Timeout);
            }
        }
        Ok(false)
    }

    async fn end_of_stream<X>(&mut self) -> Result<Option<X>, Error<Rd::Error>> {
        let guard = self.shared.lock().await;
        if guard.core.conn.close_sent() || guard.core.conn.close_received() {
            Ok(None)
        } else {
            Err(Error::Disconnected)
        }
    }
}

/// The sending half of a [split](WebSocket::split) connection.
pub struct WriteHalf<W, B, R> {
    shared: Arc<Mutex<Writer<W, B, R>>>,
}

impl<W, B, R> core::fmt::Debug for WriteHalf<W, B, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

impl<W, B, R> WriteHalf<W, B, R>
where
    W: Write,
    B: AsRef<[u8]> + AsMut<[u8]>,
    R: RngCore,
{
    /// Sends a message, as [`WebSocket::send`](crate::asynch::WebSocket::send) does; the
    /// receiving half waits to answer a ping until a data frame in progress is out.
    pub async fn send(&self, message: Message<'_>) -> Result<(), Error<W::Error>> {
        let mut guard = self.shared.lock().await;
        let writer = &mut *guard;
        flush(&mut writer.stream, &mut writer.core).await?;
        writer.core.queue_control()?;
        flush(&mut writer.stream, &mut writer.core).await?;
        let (kind, mut payload) = match message {
            Message::Text(text) => (DataKind::Text, text.as_bytes()),
            Message::Binary(bytes) => (DataKind::Binary, bytes),
            other => {
                writer.core.queue_message(other)?;
                return flush(&mut writer.stream, &mut writer.core).await;
            }
        };
        #[cfg(feature = "deflate")]
        if writer.core.compresses() {
            loop {
                let done = writer.core.queue_compressed(kind, payload, true)?;
                payload = payload.get(done.taken..).unwrap_or_default();
                flush(&mut writer.stream, &mut writer.core).await?;
                if done.finished {
                    return Ok(());
                }
            }
        }
        writer.core.start_frame(kind, payload.len() as u64, true)?;
        loop {
            let n = writer.core.queue_payload(payload)?;
            payload = payload.get(n..).unwrap_or_default();
            flush(&mut writer.stream, &mut writer.core).await?;
            if payload.is_empty() {
                return Ok(());
            }
        }
    }

    /// Starts the closing handshake: our close frame goes out, and the receiving half's
    /// `recv` gives `None` once the peer's close arrives.
    pub async fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error<W::Error>> {
        let message = Message::Close(Some(CloseFrame { code, reason }));
        Self::send(self, message).await
    }
}
