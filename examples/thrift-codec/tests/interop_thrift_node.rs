//! Interop with the real Apache Thrift implementation for Node.js: the npm
//! package `thrift` (pinned in `interop/package.json`), framed transport and
//! binary protocol, on 127.0.0.1 only.
//!
//! * `interop/thrift-client.js` (a real client, strict, non-strict and
//!   multiplexed) calls a Rust TCP server in this test: its frames are decoded
//!   and conformance-checked here, answered with REPLY frames built by hand and
//!   with our `local_reply`, and the client must surface the
//!   `TApplicationException` message and type;
//! * `interop/thrift-server.js` (a real server, plain and multiplexed) gets
//!   frames whose seqids we rewrote, and its replies must carry them.
//!
//! Needs `node` (≥ 18) on PATH and `cd interop && npm ci --ignore-scripts`: a
//! missing install FAILS these tests (they never skip). Every wait is bounded.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use common::*;
use xp::{
    Codec, FactValue, FrameKind, Framing, LocalStatus, Multiplexing, Routing, Split,
    rewrite_request_id,
};
use xprotocol_core as xp;
use xprotocol_example_thrift::ThriftCodec;

const IO_TIMEOUT: Duration = Duration::from_secs(10);
const TEXT: &str = "héllo, 世界 ✓";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// `node interop/<script> args…`, with every pipe captured.
fn node(script: &str, args: &[&str]) -> Child {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules/thrift/package.json").is_file(),
        "the npm package `thrift` is not installed: run `cd {} && npm ci --ignore-scripts`",
        dir.display()
    );
    Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run `node` from PATH ({e}); these tests need Node >= 18")
        })
}

/// Kills the child (only this one, by its handle) if a test fails early.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Guard {
    /// Wait at most `limit` for the child to exit; its stdout and stderr.
    fn finish(&mut self, limit: Duration) -> (std::process::ExitStatus, String, String) {
        let mut child = self.0.take().expect("child");
        let drain = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_string(&mut s);
                }
                s
            })
        };
        let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
        let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("node did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, out.join().unwrap(), err.join().unwrap())
    }
}

