//! Interop with real third-party Dubbo peers (see `interop/README.md`, "Dubbo"):
//!
//! * npm apache-dubbo-serialization / apache-dubbo-service / apache-dubbo-consumer,
//!   dubbo2.js and hessian.js, driven through `interop/dubbo-peer.js`,
//!   `interop/dubbo-provider.js` and `interop/dubbo-consumer.js`;
//! * PyPI dubbo-py 0.2.2, driven through `interop/dubbo-py-peer.py`.
//!
//! The tests:
//! 1. frames the node libraries encode are split, inspected and conformance-checked by us,
//!    and every field is compared with what the libraries themselves decode;
//! 2. the real node consumer calls a tiny Rust server that answers with frames we build
//!    (responses via `xprotocol_hessian2::Writer`, `Routing::local_reply`);
//! 3. requests we changed (`set_request_id`, `mutate_headers`, HTTP/2 round trip) and our
//!    `heartbeat_request` go to the real node provider;
//! 4. the same against dubbo-py's provider and consumer.
//!
//! Needs `node` (>= 18) on PATH, `interop/node_modules` and `interop/.venv`: a missing
//! install FAILS these tests (they never skip); `bash scripts/test.sh` installs them.
//! Everything binds and connects on 127.0.0.1 only; every wait is bounded and every
//! child process is killed when its guard is dropped.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};
use xprotocol_core::testing::{Conformance, vectors};
use xprotocol_core::{
    Codec, FactValue, FrameKind, Framing, HeaderEdit, LocalStatus, Multiplexing, Routing, Split,
    Transcoding,
};
use xprotocol_dubbo::testdata::REQUEST_177;
use xprotocol_dubbo::{DubboCodec, DubboHeader, serialization, status};
use xprotocol_hessian2::{Reader, Value as HValue, Writer};

const SERVICE: &str = "com.example.acceptance.DemoService";
const NO_ROUTE_MSG: &str = "no route to 服务";
/// A non-ASCII attachment value set by `mutate_headers`.
const LANE: &str = "灰度-蓝";
/// Ids below 2^53 are exact in the node libraries (they use JS numbers).
const MAX_SAFE_ID: u64 = (1 << 53) - 1;
const SETUP_HINT: &str = "run `bash scripts/test.sh` (it installs the interop peers), or by hand: \
     `cd interop && npm ci --ignore-scripts && python3 -m venv .venv && \
     .venv/bin/pip install -r requirements.txt`";

// ---------------------------------------------------------------------------------------------
// Setup checks (fail, never skip)

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

fn node_ready() -> &'static PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = interop_dir();
        for script in ["dubbo-peer.js", "dubbo-provider.js", "dubbo-consumer.js"] {
            assert!(
                dir.join(script).is_file(),
                "interop script missing: {}",
                dir.join(script).display()
            );
        }
        for module in [
            "apache-dubbo-serialization",
            "apache-dubbo-service",
            "apache-dubbo-consumer",
            "dubbo2.js",
            "hessian.js",
        ] {
            let manifest = dir.join("node_modules").join(module).join("package.json");
            assert!(
                manifest.is_file(),
                "the node Dubbo peers are not installed ({} is missing): {SETUP_HINT}",
                manifest.display()
            );
        }
        let out = Command::new("node")
            .arg("--version")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `node` from PATH ({e}): these tests need Node >= 18")
            });
        assert!(out.status.success(), "`node --version` failed");
        dir
    })
}

fn python() -> &'static PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = interop_dir();
        assert!(
            dir.join("dubbo-py-peer.py").is_file(),
            "interop script missing: interop/dubbo-py-peer.py"
        );
        let py = dir.join(".venv/bin/python");
        assert!(
            py.is_file(),
            "the Python venv with dubbo-py is missing ({}): {SETUP_HINT}",
            py.display()
        );
        let out = run_to_end(
            &py,
            &["-c", "import dubbo.client, dubbo.server"],
            b"",
            Duration::from_secs(10),
            "python -c 'import dubbo'",
        );
        assert!(
            out.0,
            "dubbo-py is not importable from {}: {}\n{SETUP_HINT}",
            py.display(),
            out.2
        );
        py
    })
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// Kills (SIGKILL) and reaps its child when dropped, whatever happened.
struct ChildGuard {
    child: Child,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain<R: Read + Send + 'static>(mut pipe: R) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
}

/// Runs a program to completion with `stdin`, within `timeout`.
/// Returns (success, stdout, stderr).
fn run_to_end(
    program: &Path,
    args: &[&str],
    stdin: &[u8],
    timeout: Duration,
    what: &str,
) -> (bool, Vec<u8>, String) {
    let child = Command::new(program)
        .args(args)
        .current_dir(interop_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} ({}): {e}", program.display()));
    let mut guard = ChildGuard { child };
    let mut pipe = guard.child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    // A thread: the child may fill its stdout before it has read all of stdin.
    let writer = thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = drain(guard.child.stdout.take().expect("stdout"));
    let err = drain(guard.child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = guard.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not finish within {timeout:?} (killed)"
        );
        thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    let stdout = out.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned();
    (status.success(), stdout, stderr)
}

/// Runs a peer that reads one JSON document and writes one JSON document.
fn run_json(program: &Path, args: &[&str], input: &Value, timeout: Duration, what: &str) -> Value {
    let payload = serde_json::to_vec(input).expect("serialize input");
    let (ok, stdout, stderr) = run_to_end(program, args, &payload, timeout, what);
    assert!(ok, "{what} failed: {stderr}");
    serde_json::from_slice(&stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not JSON ({e}): {}\nstderr: {stderr}",
            String::from_utf8_lossy(&stdout)
        )
    })
}

