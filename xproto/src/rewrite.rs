//! `xproto rewrite-id`: one frame with a new request id.

use std::io::Write;

use xprotocol_core::{Registry, rewrite_request_id};

use crate::{CliError, input};

/// Read one frame on stdin and write it with request id `id` (checksums fixed).
pub(crate) fn run(registry: &Registry, id: u64, protocol: Option<&str>) -> Result<(), CliError> {
    let (codec, frame) = input::one_frame(registry, protocol)?;
    let mux = codec.multiplexing().ok_or_else(|| CliError::MissingLayer {
        protocol: codec.name().to_owned(),
        layer: "multiplexing",
    })?;
    let frame = rewrite_request_id(mux, frame, id)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&frame)?;
    out.flush()?;
    Ok(())
}
