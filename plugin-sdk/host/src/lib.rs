//! # xprotocol-plugin-host
//!
//! Load codec plugins (`cdylib`s built with `xprotocol-plugin-sdk`) and use
//! them as ordinary [`Codec`]s: a proxy holding `Arc<dyn Codec>` cannot tell a
//! plugin from a static codec.
//!
//! * Each file is loaded on its own (`lib_header_from_path`, never the
//!   per-type cache of `RootModule::load_from_file`), so refusing one file
//!   never affects loading the next.
//! * `abi_stable` checks the ABI version and the type layout before any plugin
//!   code runs; a refusal is a short [`LoadError`] (the full layout report is
//!   in [`LoadError::detail`], for debug logs).
//! * Every result crossing the boundary is validated (ranges inside the frame,
//!   split lengths within the buffer, known kinds); an invalid one is an error.
//! * A panic inside the plugin is stopped at the boundary and becomes an
//!   error; the plugin is then marked failed and refuses further calls.
//! * Libraries are never unloaded (abi_stable leaks them on purpose).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use abi_stable::library::{RootModule, lib_header_from_path};
use abi_stable::std_types::{RResult, RSlice, RSliceMut, RStr, RVec};
use bytes::{Bytes, BytesMut};
use xprotocol_core::{
    Capabilities, Codec, Error, FactValue, Facts, FrameHead, FrameKind, FrameParts, Framing,
    HeaderEdit, Http2Message, IdWidth, LocalStatus, Multiplexing, Needed, Probe, RouteView,
    Routing, Split, Text, Transcoding,
};
use xprotocol_plugin_abi::{
    ABI_VERSION, ErrorCode, FfiCodecBox, FfiEdit, FfiError, FfiText, PluginModuleRef,
};
use xprotocol_plugin_sdk::{core_http2, ffi_http2};

/// Why a plugin file was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {short}")]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// One line: why.
    pub short: String,
    /// The full report (abi_stable's layout errors run to thousands of lines).
    pub detail: String,
}

fn load_error(path: &Path, short: impl Into<String>, detail: impl std::fmt::Display) -> LoadError {
    LoadError {
        path: path.to_owned(),
        short: short.into(),
        detail: detail.to_string(),
    }
}

/// Helpers for tests that load the plugins this workspace builds.
#[cfg(feature = "testing")]
pub mod testing {
    use std::path::PathBuf;

    /// `target/<profile>/lib<name>.so` beside the running test executable
    /// (in `target/<profile>/deps/`), as `cargo build --workspace` leaves it.
    ///
    /// # Panics
    /// When the file is missing, with the command that builds it.
    pub fn built_plugin(name: &str) -> PathBuf {
        let exe = std::env::current_exe().expect("test executable path");
        let dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target dir");
        let path = dir.join(format!("lib{name}.so"));
        assert!(
            path.is_file(),
            "{} is missing: run `cargo build --workspace` first (bash scripts/test.sh does)",
            path.display()
        );
        path
    }
}

/// Load the codec plugin at `path`.
pub fn load(path: &Path) -> Result<Arc<PluginCodec>, LoadError> {
    let header = lib_header_from_path(path).map_err(|e| {
        let detail = e.to_string();
        // abi_stable's message spans lines ("Could not open library at:\n\t<path>\nbecause:\n…").
        let mut short = detail.split_whitespace().collect::<Vec<_>>().join(" ");
        if short.len() > 200 {
            let cut = (0..=200)
                .rev()
                .find(|&i| short.is_char_boundary(i))
                .unwrap_or(0);
            short.truncate(cut);
            short.push('…');
        }
        load_error(path, short, detail)
    })?;
    let module = header.init_root_module::<PluginModuleRef>().map_err(|e| {
        let detail = e.to_string();
        let short = if detail.contains("version") || detail.contains("fields") || detail.contains("mismatch") {
            let theirs = detail.lines().find_map(|l| l.trim().strip_prefix("library:")).unwrap_or("another layout");
            format!(
                "incompatible plugin ABI {} (this host speaks {} {}: rebuild the plugin against it)",
                theirs.trim(),
                PluginModuleRef::NAME,
                ABI_VERSION
            )
        } else {
            detail.lines().next().unwrap_or("refused").to_owned()
        };
        load_error(path, short, detail)
    })?;
    let codec = match (module.new_codec())() {
        RResult::ROk(codec) => codec,
        RResult::RErr(e) => {
            return Err(load_error(
                path,
                format!("the plugin failed to start: {}", e.message),
                "",
            ));
        }
    };
    Ok(Arc::new(PluginCodec::from_ffi(codec, path)))
}

