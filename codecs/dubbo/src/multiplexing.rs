//! Layer 2: kinds, u64 request ids rewritten in place, heartbeats, read-only
//! events (goaway).

use bytes::{BufMut, BytesMut};
use xprotocol_core::{Error, FrameHead, FrameKind, IdWidth, Multiplexing};

use crate::header::{DubboHeader, HEADER_LEN, ID_AT, flag};
use crate::{DubboCodec, PROTOCOL, serialization, status};

/// Body of a read-only event (the provider is going away): the Hessian2 string "R".
pub(crate) const READ_ONLY_EVENT: &[u8] = b"\x01R";
/// Body of a heartbeat: Hessian2 null.
pub(crate) const HEARTBEAT_BODY: &[u8] = b"N";

/// The header of a whole frame.
pub(crate) fn whole_header(frame: &[u8]) -> Result<DubboHeader, Error> {
    let header = DubboHeader::parse(frame)?.ok_or(Error::Malformed {
        protocol: PROTOCOL,
        field: "header",
        reason: "frame shorter than its header",
    })?;
    if header.frame_len() != frame.len() as u64 {
        return Err(Error::Malformed {
            protocol: PROTOCOL,
            field: "body length",
            reason: "body length disagrees with the frame's size",
        });
    }
    Ok(header)
}

/// The kind of a whole frame.
pub(crate) fn kind_of(header: &DubboHeader, frame: &[u8]) -> FrameKind {
    match (header.is_request(), header.is_event(), header.is_two_way()) {
        (true, true, _) if frame.get(HEADER_LEN..) == Some(READ_ONLY_EVENT) => FrameKind::GoAway,
        (true, true, _) => FrameKind::HeartbeatRequest,
        (true, false, true) => FrameKind::Request,
        (true, false, false) => FrameKind::OnewayRequest,
        (false, true, _) => FrameKind::HeartbeatResponse,
        (false, false, _) => FrameKind::Response,
    }
}

fn write_frame(header: DubboHeader, body: &[u8], dst: &mut BytesMut) {
    let header = DubboHeader {
        body_len: body.len() as u32,
        ..header
    };
    dst.reserve(HEADER_LEN + body.len());
    header.write(dst);
    dst.put_slice(body);
}

impl Multiplexing for DubboCodec {
    fn id_width(&self) -> IdWidth {
        IdWidth::U64
    }

    /// Dubbo carries no timeout in its header (it is the `timeout` attachment).
    fn frame_head(&self, frame: &[u8]) -> Result<FrameHead, Error> {
        let header = whole_header(frame)?;
        Ok(FrameHead {
            kind: kind_of(&header, frame),
            request_id: header.request_id,
            timeout: None,
            status: (!header.is_request()).then_some(u32::from(header.status)),
        })
    }

    fn request_id(&self, frame: &[u8]) -> Result<u64, Error> {
        Ok(whole_header(frame)?.request_id)
    }

    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), Error> {
        whole_header(frame)?;
        frame[ID_AT..ID_AT + 8].copy_from_slice(&id.to_be_bytes());
        Ok(())
    }

    /// Flag `0x22` (event response, hessian2), status 20, body a single `N`, as
    /// Java providers answer.
    fn heartbeat_reply(&self, request: &[u8], dst: &mut BytesMut) -> Result<(), Error> {
        let req = whole_header(request)?;
        if kind_of(&req, request) != FrameKind::HeartbeatRequest {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "heartbeat_reply",
                expected: "a heartbeat request",
            });
        }
        crate::body::require_hessian2(req.serialization())?;
        let reply = DubboHeader {
            flag: flag::EVENT | serialization::HESSIAN2,
            status: status::OK,
            ..req
        };
        write_frame(reply, HEARTBEAT_BODY, dst);
        Ok(())
    }

    /// Flag `0xe2` (two-way event request, hessian2), body `N`.
    fn heartbeat_request(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        let flag = flag::REQUEST | flag::TWO_WAY | flag::EVENT | serialization::HESSIAN2;
        write_frame(
            DubboHeader {
                flag,
                status: 0,
                request_id: id,
                body_len: 0,
            },
            HEARTBEAT_BODY,
            dst,
        );
        Ok(())
    }

    /// A read-only event: flag `0xa2` (one-way event request), body the string "R".
    fn goaway(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        let flag = flag::REQUEST | flag::EVENT | serialization::HESSIAN2;
        write_frame(
            DubboHeader {
                flag,
                status: 0,
                request_id: id,
                body_len: 0,
            },
            READ_ONLY_EVENT,
            dst,
        );
        Ok(())
    }
}