fn node(script: &str, args: &[&str], input: &Value, timeout: Duration) -> Vec<Value> {
    let dir = node_ready();
    let script_path = dir.join(script);
    let mut all = vec![script_path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let what = format!("node {script} {}", args.join(" "));
    match run_json(Path::new("node"), &all, input, timeout, &what) {
        Value::Array(items) => items,
        other => panic!("{what}: expected a JSON array, got {other}"),
    }
}

/// A long-running peer (provider) listening on 127.0.0.1:`port`.
struct ServerPeer {
    guard: ChildGuard,
    port: u16,
    stderr: Arc<Mutex<String>>,
    what: String,
}

impl ServerPeer {
    /// Starts `program args.. PORT` and waits for its "READY PORT" line.
    fn start(program: &Path, args: &[&str], what: &str) -> Self {
        let mut last_error = String::new();
        // A port picked by binding :0 could be taken again before the peer binds it: retry.
        for _attempt in 0..3 {
            let port = free_port();
            let port_text = port.to_string();
            let mut all: Vec<&str> = args.to_vec();
            all.push(&port_text);
            let child = Command::new(program)
                .args(&all)
                .current_dir(interop_dir())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {what} ({}): {e}", program.display()));
            let mut guard = ChildGuard { child };
            let stderr = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&stderr);
            let err_pipe = guard.child.stderr.take().expect("stderr");
            thread::spawn(move || {
                for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
            let (tx, rx) = mpsc::channel();
            let out_pipe = guard.child.stdout.take().expect("stdout");
            thread::spawn(move || {
                for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left.max(Duration::from_millis(1))) {
                    Ok(line) if line.trim() == format!("READY {port}") => {
                        return Self {
                            guard,
                            port,
                            stderr,
                            what: what.to_owned(),
                        };
                    }
                    Ok(_) => continue,
                    Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => continue,
                    Err(e) => {
                        let _ = guard.child.kill();
                        let _ = guard.child.wait();
                        thread::sleep(Duration::from_millis(50));
                        last_error = format!("{e:?}; stderr: {}", stderr.lock().unwrap());
                        break;
                    }
                }
            }
        }
        panic!("{what} never printed READY: {last_error}")
    }

    fn alive(&mut self) -> bool {
        matches!(self.guard.child.try_wait(), Ok(None))
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

// ---------------------------------------------------------------------------------------------
// Frames over TCP

fn codec() -> &'static DubboCodec {
    static CODEC: OnceLock<DubboCodec> = OnceLock::new();
    CODEC.get_or_init(DubboCodec::new)
}

fn hex(bytes: &[u8]) -> String {
    vectors::encode_hex(bytes)
}

fn unhex(text: &str) -> Vec<u8> {
    vectors::decode_hex(text).expect("hex from the peer")
}

fn hex_view(frame: &[u8]) -> String {
    vectors::hex_view(frame)
}

enum Next {
    Frame(Bytes),
    Timeout,
    Closed,
}

/// A TCP connection read with DubboCodec's splitter.
struct FrameConn {
    stream: TcpStream,
    buf: BytesMut,
}

impl FrameConn {
    fn new(stream: TcpStream) -> Self {
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .expect("write timeout");
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            buf: BytesMut::new(),
        }
    }

    fn connect(port: u16) -> Self {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        Self::new(stream)
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write {} bytes: {e}", bytes.len()));
    }

    /// The next whole frame, or `Timeout` at `deadline`, or `Closed` at EOF.
    fn next_frame(&mut self, deadline: Instant) -> Next {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match codec().split_frame(&self.buf) {
                Ok(Split::Complete(n)) => return Next::Frame(self.buf.split_to(n).freeze()),
                Ok(Split::Incomplete(_)) => {}
                Err(e) => panic!(
                    "our splitter refused the peer's bytes ({e}): {}",
                    hex_view(&self.buf)
                ),
            }
            if Instant::now() >= deadline {
                return Next::Timeout;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Next::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Next::Closed,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny Rust Dubbo server (for the real consumers)

#[derive(Debug, Default)]
struct ServerLog {
    /// Requests received, in arrival order.
    requests: Vec<Bytes>,
    /// Heartbeat requests received (each answered with `heartbeat_reply`).
    heartbeat_requests: Vec<Bytes>,
    /// Anything else the client sent (heartbeat responses, …).
    others: Vec<Bytes>,
    /// Every frame we answered with.
    answers: Vec<Bytes>,
    connections: usize,
}

struct RustServer {
    port: u16,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    log: Arc<Mutex<ServerLog>>,
}

impl RustServer {
    /// Serves on 127.0.0.1:0. Requests are held until `batch` of them arrived on a
    /// connection, then answered in REVERSE order (the client must match by id).
    /// `greet` sends our `heartbeat_request(id)` first on every connection.
    fn start(batch: usize, greet: Option<u64>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(ServerLog::default()));
        let (stop2, log2) = (Arc::clone(&stop), Arc::clone(&log));
        let handle = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut conns = Vec::new();
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).expect("blocking");
                        log2.lock().unwrap().connections += 1;
                        let (stop3, log3) = (Arc::clone(&stop2), Arc::clone(&log2));
                        conns.push(thread::spawn(move || {
                            serve_conn(
                                FrameConn::new(stream),
                                batch,
                                greet,
                                &stop3,
                                &log3,
                                deadline,
                            )
                        }));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            for c in conns {
                c.join().expect("connection thread");
            }
        });
        Self {
            port,
            stop,
            handle: Some(handle),
            log,
        }
    }

    fn finish(mut self) -> ServerLog {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .take()
            .expect("once")
            .join()
            .expect("server thread");
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for RustServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve_conn(
    mut conn: FrameConn,
    batch: usize,
    greet: Option<u64>,
    stop: &AtomicBool,
    log: &Mutex<ServerLog>,
    deadline: Instant,
) {
    if let Some(id) = greet {
        let mut ping = BytesMut::new();
        codec()
            .heartbeat_request(id, &mut ping)
            .expect("heartbeat_request");
        conn.send(&ping);
    }
    let mut pending: Vec<Bytes> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let step = (Instant::now() + Duration::from_millis(100)).min(deadline);
        let frame = match conn.next_frame(step) {
            Next::Frame(f) => f,
            Next::Timeout if Instant::now() < deadline => continue,
            Next::Timeout | Next::Closed => return,
        };
        let head = codec()
            .frame_head(&frame)
            .unwrap_or_else(|e| panic!("frame_head of a client frame: {e}: {}", hex_view(&frame)));
        match head.kind {
            FrameKind::Request | FrameKind::OnewayRequest => {
                log.lock().unwrap().requests.push(frame.clone());
                if head.kind == FrameKind::Request {
                    pending.push(frame);
                }
            }
            FrameKind::HeartbeatRequest => {
                let mut pong = BytesMut::new();
                codec()
                    .heartbeat_reply(&frame, &mut pong)
                    .expect("heartbeat_reply");
                conn.send(&pong);
                let mut l = log.lock().unwrap();
                l.heartbeat_requests.push(frame);
                l.answers.push(pong.freeze());
            }
            _ => log.lock().unwrap().others.push(frame),
        }
        if pending.len() >= batch {
            let mut out = BytesMut::new();
            let mut answers = Vec::new();
            for request in pending.drain(..).rev() {
                let answer = answer(&request);
                out.extend_from_slice(&answer);
                answers.push(answer);
            }
            conn.send(&out);
            log.lock().unwrap().answers.extend(answers);
        }
    }
}

/// The first argument of a request (its encoding in the frame).
fn first_arg(frame: &Bytes) -> xprotocol_hessian2::Item<'_> {
    let limits = codec().limits();
    let mut r = Reader::at(frame, 16, limits, "dubbo");
    for field in ["dubbo version", "path", "version", "method", "types"] {
        r.read_str_field(field)
            .unwrap_or_else(|e| panic!("request {field}: {e}: {}", hex_view(frame)));
    }
    r.read_value()
        .unwrap_or_else(|e| panic!("first argument: {e}: {}", hex_view(frame)))
}

/// Our answer to a consumer's request: `echo` gets a status-20 flag-1 response built
/// here; `missing` a NoRoute local reply; `slow` a Timeout local reply (empty message).
fn answer(request: &Bytes) -> Bytes {
    let route = codec().route_headers(request).expect("route_headers");
    let mut out = BytesMut::new();
    match route.method() {
        Some("echo") => {
            let arg = first_arg(request);
            let mut body = Writer::new();
            body.int(xprotocol_dubbo::response_flag::VALUE);
            match &arg.value {
                HValue::Str(s) => body.string(&s.to_string_lossy()),
                HValue::Int(i) => body.int(*i),
                HValue::Long(l) => body.long(*l),
                HValue::Bool(b) => body.bool(*b),
                HValue::Null => body.null(),
                _ => body.raw(&request[arg.start..arg.end]),
            };
            DubboHeader {
                flag: serialization::HESSIAN2,
                status: status::OK,
                request_id: codec().request_id(request).expect("id"),
                body_len: body.len() as u32,
            }
            .write(&mut out);
            out.put_slice(body.as_bytes());
        }
        Some("missing") => codec()
            .local_reply(request, LocalStatus::NoRoute, NO_ROUTE_MSG, &mut out)
            .expect("local_reply NoRoute"),
        Some("slow") => codec()
            .local_reply(request, LocalStatus::Timeout, "", &mut out)
            .expect("local_reply Timeout"),
        other => codec()
            .local_reply(
                request,
                LocalStatus::InternalError,
                &format!("unexpected method {other:?}"),
                &mut out,
            )
            .expect("local_reply"),
    }
    out.freeze()
}

// ---------------------------------------------------------------------------------------------
// Comparing our view with the peers'

/// A JSON scalar as header text, as `route_headers` renders attachment values.
fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a scalar attachment value: {other}"),
    }
}