/// Protocol names are `&'static str` in errors: each distinct plugin name is
/// leaked once and reused, so wrapping codecs repeatedly does not grow memory.
fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match names.iter().find(|n| **n == name) {
        Some(n) => n,
        None => {
            let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
            names.push(leaked);
            leaked
        }
    }
}

/// A codec living in a plugin, usable as any [`Codec`].
pub struct PluginCodec {
    codec: FfiCodecBox,
    name: &'static str,
    path: PathBuf,
    capabilities: Capabilities,
    id_width: Option<IdWidth>,
    failed: AtomicBool,
}

impl std::fmt::Debug for PluginCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginCodec")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("capabilities", &self.capabilities)
            .field("failed", &self.has_failed())
            .finish()
    }
}

impl PluginCodec {
    /// Wrap an ABI codec object. `load` does this for a plugin file; tests and
    /// fuzzers use it with in-process objects (`origin` names where it came from).
    pub fn from_ffi(codec: FfiCodecBox, origin: &Path) -> Self {
        let path = origin;
        let name = intern(codec.name().as_str());
        let bits = codec.id_bits();
        let capabilities = [
            Capabilities::MULTIPLEXING,
            Capabilities::ROUTING,
            Capabilities::TRANSCODING,
        ]
        .into_iter()
        .filter(|c| codec.capabilities() & c.bits() != 0)
        .fold(Capabilities::FRAMING, Capabilities::union);
        let id_width = (1..=64).contains(&bits).then(|| IdWidth::new(bits));
        let capabilities = match id_width {
            Some(_) => capabilities,
            None => Capabilities::FRAMING,
        };
        Self {
            codec,
            name,
            path: path.to_owned(),
            capabilities,
            id_width,
            failed: AtomicBool::new(false),
        }
    }

    /// The file the plugin came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ABI version the host speaks.
    pub fn abi_version(&self) -> &'static str {
        ABI_VERSION
    }

    /// True after the plugin panicked: every call is refused since.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    fn error(&self, code: ErrorCode, close_connection: bool, message: impl Into<String>) -> Error {
        Error::Plugin {
            protocol: self.name,
            code: code.0,
            message: message.into(),
            close_connection,
        }
    }

    fn invalid(&self, what: &str) -> Error {
        self.error(
            ErrorCode::INVALID_RESULT,
            true,
            format!("invalid plugin result: {what}"),
        )
    }

    /// Run one call; marks the plugin failed when it panicked.
    fn call<T>(&self, f: impl FnOnce(&FfiCodecBox) -> RResult<T, FfiError>) -> Result<T, Error> {
        if self.has_failed() {
            return Err(self.error(
                ErrorCode::PANICKED,
                true,
                "the plugin failed earlier (panicked) and is disabled",
            ));
        }
        match f(&self.codec) {
            RResult::ROk(v) => Ok(v),
            RResult::RErr(e) => {
                if e.code == ErrorCode::PANICKED {
                    self.failed.store(true, Ordering::Relaxed);
                }
                Err(self.error(e.code, e.close_connection, e.message.into_string()))
            }
        }
    }

    fn text(&self, t: &FfiText, frame: &[u8], arena: &[u8]) -> Result<Option<Text>, Error> {
        let (start, len) = (t.start as usize, t.len as usize);
        match t.kind {
            0 => Ok(None),
            1 if start.checked_add(len).is_some_and(|end| end <= frame.len()) => {
                Ok(Some(Text::span(start, len)))
            }
            2 => arena
                .get(start..start.saturating_add(len))
                .map(|b| Some(Text::Owned(b.into())))
                .ok_or_else(|| self.invalid("text outside the arena")),
            _ => Err(self.invalid("text range outside the frame")),
        }
    }

    fn vec_bytes(v: RVec<u8>) -> Bytes {
        Bytes::from(v.into_vec())
    }
}

