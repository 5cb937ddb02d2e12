//! The sidecar's configuration, read from TOML.
//!
//! ```toml
//! [sidecar]
//! default_timeout_ms = 3000
//! dns_server = "127.0.0.1:5353"        # resolves `bolt://interface:port` endpoints
//!
//! [[listeners]]
//! name = "native"
//! address = "127.0.0.1:12200"          # Bolt, Dubbo, HSF detected per connection
//!
//! [[listeners]]
//! name = "from-peers"
//! address = "127.0.0.1:15001"
//! protocol = "http2"                   # HTTP/2 from peer sidecars
//! tls = { cert = "b.pem", key = "b.key", ca = "ca.pem" }
//!
//! [[routes]]
//! interface = "com.example.UserService"
//! timeout_ms = 500
//! set_headers = { "x-trace-id" = "from-sidecar" }
//! clusters = [{ name = "user-v1", weight = 90 }, { name = "user-v2", weight = 10 }]
//!
//! [[clusters]]
//! name = "user-v1"
//! endpoints = ["bolt://com.example.UserService:12220"]
//! ```
//!
//! Routes are tried in order and the first match wins; a route with no
//! `interface` matches every interface.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::tls::TlsFiles;

/// A whole sidecar configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Process-wide options.
    #[serde(default)]
    pub sidecar: SidecarOptions,
    /// Where the sidecar accepts connections.
    #[serde(default)]
    pub listeners: Vec<ListenerConfig>,
    /// Routes by interface, tried in order.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Upstream clusters the routes name.
    #[serde(default)]
    pub clusters: Vec<ClusterConfig>,
    /// Used by `xproto mesh` only: mTLS on the hop between its two sidecars.
    #[serde(default)]
    pub mesh: MeshConfig,
}

/// Options of a sidecar pair run by [`crate::mesh::start`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshConfig {
    /// Sidecar A's identity and trusted CA when it connects to B.
    #[serde(default)]
    pub client_tls: Option<TlsFiles>,
    /// Sidecar B's identity and trusted CA for the clients it accepts.
    #[serde(default)]
    pub server_tls: Option<TlsFiles>,
}

/// Process-wide options, all with defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SidecarOptions {
    /// Timeout of a request whose route sets none, in milliseconds.
    pub default_timeout_ms: u64,
    /// Requests in flight per downstream connection (or per HTTP/2 connection
    /// from a peer) before the sidecar answers `overloaded`.
    pub max_concurrent_streams: usize,
    /// Upstream connections per native endpoint, shared by every downstream connection.
    pub connections_per_endpoint: usize,
    /// Idle time after which an upstream connection gets an active heartbeat,
    /// in milliseconds; 0 turns active heartbeats off.
    pub heartbeat_interval_ms: u64,
    /// Connect timeout to upstreams and peers, in milliseconds.
    pub connect_timeout_ms: u64,
    /// How long an endpoint whose connect failed is skipped, in milliseconds.
    pub unhealthy_for_ms: u64,
    /// Largest frame or HTTP/2 body accepted, in bytes.
    pub max_frame_len: usize,
    /// DNS server for endpoints written `scheme://name:port`.
    pub dns_server: Option<SocketAddr>,
    /// First request id of every upstream connection (tests use it to reach the wrap-around).
    pub first_upstream_id: u64,
}

impl Default for SidecarOptions {
    fn default() -> Self {
        Self {
            default_timeout_ms: 3_000,
            max_concurrent_streams: 1_024,
            connections_per_endpoint: 2,
            heartbeat_interval_ms: 15_000,
            connect_timeout_ms: 1_000,
            unhealthy_for_ms: 1_000,
            max_frame_len: 16 * 1024 * 1024,
            dns_server: None,
            first_upstream_id: 1,
        }
    }
}

