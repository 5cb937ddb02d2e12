//! The built-in codecs: registry, lookup by name, and the `protocols` listing.

use std::io::Write;
use std::sync::Arc;

use xprotocol_bolt::BoltCodec;
use xprotocol_core::{Codec, Multiplexing, Registry, Routing};
use xprotocol_dubbo::DubboCodec;
use xprotocol_hsf::HsfCodec;

use crate::CliError;

/// Every codec linked into `xproto`, in detection priority order.
/// Adding a protocol is one `register` line here.
pub(crate) fn builtin_registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(Arc::new(BoltCodec::new()));
    registry.register(Arc::new(DubboCodec::new()));
    registry.register(Arc::new(HsfCodec::new()));
    registry
}

/// Clap value parser for protocol names: only built-in codecs are accepted.
pub(crate) fn parse_protocol(name: &str) -> Result<String, String> {
    let registry = builtin_registry();
    match registry.get(name) {
        Some(_) => Ok(name.to_owned()),
        None => Err(format!("unknown protocol (built-in: {})", names(&registry))),
    }
}

/// The codec named `name` (already validated by [`parse_protocol`]).
pub(crate) fn named(registry: &Registry, name: &str) -> Result<Arc<dyn Codec>, CliError> {
    registry.get(name).cloned().ok_or_else(|| {
        CliError::Input(format!(
            "unknown protocol `{name}` (built-in: {})",
            names(registry)
        ))
    })
}

/// The codec's multiplexing layer, or exit status 3.
pub(crate) fn multiplexing(codec: &dyn Codec) -> Result<&dyn Multiplexing, CliError> {
    codec
        .multiplexing()
        .ok_or_else(|| missing(codec, "multiplexing"))
}

/// The codec's routing layer, or exit status 3.
pub(crate) fn routing(codec: &dyn Codec) -> Result<&dyn Routing, CliError> {
    codec.routing().ok_or_else(|| missing(codec, "routing"))
}

/// The codec lacks `layer` (exit status 3).
fn missing(codec: &dyn Codec, layer: &'static str) -> CliError {
    CliError::MissingLayer {
        protocol: codec.name().to_owned(),
        layer,
    }
}

/// The names of the registered codecs, comma-separated.
pub(crate) fn names(registry: &Registry) -> String {
    registry
        .codecs()
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `xproto protocols`: one line per codec, its name then its layers.
pub(crate) fn list(registry: &Registry) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for codec in registry.codecs() {
        let layers: Vec<_> = codec.capabilities().names().collect();
        let id = codec
            .multiplexing()
            .map(|m| format!(" (request id: {} bits)", m.id_width().bits()));
        writeln!(
            out,
            "{:<8}{}{}",
            codec.name(),
            layers.join(", "),
            id.unwrap_or_default()
        )?;
    }
    out.flush()?;
    Ok(())
}
