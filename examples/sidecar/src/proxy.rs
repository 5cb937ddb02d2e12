//! What happens to one request, whichever listener it came from: route it,
//! edit its headers, forward it, and turn every failure into a native reply.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use xprotocol_core::{Codec, FrameHead, FrameKind, LocalStatus, Registry, RouteView};

use crate::cluster::{Cluster, Outcome};
use crate::config::SidecarOptions;
use crate::router::Router;
use crate::stats::Stats;

/// State shared by every listener and connection of one sidecar.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) router: Router,
    pub(crate) clusters: HashMap<String, Arc<Cluster>>,
    pub(crate) options: SidecarOptions,
    pub(crate) stats: Arc<Stats>,
}

/// What a peer sidecar decided for a request it sent over HTTP/2.
#[derive(Debug, Default)]
pub(crate) struct PeerHints {
    /// The cluster it chose (`xp-cluster`).
    pub(crate) cluster: Option<String>,
    /// The time it has left for the request (`xp-timeout-ms`).
    pub(crate) timeout: Option<Duration>,
}

/// What the caller gets back for one request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A native response frame (from the upstream, or a local reply), carrying
    /// the caller's request id.
    Frame(BytesMut),
    /// Nothing: a one-way request.
    Nothing,
    /// No native reply can be built (the codec has no local replies): the
    /// caller's connection must be closed so it does not wait forever.
    Unanswerable,
}

impl Shared {
    /// Route and forward one request. `from_peer` carries what a peer
    /// sidecar already decided (its cluster choice and remaining time).
    pub(crate) async fn dispatch(
        &self,
        codec: &Arc<dyn Codec>,
        mut frame: BytesMut,
        head: FrameHead,
        from_peer: Option<&PeerHints>,
    ) -> Reply {
        self.stats.requests.inc();
        let two_way = head.kind == FrameKind::Request;
        if !two_way {
            self.stats.oneway_requests.inc();
        }
        let original_id = head.request_id;
        let (cluster, timeout) = match self.choose(codec, &mut frame, head, from_peer) {
            Ok(chosen) => chosen,
            Err((status, message)) => {
                return self.local_reply(codec, &frame, original_id, two_way, status, &message);
            }
        };
        let deadline = tokio::time::Instant::now() + timeout;
        match cluster
            .forward(codec, frame, original_id, two_way, deadline)
            .await
        {
            Outcome::Response(response) => {
                self.stats.responses.inc();
                Reply::Frame(response)
            }
            Outcome::Oneway => Reply::Nothing,
            Outcome::Failed {
                status,
                message,
                request,
            } => self.local_reply(codec, &request, original_id, two_way, status, &message),
        }
    }

    /// The cluster and timeout for a request: the peer sidecar's choice, or
    /// the first matching route (whose header edits are applied to `frame`).
    fn choose(
        &self,
        codec: &Arc<dyn Codec>,
        frame: &mut BytesMut,
        head: FrameHead,
        from_peer: Option<&PeerHints>,
    ) -> Result<(&Arc<Cluster>, Duration), (LocalStatus, String)> {
        let hinted = from_peer
            .and_then(|p| p.cluster.as_deref())
            .and_then(|name| self.clusters.get(name));
        if let Some(cluster) = hinted {
            cluster.peer_choice.inc();
            let timeout = from_peer.and_then(|p| p.timeout);
            return Ok((
                cluster,
                timeout.unwrap_or_else(|| self.options.default_timeout()),
            ));
        }
        let no_route = || (LocalStatus::NoRoute, "no route for this request".to_owned());
        let routing = codec.routing().ok_or_else(no_route)?;
        let mut view = RouteView::new();
        routing
            .fill_route_view(frame, &mut view)
            .map_err(|_| no_route())?;
        let route = self.router.find(&view, frame).ok_or_else(no_route)?;
        if route.has_edits() {
            let request = std::mem::take(frame).freeze();
            match routing.mutate_headers(&request, &route.edits()) {
                Ok(parts) => *frame = BytesMut::from(parts.to_bytes()),
                Err(e) => {
                    *frame = BytesMut::from(request);
                    // A codec that cannot edit forwards the request as it is.
                    if !e.is_unsupported() {
                        let message = format!("header edit failed: {e}");
                        return Err((LocalStatus::CodecError, message));
                    }
                }
            }
        }
        let name = route.pick_cluster();
        let cluster = self.clusters.get(name).ok_or_else(no_route)?;
        let timeout = head.timeout.map_or(route.timeout, |t| t.min(route.timeout));
        Ok((cluster, timeout))
    }

    /// The native error response for `request`, carrying `original_id`.
    pub(crate) fn local_reply(
        &self,
        codec: &Arc<dyn Codec>,
        request: &[u8],
        original_id: u64,
        two_way: bool,
        status: LocalStatus,
        message: &str,
    ) -> Reply {
        if !two_way {
            self.stats.local_reply(status);
            return Reply::Nothing;
        }
        let (Some(routing), Some(mux)) = (codec.routing(), codec.multiplexing()) else {
            return Reply::Unanswerable;
        };
        let mut reply = BytesMut::new();
        let built = routing
            .local_reply(request, status, message, &mut reply)
            .and_then(|()| mux.set_request_id(&mut reply, original_id));
        match built {
            Ok(()) => {
                self.stats.local_reply(status);
                Reply::Frame(reply)
            }
            Err(_) => Reply::Unanswerable,
        }
    }

    /// Answer a heartbeat locally.
    pub(crate) fn heartbeat_reply(&self, codec: &Arc<dyn Codec>, request: &[u8]) -> Option<Bytes> {
        let mut reply = BytesMut::new();
        codec
            .multiplexing()?
            .heartbeat_reply(request, &mut reply)
            .ok()?;
        self.stats.heartbeats_answered.inc();
        Some(reply.freeze())
    }

    /// Close every upstream connection.
    pub(crate) fn close_upstreams(&self) {
        for cluster in self.clusters.values() {
            cluster.close();
        }
    }
}
