//! An example sidecar on tokio + h2 + xprotocol, using every layer the way
//! SOFA-MOSN does in SOFA Mesh:
//!
//! * **open box**: the protocol of each application connection is detected by
//!   the [`Registry`] and frames are split without copying;
//! * **multiplexing**: many downstream connections share a small pool of
//!   upstream connections per endpoint; request ids are rewritten in place per
//!   upstream connection and restored on the response; heartbeats are answered
//!   locally, idle upstreams get active heartbeats, goaways drain;
//! * **routing**: routes keyed by interface, matching method, version, group
//!   and any header, with weighted clusters and header edits written on the
//!   wire; endpoints static or resolved by interface name in DNS; every
//!   failure answered with a native local reply;
//! * **transcoding**: sidecars talk HTTP/2 to each other (optionally mTLS),
//!   each RPC transcoded losslessly and back.
//!
//! ```no_run
//! # async fn run() -> Result<(), xprotocol_sidecar::SidecarError> {
//! use xprotocol_sidecar::{Config, Sidecar};
//!
//! let config = Config::from_file("sidecar.toml".as_ref())?;
//! let sidecar = Sidecar::new(config).start().await?;
//! println!("listening on {:?}", sidecar.addresses());
//! sidecar.wait().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod cluster;
mod config;
pub mod demo;
pub mod dns;
mod downstream;
mod inbound;
pub mod mesh;
mod peer;
mod proxy;
mod router;
pub mod rpc;
mod stats;
pub mod tls;
mod transport;
mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use xprotocol_core::{Codec, Registry};

pub use cluster::{CLUSTER_HEADER, EndpointSpec, TIMEOUT_HEADER};
pub use config::{
    ClusterConfig, ClusterProtocol, Config, ConfigError, ListenerConfig, ListenerProtocol,
    MeshConfig, RouteConfig, SidecarOptions, WeightedCluster,
};
pub use router::{Route, Router};
pub use stats::{Counter, Stats};

