//! # xprotocol-plugin-sdk
//!
//! Turn any [`xprotocol_core::Codec`] into a plugin a host loads at run time:
//!
//! ```ignore
//! // In a crate with `crate-type = ["cdylib"]`:
//! xprotocol_plugin_sdk::export_codec_plugin!(my_codec::MyCodec::new());
//! ```
//!
//! The macro exports the root module of [`xprotocol_plugin_abi`]. Every entry
//! point runs under `catch_unwind`: a panic in the codec becomes an error with
//! code `PANICKED` at the boundary, never an abort of the host. Layers 1 and 2
//! and the routing view pass the frame as a borrowed slice (no copy);
//! mutation and transcoding copy the frame into a `Bytes` once per call on the
//! plugin side (their results share the frame's bytes).
//!
//! Plugin authors depend on this crate only: [`xp`] re-exports the core API.
#![deny(missing_docs)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::std_types::{RErr, ROk, RSlice, RSliceMut, RStr, RString, RVec, Tuple2};
use bytes::{Bytes, BytesMut};
use xprotocol_core::{
    Codec, Error, FrameKind, HeaderEdit, Http2Message, LocalStatus, Needed, Probe, Split, Text,
};
use xprotocol_plugin_abi::{
    ErrorCode, FfiCodec, FfiCodecBox, FfiEdit, FfiError, FfiHead, FfiHttp2, FfiResult, FfiRoute,
    FfiSplit, FfiText,
};

pub use abi_stable;
pub use xprotocol_core as xp;
pub use xprotocol_plugin_abi as abi;

/// The ABI error of a core error.
pub fn ffi_error(e: &Error) -> FfiError {
    let code = match e {
        Error::BadMagic { .. } => ErrorCode::BAD_MAGIC,
        Error::FrameTooLarge { .. } => ErrorCode::FRAME_TOO_LARGE,
        Error::BadFrameHeader { .. } => ErrorCode::BAD_FRAME_HEADER,
        Error::ChecksumMismatch { .. } => ErrorCode::CHECKSUM_MISMATCH,
        Error::Malformed { .. } => ErrorCode::MALFORMED,
        Error::LimitExceeded { .. } => ErrorCode::LIMIT_EXCEEDED,
        Error::IdOutOfRange { .. } => ErrorCode::ID_OUT_OF_RANGE,
        Error::WrongFrameKind { .. } => ErrorCode::WRONG_FRAME_KIND,
        Error::Unsupported { .. } => ErrorCode::UNSUPPORTED,
        Error::Http2 { .. } => ErrorCode::HTTP2,
        Error::Plugin { code, .. } => ErrorCode(*code),
        _ => ErrorCode::OTHER,
    };
    FfiError {
        code,
        close_connection: e.action() == xprotocol_core::ErrorAction::CloseConnection,
        message: e.to_string().into(),
    }
}

fn missing(what: &'static str) -> FfiError {
    FfiError {
        code: ErrorCode::UNSUPPORTED,
        close_connection: false,
        message: format!("{what} is not supported").into(),
    }
}

/// Run one entry point; a panic becomes a `PANICKED` error.
fn guard<T>(f: impl FnOnce() -> FfiResult<T>) -> FfiResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        RErr(FfiError {
            code: ErrorCode::PANICKED,
            close_connection: true,
            message: "the plugin panicked".into(),
        })
    })
}

fn result<T>(r: Result<T, Error>) -> FfiResult<T> {
    match r {
        Ok(v) => ROk(v),
        Err(e) => RErr(ffi_error(&e)),
    }
}

/// Build the codec for the exported root module (used by [`export_codec_plugin!`]).
pub fn new_codec<C: Codec>(build: impl FnOnce() -> C) -> FfiResult<FfiCodecBox> {
    guard(|| {
        ROk(FfiCodecBox::from_value(
            Exported(build()),
            abi_stable::sabi_trait::TD_Opaque,
        ))
    })
}

/// A core codec seen through the ABI.
#[derive(Debug)]
pub struct Exported<C>(pub C);

fn text(t: &Option<Text>, arena: &mut RVec<u8>) -> FfiText {
    match t {
        None => FfiText {
            kind: 0,
            start: 0,
            len: 0,
        },
        Some(t) => span(t, arena),
    }
}