impl SidecarOptions {
    /// The default request timeout.
    pub fn default_timeout(&self) -> Duration {
        Duration::from_millis(self.default_timeout_ms)
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The active heartbeat interval, unless turned off.
    pub fn heartbeat_interval(&self) -> Option<Duration> {
        (self.heartbeat_interval_ms > 0).then(|| Duration::from_millis(self.heartbeat_interval_ms))
    }
}

/// What a listener accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerProtocol {
    /// Native RPC from applications, the codec detected per connection.
    #[default]
    Native,
    /// HTTP/2 from peer sidecars, every RPC transcoded.
    Http2,
}

/// One listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// Name, for addresses and statistics.
    pub name: String,
    /// Address to bind; port 0 picks a free port.
    pub address: SocketAddr,
    /// Native or HTTP/2.
    #[serde(default)]
    pub protocol: ListenerProtocol,
    /// Codecs accepted on a native listener (default: every registered codec).
    #[serde(default)]
    pub codecs: Vec<String>,
    /// mTLS on an HTTP/2 listener.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
}

/// A route: which requests it matches and where they go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Route name, for statistics (default: `route-{index}`).
    #[serde(default)]
    pub name: Option<String>,
    /// Interface (service) to match; none matches every interface.
    #[serde(default)]
    pub interface: Option<String>,
    /// Method to match.
    #[serde(default)]
    pub method: Option<String>,
    /// Version to match.
    #[serde(default)]
    pub version: Option<String>,
    /// Group to match.
    #[serde(default)]
    pub group: Option<String>,
    /// Protocol headers or attachments that must be present with these values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The single cluster (shorthand for one weighted cluster).
    #[serde(default)]
    pub cluster: Option<String>,
    /// Weighted clusters, for traffic splitting.
    #[serde(default)]
    pub clusters: Vec<WeightedCluster>,
    /// Headers or attachments added or overridden on the wire.
    #[serde(default)]
    pub set_headers: BTreeMap<String, String>,
    /// Headers or attachments removed on the wire.
    #[serde(default)]
    pub remove_headers: Vec<String>,
    /// Timeout of requests on this route, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// A cluster and its share of a route's traffic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedCluster {
    /// Cluster name.
    pub name: String,
    /// Relative weight.
    pub weight: u32,
}

/// How a cluster is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterProtocol {
    /// The caller's own protocol, on pooled, multiplexed connections.
    #[default]
    Native,
    /// HTTP/2 to a peer sidecar, one connection carrying every stream.
    Http2,
}

