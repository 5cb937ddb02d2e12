//! Upstream clusters: endpoints (static, or resolved by interface name in
//! DNS), their health, and forwarding one request natively or over HTTP/2.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use xprotocol_core::{Codec, Http2Message, LocalStatus};

use crate::config::{ClusterConfig, ClusterProtocol, SidecarOptions};
use crate::dns::Resolve;
use crate::peer::PeerConn;
use crate::stats::{Counter, Stats};
use crate::upstream::{NativePool, UpstreamOptions};

/// The sidecar header naming the cluster a peer sidecar should deliver to.
/// Codecs ignore unknown `xp-` headers, so it never reaches the application.
pub const CLUSTER_HEADER: &str = "xp-cluster";

/// The sidecar header carrying the time left for a request, in
/// milliseconds, so the peer sidecar gives up no later than the caller does.
pub const TIMEOUT_HEADER: &str = "xp-timeout-ms";

/// How long resolved DNS endpoints are reused.
const DNS_REFRESH: Duration = Duration::from_secs(5);

/// An endpoint as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSpec {
    /// A literal socket address.
    Address(SocketAddr),
    /// A name looked up in DNS (interface-as-domain), with the port to use.
    Dns {
        /// The name, typically the interface.
        name: String,
        /// The port.
        port: u16,
    },
}

impl EndpointSpec {
    /// Parse `IP:PORT` or `scheme://name:port`.
    ///
    /// ```
    /// use xprotocol_sidecar::EndpointSpec;
    /// assert_eq!(
    ///     EndpointSpec::parse("bolt://com.example.UserService:12220"),
    ///     Ok(EndpointSpec::Dns { name: "com.example.UserService".into(), port: 12220 })
    /// );
    /// assert!(EndpointSpec::parse("127.0.0.1:12220").is_ok());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(Self::Address(addr));
        }
        let bad = || format!("endpoint `{text}`: expected IP:PORT or scheme://name:port");
        let (_, rest) = text.split_once("://").ok_or_else(bad)?;
        if let Ok(addr) = rest.parse::<SocketAddr>() {
            return Ok(Self::Address(addr));
        }
        let (name, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let port = port.parse().map_err(|_| bad())?;
        if name.is_empty() {
            return Err(bad());
        }
        Ok(Self::Dns {
            name: name.to_owned(),
            port,
        })
    }
}

/// The result of forwarding one request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The upstream's response, with the caller's request id.
    Response(BytesMut),
    /// A one-way request was handed over.
    Oneway,
    /// It failed; `request` is the frame as last seen (its id may have been
    /// rewritten), for building the local reply.
    Failed {
        status: LocalStatus,
        message: String,
        request: Bytes,
    },
}

fn failed(status: LocalStatus, message: impl Into<String>, request: Bytes) -> Outcome {
    Outcome::Failed {
        status,
        message: message.into(),
        request,
    }
}

/// One upstream cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) name: String,
    /// Requests a peer sidecar sent here by name (`xp-cluster`).
    pub(crate) peer_choice: Arc<Counter>,
    protocol: ClusterProtocol,
    endpoints: Vec<EndpointSpec>,
    remote_cluster: Option<HeaderValue>,
    tls: Option<Arc<rustls::ClientConfig>>,
    resolver: Option<Arc<dyn Resolve>>,
    resolved: Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>,
    unhealthy: Mutex<HashMap<SocketAddr, Instant>>,
    pools: Mutex<HashMap<(SocketAddr, String), Arc<NativePool>>>,
    peers: tokio::sync::Mutex<HashMap<SocketAddr, Arc<PeerConn>>>,
    next: AtomicUsize,
    options: SidecarOptions,
    stats: Arc<Stats>,
}

