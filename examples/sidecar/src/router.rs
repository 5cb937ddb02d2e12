//! Route selection: match a request's routing view against the configured
//! routes, then pick one of the route's clusters by weight.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use xprotocol_core::{HeaderEdit, RouteView, Text};

use crate::config::{Config, RouteConfig};
use crate::stats::{Counter, Stats};

/// The routes of one sidecar, in match order.
#[derive(Debug)]
pub struct Router {
    routes: Vec<Route>,
}

/// One compiled route.
#[derive(Debug)]
pub struct Route {
    /// Name, for statistics.
    pub name: String,
    interface: Option<String>,
    method: Option<String>,
    version: Option<String>,
    group: Option<String>,
    headers: Vec<(String, String)>,
    targets: Vec<String>,
    counters: Vec<Arc<Counter>>,
    split: Mutex<SmoothWeights>,
    set_headers: Vec<(String, String)>,
    remove_headers: Vec<String>,
    /// Request timeout.
    pub timeout: Duration,
}

impl Router {
    /// Compile the configured routes; each (route, cluster) pair gets a
    /// counter in `stats`.
    pub fn new(config: &Config, stats: &Stats) -> Self {
        let default_timeout = config.sidecar.default_timeout();
        let routes = config
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| Route::new(i, r, default_timeout, stats))
            .collect();
        Self { routes }
    }

    /// The first route matching the request, or `None`.
    pub fn find(&self, view: &RouteView, frame: &[u8]) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(view, frame))
    }

    /// The routes, in order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

fn field<'a>(text: &'a Option<Text>, frame: &'a [u8]) -> Option<&'a [u8]> {
    text.as_ref().map(|t| t.bytes(frame))
}

impl Route {
    fn new(index: usize, config: &RouteConfig, default_timeout: Duration, stats: &Stats) -> Self {
        let targets = config.targets();
        let name = config
            .name
            .clone()
            .unwrap_or_else(|| format!("route-{index}"));
        Self {
            counters: targets
                .iter()
                .map(|t| stats.route_counter(&name, &t.name))
                .collect(),
            name,
            interface: config.interface.clone(),
            method: config.method.clone(),
            version: config.version.clone(),
            group: config.group.clone(),
            headers: config
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            split: Mutex::new(SmoothWeights::new(targets.iter().map(|t| t.weight))),
            targets: targets.into_iter().map(|t| t.name).collect(),
            set_headers: config
                .set_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            remove_headers: config.remove_headers.clone(),
            timeout: config.timeout(default_timeout),
        }
    }

    /// Whether the request matches: every configured field equal, every
    /// configured header present with the configured value.
    pub fn matches(&self, view: &RouteView, frame: &[u8]) -> bool {
        let interface = field(&view.interface, frame).or_else(|| field(&view.service, frame));
        let same = |want: &Option<String>, got: Option<&[u8]>| match want {
            None => true,
            Some(want) => got == Some(want.as_bytes()),
        };
        same(&self.interface, interface)
            && same(&self.method, field(&view.method, frame))
            && same(&self.version, field(&view.version, frame))
            && same(&self.group, field(&view.group, frame))
            && self.headers.iter().all(|(k, v)| {
                view.header_texts().iter().any(|(hk, hv)| {
                    hk.bytes(frame) == k.as_bytes() && hv.bytes(frame) == v.as_bytes()
                })
            })
    }

    /// The cluster for the next request, by smooth weighted round robin
    /// (a 90/10 split sends exactly 9 of every 10 requests to the first),
    /// counted in the sidecar's statistics.
    pub fn pick_cluster(&self) -> &str {
        let index = self.split.lock().map(|mut s| s.next()).unwrap_or_default();
        if let Some(counter) = self.counters.get(index) {
            counter.inc();
        }
        self.targets.get(index).map_or("", String::as_str)
    }

    /// The clusters this route can pick.
    pub fn clusters(&self) -> &[String] {
        &self.targets
    }

    /// The header edits this route applies on the wire.
    pub fn edits(&self) -> Vec<HeaderEdit<'_>> {
        self.remove_headers
            .iter()
            .map(|k| HeaderEdit::Remove(k))
            .chain(self.set_headers.iter().map(|(k, v)| HeaderEdit::Set(k, v)))
            .collect()
    }

    /// Whether the route edits headers.
    pub fn has_edits(&self) -> bool {
        !self.set_headers.is_empty() || !self.remove_headers.is_empty()
    }
}