fn json_fact(v: &Value) -> FactValue {
    match v {
        Value::Null => FactValue::Null,
        Value::String(s) => FactValue::Str(s.clone()),
        Value::Bool(b) => FactValue::Bool(*b),
        Value::Number(n) if n.is_i64() => FactValue::Int(n.as_i64().unwrap()),
        Value::Number(n) => FactValue::Str(n.to_string()),
        other => panic!("not a scalar: {other}"),
    }
}

fn our_headers(frame: &Bytes) -> BTreeMap<String, String> {
    let route = codec().route_headers(frame).expect("route_headers");
    route
        .headers()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

fn peer_headers(attachments: &Value) -> BTreeMap<String, String> {
    match attachments {
        Value::Null => BTreeMap::new(),
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), json_text(v))).collect(),
        other => panic!("attachments not a map: {other}"),
    }
}

fn fact<'a>(facts: &'a xprotocol_core::Facts, name: &str) -> &'a FactValue {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("fact {name} missing: {facts:?}"))
}

fn fact_map(value: &FactValue) -> BTreeMap<String, FactValue> {
    match value {
        FactValue::Map(entries) => entries.iter().cloned().collect(),
        FactValue::Null => BTreeMap::new(),
        other => panic!("not a map fact: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog of node-encoded frames (one `encode` and one `decode` run for all tests)

fn big_string() -> String {
    "xprotocol-互通-".chars().cycle().take(64 * 1024).collect()
}

#[derive(Debug, Clone)]
struct Expect {
    name: &'static str,
    case: Value,
    kind: FrameKind,
    id: u64,
    /// service, interface, version, group ("" = none), method.
    route: Option<[&'static str; 5]>,
    /// Attachments that must be there, as header text.
    headers: Vec<(&'static str, &'static str)>,
    /// Facts that must hold (beyond what is compared with the peer's decode).
    facts: Vec<(&'static str, FactValue)>,
}

struct Entry {
    expect: Expect,
    frame: Bytes,
    /// `dubbo-peer.js decode` of the frame (the libraries' own reading).
    peer: Value,
}

fn s(text: &str) -> Value {
    json!({"$class": "java.lang.String", "$": text})
}

fn expectations() -> Vec<Expect> {
    let req = |name, case: Value, kind, id, route, headers, facts| Expect {
        name,
        case,
        kind,
        id,
        route: Some(route),
        headers,
        facts,
    };
    let res = |name, case: Value, id, facts| Expect {
        name,
        case,
        kind: FrameKind::Response,
        id,
        route: None,
        headers: vec![],
        facts,
    };
    let hb = |name, case: Value, kind, id| Expect {
        name,
        case,
        kind,
        id,
        route: None,
        headers: vec![],
        facts: vec![("event", FactValue::Bool(true))],
    };
    let base = |id: Value, method: &str, args: Value| {
        json!({"kind": "request", "id": id, "path": SERVICE, "version": "1.0.0",
               "method": method, "args": args})
    };
    let with = |mut case: Value, extra: Value| {
        for (k, v) in extra.as_object().expect("object") {
            case[k] = v.clone();
        }
        case
    };
    let demo = |method| [SERVICE, SERVICE, "1.0.0", "", method];
    let int = |i: i64| FactValue::Int(i);
    let text = |t: &str| FactValue::Str(t.to_owned());
    vec![
        req(
            "two-way echo, Chinese attachments, int timeout",
            with(
                base(json!(1), "echo", json!(["你好，世界"])),
                json!({"attachments": {"x-k": "v", "租户": "蚂蚁-蓝"}, "timeout": 3000}),
            ),
            FrameKind::Request,
            1,
            demo("echo"),
            vec![("x-k", "v"), ("租户", "蚂蚁-蓝"), ("timeout", "3000")],
            vec![
                ("twoway", FactValue::Bool(true)),
                ("dubbo_version", text("2.0.2")),
            ],
        ),
        req(
            "one-way (dubbo2.js), other interface, group",
            with(
                base(json!(2), "echo", json!(["hi"])),
                json!({"twoWay": false, "encoder": "dubbo2.js", "interface": "com.example.Iface",
                       "group": "g1", "attachments": {"trace": "追踪-1"}, "timeout": 500}),
            ),
            FrameKind::OnewayRequest,
            2,
            [SERVICE, "com.example.Iface", "1.0.0", "g1", "echo"],
            vec![("trace", "追踪-1"), ("timeout", "500"), ("group", "g1")],
            vec![
                ("oneway", FactValue::Bool(true)),
                ("twoway", FactValue::Bool(false)),
                ("body_path", text("com.example.Iface")),
            ],
        ),
        req(
            "multi-arg: list, map, object, int, boolean, double",
            with(
                base(
                    json!(3),
                    "mix",
                    json!([
                        {"$class": "java.util.ArrayList", "$": [s("a"), s("互")]},
                        {"$class": "java.util.HashMap", "$": {"k": s("v"), "键": s("值")}},
                        {"$class": "com.example.Point", "$": {"x": {"$class": "int", "$": 1},
                                                               "label": s("点")}},
                        7, true, 1.5
                    ]),
                ),
                json!({"version": "2.3.4", "attachments": {"n": 7, "ok": true, "名": "值"}}),
            ),
            FrameKind::Request,
            3,
            [SERVICE, SERVICE, "2.3.4", "", "mix"],
            vec![("n", "7"), ("ok", "true"), ("名", "值")],
            vec![(
                "parameter_types",
                text("Ljava/util/ArrayList;Ljava/util/HashMap;Lcom/example/Point;IZD"),
            )],
        ),
        req(
            "64 KiB string argument (R chunks)",
            with(
                base(json!(4), "echo", json!([big_string()])),
                json!({"attachments": {"size": "64KiB"}}),
            ),
            FrameKind::Request,
            4,
            demo("echo"),
            vec![("size", "64KiB")],
            vec![],
        ),
        req(
            "id above 2^53 (patched into the header)",
            base(json!("9007199254740993"), "echo", json!(["big id"])),
            FrameKind::Request,
            9_007_199_254_740_993,
            demo("echo"),
            vec![],
            vec![("request_id", FactValue::UInt(9_007_199_254_740_993))],
        ),
        req(
            "two-way sayHello (dubbo2.js), application",
            with(
                base(json!(6), "sayHello", json!(["世界"])),
                json!({"encoder": "dubbo2.js", "attachments": {"灰度": "是"}, "timeout": 1000,
                       "application": {"name": "interop-app"}}),
            ),
            FrameKind::Request,
            6,
            demo("sayHello"),
            vec![("灰度", "是"), ("timeout", "1000")],
            vec![],
        ),
        req(
            "fail(String)",
            base(json!(7), "fail", json!(["boom"])),
            FrameKind::Request,
            7,
            demo("fail"),
            vec![],
            vec![],
        ),
        req(
            "big(65536)",
            base(json!(8), "big", json!([65536])),
            FrameKind::Request,
            8,
            demo("big"),
            vec![],
            vec![("parameter_types", text("I"))],
        ),
        req(
            "big(10)",
            base(json!(9), "big", json!([10])),
            FrameKind::Request,
            9,
            demo("big"),
            vec![],
            vec![],
        ),
        res(
            "response flag 1 (value)",
            json!({"kind": "response", "id": 11, "value": "hi 你好", "dubboVersion": "2.0.0"}),
            11,
            vec![("response_flag", int(1)), ("value", text("hi 你好"))],
        ),
        res(
            "response flag 2 (null)",
            json!({"kind": "response", "id": 12, "value": null, "dubboVersion": "2.0.0"}),
            12,
            vec![("response_flag", int(2)), ("value", FactValue::Null)],
        ),
        res(
            "response flag 3 (exception + attachments)",
            json!({"kind": "response", "id": 13, "exception": "boom 异常", "dubboVersion": "2.0.2"}),
            13,
            vec![("response_flag", int(3))],
        ),
        res(
            "response flag 4 (value + attachments)",
            json!({"kind": "response", "id": 14, "value": "v", "attachments": {"x-served-by": "节点"}}),
            14,
            vec![("response_flag", int(4)), ("value", text("v"))],
        ),
        res(
            "response flag 5 (null + attachments)",
            json!({"kind": "response", "id": 15, "value": null, "dubboVersion": "2.0.2"}),
            15,
            vec![("response_flag", int(5)), ("value", FactValue::Null)],
        ),
        res(
            "response flag 0 (exception)",
            json!({"kind": "response", "id": 16, "exception": "legacy 异常", "dubboVersion": "2.0.0"}),
            16,
            vec![("response_flag", int(0))],
        ),
        res(
            "status 60 error",
            json!({"kind": "response", "id": 17, "status": 60, "errorMessage": "not found 找不到"}),
            17,
            vec![("status", int(60))],
        ),
        hb(
            "heartbeat request (apache-dubbo-serialization, id 0)",
            json!({"kind": "heartbeat"}),
            FrameKind::HeartbeatRequest,
            0,
        ),
        hb(
            "heartbeat request (dubbo2.js, id 21)",
            json!({"kind": "heartbeat", "id": 21, "encoder": "dubbo2.js"}),
            FrameKind::HeartbeatRequest,
            21,
        ),
        hb(
            "heartbeat response (id 21)",
            json!({"kind": "heartbeat_response", "id": 21}),
            FrameKind::HeartbeatResponse,
            21,
        ),
    ]
}

fn catalog() -> &'static [Entry] {
    static CATALOG: OnceLock<Vec<Entry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let expects = expectations();
        let cases: Vec<Value> = expects.iter().map(|e| e.case.clone()).collect();
        let encoded = node(
            "dubbo-peer.js",
            &["encode"],
            &Value::Array(cases),
            Duration::from_secs(15),
        );
        assert_eq!(encoded.len(), expects.len(), "encode: one result per case");
        let frames: Vec<Bytes> = encoded
            .iter()
            .zip(&expects)
            .map(|(item, e)| {
                let hex = item["hex"]
                    .as_str()
                    .unwrap_or_else(|| panic!("peer could not encode {:?}: {item}", e.name));
                Bytes::from(unhex(hex))
            })
            .collect();
        let decoded = peer_decode(&frames);
        expects
            .into_iter()
            .zip(frames)
            .zip(decoded)
            .map(|((expect, frame), peer)| {
                assert_eq!(
                    peer["ok"], true,
                    "the libraries cannot decode their own {:?}: {peer}",
                    expect.name
                );
                Entry {
                    expect,
                    frame,
                    peer,
                }
            })
            .collect()
    })
}

fn catalog_frame(name: &str) -> Bytes {
    catalog()
        .iter()
        .find(|e| e.expect.name == name)
        .unwrap_or_else(|| panic!("no catalog entry {name:?}"))
        .frame
        .clone()
}

/// `dubbo-peer.js decode` of each frame (one node run).
fn peer_decode(frames: &[Bytes]) -> Vec<Value> {
    let input: Vec<Value> = frames.iter().map(|f| Value::String(hex(f))).collect();
    let out = node(
        "dubbo-peer.js",
        &["decode"],
        &Value::Array(input),
        Duration::from_secs(15),
    );
    assert_eq!(out.len(), frames.len(), "decode: one result per frame");
    out
}

fn peer_id(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().expect("id"),
        Value::String(s) => s.parse().expect("decimal id"),
        other => panic!("bad id {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. node peers write -> we decode

#[test]
fn node_encoded_frames_decode_in_our_codec() {
    let codec = codec();
    let kit = Conformance::new(codec);
    let entries = catalog();
    let mut checked = 0;
    for Entry {
        expect: e,
        frame,
        peer,
    } in entries
    {
        let ctx = format!("{} ({})", e.name, hex_view(frame));
        assert_eq!(
            codec.split_frame(frame),
            Ok(Split::Complete(frame.len())),
            "split: {ctx}"
        );
        let head = codec
            .frame_head(frame)
            .unwrap_or_else(|err| panic!("frame_head: {err}: {ctx}"));
        assert_eq!(head.kind, e.kind, "kind: {ctx}");
        assert_eq!(head.request_id, e.id, "request id: {ctx}");
        assert_eq!(peer_id(&peer["id"]), e.id, "peer id: {ctx}");
        let peer_status = peer["status"].as_u64().expect("status") as u32;
        match e.kind {
            FrameKind::Response | FrameKind::HeartbeatResponse => {
                assert_eq!(head.status, Some(peer_status), "status: {ctx}")
            }
            _ => assert_eq!(head.status, None, "status of a request: {ctx}"),
        }

        let facts = codec
            .facts(frame)
            .unwrap_or_else(|err| panic!("facts: {err}: {ctx}"));
        assert_eq!(fact(&facts, "request_id"), &FactValue::UInt(e.id), "{ctx}");
        assert_eq!(
            fact(&facts, "twoway"),
            &FactValue::Bool(peer["twoWay"] == true),
            "twoway: {ctx}"
        );
        assert_eq!(
            fact(&facts, "event"),
            &FactValue::Bool(peer["event"] == true),
            "event: {ctx}"
        );
        assert_eq!(
            fact(&facts, "body_length"),
            &json_fact(&peer["bodyLength"]),
            "{ctx}"
        );
        for (name, want) in &e.facts {
            assert_eq!(fact(&facts, name), want, "fact {name}: {ctx}");
        }

        match e.kind {
            FrameKind::Request | FrameKind::OnewayRequest => {
                let [service, interface, version, group, method] = e.route.expect("route");
                let route = codec
                    .route_headers(frame)
                    .unwrap_or_else(|err| panic!("route_headers: {err}: {ctx}"));
                assert_eq!(route.service(), Some(service), "service: {ctx}");
                assert_eq!(route.interface(), Some(interface), "interface: {ctx}");
                assert_eq!(route.version(), Some(version), "version: {ctx}");
                let group = (!group.is_empty()).then_some(group);
                assert_eq!(route.group(), group, "group: {ctx}");
                assert_eq!(route.method(), Some(method), "method: {ctx}");
                for (k, v) in &e.headers {
                    assert_eq!(route.header(k), Some(*v), "attachment {k}: {ctx}");
                }
                // Every attachment, as the libraries read them.
                assert_eq!(
                    our_headers(frame),
                    peer_headers(&peer["attachments"]),
                    "attachments vs hessian.js: {ctx}"
                );
                let ours = fact_map(fact(&facts, "attachments"));
                let theirs: BTreeMap<String, FactValue> = peer["attachments"]
                    .as_object()
                    .expect("attachments")
                    .iter()
                    .map(|(k, v)| (k.clone(), json_fact(v)))
                    .collect();
                assert_eq!(
                    ours, theirs,
                    "attachment facts (typed) vs hessian.js: {ctx}"
                );
                for (ours, theirs) in [
                    ("dubbo_version", "dubboVersion"),
                    ("body_path", "path"),
                    ("body_version", "version"),
                    ("method", "methodName"),
                    ("parameter_types", "parameterTypes"),
                ] {
                    assert_eq!(
                        fact(&facts, ours),
                        &json_fact(&peer[theirs]),
                        "{ours}: {ctx}"
                    );
                }
            }
            FrameKind::Response => {
                assert_eq!(
                    our_headers(frame),
                    peer_headers(&peer["attachments"]),
                    "response attachments vs hessian.js: {ctx}"
                );
                match peer["responseFlag"].as_i64() {
                    Some(flag) => {
                        assert_eq!(
                            fact(&facts, "response_flag"),
                            &FactValue::Int(flag),
                            "{ctx}"
                        );
                        if peer["exception"].is_null() {
                            assert_eq!(fact(&facts, "value"), &json_fact(&peer["value"]), "{ctx}");
                        } else {
                            assert_eq!(
                                fact(&facts, "exception_message"),
                                &json_fact(&peer["exception"]),
                                "{ctx}"
                            );
                        }
                    }
                    None => assert_eq!(
                        fact(&facts, "error_message"),
                        &json_fact(&peer["errorMessage"]),
                        "{ctx}"
                    ),
                }
                let case = &e.case;
                if let Some(msg) = case["exception"].as_str().or(case["errorMessage"].as_str()) {
                    let got = format!(
                        "{:?}",
                        facts
                            .get("exception_message")
                            .or(facts.get("error_message"))
                    );
                    assert!(got.contains(msg), "message {msg:?} not in {got}: {ctx}");
                }
            }
            _ => {
                assert_eq!(peer["heartbeat"], true, "the library's isHeartBeat: {ctx}");
            }
        }
        kit.check_frame(frame);
        checked += 1;
    }

    // All frames back to back through one read buffer, fed in odd-sized reads.
    let stream: Vec<u8> = entries.iter().flat_map(|e| e.frame.to_vec()).collect();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for piece in stream.chunks(997) {
        buf.extend_from_slice(piece);
        while let Split::Complete(n) = codec.split_frame(&buf).expect("split the stream") {
            got.push(buf.split_to(n).freeze());
        }
    }
    assert!(buf.is_empty(), "bytes left over after the stream");
    assert_eq!(got.len(), entries.len(), "frames in the stream");
    for (g, e) in got.iter().zip(entries) {
        assert_eq!(g, &e.frame, "stream frame {}", e.expect.name);
    }
    println!(
        "interop: {checked} frames checked against apache-dubbo-serialization 0.0.2 / dubbo2.js 2.3.9 / hessian.js encodings"
    );
}

// ---------------------------------------------------------------------------------------------
// Sending our frames to a real provider

/// What a provider must answer to one frame we sent.
#[derive(Debug, Clone)]
enum Want {
    /// Status 20 with this value.
    Value(String),
    /// Status 20 with an exception (flag 0/3) whose message contains this.
    Exception(&'static str),
    /// This non-20 status with an error message containing this.
    Error(u8, String),
    /// A heartbeat response (checked by the caller).
    Heartbeat,
}

#[derive(Debug, Clone)]
struct Sent {
    label: String,
    frame: Bytes,
    want: Want,
}

fn sent(label: impl Into<String>, frame: Bytes, want: Want) -> Sent {
    Sent {
        label: label.into(),
        frame,
        want,
    }
}

fn with_id(frame: &Bytes, id: u64) -> Bytes {
    xprotocol_core::rewrite_request_id(codec(), frame.clone(), id).expect("set_request_id")
}

fn mutated(frame: &Bytes, edits: &[HeaderEdit<'_>], id: u64) -> Bytes {
    let parts = codec()
        .mutate_headers(frame, edits)
        .unwrap_or_else(|e| panic!("mutate_headers {edits:?}: {e}"));
    with_id(&parts.to_bytes(), id)
}

/// Through HTTP/2 and back, with the request id changed on the HTTP/2 message.
fn via_http2(frame: &Bytes, id: u64) -> Bytes {
    let mut message = codec().to_http2(frame).expect("to_http2");
    assert_eq!(
        message.headers()["xp-method"],
        "echo",
        "to_http2 routing header"
    );
    message.headers_mut().insert(
        xprotocol_core::transcoding::names::REQUEST_ID,
        id.to_string().parse().expect("header value"),
    );
    let back = codec().from_http2(&message).expect("from_http2").to_bytes();
    assert_eq!(
        back,
        with_id(frame, id),
        "from_http2 of the edited message = the frame with the new id"
    );
    back
}

/// Sends `frames` (all in one write when `pipelined`, else one at a time, each
/// waiting for an answer) and collects `expected` answer frames.
fn exchange(conn: &mut FrameConn, sent: &[Sent], expected: usize, pipelined: bool) -> Vec<Bytes> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let read_one =
        |conn: &mut FrameConn, got: &mut Vec<Bytes>, what: &str| match conn.next_frame(deadline) {
            Next::Frame(f) => got.push(f),
            Next::Timeout => panic!(
                "no answer within 10 s ({what}); answers so far: {:?}",
                got.iter().map(|f| hex_view(f)).collect::<Vec<_>>()
            ),
            Next::Closed => panic!(
                "the provider closed the connection ({what}); answers so far: {:?}",
                got.iter().map(|f| hex_view(f)).collect::<Vec<_>>()
            ),
        };
    if pipelined {
        let all: Vec<u8> = sent.iter().flat_map(|s| s.frame.to_vec()).collect();
        conn.send(&all);
        while got.len() < expected {
            read_one(conn, &mut got, "pipelined batch");
        }
    } else {
        for s in sent {
            conn.send(&s.frame);
            read_one(conn, &mut got, &s.label);
        }
        assert_eq!(got.len(), expected, "one answer per request");
    }
    got
}

/// Checks the answer to each request (matched by id) and returns the answers by id.
fn check_answers(peer: &str, sent: &[Sent], answers: &[Bytes]) -> HashMap<u64, Bytes> {
    let kit = Conformance::new(codec());
    let mut by_id: HashMap<u64, Bytes> = HashMap::new();
    for a in answers {
        kit.check_frame(a);
        let head = codec().frame_head(a).expect("frame_head");
        if head.kind == FrameKind::Response {
            let dup = by_id.insert(head.request_id, a.clone());
            assert!(
                dup.is_none(),
                "{peer}: two answers with id {}",
                head.request_id
            );
        }
    }
    for s in sent {
        if matches!(s.want, Want::Heartbeat) {
            continue;
        }
        let id = codec().request_id(&s.frame).expect("id");
        let answer = by_id.get(&id).unwrap_or_else(|| {
            panic!(
                "{peer}: no response with id {id} to {:?} ({})",
                s.label,
                hex_view(&s.frame)
            )
        });
        let ctx = format!("{peer}, {:?}: answer {}", s.label, hex_view(answer));
        let facts = codec()
            .facts(answer)
            .unwrap_or_else(|e| panic!("facts: {e}: {ctx}"));
        let status = facts.get("status").cloned();
        match &s.want {
            Want::Value(v) => {
                assert_eq!(status, Some(FactValue::Int(20)), "status: {ctx}");
                assert_eq!(
                    fact(&facts, "value"),
                    &FactValue::Str(v.clone()),
                    "value: {ctx}"
                );
            }
            Want::Exception(m) => {
                assert_eq!(status, Some(FactValue::Int(20)), "status: {ctx}");
                let got = fact(&facts, "exception_message");
                assert!(
                    matches!(got, FactValue::Str(t) if t.contains(m)),
                    "exception {got:?} lacks {m:?}: {ctx}"
                );
            }
            Want::Error(code, m) => {
                assert_eq!(
                    status,
                    Some(FactValue::Int(i64::from(*code))),
                    "status: {ctx}"
                );
                let got = fact(&facts, "error_message");
                assert!(
                    matches!(got, FactValue::Str(t) if t.contains(m.as_str())),
                    "error {got:?} lacks {m:?}: {ctx}"
                );
            }
            Want::Heartbeat => unreachable!(),
        }
    }
    by_id
}

const ECHO_CN: &str = "two-way echo, Chinese attachments, int timeout";

// ---------------------------------------------------------------------------------------------
// 3. our frames -> real node provider (apache-dubbo-service)

#[test]
fn our_changed_frames_are_served_by_node_provider() {
    let dir = node_ready();
    let mut provider = ServerPeer::start(
        Path::new("node"),
        &[dir.join("dubbo-provider.js").to_str().expect("utf-8")],
        "node dubbo-provider.js",
    );
    let echo = catalog_frame(ECHO_CN);
    let laned = mutated(
        &echo,
        &[HeaderEdit::Set("x-lane", LANE), HeaderEdit::Remove("x-k")],
        1003,
    );
    {
        let route = codec().route_headers(&laned).expect("route");
        assert_eq!(route.header("x-lane"), Some(LANE));
        assert_eq!(route.header("x-k"), None);
        assert_eq!(route.header("租户"), Some("蚂蚁-蓝"));
    }
    let retargeted = mutated(
        &Bytes::from_static(REQUEST_177),
        &[
            HeaderEdit::Set("path", SERVICE),
            HeaderEdit::Set("interface", SERVICE),
            HeaderEdit::Remove("group"),
        ],
        1006,
    );
    let oneway = catalog_frame("one-way (dubbo2.js), other interface, group");
    let mut ping = BytesMut::new();
    codec()
        .heartbeat_request(1011, &mut ping)
        .expect("heartbeat_request");
    let big: String = "x".repeat(65536);
    let sent = vec![
        sent(
            "echo, id 1001",
            with_id(&echo, 1001),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "echo, id 2^53-1",
            with_id(&echo, MAX_SAFE_ID),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "echo, x-lane set, x-k removed",
            laned.clone(),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "echo, version attachment set to 9.9.9",
            mutated(&echo, &[HeaderEdit::Set("version", "9.9.9")], 1004),
            Want::Error(60, "9.9.9".into()),
        ),
        sent(
            "echo of 64 KiB",
            with_id(&catalog_frame("64 KiB string argument (R chunks)"), 1005),
            Want::Value(big_string()),
        ),
        sent(
            "testdata REQUEST_177 re-targeted by attachments",
            retargeted.clone(),
            Want::Value("hello world".into()),
        ),
        sent(
            "echo via HTTP/2, id 1007",
            via_http2(&echo, 1007),
            Want::Value("你好，世界".into()),
        ),
        // The provider answers one-way requests too (README), and routes on the group
        // attachment: g1 is not served, and once `mutate_headers` removed it, it is.
        sent(
            "one-way, group g1",
            with_id(&oneway, 1008),
            Want::Error(60, "group:g1".into()),
        ),
        sent(
            "one-way, group removed",
            mutated(&oneway, &[HeaderEdit::Remove("group")], 1012),
            Want::Value("hi".into()),
        ),
        sent(
            "fail",
            with_id(&catalog_frame("fail(String)"), 1009),
            Want::Exception("fail: boom"),
        ),
        sent(
            "big(65536)",
            with_id(&catalog_frame("big(65536)"), 1010),
            Want::Value(big.clone()),
        ),
        sent("heartbeat_request(1011)", ping.freeze(), Want::Heartbeat),
    ];
    let mut conn = FrameConn::connect(provider.port);
    let answers = exchange(&mut conn, &sent, sent.len(), true);
    let by_id = check_answers("node provider", &sent, &answers);
    // The heartbeat answer (README): flag 0x62 (two-way bit + event, no request bit),
    // status 0 (not 20), id ALWAYS 0 (not our 1011), body `N`.
    let hb: Vec<&Bytes> = answers
        .iter()
        .filter(|a| codec().frame_head(a).expect("head").kind == FrameKind::HeartbeatResponse)
        .collect();
    assert_eq!(hb.len(), 1, "one heartbeat answer");
    assert_eq!(
        &hb[0][..],
        &b"\xda\xbb\x62\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01N"[..],
        "node provider's heartbeat answer"
    );
    let head = codec().frame_head(hb[0]).expect("head");
    assert_eq!((head.request_id, head.status), (0, Some(0)));
    // Every reply from a dubbo 2.0.2 request carries the provider's attachments.
    let served = our_headers(&by_id[&1001]);
    assert_eq!(
        served.get("x-served-by").map(String::as_str),
        Some("node-provider")
    );
    // The libraries' own decoder reads our changed frames as we meant them.
    let frames: Vec<Bytes> = sent.iter().map(|s| s.frame.clone()).collect();
    let decoded = peer_decode(&frames);
    for (s, d) in sent.iter().zip(&decoded) {
        assert_eq!(d["ok"], true, "peer decode of {:?}: {d}", s.label);
        let id = codec().request_id(&s.frame).expect("id");
        assert_eq!(peer_id(&d["id"]), id, "peer id of {:?}", s.label);
        if d["event"] == false {
            assert_eq!(
                d["provider"]["ok"], true,
                "provider decode of {:?}: {d}",
                s.label
            );
            assert_eq!(
                peer_headers(&d["attachments"]),
                our_headers(&s.frame),
                "attachments of {:?}",
                s.label
            );
        }
    }
    assert_eq!(decoded[2]["attachments"]["x-lane"], LANE);
    assert!(decoded[2]["attachments"].get("x-k").is_none());
    // NOT sent: a read-only event ("R", our `goaway`): README says it crashes this provider.
    assert!(
        provider.alive(),
        "{} died: {}",
        provider.what,
        provider.stderr()
    );
    drop(conn);
    println!(
        "interop: {} frames/calls checked against apache-dubbo-service 0.0.1 (node provider){}",
        sent.len(),
        if provider.stderr().is_empty() {
            String::new()
        } else {
            format!("; provider stderr: {}", provider.stderr().trim())
        }
    );
}

// ---------------------------------------------------------------------------------------------
// 2. real node consumer (apache-dubbo-consumer) -> our Rust server

#[test]
fn node_consumer_gets_our_responses() {
    let dir = node_ready();
    let server = RustServer::start(9, Some(0x1234));
    let big = big_string();
    let calls = json!([
        {"method": "echo", "args": ["hi"], "attachments": {"call": "0", "k": "v"}},
        {"method": "echo", "args": ["你好，世界 😀"], "attachments": {"call": "1", "租户": "蚂蚁-蓝"}},
        {"method": "echo", "args": [big], "attachments": {"call": "2"}},
        {"method": "echo", "args": [42], "attachments": {"call": "3", "n": 5}},
        {"method": "echo", "args": [true], "attachments": {"call": "4"}},
        {"method": "echo", "args": ["grp"], "attachments": {"call": "5"}, "group": "g1", "version": "2.0.0"},
        {"method": "missing", "args": ["x"], "attachments": {"call": "6"}},
        {"method": "slow", "args": ["x"], "attachments": {"call": "7"}},
        {"method": "echo", "args": [""], "attachments": {"call": "8"}},
    ]);
    let port = server.port.to_string();
    let results = run_json(
        Path::new("node"),
        &[
            dir.join("dubbo-consumer.js").to_str().expect("utf-8"),
            &port,
            "--timeout",
            "5000",
        ],
        &calls,
        Duration::from_secs(15),
        "node dubbo-consumer.js",
    );
    let log = server.finish();
    let results = results.as_array().expect("results array").clone();
    assert_eq!(results.len(), 9, "one result per call: {results:?}");
    let want_values = [
        json!("hi"),
        json!("你好，世界 😀"),
        json!(big),
        json!(42),
        json!(true),
        json!("grp"),
    ];
    for (i, want) in want_values.iter().enumerate() {
        assert_eq!(results[i]["ok"], true, "call {i}: {}", results[i]);
        assert!(
            results[i]["value"] == *want,
            "call {i}: value {}",
            results[i]
        );
    }
    assert_eq!(results[8], json!({"ok": true, "value": ""}), "call 8");
    assert_eq!(results[6]["ok"], false, "missing: {}", results[6]);
    let err = results[6]["error"].as_str().expect("error");
    assert!(
        err.contains(NO_ROUTE_MSG),
        "NoRoute local reply message: {err}"
    );
    assert_eq!(results[7]["ok"], false, "slow: {}", results[7]);
    let err = results[7]["error"].as_str().expect("error");
    assert!(
        err.contains("timeout"),
        "Timeout local reply message: {err}"
    );

    // What the consumer sent, as our codec reads it.
    assert_eq!(log.connections, 1, "one connection");
    assert_eq!(log.requests.len(), 9, "requests");
    let kit = Conformance::new(codec());
    let mut ids = Vec::new();
    for req in &log.requests {
        kit.check_frame(req);
        let route = codec().route_headers(req).expect("route");
        let call: usize = route
            .header("call")
            .expect("call attachment")
            .parse()
            .expect("n");
        let c = &calls[call];
        let ctx = format!("call {call}: {}", hex_view(req));
        assert_eq!(
            codec().frame_head(req).expect("head").kind,
            FrameKind::Request,
            "{ctx}"
        );
        assert_eq!(route.service(), Some(SERVICE), "{ctx}");
        assert_eq!(route.interface(), Some(SERVICE), "{ctx}");
        assert_eq!(route.method(), c["method"].as_str(), "{ctx}");
        assert_eq!(
            route.version(),
            Some(c["version"].as_str().unwrap_or("1.0.0")),
            "{ctx}"
        );
        assert_eq!(route.group(), c["group"].as_str(), "{ctx}");
        assert_eq!(route.header("timeout"), Some("5000"), "{ctx}");
        assert_eq!(route.header("application"), Some("dubbo-js"), "{ctx}");
        for (k, v) in c["attachments"].as_object().expect("attachments") {
            assert_eq!(
                route.header(k),
                Some(json_text(v).as_str()),
                "attachment {k}: {ctx}"
            );
        }
        let facts = codec().facts(req).expect("facts");
        let atts = fact_map(fact(&facts, "attachments"));
        assert_eq!(
            atts.get("timeout"),
            Some(&FactValue::Int(5000)),
            "timeout is an int: {ctx}"
        );
        ids.push((call, codec().request_id(req).expect("id")));
    }
    // Ids come from a process-wide counter: 1, 2, 3… in call order.
    ids.sort();
    let expect_ids: Vec<(usize, u64)> = (0..9).map(|i| (i, i as u64 + 1)).collect();
    assert_eq!(ids, expect_ids, "consumer request ids");
    // Our answers (built by us) pass the conformance kit too.
    for a in &log.answers {
        kit.check_frame(a);
    }
    // The consumer sends heartbeats only after 60 s idle (README), so none are expected
    // here; any that came were answered with our `heartbeat_reply` (same id, flag 0x22).
    for hb in &log.heartbeat_requests {
        let id = codec().request_id(hb).expect("id");
        let answered = log.answers.iter().any(|a| {
            let h = codec().frame_head(a).expect("head");
            h.kind == FrameKind::HeartbeatResponse && h.request_id == id
        });
        assert!(answered, "consumer heartbeat {} not answered", hex_view(hb));
    }
    // It does not answer the heartbeat request we sent on connect (it only logs it), and
    // carries on: all the calls above worked.
    assert!(
        log.others.is_empty(),
        "the consumer answered our heartbeat request: {:?}",
        log.others.iter().map(|f| hex_view(f)).collect::<Vec<_>>()
    );
    println!(
        "interop: 9 calls checked against apache-dubbo-consumer 4.0.0 (node consumer -> Rust \
         server, pipelined, answered in reverse order; {} consumer heartbeats)",
        log.heartbeat_requests.len()
    );
}

// ---------------------------------------------------------------------------------------------
// 4. dubbo-py (PyPI 0.2.2): provider and consumer

#[test]
fn our_changed_frames_are_served_by_dubbo_py_provider() {
    let py = python();
    let script = interop_dir().join("dubbo-py-peer.py");
    let mut provider = ServerPeer::start(
        py,
        &[script.to_str().expect("utf-8"), "provider"],
        "dubbo-py provider",
    );
    let echo = catalog_frame(ECHO_CN);
    let mut ping = BytesMut::new();
    codec()
        .heartbeat_request(2008, &mut ping)
        .expect("heartbeat_request");
    let mut goaway = BytesMut::new();
    codec().goaway(2009, &mut goaway).expect("goaway");
    // dubbo-py keeps 64-bit ids exactly (no JS numbers).
    let huge_id = (1u64 << 60) + 5;
    let sent = vec![
        sent(
            "echo, id 2001",
            with_id(&echo, 2001),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "echo, id 2^60+5",
            with_id(&echo, huge_id),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "echo, x-lane set, x-k removed",
            mutated(
                &echo,
                &[HeaderEdit::Set("x-lane", LANE), HeaderEdit::Remove("x-k")],
                2003,
            ),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "echo via HTTP/2, id 2004",
            via_http2(&echo, 2004),
            Want::Value("你好，世界".into()),
        ),
        sent(
            "fail",
            with_id(&catalog_frame("fail(String)"), 2005),
            Want::Error(90, "fail: boom".into()),
        ),
        sent(
            "big(10)",
            with_id(&catalog_frame("big(10)"), 2006),
            Want::Value("x".repeat(10)),
        ),
        sent("heartbeat_request(2008)", ping.freeze(), Want::Heartbeat),
        sent(
            "goaway(2009) (read-only event)",
            goaway.freeze(),
            Want::Heartbeat,
        ),
    ];
    let mut conn = FrameConn::connect(provider.port);
    let answers = exchange(&mut conn, &sent, sent.len(), true);
    check_answers("dubbo-py provider", &sent, &answers);
    // Heartbeat replies echo the id, flag 0x22 (event, no two-way bit), status 0, body N;
    // dubbo-py treats ANY event request as a heartbeat, so our read-only event gets one too.
    for id in [2008u64, 2009] {
        let reply = answers
            .iter()
            .find(|a| {
                let h = codec().frame_head(a).expect("head");
                h.kind == FrameKind::HeartbeatResponse && h.request_id == id
            })
            .unwrap_or_else(|| panic!("no heartbeat reply with id {id}"));
        let mut want = b"\xda\xbb\x22\x00".to_vec();
        want.extend_from_slice(&id.to_be_bytes());
        want.extend_from_slice(b"\x00\x00\x00\x01N");
        assert_eq!(reply[..], want[..], "dubbo-py heartbeat reply to id {id}");
    }
    assert!(
        provider.alive(),
        "{} died: {}",
        provider.what,
        provider.stderr()
    );
    drop(conn);
    println!(
        "interop: {} frames checked against dubbo-py 0.2.2 (Python provider)",
        sent.len()
    );
}

#[test]
fn dubbo_py_consumer_gets_our_responses() {
    let py = python();
    let script = interop_dir().join("dubbo-py-peer.py");
    let server = RustServer::start(1, None);
    let calls = json!([
        {"method": "echo", "args": ["hi"], "attachments": {"call": "0"}},
        {"method": "echo", "args": ["你好，世界"], "attachments": {"call": "1", "租户": "蓝"}},
        {"method": "echo", "args": [42], "attachments": {"call": "2"}},
        {"method": "missing", "args": ["x"], "attachments": {"call": "3"}},
        {"method": "slow", "args": ["x"], "attachments": {"call": "4"}},
        {"method": "echo", "args": ["after errors"], "attachments": {"call": "5"}},
    ]);
    let port = server.port.to_string();
    let results = run_json(
        py,
        &[
            script.to_str().expect("utf-8"),
            "consumer",
            &port,
            "--timeout",
            "3",
        ],
        &calls,
        Duration::from_secs(15),
        "dubbo-py consumer",
    );
    let log = server.finish();
    let results = results.as_array().expect("results").clone();
    assert_eq!(results.len(), 6, "{results:?}");
    for (i, want) in [
        (0, json!("hi")),
        (1, json!("你好，世界")),
        (2, json!(42)),
        (5, json!("after errors")),
    ] {
        assert_eq!(results[i]["ok"], true, "call {i}: {}", results[i]);
        assert_eq!(results[i]["value"], want, "call {i}: {}", results[i]);
    }
    assert_eq!(results[3]["ok"], false, "{}", results[3]);
    assert_eq!(results[3]["status"], 60, "{}", results[3]);
    let err = results[3]["error"].as_str().expect("error");
    assert!(err.contains(NO_ROUTE_MSG), "NoRoute message: {err}");
    assert_eq!(results[4]["ok"], false, "{}", results[4]);
    assert_eq!(results[4]["status"], 31, "{}", results[4]);
    let err = results[4]["error"].as_str().expect("error");
    assert!(err.contains("timeout"), "Timeout message: {err}");

    let kit = Conformance::new(codec());
    assert_eq!(log.requests.len(), 6, "requests");
    for req in &log.requests {
        kit.check_frame(req);
        let route = codec().route_headers(req).expect("route");
        let call: usize = route.header("call").expect("call").parse().expect("n");
        let c = &calls[call];
        let ctx = format!("call {call}: {}", hex_view(req));
        assert_eq!(route.service(), Some(SERVICE), "{ctx}");
        assert_eq!(route.interface(), Some(SERVICE), "{ctx}");
        assert_eq!(route.version(), Some("1.0.0"), "{ctx}");
        assert_eq!(route.method(), c["method"].as_str(), "{ctx}");
        for (k, v) in c["attachments"].as_object().expect("attachments") {
            assert_eq!(
                route.header(k),
                Some(json_text(v).as_str()),
                "attachment {k}: {ctx}"
            );
        }
        let facts = codec().facts(req).expect("facts");
        assert_eq!(
            fact(&facts, "dubbo_version"),
            &FactValue::Str("2.5.3".into()),
            "{ctx}"
        );
    }
    for a in &log.answers {
        kit.check_frame(a);
    }
    println!("interop: 6 calls checked against dubbo-py 0.2.2 (Python consumer -> Rust server)");
}

/// Frames only a proxy builds — our heartbeat reply, active heartbeat,
/// read-only event and local replies — as the peer libraries' own decoder
/// (apache-dubbo-serialization / hessian.js) reads them.
#[test]
fn our_control_frames_decode_in_the_peer() {
    use bytes::BytesMut;
    use xprotocol_core::{LocalStatus, Multiplexing, Routing};
    let codec = codec();
    let ping =
        Bytes::from_static(b"\xda\xbb\xe2\x00\x00\x00\x00\x00\x00\x00\x00\x2a\x00\x00\x00\x01N");
    let request = Bytes::from_static(REQUEST_177);
    let build = |f: &dyn Fn(&mut BytesMut)| {
        let mut out = BytesMut::new();
        f(&mut out);
        out.freeze()
    };
    let frames = vec![
        build(&|out| codec.heartbeat_reply(&ping, out).unwrap()),
        build(&|out| codec.heartbeat_request(43, out).unwrap()),
        build(&|out| codec.goaway(44, out).unwrap()),
        build(&|out| {
            codec
                .local_reply(&request, LocalStatus::NoRoute, "no route to 服务", out)
                .unwrap()
        }),
        build(&|out| {
            codec
                .local_reply(&request, LocalStatus::Overloaded, "", out)
                .unwrap()
        }),
    ];
    let decoded = peer_decode(&frames);
    for (i, d) in decoded.iter().enumerate() {
        assert_eq!(d["ok"], true, "frame {i}: {d}");
    }
    assert_eq!(
        (
            peer_id(&decoded[0]["id"]),
            &decoded[0]["event"],
            &decoded[0]["isRequest"]
        ),
        (42, &Value::Bool(true), &Value::Bool(false))
    );
    assert_eq!(
        (
            peer_id(&decoded[1]["id"]),
            &decoded[1]["event"],
            &decoded[1]["isRequest"]
        ),
        (43, &Value::Bool(true), &Value::Bool(true))
    );
    assert_eq!(
        (peer_id(&decoded[2]["id"]), &decoded[2]["twoWay"]),
        (44, &Value::Bool(false))
    );
    assert_eq!(
        (peer_id(&decoded[3]["id"]), &decoded[3]["status"]),
        (5, &Value::from(60))
    );
    assert!(
        decoded[3].to_string().contains("no route to 服务"),
        "{}",
        decoded[3]
    );
    assert_eq!(decoded[4]["status"], 100);
    assert!(
        decoded[4].to_string().contains("overloaded"),
        "{}",
        decoded[4]
    );
    println!(
        "interop: {} proxy-built control frames decoded by the node peer libraries",
        frames.len()
    );
}
