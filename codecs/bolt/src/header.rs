//! The fixed Bolt header, v1 and v2.
//!
//! ```text
//! v1 request (22 bytes)                         v1 response (20 bytes)
//!  0 proto=0x01                                  0 proto=0x01
//!  1 type (1 request, 2 oneway)                  1 type=0
//!  2 cmdcode u16 (0 heartbeat, 1 req, 2 resp,   2 cmdcode u16
//!               100 goaway)
//!  4 ver2                                        4 ver2
//!  5 request id u32                              5 request id u32
//!  9 codec (1 hessian2, 11 protobuf, …)          9 codec
//! 10 timeout i32 (ms)                           10 status u16
//! 14 class length u16                           12 class length u16
//! 16 header length u16                          14 header length u16
//! 18 content length u32                         16 content length u32
//!
//! v2 (proto=0x02) inserts ver1 at offset 1 and a switch byte after codec:
//! request 24 bytes, response 22 bytes. When ver1 == 2 and switch bit 0 is set,
//! a CRC32 (IEEE) of every preceding byte of the frame follows the content.
//! ```
//! Then `class name ‖ header map ‖ content (‖ crc32)`.

use xprotocol_core::Error;

use crate::PROTOCOL;

/// Protocol code of Bolt v1.
pub const PROTO_V1: u8 = 0x01;
/// Protocol code of Bolt v2.
pub const PROTO_V2: u8 = 0x02;

/// Command types (byte `type`).
pub mod command_type {
    /// A response.
    pub const RESPONSE: u8 = 0;
    /// A two-way request.
    pub const REQUEST: u8 = 1;
    /// A one-way request.
    pub const ONEWAY: u8 = 2;
}

/// Command codes.
pub mod cmd_code {
    /// Heartbeat (request or response, by command type).
    pub const HEARTBEAT: u16 = 0;
    /// RPC request.
    pub const REQUEST: u16 = 1;
    /// RPC response.
    pub const RESPONSE: u16 = 2;
    /// Goaway: drain the connection (control codes start at 100).
    pub const GOAWAY: u16 = 100;
}

/// The fixed header of one Bolt frame, parsed without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoltHeader {
    /// 1 or 2.
    pub proto: u8,
    /// v2 `ver1` (1, or 2 for CRC-capable); `None` on v1.
    pub ver1: Option<u8>,
    /// Command type: 0 response, 1 request, 2 one-way.
    pub command_type: u8,
    /// Command code.
    pub cmd_code: u16,
    /// `ver2` byte.
    pub ver2: u8,
    /// Request id.
    pub request_id: u32,
    /// Serialization codec byte.
    pub codec: u8,
    /// v2 switch byte; `None` on v1.
    pub switch: Option<u8>,
    /// Request timeout in ms (requests only).
    pub timeout: Option<i32>,
    /// Response status (responses only).
    pub status: Option<u16>,
    /// Length of the class name.
    pub class_len: u16,
    /// Length of the header map.
    pub header_len: u16,
    /// Length of the content.
    pub content_len: u32,
}

/// Where the fields of one kind of Bolt header sit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub(crate) v2: bool,
    response: bool,
}

impl Layout {
    pub(crate) fn new(v2: bool, response: bool) -> Self {
        Self { v2, response }
    }
    /// Offset of the command type byte.
    pub(crate) fn type_at(v2: bool) -> usize {
        1 + usize::from(v2)
    }
    /// First offset after codec (and switch on v2).
    fn tail_at(self) -> usize {
        10 + 2 * usize::from(self.v2)
    }
    pub(crate) fn lengths_at(self) -> usize {
        self.tail_at() + if self.response { 2 } else { 4 }
    }
    pub(crate) fn fixed_len(self) -> usize {
        self.lengths_at() + 8
    }
}

/// Smallest fixed header (v1 response).
pub(crate) const MIN_FIXED_LEN: usize = 20;
/// Largest fixed header (v2 request).
const MAX_FIXED_LEN: usize = 24;

