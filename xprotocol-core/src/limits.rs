//! Size, count and depth caps applied to untrusted input.

/// Caps on untrusted input. Exceeding one is a typed [`Error`](crate::Error):
/// `max_frame_len` is [`Error::FrameTooLarge`](crate::Error::FrameTooLarge) (close
/// the connection), the others [`Error::LimitExceeded`](crate::Error::LimitExceeded)
/// (fail the one stream).
///
/// ```
/// use xprotocol_core::Limits;
/// let tight = Limits { max_frame_len: 64 * 1024, ..Limits::default() };
/// assert_eq!(tight.max_header_entries, Limits::default().max_header_entries);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole frame accepted, in bytes (default 16 MiB).
    pub max_frame_len: usize,
    /// Most key/value entries in a protocol header map or attachment map (default 256).
    pub max_header_entries: usize,
    /// Most bytes of encoded header map or attachments (default 64 KiB).
    pub max_header_bytes: usize,
    /// Deepest nesting of structured values, e.g. Hessian2 containers (default 64).
    pub max_depth: usize,
}

impl Limits {
    /// The defaults: 16 MiB frames, 256 header entries, 64 KiB of headers, depth 64.
    pub const DEFAULT: Self = Self {
        max_frame_len: 16 * 1024 * 1024,
        max_header_entries: 256,
        max_header_bytes: 64 * 1024,
        max_depth: 64,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
