//! # xprotocol-bolt
//!
//! SOFA Bolt v1 (protocol code `0x01`) and v2 (`0x02`, with the optional CRC32
//! trailer) for [`xprotocol_core`], all four layers. Both versions may share
//! one connection. The modules mirror the layers:
//!
//! | module | layer |
//! |---|---|
//! | [`header`] | the fixed header layout (v1/v2, requests/responses) |
//! | `framing` | 1: sniffing, splitting, CRC verification |
//! | `multiplexing` | 2: kinds, u32 ids rewritten in place (CRC fixed), heartbeats, goaway |
//! | [`routing`] | 3: routing view, header edits, local replies (status table there) |
//! | [`transcoding`] | 4: lossless HTTP/2 mapping |
//! | [`header_map`] | the length-prefixed header map |
//!
//! ```
//! use bytes::BytesMut;
//! use xprotocol_bolt::BoltCodec;
//! use xprotocol_core::{Multiplexing, Framing, Routing, Split, FrameKind};
//!
//! let codec = BoltCodec::new();
//! let mut buf = BytesMut::from(&xprotocol_bolt::testdata::REQUEST_151[..]);
//! let Split::Complete(len) = codec.split_frame(&buf)? else { panic!() };
//! let frame = buf.split_to(len).freeze();
//!
//! let head = codec.frame_head(&frame)?;
//! assert_eq!((head.kind, head.request_id), (FrameKind::Request, 111));
//!
//! let route = codec.route_headers(&frame)?;
//! assert_eq!(route.interface(), Some("com.example.HelloService"));
//! assert_eq!(route.method(), Some("sayHello"));
//! # Ok::<(), xprotocol_core::Error>(())
//! ```
//!
//! A method (and target service and app) that lives only in a hessian2
//! `SofaRequest` body is read from the body with `xprotocol-hessian2`, in either
//! Hessian dialect (SOFA's 2.0 draft or the final spec).
#![deny(missing_docs)]

use bytes::Bytes;
use xprotocol_core::{Error, Limits};

mod facts;
mod framing;
pub mod header;
pub mod header_map;
mod multiplexing;
pub mod routing;
mod sofa_request;
pub mod testdata;
pub mod transcoding;

pub use header::BoltHeader;

/// The protocol name.
pub const PROTOCOL: &str = "bolt";

/// Serialization codec ids (SOFARPC).
pub mod codec_id {
    /// Hessian2.
    pub const HESSIAN2: u8 = 1;
    /// Java serialization.
    pub const JAVA: u8 = 2;
    /// Protobuf.
    pub const PROTOBUF: u8 = 11;
    /// JSON (Jackson).
    pub const JSON: u8 = 12;
}

/// Bolt response statuses.
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0;
    /// Error.
    pub const ERROR: u16 = 1;
    /// Server exception.
    pub const SERVER_EXCEPTION: u16 = 2;
    /// Unknown.
    pub const UNKNOWN: u16 = 3;
    /// Server thread pool busy.
    pub const SERVER_THREADPOOL_BUSY: u16 = 4;
    /// Communication error.
    pub const ERROR_COMM: u16 = 5;
    /// No processor for the request.
    pub const NO_PROCESSOR: u16 = 6;
    /// Timeout.
    pub const TIMEOUT: u16 = 7;
    /// Client send error.
    pub const CLIENT_SEND_ERROR: u16 = 8;
    /// Codec exception.
    pub const CODEC_EXCEPTION: u16 = 9;
    /// Connection closed.
    pub const CONNECTION_CLOSED: u16 = 0x10;
    /// Server serialization exception.
    pub const SERVER_SERIAL_EXCEPTION: u16 = 0x11;
    /// Server deserialization exception.
    pub const SERVER_DESERIAL_EXCEPTION: u16 = 0x12;
}

/// The SOFA Bolt codec. Stateless: one instance serves every connection.
#[derive(Debug, Clone)]
pub struct BoltCodec {
    limits: Limits,
    verify_crc: bool,
}

impl Default for BoltCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl BoltCodec {
    /// A codec with the default [`Limits`] that verifies CRCs on split.
    pub fn new() -> Self {
        Self {
            limits: Limits::default(),
            verify_crc: true,
        }
    }

    /// A codec with `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::new()
        }
    }

    /// Whether the splitter verifies v2 CRC32 trailers (default: yes). Verifying
    /// costs time proportional to the frame; a proxy that forwards frames
    /// unchanged to a peer that checks them itself may turn it off. Rewrites and
    /// mutations recompute the CRC either way.
    pub fn verify_crc(mut self, verify: bool) -> Self {
        self.verify_crc = verify;
        self
    }

    /// Encode a frame: `header` (its length fields are computed, and the CRC
    /// trailer added when the header asks for one), the class name, the header
    /// map in order, and the content (shared, not copied).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use xprotocol_bolt::{BoltCodec, BoltHeader};
    /// use xprotocol_core::{Multiplexing, Routing};
    ///
    /// let codec = BoltCodec::new();
    /// let frame = codec.encode(
    ///     &BoltHeader::request(7, 3000),
    ///     b"com.alipay.sofa.rpc.core.request.SofaRequest",
    ///     &[(b"service", b"com.example.EchoService:1.0"), (b"sofa_head_method_name", b"echo")],
    ///     Bytes::from_static(b"payload"),
    /// )?.to_bytes();
    /// assert_eq!(codec.request_id(&frame)?, 7);
    /// assert_eq!(codec.route_headers(&frame)?.method(), Some("echo"));
    /// # Ok::<(), xprotocol_core::Error>(())
    /// ```
    pub fn encode(
        &self,
        header: &BoltHeader,
        class: &[u8],
        headers: &[(&[u8], &[u8])],
        content: Bytes,
    ) -> Result<xprotocol_core::FrameParts, Error> {
        let mut block = bytes::BytesMut::new();
        for (k, v) in headers {
            header_map::put_entry(&mut block, Some(k), Some(v));
        }
        self.assemble(
            header,
            Bytes::copy_from_slice(class),
            block.freeze(),
            content,
        )
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

xprotocol_core::impl_codec!(BoltCodec, PROTOCOL);
