//! The captured HSF frames through every layer, every error path, and
//! detection among Bolt, Dubbo and HSF.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use xprotocol_core::testing::Conformance;
use xprotocol_core::{
    Codec, Detection, Error, ErrorAction, FactValue, FrameKind, Framing, HeaderEdit, Limits,
    LocalStatus, Multiplexing, Needed, Registry, Routing, Split, Transcoding,
};
use xprotocol_hessian2::Writer;
use xprotocol_hsf::testdata::{CAPTURED_HEARTBEATS, CAPTURED_REQUEST, PLUGIN_RESPONSE, from_hex};
use xprotocol_hsf::{HsfCodec, PROTOCOL};

fn request() -> Bytes {
    Bytes::from(from_hex(CAPTURED_REQUEST))
}

/// A request built from the observed layout.
fn build(
    id: u64,
    service: &str,
    method: &str,
    args: &[(&str, &[u8])],
    props: &[u8],
    serialization: u8,
) -> Bytes {
    let mut f = BytesMut::new();
    f.put_slice(&[0x0e, 1, 0, serialization, 0, 0, 3]);
    f.put_u64(id);
    f.put_u32(1500);
    f.put_u32(service.len() as u32);
    f.put_u32(method.len() as u32);
    f.put_u32(args.len() as u32);
    for (ty, _) in args {
        f.put_u32(ty.len() as u32);
    }
    for (_, arg) in args {
        f.put_u32(arg.len() as u32);
    }
    f.put_u32(props.len() as u32);
    f.put_slice(service.as_bytes());
    f.put_slice(method.as_bytes());
    for (ty, _) in args {
        f.put_slice(ty.as_bytes());
    }
    for (_, arg) in args {
        f.put_slice(arg);
    }
    f.put_slice(props);
    f.freeze()
}

#[test]
fn the_captured_request_decodes_fully() {
    let codec = HsfCodec::new();
    let frame = request();
    assert_eq!(frame.len(), 261);
    assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(261)));
    let head = codec.frame_head(&frame).unwrap();
    assert_eq!(
        (head.kind, head.request_id, head.status),
        (FrameKind::Request, 0, None)
    );
    let facts = codec.facts(&frame).unwrap();
    let get = |k| facts.get(k).cloned().unwrap();
    assert_eq!(get("protocol"), FactValue::Str("hsf-observed-v1".into()));
    assert_eq!(get("timeout_ms"), FactValue::Int(2000));
    assert_eq!(get("serialization_id"), FactValue::Int(4));
    assert_eq!(
        get("service"),
        FactValue::Str("com.test.pandora.hsf.HelloService:1.0.0.daily".into())
    );
    assert_eq!(
        get("interface"),
        FactValue::Str("com.test.pandora.hsf.HelloService".into())
    );
    assert_eq!(get("version"), FactValue::Str("1.0.0.daily".into()));
    assert_eq!(get("method"), FactValue::Str("sayHello".into()));
    assert_eq!(get("group"), FactValue::Str("HSF1".into()));
    assert_eq!(
        get("parameter_types"),
        FactValue::List(vec![FactValue::Str("java.lang.String".into())])
    );
    assert_eq!(get("body_length"), FactValue::Int(261 - 43));
    let FactValue::Map(headers) = get("headers") else {
        panic!()
    };
    let keys: Vec<_> = headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Consumer-AppName",
            "target_group",
            "eagleeye_context.traceId",
            "eagleeye_context.rpcId"
        ],
        "_TID (null) and eagleEyeUserData (null) are not headers"
    );
    assert_eq!(headers[0].1, FactValue::Str("hsf-server-demo".into()));
    let kit = Conformance::new(&codec);
    kit.check_frame(&frame);
    kit.check_edits(&frame, "eagleeye_context", "flattened?");
}

