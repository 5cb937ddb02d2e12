//! Layer 3: the routing view from the fixed segments and the Hessian2 props,
//! props edits written back.
//!
//! | field | source | confidence |
//! |---|---|---|
//! | `service` | the service unique name segment, `interface:version` | observed |
//! | `interface`, `version` | the unique name split at the first `:` | observed |
//! | `method` | the method segment | observed |
//! | `group` | props `target_group` | observed in the capture |
//! | headers | the props map in order: string and scalar values; a nested map (e.g. `eagleeye_context`) as `key.subkey` headers | observed in the capture |
//!
//! Edits address top-level props; an edit of a flattened nested name
//! (`eagleeye_context.traceId`) is refused with `Error::Unsupported`, since a
//! top-level key of that name would make the view ambiguous.
//!
//! Argument type names are in the facts (`parameter_types`); the arguments
//! themselves are never decoded. Frames whose serialization code is not the
//! observed Hessian2 code 4 still frame and multiplex; their routing view is
//! `Error::Unsupported` (never guessed).
//!
//! Local replies are refused with `Error::Unsupported`: the response body and
//! the meaning of the status byte were never observed, and an error body
//! made up here could mislead a client.

use bytes::{Bytes, BytesMut};
use xprotocol_core::{Error, FrameParts, HeaderEdit, LocalStatus, RouteView, Routing, Text};
use xprotocol_hessian2::{Item, Reader, Value, edit_map};

use crate::header::{Layout, RequestLayout, SERIALIZATION_HESSIAN2};
use crate::multiplexing::whole;
use crate::{HsfCodec, PROTOCOL};

/// Props key of the service group.
pub const GROUP_KEY: &str = "target_group";

impl HsfCodec {
    /// The request layout of a whole frame whose props are Hessian2.
    pub(crate) fn hessian2_request(&self, frame: &[u8]) -> Result<RequestLayout, Error> {
        let Layout::Request(request) = whole(self, frame)? else {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "routing",
                expected: "a request",
            });
        };
        if frame[3] != SERIALIZATION_HESSIAN2 {
            return Err(Error::Unsupported {
                protocol: PROTOCOL,
                what: "a serialization code other than the observed Hessian2 (4)",
            });
        }
        Ok(request)
    }

    /// Call `entry` for every props header: `(key, value)` texts, nested maps flattened one level.
    pub(crate) fn props(
        &self,
        frame: &[u8],
        request: &RequestLayout,
        mut entry: impl FnMut(Text, Text),
    ) -> Result<(), Error> {
        if request.props_len == 0 {
            return Ok(());
        }
        let mut reader = Reader::at(frame, request.props_at(), &self.limits, PROTOCOL);
        let mut nested = Vec::new();
        for pair in reader.read_map("props", self.limits.max_header_entries)? {
            let (k, v) = pair?;
            let Some(key) = k.as_str() else { continue };
            match (v.value.to_text(), v.value) {
                (Some(value), _) => entry(key.to_text(0), value),
                (None, Value::Map) => nested.push((key.to_string_lossy(), v)),
                _ => {}
            }
        }
        if !reader.is_empty() {
            return Err(Error::Malformed {
                protocol: PROTOCOL,
                field: "props",
                reason: "bytes after the props map",
            });
        }
        for (prefix, item) in nested {
            self.nested_props(frame, &prefix, &item, &mut entry)?;
        }
        Ok(())
    }

    /// The view shows a nested map's entries as `parent.child` headers; an edit
    /// of such a name cannot be expressed as a top-level props edit without
    /// making the view ambiguous, so it is refused.
    fn refuse_nested_edits(
        &self,
        frame: &[u8],
        request: &RequestLayout,
        edits: &[HeaderEdit<'_>],
    ) -> Result<(), Error> {
        if request.props_len == 0 || edits.iter().all(|e| !edit_key(e).contains('.')) {
            return Ok(());
        }
        let mut reader = Reader::at(frame, request.props_at(), &self.limits, PROTOCOL);
        for pair in reader.read_map("props", self.limits.max_header_entries)? {
            let (k, v) = pair?;
            let (Some(parent), Value::Map) = (k.as_str(), v.value) else {
                continue;
            };
            let nested = edits.iter().any(|e| {
                edit_key(e)
                    .split_once('.')
                    .is_some_and(|(p, _)| parent.eq_str(p))
            });
            if nested {
                return Err(Error::Unsupported {
                    protocol: PROTOCOL,
                    what: "editing an entry of a nested props map",
                });
            }
        }
        Ok(())
    }

    fn nested_props(
        &self,
        frame: &[u8],
        prefix: &str,
        item: &Item<'_>,
        entry: &mut impl FnMut(Text, Text),
    ) -> Result<(), Error> {
        let mut reader = Reader::at(frame, item.start, &self.limits, PROTOCOL);
        for pair in reader.read_map("props", self.limits.max_header_entries)? {
            let (k, v) = pair?;
            if let (Some(key), Some(value)) = (k.as_str(), v.value.to_text()) {
                let name = format!("{prefix}.{}", key.to_string_lossy());
                entry(Text::Owned(name.into_bytes().into_boxed_slice()), value);
            }
        }
        Ok(())
    }
}

