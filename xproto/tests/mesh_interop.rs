//! Real third-party clients and servers through `xproto mesh`, on 127.0.0.1:
//!
//! client → sidecar A → HTTP/2 → sidecar B → server
//!
//! * sofa-rpc-node (npm) client and server, Bolt v1 and Bolt v2 with CRC;
//! * apache-dubbo-consumer → apache-dubbo-service (npm);
//! * dubbo-py (PyPI) client and server, and both cross pairs with the node peers;
//! * the same Bolt and Dubbo pairs through codecs loaded as plugins
//!   (`--no-builtin --plugin …`).
//!
//! Each client pipelines ~50 concurrent calls on one connection (Chinese, emoji
//! where the peer can carry it, 64 KiB bodies, out-of-order replies, a server
//! exception) and checks every reply; see `interop/README.md`, "Through the
//! sidecar pair". Needs `node`, `interop/node_modules` and `interop/.venv`
//! (`bash scripts/test.sh` installs them): a missing install FAILS, never skips.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use xprotocol_plugin_host::testing::built_plugin as plugin_path;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop")
}

fn python() -> PathBuf {
    let py = interop_dir().join(".venv/bin/python");
    assert!(
        py.is_file(),
        "{} is missing: run `bash scripts/test.sh` (it creates the venv with dubbo-py)",
        py.display()
    );
    py
}

