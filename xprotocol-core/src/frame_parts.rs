//! An encoded frame as a few `Bytes` pieces, so that re-encoding one part of a
//! frame reuses the untouched parts (typically the body) without copying them.

use bytes::{Buf, Bytes, BytesMut};

/// Most pieces one encoded frame is made of.
pub const MAX_FRAME_PARTS: usize = 6;

/// An encoded frame as up to [`MAX_FRAME_PARTS`] `Bytes` pieces, in wire order.
///
/// It implements [`bytes::Buf`], so a writer can send it with vectored I/O
/// (`chunks_vectored`) and never join the pieces; [`FrameParts::to_bytes`] joins
/// them when one contiguous buffer is needed (and copies nothing when there is
/// a single piece).
///
/// ```
/// use bytes::{Buf, Bytes};
/// use xprotocol_core::FrameParts;
/// let body = Bytes::from_static(b"body");
/// let mut parts = FrameParts::new();
/// parts.push(Bytes::from_static(b"head|"));
/// parts.push(body.clone()); // shared, not copied
/// assert_eq!(parts.remaining(), 9);
/// assert_eq!(parts.to_bytes(), Bytes::from_static(b"head|body"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct FrameParts {
    parts: [Bytes; MAX_FRAME_PARTS],
    first: usize,
    end: usize,
}

impl FrameParts {
    /// No pieces.
    pub const fn new() -> Self {
        Self {
            parts: [
                Bytes::new(),
                Bytes::new(),
                Bytes::new(),
                Bytes::new(),
                Bytes::new(),
                Bytes::new(),
            ],
            first: 0,
            end: 0,
        }
    }

    /// Append a piece. Empty pieces are skipped.
    ///
    /// # Panics
    /// When more than [`MAX_FRAME_PARTS`] non-empty pieces are pushed: codecs push a
    /// fixed, small number of pieces, so this is a bug in the codec, not input-driven.
    pub fn push(&mut self, piece: Bytes) {
        if piece.is_empty() {
            return;
        }
        assert!(
            self.end < MAX_FRAME_PARTS,
            "FrameParts holds at most {MAX_FRAME_PARTS} pieces"
        );
        self.parts[self.end] = piece;
        self.end += 1;
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.pieces().iter().map(Bytes::len).sum()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Bytes] {
        &self.parts[self.first..self.end]
    }

    /// The frame as one contiguous `Bytes` (no copy when it is a single piece).
    pub fn to_bytes(&self) -> Bytes {
        match self.pieces() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => {
                let mut out = BytesMut::with_capacity(self.len());
                for piece in many {
                    out.extend_from_slice(piece);
                }
                out.freeze()
            }
        }
    }

    /// Append every byte to `dst`.
    pub fn write_to(&self, dst: &mut BytesMut) {
        dst.reserve(self.len());
        for piece in self.pieces() {
            dst.extend_from_slice(piece);
        }
    }
}

impl From<Bytes> for FrameParts {
    fn from(b: Bytes) -> Self {
        let mut parts = Self::new();
        parts.push(b);
        parts
    }
}

impl PartialEq<[u8]> for FrameParts {
    fn eq(&self, other: &[u8]) -> bool {
        let mut rest = other;
        for piece in self.pieces() {
            match rest.split_at_checked(piece.len()) {
                Some((head, tail)) if head == &piece[..] => rest = tail,
                _ => return false,
            }
        }
        rest.is_empty()
    }
}

impl Buf for FrameParts {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn chunk(&self) -> &[u8] {
        self.pieces().first().map_or(&[], |b| &b[..])
    }

    fn advance(&mut self, mut cnt: usize) {
        while cnt > 0 {
            assert!(self.first < self.end, "advance past the end of FrameParts");
            let piece = &mut self.parts[self.first];
            let step = cnt.min(piece.len());
            piece.advance(step);
            cnt -= step;
            if piece.is_empty() {
                self.first += 1;
            }
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(self.pieces()) {
            *slot = std::io::IoSlice::new(piece);
            n += 1;
        }
        n
    }
}
