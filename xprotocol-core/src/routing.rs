//! Layer 3, routing: a lazy, zero-copy view of a request's routing fields and
//! protocol headers; header edits written back to the wire; native error replies.

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

use crate::{Error, FrameParts};

/// A piece of text found in a frame: a range of the frame's bytes (the usual,
/// zero-copy case) or, when the wire form had to be decoded, owned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// `frame[start..start + len]`.
    Span {
        /// Offset in the frame.
        start: u32,
        /// Length in bytes.
        len: u32,
    },
    /// Decoded bytes that do not appear verbatim in the frame.
    Owned(Box<[u8]>),
}

impl Text {
    /// The range `start..start + len` of the frame.
    pub fn span(start: usize, len: usize) -> Self {
        // Frames are capped far below 4 GiB by `Limits::max_frame_len` checks in
        // every splitter; saturate rather than wrap if a caller passes more.
        Self::Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0),
        }
    }

    /// The bytes of this text, given the frame it came from.
    /// A span outside `frame` yields an empty slice, never a panic.
    pub fn bytes<'a>(&'a self, frame: &'a [u8]) -> &'a [u8] {
        match self {
            Self::Span { start, len } => {
                let (start, len) = (*start as usize, *len as usize);
                frame.get(start..start.saturating_add(len)).unwrap_or(&[])
            }
            Self::Owned(b) => b,
        }
    }
}

/// The routing fields of one frame as [`Text`]s of that frame, without the
/// frame itself: what a codec computes from a plain byte slice
/// ([`Routing::route_view`]). [`RouteView::with_frame`] makes it a
/// [`RouteHeaders`], which reads the texts.
#[derive(Debug, Clone, Default)]
pub struct RouteView {
    /// The service as the protocol names it (Bolt `service`, Dubbo path).
    pub service: Option<Text>,
    /// The interface (for addressing: the seed's interface-as-domain).
    pub interface: Option<Text>,
    /// The service version.
    pub version: Option<Text>,
    /// The service group.
    pub group: Option<Text>,
    /// The method.
    pub method: Option<Text>,
    headers: SmallVec<[(Text, Text); INLINE_HEADERS]>,
}

/// Protocol headers a view holds without allocating.
pub const INLINE_HEADERS: usize = 8;

impl RouteView {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a protocol header (codecs call this in wire order). The first
    /// [`INLINE_HEADERS`] headers are stored without allocating.
    pub fn push_header(&mut self, key: Text, value: Text) {
        self.headers.push((key, value));
    }

    /// Empty the view, keeping its storage for the next frame.
    pub fn clear(&mut self) {
        *self = Self {
            headers: std::mem::take(&mut self.headers),
            ..Self::default()
        };
        self.headers.clear();
    }

    /// Number of protocol headers.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// The protocol headers as [`Text`] pairs, in wire order.
    pub fn header_texts(&self) -> &[(Text, Text)] {
        &self.headers
    }

    /// The view of `frame` (the frame the texts point into: one reference-count increment).
    pub fn with_frame(self, frame: Bytes) -> RouteHeaders {
        RouteHeaders { frame, view: self }
    }
}

/// The routing view of one request frame: the fields every RPC protocol has,
/// plus the protocol's own key/value headers in wire order, readable as text.
///
/// Values are ranges into the frame (it holds a `Bytes` handle to it, one
/// reference-count increment), so building the view copies no text. The
/// [`RouteView`] fields are reachable directly (`Deref`).
#[derive(Debug, Clone)]
pub struct RouteHeaders {
    frame: Bytes,
    view: RouteView,
}

impl std::ops::Deref for RouteHeaders {
    type Target = RouteView;
    fn deref(&self) -> &RouteView {
        &self.view
    }
}

impl RouteHeaders {
    /// An empty view of `frame`.
    pub fn new(frame: Bytes) -> Self {
        RouteView::new().with_frame(frame)
    }

    /// The frame the view was built from.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }

    /// The bytes of a [`Text`] of this view.
    pub fn bytes<'a>(&'a self, text: &'a Text) -> &'a [u8] {
        text.bytes(&self.frame)
    }

    fn text<'a>(&'a self, field: &'a Option<Text>) -> Option<&'a str> {
        field
            .as_ref()
            .and_then(|t| std::str::from_utf8(self.bytes(t)).ok())
    }

