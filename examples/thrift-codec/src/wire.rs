//! The wire format: a `TFramedTransport` frame holding one `TBinaryProtocol`
//! message, and the `TApplicationException` struct of local replies.
//!
//! ```text
//! offset  strict message                     non-strict message
//! 0       u32 frame length L (of the message; the frame is 4 + L bytes)
//! 4       i32 0x8001_0000 | type             i32 name length N (≥ 0)
//! 8       i32 name length N (≥ 0)            name (N bytes)
//! 12      name (N bytes)                     8+N   i8 type
//! 12+N    i32 seqid                          9+N   i32 seqid
//! 16+N    struct (args or result)            13+N  struct
//! ```
//!
//! Byte 6 of a strict version word is unused by Thrift; this codec requires it
//! to be 0 (every implementation writes 0), so that transcoding stays lossless.
//! The struct is never decoded by layers 1–3; it must hold at least one byte
//! (its `STOP`).

use crate::{PROTOCOL, xp};

/// Message types.
pub mod message_type {
    /// A two-way call.
    pub const CALL: u8 = 1;
    /// A normal reply (the result struct may still carry a declared exception).
    pub const REPLY: u8 = 2;
    /// A `TApplicationException` instead of a result.
    pub const EXCEPTION: u8 = 3;
    /// A one-way call (no reply).
    pub const ONEWAY: u8 = 4;

    /// Lower-case name (`call`, `reply`, `exception`, `oneway`), `None` for other values.
    pub fn name(ty: u8) -> Option<&'static str> {
        Some(match ty {
            CALL => "call",
            REPLY => "reply",
            EXCEPTION => "exception",
            ONEWAY => "oneway",
            _ => return None,
        })
    }
}

/// `TApplicationException` types (`TApplicationException.TYPE` in every Thrift library).
pub mod exception_types {
    /// Unknown.
    pub const UNKNOWN: i32 = 0;
    /// The server has no such method.
    pub const UNKNOWN_METHOD: i32 = 1;
    /// Invalid message type.
    pub const INVALID_MESSAGE_TYPE: i32 = 2;
    /// Wrong method name.
    pub const WRONG_METHOD_NAME: i32 = 3;
    /// Bad sequence id.
    pub const BAD_SEQUENCE_ID: i32 = 4;
    /// Missing result.
    pub const MISSING_RESULT: i32 = 5;
    /// Internal error.
    pub const INTERNAL_ERROR: i32 = 6;
    /// Protocol error.
    pub const PROTOCOL_ERROR: i32 = 7;
}

/// High half of a strict message's version word.
pub const VERSION_1: [u8; 2] = [0x80, 0x01];
/// Bytes of the frame length prefix.
pub const FRAME_HEADER_LEN: usize = 4;
/// The smallest message: a non-strict header with an empty name (9 bytes) and a
/// struct holding only `STOP` (1 byte).
pub const MIN_MESSAGE_LEN: usize = 10;

/// Field type codes used by the local-reply struct.
const T_STOP: u8 = 0;
const T_I32: u8 = 8;
const T_STRING: u8 = 11;

/// Where the parts of one whole, valid frame are. Computed from fixed fields
/// and the name length only: no allocation, constant cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message {
    /// Strict (versioned) message header.
    pub strict: bool,
    /// Message type, 1..=4 (see [`message_type`]).
    pub message_type: u8,
    /// Offset of the name in the frame.
    pub name_at: usize,
    /// Length of the name.
    pub name_len: usize,
    /// Offset of the i32 seqid.
    pub seqid_at: usize,
    /// Offset of the struct (the end of the message header).
    pub body_at: usize,
}

impl Message {
    /// The name bytes.
    pub fn name<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        &frame[self.name_at..self.name_at + self.name_len]
    }

    /// The seqid as the unsigned 32-bit request id (an i32 reinterpreted).
    pub fn seqid(&self, frame: &[u8]) -> u32 {
        u32_at(frame, self.seqid_at)
    }

    /// The frame kind of the message type.
    pub fn kind(&self) -> xp::FrameKind {
        kind_of(self.message_type)
    }

    /// Offset of the first `:` in the name (the multiplexed-protocol separator).
    pub fn separator(&self, frame: &[u8]) -> Option<usize> {
        self.name(frame).iter().position(|&b| b == b':')
    }

    /// `(offset, length)` of the service part of a multiplexed name `Service:method`.
    pub fn service(&self, frame: &[u8]) -> Option<(usize, usize)> {
        self.separator(frame).map(|colon| (self.name_at, colon))
    }

    /// `(offset, length)` of the method: the part after the first `:`, or the whole name.
    pub fn method(&self, frame: &[u8]) -> (usize, usize) {
        match self.separator(frame) {
            Some(colon) => (self.name_at + colon + 1, self.name_len - colon - 1),
            None => (self.name_at, self.name_len),
        }
    }
}

