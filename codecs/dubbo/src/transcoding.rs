//! Layer 4: Dubbo ↔ HTTP/2, lossless. See `docs/http2-mapping.md`.
//!
//! The attachments live inside the Hessian2 body, so the body travels whole as
//! the HTTP/2 body (shared, not copied) and the header fields as `xp-dubbo-…`
//! headers. The routing view (path, interface, version, group, method) and the
//! attachments are copied into headers too, for routing on the HTTP/2 hop:
//! they are informational, the body is authoritative. Edit attachments on the
//! native frame (`Routing::mutate_headers`).

use bytes::{Bytes, BytesMut};
use xprotocol_core::transcoding::{Http2Builder, Http2Fields, header_names as common};
use xprotocol_core::{Error, FrameParts, Http2Message, Routing, Transcoding};

use crate::header::DubboHeader;
use crate::multiplexing::{kind_of, whole_header};
use crate::{DubboCodec, PROTOCOL, status};

/// Header names of the Dubbo-specific fields.
pub mod names {
    /// The flag byte (decimal).
    pub const FLAG: &str = "xp-dubbo-flag";
    /// The status byte of a request (responses carry `xp-status`).
    pub const REQUEST_STATUS: &str = "xp-dubbo-status";
}

/// The [`names`] as `HeaderName`s built at compile time (no parsing per use).
mod header_names {
    use http::HeaderName;

    use super::names;

    pub(super) static FLAG: HeaderName = HeaderName::from_static(names::FLAG);
    pub(super) static REQUEST_STATUS: HeaderName = HeaderName::from_static(names::REQUEST_STATUS);
}

/// Dubbo-specific headers a message may carry (`xp-dubbo-…`).
const DUBBO_HEADERS: usize = 2;

/// The HTTP status a Dubbo response status maps to.
pub fn http_status(dubbo_status: u8) -> u16 {
    match dubbo_status {
        status::OK => 200,
        status::CLIENT_TIMEOUT | status::SERVER_TIMEOUT => 504,
        status::BAD_REQUEST | status::CLIENT_ERROR => 400,
        status::BAD_RESPONSE => 502,
        status::SERVICE_NOT_FOUND => 404,
        status::SERVER_THREADPOOL_EXHAUSTED => 503,
        _ => 500,
    }
}

impl Transcoding for DubboCodec {
    fn to_http2(&self, frame: &Bytes) -> Result<Http2Message, Error> {
        let header = whole_header(frame)?;
        let kind = kind_of(&header, frame);
        // The routing view is informational: a body it cannot read (another
        // serialization, a malformed argument) still transcodes losslessly.
        let route = self.route_headers(frame).ok();
        let capacity = Http2Builder::SHARED_HEADERS
            + DUBBO_HEADERS
            + route.as_ref().map_or(0, |route| route.header_count());
        let mut msg = Http2Builder::with_capacity(PROTOCOL, kind, header.request_id, capacity);
        msg.field(&header_names::FLAG, header.flag);
        if header.is_request() {
            msg.field(&header_names::REQUEST_STATUS, header.status);
        } else {
            // Heartbeat responses from some peers carry status 0: keep it exact.
            msg.status(u32::from(header.status), http_status(header.status));
        }
        if let Some(route) = &route {
            msg.route(route);
            for (key, value) in route.headers() {
                msg.protocol_header(key, value);
            }
        }
        msg.build(frame.slice(crate::header::HEADER_LEN..))
    }

    fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error> {
        let fields = Http2Fields::new(PROTOCOL, message)?;
        let flag: u8 = fields.required_int(&header_names::FLAG)?;
        let request = flag & crate::header::flag::REQUEST != 0;
        let status = match request {
            true => fields.required_int(&header_names::REQUEST_STATUS)?,
            false => fields.required_int(&common::STATUS)?,
        };
        let body = message.body().clone();
        self.check_size(body.len())?;
        let header = DubboHeader {
            flag,
            status,
            request_id: fields.required_int(&common::REQUEST_ID)?,
            body_len: body.len() as u32,
        };
        let mut head = BytesMut::with_capacity(crate::header::HEADER_LEN);
        header.write(&mut head);
        let mut parts = FrameParts::new();
        parts.push(head.freeze());
        parts.push(body);
        Ok(parts)
    }
}
