//! Layer 4: Bolt ↔ HTTP/2, lossless. See `docs/http2-mapping.md`.
//!
//! Every fixed-header field travels as an `xp-bolt-…` header (the length fields
//! and the CRC are derived again on the way back); the class name as
//! `xp-bolt-class`; the header map as ordinary headers, escaped, in order; the
//! content as the body (shared, not copied). A header map that ordinary headers
//! cannot carry exactly (null or empty keys or values, repeated keys) travels
//! whole, escaped, in `xp-bolt-header-block`.

use bytes::{Bytes, BytesMut};
use xprotocol_core::transcoding::{Http2Builder, Http2Fields};
use xprotocol_core::{Error, FrameParts, Http2Message, Routing, Transcoding};

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
        let mut msg = Http2Builder::new(PROTOCOL, kind_of(&header)?, u64::from(header.request_id));
        msg.route(&route);
        msg.field(names::PROTO, header.proto);
        if let (Some(ver1), Some(switch)) = (header.ver1, header.switch) {
            msg.field(names::VER1, ver1).field(names::SWITCH, switch);
        }
        msg.field(names::TYPE, header.command_type)
            .field(names::CMD_CODE, header.cmd_code)
            .field(names::VER2, header.ver2)
            .field(names::CODEC, header.codec);
        if let Some(timeout) = header.timeout {
            msg.field(names::TIMEOUT, timeout);
        }
        if let Some(native) = header.status {
            msg.status(u32::from(native), http_status(native));
        }
        msg.escaped_field(names::CLASS, &frame[header.fixed_len()..header.header_at()]);
        let block = &frame[header.header_at()..header.content_at()];
        let mut keys = Vec::with_capacity(route.header_count());
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
            msg.escaped_field(names::HEADER_BLOCK, block);
        }
        let content =
            frame.slice(header.content_at()..header.content_at() + header.content_len as usize);
        msg.build(content)
    }

    fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error> {
        let fields = Http2Fields::new(PROTOCOL, message)?;
        let proto: u8 = fields.required_int(names::PROTO)?;
        let command_type: u8 = fields.required_int(names::TYPE)?;
        let v2 = proto == PROTO_V2;
        let (ver1, switch) = match v2 {
            true => (
                Some(fields.required_int(names::VER1)?),
                Some(fields.required_int(names::SWITCH)?),
            ),
            false => (None, None),
        };
        let response = command_type == command_type::RESPONSE;
        let header = BoltHeader {
            proto,
            ver1,
            command_type,
            cmd_code: fields.required_int(names::CMD_CODE)?,
            ver2: fields.required_int(names::VER2)?,
            request_id: fields.required_int(xprotocol_core::transcoding::names::REQUEST_ID)?,
            codec: fields.required_int(names::CODEC)?,
            switch,
            timeout: if response {
                None
            } else {
                Some(fields.required_int(names::TIMEOUT)?)
            },
            status: if response {
                Some(fields.required_int(xprotocol_core::transcoding::names::STATUS)?)
            } else {
                None
            },
            class_len: 0,
            header_len: 0,
            content_len: 0,
        };
        let class = Bytes::from(fields.required_escaped(names::CLASS)?);
        let block = match fields.headers().contains_key(names::HEADER_BLOCK) {
            true => Bytes::from(fields.required_escaped(names::HEADER_BLOCK)?),
            false => {
                let mut block = BytesMut::new();
                let mut count = 0usize;
                for pair in fields.protocol_headers() {
                    let (key, value) = pair?;
                    count += 1;
                    if count > self.limits.max_header_entries {
                        return Err(fields.error("protocol header", "more than max_header_entries"));
                    }
                    put_entry(&mut block, Some(&key), Some(&value));
                }
                block.freeze()
            }
        };
        self.assemble(&header, class, block, message.body().clone())
    }
}