fn span(t: &Text, arena: &mut RVec<u8>) -> FfiText {
    match t {
        Text::Span { start, len } => FfiText {
            kind: 1,
            start: *start,
            len: *len,
        },
        Text::Owned(bytes) => {
            let start = arena.len() as u32;
            arena.extend_from_slice(bytes);
            FfiText {
                kind: 2,
                start,
                len: bytes.len() as u32,
            }
        }
    }
}

fn bytes_out(parts: &xprotocol_core::FrameParts) -> RVec<u8> {
    let mut out = RVec::with_capacity(parts.len());
    for piece in parts.pieces() {
        out.extend_from_slice(piece);
    }
    out
}

fn built(f: impl FnOnce(&mut BytesMut) -> Result<(), Error>) -> FfiResult<RVec<u8>> {
    let mut dst = BytesMut::new();
    result(f(&mut dst).map(|()| RVec::from_slice(&dst)))
}

impl<C: Codec> FfiCodec for Exported<C> {
    fn name(&self) -> RString {
        catch_unwind(AssertUnwindSafe(|| RString::from(self.0.name())))
            .unwrap_or_else(|_| "panicked".into())
    }

    /// A codec whose accessors panic reports framing only.
    fn capabilities(&self) -> u8 {
        catch_unwind(AssertUnwindSafe(|| self.0.capabilities().bits())).unwrap_or(1)
    }

    fn id_bits(&self) -> u8 {
        catch_unwind(AssertUnwindSafe(|| {
            self.0.multiplexing().map_or(0, |m| m.id_width().bits())
        }))
        .unwrap_or(0)
    }

    fn probe(&self, prefix: RSlice<'_, u8>) -> u8 {
        catch_unwind(AssertUnwindSafe(|| match self.0.framing().probe(&prefix) {
            Probe::Match => 0,
            Probe::NoMatch => 1,
            Probe::NeedMore => 2,
        }))
        .unwrap_or(1)
    }

    fn split(&self, buf: RSlice<'_, u8>) -> FfiResult<FfiSplit> {
        guard(|| {
            result(self.0.framing().split_frame(&buf).map(|s| match s {
                Split::Complete(len) => FfiSplit {
                    kind: 0,
                    len: len as u64,
                },
                Split::Incomplete(Needed::Exact(n)) => FfiSplit {
                    kind: 1,
                    len: n as u64,
                },
                Split::Incomplete(Needed::AtLeast(n)) => FfiSplit {
                    kind: 2,
                    len: n as u64,
                },
            }))
        })
    }

    fn frame_head(&self, frame: RSlice<'_, u8>) -> FfiResult<FfiHead> {
        guard(|| {
            let Some(mux) = self.0.multiplexing() else {
                return RErr(missing("multiplexing"));
            };
            result(mux.frame_head(&frame).map(|h| FfiHead {
                kind: kind_code(h.kind),
                request_id: h.request_id,
                timeout_ms: h.timeout.map_or(0, |t| t.as_millis() as u64),
                has_status: h.status.is_some(),
                status: h.status.unwrap_or(0),
            }))
        })
    }

    fn request_id(&self, frame: RSlice<'_, u8>) -> FfiResult<u64> {
        guard(|| match self.0.multiplexing() {
            Some(mux) => result(mux.request_id(&frame)),
            None => RErr(missing("multiplexing")),
        })
    }

    fn set_request_id(&self, mut frame: RSliceMut<'_, u8>, id: u64) -> FfiResult<()> {
        guard(|| match self.0.multiplexing() {
            Some(mux) => result(mux.set_request_id(&mut frame, id)),
            None => RErr(missing("multiplexing")),
        })
    }

    fn heartbeat_reply(&self, request: RSlice<'_, u8>) -> FfiResult<RVec<u8>> {
        guard(|| match self.0.multiplexing() {
            Some(mux) => built(|dst| mux.heartbeat_reply(&request, dst)),
            None => RErr(missing("multiplexing")),
        })
    }

    fn heartbeat_request(&self, id: u64) -> FfiResult<RVec<u8>> {
        guard(|| match self.0.multiplexing() {
            Some(mux) => built(|dst| mux.heartbeat_request(id, dst)),
            None => RErr(missing("multiplexing")),
        })
    }

