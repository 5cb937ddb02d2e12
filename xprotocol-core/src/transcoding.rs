//! Layer 4, transcoding: a frame as an HTTP/2 message and back, losslessly.
//!
//! The conventions shared by every codec are here (the full table is in
//! `docs/http2-mapping.md`):
//!
//! * `:method` is `POST`, `:scheme` is `http`, `:authority` is the interface
//!   (the interface-as-domain addressing of SOFA Mesh), `:path` is
//!   `/{interface}/{method}`;
//! * `xp-protocol`, `xp-kind`, `xp-request-id` and, on responses, `xp-status`
//!   (the native status: it must survive between sidecars) are always present;
//! * the routing fields are informational `xp-service`, `xp-interface`,
//!   `xp-version`, `xp-group`, `xp-method` headers;
//! * the protocol's own headers become ordinary headers, their names and
//!   values escaped with [`HeaderEscape`] so any byte survives;
//! * codec-private fixed fields are `xp-{protocol}-{field}` headers;
//! * the body is the frame's payload, shared with the frame, not copied.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{Error, FrameKind, FrameParts};

/// A frame as an HTTP/2 message: requests (including heartbeat requests) become
/// `http::Request`, responses `http::Response`.
#[derive(Debug, Clone)]
pub enum Http2Message {
    /// A request.
    Request(http::Request<Bytes>),
    /// A response.
    Response(http::Response<Bytes>),
}

impl Http2Message {
    /// The header map.
    pub fn headers(&self) -> &HeaderMap {
        match self {
            Self::Request(r) => r.headers(),
            Self::Response(r) => r.headers(),
        }
    }

    /// The header map, mutably.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        match self {
            Self::Request(r) => r.headers_mut(),
            Self::Response(r) => r.headers_mut(),
        }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        match self {
            Self::Request(r) => r.body(),
            Self::Response(r) => r.body(),
        }
    }
}

/// Frame ↔ HTTP/2 message. `from_http2(to_http2(f)) == f`, byte for byte.
pub trait Transcoding: Send + Sync {
    /// The frame as an HTTP/2 message.
    fn to_http2(&self, frame: &Bytes) -> Result<Http2Message, Error>;
    /// The native frame an HTTP/2 message describes.
    // Named after the operation (`xproto from-http2`), not a constructor.
    #[allow(clippy::wrong_self_convention)]
    fn from_http2(&self, message: &Http2Message) -> Result<FrameParts, Error>;
}

/// Names of the headers every codec writes.
pub mod names {
    /// Protocol name (`bolt`, `dubbo`, …).
    pub const PROTOCOL: &str = "xp-protocol";
    /// Frame kind, as [`FrameKind::as_str`](crate::FrameKind::as_str).
    pub const KIND: &str = "xp-kind";
    /// Request id, decimal.
    pub const REQUEST_ID: &str = "xp-request-id";
    /// Native response status, decimal.
    pub const STATUS: &str = "xp-status";
    /// Routing field: service (informational).
    pub const SERVICE: &str = "xp-service";
    /// Routing field: interface (informational).
    pub const INTERFACE: &str = "xp-interface";
    /// Routing field: version (informational).
    pub const VERSION: &str = "xp-version";
    /// Routing field: group (informational).
    pub const GROUP: &str = "xp-group";
    /// Routing field: method (informational).
    pub const METHOD: &str = "xp-method";
    /// Prefix of every header this library reserves.
    pub const RESERVED_PREFIX: &str = "xp-";
}

