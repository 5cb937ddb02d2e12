//! Reading input, finding the codec and the frame(s) in it, and writing a
//! frame on stdout.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use xprotocol_core::{Codec, Detection, Registry, Split};

use crate::{CliError, codecs};

/// All bytes of `file`, or of stdin when `file` is `None` or `-`.
pub(crate) fn read_all(file: Option<&Path>) -> Result<Bytes, CliError> {
    let mut buf = Vec::new();
    match file {
        Some(path) if path != Path::new("-") => {
            buf = std::fs::read(path)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
        }
        _ => {
            std::io::stdin().lock().read_to_end(&mut buf)?;
        }
    }
    Ok(Bytes::from(buf))
}

/// The codec for `data`: the one named `protocol`, else the one the registry
/// detects. `Ok(None)` when `data` is too short to tell.
pub(crate) fn codec_for(
    registry: &Registry,
    protocol: Option<&str>,
    data: &[u8],
) -> Result<Option<Arc<dyn Codec>>, CliError> {
    if let Some(name) = protocol {
        return codecs::named(registry, name).map(Some);
    }
    match registry.detect(data) {
        Detection::Matched(codec) => Ok(Some(codec)),
        Detection::NeedMore => Ok(None),
        Detection::Unknown => Err(CliError::Input(format!(
            "unknown protocol: no codec ({}) recognises the first bytes",
            codecs::names(registry)
        ))),
    }
}

/// Exactly one whole frame on stdin, and its codec.
pub(crate) fn one_frame(
    registry: &Registry,
    protocol: Option<&str>,
) -> Result<(Arc<dyn Codec>, Bytes), CliError> {
    let data = read_all(None)?;
    let incomplete = || {
        CliError::Input(format!(
            "incomplete frame: only {} bytes on stdin",
            data.len()
        ))
    };
    let codec = codec_for(registry, protocol, &data)?.ok_or_else(incomplete)?;
    match codec.framing().split_frame(&data)? {
        Split::Complete(len) if len == data.len() => Ok((codec, data)),
        Split::Complete(len) => Err(CliError::Input(format!(
            "expected exactly one frame: {} trailing bytes after a frame of {len} bytes",
            data.len() - len
        ))),
        Split::Incomplete(_) => Err(incomplete()),
    }
}

/// Write `bytes` on stdout, raw.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Read exactly one frame on stdin, turn it into another with `f` and write
/// that on stdout.
pub(crate) fn transform_one<B: AsRef<[u8]>>(
    registry: &Registry,
    protocol: Option<&str>,
    f: impl FnOnce(&dyn Codec, Bytes) -> Result<B, CliError>,
) -> Result<(), CliError> {
    let (codec, frame) = one_frame(registry, protocol)?;
    write_stdout(f(codec.as_ref(), frame)?.as_ref())
}