fn kind_of(code: u8) -> Option<FrameKind> {
    Some(match code {
        0 => FrameKind::Request,
        1 => FrameKind::OnewayRequest,
        2 => FrameKind::Response,
        3 => FrameKind::HeartbeatRequest,
        4 => FrameKind::HeartbeatResponse,
        5 => FrameKind::GoAway,
        _ => return None,
    })
}

impl Framing for PluginCodec {
    fn probe(&self, prefix: &[u8]) -> Probe {
        if self.has_failed() {
            return Probe::NoMatch;
        }
        match self.codec.probe(RSlice::from_slice(prefix)) {
            0 => Probe::Match,
            2 => Probe::NeedMore,
            _ => Probe::NoMatch,
        }
    }

    fn split_frame(&self, buf: &[u8]) -> Result<Split, Error> {
        let s = self.call(|c| c.split(RSlice::from_slice(buf)))?;
        let len = usize::try_from(s.len).map_err(|_| self.invalid("split length"))?;
        match s.kind {
            0 if len > 0 && len <= buf.len() => Ok(Split::Complete(len)),
            1 if len > 0 => Ok(Split::Incomplete(Needed::Exact(len))),
            2 if len > 0 => Ok(Split::Incomplete(Needed::AtLeast(len))),
            _ => Err(self.invalid("split outcome")),
        }
    }
}

impl Multiplexing for PluginCodec {
    fn id_width(&self) -> IdWidth {
        self.id_width.unwrap_or(IdWidth::U64)
    }

    fn frame_head(&self, frame: &[u8]) -> Result<FrameHead, Error> {
        let h = self.call(|c| c.frame_head(RSlice::from_slice(frame)))?;
        let width = self.id_width();
        if !width.fits(h.request_id) {
            return Err(self.invalid("request id wider than the codec's id field"));
        }
        Ok(FrameHead {
            kind: kind_of(h.kind).ok_or_else(|| self.invalid("frame kind"))?,
            request_id: h.request_id,
            timeout: (h.timeout_ms > 0).then(|| Duration::from_millis(h.timeout_ms)),
            status: h.has_status.then_some(h.status),
        })
    }

    fn request_id(&self, frame: &[u8]) -> Result<u64, Error> {
        self.call(|c| c.request_id(RSlice::from_slice(frame)))
    }

    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), Error> {
        match self.call(|c| c.set_request_id(RSliceMut::from_mut_slice(frame), id)) {
            Err(Error::Plugin { code, .. }) if code == ErrorCode::ID_OUT_OF_RANGE.0 => {
                Err(Error::IdOutOfRange {
                    protocol: self.name,
                    id,
                    bits: self.id_width().bits(),
                })
            }
            other => other,
        }
    }

    fn heartbeat_reply(&self, request: &[u8], dst: &mut BytesMut) -> Result<(), Error> {
        dst.extend_from_slice(&self.call(|c| c.heartbeat_reply(RSlice::from_slice(request)))?);
        Ok(())
    }

    fn heartbeat_request(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        dst.extend_from_slice(&self.call(|c| c.heartbeat_request(id))?);
        Ok(())
    }

    fn goaway(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error> {
        dst.extend_from_slice(&self.call(|c| c.goaway(id))?);
        Ok(())
    }
}

impl Routing for PluginCodec {
    fn fill_route_view(&self, frame: &[u8], route: &mut RouteView) -> Result<(), Error> {
        let r = self.call(|c| c.route_headers(RSlice::from_slice(frame)))?;
        route.service = self.text(&r.service, frame, &r.arena)?;
        route.interface = self.text(&r.interface, frame, &r.arena)?;
        route.version = self.text(&r.version, frame, &r.arena)?;
        route.group = self.text(&r.group, frame, &r.arena)?;
        route.method = self.text(&r.method, frame, &r.arena)?;
        for pair in r.headers.iter() {
            let key = self
                .text(&pair.0, frame, &r.arena)?
                .ok_or_else(|| self.invalid("absent header key"))?;
            let value = self
                .text(&pair.1, frame, &r.arena)?
                .ok_or_else(|| self.invalid("absent header value"))?;
            route.push_header(key, value);
        }
        Ok(())
    }

