//! `xproto sidecar`, `xproto mesh` and `xproto demo`: the example sidecar
//! (`examples/sidecar`) run from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use xprotocol_core::Registry;
use xprotocol_sidecar::{Config, Sidecar};

use crate::CliError;

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Run until Ctrl-C or SIGTERM.
async fn until_stopped() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// `xproto sidecar --config FILE`.
pub(crate) fn sidecar(registry: Registry, config: &Path) -> Result<(), CliError> {
    let config = Config::from_file(config).map_err(xprotocol_sidecar::SidecarError::from)?;
    runtime()?.block_on(async {
        let sidecar = Sidecar::new(config).registry(registry).start().await?;
        let mut out = std::io::stdout().lock();
        for (name, address) in sidecar.addresses() {
            writeln!(out, "listening {name} {address}")?;
        }
        out.flush()?;
        drop(out);
        until_stopped().await;
        sidecar.shutdown();
        Ok(())
    })
}

/// `xproto mesh --listen --upstream [--config]`.
pub(crate) fn mesh(
    registry: Registry,
    listen: SocketAddr,
    upstream: &str,
    config: Option<&Path>,
) -> Result<(), CliError> {
    let config = config
        .map(Config::from_file)
        .transpose()
        .map_err(xprotocol_sidecar::SidecarError::from)?;
    // Each sidecar on a thread of its own (two cores in all), as on two hosts.
    let mesh = xprotocol_sidecar::mesh::start_threads(listen, Some(upstream), config, registry)?;
    runtime()?.block_on(async {
        let show = |a: Option<SocketAddr>| a.map_or_else(|| "-".to_owned(), |a| a.to_string());
        println!(
            "mesh listening {} peer {}",
            show(mesh.listen_address()),
            show(mesh.peer_address())
        );
        std::io::stdout().flush()?;
        until_stopped().await;
        Ok(())
    })
}

/// `xproto demo`.
pub(crate) fn demo(calls: usize) -> Result<(), CliError> {
    let report = runtime()?.block_on(xprotocol_sidecar::demo::run(calls))?;
    print!("{report}");
    if report.unexpected > 0 {
        return Err(CliError::Input(format!(
            "demo: {} calls failed unexpectedly",
            report.unexpected
        )));
    }
    Ok(())
}
