//! Counters a sidecar keeps, readable while it runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use xprotocol_core::LocalStatus;

/// One monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Add one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Everything a sidecar counts.
#[derive(Debug, Default)]
pub struct Stats {
    /// Downstream (application) connections accepted.
    pub downstream_connections: Counter,
    /// HTTP/2 connections accepted from peer sidecars.
    pub peer_connections_accepted: Counter,
    /// Requests received (two-way and one-way), downstream and from peers.
    pub requests: Counter,
    /// One-way requests forwarded (nothing expected back).
    pub oneway_requests: Counter,
    /// Responses from upstreams delivered to callers.
    pub responses: Counter,
    /// Request ids rewritten for an upstream connection (each restored on the response).
    pub ids_rewritten: Counter,
    /// Heartbeats answered locally (from applications or from upstream servers).
    pub heartbeats_answered: Counter,
    /// Active heartbeats sent on idle upstream connections.
    pub heartbeats_sent: Counter,
    /// Replies to active heartbeats.
    pub heartbeat_replies_received: Counter,
    /// Responses with no pending request (late after a timeout, or unknown): dropped.
    pub late_responses: Counter,
    /// Goaway frames (or Dubbo read-only events) received from upstreams.
    pub goaways_received: Counter,
    /// Upstream connections opened (native and HTTP/2).
    pub upstream_connections: Counter,
    /// Downstream connections closed because a frame could not be framed.
    pub codec_errors: Counter,
    /// Requests transcoded to HTTP/2 for a peer sidecar.
    pub transcoded: Counter,
    local_replies: Mutex<BTreeMap<&'static str, u64>>,
    routed: Mutex<Vec<(String, String, Arc<Counter>)>>,
}

impl Stats {
    /// Count a local reply.
    pub fn local_reply(&self, status: LocalStatus) {
        if let Ok(mut map) = self.local_replies.lock() {
            *map.entry(status.as_str()).or_default() += 1;
        }
    }

    /// The counter of requests `route` sends to `cluster`, created once when
    /// the routes are built (so counting a request takes no lock).
    pub fn route_counter(&self, route: &str, cluster: &str) -> Arc<Counter> {
        let counter = Arc::new(Counter::default());
        if let Ok(mut routed) = self.routed.lock() {
            routed.push((route.to_owned(), cluster.to_owned(), counter.clone()));
        }
        counter
    }

    /// Local replies by status name.
    pub fn local_replies(&self) -> BTreeMap<&'static str, u64> {
        self.local_replies
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// Local replies for one status.
    pub fn local_replies_for(&self, status: LocalStatus) -> u64 {
        self.local_replies()
            .get(status.as_str())
            .copied()
            .unwrap_or(0)
    }

    /// Requests by (route, cluster); a peer sidecar's choice counts under the
    /// route name `peer-choice`.
    pub fn routed_counts(&self) -> BTreeMap<(String, String), u64> {
        let mut counts = BTreeMap::new();
        if let Ok(routed) = self.routed.lock() {
            for (route, cluster, counter) in routed.iter() {
                *counts.entry((route.clone(), cluster.clone())).or_default() += counter.get();
            }
        }
        counts
    }
}
