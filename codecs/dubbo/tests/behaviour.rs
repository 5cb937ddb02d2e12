//! Exact behaviour on MOSN's real requests and split cases, control frames,
//! attachments (typed maps, edits, references), other serializations, errors.

use bytes::{Bytes, BytesMut};
use xprotocol_core::testing::Conformance;
use xprotocol_core::{
    Codec, Error, ErrorAction, FactValue, FrameKind, Framing, HeaderEdit, LocalStatus,
    Multiplexing, Needed, Probe, Routing, Split,
};
use xprotocol_dubbo::testdata::{MOSN_D2, REQUEST_177, from_hex};
use xprotocol_dubbo::{DubboCodec, parameter_count};
use xprotocol_hessian2::Writer;

/// MOSN's D3: complex arguments that once panicked Hessian decoders (1109 bytes).
const MOSN_D3: &str = concat!(
    "dabbc200000000000000000a0000044505322e302e32302f636f6d2e646d616c6c2e6473662e7a6f6e652e70726f78792e736572766963652e50726f7879496e",
    "7465726661636505302e302e300e756e6974546573744279556e6974305f4c6a6176612f6c616e672f537472696e673b4c636f6d2f646d616c6c2f6473662f7a",
    "6f6e652f70726f78792f656e746974792f53696d706c65456e746974793b4c6a6176612f7574696c2f4c6973743b4c6a6176612f7574696c2f4d61703b013043",
    "302c636f6d2e646d616c6c2e6473662e7a6f6e652e70726f78792e656e746974792e53696d706c65456e746974799c0d72656d6f74655265734c6973740c7265",
    "6d6f74655265734d61700b696e6e6572456e746974790d726571756573744d6574686f64096c6f63616c486f7374096c6f63616c556e69740c626173654f626a",
    "65637449640e626173654f626a6563744e616d6509736c65657054696d650876656e646572496404706172320470617231604e4e43302b636f6d2e646d616c6c",
    "2e6473662e7a6f6e652e70726f78792e656e746974792e496e6e6572456e74697479991073696d706c65456e746974794c697374046c6973740d726571756573",
    "744d6574686f64096c6f63616c486f7374096c6f63616c556e69740c626173654f626a65637449640e626173654f626a6563744e616d650876656e6465724964",
    "04756e6974614e4e4e4e4e900e426173654f626a6563744e616d654e904e093132372e302e302e3104477a3031904e904e4e4e70136a6176612e7574696c2e41",
    "727261794c697374480278784d30266a6176612e7574696c2e636f6e63757272656e742e436f6e63757272656e74486173684d61700278780279795a0279794d",
    "910279790279795a5a481072656d6f74652e666c61675f636f64654e0d636f6e73756d65725f756e697404677a30310673656372657413617771333433353565",
    "676474367537696b757409696e74657266616365302f636f6d2e646d616c6c2e6473662e7a6f6e652e70726f78792e736572766963652e50726f7879496e7465",
    "72666163650f72656d6f74652e70726f5f636f64650770726f436f64651272656d6f74652e726567696f6e5f636f64654e0776657273696f6e05302e302e3007",
    "74696d656f757404333030300b72656d6f74652e7a6f6e6504477a30310470617468302f636f6d2e646d616c6c2e6473662e7a6f6e652e70726f78792e736572",
    "766963652e50726f7879496e7465726661636504756e697404677a30310f72656d6f74652e6170705f636f646507617070436f64651272656d6f74652e617070",
    "6c69636174696f6e147a6f6e652d636f6e6669672d636f6e73756d65720b6170706c69636174696f6e147a6f6e652d636f6e6669672d636f6e73756d65720a64",
    "6d616c6c5f7a6f6e650b2e746f537472696e6731310d70726f76696465725f756e697404677a30310e72656d6f74652e616464726573730c31302e31322e3231",
    "342e36330c646d616c6c5f6c6f63616c6502656e5a",
);

/// MOSN's S6: a real request whose descriptor is corrupt after the method.
const MOSN_S6: &str = concat!(
    "dabbc2000000000000000003000000e105322e362e323030636f6d2e616c69626162612e626f6f742e647562626f2e64656d6f2e636f6e73756d65722e44656d",
    "6f5365727669636505312e302e310873617948656c6c6f124c6a6176612f6c616e672f5374010e696e673b037878784804706174683030636f6d2e616c696261",
    "62612e626f6f742e647562626f2e64656d6f2e636f6e73756d65722e44656d6f5365727669636509696e746572666163653030636f6d2e616c69626162612e62",
    "6f6f742e647562626f2e64656d6f2e636f6e73756d65722e44656d6f536572766963650776657273696f6e05312e302e315a",
);

