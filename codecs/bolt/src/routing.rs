//! Layer 3: routing view from the header map, header edits written back, local replies.
//!
//! | field | Bolt source |
//! |---|---|
//! | `service` | header `service`, else `sofa_head_target_service` (`interface:version[:uniqueId]`) |
//! | `interface` | `service` up to the first `:` |
//! | `version` | `service` between the first and second `:` (absent when empty) |
//! | `group` | the SOFA `uniqueId`: `service` after the second `:` |
//! | `method` | header `sofa_head_method_name` |
//! | headers | the whole header map, in wire order (null keys or values are skipped) |
//!
//! ## Local replies
//!
//! A response with the request's version, ver1, switch, ver2, codec and id;
//! command code 2; no class and no content; the message in the header
//! `xprotocol-error`. The neutral statuses map to Bolt statuses:
//!
//! | `LocalStatus` | Bolt status |
//! |---|---|
//! | `NoRoute` | 6 `NO_PROCESSOR` |
//! | `NoHealthyUpstream` | 6 `NO_PROCESSOR` |
//! | `UpstreamConnectFailure` | 0x10 `CONNECTION_CLOSED` |
//! | `Timeout` | 7 `TIMEOUT` |
//! | `Overloaded` | 4 `SERVER_THREADPOOL_BUSY` |
//! | `LimitExceeded` | 4 `SERVER_THREADPOOL_BUSY` |
//! | `CodecError` | 9 `CODEC_EXCEPTION` |
//! | `PermissionDenied` | 2 `SERVER_EXCEPTION` |
//! | `InternalError` | 1 `ERROR` |

use bytes::{BufMut, Bytes, BytesMut};
use xprotocol_core::{
    Error, FrameKind, FrameParts, HeaderEdit, LocalStatus, RouteView, Routing, Text,
};

use crate::header::{BoltHeader, cmd_code, command_type, crc32};
use crate::header_map::{HeaderMapIter, RawEntry, put_entry};
use crate::multiplexing::{kind_of, whole_header};
use crate::{BoltCodec, PROTOCOL, status};

/// Header keys SOFARPC uses for routing.
pub mod keys {
    /// Target service unique name `interface:version[:uniqueId]`.
    pub const SERVICE: &str = "service";
    /// Older key for the target service.
    pub const TARGET_SERVICE: &str = "sofa_head_target_service";
    /// Method name.
    pub const METHOD: &str = "sofa_head_method_name";
    /// Target application.
    pub const TARGET_APP: &str = "sofa_head_target_app";
    /// Message of a local reply (written by this codec).
    pub const LOCAL_ERROR: &str = "xprotocol-error";
}

/// The native Bolt status for a neutral local-reply status.
pub fn status_for(local: LocalStatus) -> u16 {
    match local {
        LocalStatus::NoRoute | LocalStatus::NoHealthyUpstream => status::NO_PROCESSOR,
        LocalStatus::UpstreamConnectFailure => status::CONNECTION_CLOSED,
        LocalStatus::Timeout => status::TIMEOUT,
        LocalStatus::Overloaded | LocalStatus::LimitExceeded => status::SERVER_THREADPOOL_BUSY,
        LocalStatus::CodecError => status::CODEC_EXCEPTION,
        LocalStatus::PermissionDenied => status::SERVER_EXCEPTION,
        _ => status::ERROR,
    }
}

impl BoltCodec {
    /// The routing fields of a hessian2 `SofaRequest` body (requests only).
    pub(crate) fn sofa_request(
        &self,
        frame: &[u8],
        header: &BoltHeader,
    ) -> Result<Option<crate::sofa_request::SofaRequestFields>, Error> {
        if header.command_type == command_type::RESPONSE || header.cmd_code != cmd_code::REQUEST {
            return Ok(None);
        }
        let class = &frame[header.fixed_len()..header.header_at()];
        let content =
            &frame[header.content_at()..header.content_at() + header.content_len as usize];
        crate::sofa_request::read(
            header.codec,
            class,
            content,
            header.content_at(),
            &self.limits,
        )
    }

