//! # xprotocol-plugin-abi
//!
//! The stable ABI between a host built on xprotocol and a codec plugin loaded
//! at run time. It is the only crate of the project that depends on
//! `abi_stable`. Its Cargo version is the ABI version, checked at load time.
//!
//! The boundary is coarse: one call per frame per layer. Results that point
//! into the frame are `(offset, length)` ranges ([`FfiText`]), never one string
//! per header; bytes a plugin builds come back as one `RVec<u8>`, freed on the
//! plugin's side by `RVec`'s own vtable.
//!
//! ## Versioning and rollout
//!
//! * Compatible changes only append: a new trait method after the last one, a
//!   new root-module field after [`PluginModule::new_codec`], a new
//!   [`ErrorCode`] value. Each bumps the minor version.
//! * A host built against ABI 1.N loads plugins built against 1.M for M ≥ N
//!   (a newer plugin has everything the host calls). A plugin built against an
//!   *older* minor is refused at load time, with a short error: roll plugins
//!   out first, then the host. A major bump refuses everything older.
//! * Refusals come from `abi_stable`'s version and layout checks before any
//!   plugin code runs, so an incompatible file is never called.
#![allow(missing_docs)]
// abi_stable's derives generate undocumented items.
// `from_http2` names the operation (`xproto from-http2`), not a constructor.
#![allow(clippy::wrong_self_convention)]

use abi_stable::library::RootModule;
use abi_stable::package_version_strings;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, RResult, RSlice, RSliceMut, RStr, RString, RVec, Tuple2};
use abi_stable::{StableAbi, declare_root_module_statics, sabi_trait};

/// Why a plugin call failed: a transparent integer, so new codes can be added
/// without breaking the layout (abi_stable forbids growing exhaustive enums).
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// `Error::BadMagic`.
    pub const BAD_MAGIC: Self = Self(1);
    /// `Error::FrameTooLarge`.
    pub const FRAME_TOO_LARGE: Self = Self(2);
    /// `Error::BadFrameHeader`.
    pub const BAD_FRAME_HEADER: Self = Self(3);
    /// `Error::ChecksumMismatch`.
    pub const CHECKSUM_MISMATCH: Self = Self(4);
    /// `Error::Malformed`.
    pub const MALFORMED: Self = Self(5);
    /// `Error::LimitExceeded`.
    pub const LIMIT_EXCEEDED: Self = Self(6);
    /// `Error::IdOutOfRange`.
    pub const ID_OUT_OF_RANGE: Self = Self(7);
    /// `Error::WrongFrameKind`.
    pub const WRONG_FRAME_KIND: Self = Self(8);
    /// `Error::Unsupported`.
    pub const UNSUPPORTED: Self = Self(9);
    /// `Error::Http2`.
    pub const HTTP2: Self = Self(10);
    /// The plugin panicked; the call was stopped at the boundary.
    pub const PANICKED: Self = Self(11);
    /// The plugin returned a result the host could not accept (a range outside the frame, …).
    pub const INVALID_RESULT: Self = Self(12);
    /// Any other error.
    pub const OTHER: Self = Self(100);
}

/// An error crossing the boundary.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct FfiError {
    /// What kind of error.
    pub code: ErrorCode,
    /// True when the proxy must close the connection (framing lost).
    pub close_connection: bool,
    /// The error's message (its `Display`).
    pub message: RString,
}

/// A result crossing the boundary.
pub type FfiResult<T> = RResult<T, FfiError>;

/// The outcome of a split: `kind` 0 complete (`len`), 1 incomplete with
/// exactly `len` more bytes, 2 incomplete with at least `len` more bytes.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FfiSplit {
    /// 0 complete, 1 exact need, 2 lower-bound need.
    pub kind: u8,
    /// The frame length, or the bytes needed.
    pub len: u64,
}

/// The multiplexing facts of a frame.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FfiHead {
    /// `FrameKind` as 0 request, 1 one-way, 2 response, 3 heartbeat request,
    /// 4 heartbeat response, 5 goaway.
    pub kind: u8,
    /// Request id.
    pub request_id: u64,
    /// Timeout in ms, 0 when none.
    pub timeout_ms: u64,
    /// True when `status` is meaningful.
    pub has_status: bool,
    /// Native status.
    pub status: u32,
}

