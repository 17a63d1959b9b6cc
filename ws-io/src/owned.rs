//! Owned messages, for applications that keep or pass on what arrives.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ws_proto::{CloseCode, CloseFrame, Message};

/// A message that owns its payload: what [`recv_owned`](crate::blocking::WebSocket::recv_owned)
/// gives, and what can be sent with [`as_message`](Self::as_message).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OwnedMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame: its code and reason, if it had a code.
    Close(Option<(CloseCode, String)>),
}

impl OwnedMessage {
    /// The message, borrowed, for sending.
    pub fn as_message(&self) -> Message<'_> {
        match self {
            Self::Text(text) => Message::Text(text),
            Self::Binary(bytes) => Message::Binary(bytes),
            Self::Ping(bytes) => Message::Ping(bytes),
            Self::Pong(bytes) => Message::Pong(bytes),
            Self::Close(frame) => {
                Message::Close(frame.as_ref().map(|(code, reason)| CloseFrame { code: *code, reason }))
            }
        }
    }
}

impl From<Message<'_>> for OwnedMessage {
    fn from(message: Message<'_>) -> Self {
        match message {
            Message::Text(text) => Self::Text(text.to_string()),
            Message::Binary(bytes) => Self::Binary(bytes.to_vec()),
            Message::Ping(bytes) => Self::Ping(bytes.to_vec()),
            Message::Pong(bytes) => Self::Pong(bytes.to_vec()),
            Message::Close(frame) => Self::Close(frame.map(|f| (f.code, f.reason.to_string()))),
            // Messages added later are carried as binary.
            _ => Self::Binary(Vec::new()),
        }
    }
}

impl From<String> for OwnedMessage {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for OwnedMessage {
    fn from(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

impl From<Vec<u8>> for OwnedMessage {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes)
    }
}
