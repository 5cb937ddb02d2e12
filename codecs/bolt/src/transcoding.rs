//! Layer 4: Bolt ↔ HTTP/2, lossless. See `docs/http2-mapping.md`.
//!
//! Every fixed-header field travels as an `xp-bolt-…` header (the length fields
//! and the CRC are derived again on the way back); the class name as
//! `xp-bolt-class`; the header map as ordinary headers, escaped, in order; the
//! content as the body (shared, not copied). A header map that ordinary headers
//! cannot carry exactly (null or empty keys or values, repeated keys) travels
//! whole, escaped, in `xp-bolt-header-block`.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use xprotocol_core::transcoding::{Http2Builder, Http2Fields, header_names as common};
use xprotocol_core::{Error, FrameParts, Http2Message, INLINE_HEADERS, Routing, Transcoding};

use crate::header::{BoltHeader, PROTO_V2, command_type};
use crate::header_map::put_entry;
use crate::multiplexing::{kind_of, whole_header};
use crate::{BoltCodec, PROTOCOL, status};

/// Header names of the Bolt-specific fields.
pub mod names {
    /// Protocol code (1 or 2).
    pub const PROTO: &str = "xp-bolt-proto";
    /// v2 `ver1`.
    pub const VER1: &str = "xp-bolt-ver1";
    /// Command type.
    pub const TYPE: &str = "xp-bolt-type";
    /// Command code.
    pub const CMD_CODE: &str = "xp-bolt-cmdcode";
    /// `ver2`.
    pub const VER2: &str = "xp-bolt-ver2";
    /// Serialization codec.
    pub const CODEC: &str = "xp-bolt-codec";
    /// v2 switch byte.
    pub const SWITCH: &str = "xp-bolt-switch";
    /// Request timeout in ms.
    pub const TIMEOUT: &str = "xp-bolt-timeout";
    /// Class name (escaped).
    pub const CLASS: &str = "xp-bolt-class";
    /// The whole header map (escaped), when ordinary headers cannot carry it exactly.
    pub const HEADER_BLOCK: &str = "xp-bolt-header-block";
}

/// The [`names`] as `HeaderName`s built at compile time (no parsing per use).
mod header_names {
    use http::HeaderName;

    use super::names;

    pub(super) static PROTO: HeaderName = HeaderName::from_static(names::PROTO);
    pub(super) static VER1: HeaderName = HeaderName::from_static(names::VER1);
    pub(super) static TYPE: HeaderName = HeaderName::from_static(names::TYPE);
    pub(super) static CMD_CODE: HeaderName = HeaderName::from_static(names::CMD_CODE);
    pub(super) static VER2: HeaderName = HeaderName::from_static(names::VER2);
    pub(super) static CODEC: HeaderName = HeaderName::from_static(names::CODEC);
    pub(super) static SWITCH: HeaderName = HeaderName::from_static(names::SWITCH);
    pub(super) static TIMEOUT: HeaderName = HeaderName::from_static(names::TIMEOUT);
    pub(super) static CLASS: HeaderName = HeaderName::from_static(names::CLASS);
    pub(super) static HEADER_BLOCK: HeaderName = HeaderName::from_static(names::HEADER_BLOCK);
}

/// Bolt-specific headers a message may carry (`xp-bolt-…`).
const BOLT_HEADERS: usize = 10;

/// The HTTP status a Bolt response status maps to.
pub fn http_status(bolt_status: u16) -> u16 {
    match bolt_status {
        status::SUCCESS => 200,
        status::SERVER_THREADPOOL_BUSY => 503,
        status::TIMEOUT => 504,
        status::CONNECTION_CLOSED => 502,
        status::NO_PROCESSOR => 404,
        status::CODEC_EXCEPTION => 400,
        _ => 500,
    }
}

