//! End-to-end tests of the `xproto` binary against the shared real-peer vectors.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use xprotocol_core::testing::vectors::{self, Vector};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Every `bolt-*` shared vector (a missing directory fails the test).
fn bolt_vectors() -> Vec<Vector> {
    vectors::load(MANIFEST_DIR, "bolt-")
}

/// Every shared vector of every built-in protocol (`bolt-*`, `dubbo-*`).
fn all_vectors() -> Vec<Vector> {
    let mut all = bolt_vectors();
    all.extend(vectors::load(MANIFEST_DIR, "dubbo-"));
    all
}

/// The protocol a vector belongs to: its name's prefix.
fn protocol_of(v: &Vector) -> &str {
    v.id.split('-').next().unwrap()
}

/// The vector named `name`.
fn vector(name: &str) -> Vector {
    vectors::load(MANIFEST_DIR, name)
        .into_iter()
        .find(|v| v.id == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// Run `xproto args…` with `stdin`.
fn xproto(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xproto"))
        .args(args)
        .env_remove("XPROTO_DEBUG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Write on a thread (no pipe deadlock on large output); a process that
    // exits before reading everything (usage errors) closes the pipe early.
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || match pipe.write_all(&input) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin: {e}"),
        _ => {}
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Run `xproto args…`, expecting success; its stdout.
fn ok(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = xproto(args, stdin);
    assert!(
        out.status.success(),
        "xproto {args:?}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `xproto decode` of `bytes`, parsed (exit status not checked).
fn decode(bytes: &[u8]) -> (Value, Output) {
    let out = xproto(&["decode"], bytes);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "decode printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (json, out)
}

/// The facts of a buffer holding exactly one frame.
fn facts_of(bytes: &[u8]) -> Value {
    let (json, out) = decode(bytes);
    assert!(
        out.status.success(),
        "decode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json["frames"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["consumed"], json!(bytes.len()));
    assert_eq!(json["incomplete"], json!(false));
    json["frames"][0].clone()
}

/// A printed fact; a fact that is not printed is absent, i.e. null.
fn fact<'a>(facts: &'a Value, key: &str) -> &'a Value {
    facts.get(key).unwrap_or(&Value::Null)
}

#[test]
fn decode_matches_every_vector() {
    for v in all_vectors() {
        let facts = facts_of(&v.frame);
        assert_eq!(facts["protocol"], json!(protocol_of(&v)), "{}", v.id);
        for (key, expected) in &v.expect {
            let got = fact(&facts, key);
            assert_eq!(got, expected, "{}: fact `{key}`", v.id);
        }
    }
}

#[test]
fn decode_concatenated_stream_and_truncated_stream() {
    let vectors = bolt_vectors();
    let stream: Vec<u8> = vectors.iter().flat_map(|v| v.frame.clone()).collect();
    let (json, out) = decode(&stream);
    assert!(out.status.success());
    let frames = json["frames"].as_array().unwrap();
    assert_eq!(frames.len(), vectors.len());
    for (facts, v) in frames.iter().zip(&vectors) {
        assert_eq!(facts["request_id"], v.expect["request_id"], "{}", v.id);
        assert_eq!(facts["frame_length"], json!(v.frame.len()), "{}", v.id);
    }
    assert_eq!(json["consumed"], json!(stream.len()));
    assert_eq!(json["incomplete"], json!(false));

    let last = vectors.last().unwrap().frame.len();
    let (json, out) = decode(&stream[..stream.len() - 1]);
    assert!(out.status.success());
    assert_eq!(json["frames"].as_array().unwrap().len(), vectors.len() - 1);
    assert_eq!(json["consumed"], json!(stream.len() - last));
    assert_eq!(json["incomplete"], json!(true));
}

#[test]
fn decode_empty_and_short_input() {
    let (json, out) = decode(b"");
    assert!(out.status.success());
    assert_eq!(
        json,
        json!({"frames": [], "consumed": 0, "incomplete": false})
    );
    let (json, out) = decode(b"\x01");
    assert!(out.status.success());
    assert_eq!(
        json,
        json!({"frames": [], "consumed": 0, "incomplete": true})
    );
}

#[test]
fn decode_malformed_frame_after_good_one() {
    let good = vector("bolt-v1-req-hessian2-basic");
    let mut stream = good.frame.clone();
    stream.extend_from_slice(&[0x07; 24]);
    let (json, out) = decode(&stream);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["frames"].as_array().unwrap().len(), 1);
    assert_eq!(json["frames"][0]["request_id"], good.expect["request_id"]);
    assert_eq!(json["consumed"], json!(good.frame.len()));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "xproto: frame 2 at offset {}: bolt: bad magic",
            good.frame.len()
        )),
        "{stderr}"
    );
}

#[test]
fn decode_bad_crc_and_unknown_protocol_exit_1() {
    let mut frame = vector("bolt-v2-resp-success-crc").frame;
    *frame.last_mut().unwrap() ^= 1;
    let (json, out) = decode(&frame);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["frames"], json!([]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));

    let (json, out) = decode(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["frames"], json!([]));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("unknown protocol"), "{stderr}");
}

