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

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use smallvec::SmallVec;

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

/// The [`names`] as `HeaderName`s built at compile time: using one costs no
/// parsing, validation or allocation (the `&str` constants are parsed at each
/// use).
pub mod header_names {
    use http::HeaderName;

    use super::names;

    /// [`names::PROTOCOL`].
    pub static PROTOCOL: HeaderName = HeaderName::from_static(names::PROTOCOL);
    /// [`names::KIND`].
    pub static KIND: HeaderName = HeaderName::from_static(names::KIND);
    /// [`names::REQUEST_ID`].
    pub static REQUEST_ID: HeaderName = HeaderName::from_static(names::REQUEST_ID);
    /// [`names::STATUS`].
    pub static STATUS: HeaderName = HeaderName::from_static(names::STATUS);
    /// [`names::SERVICE`].
    pub static SERVICE: HeaderName = HeaderName::from_static(names::SERVICE);
    /// [`names::INTERFACE`].
    pub static INTERFACE: HeaderName = HeaderName::from_static(names::INTERFACE);
    /// [`names::VERSION`].
    pub static VERSION: HeaderName = HeaderName::from_static(names::VERSION);
    /// [`names::GROUP`].
    pub static GROUP: HeaderName = HeaderName::from_static(names::GROUP);
    /// [`names::METHOD`].
    pub static METHOD: HeaderName = HeaderName::from_static(names::METHOD);
}

/// The name of a header a codec writes ([`Http2Builder`]) or reads
/// ([`Http2Fields`]): a `&'static str` constant, parsed at each use, or a
/// `&'static HeaderName` built at compile time (see [`header_names`]), which
/// is cheaper.
pub trait FieldName: Copy {
    /// The name as text (errors name the header with it).
    fn text(self) -> &'static str;
    /// The name as a `HeaderName`, without allocating; `None` when the text is
    /// not a lower-case token (the header map then converts it itself).
    fn header_name(self) -> Option<HeaderName>;
    /// The first value of this header in `headers`.
    fn get(self, headers: &HeaderMap) -> Option<&HeaderValue>;
}

impl FieldName for &'static str {
    fn text(self) -> &'static str {
        self
    }

    fn header_name(self) -> Option<HeaderName> {
        let token = !self.is_empty()
            && self.len() <= usize::from(u16::MAX)
            && self
                .bytes()
                .all(|b| HeaderEscape::name_byte_passes(b) || b == b'%');
        // `from_static` borrows the text and cannot panic on such a token.
        token.then(|| HeaderName::from_static(self))
    }

    fn get(self, headers: &HeaderMap) -> Option<&HeaderValue> {
        headers.get(self)
    }
}

impl FieldName for &'static HeaderName {
    fn text(self) -> &'static str {
        self.as_str()
    }

    fn header_name(self) -> Option<HeaderName> {
        Some(self.clone())
    }

    fn get(self, headers: &HeaderMap) -> Option<&HeaderValue> {
        headers.get(self)
    }
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
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
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

/// Escaped names up to this length are built on the stack.
const INLINE_NAME: usize = 128;

impl HeaderEscape {
    fn put_escaped(out: &mut impl BufMut, b: u8, hex: &[u8; 16]) {
        out.put_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
    }

    fn name_byte_passes(b: u8) -> bool {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
    }

    fn value_byte_passes(b: u8) -> bool {
        (0x21..=0x7e).contains(&b) && b != b'%'
    }

    fn path_byte_passes(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    }

    /// Bytes of `text` that `passes` rejects: each becomes three.
    fn count_escapes(text: &[u8], passes: impl Fn(u8) -> bool) -> usize {
        text.iter().filter(|&&b| !passes(b)).count()
    }

    /// Append `text` to `out`, `%hh`-escaping the bytes `passes` rejects.
    fn put_escaping(
        out: &mut impl BufMut,
        text: &[u8],
        passes: impl Fn(u8) -> bool,
        hex: &[u8; 16],
    ) {
        let mut rest = text;
        while let Some(at) = rest.iter().position(|&b| !passes(b)) {
            out.put_slice(&rest[..at]);
            Self::put_escaped(out, rest[at], hex);
            rest = &rest[at + 1..];
        }
        out.put_slice(rest);
    }

