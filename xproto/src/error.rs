//! The CLI's error type and its exit statuses.

use std::io;

use xprotocol_core::Error;

/// Why a sub-command failed. Displayed as one line after `xproto: `.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad input found by the CLI itself (framing, JSON, …).
    #[error("{0}")]
    Input(String),
    /// A codec error, with a context prefix such as `frame 2 at offset 361: `.
    #[error("{context}{source}")]
    Codec {
        /// Where the error happened (empty or ending in `: `).
        context: String,
        /// The codec's error.
        source: Error,
    },
    /// The codec does not have the layer the sub-command needs.
    #[error("{protocol}: {layer} is not supported")]
    MissingLayer {
        /// Protocol name.
        protocol: String,
        /// The missing layer.
        layer: &'static str,
    },
    /// Reading input or writing output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl CliError {
    /// Exit status: 3 when the protocol does not support the operation, else 1
    /// (usage errors, status 2, are clap's).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Codec { source, .. } if source.is_unsupported() => 3,
            Self::MissingLayer { .. } => 3,
            _ => 1,
        }
    }
}

impl From<Error> for CliError {
    fn from(source: Error) -> Self {
        Self::Codec {
            context: String::new(),
            source,
        }
    }
}