/// Where REQUEST_177's attachments map starts.
fn attachments_at() -> usize {
    REQUEST_177
        .windows(6)
        .position(|w| w == b"H\x04path")
        .unwrap()
}

fn frame(hex: &str) -> Bytes {
    Bytes::from(from_hex(hex))
}

#[test]
fn mosn_d2_decodes_fully() {
    let codec = DubboCodec::new();
    let d2 = frame(MOSN_D2);
    assert_eq!(d2.len(), 523);
    let route = codec.route_headers(&d2).unwrap();
    assert_eq!(
        route.service(),
        Some("com.raycloud.notify.api.service.NotifyJobRequest")
    );
    assert_eq!(
        route.interface(),
        Some("com.raycloud.notify.api.service.NotifyJobRequest")
    );
    assert_eq!(route.version(), Some("2.0.1-vpc-test"));
    assert_eq!(route.method(), Some("stopNotifyJob"));
    assert_eq!(route.group(), None);
    assert_eq!(route.header("a.s.u"), Some("/auth/test"));
    assert_eq!(route.header("a.s.t"), Some("5356258898771314"));
    assert_eq!(route.header("a.s.d"), Some("kefu.kuaimai.com"));
    assert_eq!(
        route.header("dubboApplication"),
        Some("com-raycloud-admin-x")
    );
    assert_eq!(route.header("timeout"), Some("5000"));
    assert_eq!(route.headers().count(), 8);
    Conformance::new(&codec).check_frame(&d2);
}

#[test]
fn mosn_d3_complex_arguments_reach_the_attachments() {
    let codec = DubboCodec::new();
    let d3 = frame(MOSN_D3);
    assert_eq!(d3.len(), 1109);
    let route = codec.route_headers(&d3).unwrap();
    assert_eq!(
        route.interface(),
        Some("com.dmall.dsf.zone.proxy.service.ProxyInterface")
    );
    assert_eq!(
        (route.method(), route.version()),
        (Some("unitTestByUnit"), Some("0.0.0"))
    );
    assert_eq!(route.header("consumer_unit"), Some("gz01"));
    assert_eq!(route.header("application"), Some("zone-config-consumer"));
    assert_eq!(route.header("remote.address"), Some("10.12.214.63"));
    assert_eq!(route.header("dmall_locale"), Some("en"));
    assert_eq!(
        route.header("remote.flag_code"),
        None,
        "a null value is not a header"
    );
    let facts = codec.facts(&d3).unwrap();
    let Some(FactValue::Map(attachments)) = facts.get("attachments") else {
        panic!("attachments")
    };
    assert_eq!(attachments.len(), 18, "every pair, null values included");
    Conformance::new(&codec).check_frame(&d3);
}

#[test]
fn mosn_s6_is_a_clean_error_after_the_method() {
    let codec = DubboCodec::new();
    let s6 = frame(MOSN_S6);
    // Declared body 225, actual 226: the frame splits at 241 and one byte remains.
    assert_eq!(codec.split_frame(&s6), Ok(Split::Complete(241)));
    let whole = s6.slice(..241);
    let err = codec.route_headers(&whole).unwrap_err();
    assert_eq!(err.action(), ErrorAction::FailStream, "{err}");
    assert!(matches!(err, Error::Malformed { .. }), "{err}");
    assert_eq!(
        codec.frame_head(&whole).unwrap().request_id,
        3,
        "multiplexing still works"
    );
    // The first four strings are intact (what MOSN's cheap mode reads).
    let facts = codec.facts(&whole);
    assert!(facts.is_err(), "facts need the whole body");
}

#[test]
fn mosn_split_cases() {
    let codec = DubboCodec::new();
    let split_all = |hex: &str| {
        let mut buf = BytesMut::from(&from_hex(hex)[..]);
        let mut ids = Vec::new();
        while let Split::Complete(n) = codec.split_frame(&buf).unwrap() {
            ids.push(codec.request_id(&buf.split_to(n)).unwrap());
        }
        (ids, buf.len())
    };
    assert_eq!(
        split_all("dabb4000000000000000004e00000003313233"),
        (vec![78], 0)
    );
    assert_eq!(split_all("dabbe000000000000000004e00000000"), (vec![78], 0));
    assert_eq!(
        split_all(
            "dabbc000000000000000004e000000026162dabb0300000000000000004f0000000163dabb0300000000000000005000000003313233"
        ),
        (vec![78, 79, 80], 0)
    );
    assert_eq!(
        split_all("dabbc000000000000000004e000000026162dabb0700"),
        (vec![78], 4)
    );
    assert_eq!(
        split_all(
            "dabb0300000000000000004e000000026162dabb0700000000000000004e00000000dabb0600000000000000004e00000000"
        ),
        (vec![78, 78, 78], 0)
    );
    assert_eq!(
        codec.split_frame(&from_hex("dabb0000000000000000004e")),
        Ok(Split::Incomplete(Needed::AtLeast(4)))
    );
    assert_eq!(
        codec.split_frame(&from_hex("dabb4000000000000000004e000000033132")),
        Ok(Split::Incomplete(Needed::Exact(1)))
    );
    let err = codec
        .split_frame(&from_hex("dab0c000000000000000004e00000000"))
        .unwrap_err();
    assert_eq!(
        err,
        Error::BadMagic {
            protocol: "dubbo",
            offset: 1,
            found: 0xb0
        }
    );
    let mut id = from_hex("dabbc000000000000000004e000000026162");
    codec.set_request_id(&mut id, 12_345_678).unwrap();
    assert_eq!(codec.request_id(&id), Ok(12_345_678));
}

