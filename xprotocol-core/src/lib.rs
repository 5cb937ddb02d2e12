//! # xprotocol-core
//!
//! A layered, sans-IO codec framework for RPC protocols that a service-mesh
//! sidecar was never built for (SOFA Bolt, Dubbo, HSF, and third-party plugins).
//! It follows the X-Protocol design of SOFA Mesh: the more a proxy needs to know
//! about a frame, the more it pays, so each capability is a separate layer.
//!
//! ```text
//!             cost   what the proxy gets                         trait
//!  layer 4    $$$$   frame <-> http::Request/Response<Bytes>      Transcoding
//!  layer 3    $$     service/interface/version/group/method,     Routing
//!                    protocol headers, header edits, local reply
//!  layer 2    $      kind, request id (read + rewrite in place),  Multiplexing
//!                    heartbeat reply, active heartbeat, goaway
//!  layer 1    ¢      sniffing, frame boundaries                   Framing
//!  ----------------------------------------------------------------------
//!             socket bytes (BytesMut, owned by the caller)
//! ```
//!
//! Layers 1 and 2 read fixed header fields: they never allocate and cost the
//! same for a 100-byte and a 64 KiB frame. Layer 3 parses the protocol header
//! map only when asked, into ranges of the frame (no text is copied). Frames are
//! `bytes::Bytes` slices of the read buffer.
//!
//! A [`Codec`] bundles the layers of one protocol; it is object-safe, so a proxy
//! holds `Arc<dyn Codec>` whether the codec is linked statically or loaded as a
//! plugin. A [`Registry`] detects the protocol of a new connection.
//!
//! ## Reading frames
//!
//! ```no_run
//! use bytes::BytesMut;
//! use xprotocol_core::{Codec, Split, ErrorAction};
//!
//! fn on_read(codec: &dyn Codec, read_buf: &mut BytesMut) -> Result<(), xprotocol_core::Error> {
//!     loop {
//!         match codec.framing().split_frame(read_buf) {
//!             Ok(Split::Complete(len)) => {
//!                 let frame = read_buf.split_to(len).freeze(); // zero-copy
//!                 let head = codec.multiplexing().unwrap().frame_head(&frame)?;
//!                 println!("{:?} #{}", head.kind, head.request_id);
//!             }
//!             Ok(Split::Incomplete(needed)) => {
//!                 read_buf.reserve(needed.bytes());
//!                 return Ok(()); // read more
//!             }
//!             Err(e) if e.action() == ErrorAction::CloseConnection => return Err(e),
//!             Err(e) => return Err(e),
//!         }
//!     }
//! }
//! ```
//!
//! ## Features
//! * `tokio-codec`: [`tokio_codec::FrameCodec`], a `tokio_util::codec`
//!   `Decoder`/`Encoder` over any codec.
//! * `testing`: [`testing`], the conformance kit every codec runs on its frames.
#![deny(missing_docs)]

/// The `bytes` crate, re-exported for [`impl_codec!`] and codec authors.
pub use bytes;

mod codec;
mod error;
mod facts;
mod frame;
mod frame_parts;
mod framing;
mod limits;
mod multiplexing;
mod registry;
mod routing;
pub mod transcoding;

#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "tokio-codec")]
pub mod tokio_codec;

pub use codec::{Capabilities, Codec};
pub use error::{Error, ErrorAction};
pub use facts::{FactValue, Facts};
pub use frame::Frame;
pub use frame_parts::{FrameParts, MAX_FRAME_PARTS};
pub use framing::{Framing, Needed, Probe, Split};
pub use limits::Limits;
pub use multiplexing::{
    FrameHead, FrameKind, IdWidth, Multiplexing, RequestIdGenerator, rewrite_request_id,
};
pub use registry::{Detection, Registry};
pub use routing::{
    HeaderEdit, INLINE_HEADERS, LocalStatus, RouteHeaders, RouteView, Routing, Text,
};
pub use transcoding::{HeaderEscape, Http2Message, Transcoding};