    fn mutate_headers(&self, frame: &Bytes, edits: &[HeaderEdit<'_>]) -> Result<FrameParts, Error> {
        let edits: Vec<FfiEdit<'_>> = edits
            .iter()
            .map(|e| match *e {
                HeaderEdit::Set(k, v) => FfiEdit {
                    set: true,
                    key: RStr::from_str(k),
                    value: RStr::from_str(v),
                },
                HeaderEdit::Remove(k) => FfiEdit {
                    set: false,
                    key: RStr::from_str(k),
                    value: RStr::from_str(""),
                },
            })
            .collect();
        let out =
            self.call(|c| c.mutate_headers(RSlice::from_slice(frame), RSlice::from_slice(&edits)))?;
        Ok(FrameParts::from(Self::vec_bytes(out)))
    }

    fn local_reply(
        &self,
        request: &[u8],
        status: LocalStatus,
        message: &str,
        dst: &mut BytesMut,
    ) -> Result<(), Error> {
        let code = LocalStatus::ALL
            .iter()
            .position(|s| *s == status)
            .unwrap_or(0) as u8;
        dst.extend_from_slice(
            &self.call(|c| {
                c.local_reply(RSlice::from_slice(request), code, RStr::from_str(message))
            })?,
        );
        Ok(())
    }
}

impl Transcoding for PluginCodec {
    fn to_http2(&self, frame: &Bytes) -> Result<Http2Message, Error> {
        let m = self.call(|c| c.to_http2(RSlice::from_slice(frame)))?;
        let mut message = core_http2(&m, frame)
            .map_err(|e| self.error(e.code, false, e.message.into_string()))?;
        if m.body_range.kind == 1 {
            // Share the frame's bytes instead of the copy `core_http2` made.
            let (start, len) = (m.body_range.start as usize, m.body_range.len as usize);
            let body = frame.slice(start..start + len);
            match &mut message {
                Http2Message::Request(r) => *r.body_mut() = body,
                Http2Message::Response(r) => *r.body_mut() = body,
            }
        }
        Ok(message)
    }

    fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error> {
        let m = ffi_http2(message, None);
        let out = self.call(|c| c.from_http2(&m))?;
        Ok(FrameParts::from(Self::vec_bytes(out)))
    }
}

fn fact(value: &serde_json::Value) -> FactValue {
    use serde_json::Value;
    match value {
        Value::Null => FactValue::Null,
        Value::Bool(b) => FactValue::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(FactValue::Int)
            .or_else(|| n.as_u64().map(FactValue::UInt))
            .unwrap_or_else(|| FactValue::Str(n.to_string())),
        Value::String(s) => FactValue::Str(s.clone()),
        Value::Array(items) => FactValue::List(items.iter().map(fact).collect()),
        Value::Object(map) => {
            FactValue::Map(map.iter().map(|(k, v)| (k.clone(), fact(v))).collect())
        }
    }
}

impl Codec for PluginCodec {
    fn name(&self) -> &str {
        self.name
    }
    fn framing(&self) -> &dyn Framing {
        self
    }
    fn multiplexing(&self) -> Option<&dyn Multiplexing> {
        self.capabilities
            .contains(Capabilities::MULTIPLEXING)
            .then_some(self as &dyn Multiplexing)
    }
    fn routing(&self) -> Option<&dyn Routing> {
        self.capabilities
            .contains(Capabilities::ROUTING)
            .then_some(self as &dyn Routing)
    }
    fn transcoding(&self) -> Option<&dyn Transcoding> {
        self.capabilities
            .contains(Capabilities::TRANSCODING)
            .then_some(self as &dyn Transcoding)
    }
    fn facts(&self, frame: &Bytes) -> Result<Facts, Error> {
        let json = self.call(|c| c.facts_json(RSlice::from_slice(frame)))?;
        let value: serde_json::Value =
            serde_json::from_str(json.as_str()).map_err(|_| self.invalid("facts are not JSON"))?;
        let serde_json::Value::Object(map) = value else {
            return Err(self.invalid("facts are not an object"));
        };
        let mut facts = Facts::default();
        for (k, v) in &map {
            facts.push(k.clone(), fact(v));
        }
        Ok(facts)
    }
}
