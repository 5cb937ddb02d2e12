//! Interop with an independent SOFA Bolt implementation: the npm library
//! sofa-bolt-node 2.0.1, driven through `interop/bolt-peer.js` (see
//! `interop/README.md`).
//!
//! * frames the peer encodes are split, inspected and conformance-checked by us;
//! * frames we build (heartbeat replies, local replies, id rewrites, header
//!   mutations, frames from scratch, HTTP/2 round trips) must decode in the peer;
//! * a corrupted CRC frame is refused by both sides.
//!
//! Needs `node` (≥ 18) on PATH and `cd interop && npm ci --ignore-scripts`: a
//! missing install FAILS these tests (they never skip). Node is spawned as few
//! times as possible: the peer-encoded catalog is built once for all tests.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};
use xprotocol_bolt::{BoltCodec, BoltHeader, codec_id};
use xprotocol_core::testing::{Conformance, vectors};
use xprotocol_core::{
    Codec, Error, FactValue, FrameKind, Framing, HeaderEdit, LocalStatus, Multiplexing, Routing,
    Split, Transcoding,
};

const PEER: &str = "sofa-bolt-node 2.0.1";

const SVC: &str = "com.example.EchoService:1.0";
const PB_SVC: &str = "com.example.acceptance.EchoService:1.0";
const PB_IFACE: &str = "com.example.acceptance.EchoService";
const SOFA_REQUEST: &str = "com.alipay.sofa.rpc.core.request.SofaRequest";
const SOFA_RESPONSE: &str = "com.alipay.sofa.rpc.core.response.SofaResponse";
/// Chinese text and an emoji outside the BMP (the peer writes it as a surrogate pair).
const ARG_CN: &str = "你好，世界 😀 bolt";
const TRACE_ID: &str = "0a1b2c3d4e5f-追踪";

