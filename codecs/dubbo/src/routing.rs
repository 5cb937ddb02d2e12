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
    Error, FrameKind, FrameParts, HeaderEdit, LocalStatus, RouteHeaders, Routing, Text,
};
use xprotocol_hessian2::{Item, Value, Writer};

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

/// An attachment value as header text: strings as they are, scalars as decimal text.
pub(crate) fn value_text(value: &Value<'_>) -> Option<Text> {
    let owned = |s: String| Some(Text::Owned(s.into_bytes().into_boxed_slice()));
    match value {
        Value::Str(s) => Some(s.to_text(0)),
        Value::Int(i) => owned(i.to_string()),
        Value::Long(l) => owned(l.to_string()),
        Value::Bool(b) => owned(b.to_string()),
        Value::Double(d) => owned(d.to_string()),
        _ => None,
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
    fn route_headers(&self, frame: &Bytes) -> Result<RouteHeaders, Error> {
        let header = whole_header(frame)?;
        let mut route = RouteHeaders::new(frame.clone());
        let kind = kind_of(&header, frame);
        if !matches!(
            kind,
            FrameKind::Request | FrameKind::OnewayRequest | FrameKind::Response
        ) {
            return Ok(route);
        }
        require_hessian2(header.serialization())?;
        let mut known = Known::default();
        let collect = |k: Item<'_>, v: Item<'_>| {
            let (Some(key), Some(value)) = (k.as_str(), value_text(&v.value)) else {
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
            return Ok(route);
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
        Ok(route)
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
        let mut pairs: Vec<(Item<'_>, Item<'_>)> = Vec::new();
        let body = body::request(frame, &self.limits, |k, v| pairs.push((k, v)))?;
        let (map_start, map_end, map_head) = match &body.attachments {
            Some(a) if a.has_refs => {
                return Err(Error::Unsupported {
                    protocol: PROTOCOL,
                    what: "editing attachments that hold references",
                });
            }
            Some(a) => (
                a.header.start,
                a.end,
                &frame[a.header.start..a.header.entries_at],
            ),
            None => (frame.len(), frame.len(), &b"H"[..]),
        };
        let mut entries: Vec<Entry<'_>> = pairs
            .iter()
            .map(|(k, v)| Entry {
                key: Part::Raw(k),
                value: Part::Raw(v),
            })
            .collect();
        for edit in edits {
            match *edit {
                HeaderEdit::Set(key, value) => {
                    let mut seen = false;
                    entries.retain_mut(|e| {
                        if !e.key.is(key) {
                            return true;
                        }
                        let first = !seen;
                        if first {
                            e.value = Part::New(value);
                        }
                        seen = true;
                        first
                    });
                    if !seen {
                        entries.push(Entry {
                            key: Part::New(key),
                            value: Part::New(value),
                        });
                    }
                }
                HeaderEdit::Remove(key) => entries.retain(|e| !e.key.is(key)),
            }
        }
        if entries.len() > self.limits.max_header_entries {
            return Err(Error::LimitExceeded {
                protocol: PROTOCOL,
                field: "attachments",
                limit: "max_header_entries",
                value: entries.len() as u64,
                max: self.limits.max_header_entries as u64,
            });
        }
        let mut map = Writer::with_capacity(map_end - map_start + 64);
        if body.attachments.is_some() || !entries.is_empty() {
            map.raw(map_head);
            for e in &entries {
                e.key.write(frame, &mut map);
                e.value.write(frame, &mut map);
            }
            map.map_end();
        }
        if map.len() > self.limits.max_header_bytes {
            return Err(Error::LimitExceeded {
                protocol: PROTOCOL,
                field: "attachments",
                limit: "max_header_bytes",
                value: map.len() as u64,
                max: self.limits.max_header_bytes as u64,
            });
        }
        let body_len = (map_start - HEADER_LEN) + map.len() + (frame.len() - map_end);
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
        parts.push(map.into_bytes());
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

/// One attachment being re-encoded: its key and value, raw or new.
#[derive(Debug)]
struct Entry<'a> {
    key: Part<'a>,
    value: Part<'a>,
}

/// A key or value: copied from the frame, or a new string.
#[derive(Debug)]
enum Part<'a> {
    Raw(&'a Item<'a>),
    New(&'a str),
}

impl Part<'_> {
    fn is(&self, key: &str) -> bool {
        match self {
            Part::Raw(item) => item.as_str().is_some_and(|s| s.eq_str(key)),
            Part::New(k) => *k == key,
        }
    }

    fn write(&self, frame: &[u8], w: &mut Writer) {
        match self {
            Part::Raw(item) => w.raw(&frame[item.start..item.end]),
            Part::New(s) => w.string(s),
        };
    }
}
