//! The observed HSF v1 frames. Every offset below comes from one source: an
//! Alibaba-authored MOSN plugin (MOSN pull request 180, 2018, never merged),
//! checked against the real captured request in its tests. No vendor
//! specification is public.
//!
//! ```text
//! request (magic 0x0E, type 0): 35 + 8·N header bytes
//!   0 magic 0x0E | 1 version 1 | 2 type 0 | 3 serialization | 4..7 "extends" (3 bytes, meaning unknown)
//!   7 request id u64 | 15 timeout ms u32 | 19 service length u32 | 23 method length u32
//!   27 argument count N u32 | 31 N type-name lengths u32 | 31+4N N argument lengths u32
//!   31+8N props length u32
//!   payload: service ‖ method ‖ N type names ‖ N arguments ‖ props
//!
//! response (magic 0x0E, type 1): 20 header bytes
//!   0 magic | 1 version 1 | 2 type 1 | 3 status | 4 serialization | 5..8 extends (3 bytes)
//!   8 request id u64 | 16 body length u32 | body
//!
//! heartbeat (magic 0x0C): 18 bytes
//!   0 magic 0x0C | 1 type (0 seen) | 2 version (1 seen) | 3..6 reserved (3 bytes)
//!   6 request id u64 | 14 timeout ms u32
//! ```
//!
//! | field | confidence |
//! |---|---|
//! | magics, version 1, request/response types, all offsets and lengths | observed: plugin code and a real capture agree |
//! | serialization 4 = Hessian2 | inferred: the capture's arguments and props are Hessian2 |
//! | extends bytes | unknown: kept verbatim (`00 00 03` in the capture) |
//! | response status | unknown semantics: only 0 was seen |
//! | response body | undocumented: carried opaque |
//! | heartbeat type 1 = heartbeat reply | inferred, unverified: no reply was captured |

use xprotocol_core::{Error, Limits};

use crate::PROTOCOL;

/// Magic of requests and responses.
pub const MAGIC: u8 = 0x0e;
/// Magic of heartbeats.
pub const HEARTBEAT_MAGIC: u8 = 0x0c;
/// The only version observed.
pub const VERSION: u8 = 1;
/// Request type byte.
pub const TYPE_REQUEST: u8 = 0;
/// Response type byte.
pub const TYPE_RESPONSE: u8 = 1;
/// Fixed part of a request header (before the 8·N argument lengths).
pub const REQUEST_FIXED_LEN: usize = 35;
/// Response header length.
pub const RESPONSE_HEADER_LEN: usize = 20;
/// Heartbeat frame length.
pub const HEARTBEAT_LEN: usize = 18;
/// Serialization code seen with Hessian2 arguments and props.
pub const SERIALIZATION_HESSIAN2: u8 = 4;

/// The segment lengths of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLayout {
    /// Argument count N.
    pub args: usize,
    /// Header length, 35 + 8·N.
    pub header_len: usize,
    /// Service unique name length.
    pub service_len: usize,
    /// Method name length.
    pub method_len: usize,
    /// Sum of the type-name lengths.
    pub types_len: usize,
    /// Sum of the argument lengths.
    pub args_len: usize,
    /// Props length.
    pub props_len: usize,
}

impl RequestLayout {
    /// Offset of the service name (the payload).
    pub fn service_at(&self) -> usize {
        self.header_len
    }
    /// Offset of the method name.
    pub fn method_at(&self) -> usize {
        self.service_at() + self.service_len
    }
    /// Offset of the first type name.
    pub fn types_at(&self) -> usize {
        self.method_at() + self.method_len
    }
    /// Offset of the first argument.
    pub fn args_at(&self) -> usize {
        self.types_at() + self.types_len
    }
    /// Offset of the props.
    pub fn props_at(&self) -> usize {
        self.args_at() + self.args_len
    }
    /// Length of the whole frame.
    pub fn frame_len(&self) -> usize {
        self.props_at() + self.props_len
    }
    /// Offset of the props length field.
    pub fn props_len_at(&self) -> usize {
        31 + 8 * self.args
    }
}