// ---------------------------------------------------------------------------------------------
// The peer process

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// Runs `node bolt-peer.js <cmd>` once with `input` (a JSON array) and returns
/// its result array (one item per input item).
fn peer(cmd: &str, input: &[Value]) -> Vec<Value> {
    let dir = interop_dir();
    let script = dir.join("bolt-peer.js");
    assert!(
        script.is_file(),
        "interop peer script missing: {}",
        script.display()
    );
    let installed = dir
        .join("node_modules/sofa-bolt-node/package.json")
        .is_file()
        && dir.join("node_modules/protobufjs/package.json").is_file();
    assert!(
        installed,
        "the interop peer is not installed ({} has no node_modules/sofa-bolt-node or protobufjs): \
         run `npm ci --ignore-scripts` in interop/ (cd {} && npm ci --ignore-scripts), then re-run these tests",
        dir.display(),
        dir.display()
    );
    let mut child = Command::new("node")
        .arg(&script)
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` from PATH ({e}); the {PEER} interop tests need Node >= 18")
        });
    let payload = serde_json::to_vec(input).expect("serialize peer input");
    let mut stdin = child.stdin.take().expect("peer stdin");
    // Write from a thread: the peer may fill its stdout pipe before reading all of stdin.
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let out = child.wait_with_output().expect("wait for the peer");
    writer
        .join()
        .expect("stdin writer thread")
        .expect("write the peer's stdin");
    assert!(
        out.status.success(),
        "`node bolt-peer.js {cmd}` failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "peer {cmd}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let Value::Array(items) = value else {
        panic!("peer {cmd}: expected a JSON array, got {value}")
    };
    assert_eq!(
        items.len(),
        input.len(),
        "peer {cmd}: one result per input item"
    );
    items
}

/// The peer decodes every frame (one node process for the whole batch).
fn peer_decode(frames: &[&[u8]]) -> Vec<Value> {
    let input: Vec<Value> = frames.iter().map(|f| Value::String(hex(f))).collect();
    peer("decode", &input)
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

// ---------------------------------------------------------------------------------------------
// The catalog of peer-encoded frames, shared by every test (one `encode` run)

/// What we asked the peer to encode, and so what our codec must read back.
#[derive(Debug, Clone)]
struct Expect {
    name: &'static str,
    case: Value,
    kind: FrameKind,
    id: u32,
    timeout_ms: Option<u64>,
    status: Option<u32>,
    class: &'static str,
    proto: i64,
    crc: bool,
    /// service, interface, version, method (protobuf requests carry them as headers).
    route: Option<[&'static str; 4]>,
}

fn large_arg() -> String {
    let unit = "xprotocol-interop-";
    unit.chars().cycle().take(64 * 1024).collect()
}

fn hessian_string(s: &str) -> Value {
    json!({"$class": "java.lang.String", "$": s})
}

fn pb_args() -> Value {
    json!([{"name": "peter", "count": 3}])
}

fn pb_props() -> Value {
    json!({"x-tenant": "t1", "rpc_trace_context": {"sofaTraceId": TRACE_ID}})
}

fn expectations() -> Vec<Expect> {
    let req = |name, case, kind, id, timeout: u64, proto, crc| Expect {
        name,
        case,
        kind,
        id,
        timeout_ms: Some(timeout),
        status: None,
        class: SOFA_REQUEST,
        proto,
        crc,
        route: None,
    };
    let res = |name, case, id, status, proto, crc| Expect {
        name,
        case,
        kind: FrameKind::Response,
        id,
        timeout_ms: None,
        status: Some(status),
        class: SOFA_RESPONSE,
        proto,
        crc,
        route: None,
    };
    let hb = |name, case, kind, id, proto, crc| Expect {
        name,
        case,
        kind,
        id,
        timeout_ms: (kind == FrameKind::HeartbeatRequest).then_some(3000),
        status: (kind == FrameKind::HeartbeatResponse).then_some(0),
        class: "",
        proto,
        crc,
        route: None,
    };
    let pb_route = Some([PB_SVC, PB_IFACE, "1.0", "echo"]);
    let hessian_req = |id: u32, extra: Value| {
        let mut case = json!({
            "kind": "request", "id": id, "codec": "hessian2", "timeout": 3000,
            "service": SVC, "method": "echo", "args": [hessian_string(ARG_CN)],
            "requestProps": {"k": "v", "租户": "蚂蚁"}, "targetAppName": "interop-app",
        });
        for (k, v) in extra.as_object().expect("object") {
            case[k] = v.clone();
        }
        case
    };
    let pb_req = |id: u32, extra: Value| {
        let mut case = json!({
            "kind": "request", "id": id, "codec": "protobuf", "timeout": 1500,
            "service": PB_SVC, "method": "echo", "args": pb_args(), "requestProps": pb_props(),
        });
        for (k, v) in extra.as_object().expect("object") {
            case[k] = v.clone();
        }
        case
    };
    vec![
        req(
            "hessian2 v1 request",
            hessian_req(101, json!({"boltVersion": 1})),
            FrameKind::Request,
            101,
            3000,
            1,
            false,
        ),
        req(
            "hessian2 v1 oneway",
            hessian_req(
                102,
                json!({"boltVersion": 1, "oneway": true, "timeout": 800}),
            ),
            FrameKind::OnewayRequest,
            102,
            800,
            1,
            false,
        ),
        req(
            "hessian2 v2 request, ver1 2 switch 0 (no CRC)",
            hessian_req(103, json!({"boltVersion": 2, "crc": false})),
            FrameKind::Request,
            103,
            3000,
            2,
            false,
        ),
        req(
            "hessian2 v2 request, ver1 1 (no CRC)",
            hessian_req(104, json!({"proto": 2, "boltVersion": 1})),
            FrameKind::Request,
            104,
            3000,
            2,
            false,
        ),
        req(
            "hessian2 v2+CRC request",
            hessian_req(105, json!({"boltVersion": 2, "crc": true, "timeout": 4500})),
            FrameKind::Request,
            105,
            4500,
            2,
            true,
        ),
        res(
            "hessian2 v1 response success",
            json!({"kind": "response", "id": 101, "status": 0, "appResponse": "hello 世界"}),
            101,
            0,
            1,
            false,
        ),
        res(
            "hessian2 v1 error response status 4",
            json!({"kind": "response", "id": 106, "status": 4, "isError": true, "errorMsg": "thread pool busy 忙"}),
            106,
            4,
            1,
            false,
        ),
        res(
            "hessian2 v1 error response status 7",
            json!({"kind": "response", "id": 107, "status": 7, "isError": true, "errorMsg": "timeout 超时"}),
            107,
            7,
            1,
            false,
        ),
        res(
            "hessian2 v2+CRC response success",
            json!({"kind": "response", "id": 105, "status": 0, "appResponse": "ok",
                   "boltVersion": 2, "crc": true}),
            105,
            0,
            2,
            true,
        ),
        hb(
            "v1 heartbeat",
            json!({"kind": "heartbeat", "id": 108}),
            FrameKind::HeartbeatRequest,
            108,
            1,
            false,
        ),
        hb(
            "v1 heartbeat_ack",
            json!({"kind": "heartbeat_ack", "id": 108}),
            FrameKind::HeartbeatResponse,
            108,
            1,
            false,
        ),
        hb(
            "v2+CRC heartbeat",
            json!({"kind": "heartbeat", "id": 109, "boltVersion": 2, "crc": true}),
            FrameKind::HeartbeatRequest,
            109,
            2,
            true,
        ),
        hb(
            "v2+CRC heartbeat_ack",
            json!({"kind": "heartbeat_ack", "id": 109, "boltVersion": 2, "crc": true}),
            FrameKind::HeartbeatResponse,
            109,
            2,
            true,
        ),
        Expect {
            route: pb_route,
            ..req(
                "protobuf v1 request",
                pb_req(110, json!({"boltVersion": 1})),
                FrameKind::Request,
                110,
                1500,
                1,
                false,
            )
        },
        Expect {
            route: pb_route,
            ..req(
                "protobuf v2+CRC request",
                pb_req(111, json!({"boltVersion": 2, "crc": true})),
                FrameKind::Request,
                111,
                1500,
                2,
                true,
            )
        },
        res(
            "protobuf v1 response success",
            json!({"kind": "response", "id": 110, "codec": "protobuf", "status": 0,
                   "appResponse": {"code": 200, "message": "回声 ok"}}),
            110,
            0,
            1,
            false,
        ),
        req(
            "hessian2 v1 request, 64 KiB string arg",
            json!({"kind": "request", "id": 112, "codec": "hessian2", "timeout": 10000,
                   "service": SVC, "method": "echo", "args": [hessian_string(&large_arg())]}),
            FrameKind::Request,
            112,
            10000,
            1,
            false,
        ),
    ]
}

struct Catalog {
    entries: Vec<(Expect, Vec<u8>)>,
}

impl Catalog {
    fn frame(&self, name: &str) -> &[u8] {
        self.entries
            .iter()
            .find(|(e, _)| e.name == name)
            .map(|(_, f)| &f[..])
            .unwrap_or_else(|| panic!("no catalog frame named {name:?}"))
    }
}

/// The peer-encoded frames, encoded once (one node run) for all tests.
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let expect = expectations();
        let cases: Vec<Value> = expect.iter().map(|e| e.case.clone()).collect();
        let out = peer("encode", &cases);
        let entries = expect
            .into_iter()
            .zip(out)
            .map(|(e, r)| {
                let Some(h) = r.get("hex").and_then(Value::as_str) else {
                    panic!("{PEER} could not encode {:?}: {r}", e.name)
                };
                let bytes = unhex(h);
                (e, bytes)
            })
            .collect();
        Catalog { entries }
    })
}

fn content(frame: &[u8]) -> &[u8] {
    let h = BoltHeader::parse(frame)
        .expect("header")
        .expect("whole header");
    &frame[h.content_at()..h.content_at() + h.content_len as usize]
}

// ---------------------------------------------------------------------------------------------
// 1. peer-encoded → we decode

#[test]
fn peer_encoded_frames_decode_in_our_codec() {
    let codec = BoltCodec::new();
    let kit = Conformance::new(&codec);
    let catalog = catalog();
    for (e, frame) in &catalog.entries {
        let ctx = format!("{} (peer frame {})", e.name, hex_view(frame));
        assert_eq!(
            codec.split_frame(frame),
            Ok(Split::Complete(frame.len())),
            "split: {ctx}"
        );

        let head = codec
            .frame_head(frame)
            .unwrap_or_else(|err| panic!("frame_head: {err}: {ctx}"));
        assert_eq!(head.kind, e.kind, "kind: {ctx}");
        assert_eq!(head.request_id, u64::from(e.id), "request id: {ctx}");
        assert_eq!(
            head.timeout,
            e.timeout_ms.map(Duration::from_millis),
            "timeout: {ctx}"
        );
        assert_eq!(head.status, e.status, "status: {ctx}");

        let facts = codec
            .facts(&Bytes::copy_from_slice(frame))
            .unwrap_or_else(|err| panic!("facts: {err}: {ctx}"));
        assert_eq!(
            facts.get("class_name"),
            Some(&FactValue::Str(e.class.into())),
            "class_name: {ctx}"
        );
        assert_eq!(
            facts.get("crc"),
            Some(&FactValue::Bool(e.crc)),
            "crc: {ctx}"
        );
        assert_eq!(
            facts.get("bolt_proto"),
            Some(&FactValue::Int(e.proto)),
            "bolt_proto: {ctx}"
        );
        assert_eq!(
            facts.get("oneway"),
            Some(&FactValue::Bool(e.kind == FrameKind::OnewayRequest)),
            "oneway: {ctx}"
        );
        assert_eq!(
            facts.get("frame_length"),
            Some(&FactValue::Int(frame.len() as i64)),
            "frame_length: {ctx}"
        );

        let route = codec
            .route_headers(&Bytes::copy_from_slice(frame))
            .unwrap_or_else(|err| panic!("route: {err}: {ctx}"));
        if let Some([service, interface, version, method]) = e.route {
            assert_eq!(route.service(), Some(service), "service: {ctx}");
            assert_eq!(route.interface(), Some(interface), "interface: {ctx}");
            assert_eq!(route.version(), Some(version), "version: {ctx}");
            assert_eq!(route.method(), Some(method), "method: {ctx}");
            assert_eq!(route.header("x-tenant"), Some("t1"), "x-tenant: {ctx}");
            assert_eq!(
                route.header("rpc_trace_context.sofaTraceId"),
                Some(TRACE_ID),
                "trace id: {ctx}"
            );
        } else if e.kind.is_request() && e.kind != FrameKind::HeartbeatRequest {
            // hessian2: the peer writes only `service`; the method lives in the
            // SofaRequest body (Hessian 2.0 draft), read by the hessian2 reader.
            assert_eq!(route.method(), Some("echo"), "method from the body: {ctx}");
            assert_eq!(
                facts.get("method_location"),
                Some(&FactValue::Str("hessian2-body".into())),
                "method_location: {ctx}"
            );
            assert_eq!(route.service(), Some(SVC), "service: {ctx}");
            assert_eq!(
                route.interface(),
                Some("com.example.EchoService"),
                "interface: {ctx}"
            );
            assert_eq!(route.version(), Some("1.0"), "version: {ctx}");
        }

        kit.check_frame(frame);
    }
    println!(
        "interop: {} frames checked against {PEER} (peer-encoded → our codec)",
        catalog.entries.len()
    );
}

// ---------------------------------------------------------------------------------------------
// 2. we build → peer decodes

/// One frame we built and what the peer must report for it (JSON pointer → value).
struct Built {
    name: String,
    frame: Vec<u8>,
    expect: Vec<(&'static str, Value)>,
}

fn built(
    name: impl Into<String>,
    frame: impl Into<Vec<u8>>,
    expect: Vec<(&'static str, Value)>,
) -> Built {
    Built {
        name: name.into(),
        frame: frame.into(),
        expect,
    }
}

fn hessian_request_fields(id: u32) -> Vec<(&'static str, Value)> {
    vec![
        ("/packetType", json!("request")),
        ("/packetId", json!(id)),
        ("/codecType", json!("hessian2")),
        ("/className", json!(SOFA_REQUEST)),
        ("/serverSignature", json!(SVC)),
        ("/methodName", json!("echo")),
        ("/targetAppName", json!("interop-app")),
        ("/args", json!([ARG_CN])),
        ("/requestProps", json!({"k": "v", "租户": "蚂蚁"})),
    ]
}

fn pb_request_fields(id: u32) -> Vec<(&'static str, Value)> {
    vec![
        ("/packetType", json!("request")),
        ("/packetId", json!(id)),
        ("/codecType", json!("protobuf")),
        ("/serverSignature", json!(PB_SVC)),
        ("/methodName", json!("echo")),
        ("/args", pb_args()),
    ]
}

fn with(
    mut base: Vec<(&'static str, Value)>,
    more: Vec<(&'static str, Value)>,
) -> Vec<(&'static str, Value)> {
    base.extend(more);
    base
}

#[test]
fn frames_we_build_decode_in_the_peer() {
    let codec = BoltCodec::new();
    let cat = catalog();
    let mut frames: Vec<Built> = Vec::new();

    // Heartbeat replies (the reply mirrors version, ver1, switch: the peer checks the v2 CRC).
    for (src, id, proto, crc) in [
        ("v1 heartbeat", 108, "bolt", Value::Null),
        ("v2+CRC heartbeat", 109, "bolt2", json!(true)),
    ] {
        let mut dst = BytesMut::new();
        codec
            .heartbeat_reply(cat.frame(src), &mut dst)
            .expect("heartbeat_reply");
        frames.push(built(
            format!("heartbeat_reply to {src}"),
            dst.to_vec(),
            vec![
                ("/packetType", json!("heartbeat_ack")),
                ("/packetId", json!(id)),
                ("/meta/protocolType", json!(proto)),
                ("/meta/crcEnable", crc),
                ("/wire/status", json!(0)),
            ],
        ));
    }

    // Our active heartbeat.
    let mut ping = BytesMut::new();
    codec
        .heartbeat_request(4242, &mut ping)
        .expect("heartbeat_request");
    frames.push(built(
        "heartbeat_request(4242)",
        ping.to_vec(),
        vec![
            ("/packetType", json!("heartbeat")),
            ("/packetId", json!(4242)),
            ("/meta/protocolType", json!("bolt")),
        ],
    ));

    // Local replies: Bolt status 7 / 4 / 6, decoded by the peer as errors.
    let local_cases = [
        ("hessian2 v1 request", 101, LocalStatus::Timeout, 7, "bolt"),
        (
            "hessian2 v1 request",
            101,
            LocalStatus::Overloaded,
            4,
            "bolt",
        ),
        ("hessian2 v1 request", 101, LocalStatus::NoRoute, 6, "bolt"),
        (
            "hessian2 v2+CRC request",
            105,
            LocalStatus::Timeout,
            7,
            "bolt2",
        ),
    ];
    for (src, id, local, status, proto) in local_cases {
        let message = format!("proxy: {} 本地应答", local.as_str());
        let mut dst = BytesMut::new();
        codec
            .local_reply(cat.frame(src), local, &message, &mut dst)
            .expect("local_reply");
        frames.push(built(
            format!("local_reply {local:?} to {src}"),
            dst.to_vec(),
            vec![
                ("/packetType", json!("response")),
                ("/packetId", json!(id)),
                ("/isError", json!(true)),
                ("/status", json!(status)),
                ("/wire/status", json!(status)),
                ("/meta/protocolType", json!(proto)),
                ("/wire/headerMap/xprotocol-error", json!(message)),
            ],
        ));
    }

    // Request ids rewritten in place (v2: CRC recomputed).
    for (src, new_id, crc) in [
        ("hessian2 v1 request", 900_001u32, Value::Null),
        ("hessian2 v2+CRC request", 900_002, json!(true)),
    ] {
        let mut copy = cat.frame(src).to_vec();
        codec
            .set_request_id(&mut copy, u64::from(new_id))
            .expect("set_request_id");
        frames.push(built(
            format!("set_request_id({new_id}) on {src}"),
            copy,
            with(
                hessian_request_fields(new_id),
                vec![("/meta/crcEnable", crc), ("/wire/requestId", json!(new_id))],
            ),
        ));
    }
    {
        let mut copy = cat.frame("protobuf v2+CRC request").to_vec();
        codec
            .set_request_id(&mut copy, 900_003)
            .expect("set_request_id");
        frames.push(built(
            "set_request_id(900003) on protobuf v2+CRC request",
            copy,
            with(
                pb_request_fields(900_003),
                vec![("/meta/crcEnable", json!(true))],
            ),
        ));
    }

    // Header mutation: Set x-trace-id, remove nothing.
    let edits = [HeaderEdit::Set("x-trace-id", "追踪-1")];
    let hessian_edit = || {
        vec![
            ("/wire/headerMap/x-trace-id", json!("追踪-1")),
            ("/wire/headerMap/service", json!(SVC)),
        ]
    };
    let pb_edit = || {
        vec![
            ("/requestProps/x-trace-id", json!("追踪-1")),
            ("/requestProps/x-tenant", json!("t1")),
            (
                "/requestProps/rpc_trace_context/sofaTraceId",
                json!(TRACE_ID),
            ),
        ]
    };
    for (src, expected) in [
        (
            "hessian2 v1 request",
            with(hessian_request_fields(101), hessian_edit()),
        ),
        (
            "hessian2 v2+CRC request",
            with(hessian_request_fields(105), hessian_edit()),
        ),
        (
            "protobuf v1 request",
            with(pb_request_fields(110), pb_edit()),
        ),
        (
            "protobuf v2+CRC request",
            with(pb_request_fields(111), pb_edit()),
        ),
    ] {
        let mutated = codec
            .mutate_headers(&Bytes::copy_from_slice(cat.frame(src)), &edits)
            .expect("mutate")
            .to_bytes();
        frames.push(built(
            format!("mutate_headers(x-trace-id) on {src}"),
            mutated.to_vec(),
            expected,
        ));
    }

    // From scratch with BoltCodec::encode: protobuf (codec 11), the peer's own echo body.
    // sofa-bolt-node's protobuf decoder takes the service from `sofa_head_target_service`
    // (not `service`), so that header is sent as well.
    let body = Bytes::copy_from_slice(content(cat.frame("protobuf v1 request")));
    assert_eq!(
        &body[..],
        b"\x0a\x05peter\x10\x03",
        "the peer's EchoRequest{{peter,3}} body"
    );
    let headers: [(&[u8], &[u8]); 3] = [
        (b"service", PB_SVC.as_bytes()),
        (b"sofa_head_method_name", b"echo"),
        (b"sofa_head_target_service", PB_SVC.as_bytes()),
    ];
    for (id, header, crc) in [
        (
            4711u32,
            BoltHeader {
                codec: codec_id::PROTOBUF,
                ..BoltHeader::request(4711, 2500)
            },
            Value::Null,
        ),
        (
            4712,
            BoltHeader {
                codec: codec_id::PROTOBUF,
                ..BoltHeader::request(4712, 2500)
            }
            .v2(2, 1),
            json!(true),
        ),
    ] {
        let frame = codec
            .encode(&header, SOFA_REQUEST.as_bytes(), &headers, body.clone())
            .expect("encode")
            .to_bytes();
        frames.push(built(
            format!("BoltCodec::encode protobuf request {id}"),
            frame.to_vec(),
            with(
                pb_request_fields(id),
                vec![
                    ("/timeout", json!(2500)),
                    ("/className", json!(SOFA_REQUEST)),
                    ("/meta/crcEnable", crc),
                ],
            ),
        ));
    }

    // native → to_http2 → from_http2: byte identical, and the peer still decodes it.
    for (src, fields) in [
        ("hessian2 v1 request", hessian_request_fields(101)),
        ("hessian2 v2+CRC request", hessian_request_fields(105)),
        ("protobuf v1 request", pb_request_fields(110)),
        (
            "hessian2 v1 error response status 7",
            vec![
                ("/packetType", json!("response")),
                ("/packetId", json!(107)),
                ("/isError", json!(true)),
                ("/status", json!(7)),
            ],
        ),
        (
            "hessian2 v1 response success",
            vec![
                ("/packetType", json!("response")),
                ("/packetId", json!(101)),
                ("/isError", json!(false)),
                ("/appResponse", json!("hello 世界")),
            ],
        ),
        (
            "v2+CRC heartbeat",
            vec![
                ("/packetType", json!("heartbeat")),
                ("/packetId", json!(109)),
            ],
        ),
    ] {
        let native = Bytes::copy_from_slice(cat.frame(src));
        let message = codec
            .to_http2(&native)
            .unwrap_or_else(|e| panic!("to_http2 {src}: {e}"));
        let back = codec
            .from_http2(&message)
            .unwrap_or_else(|e| panic!("from_http2 {src}: {e}"))
            .to_bytes();
        assert_eq!(
            hex(&back),
            hex(&native),
            "HTTP/2 round trip of {src} is not byte identical"
        );
        frames.push(built(
            format!("to_http2→from_http2 of {src}"),
            back.to_vec(),
            fields,
        ));
    }

    // Every frame is one whole frame for us too, then one peer run decodes them all.
    for b in &frames {
        assert_eq!(
            codec.split_frame(&b.frame),
            Ok(Split::Complete(b.frame.len())),
            "our split of {}",
            b.name
        );
    }
    let refs: Vec<&[u8]> = frames.iter().map(|b| &b.frame[..]).collect();
    let results = peer_decode(&refs);
    let mut failures = Vec::new();
    for (b, r) in frames.iter().zip(&results) {
        if r.get("ok") != Some(&json!(true)) {
            failures.push(format!(
                "{}: peer said {r}\n  frame {}",
                b.name,
                hex_view(&b.frame)
            ));
            continue;
        }
        for (pointer, want) in &b.expect {
            let got = r.pointer(pointer).unwrap_or(&Value::Null);
            if got != want {
                failures.push(format!(
                    "{}: {pointer} = {got}, expected {want}\n  frame {}\n  peer {r}",
                    b.name,
                    hex_view(&b.frame)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} frames misread by {PEER}:\n{}",
        failures.len(),
        frames.len(),
        failures.join("\n")
    );
    println!(
        "interop: {} frames checked against {PEER} (our codec → peer)",
        frames.len()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. negative: a corrupted v2 CRC frame is refused by both sides

#[test]
fn corrupted_crc_frames_are_refused_by_both() {
    let codec = BoltCodec::new();
    let cat = catalog();
    let mut corrupted: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for src in [
        "hessian2 v2+CRC request",
        "protobuf v2+CRC request",
        "hessian2 v2+CRC response success",
    ] {
        let frame = cat.frame(src);
        let h = BoltHeader::parse(frame)
            .expect("header")
            .expect("whole header");
        assert!(h.has_crc(), "{src} carries a CRC");
        let mut bad = frame.to_vec();
        bad[h.content_at() + h.content_len as usize / 2] ^= 0x20;
        corrupted.insert(format!("{src}: one content byte flipped"), bad);
    }
    {
        let frame = cat.frame("hessian2 v2+CRC request");
        let mut bad = frame.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        corrupted.insert(
            "hessian2 v2+CRC request: CRC trailer byte flipped".into(),
            bad,
        );
    }

    for (name, bad) in &corrupted {
        let found = u32::from_be_bytes(bad[bad.len() - 4..].try_into().expect("4 bytes"));
        match codec.split_frame(bad) {
            Err(Error::ChecksumMismatch {
                found: f, computed, ..
            }) => {
                assert_eq!(f, found, "{name}: reported trailer");
                assert_ne!(computed, found, "{name}: computed CRC");
            }
            other => panic!(
                "{name}: our split gave {other:?}, expected ChecksumMismatch; frame {}",
                hex_view(bad)
            ),
        }
        // Only the CRC is wrong: without verification the frame splits whole.
        assert_eq!(
            BoltCodec::new().verify_crc(false).split_frame(bad),
            Ok(Split::Complete(bad.len())),
            "{name}: split without CRC verification"
        );
    }

    let refs: Vec<&[u8]> = corrupted.values().map(Vec::as_slice).collect();
    let results = peer_decode(&refs);
    for ((name, bad), r) in corrupted.iter().zip(&results) {
        assert_eq!(
            r.get("ok"),
            Some(&json!(false)),
            "{name}: {PEER} accepted a corrupted frame: {r}; frame {}",
            hex_view(bad)
        );
        let error = r.get("error").and_then(Value::as_str).unwrap_or_default();
        assert!(
            error.contains("CRC check failed"),
            "{name}: {PEER} refused it for another reason: {r}"
        );
    }
    println!(
        "interop: {} frames checked against {PEER} (corrupted CRC refused by both)",
        corrupted.len()
    );
}