    /// The raw entries of the frame's header map, with ranges relative to the frame.
    pub(crate) fn entries<'a>(
        &self,
        frame: &'a [u8],
        header: &BoltHeader,
    ) -> Result<impl Iterator<Item = Result<RawEntry, Error>> + 'a, Error> {
        let at = header.header_at();
        let block = &frame[at..at + usize::from(header.header_len)];
        let shift = move |r: Option<(usize, usize)>| r.map(|(s, l)| (s + at, l));
        Ok(HeaderMapIter::new(block, &self.limits)?.map(move |e| {
            e.map(|e| RawEntry {
                key: shift(e.key),
                value: shift(e.value),
            })
        }))
    }
}

/// `interface:version[:uniqueId]` → the three non-empty parts.
fn split_unique_name(name: &Text, frame: &[u8]) -> [Option<Text>; 3] {
    let bytes = name.bytes(frame);
    let first = memchr::memchr(b':', bytes).unwrap_or(bytes.len());
    let second = bytes
        .get(first + 1..)
        .and_then(|rest| memchr::memchr(b':', rest))
        .map_or(bytes.len(), |p| first + 1 + p);
    let part = |start: usize, end: usize| -> Option<Text> {
        (start < end).then(|| match name {
            Text::Span { start: base, .. } => Text::span(*base as usize + start, end - start),
            Text::Owned(owned) => Text::Owned(owned[start..end].into()),
        })
    };
    [
        part(0, first),
        part(first + 1, second),
        part(second + 1, bytes.len()),
    ]
}

fn span((start, len): (usize, usize)) -> Text {
    Text::span(start, len)
}

impl Routing for BoltCodec {
    fn fill_route_view(&self, frame: &[u8], route: &mut RouteView) -> Result<(), Error> {
        let header = whole_header(frame)?;
        let mut service = None;
        let mut target_service = None;
        for entry in self.entries(frame, &header)? {
            let RawEntry {
                key: Some(k),
                value: Some(v),
            } = entry?
            else {
                continue;
            };
            match &frame[k.0..k.0 + k.1] {
                b"service" => service = service.or(Some(v)),
                b"sofa_head_target_service" => target_service = target_service.or(Some(v)),
                b"sofa_head_method_name" if route.method.is_none() => route.method = Some(span(v)),
                _ => {}
            }
            route.push_header(span(k), span(v));
        }
        let mut service = service.or(target_service).map(span);
        let body_needed = route.method.is_none() || service.is_none();
        if let Some(body) = body_needed
            .then(|| self.sofa_request(frame, &header))
            .transpose()?
            .flatten()
        {
            route.method = route.method.take().or(body.method);
            service = service.or(body.service);
        }
        if let Some(service) = service {
            let [interface, version, group] = split_unique_name(&service, frame);
            (route.interface, route.version, route.group) = (interface, version, group);
            route.service = Some(service);
        }
        Ok(())
    }