#[test]
fn heartbeats_are_refused_unless_observed_frames_are_opted_in() {
    let stream = from_hex(CAPTURED_HEARTBEATS);
    let codec = HsfCodec::new();
    let mut buf = BytesMut::from(&[&from_hex(CAPTURED_REQUEST)[..], &stream].concat()[..]);
    let mut ids = Vec::new();
    while let Split::Complete(n) = codec.split_frame(&buf).unwrap() {
        let frame = buf.split_to(n);
        let head = codec.frame_head(&frame).unwrap();
        ids.push((head.kind, head.request_id));
    }
    assert!(buf.is_empty());
    assert_eq!(
        ids,
        [
            (FrameKind::Request, 0),
            (FrameKind::HeartbeatRequest, 1),
            (FrameKind::HeartbeatRequest, 2),
            (FrameKind::HeartbeatRequest, 3)
        ]
    );
    let ping = &stream[..18];
    assert_eq!(
        codec.frame_head(ping).unwrap().timeout,
        Some(std::time::Duration::from_millis(3000))
    );
    let mut out = BytesMut::new();
    assert!(
        codec
            .heartbeat_reply(ping, &mut out)
            .unwrap_err()
            .is_unsupported()
    );
    assert!(
        codec
            .heartbeat_request(1, &mut out)
            .unwrap_err()
            .is_unsupported()
    );
    assert!(codec.goaway(1, &mut out).unwrap_err().is_unsupported());
    assert!(out.is_empty());

    let opted = HsfCodec::new().with_observed_heartbeats();
    opted.heartbeat_request(1, &mut out).unwrap();
    assert_eq!(
        &out[..],
        ping,
        "the active heartbeat mirrors the captured one"
    );
    let mut pong = BytesMut::new();
    opted.heartbeat_reply(ping, &mut pong).unwrap();
    assert_eq!(
        &pong[..2],
        &[0x0c, 1],
        "reply: the request with type 1 (inferred)"
    );
    assert_eq!(
        opted.frame_head(&pong).unwrap().kind,
        FrameKind::HeartbeatResponse
    );
    for hb in stream.chunks(18) {
        Conformance::new(&opted).check_frame(hb);
        Conformance::new(&codec).check_frame(hb);
    }
}

#[test]
fn local_replies_are_refused() {
    let codec = HsfCodec::new();
    let mut out = BytesMut::new();
    for status in LocalStatus::ALL {
        let err = codec
            .local_reply(&request(), status, "no", &mut out)
            .unwrap_err();
        assert!(
            err.is_unsupported() && err.action() == ErrorAction::FailStream,
            "{err}"
        );
    }
    assert!(out.is_empty());
}

#[test]
fn the_plugin_response_frames_and_transcodes() {
    let codec = HsfCodec::new();
    let frame = Bytes::from(from_hex(PLUGIN_RESPONSE));
    let head = codec.frame_head(&frame).unwrap();
    assert_eq!(
        (head.kind, head.request_id, head.status),
        (FrameKind::Response, 0x1234_5678, Some(0))
    );
    Conformance::new(&codec).check_frame(&frame);
    let mut with_body = from_hex(PLUGIN_RESPONSE);
    with_body[16..20].copy_from_slice(&3u32.to_be_bytes());
    with_body.extend_from_slice(b"abc");
    Conformance::new(&codec).check_frame(&with_body);
}