impl Cluster {
    pub(crate) fn new(
        config: &ClusterConfig,
        options: &SidecarOptions,
        resolver: Option<Arc<dyn Resolve>>,
        stats: Arc<Stats>,
    ) -> Result<Self, crate::SidecarError> {
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| EndpointSpec::parse(e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(crate::SidecarError::Config)?;
        let tls = config
            .tls
            .as_ref()
            .map(crate::tls::client_config)
            .transpose()?;
        let remote_cluster = config
            .remote_cluster
            .as_deref()
            .map(HeaderValue::from_str)
            .transpose()
            .map_err(|_| {
                crate::SidecarError::Config(format!(
                    "cluster `{}`: bad remote_cluster",
                    config.name
                ))
            })?;
        Ok(Self {
            peer_choice: stats.route_counter("peer-choice", &config.name),
            name: config.name.clone(),
            protocol: config.protocol,
            endpoints,
            remote_cluster,
            tls,
            resolver,
            resolved: Mutex::new(HashMap::new()),
            unhealthy: Mutex::new(HashMap::new()),
            pools: Mutex::new(HashMap::new()),
            peers: tokio::sync::Mutex::new(HashMap::new()),
            next: AtomicUsize::new(0),
            options: options.clone(),
            stats,
        })
    }

    /// Current addresses: literal ones, and DNS names (cached for a few seconds).
    async fn addresses(&self) -> Result<Vec<SocketAddr>, String> {
        let mut out = Vec::with_capacity(self.endpoints.len());
        for endpoint in &self.endpoints {
            match endpoint {
                EndpointSpec::Address(addr) => out.push(*addr),
                EndpointSpec::Dns { name, port } => {
                    let cached = self.resolved.lock().ok().and_then(|m| {
                        m.get(name)
                            .filter(|(at, _)| at.elapsed() < DNS_REFRESH)
                            .map(|(_, addrs)| addrs.clone())
                    });
                    let addrs = match cached {
                        Some(addrs) => addrs,
                        None => {
                            let resolver = self
                                .resolver
                                .as_ref()
                                .ok_or_else(|| format!("no DNS server configured for `{name}`"))?;
                            let addrs = resolver
                                .resolve(name, *port)
                                .await
                                .map_err(|e| format!("resolving `{name}`: {e}"))?;
                            if let Ok(mut m) = self.resolved.lock() {
                                m.insert(name.clone(), (Instant::now(), addrs.clone()));
                            }
                            addrs
                        }
                    };
                    out.extend(addrs);
                }
            }
        }
        Ok(out)
    }

    /// A healthy endpoint, round robin.
    async fn pick_endpoint(&self) -> Result<SocketAddr, (LocalStatus, String)> {
        let addrs = self
            .addresses()
            .await
            .map_err(|m| (LocalStatus::NoHealthyUpstream, m))?;
        let now = Instant::now();
        let healthy: Vec<SocketAddr> = match self.unhealthy.lock() {
            Ok(mut bad) => {
                bad.retain(|_, until| *until > now);
                addrs.into_iter().filter(|a| !bad.contains_key(a)).collect()
            }
            Err(_) => addrs,
        };
        if healthy.is_empty() {
            return Err((
                LocalStatus::NoHealthyUpstream,
                format!("cluster `{}` has no healthy endpoint", self.name),
            ));
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % healthy.len();
        Ok(healthy[i])
    }

    fn mark_unhealthy(&self, addr: SocketAddr) {
        if let Ok(mut bad) = self.unhealthy.lock() {
            let until = Instant::now() + Duration::from_millis(self.options.unhealthy_for_ms);
            bad.insert(addr, until);
        }
    }

    /// Forward one request; `two_way` says whether a response is expected.
    pub(crate) async fn forward(
        &self,
        codec: &Arc<dyn Codec>,
        frame: BytesMut,
        original_id: u64,
        two_way: bool,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let addr = match self.pick_endpoint().await {
            Ok(addr) => addr,
            Err((status, message)) => return failed(status, message, frame.freeze()),
        };
        match self.protocol {
            ClusterProtocol::Native => {
                self.forward_native(codec, addr, frame, original_id, two_way, deadline)
                    .await
            }
            ClusterProtocol::Http2 => {
                self.forward_http2(codec, addr, frame.freeze(), original_id, two_way, deadline)
                    .await
            }
        }
    }

    async fn forward_native(
        &self,
        codec: &Arc<dyn Codec>,
        addr: SocketAddr,
        frame: BytesMut,
        original_id: u64,
        two_way: bool,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let pool = match self.pools.lock() {
            Ok(mut pools) => pools
                .entry((addr, codec.name().to_owned()))
                .or_insert_with(|| {
                    Arc::new(NativePool::new(
                        addr,
                        codec.clone(),
                        self.options.connections_per_endpoint,
                    ))
                })
                .clone(),
            Err(_) => return failed(LocalStatus::InternalError, "poisoned", frame.freeze()),
        };
        let options = UpstreamOptions {
            heartbeat_interval: self.options.heartbeat_interval(),
            first_id: self.options.first_upstream_id,
            max_frame_len: self.options.max_frame_len,
        };
        let connect_timeout = self
            .options
            .connect_timeout()
            .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        let conn = match pool.connection(options, connect_timeout, &self.stats).await {
            Ok(conn) => conn,
            Err(e) => {
                self.mark_unhealthy(addr);
                return failed(
                    LocalStatus::UpstreamConnectFailure,
                    format!("connect to {addr}: {e}"),
                    frame.freeze(),
                );
            }
        };
        let sent = match conn.send(frame, original_id, two_way).await {
            Ok(sent) => sent,
            Err(crate::upstream::SendFailed(request)) => {
                return failed(
                    LocalStatus::UpstreamConnectFailure,
                    format!("upstream {addr} closed"),
                    request,
                );
            }
        };
        let Some(receiver) = sent.receiver else {
            return Outcome::Oneway;
        };
        match tokio::time::timeout_at(deadline, receiver).await {
            Ok(Ok(response)) => Outcome::Response(response),
            Ok(Err(_)) => failed(
                LocalStatus::UpstreamConnectFailure,
                format!("upstream {addr} closed the connection"),
                sent.request,
            ),
            Err(_) => {
                conn.cancel(sent.id);
                failed(LocalStatus::Timeout, "upstream timeout", sent.request)
            }
        }
    }

    async fn peer(&self, addr: SocketAddr) -> Result<Arc<PeerConn>, String> {
        let mut peers = self.peers.lock().await;
        if let Some(conn) = peers.get(&addr).filter(|c| !c.is_dead()) {
            return Ok(conn.clone());
        }
        let keepalive = self.options.heartbeat_interval();
        let connect = PeerConn::connect(addr, self.tls.as_ref(), keepalive, &self.stats);
        let conn = tokio::time::timeout(self.options.connect_timeout(), connect)
            .await
            .map_err(|_| format!("connect to peer {addr}: timeout"))?
            .map_err(|e| format!("connect to peer {addr}: {e}"))?;
        self.stats.upstream_connections.inc();
        let conn = Arc::new(conn);
        peers.insert(addr, conn.clone());
        Ok(conn)
    }

    async fn forward_http2(
        &self,
        codec: &Arc<dyn Codec>,
        addr: SocketAddr,
        frame: Bytes,
        original_id: u64,
        two_way: bool,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let Some(transcoding) = codec.transcoding() else {
            return failed(
                LocalStatus::InternalError,
                format!("{} cannot be transcoded to HTTP/2", codec.name()),
                frame,
            );
        };
        let request = match transcoding.to_http2(&frame) {
            Ok(Http2Message::Request(mut request)) => {
                let headers = request.headers_mut();
                if let Some(cluster) = &self.remote_cluster {
                    headers.insert(CLUSTER_HEADER, cluster.clone());
                }
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let left_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
                headers.insert(TIMEOUT_HEADER, HeaderValue::from(left_ms));
                crate::peer::never_index_per_message_values(headers);
                request
            }
            Ok(Http2Message::Response(_)) | Err(_) => {
                return failed(LocalStatus::CodecError, "cannot transcode request", frame);
            }
        };
        self.stats.transcoded.inc();
        let conn = match self.peer(addr).await {
            Ok(conn) => conn,
            Err(message) => {
                self.mark_unhealthy(addr);
                return failed(LocalStatus::UpstreamConnectFailure, message, frame);
            }
        };
        let call = conn.call(request, self.options.max_frame_len);
        let response = match tokio::time::timeout_at(deadline, call).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                return failed(LocalStatus::UpstreamConnectFailure, e.to_string(), frame);
            }
            Err(_) => return failed(LocalStatus::Timeout, "peer sidecar timeout", frame),
        };
        if !two_way {
            return Outcome::Oneway;
        }
        let message = Http2Message::Response(response);
        match transcoding.from_http2(&message) {
            Ok(parts) => {
                let mut native = BytesMut::from(parts.to_bytes());
                match codec
                    .multiplexing()
                    .map(|m| m.set_request_id(&mut native, original_id))
                {
                    Some(Ok(())) => Outcome::Response(native),
                    _ => failed(LocalStatus::InternalError, "bad response id", frame),
                }
            }
            Err(e) => failed(
                LocalStatus::NoHealthyUpstream,
                format!("peer sidecar answered without a native response: {e}"),
                frame,
            ),
        }
    }

    /// Close every pooled connection.
    pub(crate) fn close(&self) {
        if let Ok(pools) = self.pools.lock() {
            for pool in pools.values() {
                pool.close();
            }
        }
    }
}
