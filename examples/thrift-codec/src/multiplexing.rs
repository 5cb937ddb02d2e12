//! Layer 2: kinds, the seqid as a 32-bit request id rewritten in place.
//! Thrift has no heartbeat and no goaway message: those are `Error::Unsupported`.
//!
//! The native status of a response is its message type (2 REPLY, 3 EXCEPTION):
//! reading a `TApplicationException`'s type would mean parsing the struct,
//! which layer 2 never does.

use crate::wire::{message_type, parse};
use crate::{PROTOCOL, ThriftCodec, xp};

fn unsupported(what: &'static str) -> xp::Error {
    xp::Error::Unsupported {
        protocol: PROTOCOL,
        what,
    }
}

impl xp::Multiplexing for ThriftCodec {
    fn id_width(&self) -> xp::IdWidth {
        xp::IdWidth::U32
    }

    fn frame_head(&self, frame: &[u8]) -> Result<xp::FrameHead, xp::Error> {
        let msg = parse(frame, &self.limits)?;
        let is_response = matches!(
            msg.message_type,
            message_type::REPLY | message_type::EXCEPTION
        );
        Ok(xp::FrameHead {
            kind: msg.kind(),
            request_id: u64::from(msg.seqid(frame)),
            timeout: None,
            status: is_response.then_some(u32::from(msg.message_type)),
        })
    }

    /// Writes the id over the i32 seqid (it sits right after the name). Ids
    /// above `u32::MAX` are refused; ids above `i32::MAX` are written as the
    /// negative seqid with the same bits (what every Thrift peer echoes back).
    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), xp::Error> {
        let Ok(id) = u32::try_from(id) else {
            return Err(xp::Error::IdOutOfRange {
                protocol: PROTOCOL,
                id,
                bits: 32,
            });
        };
        let msg = parse(frame, &self.limits)?;
        frame[msg.seqid_at..msg.seqid_at + 4].copy_from_slice(&id.to_be_bytes());
        Ok(())
    }

    fn heartbeat_reply(
        &self,
        _request: &[u8],
        _dst: &mut bytes::BytesMut,
    ) -> Result<(), xp::Error> {
        Err(unsupported("heartbeats (Thrift has no heartbeat message)"))
    }

    fn heartbeat_request(&self, _id: u64, _dst: &mut bytes::BytesMut) -> Result<(), xp::Error> {
        Err(unsupported("heartbeats (Thrift has no heartbeat message)"))
    }

    fn goaway(&self, _id: u64, _dst: &mut bytes::BytesMut) -> Result<(), xp::Error> {
        Err(unsupported("goaway (Thrift has no goaway message)"))
    }
}