    /// True when `key` needs its first byte escaped to stay clear of reserved names.
    fn collides(key: &[u8]) -> bool {
        key.starts_with(names::RESERVED_PREFIX.as_bytes())
            || RESERVED_NAMES.iter().any(|r| r.as_bytes() == key)
    }

    /// The escaped HTTP/2 header name for a protocol header key.
    ///
    /// One allocation (the name's own `Bytes`; none for a standard header
    /// name): a key that needs no escaping is validated and copied once, an
    /// escaped one is built on the stack first.
    pub fn name(key: &[u8]) -> HeaderName {
        let force_first = Self::collides(key);
        let name =
            if !key.is_empty() && !force_first && key.iter().all(|&b| Self::name_byte_passes(b)) {
                HeaderName::from_bytes(key)
            } else {
                let mut out = SmallVec::<[u8; INLINE_NAME]>::new();
                if key.is_empty() {
                    out.push(b'%');
                }
                for (i, &b) in key.iter().enumerate() {
                    if Self::name_byte_passes(b) && !(i == 0 && force_first) {
                        out.push(b);
                    } else {
                        out.extend_from_slice(&[
                            b'%',
                            HEX[usize::from(b >> 4)],
                            HEX[usize::from(b & 15)],
                        ]);
                    }
                }
                HeaderName::from_bytes(&out)
            };
        // Only lower-case tchars and '%' are produced, so this fails only for a
        // name longer than HTTP allows.
        name.unwrap_or_else(|_| HeaderName::from_static("%"))
    }

    /// The protocol header key an escaped name stands for.
    pub fn decode_name(name: &str) -> Option<Vec<u8>> {
        Self::decode_name_cow(name).map(Cow::into_owned)
    }