    fn mutate_headers(&self, frame: &Bytes, edits: &[HeaderEdit<'_>]) -> Result<FrameParts, Error> {
        let header = whole_header(frame)?;
        let text = |r: Option<(usize, usize)>| r.map(|(s, l)| &frame[s..s + l]);
        let mut block = BytesMut::with_capacity(usize::from(header.header_len) + 64);
        let mut entries = Vec::new();
        for entry in self.entries(frame, &header)? {
            let e = entry?;
            entries.push((text(e.key), text(e.value)));
        }
        for edit in edits {
            match *edit {
                HeaderEdit::Set(key, value) => {
                    let mut seen = false;
                    entries.retain_mut(|(k, v)| {
                        if *k != Some(key.as_bytes()) {
                            return true;
                        }
                        let keep = !seen;
                        if keep {
                            *v = Some(value.as_bytes());
                        }
                        seen = true;
                        keep
                    });
                    if !seen {
                        entries.push((Some(key.as_bytes()), Some(value.as_bytes())));
                    }
                }
                HeaderEdit::Remove(key) => entries.retain(|(k, _)| *k != Some(key.as_bytes())),
            }
        }
        if entries.len() > self.limits.max_header_entries {
            return Err(Error::LimitExceeded {
                protocol: PROTOCOL,
                field: "header map",
                limit: "max_header_entries",
                value: entries.len() as u64,
                max: self.limits.max_header_entries as u64,
            });
        }
        for (k, v) in &entries {
            put_entry(&mut block, *k, *v);
        }
        self.assemble(
            &header,
            frame.slice(header.fixed_len()..header.header_at()),
            block.freeze(),
            frame.slice(header.content_at()..header.content_at() + header.content_len as usize),
        )
    }

    fn local_reply(
        &self,
        request: &[u8],
        local: LocalStatus,
        message: &str,
        dst: &mut BytesMut,
    ) -> Result<(), Error> {
        let req = whole_header(request)?;
        if kind_of(&req)? != FrameKind::Request {
            return Err(Error::WrongFrameKind {
                protocol: PROTOCOL,
                operation: "local_reply",
                expected: "a two-way request",
            });
        }
        let mut block = BytesMut::new();
        if !message.is_empty() {
            put_entry(
                &mut block,
                Some(keys::LOCAL_ERROR.as_bytes()),
                Some(message.as_bytes()),
            );
        }
        let reply = BoltHeader {
            command_type: command_type::RESPONSE,
            cmd_code: cmd_code::RESPONSE,
            timeout: None,
            status: Some(status_for(local)),
            ..req
        };
        let parts = self.assemble(&reply, Bytes::new(), block.freeze(), Bytes::new())?;
        parts.write_to(dst);
        Ok(())
    }
}

impl BoltCodec {
    /// A frame from a fixed header (its lengths replaced) and the three parts,
    /// with the CRC trailer when the header asks for one. Nothing is copied but
    /// the new fixed header.
    pub(crate) fn assemble(
        &self,
        header: &BoltHeader,
        class: Bytes,
        block: Bytes,
        content: Bytes,
    ) -> Result<FrameParts, Error> {
        let too_long = |field, value: usize, max: u64| Error::LimitExceeded {
            protocol: PROTOCOL,
            field,
            limit: "length field",
            value: value as u64,
            max,
        };
        header.validate()?;
        if block.len() > self.limits.max_header_bytes {
            return Err(Error::LimitExceeded {
                protocol: PROTOCOL,
                field: "header map",
                limit: "max_header_bytes",
                value: block.len() as u64,
                max: self.limits.max_header_bytes as u64,
            });
        }
        let header = BoltHeader {
            class_len: u16::try_from(class.len())
                .map_err(|_| too_long("class name", class.len(), 0xffff))?,
            header_len: u16::try_from(block.len())
                .map_err(|_| too_long("header map", block.len(), 0xffff))?,
            content_len: u32::try_from(content.len())
                .map_err(|_| too_long("content", content.len(), u32::MAX.into()))?,
            ..*header
        };
        if header.frame_len() > self.limits.max_frame_len as u64 {
            return Err(Error::FrameTooLarge {
                protocol: PROTOCOL,
                len: header.frame_len(),
                limit: self.limits.max_frame_len as u64,
            });
        }
        let mut fixed = BytesMut::with_capacity(header.fixed_len());
        header.write(&mut fixed);
        let fixed = fixed.freeze();
        let mut parts = FrameParts::new();
        let crc = header
            .has_crc()
            .then(|| crc32([&fixed[..], &class[..], &block[..], &content[..]]));
        parts.push(fixed);
        parts.push(class);
        parts.push(block);
        parts.push(content);
        if let Some(crc) = crc {
            let mut trailer = BytesMut::with_capacity(4);
            trailer.put_u32(crc);
            parts.push(trailer.freeze());
        }
        Ok(parts)
    }
}
