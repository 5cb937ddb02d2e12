//! Layer 2: kinds, u64 ids rewritten in place, timeouts. Heartbeat replies and
//! active heartbeats mirror the observed frames only when the codec was built
//! with [`HsfCodec::with_observed_heartbeats`]; goaway is unsupported.

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use xprotocol_core::{Error, FrameHead, FrameKind, IdWidth, Multiplexing};

use crate::header::{HEARTBEAT_LEN, HEARTBEAT_MAGIC, Layout, TYPE_RESPONSE, VERSION, layout};
use crate::{HsfCodec, PROTOCOL};

/// The layout of a whole frame.
pub(crate) fn whole(codec: &HsfCodec, frame: &[u8]) -> Result<Layout, Error> {
    match layout(frame, &codec.limits)? {
        Ok(l) if l.frame_len() == frame.len() => Ok(l),
        _ => Err(Error::Malformed {
            protocol: PROTOCOL,
            field: "frame length",
            reason: "lengths disagree with the frame's size",
        }),
    }
}

/// Offset of the request id for a layout.
pub(crate) fn id_at(layout: &Layout) -> usize {
    match layout {
        Layout::Request(_) => 7,
        Layout::Response { .. } => 8,
        Layout::Heartbeat => 6,
    }
}

pub(crate) fn kind_of(layout: &Layout, frame: &[u8]) -> FrameKind {
    match layout {
        Layout::Request(_) => FrameKind::Request,
        Layout::Response { .. } => FrameKind::Response,
        Layout::Heartbeat if frame[1] == TYPE_RESPONSE => FrameKind::HeartbeatResponse,
        Layout::Heartbeat => FrameKind::HeartbeatRequest,
    }
}

fn u64_at(frame: &[u8], at: usize) -> u64 {
    let mut id = [0u8; 8];
    id.copy_from_slice(&frame[at..at + 8]);
    u64::from_be_bytes(id)
}

fn timeout_at(frame: &[u8], at: usize) -> Option<Duration> {
    let ms = u32::from_be_bytes([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]]);
    (ms > 0).then(|| Duration::from_millis(u64::from(ms)))
}

/// A heartbeat frame as observed: magic, type, version 1, 3 zero bytes, id, timeout.
fn write_heartbeat(ty: u8, id: u64, timeout_ms: u32, dst: &mut BytesMut) {
    dst.reserve(HEARTBEAT_LEN);
    dst.put_slice(&[HEARTBEAT_MAGIC, ty, VERSION, 0, 0, 0]);
    dst.put_u64(id);
    dst.put_u32(timeout_ms);
}

impl HsfCodec {
    fn observed_heartbeats(&self, what: &'static str) -> Result<(), Error> {
        match self.observed_heartbeats {
            true => Ok(()),
            false => Err(Error::Unsupported {
                protocol: PROTOCOL,
                what,
            }),
        }
    }
}

impl Multiplexing for HsfCodec {
    fn id_width(&self) -> IdWidth {
        IdWidth::U64
    }

    fn frame_head(&self, frame: &[u8]) -> Result<FrameHead, Error> {
        let layout = whole(self, frame)?;
        Ok(FrameHead {
            kind: kind_of(&layout, frame),
            request_id: u64_at(frame, id_at(&layout)),
            timeout: match layout {
                Layout::Request(_) => timeout_at(frame, 15),
                Layout::Heartbeat => timeout_at(frame, 14),
                Layout::Response { .. } => None,
            },
            status: matches!(layout, Layout::Response { .. }).then(|| u32::from(frame[3])),
        })
    }

    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), Error> {
        let at = id_at(&whole(self, frame)?);
        frame[at..at + 8].copy_from_slice(&id.to_be_bytes());
        Ok(())
    }

    /// Only with [`HsfCodec::with_observed_heartbeats`]: the request's frame with
    /// type 1 (inferred, unverified: no reply was ever captured).
    fn heartbeat_reply(&self, request: &[u8], dst: &mut BytesMut) -> Result<(), Error> {
        let layout = whole(self, request)?;
        if kind_of(&layout, request) != FrameKind::HeartbeatRequest {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "heartbeat_reply",
                expected: "a heartbeat request",
            });
        }
        self.observed_heartbeats("heartbeat replies (the reply form was never observed)")?;
        let timeout = u32::from_be_bytes([request[14], request[15], request[16], request[17]]);
        write_heartbeat(TYPE_RESPONSE, u64_at(request, 6), timeout, dst);
        Ok(())
    }

    /// Only with [`HsfCodec::with_observed_heartbeats`]: the observed heartbeat
    /// (type 0, version 1, timeout 3000 ms).
    fn heartbeat_request(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        self.observed_heartbeats("active heartbeats (opt in with with_observed_heartbeats)")?;
        write_heartbeat(0, id, 3000, dst);
        Ok(())
    }

    fn goaway(&self, _id: u64, _dst: &mut BytesMut) -> Result<(), Error> {
        Err(Error::Unsupported {
            protocol: PROTOCOL,
            what: "goaway (no such frame was observed)",
        })
    }
}