    /// The protocol header key an escaped name stands for, borrowed from
    /// `name` when it holds no escape (no copy).
    pub fn decode_name_cow(name: &str) -> Option<Cow<'_, [u8]>> {
        if name == "%" {
            return Some(Cow::Borrowed(&[]));
        }
        Self::unescape(name.as_bytes())
    }

    /// The escaped HTTP/2 header value for a protocol header value (one
    /// allocation, sized exactly).
    pub fn value(value: &[u8]) -> HeaderValue {
        let escapes = Self::count_escapes(value, Self::value_byte_passes);
        let value = if escapes == 0 {
            HeaderValue::from_bytes(value)
        } else {
            let mut out = Vec::with_capacity(value.len() + 2 * escapes);
            Self::put_escaping(&mut out, value, Self::value_byte_passes, HEX);
            HeaderValue::from_maybe_shared(Bytes::from(out))
        };
        // Only visible ASCII is produced, so this never fails.
        value.unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The protocol header value an escaped value stands for.
    pub fn decode_value(value: &[u8]) -> Option<Vec<u8>> {
        Self::decode_value_cow(value).map(Cow::into_owned)
    }

    /// The protocol header value an escaped value stands for, borrowed from
    /// `value` when it holds no escape (no copy).
    pub fn decode_value_cow(value: &[u8]) -> Option<Cow<'_, [u8]>> {
        Self::unescape(value)
    }

    /// The length a well-formed escaped name or value decodes to (for sizing
    /// buffers; a malformed one is refused when decoded).
    pub fn decoded_len(escaped: &[u8]) -> usize {
        let escapes = escaped.iter().filter(|&&b| b == b'%').count();
        escaped.len().saturating_sub(2 * escapes)
    }

    fn unescape(s: &[u8]) -> Option<Cow<'_, [u8]>> {
        fn hex_digit(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                b'A'..=b'F' => Some(b - b'A' + 10),
                _ => None,
            }
        }
        if !s.contains(&b'%') {
            return Some(Cow::Borrowed(s));
        }
        let mut out = Vec::with_capacity(Self::decoded_len(s));
        let mut rest = s;
        while let Some(at) = rest.iter().position(|&b| b == b'%') {
            out.extend_from_slice(&rest[..at]);
            let [hi, lo] = *rest.get(at + 1..at + 3)? else {
                return None;
            };
            out.push((hex_digit(hi)? << 4) | hex_digit(lo)?);
            rest = &rest[at + 3..];
        }
        out.extend_from_slice(rest);
        Some(Cow::Owned(out))
    }

    /// True for header names that carry a protocol header (not a pseudo-header,
    /// not reserved `xp-…`, not `content-type`).
    pub fn is_protocol_header(name: &HeaderName) -> bool {
        let n = name.as_str();
        !n.starts_with(names::RESERVED_PREFIX) && !n.starts_with(':') && n != "content-type"
    }

    /// Percent-escape text for `:authority` and `:path` segments (informational).
    pub fn path_segment(text: &[u8]) -> String {
        let mut out = Vec::with_capacity(Self::path_segment_len(text));
        Self::put_path_segment(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    fn path_segment_len(text: &[u8]) -> usize {
        text.len() + 2 * Self::count_escapes(text, Self::path_byte_passes)
    }

    fn put_path_segment(out: &mut impl BufMut, text: &[u8]) {
        Self::put_escaping(out, text, Self::path_byte_passes, HEX_UPPER);
    }
}

/// A decimal integer formatted on the stack: the digits `HeaderValue::from(n)`
/// (and `n.to_string()`) produce, without allocating.
///
/// ```
/// use xprotocol_core::transcoding::Decimal;
/// assert_eq!(Decimal::unsigned(u64::MAX).as_bytes(), b"18446744073709551615");
/// assert_eq!(Decimal::signed(i64::MIN).as_bytes(), b"-9223372036854775808");
/// assert_eq!(Decimal::signed(-1).as_bytes(), b"-1");
/// assert_eq!(Decimal::unsigned(0).as_bytes(), b"0");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    /// `n` in decimal.
    pub fn unsigned(mut n: u64) -> Self {
        // u64::MAX has 20 digits.
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self { digits, start }
    }

    /// `n` in decimal, with a leading `-` when negative.
    pub fn signed(n: i64) -> Self {
        // |i64::MIN| has 19 digits, which leaves room for the sign.
        let mut decimal = Self::unsigned(n.unsigned_abs());
        if n < 0 {
            decimal.start -= 1;
            decimal.digits[decimal.start] = b'-';
        }
        decimal
    }

    /// The ASCII digits.
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// A protocol header decoded from an HTTP/2 message: key and value, each
/// borrowed from the message when it held no escape.
pub type DecodedHeader<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

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
        if fields.required_str(&header_names::PROTOCOL)? != protocol {
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

    /// True when `header` is present.
    pub fn contains(&self, header: impl FieldName) -> bool {
        header.get(self.headers).is_some()
    }

    /// A header as `&str`, when present.
    pub fn str(&self, header: impl FieldName) -> Result<Option<&'a str>, Error> {
        header
            .get(self.headers)
            .map(|v| {
                v.to_str()
                    .map_err(|_| self.error(header.text(), "not visible ASCII"))
            })
            .transpose()
    }

    /// A header that must be present, as `&str`.
    pub fn required_str(&self, header: impl FieldName) -> Result<&'a str, Error> {
        self.str(header)?
            .ok_or_else(|| self.error(header.text(), "missing"))
    }

    /// A required decimal integer header, range-checked into `T`.
    pub fn required_int<T: TryFrom<i128>>(&self, header: impl FieldName) -> Result<T, Error> {
        let n: i128 = self
            .required_str(header)?
            .parse()
            .map_err(|_| self.error(header.text(), "not a decimal integer"))?;
        T::try_from(n).map_err(|_| self.error(header.text(), "out of range"))
    }

    /// An optional decimal integer header, range-checked into `T`.
    pub fn int<T: TryFrom<i128>>(&self, header: impl FieldName) -> Result<Option<T>, Error> {
        match self.contains(header) {
            true => self.required_int(header).map(Some),
            false => Ok(None),
        }
    }

    /// A required header whose value is escaped with [`HeaderEscape::value`].
    pub fn required_escaped(&self, header: impl FieldName) -> Result<Vec<u8>, Error> {
        self.required_escaped_cow(header).map(Cow::into_owned)
    }

    /// A required header whose value is escaped with [`HeaderEscape::value`],
    /// borrowed from the header when it holds no escape (no copy).
    pub fn required_escaped_cow(&self, header: impl FieldName) -> Result<Cow<'a, [u8]>, Error> {
        let raw = header
            .get(self.headers)
            .ok_or_else(|| self.error(header.text(), "missing"))?;
        HeaderEscape::decode_value_cow(raw.as_bytes())
            .ok_or_else(|| self.error(header.text(), "bad %-escape"))
    }

    /// The frame kind from `xp-kind`.
    pub fn kind(&self) -> Result<FrameKind, Error> {
        FrameKind::from_name(self.required_str(&header_names::KIND)?)
            .ok_or_else(|| self.error(names::KIND, "unknown frame kind"))
    }

    /// The protocol headers (escaped names and values), decoded, in order.
    pub fn protocol_headers(&self) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), Error>> + 'a {
        self.protocol_headers_cow()
            .map(|pair| pair.map(|(key, value)| (key.into_owned(), value.into_owned())))
    }

    /// The protocol headers, decoded, in order; a key or value that holds no
    /// escape is borrowed from the header map (no copy).
    pub fn protocol_headers_cow(
        &self,
    ) -> impl Iterator<Item = Result<DecodedHeader<'a>, Error>> + 'a {
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
                let key = HeaderEscape::decode_name_cow(name.as_str())
                    .ok_or_else(|| bad("bad %-escape in name"))?;
                let value = HeaderEscape::decode_value_cow(value.as_bytes())
                    .ok_or_else(|| bad("bad %-escape in value"))?;
                Ok((key, value))
            })
    }
}

