//! Layer 3: the routing view from the message name; local replies as
//! `TApplicationException` messages.
//!
//! | field | source |
//! |---|---|
//! | `method` | the message name, or the part after the first `:` of a multiplexed name |
//! | `service`, `interface` | the part before the first `:` of a multiplexed name (`TMultiplexedProtocol`'s `Service:method`); absent otherwise |
//! | `version`, `group`, headers | none: binary Thrift has no header map |
//!
//! Header edits are `Error::Unsupported` (there is nothing to edit). Responses
//! yield an empty view.

use crate::wire::{
    self, check_total, exception_struct_len, header_len, message_type, parse, put_exception_struct,
    put_header,
};
use crate::{PROTOCOL, ThriftCodec, xp};

/// `message` cut to at most `max` bytes, on a character boundary.
fn truncate(message: &str, max: usize) -> &[u8] {
    let mut end = message.len().min(max);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message.as_bytes()[..end]
}

impl xp::Routing for ThriftCodec {
    fn fill_route_view(&self, frame: &[u8], route: &mut xp::RouteView) -> Result<(), xp::Error> {
        let msg = parse(frame, &self.limits)?;
        if !msg.kind().is_request() {
            return Ok(());
        }
        if let Some((at, len)) = msg.service(frame) {
            route.service = Some(xp::Text::span(at, len));
            route.interface = Some(xp::Text::span(at, len));
        }
        let (at, len) = msg.method(frame);
        route.method = Some(xp::Text::span(at, len));
        Ok(())
    }

    /// Always `Error::Unsupported` for a valid frame: binary Thrift messages
    /// carry no header map.
    fn mutate_headers(
        &self,
        frame: &bytes::Bytes,
        _edits: &[xp::HeaderEdit<'_>],
    ) -> Result<xp::FrameParts, xp::Error> {
        parse(frame, &self.limits)?;
        Err(xp::Error::Unsupported {
            protocol: PROTOCOL,
            what: "header edits (binary Thrift messages have no header map)",
        })
    }

    /// An EXCEPTION message with the request's seqid, in the request's style
    /// (strict or not), named like the request's method (a multiplexed
    /// `Service:method` is answered as `method`, as `TMultiplexedProcessor`
    /// servers do: clients look the reply up by that name). The struct is a
    /// `TApplicationException {1: message, 2: type}` with the type from
    /// [`wire::exception_type`]; `message` is cut to `max_header_bytes` bytes
    /// at a character boundary. Only CALL messages can be answered.
    fn local_reply(
        &self,
        request: &[u8],
        status: xp::LocalStatus,
        message: &str,
        dst: &mut bytes::BytesMut,
    ) -> Result<(), xp::Error> {
        let msg = parse(request, &self.limits)?;
        if msg.message_type != message_type::CALL {
            return Err(xp::Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "local_reply",
                expected: "a two-way request (CALL)",
            });
        }
        let (at, len) = msg.method(request);
        let name = &request[at..at + len];
        let text = truncate(message, self.limits.max_header_bytes);
        let message_len = header_len(msg.strict, name.len()) + exception_struct_len(text.len());
        let total = wire::FRAME_HEADER_LEN + message_len;
        check_total(total, &self.limits)?;
        let mut seqid = [0u8; 4];
        seqid.copy_from_slice(&request[msg.seqid_at..msg.seqid_at + 4]);
        dst.reserve(total);
        put_header(
            dst,
            message_len as u32,
            msg.strict,
            message_type::EXCEPTION,
            name,
            seqid,
        );
        put_exception_struct(dst, text, wire::exception_type(status));
        Ok(())
    }
}