#[test]
fn probe_tells_short_reads_from_misses() {
    let codec = DubboCodec::new();
    assert_eq!(codec.probe(&[]), Probe::NeedMore);
    assert_eq!(codec.probe(&[0xda]), Probe::NeedMore);
    assert_eq!(codec.probe(&[0xda, 0xbb]), Probe::Match);
    assert_eq!(codec.probe(&[0xda, 0x00]), Probe::NoMatch);
    assert_eq!(codec.probe(&[0x01, 0x01]), Probe::NoMatch);
}

#[test]
fn heartbeats_read_only_events_and_local_replies() {
    let codec = DubboCodec::new();
    let ping = from_hex("dabbe2000000000000000005000000014e");
    assert_eq!(
        codec.frame_head(&ping).unwrap().kind,
        FrameKind::HeartbeatRequest
    );
    let mut pong = BytesMut::new();
    codec.heartbeat_reply(&ping, &mut pong).unwrap();
    assert_eq!(
        &pong[..],
        from_hex("dabb22140000000000000005000000014e"),
        "Java's single-N reply"
    );
    let mut active = BytesMut::new();
    codec.heartbeat_request(5, &mut active).unwrap();
    assert_eq!(&active[..], &ping[..]);

    // A read-only event is the provider going away: goaway, never a heartbeat.
    let mut read_only = BytesMut::new();
    codec.goaway(9, &mut read_only).unwrap();
    assert_eq!(
        &read_only[..],
        from_hex("dabba2000000000000000009000000020152")
    );
    assert_eq!(
        codec.frame_head(&read_only).unwrap().kind,
        FrameKind::GoAway
    );
    let mut out = BytesMut::new();
    assert!(matches!(
        codec.heartbeat_reply(&read_only, &mut out),
        Err(Error::WrongFrameKind { .. })
    ));

    let request = Bytes::from_static(REQUEST_177);
    for (status, native) in [
        (LocalStatus::NoRoute, 60),
        (LocalStatus::NoHealthyUpstream, 60),
        (LocalStatus::UpstreamConnectFailure, 80),
        (LocalStatus::Timeout, 31),
        (LocalStatus::Overloaded, 100),
        (LocalStatus::LimitExceeded, 100),
        (LocalStatus::CodecError, 40),
        (LocalStatus::PermissionDenied, 80),
        (LocalStatus::InternalError, 80),
    ] {
        let mut reply = BytesMut::new();
        codec
            .local_reply(&request, status, "上游超时", &mut reply)
            .unwrap();
        let reply = reply.freeze();
        let head = codec.frame_head(&reply).unwrap();
        assert_eq!(
            (head.kind, head.request_id, head.status),
            (FrameKind::Response, 5, Some(native))
        );
        let facts = codec.facts(&reply).unwrap();
        assert_eq!(
            facts.get("error_message"),
            Some(&FactValue::Str("上游超时".into()))
        );
    }
    let mut reply = BytesMut::new();
    codec
        .local_reply(&request, LocalStatus::Timeout, "", &mut reply)
        .unwrap();
    assert_eq!(&reply[..3], b"\xda\xbb\x02");
    assert!(
        reply.ends_with(b"\x07timeout"),
        "the status name when no message is given"
    );
}