#[test]
fn decode_with_forced_protocol_and_file_argument() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/captures/bolt-sample.bin");
    let out = ok(
        &["decode", "--protocol", "bolt", path.to_str().unwrap()],
        b"",
    );
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["frames"].as_array().unwrap().len(), 6);
    let out = xproto(&["decode", "--protocol", "nosuchproto"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn decode_sample_capture() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/captures/bolt-sample.bin");
    let bytes = std::fs::read(&path).unwrap();
    let json: Value =
        serde_json::from_slice(&ok(&["decode", path.to_str().unwrap()], b"")).unwrap();
    let kinds: Vec<_> = json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "request",
            "response",
            "heartbeat_request",
            "heartbeat_response",
            "request",
            "response"
        ]
    );
    assert_eq!(json["consumed"], json!(bytes.len()));
    assert_eq!(json["incomplete"], json!(false));
    // stdin gives the same document as the file argument.
    assert_eq!(
        serde_json::from_slice::<Value>(&ok(&["decode", "-"], &bytes)).unwrap(),
        json
    );
}

#[test]
fn rewrite_id_on_every_vector() {
    const NEW_ID: u64 = 4_275_878_552; // 0xfedc_ba98: every byte of the id changes
    for v in all_vectors() {
        let out = ok(&["rewrite-id", &NEW_ID.to_string()], &v.frame);
        assert_eq!(out.len(), v.frame.len(), "{}", v.id);
        let before = facts_of(&v.frame); // decoding verifies a v2 CRC: it was recomputed
        let mut after = facts_of(&out);
        assert_eq!(after["request_id"], json!(NEW_ID), "{}", v.id);
        after["request_id"] = before["request_id"].clone();
        assert_eq!(after, before, "{}: facts other than request_id", v.id);
    }
}