fn edit_key<'a>(edit: &HeaderEdit<'a>) -> &'a str {
    match *edit {
        HeaderEdit::Set(key, _) | HeaderEdit::Remove(key) => key,
    }
}

impl Routing for HsfCodec {
    fn fill_route_view(&self, frame: &[u8], route: &mut RouteView) -> Result<(), Error> {
        let request = match whole(self, frame)? {
            Layout::Request(_) => self.hessian2_request(frame)?,
            _ => return Ok(()),
        };
        let service = &frame[request.service_at()..request.method_at()];
        route.service = Some(Text::span(request.service_at(), request.service_len));
        let colon = service
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(service.len());
        route.interface = (colon > 0).then(|| Text::span(request.service_at(), colon));
        route.version = (colon + 1 < service.len())
            .then(|| Text::span(request.service_at() + colon + 1, service.len() - colon - 1));
        route.method = Some(Text::span(request.method_at(), request.method_len));
        let mut group = None;
        self.props(frame, &request, |key, value| {
            if group.is_none() && key.bytes(frame) == GROUP_KEY.as_bytes() {
                group = Some(value.clone());
            }
            route.push_header(key, value);
        })?;
        route.group = group;
        Ok(())
    }

    /// Re-encodes the props map alone; the payload before it is shared and the
    /// props length in the header fixed.
    fn mutate_headers(&self, frame: &Bytes, edits: &[HeaderEdit<'_>]) -> Result<FrameParts, Error> {
        let request = self.hessian2_request(frame)?;
        self.refuse_nested_edits(frame, &request, edits)?;
        let map_at = (request.props_len > 0).then(|| request.props_at());
        let mut props = edit_map(
            frame,
            map_at,
            request.props_at(),
            edits,
            &self.limits,
            PROTOCOL,
        )?;
        if props.entries == 0 {
            // An empty props segment is how HSF says "no props".
            props.bytes = Bytes::new();
        }
        if props.replaced.end != frame.len() {
            return Err(Error::Malformed {
                protocol: PROTOCOL,
                field: "props",
                reason: "bytes after the props map",
            });
        }
        let len = request.props_at() + props.bytes.len();
        let props_len = u32::try_from(props.bytes.len())
            .ok()
            .filter(|_| len <= self.limits.max_frame_len);
        let Some(props_len) = props_len else {
            return Err(Error::FrameTooLarge {
                protocol: PROTOCOL,
                len: len as u64,
                limit: self.limits.max_frame_len as u64,
            });
        };
        let mut header = BytesMut::from(&frame[..request.header_len]);
        let at = request.props_len_at();
        header[at..at + 4].copy_from_slice(&props_len.to_be_bytes());
        let mut parts = FrameParts::new();
        parts.push(header.freeze());
        parts.push(frame.slice(request.header_len..request.props_at()));
        parts.push(props.bytes);
        Ok(parts)
    }

    fn local_reply(
        &self,
        request: &[u8],
        _status: LocalStatus,
        _message: &str,
        _dst: &mut BytesMut,
    ) -> Result<(), Error> {
        whole(self, request)?;
        Err(Error::Unsupported {
            protocol: PROTOCOL,
            what: "local replies (the response body was never observed)",
        })
    }
}
