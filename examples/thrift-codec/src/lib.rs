//! # xprotocol-example-thrift
//!
//! **The third-party example codec**: Apache Thrift over `TFramedTransport` +
//! `TBinaryProtocol` (strict and non-strict messages), written against the
//! public `xprotocol-core` API only, in its own crate, the way a plugin author
//! outside this repository would write it. Every core item is reached through
//! the one alias `xp` below, so moving to the plugin SDK's re-exports is a
//! one-line change.
//!
//! ```text
//! frame    u32 length (big-endian, of the message that follows) ‖ message
//! strict   i32 0x8001_0000 | type ‖ i32 name length ‖ name ‖ i32 seqid ‖ struct
//! loose    i32 name length ‖ name ‖ i8 type ‖ i32 seqid ‖ struct
//! types    CALL 1, REPLY 2, EXCEPTION 3, ONEWAY 4
//! ```
//!
//! | layer | what this codec does |
//! |---|---|
//! | framing | probe: a length within `max_frame_len`, then `80 01 00 <type>` (strict) or a name length and type that fit (non-strict); split on the length |
//! | multiplexing | CALL → request, ONEWAY → one-way request, REPLY/EXCEPTION → response; the request id is the seqid (32 bits, rewritten in place); status = the message type; no heartbeats, no goaway (`Error::Unsupported`) |
//! | routing | `method` = the message name; a multiplexed name `Service:method` gives `service` = `interface` = `Service`; no header map, so edits are `Error::Unsupported`; local replies are EXCEPTION messages carrying a `TApplicationException` ([`wire::exception_type`] has the mapping) |
//! | transcoding | lossless HTTP/2: the struct is the body, the message header travels as `xp-thrift-…` headers ([`transcoding::names`]) |
//!
//! ```
//! use bytes::Bytes;
//! use xprotocol_plugin_sdk::xp::{Codec, FrameKind, Multiplexing, Routing};
//! use xprotocol_example_thrift::ThriftCodec;
//!
//! // A strict CALL of `Echo:ping` (multiplexed name), seqid 7, empty args struct.
//! let mut frame = vec![0, 0, 0, 22, 0x80, 0x01, 0x00, 0x01, 0, 0, 0, 9];
//! frame.extend_from_slice(b"Echo:ping");
//! frame.extend_from_slice(&[0, 0, 0, 7, 0x00]);
//! let frame = Bytes::from(frame);
//!
//! let codec = ThriftCodec::new();
//! let head = codec.frame_head(&frame)?;
//! assert_eq!((head.kind, head.request_id), (FrameKind::Request, 7));
//! let route = codec.route_headers(&frame)?;
//! assert_eq!((route.interface(), route.method()), (Some("Echo"), Some("ping")));
//! assert_eq!(codec.name(), "thrift");
//! # Ok::<(), xprotocol_plugin_sdk::xp::Error>(())
//! ```
#![deny(missing_docs)]

/// The one import of the core API. Everything below says `xp::…`; switching to
/// the plugin SDK is `use xprotocol_plugin_sdk as xp;` here.
use xprotocol_plugin_sdk::xp;

mod facts;
mod framing;
mod multiplexing;
mod routing;
pub mod transcoding;
pub mod wire;

/// The protocol name.
pub const PROTOCOL: &str = "thrift";

/// The Thrift codec (framed transport, binary protocol). Stateless.
///
/// Message names are capped by `Limits::max_header_bytes`; frames by
/// `Limits::max_frame_len`.
#[derive(Debug, Clone, Default)]
pub struct ThriftCodec {
    limits: xp::Limits,
}

impl ThriftCodec {
    /// A codec with the default [`Limits`](xprotocol_plugin_sdk::xp::Limits).
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with `limits`.
    pub fn with_limits(limits: xp::Limits) -> Self {
        Self { limits }
    }

    /// The limits this codec enforces.
    pub fn limits(&self) -> &xp::Limits {
        &self.limits
    }
}

xp::impl_codec!(ThriftCodec, PROTOCOL);

/// The plugin export: `libxprotocol_example_thrift.so` carries this codec for
/// any host (`xprotocol_plugin_host::load`, `xproto --plugin`).
#[allow(unsafe_code, unreachable_pub)] // the exported root-module symbol is `#[no_mangle]`
mod plugin {
    xprotocol_plugin_sdk::export_codec_plugin!(crate::ThriftCodec::new());
}