#[test]
fn every_length_is_checked_and_capped() {
    let codec = HsfCodec::new();
    let frame = request();
    // Every truncation point asks for more; never an error, never a panic.
    for k in 0..frame.len() {
        assert!(
            matches!(codec.split_frame(&frame[..k]), Ok(Split::Incomplete(_))),
            "prefix {k}"
        );
    }
    assert_eq!(
        codec.split_frame(&frame[..30]),
        Ok(Split::Incomplete(Needed::AtLeast(5)))
    );
    assert_eq!(
        codec.split_frame(&frame[..260]),
        Ok(Split::Incomplete(Needed::Exact(1)))
    );
    // An argument count above the cap: the header would grow by 8 bytes per argument.
    let mut many = frame.to_vec();
    many[27..31].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = codec.split_frame(&many).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BadFrameHeader {
                field: "argument count",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.action(), ErrorAction::CloseConnection);
    // Lengths that would overflow 32 bits when summed.
    let mut huge = frame.to_vec();
    for at in [19, 23, 31, 35, 39] {
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    }
    assert!(matches!(
        codec.split_frame(&huge),
        Err(Error::FrameTooLarge { .. })
    ));
    let small = HsfCodec::with_limits(Limits {
        max_frame_len: 200,
        ..Limits::default()
    });
    assert!(matches!(
        small.split_frame(&frame),
        Err(Error::FrameTooLarge { len: 261, .. })
    ));
    let mut version = frame.to_vec();
    version[1] = 2;
    assert!(matches!(
        codec.split_frame(&version),
        Err(Error::BadFrameHeader {
            field: "version",
            ..
        })
    ));
    let mut ty = frame.to_vec();
    ty[2] = 7;
    assert!(matches!(
        codec.split_frame(&ty),
        Err(Error::BadFrameHeader { field: "type", .. })
    ));
    assert!(matches!(
        codec.split_frame(&[0xda, 0xbb]),
        Err(Error::BadMagic { .. })
    ));
}

#[test]
fn props_edits_rewrite_only_the_props() {
    let codec = HsfCodec::new();
    let frame = request();
    let edited = codec
        .mutate_headers(
            &frame,
            &[
                HeaderEdit::Set("target_group", "灰度"),
                HeaderEdit::Remove("Consumer-AppName"),
            ],
        )
        .unwrap();
    assert!(
        edited.pieces()[1].as_ptr() == frame[43..].as_ptr(),
        "the payload before the props is shared"
    );
    let edited = edited.to_bytes();
    assert_eq!(
        codec.split_frame(&edited),
        Ok(Split::Complete(edited.len()))
    );
    let route = codec.route_headers(&edited).unwrap();
    assert_eq!(route.group(), Some("灰度"));
    assert_eq!(route.header("Consumer-AppName"), None);
    assert_eq!(
        route.header("eagleeye_context.rpcId"),
        Some("9"),
        "nested maps are kept verbatim"
    );
    assert_eq!(route.method(), Some("sayHello"));
    assert_eq!(codec.frame_head(&edited).unwrap().request_id, 0);
}

#[test]
fn other_serializations_frame_and_multiplex_but_do_not_route() {
    let codec = HsfCodec::new();
    let mut other = request().to_vec();
    other[3] = 9;
    let frame = Bytes::from(other);
    assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(261)));
    assert_eq!(codec.frame_head(&frame).unwrap().kind, FrameKind::Request);
    let err = codec.route_headers(&frame).unwrap_err();
    assert!(
        err.is_unsupported() && err.action() == ErrorAction::FailStream,
        "{err}"
    );
    let back = codec.from_http2(&codec.to_http2(&frame).unwrap()).unwrap();
    assert!(back == frame[..], "still transcodes losslessly");
    Conformance::new(&codec).check_id_rewrite(&frame);
}

#[test]
fn built_requests_with_many_arguments_round_trip() {
    let codec = HsfCodec::new();
    let mut props = Writer::new();
    props
        .map_untyped()
        .string("target_group")
        .string("g2")
        .string("k")
        .int(7)
        .map_end();
    let frame = build(
        u64::MAX,
        "a.B:2.0",
        "m",
        &[
            ("int", &[0x91]),
            ("java.lang.String", b"\x02hi"),
            ("long", &[0xe1]),
        ],
        props.as_bytes(),
        4,
    );
    let route = codec.route_headers(&frame).unwrap();
    assert_eq!(
        (
            route.interface(),
            route.version(),
            route.group(),
            route.header("k")
        ),
        (Some("a.B"), Some("2.0"), Some("g2"), Some("7"))
    );
    let facts = codec.facts(&frame).unwrap();
    assert_eq!(facts.get("argument_count"), Some(&FactValue::Int(3)));
    Conformance::new(&codec).check_frame(&frame);
    let no_props = build(5, "a.B", "m", &[], b"", 4);
    let route = codec.route_headers(&no_props).unwrap();
    assert_eq!(
        (route.version(), route.group(), route.header_count()),
        (None, None, 0)
    );
    Conformance::new(&codec).check_frame(&no_props);
}

