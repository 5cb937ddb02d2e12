//! Layer 3: the routing view from the body and the attachments, attachment
//! edits written back, local replies.
//!
//! | field | source (attachments win over the body fields) |
//! |---|---|
//! | `service` | attachment `path`, else the body's path |
//! | `interface` | attachment `interface`, else the body's path |
//! | `version` | attachment `version`, else the body's service version (absent when empty) |
//! | `group` | attachment `group` |
//! | `method` | the body's method |
//! | headers | the attachments with string keys, in order: string values as they are, numbers and booleans as decimal text; other values stay in the frame (never dropped) but are not headers |
//!
//! Both untyped `H` and typed `M` (e.g. Java's `LinkedHashMap`) attachment maps are read.
//!
//! ## Attachment edits
//!
//! Only the attachments map is re-encoded (its `H`/`M` form and type kept,
//! untouched entries copied byte for byte, new strings written as Java's
//! hessian-lite writes them); the body before it is shared, not copied; the
//! body length is fixed. A map holding references (`Q`) is refused with
//! `Error::Unsupported`: dropping an entry could shift them.
//!
//! ## Local replies
//!
//! A response (flag `0x02`, hessian2) with the request's id, the mapped status,
//! and the message as a Hessian2 string body (the status name when empty):
//!
//! | `LocalStatus` | Dubbo status |
//! |---|---|
//! | `NoRoute` | 60 `SERVICE_NOT_FOUND` |
//! | `NoHealthyUpstream` | 60 `SERVICE_NOT_FOUND` |
//! | `UpstreamConnectFailure` | 80 `SERVER_ERROR` |
//! | `Timeout` | 31 `SERVER_TIMEOUT` |
//! | `Overloaded` | 100 `SERVER_THREADPOOL_EXHAUSTED` |
//! | `LimitExceeded` | 100 `SERVER_THREADPOOL_EXHAUSTED` |
//! | `CodecError` | 40 `BAD_REQUEST` |
//! | `PermissionDenied` | 80 `SERVER_ERROR` |
//! | `InternalError` | 80 `SERVER_ERROR` |

use bytes::{BufMut, Bytes, BytesMut};
use xprotocol_core::{
    Error, FrameKind, FrameParts, HeaderEdit, LocalStatus, RouteView, Routing, Text,
};
use xprotocol_hessian2::{Item, Writer, edit_map};

use crate::body::{self, require_hessian2};
use crate::header::{DubboHeader, HEADER_LEN};
use crate::multiplexing::{kind_of, whole_header};
use crate::{DubboCodec, PROTOCOL, serialization, status};

/// The native Dubbo status for a neutral local-reply status.
pub fn status_for(local: LocalStatus) -> u8 {
    match local {
        LocalStatus::NoRoute | LocalStatus::NoHealthyUpstream => status::SERVICE_NOT_FOUND,
        LocalStatus::Timeout => status::SERVER_TIMEOUT,
        LocalStatus::Overloaded | LocalStatus::LimitExceeded => status::SERVER_THREADPOOL_EXHAUSTED,
        LocalStatus::CodecError => status::BAD_REQUEST,
        _ => status::SERVER_ERROR,
    }
}

/// The attachments routing reads.
#[derive(Debug, Default)]
struct Known {
    path: Option<Text>,
    interface: Option<Text>,
    version: Option<Text>,
    group: Option<Text>,
}

impl Routing for DubboCodec {
    fn fill_route_view(&self, frame: &[u8], route: &mut RouteView) -> Result<(), Error> {
        let header = whole_header(frame)?;
        let kind = kind_of(&header, frame);
        if !matches!(
            kind,
            FrameKind::Request | FrameKind::OnewayRequest | FrameKind::Response
        ) {
            return Ok(());
        }
        require_hessian2(header.serialization())?;
        let mut known = Known::default();
        let collect = |k: Item<'_>, v: Item<'_>| {
            let (Some(key), Some(value)) = (k.as_str(), v.value.to_text()) else {
                return;
            };
            let slot = match key.content() {
                Some(b"path") => Some(&mut known.path),
                Some(b"interface") => Some(&mut known.interface),
                Some(b"version") => Some(&mut known.version),
                Some(b"group") => Some(&mut known.group),
                _ => None,
            };
            if let Some(slot) = slot {
                *slot = slot.take().or(Some(value.clone()));
            }
            route.push_header(key.to_text(0), value);
        };
        if kind == FrameKind::Response {
            body::response(frame, header.status, &self.limits, collect)?;
            return Ok(());
        }
        let body = body::request(frame, &self.limits, collect)?;
        let path = body.path.map(|s| s.to_text(0));
        route.method = body.method.map(|s| s.to_text(0));
        route.service = known.path.or_else(|| path.clone());
        route.interface = known.interface.or(path);
        route.version = known.version.or_else(|| {
            body.version
                .filter(|v| v.utf16_len() > 0)
                .map(|s| s.to_text(0))
        });
        route.group = known.group;
        Ok(())
    }

    fn mutate_headers(&self, frame: &Bytes, edits: &[HeaderEdit<'_>]) -> Result<FrameParts, Error> {
        let header = whole_header(frame)?;
        if !matches!(
            kind_of(&header, frame),
            FrameKind::Request | FrameKind::OnewayRequest
        ) {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "mutate_headers",
                expected: "a request",
            });
        }
        require_hessian2(header.serialization())?;
        let body = body::request(frame, &self.limits, |_, _| {})?;
        let map_at = body.attachments.map(|a| a.header.start);
        let map = edit_map(frame, map_at, frame.len(), edits, &self.limits, PROTOCOL)?;
        let (map_start, map_end) = (map.replaced.start, map.replaced.end);
        let body_len = (map_start - HEADER_LEN) + map.bytes.len() + (frame.len() - map_end);
        self.check_size(body_len)?;
        let mut head = BytesMut::with_capacity(HEADER_LEN);
        DubboHeader {
            body_len: body_len as u32,
            ..header
        }
        .write(&mut head);
        let mut parts = FrameParts::new();
        parts.push(head.freeze());
        parts.push(frame.slice(HEADER_LEN..map_start));
        parts.push(map.bytes);
        parts.push(frame.slice(map_end..));
        Ok(parts)
    }

    fn local_reply(
        &self,
        request: &[u8],
        local: LocalStatus,
        message: &str,
        dst: &mut BytesMut,
    ) -> Result<(), Error> {
        let req = whole_header(request)?;
        if kind_of(&req, request) != FrameKind::Request {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "local_reply",
                expected: "a two-way request",
            });
        }
        let mut body = Writer::new();
        body.string(if message.is_empty() {
            local.as_str()
        } else {
            message
        });
        let reply = DubboHeader {
            flag: serialization::HESSIAN2,
            status: status_for(local),
            request_id: req.request_id,
            body_len: body.len() as u32,
        };
        reply.write(dst);
        dst.put_slice(body.as_bytes());
        Ok(())
    }
}

impl DubboCodec {
    /// Refuse a body that would not fit the length field or `max_frame_len`.
    pub(crate) fn check_size(&self, body_len: usize) -> Result<(), Error> {
        let len = (HEADER_LEN + body_len) as u64;
        if body_len > u32::MAX as usize || len > self.limits.max_frame_len as u64 {
            return Err(Error::FrameTooLarge {
                protocol: PROTOCOL,
                len,
                limit: self.limits.max_frame_len as u64,
            });
        }
        Ok(())
    }
}
