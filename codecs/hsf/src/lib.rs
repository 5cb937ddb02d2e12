//! # xprotocol-hsf
//!
//! **HSF, the observed v1 wire layout.** HSF (Alibaba's High-speed Service
//! Framework) has no public protocol specification. This codec is built from
//! the only public byte-level description: an Alibaba-authored MOSN plugin
//! from 2018 (MOSN pull request 180, never merged) and the real request it
//! captured in its tests. [`header`] gives the layout and the confidence of
//! every field; what was never observed is not guessed:
//!
//! * the response body and the meaning of its status byte are unknown, so
//!   local replies are refused (`Error::Unsupported`);
//! * no heartbeat reply was captured, so heartbeat replies and active
//!   heartbeats are refused unless the codec is built with
//!   [`HsfCodec::with_observed_heartbeats`], which mirrors the observed
//!   heartbeat frame (a reply is that frame with type 1: inferred, unverified);
//! * no goaway frame is known;
//! * serialization codes other than the observed Hessian2 (4) frame and
//!   multiplex, but their routing view is `Error::Unsupported`.
//!
//! The protocol name is `hsf-observed-v1`. Modules mirror the layers like every
//! xprotocol codec: [`header`], `framing`, `multiplexing`, [`routing`],
//! [`transcoding`].
//!
//! ```
//! use bytes::Bytes;
//! use xprotocol_core::{Multiplexing, Routing};
//! use xprotocol_hsf::{HsfCodec, testdata};
//!
//! let codec = HsfCodec::new();
//! let frame = Bytes::from(testdata::from_hex(testdata::CAPTURED_REQUEST));
//! assert_eq!(codec.frame_head(&frame)?.timeout, Some(std::time::Duration::from_millis(2000)));
//! let route = codec.route_headers(&frame)?;
//! assert_eq!(route.interface(), Some("com.test.pandora.hsf.HelloService"));
//! assert_eq!((route.version(), route.method()), (Some("1.0.0.daily"), Some("sayHello")));
//! assert_eq!(route.group(), Some("HSF1"));
//! assert_eq!(route.header("eagleeye_context.traceId"), Some("0a97636715350827861071001d0061"));
//! # Ok::<(), xprotocol_core::Error>(())
//! ```
#![deny(missing_docs)]

use xprotocol_core::Limits;

mod facts;
mod framing;
pub mod header;
mod multiplexing;
pub mod routing;
pub mod testdata;
pub mod transcoding;

/// The protocol name: HSF, observed v1 layout.
pub const PROTOCOL: &str = "hsf-observed-v1";

/// The HSF codec (observed v1 layout). Stateless.
///
/// The argument count of a request is capped by `Limits::max_header_entries`.
#[derive(Debug, Clone, Default)]
pub struct HsfCodec {
    limits: Limits,
    observed_heartbeats: bool,
}

impl HsfCodec {
    /// A codec with the default [`Limits`]; heartbeat replies refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Opt in to heartbeats that mirror the observed frame: active heartbeats
    /// as captured (type 0, version 1, timeout 3000 ms) and replies as the
    /// request with type 1. The reply form is inferred, never observed.
    pub fn with_observed_heartbeats(mut self) -> Self {
        self.observed_heartbeats = true;
        self
    }
}

xprotocol_core::impl_codec!(HsfCodec, PROTOCOL);