fn node_modules_installed() {
    let marker = interop_dir().join("node_modules/sofa-rpc-node/package.json");
    assert!(
        marker.is_file(),
        "{} is missing: run `cd interop && npm ci --ignore-scripts`",
        marker.display()
    );
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `command`, wait (at most 20 s) for a first stdout line starting with
/// `ready`, and return the process and that line.
fn start(mut command: Command, ready: &str) -> (Running, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{command:?} did not print `{ready}` within 20 s"));
    assert!(
        line.starts_with(ready),
        "{command:?}: expected `{ready} …`, got {line:?}"
    );
    (running, line.trim().to_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One peer program: how to start its server or run its client.
#[derive(Clone, Copy)]
enum Peer {
    SofaRpc,
    NodeDubbo,
    DubboPy,
}

impl Peer {
    fn command(self, role: &str) -> Command {
        let dir = interop_dir();
        match self {
            Self::SofaRpc => {
                let mut c = Command::new("node");
                c.arg(dir.join(format!("sofa-rpc-{role}.js")));
                c
            }
            Self::NodeDubbo => {
                let mut c = Command::new("node");
                c.arg(dir.join(format!("dubbo-mesh-{role}.js")));
                c
            }
            Self::DubboPy => {
                let mut c = Command::new(python());
                c.arg(dir.join("dubbo-py-mesh.py")).arg(role);
                c
            }
        }
    }

    fn server_kind(self) -> &'static str {
        match self {
            Self::DubboPy => "py",
            _ => "node",
        }
    }
}

/// Run `client` against `server` through a fresh `xproto mesh` started with
/// `xproto_args` before `mesh`; return the client's JSON summary.
fn through_mesh(server: Peer, client: Peer, client_args: &[&str], xproto_args: &[String]) -> Value {
    node_modules_installed();
    let mut server_cmd = server.command("server");
    server_cmd.args(["--port", "0", "--name", "upstream-1"]);
    let (_server, ready) = start(server_cmd, "READY ");
    let port = ready.trim_start_matches("READY ").to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut mesh = Command::new(env!("CARGO_BIN_EXE_xproto"));
    mesh.args(xproto_args)
        .args(["mesh", "--listen", &listen, "--upstream"])
        .arg(format!("127.0.0.1:{port}"));
    let (mesh, line) = start(mesh, "mesh listening ");
    assert!(line.contains(&listen), "{line}");

    let summary = run_client(client, &listen, client_args);
    drop(mesh);
    summary
}

/// Run `client` against `target` to the end; its JSON summary, which must say `ok`.
fn run_client(client: Peer, target: &str, args: &[&str]) -> Value {
    let started = Instant::now();
    let output = client
        .command("client")
        .args([
            "--target",
            target,
            "--name",
            "upstream-1",
            "--deadline",
            "20000",
        ])
        .args(args)
        .output()
        .expect("client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("client printed no JSON summary ({e}): {stdout}\n{stderr}"));
    assert!(
        output.status.success() && summary["ok"] == Value::Bool(true),
        "client failed after {:?}: {summary}\n{stderr}",
        started.elapsed()
    );
    summary
}

fn assert_pipelined(summary: &Value) {
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(
        summary["connections"], 1,
        "one client connection: {summary}"
    );
    let calls = summary["calls"].as_u64().unwrap_or(0);
    assert!(calls >= 40, "{summary}");
    let before_first_reply = summary["writtenBeforeFirstReply"].as_u64().unwrap_or(0);
    assert!(
        before_first_reply >= 20,
        "calls were not pipelined: {summary}"
    );
    assert_eq!(summary["serverName"], "upstream-1", "{summary}");
}

#[test]
fn sofa_rpc_node_client_and_server_through_the_pair() {
    let summary = through_mesh(Peer::SofaRpc, Peer::SofaRpc, &[], &[]);
    assert_pipelined(&summary);
    assert_eq!(summary["protocol"], "bolt v1", "{summary}");
}

#[test]
fn sofa_rpc_node_bolt_v2_with_crc_through_the_pair() {
    let summary = through_mesh(Peer::SofaRpc, Peer::SofaRpc, &["--bolt2"], &[]);
    assert_pipelined(&summary);
    assert_eq!(summary["protocol"], "bolt v2 (crc32)", "{summary}");
}

#[test]
fn apache_dubbo_consumer_and_service_through_the_pair() {
    let summary = through_mesh(Peer::NodeDubbo, Peer::NodeDubbo, &[], &[]);
    assert_pipelined(&summary);
}

#[test]
fn dubbo_py_client_and_server_through_the_pair() {
    let summary = through_mesh(Peer::DubboPy, Peer::DubboPy, &[], &[]);
    assert_pipelined(&summary);
}

#[test]
fn dubbo_cross_pairs_node_and_python_through_the_pair() {
    let kind = Peer::DubboPy.server_kind();
    let summary = through_mesh(
        Peer::DubboPy,
        Peer::NodeDubbo,
        &["--server-kind", kind],
        &[],
    );
    assert_pipelined(&summary);
    let kind = Peer::NodeDubbo.server_kind();
    let summary = through_mesh(
        Peer::NodeDubbo,
        Peer::DubboPy,
        &["--server-kind", kind],
        &[],
    );
    assert_pipelined(&summary);
}

#[test]
fn the_pair_works_with_codecs_loaded_as_plugins() {
    let args = vec![
        "--no-builtin".to_owned(),
        "--plugin".to_owned(),
        plugin_path("xprotocol_bolt_plugin").display().to_string(),
        "--plugin".to_owned(),
        plugin_path("xprotocol_dubbo_plugin").display().to_string(),
    ];
    assert_pipelined(&through_mesh(Peer::SofaRpc, Peer::SofaRpc, &[], &args));
    assert_pipelined(&through_mesh(Peer::NodeDubbo, Peer::NodeDubbo, &[], &args));
}

#[test]
fn xproto_sidecar_runs_a_config_file_between_real_peers() {
    node_modules_installed();
    let mut server_cmd = Peer::SofaRpc.command("server");
    server_cmd.args(["--port", "0", "--name", "upstream-1"]);
    let (_server, ready) = start(server_cmd, "READY ");
    let upstream = format!("127.0.0.1:{}", ready.trim_start_matches("READY "));
    let dir = std::env::temp_dir().join(format!("xproto-sidecar-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("sidecar.toml");
    let listen = format!("127.0.0.1:{}", free_port());
    std::fs::write(
        &config,
        format!(
            "[[listeners]]\nname = \"native\"\naddress = \"{listen}\"\n\
             [[routes]]\ninterface = \"com.example.EchoService\"\ncluster = \"echo\"\n\
             [[clusters]]\nname = \"echo\"\nendpoints = [\"{upstream}\"]\n"
        ),
    )
    .expect("config file");
    let mut sidecar = Command::new(env!("CARGO_BIN_EXE_xproto"));
    sidecar.arg("sidecar").arg("--config").arg(&config);
    let (_sidecar, line) = start(sidecar, "listening native ");
    assert!(line.ends_with(&listen), "{line}");
    let summary = run_client(Peer::SofaRpc, &listen, &[]);
    assert_pipelined(&summary);
    let _ = std::fs::remove_dir_all(&dir);
}
