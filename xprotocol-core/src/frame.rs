//! A whole frame with its routing view computed on first use and cached.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::{Error, FrameHead, Multiplexing, RouteHeaders, Routing};

/// One whole frame (a `Bytes` slice of the read buffer) and its lazily computed,
/// cached routing view. Cloning costs reference-count increments only.
///
/// ```no_run
/// # fn demo(codec: &dyn xprotocol_core::Codec, frame: bytes::Bytes) -> Result<(), xprotocol_core::Error> {
/// use xprotocol_core::Frame;
/// let frame = Frame::new(frame);
/// let routing = codec.routing().expect("routing layer");
/// let route = frame.route_headers(routing)?; // parsed now
/// let again = frame.route_headers(routing)?; // cached
/// assert_eq!(route.method(), again.method());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Frame {
    bytes: Bytes,
    route: OnceLock<RouteHeaders>,
}

impl Frame {
    /// Wrap a whole frame.
    pub fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            route: OnceLock::new(),
        }
    }

    /// The frame's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Kind, id, timeout and status (not cached: reading them costs a few ns).
    pub fn head(&self, mux: &dyn Multiplexing) -> Result<FrameHead, Error> {
        mux.frame_head(&self.bytes)
    }

    /// The routing view, parsed on the first call and cached after.
    /// A parse error is returned (and not cached).
    pub fn route_headers(&self, routing: &dyn Routing) -> Result<&RouteHeaders, Error> {
        if let Some(route) = self.route.get() {
            return Ok(route);
        }
        let route = routing.route_headers(&self.bytes)?;
        Ok(self.route.get_or_init(|| route))
    }

    /// Unwrap the bytes.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}
