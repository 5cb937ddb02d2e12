//! Layer 2: kinds, request ids (u32, rewritten in place with the CRC fixed),
//! heartbeats and goaway.

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use xprotocol_core::{Error, FrameHead, FrameKind, IdWidth, Multiplexing};

use crate::header::{BoltHeader, PROTO_V1, PROTO_V2, cmd_code, command_type, crc32};
use crate::{BoltCodec, PROTOCOL};

const TOO_SHORT: Error = Error::Malformed {
    protocol: PROTOCOL,
    field: "fixed header",
    reason: "frame shorter than its fixed header",
};

/// Offset of the request id: 5 on v1, 6 on v2.
fn id_offset(frame: &[u8]) -> Result<usize, Error> {
    match frame.first() {
        Some(&PROTO_V1) => Ok(5),
        Some(&PROTO_V2) => Ok(6),
        Some(&found) => Err(Error::BadMagic {
            protocol: PROTOCOL,
            offset: 0,
            found,
        }),
        None => Err(TOO_SHORT),
    }
}

/// The fixed header of a whole frame (the splitter has delimited it).
pub(crate) fn whole_header(frame: &[u8]) -> Result<BoltHeader, Error> {
    let header = BoltHeader::parse(frame)?.ok_or(TOO_SHORT)?;
    if header.frame_len() != frame.len() as u64 {
        return Err(Error::Malformed {
            protocol: PROTOCOL,
            field: "frame length",
            reason: "length fields disagree with the frame's size",
        });
    }
    Ok(header)
}

/// The kind of frame a header describes.
pub(crate) fn kind_of(header: &BoltHeader) -> Result<FrameKind, Error> {
    let ty = header.command_type;
    Ok(match (header.cmd_code, ty) {
        (cmd_code::HEARTBEAT, command_type::RESPONSE) => FrameKind::HeartbeatResponse,
        (cmd_code::HEARTBEAT, _) => FrameKind::HeartbeatRequest,
        (cmd_code::GOAWAY, _) => FrameKind::GoAway,
        (cmd_code::REQUEST | cmd_code::RESPONSE, command_type::RESPONSE) => FrameKind::Response,
        (cmd_code::REQUEST | cmd_code::RESPONSE, command_type::ONEWAY) => FrameKind::OnewayRequest,
        (cmd_code::REQUEST | cmd_code::RESPONSE, _) => FrameKind::Request,
        _ => {
            return Err(Error::Malformed {
                protocol: PROTOCOL,
                field: "cmd_code",
                reason: "unknown command code",
            });
        }
    })
}

/// Append `header` (an empty frame: no class, header map or content) and its CRC.
pub(crate) fn write_empty_frame(header: &BoltHeader, dst: &mut BytesMut) {
    let start = dst.len();
    header.write(dst);
    if header.has_crc() {
        let crc = crc32([&dst[start..]]);
        dst.put_u32(crc);
    }
}

impl Multiplexing for BoltCodec {
    fn id_width(&self) -> IdWidth {
        IdWidth::U32
    }

    fn frame_head(&self, frame: &[u8]) -> Result<FrameHead, Error> {
        let header = whole_header(frame)?;
        Ok(FrameHead {
            kind: kind_of(&header)?,
            request_id: u64::from(header.request_id),
            timeout: header
                .timeout
                .and_then(|ms| u64::try_from(ms).ok())
                .filter(|&ms| ms > 0)
                .map(Duration::from_millis),
            status: header.status.map(u32::from),
        })
    }

    /// Reads the 4 id bytes only (offset 5 on v1, 6 on v2).
    fn request_id(&self, frame: &[u8]) -> Result<u64, Error> {
        let at = id_offset(frame)?;
        let id = frame.get(at..at + 4).ok_or(TOO_SHORT)?;
        Ok(u64::from(u32::from_be_bytes([id[0], id[1], id[2], id[3]])))
    }

    /// Patches the 4 id bytes in place; a frame with a CRC trailer is checked
    /// whole and its CRC recomputed.
    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), Error> {
        let id = u32::try_from(id).map_err(|_| Error::IdOutOfRange {
            protocol: PROTOCOL,
            id,
            bits: 32,
        })?;
        let at = id_offset(frame)?;
        let crc = frame.len() >= 12 && frame[0] == PROTO_V2 && frame[1] == 2 && frame[11] & 1 == 1;
        if crc {
            whole_header(frame)?;
        }
        frame
            .get_mut(at..at + 4)
            .ok_or(TOO_SHORT)?
            .copy_from_slice(&id.to_be_bytes());
        if crc {
            let end = frame.len() - 4;
            let crc = crc32([&frame[..end]]);
            frame[end..].copy_from_slice(&crc.to_be_bytes());
        }
        Ok(())
    }

    /// The reply mirrors the request's version, ver1, switch (CRC), ver2 and codec.
    fn heartbeat_reply(&self, request: &[u8], dst: &mut BytesMut) -> Result<(), Error> {
        let req = whole_header(request)?;
        if kind_of(&req)? != FrameKind::HeartbeatRequest {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "heartbeat_reply",
                expected: "a heartbeat request",
            });
        }
        let reply = BoltHeader {
            command_type: command_type::RESPONSE,
            cmd_code: cmd_code::HEARTBEAT,
            timeout: None,
            status: Some(0),
            class_len: 0,
            header_len: 0,
            content_len: 0,
            ..req
        };
        write_empty_frame(&reply, dst);
        Ok(())
    }

    /// A v1 heartbeat: cmdcode 0, codec 1 (hessian2), timeout −1.
    fn heartbeat_request(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        self.control_request(cmd_code::HEARTBEAT, id, -1, dst)
    }

    /// A v1 goaway request: cmdcode 100, timeout 0.
    fn goaway(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        self.control_request(cmd_code::GOAWAY, id, 0, dst)
    }
}

impl BoltCodec {
    fn control_request(
        &self,
        cmd: u16,
        id: u64,
        timeout: i32,
        dst: &mut BytesMut,
    ) -> Result<(), Error> {
        let request_id = u32::try_from(id).map_err(|_| Error::IdOutOfRange {
            protocol: PROTOCOL,
            id,
            bits: 32,
        })?;
        let header = BoltHeader {
            proto: PROTO_V1,
            ver1: None,
            command_type: command_type::REQUEST,
            cmd_code: cmd,
            ver2: 1,
            request_id,
            codec: crate::codec_id::HESSIAN2,
            switch: None,
            timeout: Some(timeout),
            status: None,
            class_len: 0,
            header_len: 0,
            content_len: 0,
        };
        write_empty_frame(&header, dst);
        Ok(())
    }
}