#[test]
fn typed_attachment_maps_are_read_and_edited_in_place() {
    let codec = DubboCodec::new();
    // REQUEST_177 with its H map re-written as a typed java.util.LinkedHashMap.
    let at = attachments_at();
    let mut w = Writer::new();
    w.map_typed("java.util.LinkedHashMap")
        .string("interface")
        .string("a.Typed")
        .string("group")
        .string("g2")
        .string("timeout")
        .int(300)
        .map_end();
    let mut body = REQUEST_177[16..at].to_vec();
    body.extend_from_slice(w.as_bytes());
    let mut frame = REQUEST_177[..16].to_vec();
    frame[12..16].copy_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend(body);
    let frame = Bytes::from(frame);
    let route = codec.route_headers(&frame).unwrap();
    assert_eq!(
        (route.interface(), route.group(), route.header("timeout")),
        (Some("a.Typed"), Some("g2"), Some("300"))
    );
    let edited = codec
        .mutate_headers(
            &frame,
            &[
                HeaderEdit::Set("group", "灰度"),
                HeaderEdit::Set("x-new", "1"),
            ],
        )
        .unwrap();
    assert!(
        edited.pieces()[1].as_ptr() == frame[16..].as_ptr(),
        "the body before the map is shared"
    );
    let edited = edited.to_bytes();
    assert!(
        edited[16..]
            .windows(24)
            .any(|w| w == b"\x17java.util.LinkedHashMap"),
        "typed map kept typed"
    );
    let route = codec.route_headers(&edited).unwrap();
    assert_eq!(
        (
            route.group(),
            route.header("x-new"),
            route.header("timeout")
        ),
        (Some("灰度"), Some("1"), Some("300"))
    );
    Conformance::new(&codec).check_frame(&frame);
}

#[test]
fn attachments_holding_references_are_not_edited() {
    let codec = DubboCodec::new();
    let at = attachments_at();
    let mut frame = REQUEST_177[..at].to_vec();
    frame.extend_from_slice(b"H\x01kQ\x90Z");
    let len = (frame.len() - 16) as u32;
    frame[12..16].copy_from_slice(&len.to_be_bytes());
    let frame = Bytes::from(frame);
    let err = codec
        .mutate_headers(&frame, &[HeaderEdit::Remove("k")])
        .unwrap_err();
    assert!(err.is_unsupported(), "{err}");
}

#[test]
fn other_serializations_frame_and_multiplex_but_do_not_route() {
    let codec = DubboCodec::new();
    let mut fastjson = REQUEST_177.to_vec();
    fastjson[2] = 0xc6; // two-way request, serialization 6
    let frame = Bytes::from(fastjson);
    assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(frame.len())));
    assert_eq!(codec.frame_head(&frame).unwrap().kind, FrameKind::Request);
    let err = codec.route_headers(&frame).unwrap_err();
    assert!(
        err.is_unsupported() && err.action() == ErrorAction::FailStream,
        "{err}"
    );
    let facts = codec.facts(&frame).unwrap();
    assert_eq!(facts.get("serialization_id"), Some(&FactValue::Int(6)));
    Conformance::new(&codec).check_split(&frame);
    Conformance::new(&codec).check_id_rewrite(&frame);
    Conformance::new(&codec).check_http2_round_trip(&frame);
}

#[test]
fn parameter_counts_follow_the_jvm_descriptor() {
    assert_eq!(parameter_count(b""), Ok(0));
    assert_eq!(parameter_count(b"Ljava/lang/String;"), Ok(1));
    assert_eq!(
        parameter_count(b"IJZLjava/util/List;Ljava/util/Map;Lcom/example/User;"),
        Ok(6)
    );
    assert_eq!(parameter_count(b"[I[[Ljava/lang/String;D"), Ok(3));
    assert_eq!(
        parameter_count(b"Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;"),
        Ok(3),
        "generic $invoke"
    );
    assert!(parameter_count(b"Ljava/lang/String").is_err());
    assert!(parameter_count(b"Q").is_err());
}

#[test]
fn limits_bound_attachments() {
    let tight = DubboCodec::with_limits(xprotocol_core::Limits {
        max_header_entries: 3,
        ..Default::default()
    });
    let err = tight
        .route_headers(&Bytes::from_static(REQUEST_177))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "max_header_entries",
                ..
            }
        ),
        "{err}"
    );
    let small = DubboCodec::with_limits(xprotocol_core::Limits {
        max_frame_len: 100,
        ..Default::default()
    });
    assert!(matches!(
        small.split_frame(REQUEST_177),
        Err(Error::FrameTooLarge { len: 177, .. })
    ));
    let deep = DubboCodec::with_limits(xprotocol_core::Limits {
        max_depth: 2,
        ..Default::default()
    });
    let mut frame = REQUEST_177[..16].to_vec();
    frame.extend_from_slice(b"\x052.0.2\x01a\x00\x01m\x12Ljava/lang/Object;WWWNZZZH");
    frame.push(b'Z');
    let len = (frame.len() - 16) as u32;
    frame[12..16].copy_from_slice(&len.to_be_bytes());
    let err = deep.route_headers(&Bytes::from(frame)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "max_depth",
                ..
            }
        ),
        "{err}"
    );
    let _ = Codec::name(&tight);
}