    fn goaway(&self, id: u64) -> FfiResult<RVec<u8>> {
        guard(|| match self.0.multiplexing() {
            Some(mux) => built(|dst| mux.goaway(id, dst)),
            None => RErr(missing("multiplexing")),
        })
    }

    fn route_headers(&self, frame: RSlice<'_, u8>) -> FfiResult<FfiRoute> {
        guard(|| {
            let Some(routing) = self.0.routing() else {
                return RErr(missing("routing"));
            };
            let route = match routing.route_view(&frame) {
                Ok(route) => route,
                Err(e) => return RErr(ffi_error(&e)),
            };
            let mut arena = RVec::new();
            let mut headers = RVec::with_capacity(route.header_count());
            let fields = [
                &route.service,
                &route.interface,
                &route.version,
                &route.group,
                &route.method,
            ];
            let [service, interface, version, group, method] = fields.map(|t| text(t, &mut arena));
            for (k, v) in route.header_texts() {
                headers.push(Tuple2(span(k, &mut arena), span(v, &mut arena)));
            }
            ROk(FfiRoute {
                service,
                interface,
                version,
                group,
                method,
                headers,
                arena,
            })
        })
    }

    fn mutate_headers(
        &self,
        frame: RSlice<'_, u8>,
        edits: RSlice<'_, FfiEdit<'_>>,
    ) -> FfiResult<RVec<u8>> {
        guard(|| {
            let Some(routing) = self.0.routing() else {
                return RErr(missing("routing"));
            };
            let edits: Vec<HeaderEdit<'_>> = edits
                .iter()
                .map(|e| {
                    if e.set {
                        HeaderEdit::Set(e.key.as_str(), e.value.as_str())
                    } else {
                        HeaderEdit::Remove(e.key.as_str())
                    }
                })
                .collect();
            result(
                routing
                    .mutate_headers(&Bytes::copy_from_slice(&frame), &edits)
                    .map(|p| bytes_out(&p)),
            )
        })
    }

    fn local_reply(
        &self,
        request: RSlice<'_, u8>,
        status: u8,
        message: RStr<'_>,
    ) -> FfiResult<RVec<u8>> {
        guard(|| {
            let Some(routing) = self.0.routing() else {
                return RErr(missing("routing"));
            };
            let Some(&status) = LocalStatus::ALL.get(usize::from(status)) else {
                return RErr(missing("this local status"));
            };
            built(|dst| routing.local_reply(&request, status, message.as_str(), dst))
        })
    }

    fn to_http2(&self, frame: RSlice<'_, u8>) -> FfiResult<FfiHttp2> {
        guard(|| {
            let Some(transcoding) = self.0.transcoding() else {
                return RErr(missing("transcoding"));
            };
            let frame = Bytes::copy_from_slice(&frame);
            match transcoding.to_http2(&frame) {
                Ok(message) => ROk(ffi_http2(&message, Some(&frame))),
                Err(e) => RErr(ffi_error(&e)),
            }
        })
    }

    fn from_http2(&self, message: &FfiHttp2) -> FfiResult<RVec<u8>> {
        guard(|| {
            let Some(transcoding) = self.0.transcoding() else {
                return RErr(missing("transcoding"));
            };
            let message = match core_http2(message, &[]) {
                Ok(m) => m,
                Err(e) => return RErr(e),
            };
            result(transcoding.from_http2(&message).map(|p| bytes_out(&p)))
        })
    }

    fn facts_json(&self, frame: RSlice<'_, u8>) -> FfiResult<RString> {
        guard(|| {
            result(
                self.0
                    .facts(&Bytes::copy_from_slice(&frame))
                    .map(|f| f.to_json().to_string().into()),
            )
        })
    }
}

/// `FrameKind` as the ABI's code.
pub fn kind_code(kind: FrameKind) -> u8 {
    match kind {
        FrameKind::Request => 0,
        FrameKind::OnewayRequest => 1,
        FrameKind::Response => 2,
        FrameKind::HeartbeatRequest => 3,
        FrameKind::HeartbeatResponse => 4,
        _ => 5,
    }
}

