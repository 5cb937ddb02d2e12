//! The CLI's error type and its exit statuses.

use std::io;

use xprotocol_core::Error;
use xprotocol_plugin_host::LoadError;

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
    /// A usage error found after parsing: an unknown protocol name (status 2).
    #[error("{0}")]
    Usage(String),
    /// A `--plugin` file was refused.
    #[error("{0}")]
    Plugin(#[from] LoadError),
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
    /// A sidecar could not start.
    #[error("{0}")]
    Sidecar(#[from] xprotocol_sidecar::SidecarError),
}

impl CliError {
    /// Exit status: 2 for a usage error (most are clap's), 3 when the protocol
    /// does not support the operation, else 1.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Codec { source, .. } if source.is_unsupported() => 3,
            Self::MissingLayer { .. } => 3,
            _ => 1,
        }
    }

    /// The full report behind a one-line error (a refused plugin's layout
    /// errors), printed only when `XPROTO_DEBUG` is set.
    pub(crate) fn detail(&self) -> Option<&str> {
        match self {
            Self::Plugin(e) if !e.detail.is_empty() => Some(&e.detail),
            _ => None,
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
