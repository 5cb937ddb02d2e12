//! Layer 4: Thrift ↔ HTTP/2, lossless. The struct (args or result) is the
//! body, shared with the frame; the seqid is `xp-request-id`; a response's
//! message type is `xp-status` (`:status` 200 for REPLY, 500 for EXCEPTION);
//! the rest of the message header travels in the `xp-thrift-…` headers below.
//! A request's routing view fills `:authority`, `:path` and the informational
//! `xp-service`/`xp-interface`/`xp-method` headers.

use bytes::BytesMut;

use crate::wire::{self, check_name_len, check_total, header_len, kind_of, message_type, parse};
use crate::{PROTOCOL, ThriftCodec, xp};

/// Header names of the Thrift message fields.
pub mod names {
    /// `1` for a strict (versioned) message header, `0` for a non-strict one.
    pub const STRICT: &str = "xp-thrift-strict";
    /// The message type, decimal (1 CALL, 2 REPLY, 3 EXCEPTION, 4 ONEWAY).
    pub const MESSAGE_TYPE: &str = "xp-thrift-message-type";
    /// The whole message name (multiplexed `Service:method` included), escaped.
    pub const NAME: &str = "xp-thrift-name";
}

impl xp::Transcoding for ThriftCodec {
    fn to_http2(&self, frame: &bytes::Bytes) -> Result<xp::Http2Message, xp::Error> {
        let msg = parse(frame, &self.limits)?;
        let mut out =
            xp::transcoding::Http2Builder::new(PROTOCOL, msg.kind(), u64::from(msg.seqid(frame)));
        out.field(names::STRICT, u8::from(msg.strict))
            .field(names::MESSAGE_TYPE, msg.message_type)
            .escaped_field(names::NAME, msg.name(frame));
        match msg.message_type {
            message_type::REPLY => {
                out.status(u32::from(msg.message_type), 200);
            }
            message_type::EXCEPTION => {
                out.status(u32::from(msg.message_type), 500);
            }
            _ => {
                let route = xp::Routing::route_headers(self, frame)?;
                out.route(&route);
            }
        }
        out.build(frame.slice(msg.body_at..))
    }

    fn from_http2(&self, message: &xp::Http2Message) -> Result<xp::FrameParts, xp::Error> {
        let fields = xp::transcoding::Http2Fields::new(PROTOCOL, message)?;
        let strict = match fields.required_int::<u8>(names::STRICT)? {
            0 => false,
            1 => true,
            _ => return Err(fields.error(names::STRICT, "neither 0 nor 1")),
        };
        let ty: u8 = fields.required_int(names::MESSAGE_TYPE)?;
        if message_type::name(ty).is_none() {
            return Err(fields.error(names::MESSAGE_TYPE, "not 1..=4"));
        }
        if fields.kind()? != kind_of(ty) {
            return Err(fields.error(
                xp::transcoding::names::KIND,
                "disagrees with xp-thrift-message-type",
            ));
        }
        let seqid: u32 = fields.required_int(xp::transcoding::names::REQUEST_ID)?;
        let name = fields.required_escaped(names::NAME)?;
        check_name_len(name.len(), &self.limits)?;
        let body = message.body().clone();
        if body.is_empty() {
            return Err(fields.error("body", "empty (a Thrift message holds a struct)"));
        }
        let message_len = header_len(strict, name.len()) + body.len();
        check_total(wire::FRAME_HEADER_LEN + message_len, &self.limits)?;
        let mut head =
            BytesMut::with_capacity(wire::FRAME_HEADER_LEN + header_len(strict, name.len()));
        wire::put_header(
            &mut head,
            message_len as u32,
            strict,
            ty,
            &name,
            seqid.to_be_bytes(),
        );
        let mut parts = xp::FrameParts::new();
        parts.push(head.freeze());
        parts.push(body);
        Ok(parts)
    }
}