/// The escaping scheme that carries arbitrary protocol header keys and values in
/// HTTP/2 header names and values, losslessly.
///
/// * **Names**: bytes in `[a-z0-9-._]` pass through; every other byte (capitals,
///   `%`, non-ASCII, controls, …) becomes `%hh` with lower-case hex. A key that
///   would collide with a reserved name (`xp-…`, connection-specific headers,
///   `content-length`, `content-type`) or is empty gets its first byte escaped too
///   (an empty key is written `%`).
/// * **Values**: visible ASCII except `%` passes through; every other byte (space,
///   controls, non-ASCII, `%`) becomes `%hh`.
///
/// ```
/// use xprotocol_core::HeaderEscape;
/// let name = HeaderEscape::name(b"rpc_trace_context.sofaTraceId");
/// assert_eq!(name.as_str(), "rpc_trace_context.sofa%54race%49d");
/// assert_eq!(HeaderEscape::decode_name(name.as_str()).unwrap(), b"rpc_trace_context.sofaTraceId");
/// let value = HeaderEscape::value("张三 ok".as_bytes());
/// assert_eq!(value.to_str().unwrap(), "%e5%bc%a0%e4%b8%89%20ok");
/// assert_eq!(HeaderEscape::decode_value(value.as_bytes()).unwrap(), "张三 ok".as_bytes());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HeaderEscape;

const HEX: &[u8; 16] = b"0123456789abcdef";
const RESERVED_NAMES: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "host",
    "content-length",
    "content-type",
    "trailer",
];

impl HeaderEscape {
    fn push_escaped(out: &mut Vec<u8>, b: u8) {
        out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
    }

    fn name_byte_passes(b: u8) -> bool {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
    }

    /// True when `key` needs its first byte escaped to stay clear of reserved names.
    fn collides(key: &[u8]) -> bool {
        key.starts_with(names::RESERVED_PREFIX.as_bytes())
            || RESERVED_NAMES.iter().any(|r| r.as_bytes() == key)
    }

    /// The escaped HTTP/2 header name for a protocol header key.
    pub fn name(key: &[u8]) -> HeaderName {
        let mut out = Vec::with_capacity(key.len() + 8);
        if key.is_empty() {
            out.push(b'%');
        }
        let force_first = Self::collides(key);
        for (i, &b) in key.iter().enumerate() {
            if Self::name_byte_passes(b) && !(i == 0 && force_first) {
                out.push(b);
            } else {
                Self::push_escaped(&mut out, b);
            }
        }
        // Only lower-case tchars and '%' are produced, so this never fails.
        HeaderName::from_bytes(&out).unwrap_or_else(|_| HeaderName::from_static("%"))
    }

    /// The protocol header key an escaped name stands for.
    pub fn decode_name(name: &str) -> Option<Vec<u8>> {
        if name == "%" {
            return Some(Vec::new());
        }
        Self::unescape(name.as_bytes())
    }