/// Why a sidecar could not start.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// The configuration is unusable.
    #[error("{0}")]
    Config(String),
    /// A configuration file problem.
    #[error(transparent)]
    ConfigFile(#[from] ConfigError),
    /// A TLS file problem.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// A thread, runtime or socket of the sidecar (or the demo) could not be set up.
    #[error("cannot start: {0}")]
    Start(#[from] std::io::Error),
    /// A listener could not bind.
    #[error("listener `{name}` on {address}: {source}")]
    Bind {
        /// Listener name.
        name: String,
        /// Address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The codecs a sidecar detects when none are given: Bolt, Dubbo, HSF.
pub fn builtin_registry() -> Registry {
    let mut registry = Registry::new();
    let codecs: [Arc<dyn Codec>; 3] = [
        Arc::new(xprotocol_bolt::BoltCodec::new()),
        Arc::new(xprotocol_dubbo::DubboCodec::new()),
        Arc::new(xprotocol_hsf::HsfCodec::new()),
    ];
    for codec in codecs {
        registry.register(codec);
    }
    registry
}

/// A sidecar, configured but not started.
#[derive(Debug)]
pub struct Sidecar {
    config: Config,
    registry: Registry,
    resolver: Option<Arc<dyn dns::Resolve>>,
}

impl Sidecar {
    /// A sidecar with the built-in codecs.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            registry: builtin_registry(),
            resolver: None,
        }
    }

    /// Use these codecs (for example built-ins plus loaded plugins).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Resolve `scheme://name:port` endpoints with this resolver (default: a
    /// [`dns::DnsResolver`] on `sidecar.dns_server`, when configured).
    pub fn resolver(mut self, resolver: Arc<dyn dns::Resolve>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Bind every listener and start serving.
    pub async fn start(self) -> Result<RunningSidecar, SidecarError> {
        self.config.validate()?;
        let options = self.config.sidecar.clone();
        let stats = Arc::new(Stats::default());
        let resolver = self.resolver.or_else(|| {
            options
                .dns_server
                .map(|server| Arc::new(dns::DnsResolver::new(server)) as Arc<dyn dns::Resolve>)
        });
        let mut clusters = HashMap::new();
        for cluster in &self.config.clusters {
            let built = cluster::Cluster::new(cluster, &options, resolver.clone(), stats.clone())?;
            clusters.insert(cluster.name.clone(), Arc::new(built));
        }
        let shared = Arc::new(proxy::Shared {
            registry: self.registry.clone(),
            router: Router::new(&self.config, &stats),
            clusters,
            options,
            stats: stats.clone(),
        });
        let (stop, shutdown) = watch::channel(false);
        let mut addresses = Vec::new();
        let mut tasks = Vec::new();
        for listener in &self.config.listeners {
            let bound = TcpListener::bind(listener.address)
                .await
                .map_err(|source| SidecarError::Bind {
                    name: listener.name.clone(),
                    address: listener.address,
                    source,
                })?;
            let address = bound.local_addr().map_err(|source| SidecarError::Bind {
                name: listener.name.clone(),
                address: listener.address,
                source,
            })?;
            addresses.push((listener.name.clone(), address));
            let task = match listener.protocol {
                ListenerProtocol::Native => {
                    let registry = restrict(&self.registry, &listener.codecs)?;
                    tokio::spawn(downstream::serve(
                        bound,
                        shared.clone(),
                        registry,
                        shutdown.clone(),
                    ))
                }
                ListenerProtocol::Http2 => {
                    let tls = listener.tls.as_ref().map(tls::server_config).transpose()?;
                    tokio::spawn(inbound::serve(bound, shared.clone(), tls, shutdown.clone()))
                }
            };
            tasks.push(task);
        }
        Ok(RunningSidecar {
            addresses,
            shared,
            stop,
            tasks,
        })
    }
}

impl Sidecar {
    /// Start the sidecar on an OS thread of its own, with a single-threaded
    /// runtime: every request this sidecar handles stays on one core, with no
    /// wake-ups or locks shared with another worker (as Envoy's and MOSN's
    /// workers do). Returns once the listeners are bound.
    pub fn spawn_thread(self, name: &str) -> Result<SidecarThread, SidecarError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(SidecarError::Start(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match self.start().await {
                        Ok(sidecar) => {
                            let ready = (sidecar.addresses.clone(), sidecar.stats().clone());
                            let _ = ready_tx.send(Ok(ready));
                            let _ = stopped.await;
                            sidecar.shutdown();
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(SidecarError::Start)?;
        let (addresses, stats) = ready_rx
            .recv()
            .map_err(|_| SidecarError::Config("sidecar thread ended before starting".into()))??;
        Ok(SidecarThread {
            addresses,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A sidecar running on its own thread ([`Sidecar::spawn_thread`]); dropping
/// it stops the sidecar and joins the thread.
#[derive(Debug)]
pub struct SidecarThread {
    addresses: Vec<(String, SocketAddr)>,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SidecarThread {
    /// The bound address of the listener called `name`.
    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        listener_address(&self.addresses, name)
    }

    /// The sidecar's counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }
}

impl Drop for SidecarThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The address of the listener called `name` among `addresses`.
fn listener_address(addresses: &[(String, SocketAddr)], name: &str) -> Option<SocketAddr> {
    addresses.iter().find(|(n, _)| n == name).map(|(_, a)| *a)
}

/// The registry limited to `names` (all of it when `names` is empty).
fn restrict(registry: &Registry, names: &[String]) -> Result<Registry, SidecarError> {
    if names.is_empty() {
        return Ok(registry.clone());
    }
    let mut out = Registry::new();
    for name in names {
        let codec = registry
            .get(name)
            .ok_or_else(|| SidecarError::Config(format!("unknown codec `{name}`")))?;
        out.register(codec.clone());
    }
    Ok(out)
}

/// A started sidecar. Dropping it stops the listeners and connections.
#[derive(Debug)]
pub struct RunningSidecar {
    addresses: Vec<(String, SocketAddr)>,
    shared: Arc<proxy::Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSidecar {
    /// The bound address of every listener, by name.
    pub fn addresses(&self) -> &[(String, SocketAddr)] {
        &self.addresses
    }

    /// The bound address of the listener called `name`.
    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        listener_address(&self.addresses, name)
    }

    /// The sidecar's counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.shared.stats
    }

    /// Run until the listeners stop (that is, forever, unless shut down elsewhere).
    pub async fn wait(mut self) {
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }

    /// Stop accepting, close every downstream, peer and upstream connection.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
        self.shared.close_upstreams();
    }
}

impl Drop for RunningSidecar {
    fn drop(&mut self) {
        self.shutdown();
    }
}