/// An upstream cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Name routes refer to.
    pub name: String,
    /// Native or HTTP/2 to a peer sidecar.
    #[serde(default)]
    pub protocol: ClusterProtocol,
    /// `IP:PORT`, or `scheme://name:port` resolved through DNS
    /// (interface-as-domain: `bolt://com.example.UserService:12220`).
    pub endpoints: Vec<String>,
    /// HTTP/2 only: the cluster the peer sidecar should deliver to
    /// (sent as the `xp-cluster` header); without it the peer routes itself.
    #[serde(default)]
    pub remote_cluster: Option<String>,
    /// HTTP/2 only: mTLS to the peer.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown fields.
    #[error("bad configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// The configuration is inconsistent.
    #[error("bad configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Parse TOML text and validate it.
    ///
    /// ```
    /// let config = xprotocol_sidecar::Config::from_toml(r#"
    ///     [[routes]]
    ///     interface = "com.example.UserService"
    ///     cluster = "users"
    ///     [[clusters]]
    ///     name = "users"
    ///     endpoints = ["127.0.0.1:12220"]
    /// "#)?;
    /// assert_eq!(config.routes.len(), 1);
    /// # Ok::<(), xprotocol_sidecar::ConfigError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Read and validate a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Check that names are unique, every route names known clusters with
    /// positive total weight, and endpoints parse.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let mut names = std::collections::HashSet::new();
        for cluster in &self.clusters {
            if !names.insert(cluster.name.as_str()) {
                return invalid(format!("cluster `{}` defined twice", cluster.name));
            }
            if cluster.endpoints.is_empty() {
                return invalid(format!("cluster `{}` has no endpoints", cluster.name));
            }
            for endpoint in &cluster.endpoints {
                crate::cluster::EndpointSpec::parse(endpoint).map_err(ConfigError::Invalid)?;
            }
            if cluster.protocol == ClusterProtocol::Native
                && (cluster.tls.is_some() || cluster.remote_cluster.is_some())
            {
                return invalid(format!(
                    "cluster `{}`: tls and remote_cluster need protocol = \"http2\"",
                    cluster.name
                ));
            }
        }
        for (i, route) in self.routes.iter().enumerate() {
            let label = route.name.clone().unwrap_or_else(|| format!("route-{i}"));
            let targets = route.targets();
            if targets.is_empty() {
                return invalid(format!("route `{label}` names no cluster"));
            }
            if targets.iter().map(|t| u64::from(t.weight)).sum::<u64>() == 0 {
                return invalid(format!("route `{label}`: weights add up to 0"));
            }
            if let Some(unknown) = targets.iter().find(|t| !names.contains(t.name.as_str())) {
                return invalid(format!(
                    "route `{label}` names unknown cluster `{}`",
                    unknown.name
                ));
            }
        }
        let mut listeners = std::collections::HashSet::new();
        for listener in &self.listeners {
            if !listeners.insert(listener.name.as_str()) {
                return invalid(format!("listener `{}` defined twice", listener.name));
            }
            if listener.protocol == ListenerProtocol::Native && listener.tls.is_some() {
                return invalid(format!(
                    "listener `{}`: tls is for protocol = \"http2\"",
                    listener.name
                ));
            }
        }
        if self.sidecar.max_concurrent_streams == 0 || self.sidecar.connections_per_endpoint == 0 {
            return invalid(
                "max_concurrent_streams and connections_per_endpoint must be positive".into(),
            );
        }
        Ok(())
    }
}

impl RouteConfig {
    /// The route's clusters with their weights (`cluster` counts as weight 1).
    pub fn targets(&self) -> Vec<WeightedCluster> {
        let mut targets = self.clusters.clone();
        if let Some(name) = &self.cluster {
            targets.push(WeightedCluster {
                name: name.clone(),
                weight: 1,
            });
        }
        targets
    }

    /// The route's timeout, or `default`.
    pub fn timeout(&self, default: Duration) -> Duration {
        self.timeout_ms.map_or(default, Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let config = Config::from_toml(
            r#"
            [sidecar]
            default_timeout_ms = 100
            [[listeners]]
            name = "native"
            address = "127.0.0.1:0"
            [[routes]]
            interface = "com.example.UserService"
            set_headers = { "x-trace-id" = "t1" }
            clusters = [{ name = "v1", weight = 90 }, { name = "v2", weight = 10 }]
            [[clusters]]
            name = "v1"
            endpoints = ["bolt://com.example.UserService:12220"]
            [[clusters]]
            name = "v2"
            protocol = "http2"
            endpoints = ["127.0.0.1:15001"]
            remote_cluster = "v2"
            "#,
        )
        .unwrap();
        assert_eq!(config.sidecar.default_timeout_ms, 100);
        assert_eq!(config.routes[0].targets().len(), 2);
        assert_eq!(config.clusters[1].protocol, ClusterProtocol::Http2);
    }

    #[test]
    fn refuses_inconsistent_configs() {
        let cases = [
            ("[[routes]]\ncluster = \"nope\"", "unknown cluster"),
            ("[[routes]]\ninterface = \"a\"", "names no cluster"),
            ("[[clusters]]\nname = \"c\"\nendpoints = []", "no endpoints"),
            (
                "[[clusters]]\nname = \"c\"\nendpoints = [\"nonsense\"]",
                "endpoint",
            ),
            (
                "[[routes]]\nclusters = [{ name = \"c\", weight = 0 }]\n[[clusters]]\nname = \"c\"\nendpoints = [\"127.0.0.1:1\"]",
                "weights",
            ),
            ("[sidecar]\nbogus = 1", "unknown field"),
        ];
        for (text, expected) in cases {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
