//! The codecs of a run (built-in and plugins): registry, lookup by name, and
//! the `protocols` and `plugins` listings.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use xprotocol_core::{Codec, Multiplexing, Registry, Routing};

use crate::CliError;

/// The codecs of a run: the built-in ones (unless `no_builtin`), then each
/// plugin in order, a plugin replacing a codec of the same name in place.
pub(crate) fn registry(plugins: &[PathBuf], no_builtin: bool) -> Result<Registry, CliError> {
    let mut registry = if no_builtin {
        Registry::new()
    } else {
        xprotocol_sidecar::builtin_registry()
    };
    for path in plugins {
        registry.register(xprotocol_plugin_host::load(path)?);
    }
    Ok(registry)
}

/// `--help` of a protocol name argument: `about`, then the built-in names.
/// Names are checked against the registry once plugins are loaded.
pub(crate) fn protocol_help(about: &str) -> String {
    format!(
        "{about} (built-in: {}; or a --plugin codec)",
        names(&xprotocol_sidecar::builtin_registry())
    )
}

/// The codec named `name`, or a usage error (exit status 2) listing the others.
pub(crate) fn named(registry: &Registry, name: &str) -> Result<Arc<dyn Codec>, CliError> {
    registry.get(name).cloned().ok_or_else(|| {
        CliError::Usage(format!(
            "unknown protocol `{name}` (available: {})",
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

/// The names of the registered codecs, comma-separated (`none` when empty).
pub(crate) fn names(registry: &Registry) -> String {
    if registry.codecs().is_empty() {
        return "none".to_owned();
    }
    registry
        .codecs()
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The layers of `codec`, comma-separated.
fn layers(codec: &dyn Codec) -> String {
    codec.capabilities().names().collect::<Vec<_>>().join(", ")
}

/// `xproto protocols`: one line per codec, its name then its layers.
pub(crate) fn list(registry: &Registry) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let width = registry.codecs().iter().map(|c| c.name().len() + 2);
    let width = width.max().unwrap_or(0).max(8);
    for codec in registry.codecs() {
        let id = codec
            .multiplexing()
            .map(|m| format!(" (request id: {} bits)", m.id_width().bits()));
        writeln!(
            out,
            "{:<width$}{}{}",
            codec.name(),
            layers(codec.as_ref()),
            id.unwrap_or_default()
        )?;
    }
    out.flush()?;
    Ok(())
}

/// `xproto plugins PATH…`: load each file on its own and print one line per
/// file, `PATH: NAME abi VERSION capabilities LAYERS` or `PATH: refused: WHY`.
/// Every line is printed; then an error (status 1) if any file was refused.
pub(crate) fn check_plugins(paths: &[PathBuf]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let mut refused = 0;
    for path in paths {
        let shown = path.display();
        match xprotocol_plugin_host::load(path) {
            Ok(codec) => writeln!(
                out,
                "{shown}: {} abi {} capabilities {}",
                codec.name(),
                codec.abi_version(),
                layers(codec.as_ref())
            )?,
            Err(e) => {
                refused += 1;
                writeln!(out, "{shown}: refused: {}", e.short)?;
            }
        }
    }
    out.flush()?;
    match refused {
        0 => Ok(()),
        n => Err(CliError::Input(format!(
            "{n} of {} plugins refused",
            paths.len()
        ))),
    }
}
