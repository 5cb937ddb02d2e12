//! `xproto demo`: everything in one process on 127.0.0.1 — two Bolt servers
//! (`UserService` v1 and v2) and a Dubbo server (`OrderService`) built on the
//! codecs, a sidecar pair with HTTP/2 between them, and pipelined clients.
//! Calls are routed by interface, `UserService` split 90/10 between its
//! versions (v1 found by its interface name in DNS), a trace id is added on
//! the wire, and a few calls to an unknown interface get native local replies.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::dns::DnsResponder;
use crate::rpc::{Call, Protocol, RpcClient, ServerOptions, ServerStats, serve};
use crate::{Config, SidecarError, builtin_registry, mesh};

/// The interface served over Bolt and split 90/10.
pub const USER_SERVICE: &str = "com.example.UserService";
/// The interface served over Dubbo.
pub const ORDER_SERVICE: &str = "com.example.OrderService";
/// Calls per unknown interface (answered `no_route` by the sidecar).
const UNROUTED_CALLS: usize = 5;
/// Calls each client keeps in flight, pipelined on its one connection.
const WAVE: usize = 20;
/// Clients per protocol.
const CLIENTS: usize = 2;
/// Calls in flight across all clients.
const IN_FLIGHT: usize = WAVE * CLIENTS * 2;

/// What the demo saw.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    /// (protocol, interface, server that answered, calls).
    pub calls: Vec<(String, String, String, usize)>,
    /// Calls answered by the sidecar itself, by status.
    pub local_replies: Vec<(String, u64)>,
    /// Request ids rewritten by sidecar B for its upstream connections.
    pub ids_rewritten: u64,
    /// Heartbeats answered locally by sidecar A.
    pub heartbeats_answered: u64,
    /// Requests transcoded to HTTP/2 by sidecar A.
    pub transcoded: u64,
    /// Upstream connections B opened to the servers.
    pub upstream_connections: u64,
    /// Downstream connections A accepted.
    pub downstream_connections: u64,
    /// Latency of successful calls, client to server and back through both sidecars.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Calls that failed in an unexpected way (must be 0).
    pub unexpected: usize,
}