/// A piece of text: `kind` 0 absent, 1 a range of the frame, 2 a range of the
/// result's arena (text the plugin had to decode).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FfiText {
    /// 0 absent, 1 frame range, 2 arena range.
    pub kind: u8,
    /// Offset.
    pub start: u32,
    /// Length.
    pub len: u32,
}

/// A routing view: ranges, plus one arena for decoded text.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct FfiRoute {
    pub service: FfiText,
    pub interface: FfiText,
    pub version: FfiText,
    pub group: FfiText,
    pub method: FfiText,
    /// Protocol headers, in order.
    pub headers: RVec<Tuple2<FfiText, FfiText>>,
    /// Bytes of the texts of kind 2.
    pub arena: RVec<u8>,
}

/// One header edit: `set` true sets `key` to `value`, false removes `key`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct FfiEdit<'a> {
    pub set: bool,
    pub key: RStr<'a>,
    pub value: RStr<'a>,
}

/// An HTTP/2 message: pseudo-headers and headers as name/value pairs in
/// order, and a body that is a range of the frame (`to_http2`) or owned bytes.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct FfiHttp2 {
    /// True for a request.
    pub request: bool,
    /// `:status` of a response.
    pub status: u16,
    /// `:authority` and `:path` of a request.
    pub authority: RString,
    pub path: RString,
    /// Headers, in order.
    pub headers: RVec<Tuple2<RString, RString>>,
    /// The body when owned (used when `body_range.kind` is 0).
    pub body: RVec<u8>,
    /// The body as a range of the frame (kind 1), to avoid a copy.
    pub body_range: FfiText,
}

/// One codec inside a plugin. Every method is one call per frame.
#[sabi_trait]
pub trait FfiCodec: Send + Sync {
    fn name(&self) -> RString;
    /// `Capabilities::bits()`.
    fn capabilities(&self) -> u8;
    /// Width of the request-id field in bits.
    fn id_bits(&self) -> u8;
    /// 0 match, 1 no match, 2 need more.
    fn probe(&self, prefix: RSlice<'_, u8>) -> u8;
    fn split(&self, buf: RSlice<'_, u8>) -> FfiResult<FfiSplit>;
    fn frame_head(&self, frame: RSlice<'_, u8>) -> FfiResult<FfiHead>;
    fn request_id(&self, frame: RSlice<'_, u8>) -> FfiResult<u64>;
    fn set_request_id(&self, frame: RSliceMut<'_, u8>, id: u64) -> FfiResult<()>;
    fn heartbeat_reply(&self, request: RSlice<'_, u8>) -> FfiResult<RVec<u8>>;
    fn heartbeat_request(&self, id: u64) -> FfiResult<RVec<u8>>;
    fn goaway(&self, id: u64) -> FfiResult<RVec<u8>>;
    fn route_headers(&self, frame: RSlice<'_, u8>) -> FfiResult<FfiRoute>;
    /// The new frame, whole.
    fn mutate_headers(
        &self,
        frame: RSlice<'_, u8>,
        edits: RSlice<'_, FfiEdit<'_>>,
    ) -> FfiResult<RVec<u8>>;
    /// `status` is `LocalStatus` in `LocalStatus::ALL` order.
    fn local_reply(
        &self,
        request: RSlice<'_, u8>,
        status: u8,
        message: RStr<'_>,
    ) -> FfiResult<RVec<u8>>;
    fn to_http2(&self, frame: RSlice<'_, u8>) -> FfiResult<FfiHttp2>;
    fn from_http2(&self, message: &FfiHttp2) -> FfiResult<RVec<u8>>;
    /// The frame's facts as one JSON object.
    #[sabi(last_prefix_field)]
    fn facts_json(&self, frame: RSlice<'_, u8>) -> FfiResult<RString>;
}

/// A codec object owned by the host.
pub type FfiCodecBox = FfiCodec_TO<'static, RBox<()>>;

/// The root module every plugin exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// Build the plugin's codec.
    #[sabi(last_prefix_field)]
    pub new_codec: extern "C" fn() -> FfiResult<FfiCodecBox>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "xprotocol_plugin";
    const NAME: &'static str = "xprotocol codec plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The ABI version this crate defines (its Cargo version).
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");
