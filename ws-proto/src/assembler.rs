//! Reassembly of whole messages into a caller buffer, for applications that want a
//! `&str` per message rather than a stream of chunks.

use crate::{DataKind, Error, Message};

/// Collects the chunks of one message at a time into a caller-supplied buffer.
///
/// A message larger than the buffer is [`Error::MessageTooLarge`]; pass it to
/// [`Connection::close`](crate::Connection::close) with its close code (1009).
#[derive(Debug)]
pub struct Assembler<'b> {
    buf: &'b mut [u8],
    len: usize,
    /// The previous push completed a message: the next one starts afresh.
    complete: bool,
}

impl<'b> Assembler<'b> {
    /// An assembler that can hold messages up to `buf.len()` bytes.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0, complete: false }
    }

    /// Adds a chunk from [`Event::Data`](crate::Event::Data); returns the whole message
    /// once `fin` is set.
    pub fn push(&mut self, kind: DataKind, payload: &[u8], fin: bool) -> Result<Option<Message<'_>>, Error> {
        if self.complete {
            self.len = 0;
            self.complete = false;
        }
        let end = self.len + payload.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::MessageTooLarge)?;
        dst.copy_from_slice(payload);
        self.len = end;
        if !fin {
            return Ok(None);
        }
        self.complete = true;
        let bytes = self.buf.get(..end).unwrap_or_default();
        Ok(Some(match kind {
            DataKind::Text => Message::Text(core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8)?),
            DataKind::Binary => Message::Binary(bytes),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_and_restarts() {
        let mut storage = [0u8; 8];
        let mut a = Assembler::new(&mut storage);
        assert_eq!(a.push(DataKind::Text, b"ab", false), Ok(None));
        assert_eq!(a.push(DataKind::Text, b"cd", true), Ok(Some(Message::Text("abcd"))));
        assert_eq!(a.push(DataKind::Binary, b"xyz", true), Ok(Some(Message::Binary(b"xyz"))));
        assert_eq!(a.push(DataKind::Binary, b"12345", false), Ok(None));
        assert_eq!(a.push(DataKind::Binary, b"6789", true), Err(Error::MessageTooLarge));
        assert_eq!(Error::MessageTooLarge.close_code(), Some(crate::CloseCode::MESSAGE_TOO_BIG));
    }
}
