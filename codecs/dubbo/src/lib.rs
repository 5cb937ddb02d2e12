//! # xprotocol-dubbo
//!
//! Dubbo 2 (magic `0xdabb`, Hessian2 bodies) for [`xprotocol_core`], all four
//! layers, in the same shape as every xprotocol codec:
//!
//! | module | layer |
//! |---|---|
//! | [`header`] | the 16-byte header |
//! | `framing` | 1: sniffing, splitting |
//! | `multiplexing` | 2: kinds (read-only events are goaway, not heartbeats), u64 ids in place, heartbeats |
//! | [`routing`] | 3: routing view from the body and attachments, attachment edits, local replies (status table there) |
//! | [`transcoding`] | 4: lossless HTTP/2 mapping |
//! | `body` | where the fields of a Hessian2 request or response body are |
//!
//! ```
//! use bytes::Bytes;
//! use xprotocol_core::{FrameKind, HeaderEdit, Multiplexing, Routing};
//! use xprotocol_dubbo::DubboCodec;
//!
//! let codec = DubboCodec::new();
//! let frame = Bytes::from_static(xprotocol_dubbo::testdata::REQUEST_177);
//! assert_eq!(codec.frame_head(&frame)?.kind, FrameKind::Request);
//! let route = codec.route_headers(&frame)?;
//! assert_eq!(route.interface(), Some("com.example.HelloService"));
//! assert_eq!((route.method(), route.group()), (Some("sayHello"), Some("g1")));
//!
//! // Only the attachments map is re-encoded; the body before it is shared.
//! let edited = codec.mutate_headers(&frame, &[HeaderEdit::Set("x-lane", "blue")])?.to_bytes();
//! assert_eq!(codec.route_headers(&edited)?.header("x-lane"), Some("blue"));
//! # Ok::<(), xprotocol_core::Error>(())
//! ```
//!
//! Bodies in a serialization other than Hessian2 still frame and multiplex; the
//! routing view answers [`Error::Unsupported`](xprotocol_core::Error) for them
//! (the connection is not closed).
#![deny(missing_docs)]

use xprotocol_core::Limits;

mod body;
mod facts;
mod framing;
pub mod header;
mod multiplexing;
pub mod routing;
pub mod testdata;
pub mod transcoding;

pub use body::{parameter_count, response_flag};
pub use header::DubboHeader;

/// The protocol name.
pub const PROTOCOL: &str = "dubbo";

/// Serialization ids (flag bits 0..5).
pub mod serialization {
    /// Hessian2.
    pub const HESSIAN2: u8 = 2;
    /// Java serialization.
    pub const JAVA: u8 = 3;
    /// Fastjson.
    pub const FASTJSON: u8 = 6;
    /// Protobuf.
    pub const PROTOBUF: u8 = 22;
}

/// Dubbo response statuses.
pub mod status {
    /// OK.
    pub const OK: u8 = 20;
    /// Client-side timeout.
    pub const CLIENT_TIMEOUT: u8 = 30;
    /// Server-side timeout.
    pub const SERVER_TIMEOUT: u8 = 31;
    /// Bad request.
    pub const BAD_REQUEST: u8 = 40;
    /// Bad response.
    pub const BAD_RESPONSE: u8 = 50;
    /// Service not found.
    pub const SERVICE_NOT_FOUND: u8 = 60;
    /// Service error.
    pub const SERVICE_ERROR: u8 = 70;
    /// Server error.
    pub const SERVER_ERROR: u8 = 80;
    /// Client error.
    pub const CLIENT_ERROR: u8 = 90;
    /// Server thread pool exhausted.
    pub const SERVER_THREADPOOL_EXHAUSTED: u8 = 100;
}

/// The Dubbo codec. Stateless: one instance serves every connection.
#[derive(Debug, Clone, Default)]
pub struct DubboCodec {
    limits: Limits,
}

impl DubboCodec {
    /// A codec with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Self { limits }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

xprotocol_core::impl_codec!(DubboCodec, PROTOCOL);

/// The README's embedding example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