    /// The escaped HTTP/2 header value for a protocol header value.
    pub fn value(value: &[u8]) -> HeaderValue {
        let mut out = Vec::with_capacity(value.len());
        for &b in value {
            if (0x21..=0x7e).contains(&b) && b != b'%' {
                out.push(b);
            } else {
                Self::push_escaped(&mut out, b);
            }
        }
        // Only visible ASCII is produced, so this never fails.
        HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The protocol header value an escaped value stands for.
    pub fn decode_value(value: &[u8]) -> Option<Vec<u8>> {
        Self::unescape(value)
    }

    fn unescape(s: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'%' {
                let hex = s.get(i + 1..i + 3)?;
                let hi = (hex[0] as char).to_digit(16)?;
                let lo = (hex[1] as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        Some(out)
    }

    /// True for header names that carry a protocol header (not a pseudo-header,
    /// not reserved `xp-…`, not `content-type`).
    pub fn is_protocol_header(name: &HeaderName) -> bool {
        let n = name.as_str();
        !n.starts_with(names::RESERVED_PREFIX) && !n.starts_with(':') && n != "content-type"
    }

    /// Percent-escape text for `:authority` and `:path` segments (informational).
    pub fn path_segment(text: &[u8]) -> String {
        let mut out = Vec::with_capacity(text.len());
        for &b in text {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b);
            } else {
                out.extend_from_slice(&[
                    b'%',
                    HEX[usize::from(b >> 4)].to_ascii_uppercase(),
                    HEX[usize::from(b & 15)].to_ascii_uppercase(),
                ]);
            }
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Reading the headers of an HTTP/2 message back into native fields, with
/// errors that name the header and the protocol.
#[derive(Debug, Clone, Copy)]
pub struct Http2Fields<'a> {
    protocol: &'static str,
    headers: &'a HeaderMap,
}

impl<'a> Http2Fields<'a> {
    /// Read `message` for `protocol`; fails unless `xp-protocol` names it.
    pub fn new(protocol: &'static str, message: &'a Http2Message) -> Result<Self, Error> {
        let fields = Self {
            protocol,
            headers: message.headers(),
        };
        if fields.required_str(names::PROTOCOL)? != protocol {
            return Err(fields.error(names::PROTOCOL, "names another protocol"));
        }
        Ok(fields)
    }

    /// The header map.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// An error about `header`.
    pub fn error(&self, header: &'static str, reason: &'static str) -> Error {
        Error::Http2 {
            protocol: self.protocol,
            header,
            reason,
        }
    }

    /// A header as `&str`, when present.
    pub fn str(&self, header: &'static str) -> Result<Option<&'a str>, Error> {
        self.headers
            .get(header)
            .map(|v| {
                v.to_str()
                    .map_err(|_| self.error(header, "not visible ASCII"))
            })
            .transpose()
    }

    /// A header that must be present, as `&str`.
    pub fn required_str(&self, header: &'static str) -> Result<&'a str, Error> {
        self.str(header)?
            .ok_or_else(|| self.error(header, "missing"))
    }

    /// A required decimal integer header, range-checked into `T`.
    pub fn required_int<T: TryFrom<i128>>(&self, header: &'static str) -> Result<T, Error> {
        let n: i128 = self
            .required_str(header)?
            .parse()
            .map_err(|_| self.error(header, "not a decimal integer"))?;
        T::try_from(n).map_err(|_| self.error(header, "out of range"))
    }

    /// An optional decimal integer header, range-checked into `T`.
    pub fn int<T: TryFrom<i128>>(&self, header: &'static str) -> Result<Option<T>, Error> {
        match self.headers.contains_key(header) {
            true => self.required_int(header).map(Some),
            false => Ok(None),
        }
    }

    /// A required header whose value is escaped with [`HeaderEscape::value`].
    pub fn required_escaped(&self, header: &'static str) -> Result<Vec<u8>, Error> {
        let raw = self
            .headers
            .get(header)
            .ok_or_else(|| self.error(header, "missing"))?;
        HeaderEscape::decode_value(raw.as_bytes()).ok_or_else(|| self.error(header, "bad %-escape"))
    }

    /// The frame kind from `xp-kind`.
    pub fn kind(&self) -> Result<FrameKind, Error> {
        FrameKind::from_name(self.required_str(names::KIND)?)
            .ok_or_else(|| self.error(names::KIND, "unknown frame kind"))
    }

    /// The protocol headers (escaped names and values), decoded, in order.
    pub fn protocol_headers(&self) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), Error>> + 'a {
        let protocol = self.protocol;
        self.headers
            .iter()
            .filter(|(name, _)| HeaderEscape::is_protocol_header(name))
            .map(move |(name, value)| {
                let bad = |reason| Error::Http2 {
                    protocol,
                    header: "protocol header",
                    reason,
                };
                let key = HeaderEscape::decode_name(name.as_str())
                    .ok_or_else(|| bad("bad %-escape in name"))?;
                let value = HeaderEscape::decode_value(value.as_bytes())
                    .ok_or_else(|| bad("bad %-escape in value"))?;
                Ok((key, value))
            })
    }
}

/// Building the HTTP/2 side: the pseudo-headers and the shared `xp-` headers.
#[derive(Debug)]
pub struct Http2Builder {
    protocol: &'static str,
    kind: FrameKind,
    request_id: u64,
    status: Option<(u32, u16)>,
    authority: String,
    path: String,
    headers: HeaderMap,
}

impl Http2Builder {
    /// Start a message for a frame of `protocol`.
    pub fn new(protocol: &'static str, kind: FrameKind, request_id: u64) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(names::PROTOCOL, HeaderValue::from_static(protocol));
        headers.insert(names::KIND, HeaderValue::from_static(kind.as_str()));
        headers.insert(names::REQUEST_ID, HeaderValue::from(request_id));
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(&format!("application/x-xprotocol-{protocol}"))
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        Self {
            protocol,
            kind,
            request_id,
            status: None,
            authority: protocol.to_owned(),
            path: "/".to_owned(),
            headers,
        }
    }

    /// The request id.
    pub fn request_id(&self) -> u64 {
        self.request_id
    }

    /// Set the native status and the HTTP `:status` it maps to (responses).
    pub fn status(&mut self, native: u32, http_status: u16) -> &mut Self {
        self.headers
            .insert(names::STATUS, HeaderValue::from(native));
        self.status = Some((native, http_status));
        self
    }

    /// Set `:authority`, `:path` and the informational routing headers from a route view.
    pub fn route(&mut self, route: &crate::RouteHeaders) -> &mut Self {
        let fields = [
            (names::SERVICE, &route.service),
            (names::INTERFACE, &route.interface),
            (names::VERSION, &route.version),
            (names::GROUP, &route.group),
            (names::METHOD, &route.method),
        ];
        for (name, text) in fields {
            if let Some(text) = text {
                self.headers
                    .insert(name, HeaderEscape::value(route.bytes(text)));
            }
        }
        if let Some(interface) = &route.interface {
            let interface = route.bytes(interface);
            if !interface.is_empty() {
                self.authority = HeaderEscape::path_segment(interface);
                let method = route
                    .method
                    .as_ref()
                    .map(|m| route.bytes(m))
                    .unwrap_or_default();
                self.path = format!("/{}/{}", self.authority, HeaderEscape::path_segment(method));
            }
        }
        self
    }

    /// Add a codec-private numeric field (`xp-{protocol}-{field}`), in decimal.
    pub fn field(&mut self, name: &'static str, value: impl Into<i64>) -> &mut Self {
        self.headers.append(name, HeaderValue::from(value.into()));
        self
    }

    /// Add a codec-private field whose value is escaped with [`HeaderEscape::value`].
    pub fn escaped_field(&mut self, name: &'static str, value: &[u8]) -> &mut Self {
        self.headers.append(name, HeaderEscape::value(value));
        self
    }

    /// Add one protocol header, name and value escaped.
    pub fn protocol_header(&mut self, key: &[u8], value: &[u8]) -> &mut Self {
        self.headers
            .append(HeaderEscape::name(key), HeaderEscape::value(value));
        self
    }

    /// Finish with `body`: a request for request kinds, else a response.
    pub fn build(self, body: Bytes) -> Result<Http2Message, Error> {
        let bad = |header| Error::Http2 {
            protocol: self.protocol,
            header,
            reason: "cannot build",
        };
        let mut message = if self.kind.is_request() {
            let uri = http::Uri::builder()
                .scheme("http")
                .authority(self.authority.as_str())
                .path_and_query(self.path.as_str())
                .build()
                .map_err(|_| bad(":authority"))?;
            let request = http::Request::builder()
                .method(http::Method::POST)
                .uri(uri)
                .body(body)
                .map_err(|_| bad(":path"))?;
            Http2Message::Request(request)
        } else {
            let code = self.status.map_or(200, |(_, http)| http);
            let status = http::StatusCode::from_u16(code).map_err(|_| bad(":status"))?;
            Http2Message::Response(
                http::Response::builder()
                    .status(status)
                    .body(body)
                    .map_err(|_| bad(":status"))?,
            )
        };
        *message.headers_mut() = self.headers;
        Ok(message)
    }
}