fn bad(field: &'static str, reason: &'static str) -> Error {
    Error::BadFrameHeader {
        protocol: PROTOCOL,
        field,
        reason,
    }
}

/// The layout of the header at the front of `buf`, once enough bytes are there
/// to tell (`Ok(None)`: need more). Errors on a bad protocol code or type.
pub(crate) fn layout_of(buf: &[u8]) -> Result<Option<Layout>, Error> {
    let Some(&proto) = buf.first() else {
        return Ok(None);
    };
    let v2 = match proto {
        PROTO_V1 => false,
        PROTO_V2 => true,
        found => {
            return Err(Error::BadMagic {
                protocol: PROTOCOL,
                offset: 0,
                found,
            });
        }
    };
    let Some(&ty) = buf.get(Layout::type_at(v2)) else {
        return Ok(None);
    };
    match ty {
        command_type::RESPONSE => Ok(Some(Layout::new(v2, true))),
        command_type::REQUEST | command_type::ONEWAY => Ok(Some(Layout::new(v2, false))),
        _ => Err(bad("type", "command type is not 0, 1 or 2")),
    }
}

impl BoltHeader {
    /// Parse the fixed header at the front of `buf`. `Ok(None)` when `buf` is
    /// shorter than the fixed header.
    pub fn parse(buf: &[u8]) -> Result<Option<Self>, Error> {
        let Some(layout) = layout_of(buf)? else {
            return Ok(None);
        };
        if buf.len() < layout.fixed_len() {
            return Ok(None);
        }
        // A fixed-size array gives every field read below a constant offset and
        // no bounds check. Frames shorter than 24 bytes (empty v1 control
        // frames) are padded.
        let h = match buf.first_chunk::<MAX_FIXED_LEN>() {
            Some(h) => *h,
            None => {
                let mut h = [0u8; MAX_FIXED_LEN];
                h[..buf.len()].copy_from_slice(buf);
                h
            }
        };
        Ok(Some(match (layout.v2, layout.response) {
            (false, false) => Self::from_fixed::<0, false>(&h),
            (false, true) => Self::from_fixed::<0, true>(&h),
            (true, false) => Self::from_fixed::<1, false>(&h),
            (true, true) => Self::from_fixed::<1, true>(&h),
        }))
    }

    /// The fields at the offsets of one layout: `V2` shifts every field after
    /// the protocol code by one (`ver1`) and the ones after the codec by two
    /// (`ver1`, `switch`); responses carry a u16 status where requests carry an
    /// i32 timeout.
    fn from_fixed<const V2: usize, const RESPONSE: bool>(h: &[u8; MAX_FIXED_LEN]) -> Self {
        let u16_at = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
        let u32_at = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        let tail = 10 + 2 * V2;
        let lengths = tail + if RESPONSE { 2 } else { 4 };
        Self {
            proto: h[0],
            ver1: (V2 == 1).then_some(h[1]),
            command_type: h[1 + V2],
            cmd_code: u16_at(2 + V2),
            ver2: h[4 + V2],
            request_id: u32_at(5 + V2),
            codec: h[9 + V2],
            switch: (V2 == 1).then_some(h[11]),
            timeout: (!RESPONSE).then(|| u32_at(tail) as i32),
            status: RESPONSE.then(|| u16_at(tail)),
            class_len: u16_at(lengths),
            header_len: u16_at(lengths + 2),
            content_len: u32_at(lengths + 4),
        }
    }

    /// A v1 two-way RPC request header (hessian2 codec, ver2 1); lengths are
    /// filled in by [`BoltCodec::encode`](crate::BoltCodec::encode).
    pub fn request(request_id: u32, timeout_ms: i32) -> Self {
        Self {
            proto: PROTO_V1,
            ver1: None,
            command_type: command_type::REQUEST,
            cmd_code: cmd_code::REQUEST,
            ver2: 1,
            request_id,
            codec: crate::codec_id::HESSIAN2,
            switch: None,
            timeout: Some(timeout_ms),
            status: None,
            class_len: 0,
            header_len: 0,
            content_len: 0,
        }
    }