/// What the front of a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Request(RequestLayout),
    Response { body_len: usize },
    Heartbeat,
}

pub(crate) fn bad(field: &'static str, reason: &'static str) -> Error {
    Error::BadFrameHeader {
        protocol: PROTOCOL,
        field,
        reason,
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// The layout of the frame at the front of `buf`, `Ok(Err(n))` when at least
/// `n` more bytes are needed to know it. Every length is bounds-checked; the
/// argument count is capped by `limits.max_header_entries` and the total by
/// `limits.max_frame_len`, with arithmetic in u64 so nothing overflows.
pub(crate) fn layout(buf: &[u8], limits: &Limits) -> Result<Result<Layout, usize>, Error> {
    let need = |n: usize| Ok(Err(n.saturating_sub(buf.len()).max(1)));
    match buf.first() {
        None => return need(HEARTBEAT_LEN),
        Some(&HEARTBEAT_MAGIC) => {
            return if buf.len() < HEARTBEAT_LEN {
                need(HEARTBEAT_LEN)
            } else {
                Ok(Ok(Layout::Heartbeat))
            };
        }
        Some(&MAGIC) => {}
        Some(&found) => {
            return Err(Error::BadMagic {
                protocol: PROTOCOL,
                offset: 0,
                found,
            });
        }
    }
    match buf.get(1) {
        Some(&VERSION) | None => {}
        Some(_) => return Err(bad("version", "only version 1 is known")),
    }
    let too_large = |len: u64| Error::FrameTooLarge {
        protocol: PROTOCOL,
        len,
        limit: limits.max_frame_len as u64,
    };
    match buf.get(2) {
        None => need(RESPONSE_HEADER_LEN),
        Some(&TYPE_RESPONSE) => {
            let Some(body_len) = u32_at(buf, 16) else {
                return need(RESPONSE_HEADER_LEN);
            };
            let len = RESPONSE_HEADER_LEN as u64 + body_len as u64;
            if len > limits.max_frame_len as u64 {
                return Err(too_large(len));
            }
            Ok(Ok(Layout::Response { body_len }))
        }
        Some(&TYPE_REQUEST) => {
            let Some(args) = u32_at(buf, 27) else {
                return need(REQUEST_FIXED_LEN);
            };
            if args > limits.max_header_entries {
                return Err(bad("argument count", "above max_header_entries"));
            }
            let header_len = REQUEST_FIXED_LEN + 8 * args;
            if buf.len() < header_len {
                return need(header_len);
            }
            let sum = |from: usize| {
                (0..args)
                    .map(|i| u32_at(buf, from + 4 * i).unwrap_or(0) as u64)
                    .sum::<u64>()
            };
            let (types_len, args_len) = (sum(31), sum(31 + 4 * args));
            let field = |at| u32_at(buf, at).unwrap_or(0);
            let (service_len, method_len, props_len) = (field(19), field(23), field(31 + 8 * args));
            let total = header_len as u64
                + service_len as u64
                + method_len as u64
                + types_len
                + args_len
                + props_len as u64;
            if total > limits.max_frame_len as u64 {
                return Err(too_large(total));
            }
            Ok(Ok(Layout::Request(RequestLayout {
                args,
                header_len,
                service_len,
                method_len,
                types_len: types_len as usize,
                args_len: args_len as usize,
                props_len,
            })))
        }
        Some(_) => Err(bad("type", "neither request (0) nor response (1)")),
    }
}

impl Layout {
    pub(crate) fn frame_len(&self) -> usize {
        match self {
            Self::Request(r) => r.frame_len(),
            Self::Response { body_len } => RESPONSE_HEADER_LEN + body_len,
            Self::Heartbeat => HEARTBEAT_LEN,
        }
    }
}