impl DemoReport {
    /// Calls answered by `server`.
    pub fn answered_by(&self, server: &str) -> usize {
        self.calls
            .iter()
            .filter(|(_, _, s, _)| s == server)
            .map(|(_, _, _, n)| n)
            .sum()
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "client -> sidecar A -> HTTP/2 -> sidecar B -> server (all on 127.0.0.1)"
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<9} {:<26} {:<12} {:>6}",
            "protocol", "interface", "answered by", "calls"
        )?;
        for (protocol, interface, server, n) in &self.calls {
            writeln!(f, "{protocol:<9} {interface:<26} {server:<12} {n:>6}")?;
        }
        writeln!(f)?;
        let replies = if self.local_replies.is_empty() {
            "none".to_owned()
        } else {
            self.local_replies
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(f, "local replies:           {replies}")?;
        writeln!(f, "ids rewritten (B):       {}", self.ids_rewritten)?;
        writeln!(f, "heartbeats answered (A): {}", self.heartbeats_answered)?;
        writeln!(f, "transcoded to HTTP/2:    {}", self.transcoded)?;
        writeln!(
            f,
            "connections:             {} downstream into A, {} from B to the servers",
            self.downstream_connections, self.upstream_connections
        )?;
        writeln!(
            f,
            "latency:                 p50 {:.0} µs, p99 {:.0} µs ({IN_FLIGHT} calls in flight, \
             clients, sidecars and servers sharing this machine)",
            micros(self.p50),
            micros(self.p99)
        )?;
        if self.unexpected > 0 {
            writeln!(f, "UNEXPECTED FAILURES:     {}", self.unexpected)?;
        }
        Ok(())
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn start_server(
    name: &str,
    protocol: Protocol,
) -> std::io::Result<(SocketAddr, Arc<ServerStats>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(ServerStats::default());
    tokio::spawn(serve(
        listener,
        ServerOptions::new(name, protocol),
        stats.clone(),
    ));
    Ok((addr, stats))
}

/// Run the demo with `calls` calls per protocol.
pub async fn run(calls: usize) -> Result<DemoReport, SidecarError> {
    let (user_v1, _) = start_server("user-v1", Protocol::Bolt).await?;
    let (user_v2, _) = start_server("user-v2", Protocol::Bolt).await?;
    let (orders, _) = start_server("order-v1", Protocol::Dubbo).await?;
    let dns = DnsResponder::bind([(USER_SERVICE.to_owned(), vec![Ipv4Addr::LOCALHOST])])?;
    let config = Config::from_toml(&format!(
        r#"
        [sidecar]
        dns_server = "{dns}"
        [[routes]]
        name = "users"
        interface = "{USER_SERVICE}"
        set_headers = {{ "x-trace-id" = "demo-trace" }}
        clusters = [{{ name = "user-v1", weight = 90 }}, {{ name = "user-v2", weight = 10 }}]
        [[routes]]
        name = "orders"
        interface = "{ORDER_SERVICE}"
        timeout_ms = 1000
        cluster = "orders"
        [[clusters]]
        name = "user-v1"
        endpoints = ["bolt://{USER_SERVICE}:{v1_port}"]
        [[clusters]]
        name = "user-v2"
        endpoints = ["{user_v2}"]
        [[clusters]]
        name = "orders"
        endpoints = ["{orders}"]
        "#,
        dns = dns.local_addr(),
        v1_port = user_v1.port(),
    ))?;
    // No catch-all upstream: an interface no route names gets `no_route`.
    let mesh = mesh::start_threads(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        None,
        Some(config),
        builtin_registry(),
    )?;
    let listen = mesh
        .listen_address()
        .ok_or_else(|| SidecarError::Config("no listener".into()))?;

    let mut set = JoinSet::new();
    for (protocol, interface) in [
        (Protocol::Bolt, USER_SERVICE),
        (Protocol::Dubbo, ORDER_SERVICE),
    ] {
        for client_no in 0..CLIENTS {
            let share = calls / CLIENTS + if client_no == 0 { calls % CLIENTS } else { 0 };
            set.spawn(client_run(listen, protocol, interface, share));
        }
    }
    let mut report = DemoReport::default();
    let mut latencies = Vec::new();
    let mut tally: Vec<(String, String, String, usize)> = Vec::new();
    while let Some(done) = set.join_next().await {
        let Ok(Ok(run)) = done else {
            report.unexpected += 1;
            continue;
        };
        latencies.extend(run.latencies);
        report.unexpected += run.unexpected;
        for (server, n) in run.answered {
            match tally
                .iter_mut()
                .find(|(p, i, s, _)| p == run.protocol.name() && i == run.interface && *s == server)
            {
                Some(row) => row.3 += n,
                None => tally.push((run.protocol.name().into(), run.interface.into(), server, n)),
            }
        }
    }
    // A call to an interface no route names, in each protocol: a native local reply.
    let unrouted = unrouted_calls(listen).await;
    report.unexpected += unrouted;
    tally.sort();
    report.calls = tally;
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    report.p50 = pct(0.50);
    report.p99 = pct(0.99);
    let (a, b) = (mesh.a.stats(), mesh.b.stats());
    report.local_replies = a
        .local_replies()
        .into_iter()
        .chain(b.local_replies())
        .map(|(s, n)| (s.to_owned(), n))
        .collect();
    report.ids_rewritten = b.ids_rewritten.get();
    report.heartbeats_answered = a.heartbeats_answered.get();
    report.transcoded = a.transcoded.get();
    report.upstream_connections = b.upstream_connections.get();
    report.downstream_connections = a.downstream_connections.get();
    Ok(report)
}

struct ClientRun {
    protocol: Protocol,
    interface: &'static str,
    answered: Vec<(String, usize)>,
    latencies: Vec<Duration>,
    unexpected: usize,
}

async fn client_run(
    listen: SocketAddr,
    protocol: Protocol,
    interface: &'static str,
    calls: usize,
) -> std::io::Result<ClientRun> {
    let client = Arc::new(RpcClient::connect(listen, protocol).await?);
    let mut run = ClientRun {
        protocol,
        interface,
        answered: Vec::new(),
        latencies: Vec::with_capacity(calls),
        unexpected: 0,
    };
    if client.heartbeat().await.is_err() {
        run.unexpected += 1;
    }
    // Pipelined in waves on the one connection.
    let mut done = 0;
    while done < calls {
        let wave = (calls - done).min(WAVE);
        let mut set = JoinSet::new();
        for i in done..done + wave {
            let client = client.clone();
            set.spawn(async move {
                let call = Call::new(interface, "echo")
                    .with_version("1.0")
                    .with_body(format!("call {i} 你好"))
                    .with_timeout(Duration::from_secs(5));
                let start = Instant::now();
                let reply = client.call(&call).await;
                (reply, start.elapsed())
            });
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((Ok(reply), took)) if reply.ok => {
                    run.latencies.push(took);
                    let server = reply.server.unwrap_or_else(|| "?".into());
                    match run.answered.iter_mut().find(|(s, _)| *s == server) {
                        Some((_, n)) => *n += 1,
                        None => run.answered.push((server, 1)),
                    }
                }
                _ => run.unexpected += 1,
            }
        }
        done += wave;
    }
    Ok(run)
}

/// Calls to an interface no route names: sidecar A answers each with a
/// native `no_route` error in the caller's protocol.
async fn unrouted_calls(listen: SocketAddr) -> usize {
    let mut unexpected = 0;
    for protocol in Protocol::ALL {
        let Ok(client) = RpcClient::connect(listen, protocol).await else {
            return unexpected + 1;
        };
        for _ in 0..UNROUTED_CALLS {
            let call =
                Call::new("com.example.Missing", "echo").with_timeout(Duration::from_secs(5));
            match client.call(&call).await {
                Ok(reply) if !reply.ok => {}
                _ => unexpected += 1,
            }
        }
    }
    unexpected
}