impl Transcoding for BoltCodec {
    fn to_http2(&self, frame: &Bytes) -> Result<Http2Message, Error> {
        let header = whole_header(frame)?;
        let route = self.route_headers(frame)?;
        let capacity = Http2Builder::SHARED_HEADERS + BOLT_HEADERS + route.header_count();
        let mut msg = Http2Builder::with_capacity(
            PROTOCOL,
            kind_of(&header)?,
            u64::from(header.request_id),
            capacity,
        );
        msg.route(&route);
        msg.field(&header_names::PROTO, header.proto);
        if let (Some(ver1), Some(switch)) = (header.ver1, header.switch) {
            msg.field(&header_names::VER1, ver1)
                .field(&header_names::SWITCH, switch);
        }
        msg.field(&header_names::TYPE, header.command_type)
            .field(&header_names::CMD_CODE, header.cmd_code)
            .field(&header_names::VER2, header.ver2)
            .field(&header_names::CODEC, header.codec);
        if let Some(timeout) = header.timeout {
            msg.field(&header_names::TIMEOUT, timeout);
        }
        if let Some(native) = header.status {
            msg.status(u32::from(native), http_status(native));
        }
        msg.escaped_field(
            &header_names::CLASS,
            &frame[header.fixed_len()..header.header_at()],
        );
        let block = &frame[header.header_at()..header.content_at()];
        let mut keys = SmallVec::<[&[u8]; INLINE_HEADERS]>::new();
        let mut exact = true;
        for entry in self.entries(frame, &header)? {
            match entry? {
                crate::header_map::RawEntry {
                    key: Some(k),
                    value: Some(v),
                } if k.1 > 0 => {
                    let key = &frame[k.0..k.0 + k.1];
                    exact &= !keys.contains(&key);
                    keys.push(key);
                    msg.protocol_header(key, &frame[v.0..v.0 + v.1]);
                }
                _ => exact = false,
            }
        }
        if !exact {
            msg.escaped_field(&header_names::HEADER_BLOCK, block);
        }
        let content =
            frame.slice(header.content_at()..header.content_at() + header.content_len as usize);
        msg.build(content)
    }

    fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error> {
        let fields = Http2Fields::new(PROTOCOL, message)?;
        let proto: u8 = fields.required_int(&header_names::PROTO)?;
        let command_type: u8 = fields.required_int(&header_names::TYPE)?;
        let v2 = proto == PROTO_V2;
        let (ver1, switch) = match v2 {
            true => (
                Some(fields.required_int(&header_names::VER1)?),
                Some(fields.required_int(&header_names::SWITCH)?),
            ),
            false => (None, None),
        };
        let response = command_type == command_type::RESPONSE;
        let header = BoltHeader {
            proto,
            ver1,
            command_type,
            cmd_code: fields.required_int(&header_names::CMD_CODE)?,
            ver2: fields.required_int(&header_names::VER2)?,
            request_id: fields.required_int(&common::REQUEST_ID)?,
            codec: fields.required_int(&header_names::CODEC)?,
            switch,
            timeout: if response {
                None
            } else {
                Some(fields.required_int(&header_names::TIMEOUT)?)
            },
            status: if response {
                Some(fields.required_int(&common::STATUS)?)
            } else {
                None
            },
            class_len: 0,
            header_len: 0,
            content_len: 0,
        };
        let class = match fields.required_escaped_cow(&header_names::CLASS)? {
            Cow::Borrowed(class) => Bytes::copy_from_slice(class),
            Cow::Owned(class) => Bytes::from(class),
        };
        let block = match fields.contains(&header_names::HEADER_BLOCK) {
            true => Bytes::from(fields.required_escaped(&header_names::HEADER_BLOCK)?),
            false => {
                let mut entries = SmallVec::<[_; INLINE_HEADERS]>::new();
                for pair in fields.protocol_headers_cow() {
                    entries.push(pair?);
                    if entries.len() > self.limits.max_header_entries {
                        return Err(fields.error("protocol header", "more than max_header_entries"));
                    }
                }
                // Sized exactly: one allocation, no regrowth.
                let len = entries
                    .iter()
                    .map(|(key, value)| 8 + key.len() + value.len())
                    .sum();
                let mut block = BytesMut::with_capacity(len);
                for (key, value) in &entries {
                    put_entry(&mut block, Some(key), Some(value));
                }
                block.freeze()
            }
        };
        self.assemble(&header, class, block, message.body().clone())
    }
}