#[test]
fn the_registry_tells_bolt_dubbo_and_hsf_apart_on_short_reads() {
    let mut registry = Registry::new();
    registry.register(Arc::new(xprotocol_bolt::BoltCodec::new()));
    registry.register(Arc::new(xprotocol_dubbo::DubboCodec::new()));
    registry.register(Arc::new(HsfCodec::new()));
    let name = |prefix: &[u8]| match registry.detect(prefix) {
        Detection::Matched(c) => c.name().to_owned(),
        Detection::NeedMore => "need-more".to_owned(),
        Detection::Unknown => "unknown".to_owned(),
    };
    let hsf = request();
    let heartbeat = from_hex(CAPTURED_HEARTBEATS);
    let bolt = xprotocol_bolt::testdata::REQUEST_151;
    let dubbo = xprotocol_dubbo::testdata::REQUEST_177;
    for (frame, want) in [
        (&hsf[..], PROTOCOL),
        (&heartbeat[..], PROTOCOL),
        (&bolt[..], "bolt"),
        (dubbo, "dubbo"),
    ] {
        assert_eq!(
            name(&frame[..1]),
            "need-more",
            "{want}: 1 byte is never a miss"
        );
        assert_eq!(name(&frame[..3]), want, "{want}: 3 bytes decide");
        assert_eq!(name(frame), want);
    }
    assert_eq!(name(&hsf[..2]), "need-more");
    assert_eq!(name(&bolt[..2]), "bolt");
    assert_eq!(name(&dubbo[..2]), "dubbo");
    assert_eq!(name(b"GET / HTTP/1.1"), "unknown");
    assert_eq!(name(&[0x0e, 2]), "unknown", "HSF version 2 is not claimed");
    let _ = Codec::name(&HsfCodec::new());
}

#[test]
fn arbitrary_bytes_never_panic_and_respect_limits() {
    let codec = HsfCodec::new();
    let seeds = vec![
        from_hex(CAPTURED_REQUEST),
        from_hex(CAPTURED_HEARTBEATS)[..18].to_vec(),
        from_hex(PLUGIN_RESPONSE),
    ];
    Conformance::new(&codec).check_arbitrary_inputs(&seeds, 4_000);
    Conformance::new(&HsfCodec::new().with_observed_heartbeats())
        .check_arbitrary_inputs(&seeds, 1_000);
}

/// Found by the fuzzer: a top-level key named like a flattened nested entry
/// would show twice in the view. Such edits are refused; the frame is untouched.
#[test]
fn edits_of_flattened_nested_names_are_refused() {
    let codec = HsfCodec::new();
    let frame = request();
    for edit in [
        HeaderEdit::Set("eagleeye_context.traceId", "x"),
        HeaderEdit::Remove("eagleeye_context.rpcId"),
    ] {
        let err = codec.mutate_headers(&frame, &[edit]).unwrap_err();
        assert!(err.is_unsupported(), "{err}");
    }
    // Other dotted keys are plain top-level props.
    let edited = codec
        .mutate_headers(&frame, &[HeaderEdit::Set("rpc.trace", "t")])
        .unwrap()
        .to_bytes();
    assert_eq!(
        codec.route_headers(&edited).unwrap().header("rpc.trace"),
        Some("t")
    );
    let crash = include_bytes!("data/fuzz-flattened-key-collision.bin");
    let (key, value, input) = xprotocol_core::testing::edit_input(crash).unwrap();
    Conformance::new(&codec).check_edits(input, key, value);
}
