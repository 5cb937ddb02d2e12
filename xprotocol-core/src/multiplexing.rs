//! Layer 2, multiplexing: frame kind, request id read and rewritten in place,
//! heartbeats, goaway and per-frame timeouts.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::Error;

/// What a frame is, as far as a multiplexing proxy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameKind {
    /// A request that expects a response.
    Request,
    /// A request that expects no response.
    OnewayRequest,
    /// A response to a request.
    Response,
    /// A heartbeat (ping) that expects a heartbeat response.
    HeartbeatRequest,
    /// The answer to a heartbeat.
    HeartbeatResponse,
    /// The peer is going away: drain the connection, send no new requests on it.
    GoAway,
}

impl FrameKind {
    /// Stable lower-case name (`request`, `oneway_request`, `response`,
    /// `heartbeat_request`, `heartbeat_response`, `goaway`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::OnewayRequest => "oneway_request",
            Self::Response => "response",
            Self::HeartbeatRequest => "heartbeat_request",
            Self::HeartbeatResponse => "heartbeat_response",
            Self::GoAway => "goaway",
        }
    }

    /// Parse the name given by [`FrameKind::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "request" => Self::Request,
            "oneway_request" => Self::OnewayRequest,
            "response" => Self::Response,
            "heartbeat_request" => Self::HeartbeatRequest,
            "heartbeat_response" => Self::HeartbeatResponse,
            "goaway" => Self::GoAway,
            _ => return None,
        })
    }

    /// True for frames a client sends (requests, one-way requests, heartbeat requests).
    pub fn is_request(self) -> bool {
        matches!(
            self,
            Self::Request | Self::OnewayRequest | Self::HeartbeatRequest
        )
    }

    /// True when the peer must answer this frame.
    pub fn expects_response(self) -> bool {
        matches!(self, Self::Request | Self::HeartbeatRequest)
    }
}

/// The multiplexing facts of one frame, read from its fixed header without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHead {
    /// What the frame is.
    pub kind: FrameKind,
    /// Request id, widened to u64 (see [`Multiplexing::id_width`]).
    pub request_id: u64,
    /// Timeout the caller set for this request, when the protocol carries one and it is positive.
    pub timeout: Option<Duration>,
    /// Native status code of a response, when the protocol carries one.
    pub status: Option<u32>,
}

/// Width of a protocol's request-id field.
///
/// ```
/// use xprotocol_core::IdWidth;
/// assert_eq!(IdWidth::U32.max(), u32::MAX as u64);
/// assert!(!IdWidth::U32.fits(1 << 32));
/// assert_eq!(IdWidth::U64.max(), u64::MAX);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdWidth(u8);

impl IdWidth {
    /// A 32-bit id (Bolt, HSF).
    pub const U32: Self = Self(32);
    /// A 64-bit id (Dubbo).
    pub const U64: Self = Self(64);

    /// An id width of `bits` bits (1..=64).
    ///
    /// # Panics
    /// When `bits` is 0 or above 64: a programming error in a codec, never input-driven.
    pub const fn new(bits: u8) -> Self {
        assert!(bits >= 1 && bits <= 64, "id width must be 1..=64 bits");
        Self(bits)
    }

    /// Number of bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Largest id the field holds.
    pub const fn max(self) -> u64 {
        if self.0 == 64 {
            u64::MAX
        } else {
            (1u64 << self.0) - 1
        }
    }

    /// True when `id` fits the field.
    pub const fn fits(self, id: u64) -> bool {
        id <= self.max()
    }
}

/// Hands out upstream request ids for one connection, wrapping explicitly at the
/// codec's id width (MOSN's #2403: an unwrapped u64 counter stopped matching u32
/// Bolt responses after 2^32 requests).
///
/// ```
/// use xprotocol_core::{IdWidth, RequestIdGenerator};
/// let mut ids = RequestIdGenerator::starting_at(IdWidth::U32, u32::MAX as u64);
/// assert_eq!(ids.next_id(), u32::MAX as u64);
/// assert_eq!(ids.next_id(), 0); // wraps to 0
/// assert_eq!(ids.next_id(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct RequestIdGenerator {
    next: u64,
    width: IdWidth,
}