/// Building the HTTP/2 side: the pseudo-headers and the shared `xp-` headers.
///
/// Built to allocate little (a Bolt request with two protocol headers: 6
/// allocations):
///
/// * the header map is sized once ([`Http2Builder::with_capacity`]);
/// * names given as `&'static HeaderName`s ([`header_names`]) or lower-case
///   `&'static str`s, and constant values, borrow their static text;
/// * every other value (numbers, escaped values, the content type, the path)
///   is written into one buffer per message and split off it.
///
/// What still allocates: the map (2), that buffer (2: its allocation, and the
/// reference count its first split adds; more when a message's text outgrows
/// it), and each protocol header's name (`HeaderName` has no shared form; none
/// for a standard name).
///
/// Values are copied out of the frame, not sliced from it, on purpose: HPACK
/// encoders (h2's included) keep the values they index in their dynamic table
/// for as long as the entry lives, and a slice would keep the whole buffer the
/// frame was read into (a read buffer, possibly megabytes) alive with it.
/// Copying costs 6–9 % of `to_http2` (0.1–0.2 µs in the benches); an indexed
/// value keeps only its message's small text buffer alive.
#[derive(Debug)]
pub struct Http2Builder {
    protocol: &'static str,
    kind: FrameKind,
    request_id: u64,
    status: Option<(u32, u16)>,
    /// `:authority`, once a route set it (else the protocol name).
    authority: Option<Bytes>,
    /// `:path`, once a route set it (else `/`).
    path: Option<Bytes>,
    headers: HeaderMap,
    /// Text written for this message; each value is split off it.
    text: BytesMut,
}

/// Room for the text of one message (the values of a Bolt request with two
/// protocol headers take ~220 bytes, MOSN's Dubbo D2 ~400); a message that
/// needs more gets another buffer of this size (or of its value's size).
const TEXT_CAPACITY: usize = 512;

