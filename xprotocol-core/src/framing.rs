//! Layer 1, the open box: protocol sniffing and frame boundaries.
//!
//! Nothing here allocates or copies. The splitter looks at the front of a read
//! buffer and says how long the next frame is; the caller cuts it off with
//! `buf.split_to(len).freeze()` and gets the frame as `bytes::Bytes`.

use crate::Error;

/// Result of sniffing the first bytes of a connection.
///
/// A short first read must never be taken as a miss: [`Probe::NeedMore`] says
/// the bytes seen so far are consistent with the protocol but not enough to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The bytes are this protocol.
    Match,
    /// The bytes are certainly not this protocol.
    NoMatch,
    /// Consistent so far; read more bytes and probe again.
    NeedMore,
}

/// How many more bytes the splitter needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    /// Exactly this many more bytes complete the frame (the header was readable).
    Exact(usize),
    /// At least this many more bytes are needed (the header itself is incomplete).
    AtLeast(usize),
}

impl Needed {
    /// The number of bytes, exact or a lower bound. Always at least 1.
    pub fn bytes(self) -> usize {
        match self {
            Self::Exact(n) | Self::AtLeast(n) => n,
        }
    }
}

/// Outcome of [`Framing::split_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// A whole frame of this many bytes is at the front of the buffer.
    Complete(usize),
    /// The frame is not complete yet.
    Incomplete(Needed),
}

/// Frame boundaries: the cheapest layer, and the only one every codec must have.
///
/// Implementations keep no state, never allocate and cost the same whatever the
/// body size. Lengths are checked against the codec's [`Limits`](crate::Limits).
///
/// ```
/// use bytes::BytesMut;
/// use xprotocol_core::{Framing, Split};
///
/// /// Toy protocol: a 1-byte length, then that many bytes.
/// struct Tiny;
/// impl Framing for Tiny {
///     fn probe(&self, _prefix: &[u8]) -> xprotocol_core::Probe { xprotocol_core::Probe::Match }
///     fn split_frame(&self, buf: &[u8]) -> Result<Split, xprotocol_core::Error> {
///         Ok(match buf.first() {
///             None => Split::Incomplete(xprotocol_core::Needed::AtLeast(1)),
///             Some(&n) if buf.len() > n as usize => Split::Complete(n as usize + 1),
///             Some(&n) => Split::Incomplete(xprotocol_core::Needed::Exact(n as usize + 1 - buf.len())),
///         })
///     }
/// }
///
/// let mut read_buf = BytesMut::from(&b"\x02hi\x01"[..]);
/// let Split::Complete(len) = Tiny.split_frame(&read_buf)? else { unreachable!() };
/// let frame = read_buf.split_to(len).freeze();
/// assert_eq!(&frame[..], b"\x02hi");
/// assert!(matches!(Tiny.split_frame(&read_buf)?, Split::Incomplete(_)));
/// # Ok::<(), xprotocol_core::Error>(())
/// ```
pub trait Framing: Send + Sync {
    /// Sniff the first bytes of a connection.
    fn probe(&self, prefix: &[u8]) -> Probe;

    /// Length of the whole frame at the front of `buf`, or how many more bytes are
    /// needed, or a framing error (after which the connection cannot be resynchronised).
    fn split_frame(&self, buf: &[u8]) -> Result<Split, Error>;
}