/// The frame kind of a message type (1..=4; anything else reads as a response,
/// but [`parse`] never yields other types).
pub fn kind_of(message_type: u8) -> xp::FrameKind {
    match message_type {
        message_type::CALL => xp::FrameKind::Request,
        message_type::ONEWAY => xp::FrameKind::OnewayRequest,
        _ => xp::FrameKind::Response,
    }
}

pub(crate) fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

fn malformed(field: &'static str, reason: &'static str) -> xp::Error {
    xp::Error::Malformed {
        protocol: PROTOCOL,
        field,
        reason,
    }
}

/// Too large for `max_frame_len` (or for the i32 a Thrift length is).
pub(crate) fn too_large(total: u64, limits: &xp::Limits) -> xp::Error {
    xp::Error::FrameTooLarge {
        protocol: PROTOCOL,
        len: total,
        limit: limits.max_frame_len as u64,
    }
}

/// Whether a whole frame of `total` bytes is within the limits and the i32 length field.
pub(crate) fn check_total(total: usize, limits: &xp::Limits) -> Result<(), xp::Error> {
    match total <= limits.max_frame_len && total - FRAME_HEADER_LEN <= i32::MAX as usize {
        true => Ok(()),
        false => Err(too_large(total as u64, limits)),
    }
}

pub(crate) fn check_name_len(len: usize, limits: &xp::Limits) -> Result<(), xp::Error> {
    match len <= limits.max_header_bytes {
        true => Ok(()),
        false => Err(xp::Error::LimitExceeded {
            protocol: PROTOCOL,
            field: "message name",
            limit: "max_header_bytes",
            value: len as u64,
            max: limits.max_header_bytes as u64,
        }),
    }
}

/// Locate the message header of one whole frame (exactly the bytes the
/// splitter delimited). Every length is checked; errors are
/// [`Error::Malformed`](xprotocol_plugin_sdk::xp::Error::Malformed) (or
/// `LimitExceeded` for an over-long name): the frame boundary itself is sound.
pub fn parse(frame: &[u8], limits: &xp::Limits) -> Result<Message, xp::Error> {
    let Some((len, message)) = frame.split_first_chunk::<4>() else {
        return Err(malformed("frame length", "fewer than 4 bytes"));
    };
    if u32::from_be_bytes(*len) as usize != message.len() {
        return Err(malformed("frame length", "disagrees with the frame's size"));
    }
    if frame.len() > limits.max_frame_len {
        return Err(too_large(frame.len() as u64, limits));
    }
    let Some(&[b0, b1, b2, b3]) = message.first_chunk::<4>() else {
        return Err(malformed("message header", "truncated"));
    };
    let msg = if b0 & 0x80 != 0 {
        if [b0, b1] != VERSION_1 {
            return Err(malformed("version", "not 0x8001"));
        }
        if b2 != 0 {
            return Err(malformed("version", "unused byte 6 is not 0"));
        }
        let name_len = name_len_at(frame, 8, limits)?;
        let seqid_at = 12 + name_len;
        Message {
            strict: true,
            message_type: b3,
            name_at: 12,
            name_len,
            seqid_at,
            body_at: seqid_at + 4,
        }
    } else {
        let name_len = name_len_at(frame, 4, limits)?;
        let type_at = 8 + name_len;
        let Some(&message_type) = frame.get(type_at) else {
            return Err(malformed("message type", "truncated"));
        };
        Message {
            strict: false,
            message_type,
            name_at: 8,
            name_len,
            seqid_at: type_at + 1,
            body_at: type_at + 5,
        }
    };
    if !(message_type::CALL..=message_type::ONEWAY).contains(&msg.message_type) {
        return Err(malformed(
            "message type",
            "not CALL, REPLY, EXCEPTION or ONEWAY",
        ));
    }
    if msg.body_at > frame.len() {
        return Err(malformed("message header", "truncated"));
    }
    if msg.body_at == frame.len() {
        return Err(malformed(
            "struct",
            "missing (no bytes after the message header)",
        ));
    }
    Ok(msg)
}