/// An HTTP/2 message in the ABI's form. When `frame` is given and the body is
/// a slice of it, the body travels as a range (no copy).
pub fn ffi_http2(message: &Http2Message, frame: Option<&Bytes>) -> FfiHttp2 {
    let pairs = message.headers().iter().map(|(n, v)| {
        Tuple2(
            RString::from(n.as_str()),
            RString::from(String::from_utf8_lossy(v.as_bytes()).as_ref()),
        )
    });
    let headers = pairs.collect();
    let body = message.body();
    let range = frame.and_then(|f| {
        let start = (body.as_ptr() as usize).checked_sub(f.as_ptr() as usize)?;
        (start + body.len() <= f.len() && !body.is_empty()).then_some(FfiText {
            kind: 1,
            start: start as u32,
            len: body.len() as u32,
        })
    });
    let (authority, path, status, request) = match message {
        Http2Message::Request(r) => (
            r.uri().authority().map_or("", |a| a.as_str()).into(),
            r.uri().path().into(),
            0,
            true,
        ),
        Http2Message::Response(r) => (RString::new(), RString::new(), r.status().as_u16(), false),
    };
    FfiHttp2 {
        request,
        status,
        authority,
        path,
        headers,
        body: if range.is_some() {
            RVec::new()
        } else {
            RVec::from_slice(body)
        },
        body_range: range.unwrap_or(FfiText {
            kind: 0,
            start: 0,
            len: 0,
        }),
    }
}

/// A core HTTP/2 message from the ABI's form; a body range is resolved in `frame`.
pub fn core_http2(message: &FfiHttp2, frame: &[u8]) -> Result<Http2Message, FfiError> {
    let bad = |what: &str| FfiError {
        code: ErrorCode::INVALID_RESULT,
        close_connection: false,
        message: format!("HTTP/2 message: {what}").into(),
    };
    let body = match message.body_range.kind {
        0 => Bytes::copy_from_slice(&message.body),
        1 => {
            let (start, len) = (
                message.body_range.start as usize,
                message.body_range.len as usize,
            );
            Bytes::copy_from_slice(
                frame
                    .get(start..start + len)
                    .ok_or_else(|| bad("body range outside the frame"))?,
            )
        }
        _ => return Err(bad("body kind")),
    };
    let mut headers = http::HeaderMap::with_capacity(message.headers.len());
    for Tuple2(name, value) in message.headers.iter() {
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("header name"))?;
        let value =
            http::HeaderValue::from_bytes(value.as_bytes()).map_err(|_| bad("header value"))?;
        headers.append(name, value);
    }
    let mut out = if message.request {
        let uri = http::Uri::builder()
            .scheme("http")
            .authority(message.authority.as_str())
            .path_and_query(message.path.as_str())
            .build()
            .map_err(|_| bad(":authority/:path"))?;
        Http2Message::Request(
            http::Request::builder()
                .method(http::Method::POST)
                .uri(uri)
                .body(body)
                .map_err(|_| bad("request"))?,
        )
    } else {
        let status = http::StatusCode::from_u16(message.status).map_err(|_| bad(":status"))?;
        Http2Message::Response(
            http::Response::builder()
                .status(status)
                .body(body)
                .map_err(|_| bad("response"))?,
        )
    };
    *out.headers_mut() = headers;
    Ok(out)
}

/// Export a codec as a plugin: call once in a `cdylib` crate with an
/// expression that builds the codec.
///
/// The exported symbol needs `#[no_mangle]`, which the `unsafe_code` lint
/// flags: a plugin crate allows that lint (its only unsafe is this export).
/// abi_stable's export attribute refers to `::abi_stable`, so a plugin crate
/// also lists `abi_stable = "0.11.3"` among its dependencies.
#[macro_export]
macro_rules! export_codec_plugin {
    ($build:expr) => {
        /// The plugin's root module.
        #[$crate::abi_stable::export_root_module]
        pub fn xprotocol_plugin_root() -> $crate::abi::PluginModuleRef {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            extern "C" fn new_codec() -> $crate::abi::FfiResult<$crate::abi::FfiCodecBox> {
                $crate::new_codec(|| $build)
            }
            $crate::abi::PluginModule { new_codec }.leak_into_prefix()
        }
    };
}
