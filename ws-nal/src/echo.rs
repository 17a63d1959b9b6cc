//! The echo application shared by the host examples and the firmware.

use rand_core::RngCore;

use crate::{Event, Reply};

/// Echoes every data frame back as one frame of the same type, length and FIN bit,
/// streaming each chunk as it arrives, so a message of any size passes through fixed
/// buffers frame for frame. A compressed message goes back compressed through the
/// session's compressor (as a fragment per inflated chunk without one). Pings and closes
/// are answered by the core itself.
pub fn echo<R: RngCore>(event: &Event<'_>, reply: &mut Reply<'_, '_, R>) -> Result<(), ws_proto::Error> {
    if let Event::Data { kind, payload, fin } = *event {
        let frame = reply.frame();
        #[cfg(feature = "deflate")]
        if frame.compressed {
            return reply.send_chunk(kind, payload, fin);
        }
        #[cfg(not(feature = "deflate"))]
        let _ = fin;
        if frame.offset == 0 {
            reply.start_frame(kind, frame.len, frame.fin)?;
        }
        reply.write_payload(payload)?;
    }
    Ok(())
}
