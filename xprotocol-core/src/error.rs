//! The one error type of every layer, and what a proxy should do about it.

/// What a proxy should do when a codec call fails.
///
/// Framing errors leave the byte stream without a known frame boundary, so the
/// only safe action is to close the connection. Errors found inside a complete,
/// correctly delimited frame affect that request alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// The stream can no longer be framed: close the connection.
    CloseConnection,
    /// Only this frame is bad: answer or drop this one request, keep the connection.
    FailStream,
}

/// A typed codec error. Every variant names the protocol and the field that failed.
///
/// ```
/// use xprotocol_core::{Error, ErrorAction};
/// let e = Error::FrameTooLarge { protocol: "bolt", len: 1 << 30, limit: 16 << 20 };
/// assert_eq!(e.action(), ErrorAction::CloseConnection);
/// assert!(e.to_string().contains("max_frame_len"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The first bytes are not this protocol's magic or protocol code.
    #[error("{protocol}: bad magic byte {found:#04x} at offset {offset}")]
    BadMagic {
        /// Protocol name.
        protocol: &'static str,
        /// Offset of the offending byte.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// The frame's declared length is larger than `Limits::max_frame_len`.
    #[error("{protocol}: frame of {len} bytes exceeds max_frame_len {limit}")]
    FrameTooLarge {
        /// Protocol name.
        protocol: &'static str,
        /// Declared frame length.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A field of the fixed frame header holds a value the protocol does not define.
    #[error("{protocol}: bad frame header field `{field}`: {reason}")]
    BadFrameHeader {
        /// Protocol name.
        protocol: &'static str,
        /// The field that failed.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The frame's checksum does not match its content.
    #[error(
        "{protocol}: checksum mismatch: frame carries {found:#010x}, computed {computed:#010x}"
    )]
    ChecksumMismatch {
        /// Protocol name.
        protocol: &'static str,
        /// Checksum carried by the frame.
        found: u32,
        /// Checksum computed over the frame.
        computed: u32,
    },
    /// A structure inside a complete frame is malformed (truncated, overlong, bad encoding).
    #[error("{protocol}: malformed `{field}`: {reason}")]
    Malformed {
        /// Protocol name.
        protocol: &'static str,
        /// The field that failed.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A configured limit (`Limits`) other than the frame size was exceeded.
    #[error("{protocol}: `{field}` exceeds {limit}: {value} > {max}")]
    LimitExceeded {
        /// Protocol name.
        protocol: &'static str,
        /// The field that failed.
        field: &'static str,
        /// Name of the `Limits` field.
        limit: &'static str,
        /// The value found.
        value: u64,
        /// The configured maximum.
        max: u64,
    },
    /// A request id that does not fit the protocol's id field.
    #[error("{protocol}: request id {id} does not fit the {bits}-bit id field")]
    IdOutOfRange {
        /// Protocol name.
        protocol: &'static str,
        /// The id.
        id: u64,
        /// Width of the protocol's id field in bits.
        bits: u8,
    },
    /// The operation does not apply to this kind of frame (e.g. a heartbeat reply to a response).
    #[error("{protocol}: {operation} needs {expected}")]
    WrongFrameKind {
        /// Protocol name.
        protocol: &'static str,
        /// The operation attempted.
        operation: &'static str,
        /// What kind of frame it needs.
        expected: &'static str,
    },
    /// The protocol (or this codec) does not support the operation.
    #[error("{protocol}: {what} is not supported")]
    Unsupported {
        /// Protocol name.
        protocol: &'static str,
        /// What is unsupported.
        what: &'static str,
    },
    /// An error reported by a codec plugin across the plugin boundary.
    #[error("{protocol}: {message}")]
    Plugin {
        /// The plugin's protocol name.
        protocol: &'static str,
        /// The plugin ABI's error code (`xprotocol-plugin-abi::ErrorCode`).
        code: u32,
        /// The plugin's message.
        message: String,
        /// True when the proxy must close the connection.
        close_connection: bool,
    },
    /// An HTTP/2 message cannot be turned back into a native frame.
    #[error("{protocol}: HTTP/2 header `{header}`: {reason}")]
    Http2 {
        /// Protocol name.
        protocol: &'static str,
        /// The header that failed.
        header: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// The plugin ABI's code for "unsupported" (`ErrorCode::UNSUPPORTED`).
const PLUGIN_UNSUPPORTED: u32 = 9;

impl Error {
    /// What the proxy should do: close the connection or fail one stream.
    pub fn action(&self) -> ErrorAction {
        match self {
            Self::BadMagic { .. }
            | Self::FrameTooLarge { .. }
            | Self::BadFrameHeader { .. }
            | Self::ChecksumMismatch { .. } => ErrorAction::CloseConnection,
            Self::Plugin {
                close_connection: true,
                ..
            } => ErrorAction::CloseConnection,
            _ => ErrorAction::FailStream,
        }
    }

    /// The protocol that reported the error.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::BadMagic { protocol, .. }
            | Self::FrameTooLarge { protocol, .. }
            | Self::BadFrameHeader { protocol, .. }
            | Self::ChecksumMismatch { protocol, .. }
            | Self::Malformed { protocol, .. }
            | Self::LimitExceeded { protocol, .. }
            | Self::IdOutOfRange { protocol, .. }
            | Self::WrongFrameKind { protocol, .. }
            | Self::Unsupported { protocol, .. }
            | Self::Http2 { protocol, .. }
            | Self::Plugin { protocol, .. } => protocol,
        }
    }

    /// True when the error is [`Error::Unsupported`]: the operation is not
    /// available for this protocol (the CLI maps it to exit status 3).
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            Self::Unsupported { .. }
                | Self::Plugin {
                    code: PLUGIN_UNSUPPORTED,
                    ..
                }
        )
    }
}