    /// The service, when present and UTF-8.
    pub fn service(&self) -> Option<&str> {
        self.text(&self.service)
    }
    /// The interface, when present and UTF-8.
    pub fn interface(&self) -> Option<&str> {
        self.text(&self.interface)
    }
    /// The version, when present and UTF-8.
    pub fn version(&self) -> Option<&str> {
        self.text(&self.version)
    }
    /// The group, when present and UTF-8.
    pub fn group(&self) -> Option<&str> {
        self.text(&self.group)
    }
    /// The method, when present and UTF-8.
    pub fn method(&self) -> Option<&str> {
        self.text(&self.method)
    }

    /// The protocol headers as raw byte pairs, in wire order.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers
            .iter()
            .map(|(k, v)| (self.bytes(k), self.bytes(v)))
    }

    /// The first header named `key`, when its value is UTF-8.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers()
            .find(|(k, _)| *k == key.as_bytes())
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// One edit of a request's protocol headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderEdit<'a> {
    /// Set `key` to `value`: the first entry with that key keeps its place and
    /// takes the value, later duplicates are dropped; a new key goes last.
    Set(&'a str, &'a str),
    /// Remove every entry with this key.
    Remove(&'a str),
}

/// A protocol-neutral reason for a proxy to answer a request itself. Each codec
/// maps it to its native status (the tables are in each codec's docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LocalStatus {
    /// No route matches the request.
    NoRoute,
    /// The route's cluster has no healthy endpoint.
    NoHealthyUpstream,
    /// Connecting to the upstream failed, or the connection broke mid-request.
    UpstreamConnectFailure,
    /// The request timed out.
    Timeout,
    /// The proxy or upstream is over its concurrency limit.
    Overloaded,
    /// The request could not be decoded.
    CodecError,
    /// A policy denies the request.
    PermissionDenied,
    /// Rate limited.
    LimitExceeded,
    /// Any other proxy-side failure.
    InternalError,
}

impl LocalStatus {
    /// Every status, for tests and tables.
    pub const ALL: [Self; 9] = [
        Self::NoRoute,
        Self::NoHealthyUpstream,
        Self::UpstreamConnectFailure,
        Self::Timeout,
        Self::Overloaded,
        Self::CodecError,
        Self::PermissionDenied,
        Self::LimitExceeded,
        Self::InternalError,
    ];

    /// Stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoRoute => "no_route",
            Self::NoHealthyUpstream => "no_healthy_upstream",
            Self::UpstreamConnectFailure => "upstream_connect_failure",
            Self::Timeout => "timeout",
            Self::Overloaded => "overloaded",
            Self::CodecError => "codec_error",
            Self::PermissionDenied => "permission_denied",
            Self::LimitExceeded => "limit_exceeded",
            Self::InternalError => "internal_error",
        }
    }

    /// The HTTP status a proxy reports for it (for metrics, logs and HTTP/2 hops).
    pub fn http_status(self) -> u16 {
        match self {
            Self::NoRoute => 404,
            Self::NoHealthyUpstream | Self::UpstreamConnectFailure => 502,
            Self::Timeout => 504,
            Self::Overloaded => 503,
            Self::CodecError => 400,
            Self::PermissionDenied => 403,
            Self::LimitExceeded => 429,
            Self::InternalError => 500,
        }
    }
}

/// Routing: what a proxy reads to pick a route and writes back to the wire.
pub trait Routing: Send + Sync {
    /// Fill `view` (empty, as from [`RouteView::new`] or after
    /// [`RouteView::clear`]) with the routing fields of a whole frame, as ranges
    /// of `frame` (responses yield their headers only). Works on a plain slice.
    fn fill_route_view(&self, frame: &[u8], view: &mut RouteView) -> Result<(), Error>;

    /// The routing fields of a whole frame, as ranges of `frame`.
    fn route_view(&self, frame: &[u8]) -> Result<RouteView, Error> {
        let mut view = RouteView::new();
        self.fill_route_view(frame, &mut view)?;
        Ok(view)
    }

    /// The routing view of a whole frame, readable as text.
    fn route_headers(&self, frame: &Bytes) -> Result<RouteHeaders, Error> {
        let mut route = RouteHeaders::new(frame.clone());
        self.fill_route_view(frame, &mut route.view)?;
        Ok(route)
    }

    /// Apply `edits` to the frame's protocol headers and return the new frame.
    /// Only the header part is re-encoded; the body is shared, not copied, and
    /// every length field (and checksum) is fixed.
    fn mutate_headers(&self, frame: &Bytes, edits: &[HeaderEdit<'_>]) -> Result<FrameParts, Error>;

    /// Append a native error response to `request`, with the native status mapped
    /// from `status` and `message` where the protocol can carry one.
    fn local_reply(
        &self,
        request: &[u8],
        status: LocalStatus,
        message: &str,
        dst: &mut BytesMut,
    ) -> Result<(), Error>;
}