/// Smooth weighted round robin (as in nginx): deterministic, and interleaved
/// rather than bursty.
#[derive(Debug)]
struct SmoothWeights {
    weights: Vec<i64>,
    current: Vec<i64>,
    total: i64,
}

impl SmoothWeights {
    fn new(weights: impl Iterator<Item = u32>) -> Self {
        let weights: Vec<i64> = weights.map(i64::from).collect();
        Self {
            current: vec![0; weights.len()],
            total: weights.iter().sum(),
            weights,
        }
    }

    fn next(&mut self) -> usize {
        let mut best = 0;
        for i in 0..self.weights.len() {
            self.current[i] += self.weights[i];
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        if let Some(c) = self.current.get_mut(best) {
            *c -= self.total;
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use xprotocol_bolt::BoltCodec;
    use xprotocol_core::Routing;

    use super::*;

    fn config(text: &str) -> Config {
        Config::from_toml(text).unwrap()
    }

    fn router(text: &str) -> Router {
        Router::new(&config(text), &Stats::default())
    }

    #[test]
    fn smooth_weights_split_exactly_and_interleave() {
        let mut w = SmoothWeights::new([90, 10].into_iter());
        let picks: Vec<usize> = (0..100).map(|_| w.next()).collect();
        assert_eq!(picks.iter().filter(|&&p| p == 1).count(), 10);
        // Interleaved: never two picks of the small weight in a row.
        assert!(picks.windows(2).all(|p| p != [1, 1]));
        let mut zero = SmoothWeights::new([0, 3].into_iter());
        assert!((0..10).all(|_| zero.next() == 1));
    }

    #[test]
    fn matches_interface_method_version_and_headers() {
        let router = router(
            r#"
            [[routes]]
            name = "canary"
            interface = "com.example.HelloService"
            headers = { "x-canary" = "1" }
            cluster = "c2"
            [[routes]]
            name = "hello"
            interface = "com.example.HelloService"
            method = "sayHello"
            version = "1.0"
            cluster = "c1"
            [[routes]]
            name = "rest"
            cluster = "c3"
            [[clusters]]
            name = "c1"
            endpoints = ["127.0.0.1:1"]
            [[clusters]]
            name = "c2"
            endpoints = ["127.0.0.1:2"]
            [[clusters]]
            name = "c3"
            endpoints = ["127.0.0.1:3"]
            "#,
        );
        let codec = BoltCodec::new();
        let encode = |service: &[u8], extra: &[(&[u8], &[u8])]| {
            let mut headers: Vec<(&[u8], &[u8])> = vec![
                (b"service", service),
                (b"sofa_head_method_name", b"sayHello"),
            ];
            headers.extend_from_slice(extra);
            codec
                .encode(
                    &xprotocol_bolt::BoltHeader::request(1, 1000),
                    b"com.alipay.sofa.rpc.core.request.SofaRequest",
                    &headers,
                    Bytes::new(),
                )
                .unwrap()
                .to_bytes()
        };
        let route_of = |frame: &Bytes| {
            let view = codec.route_view(frame).unwrap();
            router.find(&view, frame).map(|r| r.name.clone())
        };
        assert_eq!(
            route_of(&encode(b"com.example.HelloService:1.0", &[])).as_deref(),
            Some("hello")
        );
        assert_eq!(
            route_of(&encode(
                b"com.example.HelloService:1.0",
                &[(b"x-canary", b"1")]
            ))
            .as_deref(),
            Some("canary")
        );
        assert_eq!(
            route_of(&encode(b"com.example.HelloService:2.0", &[])).as_deref(),
            Some("rest")
        );
        assert_eq!(
            route_of(&encode(b"com.example.Other:1.0", &[])).as_deref(),
            Some("rest")
        );
    }

    #[test]
    fn no_route_when_nothing_matches() {
        let router = router(
            r#"
            [[routes]]
            interface = "a.B"
            cluster = "c"
            [[clusters]]
            name = "c"
            endpoints = ["127.0.0.1:1"]
            "#,
        );
        let frame = xprotocol_bolt::testdata::REQUEST_151;
        let view = BoltCodec::new().route_view(&frame).unwrap();
        assert!(router.find(&view, &frame).is_none());
    }
}