impl RequestIdGenerator {
    /// A generator whose first id is 1.
    pub fn new(width: IdWidth) -> Self {
        Self::starting_at(width, 1)
    }

    /// A generator whose first id is `first` (wrapped into the width).
    pub fn starting_at(width: IdWidth, first: u64) -> Self {
        Self {
            next: first & width.max(),
            width,
        }
    }

    /// The next id; after `width.max()` comes 0.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next;
        self.next = if id == self.width.max() { 0 } else { id + 1 };
        id
    }
}

/// Multiplexing: everything a proxy needs to share one upstream connection
/// among many downstream ones. Reads and rewrites never allocate.
pub trait Multiplexing: Send + Sync {
    /// Width of the request-id field.
    fn id_width(&self) -> IdWidth;

    /// Kind, id, timeout and status of a whole frame (as delimited by the splitter).
    fn frame_head(&self, frame: &[u8]) -> Result<FrameHead, Error>;

    /// Request id of a whole frame. Cheaper than [`Multiplexing::frame_head`].
    fn request_id(&self, frame: &[u8]) -> Result<u64, Error> {
        self.frame_head(frame).map(|h| h.request_id)
    }

    /// Rewrite the request id in place, fixing any checksum the frame carries.
    /// An id that does not fit [`Multiplexing::id_width`] is an error, never truncated.
    fn set_request_id(&self, frame: &mut [u8], id: u64) -> Result<(), Error>;

    /// Append the native heartbeat reply to `request` (a heartbeat request frame).
    fn heartbeat_reply(&self, request: &[u8], dst: &mut BytesMut) -> Result<(), Error>;

    /// Append an active heartbeat request with id `id`, for keepalive on idle
    /// upstream connections. `Error::Unsupported` when the protocol has none.
    fn heartbeat_request(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error>;

    /// Append a goaway frame telling the peer to drain this connection.
    /// `Error::Unsupported` when the protocol has none.
    fn goaway(&self, id: u64, dst: &mut BytesMut) -> Result<(), Error>;
}

/// Rewrite the request id of a frozen frame, in place when `frame` is the only
/// handle to its buffer (the usual case right after `split_to(len).freeze()`),
/// otherwise on a copy.
///
/// ```
/// # use xprotocol_core::*;
/// # struct Id8;
/// # impl Multiplexing for Id8 {
/// #   fn id_width(&self) -> IdWidth { IdWidth::new(8) }
/// #   fn frame_head(&self, f: &[u8]) -> Result<FrameHead, Error> {
/// #     Ok(FrameHead { kind: FrameKind::Request, request_id: f[0] as u64, timeout: None, status: None }) }
/// #   fn set_request_id(&self, f: &mut [u8], id: u64) -> Result<(), Error> { f[0] = id as u8; Ok(()) }
/// #   fn heartbeat_reply(&self, _: &[u8], _: &mut bytes::BytesMut) -> Result<(), Error> { unimplemented!() }
/// #   fn heartbeat_request(&self, _: u64, _: &mut bytes::BytesMut) -> Result<(), Error> { unimplemented!() }
/// #   fn goaway(&self, _: u64, _: &mut bytes::BytesMut) -> Result<(), Error> { unimplemented!() }
/// # }
/// let frame = bytes::Bytes::from_static(b"\x07payload");
/// let frame = rewrite_request_id(&Id8, frame, 9)?;
/// assert_eq!(Id8.request_id(&frame)?, 9);
/// # Ok::<(), Error>(())
/// ```
pub fn rewrite_request_id(mux: &dyn Multiplexing, frame: Bytes, id: u64) -> Result<Bytes, Error> {
    let mut owned = frame
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    mux.set_request_id(&mut owned, id)?;
    Ok(owned.freeze())
}
