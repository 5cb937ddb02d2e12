//! Layer 4: HSF ↔ HTTP/2, lossless. The payload travels as the body (shared,
//! not copied); every header byte as an `xp-hsf-…` header; the request id as
//! `xp-request-id`, a response's status byte as `xp-status`. The routing view
//! and the props, when readable, are copied into informational headers.

use bytes::{BufMut, Bytes, BytesMut};
use xprotocol_core::transcoding::{Decimal, Http2Builder, Http2Fields, header_names as common};
use xprotocol_core::{Error, FrameParts, Http2Message, Routing, Transcoding};

use crate::header::{
    HEARTBEAT_MAGIC, Layout, MAGIC, RESPONSE_HEADER_LEN, TYPE_REQUEST, TYPE_RESPONSE,
};
use crate::multiplexing::{id_at, kind_of, whole};
use crate::{HsfCodec, PROTOCOL};

/// Header names of the HSF fields.
pub mod names {
    /// Magic: 14 (requests, responses) or 12 (heartbeats).
    pub const MAGIC: &str = "xp-hsf-magic";
    /// Version byte.
    pub const VERSION: &str = "xp-hsf-version";
    /// Type byte.
    pub const TYPE: &str = "xp-hsf-type";
    /// Serialization code.
    pub const SERIALIZATION: &str = "xp-hsf-serialization";
    /// The 3 "extends" (requests, responses) or reserved (heartbeats) bytes, escaped.
    pub const EXTENDS: &str = "xp-hsf-extends";
    /// Timeout in ms (requests, heartbeats).
    pub const TIMEOUT: &str = "xp-hsf-timeout";
    /// A request's length fields, comma-separated: service, method, N, N type-name
    /// lengths, N argument lengths, props.
    pub const LENGTHS: &str = "xp-hsf-lengths";
}

/// The [`names`] as `HeaderName`s built at compile time (no parsing per use).
mod header_names {
    use http::HeaderName;

    use super::names;

    pub(super) static MAGIC: HeaderName = HeaderName::from_static(names::MAGIC);
    pub(super) static VERSION: HeaderName = HeaderName::from_static(names::VERSION);
    pub(super) static TYPE: HeaderName = HeaderName::from_static(names::TYPE);
    pub(super) static SERIALIZATION: HeaderName = HeaderName::from_static(names::SERIALIZATION);
    pub(super) static EXTENDS: HeaderName = HeaderName::from_static(names::EXTENDS);
    pub(super) static TIMEOUT: HeaderName = HeaderName::from_static(names::TIMEOUT);
    pub(super) static LENGTHS: HeaderName = HeaderName::from_static(names::LENGTHS);
}

/// HSF-specific headers a message may carry (`xp-hsf-…`).
const HSF_HEADERS: usize = 7;

fn u32_at(frame: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]])
}

impl Transcoding for HsfCodec {
    fn to_http2(&self, frame: &Bytes) -> Result<Http2Message, Error> {
        let layout = whole(self, frame)?;
        let id_at = id_at(&layout);
        let mut id = [0u8; 8];
        id.copy_from_slice(&frame[id_at..id_at + 8]);
        // Informational; a request whose props cannot be read still transcodes.
        let route = match layout {
            Layout::Request(_) => self.route_headers(frame).ok(),
            _ => None,
        };
        let capacity = Http2Builder::SHARED_HEADERS
            + HSF_HEADERS
            + route.as_ref().map_or(0, |route| route.header_count());
        let mut msg = Http2Builder::with_capacity(
            PROTOCOL,
            kind_of(&layout, frame),
            u64::from_be_bytes(id),
            capacity,
        );
        msg.field(&header_names::MAGIC, frame[0]);
        let body = match layout {
            Layout::Heartbeat => {
                msg.field(&header_names::TYPE, frame[1])
                    .field(&header_names::VERSION, frame[2])
                    .escaped_field(&header_names::EXTENDS, &frame[3..6]);
                msg.field(&header_names::TIMEOUT, u32_at(frame, 14));
                Bytes::new()
            }
            Layout::Response { .. } => {
                msg.field(&header_names::VERSION, frame[1])
                    .field(&header_names::TYPE, frame[2])
                    .field(&header_names::SERIALIZATION, frame[4]);
                msg.escaped_field(&header_names::EXTENDS, &frame[5..8]);
                msg.status(u32::from(frame[3]), if frame[3] == 0 { 200 } else { 500 });
                frame.slice(RESPONSE_HEADER_LEN..)
            }
            Layout::Request(request) => {
                msg.field(&header_names::VERSION, frame[1])
                    .field(&header_names::TYPE, frame[2])
                    .field(&header_names::SERIALIZATION, frame[3]);
                msg.escaped_field(&header_names::EXTENDS, &frame[4..7])
                    .field(&header_names::TIMEOUT, u32_at(frame, 15));
                // Up to 10 digits and a comma per length field.
                let mut lengths =
                    Vec::with_capacity(request.header_len.saturating_sub(19) / 4 * 11);
                for at in (19..request.header_len).step_by(4) {
                    if at > 19 {
                        lengths.push(b',');
                    }
                    lengths
                        .extend_from_slice(Decimal::unsigned(u32_at(frame, at).into()).as_bytes());
                }
                msg.escaped_field(&header_names::LENGTHS, &lengths);
                if let Some(route) = &route {
                    msg.route(route);
                    for (key, value) in route.headers() {
                        msg.protocol_header(key, value);
                    }
                }
                frame.slice(request.header_len..)
            }
        };
        msg.build(body)
    }

    fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error> {
        let fields = Http2Fields::new(PROTOCOL, message)?;
        let magic: u8 = fields.required_int(&header_names::MAGIC)?;
        let id: u64 = fields.required_int(&common::REQUEST_ID)?;
        let extends = fields.required_escaped_cow(&header_names::EXTENDS)?;
        let extends: [u8; 3] = extends[..]
            .try_into()
            .map_err(|_| fields.error(names::EXTENDS, "not 3 bytes"))?;
        let body = message.body().clone();
        let mut head = BytesMut::with_capacity(64);
        match magic {
            HEARTBEAT_MAGIC => {
                head.put_u8(magic);
                head.put_u8(fields.required_int(&header_names::TYPE)?);
                head.put_u8(fields.required_int(&header_names::VERSION)?);
                head.put_slice(&extends);
                head.put_u64(id);
                head.put_u32(fields.required_int(&header_names::TIMEOUT)?);
            }
            MAGIC => {
                let version: u8 = fields.required_int(&header_names::VERSION)?;
                let ty: u8 = fields.required_int(&header_names::TYPE)?;
                let serialization: u8 = fields.required_int(&header_names::SERIALIZATION)?;
                match ty {
                    TYPE_RESPONSE => {
                        let status: u8 = fields.required_int(&common::STATUS)?;
                        head.put_slice(&[magic, version, ty, status, serialization]);
                        head.put_slice(&extends);
                        head.put_u64(id);
                        let len = u32::try_from(body.len())
                            .map_err(|_| fields.error("body", "too long"))?;
                        head.put_u32(len);
                    }
                    TYPE_REQUEST => {
                        head.put_slice(&[magic, version, ty, serialization]);
                        head.put_slice(&extends);
                        head.put_u64(id);
                        head.put_u32(fields.required_int(&header_names::TIMEOUT)?);
                        let lengths = fields.required_escaped_cow(&header_names::LENGTHS)?;
                        let lengths = std::str::from_utf8(&lengths)
                            .map_err(|_| fields.error(names::LENGTHS, "not decimal"))?;
                        for n in lengths.split(',') {
                            head.put_u32(
                                n.parse()
                                    .map_err(|_| fields.error(names::LENGTHS, "not a u32 list"))?,
                            );
                            if head.len() > 35 + 8 * self.limits.max_header_entries {
                                return Err(fields.error(names::LENGTHS, "too many lengths"));
                            }
                        }
                    }
                    _ => return Err(fields.error(names::TYPE, "neither request nor response")),
                }
            }
            _ => return Err(fields.error(names::MAGIC, "neither 14 nor 12")),
        }
        // The header's lengths must describe exactly the body that came with it.
        match crate::header::layout(&head, &self.limits)? {
            Ok(layout) if layout.frame_len() == head.len() + body.len() => {}
            _ => return Err(fields.error(names::LENGTHS, "lengths do not match the body")),
        }
        let mut parts = FrameParts::new();
        parts.push(head.freeze());
        parts.push(body);
        Ok(parts)
    }
}