/// The i32 name length at `at`: non-negative, within the frame, within the limit.
fn name_len_at(frame: &[u8], at: usize, limits: &xp::Limits) -> Result<usize, xp::Error> {
    if frame.len() < at + 4 {
        return Err(malformed("name length", "truncated"));
    }
    let n = i32::from_be_bytes(u32_at(frame, at).to_be_bytes());
    let Ok(n) = usize::try_from(n) else {
        return Err(malformed("name length", "negative"));
    };
    if n > frame.len() - at - 4 {
        return Err(malformed("name", "longer than the frame"));
    }
    check_name_len(n, limits)?;
    Ok(n)
}

/// The `TApplicationException` type a proxy's [`LocalStatus`](xprotocol_plugin_sdk::xp::LocalStatus)
/// maps to. Thrift has no timeout, overload, permission or rate-limit types,
/// so those take the closest meaning (the message says the rest):
///
/// | `LocalStatus` | `TApplicationException` type |
/// |---|---|
/// | `NoRoute` | `UNKNOWN_METHOD` (1) |
/// | `CodecError` | `PROTOCOL_ERROR` (7) |
/// | `NoHealthyUpstream`, `UpstreamConnectFailure`, `Overloaded`, `InternalError` | `INTERNAL_ERROR` (6) |
/// | `Timeout`, `PermissionDenied`, `LimitExceeded`, any later status | `UNKNOWN` (0) |
pub fn exception_type(status: xp::LocalStatus) -> i32 {
    use exception_types::*;
    match status {
        xp::LocalStatus::NoRoute => UNKNOWN_METHOD,
        xp::LocalStatus::CodecError => PROTOCOL_ERROR,
        xp::LocalStatus::NoHealthyUpstream
        | xp::LocalStatus::UpstreamConnectFailure
        | xp::LocalStatus::Overloaded
        | xp::LocalStatus::InternalError => INTERNAL_ERROR,
        _ => UNKNOWN,
    }
}

/// Bytes of a message header.
pub(crate) fn header_len(strict: bool, name_len: usize) -> usize {
    match strict {
        true => 12 + name_len,
        false => 9 + name_len,
    }
}

/// Append a frame length and a message header.
pub(crate) fn put_header(
    dst: &mut bytes::BytesMut,
    message_len: u32,
    strict: bool,
    message_type: u8,
    name: &[u8],
    seqid: [u8; 4],
) {
    use bytes::BufMut;
    dst.put_u32(message_len);
    if strict {
        dst.put_slice(&[VERSION_1[0], VERSION_1[1], 0, message_type]);
        dst.put_u32(name.len() as u32);
        dst.put_slice(name);
    } else {
        dst.put_u32(name.len() as u32);
        dst.put_slice(name);
        dst.put_u8(message_type);
    }
    dst.put_slice(&seqid);
}

/// Bytes of a `TApplicationException {1: string message, 2: i32 type}` struct.
pub(crate) fn exception_struct_len(message_len: usize) -> usize {
    (3 + 4 + message_len) + (3 + 4) + 1
}

/// Append a `TApplicationException {1: string message, 2: i32 type}` struct.
pub(crate) fn put_exception_struct(dst: &mut bytes::BytesMut, message: &[u8], ty: i32) {
    use bytes::BufMut;
    dst.put_u8(T_STRING);
    dst.put_i16(1);
    dst.put_u32(message.len() as u32);
    dst.put_slice(message);
    dst.put_u8(T_I32);
    dst.put_i16(2);
    dst.put_i32(ty);
    dst.put_u8(T_STOP);
}

/// `(message, type)` of a `TApplicationException` struct, when the struct holds
/// only string and i32 fields (what every Thrift library writes). For facts.
pub(crate) fn read_exception(body: &[u8]) -> Option<(Option<&[u8]>, Option<i32>)> {
    let (mut message, mut ty) = (None, None);
    let mut at = 0;
    loop {
        match *body.get(at)? {
            T_STOP => return (at + 1 == body.len()).then_some((message, ty)),
            T_STRING => {
                let id = i16::from_be_bytes([*body.get(at + 1)?, *body.get(at + 2)?]);
                let len = u32_at(body.get(at + 3..at + 7)?, 0) as usize;
                let text = body.get(at + 7..(at + 7).checked_add(len)?)?;
                if id == 1 {
                    message = Some(text);
                }
                at += 7 + len;
            }
            T_I32 => {
                let id = i16::from_be_bytes([*body.get(at + 1)?, *body.get(at + 2)?]);
                let v = i32::from_be_bytes(u32_at(body.get(at + 3..at + 7)?, 0).to_be_bytes());
                if id == 2 {
                    ty = Some(v);
                }
                at += 7;
            }
            _ => return None,
        }
    }
}
