//! `xproto decode`: split a byte stream into frames and print their facts.

use std::io::Write;
use std::path::Path;

use bytes::Bytes;
use serde_json::{Value, json};
use xprotocol_core::{Registry, Split};

use crate::{CliError, input};

/// What was decoded so far: printed whether or not decoding finished.
#[derive(Debug, Default)]
struct Decoded {
    /// Facts of each whole frame, in order.
    frames: Vec<Value>,
    /// Bytes up to the end of the last whole frame.
    consumed: usize,
    /// True when the input ends inside a frame.
    incomplete: bool,
}

/// Decode every whole frame of `file` (stdin when `None` or `-`) and print
/// `{"frames":[…],"consumed":N,"incomplete":bool}`. On a malformed frame the
/// frames before it are printed, then the error is returned.
pub(crate) fn run(
    registry: &Registry,
    file: Option<&Path>,
    protocol: Option<&str>,
) -> Result<(), CliError> {
    let data = input::read_all(file)?;
    let mut decoded = Decoded::default();
    let result = decode(registry, protocol, &data, &mut decoded);
    let document = json!({
        "frames": decoded.frames,
        "consumed": decoded.consumed,
        "incomplete": decoded.incomplete,
    });
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    result
}

/// Split `data` into frames, appending each frame's facts to `decoded`.
fn decode(
    registry: &Registry,
    protocol: Option<&str>,
    data: &Bytes,
    decoded: &mut Decoded,
) -> Result<(), CliError> {
    if data.is_empty() {
        return Ok(());
    }
    let Some(codec) = input::codec_for(registry, protocol, data)? else {
        decoded.incomplete = true;
        return Ok(());
    };
    while decoded.consumed < data.len() {
        let at = decoded.consumed;
        let context = |source| CliError::Codec {
            context: format!("frame {} at offset {at}: ", decoded.frames.len() + 1),
            source,
        };
        let len = match codec.framing().split_frame(&data[at..]).map_err(context)? {
            Split::Complete(len) => len,
            Split::Incomplete(_) => {
                decoded.incomplete = true;
                return Ok(());
            }
        };
        let facts = codec.facts(&data.slice(at..at + len)).map_err(context)?;
        decoded.frames.push(facts.to_json());
        decoded.consumed += len;
    }
    Ok(())
}