#[test]
fn rewrite_id_errors_exit_1() {
    let frame = vector("bolt-v1-req-protobuf-headers").frame;
    let out = xproto(&["rewrite-id", "4294967296"], &frame);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not fit the 32-bit id field"));

    let mut trailing = frame.clone();
    trailing.push(0x01);
    let out = xproto(&["rewrite-id", "1"], &trailing);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trailing"));

    let out = xproto(&["rewrite-id", "1"], &frame[..frame.len() - 1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("incomplete"));

    assert_eq!(xproto(&["rewrite-id", "-1"], &frame).status.code(), Some(2));
}

#[test]
fn http2_round_trip_on_every_vector() {
    let bin = env!("CARGO_BIN_EXE_xproto");
    for v in all_vectors() {
        let mut to = Command::new(bin)
            .arg("to-http2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let from = Command::new(bin)
            .args(["from-http2", protocol_of(&v)])
            .stdin(to.stdout.take().unwrap())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        to.stdin.take().unwrap().write_all(&v.frame).unwrap();
        assert!(to.wait().unwrap().success(), "{}: to-http2", v.id);
        let out = from.wait_with_output().unwrap();
        assert!(out.status.success(), "{}: from-http2", v.id);
        assert!(
            out.stdout == v.frame,
            "{}: round trip changed the frame",
            v.id
        );
    }
}

#[test]
fn to_http2_prints_pseudo_headers_first() {
    let json: Value = serde_json::from_slice(&ok(
        &["to-http2"],
        &vector("bolt-v1-req-protobuf-headers").frame,
    ))
    .unwrap();
    assert_eq!(json["message"], "request");
    let names: Vec<_> = json["headers"]
        .as_object()
        .unwrap()
        .keys()
        .take(4)
        .map(String::as_str)
        .collect();
    assert_eq!(names, [":method", ":scheme", ":authority", ":path"]);
    assert_eq!(json["headers"]["xp-protocol"], "bolt");
    assert_eq!(json["headers"]["xp-request-id"], "8");

    let json: Value = serde_json::from_slice(&ok(
        &["to-http2"],
        &vector("bolt-v1-resp-status-07-timeout").frame,
    ))
    .unwrap();
    assert_eq!(json["message"], "response");
    assert_eq!(
        json["headers"].as_object().unwrap().keys().next().unwrap(),
        ":status"
    );
    assert_eq!(json["headers"][":status"], "504");
}

#[test]
fn from_http2_errors() {
    assert_eq!(
        xproto(&["from-http2", "nosuchproto"], b"{}").status.code(),
        Some(2)
    );
    assert_eq!(
        xproto(&["from-http2", "bolt"], b"not json").status.code(),
        Some(1)
    );
    let out = xproto(
        &["from-http2", "bolt"],
        br#"{"message":"request","headers":{":method":"POST"},"body_hex":""}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("xp-protocol"));
}

/// The decoded facts of every shared vector whose `kind` is `kind`.
fn vectors_of_kind(kind: &str) -> Vec<(Vector, Value)> {
    let found: Vec<_> = all_vectors()
        .into_iter()
        .map(|v| {
            let facts = facts_of(&v.frame);
            (v, facts)
        })
        .filter(|(_, facts)| facts["kind"] == kind)
        .collect();
    assert!(!found.is_empty(), "no `{kind}` vector");
    found
}

#[test]
fn heartbeat_reply_on_every_heartbeat_vector() {
    for (v, request) in vectors_of_kind("heartbeat_request") {
        let reply = facts_of(&ok(&["heartbeat-reply"], &v.frame));
        assert_eq!(reply["kind"], "heartbeat_response", "{}", v.id);
        assert_eq!(reply["protocol"], json!(protocol_of(&v)), "{}", v.id);
        assert_eq!(reply["request_id"], request["request_id"], "{}", v.id);
    }
}

#[test]
fn heartbeat_reply_on_a_request_exits_1() {
    let out = xproto(
        &["heartbeat-reply", "--protocol", "bolt"],
        &vector("bolt-v1-req-hessian2-basic").frame,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn local_reply_on_every_two_way_request_vector() {
    let mut seen = 0;
    for (v, request) in vectors_of_kind("request") {
        if request["oneway"] != json!(false) {
            continue;
        }
        seen += 1;
        let reply = facts_of(&ok(&["local-reply", "timeout", "上游超时"], &v.frame));
        assert_eq!(reply["kind"], "response", "{}", v.id);
        assert_eq!(reply["request_id"], request["request_id"], "{}", v.id);
        match protocol_of(&v) {
            "bolt" => assert_eq!(reply["status"], 7, "{}", v.id),
            "dubbo" => {
                assert_eq!(reply["status"], 31, "{}", v.id);
                assert_eq!(reply["error_message"], "上游超时", "{}", v.id);
            }
            other => panic!("{}: unexpected protocol {other}", v.id),
        }
    }
    assert!(seen > 0);
}

#[test]
fn local_reply_errors() {
    let response = vector("bolt-v1-resp-status-07-timeout").frame;
    let out = xproto(&["local-reply", "timeout"], &response);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());

    let request = vector("bolt-v1-req-hessian2-basic").frame;
    let out = xproto(&["local-reply", "no_such_status"], &request);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_healthy_upstream"));
}

/// HSF (observed v1 layout): the captured request and heartbeats decode,
/// rewrite and transcode; what was never observed (local replies, heartbeat
/// replies, goaway) exits 3.
#[test]
fn hsf_captured_frames_and_unsupported_replies() {
    use xprotocol_hsf::testdata::{CAPTURED_HEARTBEATS, CAPTURED_REQUEST, from_hex};
    let request = from_hex(CAPTURED_REQUEST);
    let heartbeats = from_hex(CAPTURED_HEARTBEATS);
    let stream = [&request[..], &heartbeats].concat();
    let (json, out) = decode(&stream);
    assert!(out.status.success());
    let frames = json["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 4);
    let facts = &frames[0];
    assert_eq!(facts["protocol"], json!("hsf-observed-v1"));
    assert_eq!(
        facts["interface"],
        json!("com.test.pandora.hsf.HelloService")
    );
    assert_eq!(facts["version"], json!("1.0.0.daily"));
    assert_eq!(facts["method"], json!("sayHello"));
    assert_eq!(facts["group"], json!("HSF1"));
    assert_eq!(facts["timeout_ms"], json!(2000));
    assert_eq!(facts["parameter_types"], json!(["java.lang.String"]));
    assert_eq!(
        facts["headers"]["Consumer-AppName"],
        json!("hsf-server-demo")
    );
    assert_eq!(frames[3]["kind"], json!("heartbeat_request"));
    assert_eq!(frames[3]["request_id"], json!(3));

    let rewritten = ok(&["rewrite-id", "9007199254740993"], &request);
    assert_eq!(
        facts_of(&rewritten)["request_id"],
        json!(9_007_199_254_740_993u64)
    );
    let message = ok(&["to-http2"], &request);
    assert_eq!(ok(&["from-http2", "hsf-observed-v1"], &message), request);

    for (args, frame) in [
        (&["local-reply", "timeout"][..], &request[..]),
        (&["heartbeat-reply"][..], &heartbeats[..18]),
    ] {
        let out = xproto(args, frame);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not supported"),
            "{args:?}"
        );
    }
    assert_eq!(
        xproto(&["heartbeat", "hsf-observed-v1", "1"], b"")
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        xproto(&["goaway", "hsf-observed-v1"], b"").status.code(),
        Some(3)
    );
}

#[test]
fn heartbeat_and_goaway_frames() {
    for proto in ["bolt", "dubbo"] {
        let facts = facts_of(&ok(&["heartbeat", proto, "7"], b""));
        assert_eq!(facts["protocol"], proto);
        assert_eq!(facts["kind"], "heartbeat_request", "{proto}");
        assert_eq!(facts["request_id"], 7, "{proto}");
    }
    let facts = facts_of(&ok(&["goaway", "dubbo", "9"], b""));
    assert_eq!(facts["kind"], "goaway");
    assert_eq!(facts["request_id"], 9);
    let facts = facts_of(&ok(&["goaway", "bolt"], b""));
    assert_eq!(facts["kind"], "goaway");
    assert_eq!(facts["request_id"], 0);

    assert_eq!(
        xproto(&["heartbeat", "bolt", "4294967296"], b"")
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        xproto(&["heartbeat", "nosuchproto", "1"], b"")
            .status
            .code(),
        Some(2)
    );
}

/// The codec reports a command code it does not know as `Error::Unsupported`,
/// which the CLI maps to status 3 (the error→status mapping itself is unit-tested
/// in `main.rs`).
#[test]
fn decode_unknown_command_code_exits_1() {
    let mut frame = vector("bolt-v1-heartbeat-req").frame;
    frame[2..4].copy_from_slice(&5u16.to_be_bytes());
    let (json, out) = decode(&frame);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["frames"], json!([]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command code"));
}

#[test]
fn protocols_and_help() {
    let out = String::from_utf8(ok(&["protocols"], b"")).unwrap();
    assert!(
        out.lines()
            .any(|l| l.starts_with("bolt") && l.contains("transcoding")),
        "{out}"
    );
    let help = String::from_utf8(ok(&["--help"], b"")).unwrap();
    assert!(
        help.contains("3  the protocol does not support the operation"),
        "{help}"
    );
    for command in ["heartbeat-reply", "local-reply", "heartbeat", "goaway"] {
        assert!(help.contains(command), "{help}");
        let help = String::from_utf8(ok(&[command, "--help"], b"")).unwrap();
        assert!(help.contains("3  the protocol does not support"), "{help}");
    }
}

/// The plugin `lib{name}.so` that `cargo build --workspace` put next to this
/// test binary (target/debug/deps/cli-… → target/debug).
fn plugin(name: &str) -> String {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join(format!("{DLL_PREFIX}{name}{DLL_SUFFIX}"));
    assert!(
        path.is_file(),
        "{} is missing: run cargo build --workspace first",
        path.display()
    );
    path.to_str().unwrap().to_owned()
}

/// `--no-builtin --plugin PLUGIN args…`: the plugin alone.
fn alone(plugin: &str, args: &[&str]) -> Vec<String> {
    ["--no-builtin", "--plugin", plugin]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect()
}

/// `ok` with owned arguments.
fn ok_owned(args: &[String], stdin: &[u8]) -> Vec<u8> {
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>(), stdin)
}

#[test]
fn plugin_codecs_alone_match_the_builtin_ones() {
    const NEW_ID: &str = "4275878552";
    for v in all_vectors() {
        let proto = protocol_of(&v);
        let lib = plugin(&format!("xprotocol_{proto}_plugin"));
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        assert_eq!(
            text(ok_owned(&alone(&lib, &["decode"]), &v.frame)),
            text(ok(&["decode"], &v.frame)),
            "{}: decode",
            v.id
        );
        assert_eq!(
            ok_owned(&alone(&lib, &["rewrite-id", NEW_ID]), &v.frame),
            ok(&["rewrite-id", NEW_ID], &v.frame),
            "{}: rewrite-id",
            v.id
        );
        let message = ok_owned(&alone(&lib, &["to-http2"]), &v.frame);
        assert_eq!(
            text(message.clone()),
            text(ok(&["to-http2"], &v.frame)),
            "{}: to-http2",
            v.id
        );
        let frame = ok_owned(&alone(&lib, &["from-http2", proto]), &message);
        assert!(frame == v.frame, "{}: from-http2 changed the frame", v.id);
    }
}

#[test]
fn protocol_names_are_checked_against_the_loaded_codecs() {
    let frame = vector("bolt-v1-req-hessian2-basic").frame;
    let out = xproto(&["--no-builtin", "decode"], &frame);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown protocol"));

    let out = xproto(&["--no-builtin", "decode", "--protocol", "bolt"], &frame);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("available: none"));

    let lib = plugin("xprotocol_test_plugin_panicking");
    let args = ["decode", "--protocol", "bolt-panicking", "--plugin", &lib];
    ok(&args, &frame);

    // A plugin of a built-in's name replaces it in place.
    let lib = plugin("xprotocol_bolt_plugin");
    let out = String::from_utf8(ok(&["protocols", "--plugin", &lib], b"")).unwrap();
    let names: Vec<_> = out.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(names, ["bolt", "dubbo", "hsf-observed-v1"], "{out}");
}

#[test]
fn plugins_command_lists_each_file() {
    let libs = [
        plugin("xprotocol_bolt_plugin"),
        plugin("xprotocol_dubbo_plugin"),
        plugin("xprotocol_hsf_plugin"),
        plugin("xprotocol_test_plugin_incompatible"),
    ];
    let mut args = vec!["plugins"];
    args.extend(libs.iter().map(String::as_str));
    let out = xproto(&args, b"");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let layers = "capabilities framing, multiplexing, routing, transcoding";
    for ((line, lib), name) in lines
        .iter()
        .zip(&libs)
        .zip(["bolt", "dubbo", "hsf-observed-v1"])
    {
        assert_eq!(*line, format!("{lib}: {name} abi 1.0.0 {layers}"));
    }
    assert!(
        lines[3].starts_with(&format!(
            "{}: refused: incompatible plugin ABI 0.9.0 ",
            libs[3]
        )),
        "{stdout}"
    );
}

#[test]
fn refused_plugin_exits_1_with_one_line() {
    let lib = plugin("xprotocol_test_plugin_incompatible");
    let out = xproto(&["--plugin", &lib, "protocols"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("xproto: {lib}: incompatible plugin ABI 0.9.0")),
        "{stderr}"
    );

    // XPROTO_DEBUG adds the full report.
    let out = Command::new(env!("CARGO_BIN_EXE_xproto"))
        .args(["--plugin", &lib, "protocols"])
        .env("XPROTO_DEBUG", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).lines().count() > 1);
}

/// The panicking test plugin is Bolt except that `Multiplexing::request_id`
/// panics. No sub-command calls `request_id` (decode prints the facts,
/// rewrite-id calls `set_request_id`, the replies are built inside the
/// plugin), so the CLI cannot trigger the panic; the host's own tests
/// (plugin-sdk/host/tests) check that it becomes an error.
#[test]
fn panicking_plugin_works_where_it_does_not_panic() {
    let lib = plugin("xprotocol_test_plugin_panicking");
    let frame = vector("bolt-v1-req-hessian2-basic").frame;
    let rewritten = ok_owned(&alone(&lib, &["rewrite-id", "5"]), &frame);
    assert_eq!(rewritten, ok(&["rewrite-id", "5"], &frame));
    let json: Value =
        serde_json::from_slice(&ok_owned(&alone(&lib, &["decode"]), &rewritten)).unwrap();
    assert_eq!(json["frames"], json!([facts_of(&rewritten)]));
    assert_eq!(json["frames"][0]["request_id"], json!(5));
}

#[test]
fn demo_runs_the_sidecar_pair_and_prints_the_split() {
    let out = xproto(&["demo", "--calls", "40"], b"");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls_of = |server: &str| -> Option<u64> {
        stdout
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(server))
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
    };
    assert_eq!(calls_of("user-v1"), Some(36), "{stdout}");
    assert_eq!(calls_of("user-v2"), Some(4), "{stdout}");
    assert_eq!(calls_of("order-v1"), Some(40), "{stdout}");
    assert!(stdout.contains("no_route 10"), "{stdout}");
    assert!(stdout.contains("ids rewritten (B):       80"), "{stdout}");
}

#[test]
fn sidecar_and_mesh_refuse_a_bad_configuration() {
    let dir = std::env::temp_dir().join(format!("xproto-bad-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[[routes]]\ninterface = \"a.B\"\ncluster = \"missing\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = xproto(&["sidecar", "--config", path], b"");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown cluster `missing`"), "{stderr}");
    let out = xproto(
        &[
            "mesh",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "127.0.0.1:1",
            "--config",
            path,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}