/// The next whole frame from `stream`, split by our codec; `None` at a clean EOF.
fn read_frame(codec: &ThriftCodec, stream: &mut TcpStream, buf: &mut BytesMut) -> Option<Bytes> {
    loop {
        match codec.split_frame(buf).expect("split") {
            Split::Complete(n) => return Some(buf.split_to(n).freeze()),
            Split::Incomplete(needed) => {
                let mut chunk = vec![0u8; needed.bytes().max(4096)];
                let n = stream
                    .read(&mut chunk)
                    .expect("read (bounded by IO_TIMEOUT)");
                if n == 0 {
                    assert!(buf.is_empty(), "EOF inside a frame: {buf:02x?}");
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

fn accept_bounded(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "the client did not connect");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A REPLY in the request's style, named like the request's method.
fn reply(request_strict: bool, method: &str, seqid: i32, result: &[u8]) -> Vec<u8> {
    match request_strict {
        true => strict(REPLY, method, seqid, result),
        false => loose(REPLY, method, seqid, result),
    }
}

/// One client run: serve its calls, return what we saw and what it printed.
fn serve_real_client(mode: &str, status: LocalStatus, message: &str) -> (Vec<Bytes>, Vec<String>) {
    let codec = ThriftCodec::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut client = Guard(Some(node("thrift-client.js", &[&port, mode, TEXT])));
    let mut stream = accept_bounded(&listener);
    let mut buf = BytesMut::new();
    let mut seen = Vec::new();
    while let Some(frame) = read_frame(&codec, &mut stream, &mut buf) {
        conformance(&codec, &frame);
        let head = codec.frame_head(&frame).unwrap();
        let route = codec.route_headers(&frame).unwrap();
        let method = route.method().unwrap().to_owned();
        let (is_strict, _, _, seqid, args) = read_message(&frame);
        let (fields, rest) = read_struct(&args);
        assert!(rest.is_empty());
        let answer = match (method.as_str(), head.kind) {
            ("echo", FrameKind::Request) => {
                let [(1, Field::Str(msg))] = &fields[..] else {
                    panic!("echo args {fields:?}")
                };
                Some(reply(
                    is_strict,
                    &method,
                    seqid,
                    &Struct::new().string(0, msg).end(),
                ))
            }
            ("add", FrameKind::Request) => {
                let [(1, Field::I32(a)), (2, Field::I32(b))] = fields[..] else {
                    panic!("add args {fields:?}")
                };
                Some(reply(
                    is_strict,
                    &method,
                    seqid,
                    &Struct::new().i32(0, a + b).end(),
                ))
            }
            ("notify", FrameKind::OnewayRequest) => None,
            ("ping", FrameKind::Request) => {
                let mut dst = BytesMut::new();
                codec
                    .local_reply(&frame, status, message, &mut dst)
                    .unwrap();
                Conformance::new(&codec).check_frame(&dst);
                Some(dst.to_vec())
            }
            other => panic!("unexpected call {other:?}"),
        };
        if let Some(answer) = answer {
            stream.write_all(&answer).unwrap();
        }
        seen.push(frame);
    }
    drop(stream);
    let (exit, out, err) = client.finish(Duration::from_secs(15));
    assert!(
        exit.success(),
        "thrift-client.js {mode}: {exit}\n{out}\n{err}"
    );
    (seen, out.lines().map(str::to_owned).collect())
}

use xp::testing::Conformance;

#[test]
fn real_client_frames_decode_and_local_replies_surface() {
    let message = "xprotocol: no route for ping — 拒绝";
    for (mode, status, ty) in [
        ("strict", LocalStatus::NoRoute, 1),
        ("nonstrict", LocalStatus::Overloaded, 6),
        ("multiplexed", LocalStatus::CodecError, 7),
    ] {
        let codec = ThriftCodec::new();
        let (frames, lines) = serve_real_client(mode, status, message);
        let got: Vec<_> = frames
            .iter()
            .map(|f| {
                let head = codec.frame_head(f).unwrap();
                let route = codec.route_headers(f).unwrap();
                let facts = codec.facts(f).unwrap();
                (
                    route.method().unwrap().to_owned(),
                    route.interface().map(str::to_owned),
                    head.request_id,
                    head.kind,
                    facts.get("strict").cloned().unwrap(),
                )
            })
            .collect();
        let iface = (mode == "multiplexed").then(|| "Echo".to_owned());
        let strict = FactValue::Bool(mode != "nonstrict");
        let expect: Vec<_> = [
            ("echo", 1, FrameKind::Request),
            ("add", 2, FrameKind::Request),
            ("notify", 3, FrameKind::OnewayRequest),
            ("ping", 4, FrameKind::Request),
        ]
        .into_iter()
        .map(|(m, id, kind)| (m.to_owned(), iface.clone(), id, kind, strict.clone()))
        .collect();
        assert_eq!(got, expect, "{mode}");
        assert_eq!(
            lines,
            [
                format!("echo\tok\t{TEXT}"),
                "add\tok\t42".to_owned(),
                "notify\tok\t".to_owned(),
                format!("ping\terror\tTApplicationException\t{ty}\t{message}"),
            ],
            "{mode}: what the real client surfaced"
        );
    }
}

/// The real server's two ports, and the guard that stops it (closing its stdin).
fn start_server() -> (Guard, u16, u16) {
    let mut child = node("thrift-server.js", &[]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let guard = Guard(Some(child));
    let line = rx
        .recv_timeout(IO_TIMEOUT)
        .expect("thrift-server.js did not start");
    let ports: Vec<u16> = line
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("unexpected server output {line:?}"))
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    (guard, ports[0], ports[1])
}

fn connect(port: u16) -> TcpStream {
    let stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Read one reply and check it answers `method` with request id `id`; its result struct.
fn expect_reply(
    codec: &ThriftCodec,
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    method: &str,
    id: u64,
    ty: u8,
) -> (Bytes, Vec<(i16, Field)>) {
    let frame = read_frame(codec, stream, buf).expect("a reply");
    Conformance::new(codec).check_frame(&frame);
    let head = codec.frame_head(&frame).unwrap();
    assert_eq!(
        (head.kind, head.request_id, head.status),
        (FrameKind::Response, id, Some(u32::from(ty))),
        "{method}"
    );
    let (_, mtype, name, seqid, body) = read_message(&frame);
    assert_eq!(
        (mtype, name.as_str(), seqid as u32 as u64),
        (ty, method, id)
    );
    let (fields, rest) = read_struct(&body);
    assert!(rest.is_empty());
    (frame, fields)
}

#[test]
fn real_server_answers_rewritten_seqids() {
    let codec = ThriftCodec::new();
    let (mut server, plain, multiplexed) = start_server();
    let mut stream = connect(plain);
    let mut buf = BytesMut::new();

    // A strict echo call, forwarded with rewritten ids (in place: the Bytes is unique).
    let echo = Bytes::from(strict(
        CALL,
        "echo",
        1,
        &Struct::new().string(1, TEXT).end(),
    ));
    for id in [
        0u64,
        1,
        0x7fff_ffff,
        0x8000_0000,
        0xdead_beef,
        u64::from(u32::MAX),
    ] {
        let frame = rewrite_request_id(&codec, Bytes::copy_from_slice(&echo), id).unwrap();
        stream.write_all(&frame).unwrap();
        let (_, fields) = expect_reply(&codec, &mut stream, &mut buf, "echo", id, REPLY);
        assert_eq!(fields, [(0, Field::Str(TEXT.into()))]);
    }

    // Non-strict requests (the server reads them; it answers strict).
    let add = loose(CALL, "add", 5, &Struct::new().i32(1, 20).i32(2, 22).end());
    let add = rewrite_request_id(&codec, Bytes::from(add), 0xfeed_f00d).unwrap();
    stream.write_all(&add).unwrap();
    let (reply, fields) = expect_reply(&codec, &mut stream, &mut buf, "add", 0xfeed_f00d, REPLY);
    assert_eq!(fields, [(0, Field::I32(42))]);
    assert_eq!(
        codec.facts(&reply).unwrap().get("strict"),
        Some(&FactValue::Bool(true))
    );

    // A oneway call gets no reply; the next call's reply proves the stream is in step.
    let notify = loose(
        ONEWAY,
        "notify",
        6,
        &Struct::new().string(1, "from rust").end(),
    );
    stream.write_all(&notify).unwrap();
    stream
        .write_all(&strict(CALL, "ping", 7, &[T_STOP]))
        .unwrap();
    let (_, fields) = expect_reply(&codec, &mut stream, &mut buf, "ping", 7, REPLY);
    assert!(fields.is_empty());

    // An unknown method: the server's own TApplicationException.
    stream
        .write_all(&strict(CALL, "nope", 8, &[T_STOP]))
        .unwrap();
    let (exc, _) = expect_reply(&codec, &mut stream, &mut buf, "nope", 8, EXCEPTION);
    assert_eq!(
        codec.facts(&exc).unwrap().get("exception_message"),
        Some(&FactValue::Str("Unknown function nope".into()))
    );

    // Three pipelined calls in one write, ids rewritten; replies in order.
    let mut burst = Vec::new();
    for id in [100u64, 101, 102] {
        let call = strict(
            CALL,
            "add",
            0,
            &Struct::new().i32(1, id as i32).i32(2, 1).end(),
        );
        burst.extend_from_slice(&rewrite_request_id(&codec, Bytes::from(call), id).unwrap());
    }
    stream.write_all(&burst).unwrap();
    for id in [100u64, 101, 102] {
        let (_, fields) = expect_reply(&codec, &mut stream, &mut buf, "add", id, REPLY);
        assert_eq!(fields, [(0, Field::I32(id as i32 + 1))]);
    }

    // The multiplexed server: "Echo:echo" routes to interface Echo; the reply is named "echo".
    // Strict messages only: npm thrift 0.24.0 reads a non-strict name as a Buffer, and its
    // TMultiplexedProcessor then fails on `fname.split` and drops the connection.
    let mut mux = connect(multiplexed);
    let mut mux_buf = BytesMut::new();
    for (frame, id) in [
        (
            strict(CALL, "Echo:echo", 1, &Struct::new().string(1, TEXT).end()),
            0xabcd_ef01u64,
        ),
        (
            strict(
                CALL,
                "Echo:add",
                2,
                &Struct::new().i32(1, -3).i32(2, 1).end(),
            ),
            3,
        ),
    ] {
        let frame = Bytes::from(frame);
        assert_eq!(
            codec.route_headers(&frame).unwrap().interface(),
            Some("Echo")
        );
        let method = codec
            .route_headers(&frame)
            .unwrap()
            .method()
            .unwrap()
            .to_owned();
        let frame = rewrite_request_id(&codec, frame, id).unwrap();
        mux.write_all(&frame).unwrap();
        let (_, fields) = expect_reply(&codec, &mut mux, &mut mux_buf, &method, id, REPLY);
        assert_eq!(fields.len(), 1, "{method}");
    }

    drop(stream);
    drop(mux);
    // Closing its stdin stops the server; it reports the oneway calls it got.
    drop(server.0.as_mut().and_then(|c| c.stdin.take()));
    let (exit, _, err) = server.finish(Duration::from_secs(10));
    assert!(exit.success(), "thrift-server.js: {exit}\n{err}");
    assert!(err.contains(r#"notified: ["from rust"]"#), "{err}");
}

#[test]
fn local_replies_written_byte_by_byte_reach_the_real_client() {
    // The same local reply as above, written one byte at a time: the real
    // client's framed transport reassembles it and still surfaces the message.
    let codec = ThriftCodec::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut client = Guard(Some(node("thrift-client.js", &[&port, "strict", "x"])));
    let mut stream = accept_bounded(&listener);
    stream.set_nodelay(true).unwrap();
    let mut buf = BytesMut::new();
    while let Some(frame) = read_frame(&codec, &mut stream, &mut buf) {
        if codec.frame_head(&frame).unwrap().kind != FrameKind::Request {
            continue;
        }
        let mut dst = BytesMut::new();
        codec
            .local_reply(&frame, LocalStatus::Timeout, "upstream timed out", &mut dst)
            .unwrap();
        for byte in dst.chunks(1) {
            stream.write_all(byte).unwrap();
        }
    }
    drop(stream);
    let (exit, out, err) = client.finish(Duration::from_secs(15));
    assert!(exit.success(), "{exit}\n{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "echo\terror\tTApplicationException\t0\tupstream timed out",
            "add\terror\tTApplicationException\t0\tupstream timed out",
            "notify\tok\t",
            "ping\terror\tTApplicationException\t0\tupstream timed out",
        ]
    );
}
