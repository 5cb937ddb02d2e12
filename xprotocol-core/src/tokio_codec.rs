//! A `tokio_util::codec` adapter: `FramedRead`/`Framed` over any [`Codec`].
//!
//! ```no_run
//! # async fn demo(socket: tokio::net::TcpStream, codec: std::sync::Arc<dyn xprotocol_core::Codec>) {
//! use futures_util::StreamExt;
//! use tokio_util::codec::FramedRead;
//! use xprotocol_core::tokio_codec::FrameCodec;
//!
//! let mut frames = FramedRead::new(socket, FrameCodec::new(codec));
//! while let Some(frame) = frames.next().await {
//!     let frame: bytes::Bytes = frame.expect("framing error closes the connection");
//! }
//! # }
//! ```

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::{Codec, Error, FrameParts, Split};

/// Error of the tokio adapter: a codec error or an I/O error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramedError {
    /// The codec rejected the bytes (framing errors close the connection).
    #[error(transparent)]
    Codec(#[from] Error),
    /// The socket failed, or closed in the middle of a frame.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Splits a byte stream into whole frames (`Bytes`, zero-copy) with a codec's
/// framing layer, and writes `Bytes` or [`FrameParts`] frames as they are.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    codec: Arc<dyn Codec>,
}

impl FrameCodec {
    /// An adapter over `codec`.
    pub fn new(codec: Arc<dyn Codec>) -> Self {
        Self { codec }
    }

    /// The codec.
    pub fn codec(&self) -> &Arc<dyn Codec> {
        &self.codec
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FramedError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FramedError> {
        match self.codec.framing().split_frame(src)? {
            Split::Complete(len) => Ok(Some(src.split_to(len).freeze())),
            Split::Incomplete(needed) => {
                src.reserve(needed.bytes());
                Ok(None)
            }
        }
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FramedError;

    fn encode(&mut self, frame: Bytes, dst: &mut BytesMut) -> Result<(), FramedError> {
        dst.extend_from_slice(&frame);
        Ok(())
    }
}

impl Encoder<FrameParts> for FrameCodec {
    type Error = FramedError;

    fn encode(&mut self, frame: FrameParts, dst: &mut BytesMut) -> Result<(), FramedError> {
        frame.write_to(dst);
        Ok(())
    }
}