    /// A v1 RPC response header with `status`.
    pub fn response(request_id: u32, status: u16) -> Self {
        Self {
            command_type: command_type::RESPONSE,
            cmd_code: cmd_code::RESPONSE,
            timeout: None,
            status: Some(status),
            ..Self::request(request_id, 0)
        }
    }

    /// The same header as Bolt v2 with `ver1` and `switch` (CRC when ver1 = 2 and switch bit 0 set).
    pub fn v2(self, ver1: u8, switch: u8) -> Self {
        Self {
            proto: PROTO_V2,
            ver1: Some(ver1),
            switch: Some(switch),
            ..self
        }
    }

    /// Check that the fields describe an encodable header: protocol code 1 or 2,
    /// ver1 and switch present exactly on v2, command type 0..=2, a status on
    /// responses and a timeout on requests.
    pub fn validate(&self) -> Result<(), Error> {
        let v2 = match self.proto {
            PROTO_V1 => false,
            PROTO_V2 => true,
            found => {
                return Err(Error::BadMagic {
                    protocol: PROTOCOL,
                    offset: 0,
                    found,
                });
            }
        };
        if self.ver1.is_some() != v2 || self.switch.is_some() != v2 {
            return Err(bad("ver1", "ver1 and switch go with protocol code 2 only"));
        }
        let response = match self.command_type {
            command_type::RESPONSE => true,
            command_type::REQUEST | command_type::ONEWAY => false,
            _ => return Err(bad("type", "command type is not 0, 1 or 2")),
        };
        if self.status.is_some() != response || self.timeout.is_some() == response {
            return Err(bad(
                "status",
                "responses carry a status, requests a timeout",
            ));
        }
        Ok(())
    }

    pub(crate) fn layout(&self) -> Layout {
        Layout::new(
            self.proto == PROTO_V2,
            self.command_type == command_type::RESPONSE,
        )
    }

    /// Length of the fixed header: 20/22 (v1), 22/24 (v2).
    pub fn fixed_len(&self) -> usize {
        self.layout().fixed_len()
    }

    /// True when a CRC32 trailer follows the content (v2, ver1 = 2, switch bit 0).
    pub fn has_crc(&self) -> bool {
        self.ver1 == Some(2) && self.switch.is_some_and(|s| s & 1 == 1)
    }

    /// Offset of the header map.
    pub fn header_at(&self) -> usize {
        self.fixed_len() + usize::from(self.class_len)
    }

    /// Offset of the content.
    pub fn content_at(&self) -> usize {
        self.header_at() + usize::from(self.header_len)
    }

    /// Length of the whole frame, trailer included (u64: cannot overflow).
    pub fn frame_len(&self) -> u64 {
        self.content_at() as u64 + u64::from(self.content_len) + if self.has_crc() { 4 } else { 0 }
    }

    /// Write this header (its own length fields included) to the end of `dst`.
    pub fn write(&self, dst: &mut bytes::BytesMut) {
        use bytes::BufMut;
        dst.put_u8(self.proto);
        if let Some(ver1) = self.ver1 {
            dst.put_u8(ver1);
        }
        dst.put_u8(self.command_type);
        dst.put_u16(self.cmd_code);
        dst.put_u8(self.ver2);
        dst.put_u32(self.request_id);
        dst.put_u8(self.codec);
        if let Some(switch) = self.switch {
            dst.put_u8(switch);
        }
        if self.command_type == command_type::RESPONSE {
            dst.put_u16(self.status.unwrap_or(0));
        } else {
            dst.put_i32(self.timeout.unwrap_or(-1));
        }
        dst.put_u16(self.class_len);
        dst.put_u16(self.header_len);
        dst.put_u32(self.content_len);
    }
}

/// CRC32 of the frame body that precedes the trailer, over several pieces.
pub(crate) fn crc32<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for piece in pieces {
        hasher.update(piece);
    }
    hasher.finalize()
}
