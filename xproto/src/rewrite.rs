//! `xproto rewrite-id`: one frame with a new request id.

use xprotocol_core::{Registry, rewrite_request_id};

use crate::{CliError, codecs, input};

/// Read one frame on stdin and write it with request id `id` (checksums fixed).
pub(crate) fn run(registry: &Registry, id: u64, protocol: Option<&str>) -> Result<(), CliError> {
    input::transform_one(registry, protocol, |codec, frame| {
        Ok(rewrite_request_id(codecs::multiplexing(codec)?, frame, id)?)
    })
}
