//! The echo application shared by the host examples and the firmware.

use rand_core::RngCore;
use ws_proto::Event as WsEvent;

use crate::{Event, Reply};

/// Echoes every data chunk back as it arrives, so a message of any size passes through
/// fixed buffers: the first chunk goes out as a frame of the message's type, the rest as
/// continuations, the last with FIN. Pings and closes are answered by the core itself.
pub fn echo<R: RngCore>(event: &Event<'_>, reply: &mut Reply<'_, R>) -> Result<(), ws_proto::Error> {
    if let Event::Ws(WsEvent::Data { kind, payload, fin }) = *event {
        reply.send_fragment(kind, payload, fin)?;
    }
    Ok(())
}
