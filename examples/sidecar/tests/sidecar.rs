//! End-to-end behaviour of the sidecar on 127.0.0.1: the codecs' own echo
//! servers and pipelined clients (`xprotocol_sidecar::rpc`) on both sides of a
//! sidecar pair, or of a single native sidecar.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use xprotocol_core::LocalStatus;
use xprotocol_sidecar::dns::DnsResponder;
use xprotocol_sidecar::mesh::{self, Mesh};
use xprotocol_sidecar::rpc::{Call, Protocol, Reply, RpcClient, ServerOptions, ServerStats, serve};
use xprotocol_sidecar::{Config, RunningSidecar, Sidecar, builtin_registry};

const USER: &str = "com.example.UserService";

/// An echo server; aborting the handle closes every connection it accepted.
struct Server {
    addr: SocketAddr,
    stats: Arc<ServerStats>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(options: ServerOptions) -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    async fn start_on(addr: SocketAddr, options: ServerOptions) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(ServerStats::default());
        let task = tokio::spawn(serve(listener, options, stats.clone()));
        Self { addr, stats, task }
    }

    fn kill(&self) {
        self.task.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn native_status(protocol: Protocol, status: LocalStatus) -> u32 {
    match protocol {
        Protocol::Bolt => u32::from(xprotocol_bolt::routing::status_for(status)),
        Protocol::Dubbo => u32::from(xprotocol_dubbo::routing::status_for(status)),
    }
}

fn assert_local_reply(reply: &Reply, protocol: Protocol, status: LocalStatus) {
    assert!(
        !reply.ok,
        "{protocol:?}: expected a {status:?} local reply, got {reply:?}"
    );
    assert_eq!(
        reply.status,
        native_status(protocol, status),
        "{protocol:?}: {status:?}: {reply:?}"
    );
}

fn call(interface: &str, body: &str) -> Call {
    Call::new(interface, "echo")
        .with_version("1.0")
        .with_body(body.to_owned())
        .with_timeout(Duration::from_secs(5))
}

async fn mesh_to(upstream: SocketAddr, config: Option<Config>) -> Mesh {
    mesh::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Some(&upstream.to_string()),
        config,
        builtin_registry(),
    )
    .await
    .unwrap()
}

/// A single sidecar with one native listener called `native`.
async fn native_sidecar(toml: &str) -> RunningSidecar {
    native_sidecar_with(toml, |_| {}).await
}

/// The same, with options TOML cannot express (64-bit unsigned values).
async fn native_sidecar_with(toml: &str, tweak: impl FnOnce(&mut Config)) -> RunningSidecar {
    let text = format!("[[listeners]]\nname = \"native\"\naddress = \"127.0.0.1:0\"\n{toml}");
    let mut config = Config::from_toml(&text).unwrap();
    tweak(&mut config);
    Sidecar::new(config).start().await.unwrap()
}

async fn client(sidecar: &RunningSidecar, protocol: Protocol) -> RpcClient {
    RpcClient::connect(sidecar.address("native").unwrap(), protocol)
        .await
        .unwrap()
}

