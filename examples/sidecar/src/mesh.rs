//! A sidecar pair in one process, as `xproto mesh` runs it: sidecar A accepts
//! native traffic, speaks HTTP/2 (optionally mTLS) to sidecar B, and B
//! forwards natively to the upstream.
//!
//! A applies the configuration's routes (matching, weighted split, header
//! edits, timeouts) and tells B which cluster it chose in the `xp-cluster`
//! header; B owns the clusters' native endpoints. Without a configuration
//! every interface routes to the upstream.

use std::net::SocketAddr;

use xprotocol_core::Registry;

use crate::{
    ClusterConfig, ClusterProtocol, Config, ListenerConfig, ListenerProtocol, RouteConfig,
    RunningSidecar, Sidecar, SidecarError, SidecarThread,
};

/// The cluster every unmatched request goes to.
pub const UPSTREAM_CLUSTER: &str = "upstream";

/// A running sidecar pair.
#[derive(Debug)]
pub struct Mesh {
    /// The sidecar applications connect to.
    pub a: RunningSidecar,
    /// The sidecar in front of the upstream.
    pub b: RunningSidecar,
}

impl Mesh {
    /// Where applications connect (A's native listener).
    pub fn listen_address(&self) -> Option<SocketAddr> {
        self.a.address("native")
    }

    /// Where A reaches B (B's HTTP/2 listener).
    pub fn peer_address(&self) -> Option<SocketAddr> {
        self.b.address("from-peers")
    }
}

/// Start B on an ephemeral loopback port, then A on `listen`.
///
/// `upstream` is an endpoint (`IP:PORT` or `scheme://name:port`) taking every
/// request no configured route matches; without it such requests get a
/// `no_route` local reply.
pub async fn start(
    listen: SocketAddr,
    upstream: Option<&str>,
    config: Option<Config>,
    registry: Registry,
) -> Result<Mesh, SidecarError> {
    let config = config.unwrap_or_default();
    let b = sidecar_b(&config, upstream);
    let b = Sidecar::new(b).registry(registry.clone()).start().await?;
    let peer = b
        .address("from-peers")
        .ok_or_else(|| SidecarError::Config("sidecar B has no listener".into()))?;
    let a = sidecar_a(&config, listen, peer, upstream.is_some());
    let a = Sidecar::new(a).registry(registry).start().await?;
    Ok(Mesh { a, b })
}

/// A sidecar pair with each sidecar on an OS thread of its own
/// ([`Sidecar::spawn_thread`]), as two sidecars on two hosts would be: a
/// request crosses from A's thread to B's only through the HTTP/2 connection.
#[derive(Debug)]
pub struct MeshThreads {
    /// The sidecar applications connect to.
    pub a: SidecarThread,
    /// The sidecar in front of the upstream.
    pub b: SidecarThread,
}

impl MeshThreads {
    /// Where applications connect (A's native listener).
    pub fn listen_address(&self) -> Option<SocketAddr> {
        self.a.address("native")
    }

    /// Where A reaches B (B's HTTP/2 listener).
    pub fn peer_address(&self) -> Option<SocketAddr> {
        self.b.address("from-peers")
    }
}

/// [`start`], with each sidecar on its own thread and single-threaded runtime.
pub fn start_threads(
    listen: SocketAddr,
    upstream: Option<&str>,
    config: Option<Config>,
    registry: Registry,
) -> Result<MeshThreads, SidecarError> {
    let config = config.unwrap_or_default();
    let b = Sidecar::new(sidecar_b(&config, upstream))
        .registry(registry.clone())
        .spawn_thread("sidecar-b")?;
    let peer = b
        .address("from-peers")
        .ok_or_else(|| SidecarError::Config("sidecar B has no listener".into()))?;
    let a = Sidecar::new(sidecar_a(&config, listen, peer, upstream.is_some()))
        .registry(registry)
        .spawn_thread("sidecar-a")?;
    Ok(MeshThreads { a, b })
}

fn upstream_route() -> RouteConfig {
    RouteConfig {
        name: Some("default".into()),
        cluster: Some(UPSTREAM_CLUSTER.into()),
        ..RouteConfig::default()
    }
}

fn sidecar_b(config: &Config, upstream: Option<&str>) -> Config {
    let mut clusters = config.clusters.clone();
    let mut routes = Vec::new();
    if let Some(upstream) = upstream {
        clusters.push(ClusterConfig {
            name: UPSTREAM_CLUSTER.into(),
            protocol: ClusterProtocol::Native,
            endpoints: vec![upstream.to_owned()],
            remote_cluster: None,
            tls: None,
        });
        routes.push(upstream_route());
    }
    Config {
        sidecar: config.sidecar.clone(),
        listeners: vec![ListenerConfig {
            name: "from-peers".into(),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            protocol: ListenerProtocol::Http2,
            codecs: Vec::new(),
            tls: config.mesh.server_tls.clone(),
        }],
        routes,
        clusters,
        mesh: Default::default(),
    }
}

fn sidecar_a(config: &Config, listen: SocketAddr, peer: SocketAddr, catch_all: bool) -> Config {
    let to_peer = |name: &str| ClusterConfig {
        name: name.to_owned(),
        protocol: ClusterProtocol::Http2,
        endpoints: vec![peer.to_string()],
        remote_cluster: Some(name.to_owned()),
        tls: config.mesh.client_tls.clone(),
    };
    let mut clusters: Vec<ClusterConfig> =
        config.clusters.iter().map(|c| to_peer(&c.name)).collect();
    let mut routes = config.routes.clone();
    if catch_all {
        clusters.push(to_peer(UPSTREAM_CLUSTER));
        routes.push(upstream_route());
    }
    Config {
        sidecar: config.sidecar.clone(),
        listeners: vec![ListenerConfig {
            name: "native".into(),
            address: listen,
            protocol: ListenerProtocol::Native,
            codecs: Vec::new(),
            tls: None,
        }],
        routes,
        clusters,
        mesh: Default::default(),
    }
}