/// Headers [`Http2Builder::new`] makes room for.
const TYPICAL_HEADERS: usize = 24;

impl Http2Builder {
    /// Headers every message may carry: `xp-protocol`, `xp-kind`,
    /// `xp-request-id`, `content-type`, `xp-status` and the five routing fields.
    pub const SHARED_HEADERS: usize = 10;

    /// Start a message for a frame of `protocol`, with room for a typical
    /// number of headers.
    pub fn new(protocol: &'static str, kind: FrameKind, request_id: u64) -> Self {
        Self::with_capacity(protocol, kind, request_id, TYPICAL_HEADERS)
    }

    /// Start a message for a frame of `protocol`, with room for `headers`
    /// headers in all (the [`SHARED_HEADERS`](Self::SHARED_HEADERS) included),
    /// so the map never regrows when the guess is right.
    pub fn with_capacity(
        protocol: &'static str,
        kind: FrameKind,
        request_id: u64,
        headers: usize,
    ) -> Self {
        let mut builder = Self {
            protocol,
            kind,
            request_id,
            status: None,
            authority: None,
            path: None,
            headers: HeaderMap::try_with_capacity(headers).unwrap_or_default(),
            text: BytesMut::with_capacity(TEXT_CAPACITY),
        };
        builder.insert(&header_names::PROTOCOL, HeaderValue::from_static(protocol));
        builder.insert(&header_names::KIND, HeaderValue::from_static(kind.as_str()));
        let id = builder.decimal(Decimal::unsigned(request_id));
        builder.insert(&header_names::REQUEST_ID, id);
        builder.text.extend_from_slice(b"application/x-xprotocol-");
        builder.text.extend_from_slice(protocol.as_bytes());
        let content_type = HeaderValue::from_maybe_shared(builder.text.split().freeze())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        builder
            .headers
            .insert(http::header::CONTENT_TYPE, content_type);
        builder
    }

    /// The request id.
    pub fn request_id(&self) -> u64 {
        self.request_id
    }

    /// Set the native status and the HTTP `:status` it maps to (responses).
    pub fn status(&mut self, native: u32, http_status: u16) -> &mut Self {
        let value = self.decimal(Decimal::unsigned(native.into()));
        self.insert(&header_names::STATUS, value);
        self.status = Some((native, http_status));
        self
    }

    /// Set `:authority`, `:path` and the informational routing headers from a route view.
    pub fn route(&mut self, route: &crate::RouteHeaders) -> &mut Self {
        let fields = [
            (&header_names::SERVICE, &route.service),
            (&header_names::INTERFACE, &route.interface),
            (&header_names::VERSION, &route.version),
            (&header_names::GROUP, &route.group),
            (&header_names::METHOD, &route.method),
        ];
        for (name, text) in fields {
            if let Some(text) = text {
                let value = self.escaped(route.bytes(text));
                self.insert(name, value);
            }
        }
        if let Some(interface) = &route.interface {
            let interface = route.bytes(interface);
            if !interface.is_empty() {
                let method = route
                    .method
                    .as_ref()
                    .map(|m| route.bytes(m))
                    .unwrap_or_default();
                // `/{interface}/{method}`, and the interface alone as the authority.
                let interface_len = HeaderEscape::path_segment_len(interface);
                self.text
                    .reserve(2 + interface_len + HeaderEscape::path_segment_len(method));
                self.text.put_u8(b'/');
                HeaderEscape::put_path_segment(&mut self.text, interface);
                self.text.put_u8(b'/');
                HeaderEscape::put_path_segment(&mut self.text, method);
                let path = self.text.split().freeze();
                // A host cannot carry `%`: an interface that needed escaping
                // (a Java inner class `Outer$Inner`, say) leaves the authority
                // to the protocol name; `:path` and `xp-interface` still carry it.
                if interface_len == interface.len() {
                    self.authority = Some(path.slice(1..1 + interface_len));
                }
                self.path = Some(path);
            }
        }
        self
    }

