//! `xproto heartbeat-reply`, `local-reply`, `heartbeat` and `goaway`: the
//! frames a proxy writes itself.

use bytes::BytesMut;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use xprotocol_core::{Error, LocalStatus, Registry};

use crate::{CliError, codecs, input};

/// Clap value parser for `LocalStatus` names; `--help` lists them.
pub(crate) fn status_parser() -> impl TypedValueParser<Value = LocalStatus> {
    PossibleValuesParser::new(LocalStatus::ALL.map(LocalStatus::as_str)).try_map(|name| {
        LocalStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| format!("unknown status `{name}`"))
    })
}

/// The frame `write` appends to an empty buffer.
fn build(write: impl FnOnce(&mut BytesMut) -> Result<(), Error>) -> Result<BytesMut, CliError> {
    let mut dst = BytesMut::new();
    write(&mut dst)?;
    Ok(dst)
}

/// Read one heartbeat request on stdin and write its native reply.
pub(crate) fn heartbeat_reply(registry: &Registry, protocol: Option<&str>) -> Result<(), CliError> {
    input::transform_one(registry, protocol, |codec, frame| {
        let mux = codecs::multiplexing(codec)?;
        build(|dst| mux.heartbeat_reply(&frame, dst))
    })
}

/// Read one two-way request on stdin and write the native error response.
pub(crate) fn local_reply(
    registry: &Registry,
    status: LocalStatus,
    message: &str,
    protocol: Option<&str>,
) -> Result<(), CliError> {
    input::transform_one(registry, protocol, |codec, frame| {
        let routing = codecs::routing(codec)?;
        build(|dst| routing.local_reply(&frame, status, message, dst))
    })
}

/// Write `protocol`'s active heartbeat request with id `id`.
pub(crate) fn heartbeat(registry: &Registry, protocol: &str, id: u64) -> Result<(), CliError> {
    let codec = codecs::named(registry, protocol)?;
    let mux = codecs::multiplexing(codec.as_ref())?;
    input::write_stdout(&build(|dst| mux.heartbeat_request(id, dst))?)
}

/// Write `protocol`'s goaway frame with id `id`.
pub(crate) fn goaway(registry: &Registry, protocol: &str, id: u64) -> Result<(), CliError> {
    let codec = codecs::named(registry, protocol)?;
    let mux = codecs::multiplexing(codec.as_ref())?;
    input::write_stdout(&build(|dst| mux.goaway(id, dst))?)
}

#[cfg(test)]
mod tests {
    use clap::Command;

    use super::*;

    #[test]
    fn status_parser_accepts_every_name() {
        let cmd = Command::new("t");
        for status in LocalStatus::ALL {
            let parsed = status_parser().parse_ref(&cmd, None, status.as_str().as_ref());
            assert_eq!(parsed.unwrap(), status);
        }
        assert!(
            status_parser()
                .parse_ref(&cmd, None, "nope".as_ref())
                .is_err()
        );
    }
}