/// Run `calls` concurrently on one client (pipelined on its one connection).
async fn concurrent(client: &Arc<RpcClient>, calls: Vec<Call>) -> Vec<Reply> {
    let mut set = tokio::task::JoinSet::new();
    for (i, c) in calls.into_iter().enumerate() {
        let client = client.clone();
        set.spawn(async move { (i, client.call(&c).await.unwrap()) });
    }
    let mut out: Vec<(usize, Reply)> = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_downstream_connections_share_a_small_upstream_pool_over_http2() {
    for protocol in Protocol::ALL {
        let server = Server::start(ServerOptions::new("s1", protocol)).await;
        let mesh = mesh_to(server.addr, None).await;
        let listen = mesh.listen_address().unwrap();
        let mut tasks = Vec::new();
        for c in 0..6 {
            tasks.push(tokio::spawn(async move {
                let client = Arc::new(RpcClient::connect(listen, protocol).await.unwrap());
                let bodies: Vec<String> =
                    (0..40).map(|i| format!("c{c}-{i} 你好，世界 🚀")).collect();
                let replies =
                    concurrent(&client, bodies.iter().map(|b| call(USER, b)).collect()).await;
                for (reply, body) in replies.iter().zip(&bodies) {
                    assert!(reply.ok, "{reply:?}");
                    assert_eq!(reply.body_str(), Some(format!("s1:{body}").as_str()));
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(server.stats.requests.load(Relaxed), 240);
        // Six downstream connections, at most two upstream connections.
        assert!(
            server.stats.connections.load(Relaxed) <= 2,
            "{}",
            server.stats.connections.load(Relaxed)
        );
        assert_eq!(mesh.a.stats().downstream_connections.get(), 6);
        assert_eq!(
            mesh.a.stats().upstream_connections.get(),
            1,
            "one h2 connection A to B"
        );
        assert_eq!(mesh.a.stats().transcoded.get(), 240);
        assert_eq!(mesh.b.stats().ids_rewritten.get(), 240);
        assert_eq!(mesh.b.stats().responses.get(), 240);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interface_routing_weighted_split_dns_and_header_edits() {
    for protocol in Protocol::ALL {
        let v1 = Server::start(ServerOptions::new("v1", protocol)).await;
        let v2 = Server::start(ServerOptions::new("v2", protocol)).await;
        let other = Server::start(ServerOptions::new("other", protocol)).await;
        // v1 is found by looking the interface up in DNS.
        let dns = DnsResponder::bind([(USER.to_owned(), vec![[127, 0, 0, 1].into()])]).unwrap();
        let config = Config::from_toml(&format!(
            r#"
            [sidecar]
            dns_server = "{dns}"
            [[routes]]
            name = "canary"
            interface = "{USER}"
            headers = {{ "x-canary" = "yes" }}
            cluster = "user-v2"
            [[routes]]
            name = "users"
            interface = "{USER}"
            set_headers = {{ "x-trace-id" = "trace-from-sidecar" }}
            clusters = [{{ name = "user-v1", weight = 90 }}, {{ name = "user-v2", weight = 10 }}]
            [[clusters]]
            name = "user-v1"
            endpoints = ["bolt://{USER}:{v1_port}"]
            [[clusters]]
            name = "user-v2"
            endpoints = ["{v2}"]
            "#,
            dns = dns.local_addr(),
            v1_port = v1.addr.port(),
            v2 = v2.addr,
        ))
        .unwrap();
        let mesh = mesh_to(other.addr, Some(config)).await;
        let client = Arc::new(
            RpcClient::connect(mesh.listen_address().unwrap(), protocol)
                .await
                .unwrap(),
        );
        let replies = concurrent(
            &client,
            (0..100).map(|i| call(USER, &format!("m{i}"))).collect(),
        )
        .await;
        let by = |name: &str| {
            replies
                .iter()
                .filter(|r| r.server.as_deref() == Some(name))
                .count()
        };
        assert_eq!((by("v1"), by("v2")), (90, 10), "{protocol:?}");
        assert!(replies.iter().all(|r| r.ok));
        // The edit reached the upstream on the wire.
        assert_eq!(
            v1.stats.last_header("x-trace-id").as_deref(),
            Some("trace-from-sidecar"),
            "{protocol:?}"
        );
        assert!(dns.queries_answered() >= 1);
        // A header match wins over the split; other interfaces go to the upstream.
        let canary = client
            .call(&call(USER, "c").with_header("x-canary", "yes"))
            .await
            .unwrap();
        assert_eq!(canary.server.as_deref(), Some("v2"));
        let rest = client.call(&call("com.example.Other", "o")).await.unwrap();
        assert_eq!(rest.server.as_deref(), Some("other"));
        let routed = mesh.a.stats().routed_counts();
        assert_eq!(routed.get(&("users".into(), "user-v1".into())), Some(&90));
        assert_eq!(routed.get(&("canary".into(), "user-v2".into())), Some(&1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_gets_a_native_local_reply() {
    for protocol in Protocol::ALL {
        let slow = Server::start(ServerOptions {
            delay: Some(Duration::from_millis(400)),
            ..ServerOptions::new("slow", protocol)
        })
        .await;
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let dns = DnsResponder::bind([]).unwrap();
        let sidecar = native_sidecar(&format!(
            r#"
            [sidecar]
            max_concurrent_streams = 4
            dns_server = "{dns}"
            unhealthy_for_ms = 60000
            [[routes]]
            interface = "slow"
            timeout_ms = 100
            cluster = "slow"
            [[routes]]
            interface = "overload"
            cluster = "slow"
            [[routes]]
            interface = "refused"
            cluster = "refused"
            [[routes]]
            interface = "unknown-name"
            cluster = "unknown-name"
            [[clusters]]
            name = "slow"
            endpoints = ["{slow}"]
            [[clusters]]
            name = "refused"
            endpoints = ["{closed_port}"]
            [[clusters]]
            name = "unknown-name"
            endpoints = ["bolt://no.such.Service:1"]
            "#,
            dns = dns.local_addr(),
            slow = slow.addr,
        ))
        .await;
        let client = Arc::new(client(&sidecar, protocol).await);
        let reply = client
            .call(&call("com.example.Nowhere", "x"))
            .await
            .unwrap();
        assert_local_reply(&reply, protocol, LocalStatus::NoRoute);
        let reply = client.call(&call("refused", "x")).await.unwrap();
        assert_local_reply(&reply, protocol, LocalStatus::UpstreamConnectFailure);
        // The endpoint is now unhealthy: no healthy upstream is left.
        let reply = client.call(&call("refused", "x")).await.unwrap();
        assert_local_reply(&reply, protocol, LocalStatus::NoHealthyUpstream);
        let reply = client.call(&call("unknown-name", "x")).await.unwrap();
        assert_local_reply(&reply, protocol, LocalStatus::NoHealthyUpstream);
        let reply = client.call(&call("slow", "x")).await.unwrap();
        assert_local_reply(&reply, protocol, LocalStatus::Timeout);
        // Ten at once on one connection with room for four: six are refused.
        let replies = concurrent(
            &client,
            (0..10).map(|i| call("overload", &format!("{i}"))).collect(),
        )
        .await;
        let overloaded = replies.iter().filter(|r| !r.ok).count();
        assert_eq!(overloaded, 6, "{protocol:?}");
        for r in replies.iter().filter(|r| !r.ok) {
            assert_local_reply(r, protocol, LocalStatus::Overloaded);
        }
        assert!(
            replies
                .iter()
                .filter(|r| r.ok)
                .all(|r| r.server.as_deref() == Some("slow"))
        );
        // The timed-out request's response arrives later: dropped and counted.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stats = sidecar.stats();
        assert_eq!(stats.late_responses.get(), 1, "{protocol:?}");
        for status in [
            LocalStatus::NoRoute,
            LocalStatus::UpstreamConnectFailure,
            LocalStatus::Timeout,
        ] {
            assert_eq!(stats.local_replies_for(status), 1, "{status:?}");
        }
        assert_eq!(stats.local_replies_for(LocalStatus::NoHealthyUpstream), 2);
        assert_eq!(stats.local_replies_for(LocalStatus::Overloaded), 6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_answered_locally_and_sent_on_idle_upstreams() {
    for protocol in Protocol::ALL {
        let server = Server::start(ServerOptions::new("s", protocol)).await;
        let sidecar = native_sidecar(&format!(
            "[sidecar]\nheartbeat_interval_ms = 100\nconnections_per_endpoint = 1\n[[routes]]\ncluster = \"s\"\n[[clusters]]\nname = \"s\"\nendpoints = [\"{}\"]",
            server.addr
        ))
        .await;
        let client = client(&sidecar, protocol).await;
        client.heartbeat().await.unwrap();
        assert_eq!(sidecar.stats().heartbeats_answered.get(), 1);
        assert!(client.call(&call(USER, "x")).await.unwrap().ok);
        // The application's heartbeat was not forwarded; only the sidecar's own ones reach the server.
        let before = server.stats.heartbeats.load(Relaxed);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert!(
            server.stats.heartbeats.load(Relaxed) > before,
            "{protocol:?}: no active heartbeat"
        );
        assert!(sidecar.stats().heartbeats_sent.get() >= 1);
        assert!(sidecar.stats().heartbeat_replies_received.get() >= 1);
        assert!(client.call(&call(USER, "y")).await.unwrap().ok);
        assert_eq!(
            server.stats.connections.load(Relaxed),
            1,
            "the heartbeats kept the connection"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goaway_drains_the_upstream_connection() {
    for protocol in Protocol::ALL {
        let server = Server::start(ServerOptions {
            goaway_after: Some(5),
            ..ServerOptions::new("s", protocol)
        })
        .await;
        let sidecar = native_sidecar(&format!(
            "[sidecar]\nconnections_per_endpoint = 1\n[[routes]]\ncluster = \"s\"\n[[clusters]]\nname = \"s\"\nendpoints = [\"{}\"]",
            server.addr
        ))
        .await;
        let client = client(&sidecar, protocol).await;
        for i in 0..12 {
            let reply = client.call(&call(USER, &format!("{i}"))).await.unwrap();
            assert!(reply.ok, "{protocol:?} call {i}: {reply:?}");
        }
        assert!(sidecar.stats().goaways_received.get() >= 2, "{protocol:?}");
        assert!(
            server.stats.connections.load(Relaxed) >= 3,
            "{protocol:?}: new connections after each goaway"
        );
        assert_eq!(sidecar.stats().local_replies().len(), 0);
        // The client itself never saw a goaway: it is a hop-by-hop matter.
        assert_eq!(client.goaways_received(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_ids_wrap_around_at_the_codec_width() {
    for (protocol, first) in [
        (Protocol::Bolt, u64::from(u32::MAX) - 4),
        (Protocol::Dubbo, u64::MAX - 4),
    ] {
        let server = Server::start(ServerOptions::new("s", protocol)).await;
        let sidecar = native_sidecar_with(
            &format!(
                "[sidecar]\nconnections_per_endpoint = 1\n[[routes]]\ncluster = \"s\"\n[[clusters]]\nname = \"s\"\nendpoints = [\"{}\"]",
                server.addr
            ),
            |c| c.sidecar.first_upstream_id = first,
        )
        .await;
        let client = Arc::new(client(&sidecar, protocol).await);
        let replies = concurrent(
            &client,
            (0..20).map(|i| call(USER, &format!("w{i}"))).collect(),
        )
        .await;
        for (i, r) in replies.iter().enumerate() {
            assert_eq!(
                r.body_str(),
                Some(format!("s:w{i}").as_str()),
                "{protocol:?}"
            );
        }
        assert_eq!(sidecar.stats().ids_rewritten.get(), 20);
        let max = server.stats.max_request_id();
        let min = server.stats.min_request_id();
        assert_eq!(
            max,
            Some(if protocol == Protocol::Bolt {
                u64::from(u32::MAX)
            } else {
                u64::MAX
            })
        );
        assert_eq!(min, Some(0), "{protocol:?}: ids wrapped to 0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneway_requests_expect_nothing() {
    for protocol in Protocol::ALL {
        let server = Server::start(ServerOptions::new("s", protocol)).await;
        let mesh = mesh_to(server.addr, None).await;
        let client = RpcClient::connect(mesh.listen_address().unwrap(), protocol)
            .await
            .unwrap();
        for i in 0..5 {
            client
                .call(&call(USER, &format!("{i}")).with_oneway(true))
                .await
                .unwrap();
        }
        assert!(client.call(&call(USER, "after")).await.unwrap().ok);
        for _ in 0..50 {
            if server.stats.oneway.load(Relaxed) == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(server.stats.oneway.load(Relaxed), 5, "{protocol:?}");
        assert_eq!(mesh.a.stats().oneway_requests.get(), 5);
        assert_eq!(mesh.b.stats().oneway_requests.get(), 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_between_sidecars_refuses_an_untrusted_certificate() {
    let dir = std::env::temp_dir().join(format!("xp-sidecar-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    support::pki::generate(&dir, &["a", "b"]).unwrap();
    support::pki::generate_untrusted(&dir, "mallory").unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let tls = |client: &str| {
        format!(
            "[mesh]\nclient_tls = {{ cert = \"{}\", key = \"{}\", ca = \"{}\" }}\nserver_tls = {{ cert = \"{}\", key = \"{}\", ca = \"{}\" }}\n",
            p(&format!("{client}.pem")),
            p(&format!("{client}.key")),
            p("ca.pem"),
            p("b.pem"),
            p("b.key"),
            p("ca.pem"),
        )
    };
    let server = Server::start(ServerOptions::new("s", Protocol::Bolt)).await;
    let trusted = mesh_to(server.addr, Some(Config::from_toml(&tls("a")).unwrap())).await;
    let client = RpcClient::connect(trusted.listen_address().unwrap(), Protocol::Bolt)
        .await
        .unwrap();
    assert!(client.call(&call(USER, "over tls")).await.unwrap().ok);
    assert_eq!(trusted.b.stats().peer_connections_accepted.get(), 1);

    let untrusted = mesh_to(
        server.addr,
        Some(Config::from_toml(&tls("mallory")).unwrap()),
    )
    .await;
    let client = RpcClient::connect(untrusted.listen_address().unwrap(), Protocol::Bolt)
        .await
        .unwrap();
    let reply = client.call(&call(USER, "refused")).await.unwrap();
    assert_local_reply(&reply, Protocol::Bolt, LocalStatus::UpstreamConnectFailure);
    assert_eq!(untrusted.b.stats().peer_connections_accepted.get(), 0);
    assert_eq!(server.stats.requests.load(Relaxed), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_upstream_killed_mid_stream_fails_every_pending_caller_natively() {
    for protocol in Protocol::ALL {
        let server = Server::start(ServerOptions {
            delay: Some(Duration::from_millis(300)),
            ..ServerOptions::new("s", protocol)
        })
        .await;
        let mesh = mesh_to(server.addr, None).await;
        let client = Arc::new(
            RpcClient::connect(mesh.listen_address().unwrap(), protocol)
                .await
                .unwrap(),
        );
        let pending = {
            let client = client.clone();
            tokio::spawn(async move {
                concurrent(
                    &client,
                    (0..10).map(|i| call(USER, &format!("{i}"))).collect(),
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.kill();
        let replies = tokio::time::timeout(Duration::from_secs(3), pending)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(replies.len(), 10);
        for r in &replies {
            assert_local_reply(r, protocol, LocalStatus::UpstreamConnectFailure);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_a_malformed_frame_only_affects_its_own_connection() {
    for protocol in Protocol::ALL {
        let server = Server::start(ServerOptions::new("s", protocol)).await;
        let mesh = mesh_to(server.addr, None).await;
        let listen = mesh.listen_address().unwrap();
        let good = Arc::new(RpcClient::connect(listen, protocol).await.unwrap());
        let bad = RpcClient::connect(listen, protocol).await.unwrap();
        assert!(bad.call(&call(USER, "first")).await.unwrap().ok);
        // A valid start, then a header that cannot be framed.
        let garbage: &[u8] = match protocol {
            Protocol::Bolt => b"\x01\x01\x00\x01\x01\xff\xff\xff\xff\x01\x00\x00\x0b\xb8\xff\xff\xff\xff\xff\xff\xff\xff",
            Protocol::Dubbo => b"\xda\xbb\xc2\x00\x00\x00\x00\x00\x00\x00\x00\x07\xff\xff\xff\xff",
        };
        let load = {
            let good = good.clone();
            tokio::spawn(async move {
                concurrent(
                    &good,
                    (0..50).map(|i| call(USER, &format!("{i}"))).collect(),
                )
                .await
            })
        };
        bad.send_raw(garbage).await.unwrap();
        let replies = load.await.unwrap();
        assert!(
            replies.iter().all(|r| r.ok),
            "{protocol:?}: the other client was affected"
        );
        // The bad connection was closed (or answered with an error), and nothing hangs.
        let after =
            tokio::time::timeout(Duration::from_secs(2), bad.call(&call(USER, "after"))).await;
        assert!(
            matches!(after, Ok(Err(_)) | Ok(Ok(Reply { ok: false, .. }))),
            "{protocol:?}: {after:?}"
        );
        assert!(mesh.a.stats().codec_errors.get() >= 1);
        assert!(good.call(&call(USER, "still fine")).await.unwrap().ok);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_peer_sidecar_restarted_traffic_recovers() {
    let server = Server::start(ServerOptions::new("s", Protocol::Dubbo)).await;
    let peer_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let b_config = || {
        Config::from_toml(&format!(
            "[[listeners]]\nname = \"from-peers\"\naddress = \"127.0.0.1:{peer_port}\"\nprotocol = \"http2\"\n[[routes]]\ncluster = \"s\"\n[[clusters]]\nname = \"s\"\nendpoints = [\"{}\"]",
            server.addr
        ))
        .unwrap()
    };
    let b = Sidecar::new(b_config()).start().await.unwrap();
    let a = native_sidecar(&format!(
        "[sidecar]\nunhealthy_for_ms = 50\n[[routes]]\ncluster = \"b\"\n[[clusters]]\nname = \"b\"\nprotocol = \"http2\"\nendpoints = [\"127.0.0.1:{peer_port}\"]"
    ))
    .await;
    let client = client(&a, Protocol::Dubbo).await;
    assert!(client.call(&call(USER, "before")).await.unwrap().ok);
    drop(b);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reply = client.call(&call(USER, "while down")).await.unwrap();
    assert!(!reply.ok, "{reply:?}");
    let b = Sidecar::new(b_config()).start().await.unwrap();
    let mut recovered = false;
    for _ in 0..40 {
        if client.call(&call(USER, "after")).await.unwrap().ok {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recovered,
        "traffic did not recover after the peer restarted"
    );
    assert_eq!(b.stats().peer_connections_accepted.get(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http2_hop_carries_deadlines_and_is_kept_alive_with_pings() {
    let slow = Server::start(ServerOptions {
        delay: Some(Duration::from_millis(600)),
        ..ServerOptions::new("slow", Protocol::Bolt)
    })
    .await;
    let config = Config::from_toml(&format!(
        "[sidecar]\nheartbeat_interval_ms = 100\n[[routes]]\ninterface = \"slow\"\ntimeout_ms = 150\ncluster = \"slow\"\n[[clusters]]\nname = \"slow\"\nendpoints = [\"{}\"]",
        slow.addr
    ))
    .unwrap();
    let mesh = mesh_to(slow.addr, Some(config)).await;
    let client = RpcClient::connect(mesh.listen_address().unwrap(), Protocol::Bolt)
        .await
        .unwrap();
    let reply = client.call(&call("slow", "x")).await.unwrap();
    assert_local_reply(&reply, Protocol::Bolt, LocalStatus::Timeout);
    // B got A's remaining time (not its own 3 s default) and gave up too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mesh.b.stats().local_replies_for(LocalStatus::Timeout), 1);
    // Meanwhile A pinged B over the idle HTTP/2 connection, and B answered.
    let a = mesh.a.stats();
    assert!(a.heartbeats_sent.get() >= 2, "{}", a.heartbeats_sent.get());
    assert!(a.heartbeat_replies_received.get() >= 2);
    assert_eq!(
        a.upstream_connections.get(),
        1,
        "the pinged connection stayed up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_routes_by_interface_and_splits_90_10() {
    let report = xprotocol_sidecar::demo::run(100).await.unwrap();
    assert_eq!(report.unexpected, 0, "{report}");
    assert_eq!(report.answered_by("user-v1"), 90, "{report}");
    assert_eq!(report.answered_by("user-v2"), 10, "{report}");
    assert_eq!(report.answered_by("order-v1"), 100, "{report}");
    assert_eq!(report.local_replies, vec![("no_route".to_owned(), 10)]);
    assert_eq!(report.ids_rewritten, 200);
    assert_eq!(report.heartbeats_answered, 4);
    assert_eq!(report.transcoded, 200);
    assert!(report.p50 <= report.p99 && report.p99 > Duration::ZERO);
    let table = report.to_string();
    assert!(table.contains("user-v2"), "{table}");
}

/// A raw HSF upstream: answers every request with the captured response
/// frame, carrying the request's id.
async fn hsf_server() -> (SocketAddr, JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use xprotocol_core::{Codec, Split};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let codec = xprotocol_hsf::HsfCodec::new();
                let mut buf = bytes::BytesMut::new();
                loop {
                    while let Ok(Split::Complete(n)) = codec.framing().split_frame(&buf) {
                        let request = buf.split_to(n);
                        let mux = codec.multiplexing().unwrap();
                        let id = mux.request_id(&request).unwrap();
                        let mut response = bytes::BytesMut::from(
                            &xprotocol_hsf::testdata::from_hex(
                                xprotocol_hsf::testdata::PLUGIN_RESPONSE,
                            )[..],
                        );
                        mux.set_request_id(&mut response, id).unwrap();
                        stream.write_all(&response).await.unwrap();
                    }
                    match stream.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsf_is_detected_routed_and_transcoded_and_closed_when_unanswerable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use xprotocol_hsf::testdata::{CAPTURED_REQUEST, PLUGIN_RESPONSE, from_hex};
    let (upstream, _server) = hsf_server().await;
    let config = Config::from_toml(&format!(
        "[[routes]]\ninterface = \"com.test.pandora.hsf.HelloService\"\ncluster = \"hsf\"\n[[clusters]]\nname = \"hsf\"\nendpoints = [\"{upstream}\"]"
    ))
    .unwrap();
    let mesh = mesh::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        Some(config),
        builtin_registry(),
    )
    .await
    .unwrap();
    let mut stream = tokio::net::TcpStream::connect(mesh.listen_address().unwrap())
        .await
        .unwrap();
    stream.write_all(&from_hex(CAPTURED_REQUEST)).await.unwrap();
    let expected = from_hex(PLUGIN_RESPONSE);
    let mut response = vec![0; expected.len()];
    stream.read_exact(&mut response).await.unwrap();
    // The captured request has id 0: the response comes back with id 0,
    // otherwise byte for byte what the upstream sent.
    let mut want = bytes::BytesMut::from(&expected[..]);
    xprotocol_core::Multiplexing::set_request_id(&xprotocol_hsf::HsfCodec::new(), &mut want, 0)
        .unwrap();
    assert_eq!(response, want.to_vec());
    assert_eq!(mesh.a.stats().transcoded.get(), 1);
    assert_eq!(mesh.b.stats().ids_rewritten.get(), 1);
    // HSF has no local replies: a request no route takes closes the connection.
    let mut other = from_hex(CAPTURED_REQUEST);
    let at = other.windows(4).position(|w| w == b"test").unwrap();
    other[at..at + 4].copy_from_slice(b"TEST");
    stream.write_all(&other).await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?} {rest:?}");
}

#[test]
fn a_sidecar_on_its_own_thread_reports_bind_errors_and_stops_when_dropped() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = |port: u16| {
        Config::from_toml(&format!(
            "[[listeners]]\nname = \"native\"\naddress = \"127.0.0.1:{port}\"\n"
        ))
        .unwrap()
    };
    let err = Sidecar::new(config(port)).spawn_thread("busy").unwrap_err();
    assert!(err.to_string().contains("listener `native`"), "{err}");
    let running = Sidecar::new(config(0)).spawn_thread("ok").unwrap();
    let address = running.address("native").unwrap();
    assert!(std::net::TcpStream::connect(address).is_ok());
    drop(running);
    // Dropping joined the thread: the listener is gone.
    assert!(std::net::TcpStream::connect(address).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_from_the_upstream_server_are_answered_by_the_sidecar() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use xprotocol_core::{Codec, FrameKind, Split};
    // A raw Bolt server: on the first request it sends a heartbeat of its own
    // and waits for the sidecar's answer before replying.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let codec = xprotocol_bolt::BoltCodec::new();
        let mux = codec.multiplexing().unwrap();
        let mut buf = bytes::BytesMut::new();
        let next_frame = async |stream: &mut tokio::net::TcpStream, buf: &mut bytes::BytesMut| loop {
            if let Ok(Split::Complete(n)) = codec.framing().split_frame(buf) {
                return buf.split_to(n);
            }
            assert!(stream.read_buf(buf).await.unwrap() > 0, "sidecar closed");
        };
        let request = next_frame(&mut stream, &mut buf).await;
        let mut ping = bytes::BytesMut::new();
        mux.heartbeat_request(4242, &mut ping).unwrap();
        stream.write_all(&ping).await.unwrap();
        let pong = next_frame(&mut stream, &mut buf).await;
        let head = mux.frame_head(&pong).unwrap();
        assert_eq!(
            (head.kind, head.request_id),
            (FrameKind::HeartbeatResponse, 4242)
        );
        let id = mux.request_id(&request).unwrap();
        let response = codec
            .encode(
                &xprotocol_bolt::BoltHeader::response(u32::try_from(id).unwrap(), 0),
                b"com.alipay.sofa.rpc.core.response.SofaResponse",
                &[(b"server", b"raw")],
                bytes::Bytes::from_static(b"raw:pong seen"),
            )
            .unwrap()
            .to_bytes();
        stream.write_all(&response).await.unwrap();
    });
    let sidecar = native_sidecar(&format!(
        "[[routes]]\ncluster = \"s\"\n[[clusters]]\nname = \"s\"\nendpoints = [\"{addr}\"]"
    ))
    .await;
    let client = client(&sidecar, Protocol::Bolt).await;
    let reply = client.call(&call(USER, "x")).await.unwrap();
    assert!(reply.ok, "{reply:?}");
    assert_eq!(reply.server.as_deref(), Some("raw"));
    server.await.unwrap();
    assert_eq!(sidecar.stats().heartbeats_answered.get(), 1);
    assert_eq!(
        client.heartbeats_received(),
        0,
        "the server's heartbeat stayed on its hop"
    );
}