    /// Add a codec-private numeric field (`xp-{protocol}-{field}`), in decimal.
    pub fn field(&mut self, name: impl FieldName, value: impl Into<i64>) -> &mut Self {
        let value = self.decimal(Decimal::signed(value.into()));
        self.append(name, value);
        self
    }

    /// Add a codec-private field whose value is escaped with [`HeaderEscape::value`].
    pub fn escaped_field(&mut self, name: impl FieldName, value: &[u8]) -> &mut Self {
        let value = self.escaped(value);
        self.append(name, value);
        self
    }

    /// Add one protocol header, name and value escaped.
    pub fn protocol_header(&mut self, key: &[u8], value: &[u8]) -> &mut Self {
        let value = self.escaped(value);
        self.headers.append(HeaderEscape::name(key), value);
        self
    }

    /// `value` escaped with [`HeaderEscape::value`], written to `text` and split off.
    fn escaped(&mut self, value: &[u8]) -> HeaderValue {
        if value.is_empty() {
            return HeaderValue::from_static("");
        }
        let escapes = HeaderEscape::count_escapes(value, HeaderEscape::value_byte_passes);
        if escapes == 0 {
            self.text.extend_from_slice(value);
        } else {
            self.text.reserve(value.len() + 2 * escapes);
            HeaderEscape::put_escaping(&mut self.text, value, HeaderEscape::value_byte_passes, HEX);
        }
        // Only visible ASCII is produced, so this never fails.
        HeaderValue::from_maybe_shared(self.text.split().freeze())
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// `n` as a header value, written to `text` and split off.
    fn decimal(&mut self, n: Decimal) -> HeaderValue {
        self.text.extend_from_slice(n.as_bytes());
        // Only digits and '-', so this never fails.
        HeaderValue::from_maybe_shared(self.text.split().freeze())
            .unwrap_or_else(|_| HeaderValue::from_static("0"))
    }

    /// Set header `name` to `value`, replacing earlier values.
    fn insert(&mut self, name: impl FieldName, value: HeaderValue) {
        match name.header_name() {
            Some(header_name) => self.headers.insert(header_name, value),
            // Not a lower-case token: the map's own conversion lower-cases it
            // (allocating), as it always did.
            None => self.headers.insert(name.text(), value),
        };
    }

    /// Add `value` to header `name`.
    fn append(&mut self, name: impl FieldName, value: HeaderValue) {
        match name.header_name() {
            Some(header_name) => self.headers.append(header_name, value),
            None => self.headers.append(name.text(), value),
        };
    }

    /// Finish with `body`: a request for request kinds, else a response.
    pub fn build(self, body: Bytes) -> Result<Http2Message, Error> {
        let protocol = self.protocol;
        let bad = |header| Error::Http2 {
            protocol,
            header,
            reason: "cannot build",
        };
        let mut message = if self.kind.is_request() {
            let authority = self
                .authority
                .unwrap_or_else(|| Bytes::from_static(protocol.as_bytes()));
            let mut uri = http::uri::Parts::default();
            uri.scheme = Some(http::uri::Scheme::HTTP);
            uri.authority = Some(
                http::uri::Authority::from_maybe_shared(authority)
                    .map_err(|_| bad(":authority"))?,
            );
            uri.path_and_query = Some(match self.path {
                Some(path) => http::uri::PathAndQuery::from_maybe_shared(path)
                    .map_err(|_| bad(":authority"))?,
                None => http::uri::PathAndQuery::from_static("/"),
            });
            let uri = http::Uri::from_parts(uri).map_err(|_| bad(":authority"))?;
            let mut request = http::Request::new(body);
            *request.method_mut() = http::Method::POST;
            *request.uri_mut() = uri;
            Http2Message::Request(request)
        } else {
            let code = self.status.map_or(200, |(_, http)| http);
            let status = http::StatusCode::from_u16(code).map_err(|_| bad(":status"))?;
            let mut response = http::Response::new(body);
            *response.status_mut() = status;
            Http2Message::Response(response)
        };
        *message.headers_mut() = self.headers;
        Ok(message)
    }
}
