//! Exact behaviour: frames compared byte for byte with the layouts documented in
//! the research notes (MOSN-derived vectors), every error path, limits.

use bytes::{Bytes, BytesMut};
use xprotocol_bolt::header_map::put_entry;
use xprotocol_bolt::{BoltCodec, BoltHeader, testdata};
use xprotocol_core::testing::vectors::decode_hex;
use xprotocol_core::{
    Error, ErrorAction, FrameKind, Framing, HeaderEdit, Limits, LocalStatus, Multiplexing, Needed,
    Probe, Routing, Split, Transcoding,
};

fn hex(s: &str) -> Vec<u8> {
    decode_hex(s).unwrap()
}

#[test]
fn control_frames_match_the_documented_bytes() {
    let codec = BoltCodec::new();
    let mut ping = BytesMut::new();
    codec.heartbeat_request(1, &mut ping).unwrap();
    assert_eq!(
        &ping[..],
        hex("01010000010000000101ffffffff0000000000000000")
    );
    let mut pong = BytesMut::new();
    codec.heartbeat_reply(&ping, &mut pong).unwrap();
    assert_eq!(&pong[..], hex("0100000001000000010100000000000000000000"));
    let mut goaway = BytesMut::new();
    codec.goaway(0, &mut goaway).unwrap();
    assert_eq!(
        &goaway[..],
        hex("01010064010000000001000000000000000000000000")
    );
    assert_eq!(codec.frame_head(&goaway).unwrap().kind, FrameKind::GoAway);

    let v2_ping = hex("020101000001000000010100ffffffff0000000000000000");
    let mut v2_pong = BytesMut::new();
    codec.heartbeat_reply(&v2_ping, &mut v2_pong).unwrap();
    assert_eq!(
        &v2_pong[..],
        hex("02010000000100000001010000000000000000000000")
    );
}

#[test]
fn local_replies_map_statuses_and_carry_the_message() {
    let codec = BoltCodec::new();
    let mut request = testdata::REQUEST_151.to_vec();
    codec.set_request_id(&mut request, 7).unwrap();
    let mut reply = BytesMut::new();
    codec
        .local_reply(&request, LocalStatus::NoRoute, "", &mut reply)
        .unwrap();
    assert_eq!(
        &reply[..],
        hex("0100000201000000070100060000000000000000"),
        "MOSN's hijack bytes"
    );
    for (status, bolt) in [
        (LocalStatus::NoRoute, 6),
        (LocalStatus::NoHealthyUpstream, 6),
        (LocalStatus::UpstreamConnectFailure, 0x10),
        (LocalStatus::Timeout, 7),
        (LocalStatus::Overloaded, 4),
        (LocalStatus::LimitExceeded, 4),
        (LocalStatus::CodecError, 9),
        (LocalStatus::PermissionDenied, 2),
        (LocalStatus::InternalError, 1),
    ] {
        let mut reply = BytesMut::new();
        codec
            .local_reply(&request, status, "upstream 超时", &mut reply)
            .unwrap();
        let reply = reply.freeze();
        let head = codec.frame_head(&reply).unwrap();
        assert_eq!(
            (head.kind, head.request_id, head.status),
            (FrameKind::Response, 7, Some(bolt)),
            "{status:?}"
        );
        let route = codec.route_headers(&reply).unwrap();
        assert_eq!(route.header("xprotocol-error"), Some("upstream 超时"));
    }
}

#[test]
fn replies_refuse_the_wrong_kind_of_frame() {
    let codec = BoltCodec::new();
    let mut out = BytesMut::new();
    let err = codec
        .heartbeat_reply(&testdata::REQUEST_151, &mut out)
        .unwrap_err();
    assert!(matches!(err, Error::WrongFrameKind { .. }), "{err}");
    let mut oneway = testdata::REQUEST_151.to_vec();
    oneway[1] = 2;
    let err = codec
        .local_reply(&oneway, LocalStatus::Timeout, "", &mut out)
        .unwrap_err();
    assert!(matches!(err, Error::WrongFrameKind { .. }), "{err}");
    assert!(out.is_empty());
}

#[test]
fn split_reports_exact_needs_once_the_header_is_readable() {
    let codec = BoltCodec::new();
    let f = &testdata::REQUEST_151[..];
    assert_eq!(
        codec.split_frame(&[]),
        Ok(Split::Incomplete(Needed::AtLeast(20)))
    );
    assert_eq!(
        codec.split_frame(&f[..1]),
        Ok(Split::Incomplete(Needed::AtLeast(19)))
    );
    assert_eq!(
        codec.split_frame(&f[..2]),
        Ok(Split::Incomplete(Needed::AtLeast(20)))
    );
    assert_eq!(
        codec.split_frame(&f[..22]),
        Ok(Split::Incomplete(Needed::Exact(129)))
    );
    assert_eq!(
        codec.split_frame(&f[..150]),
        Ok(Split::Incomplete(Needed::Exact(1)))
    );
    assert_eq!(codec.split_frame(f), Ok(Split::Complete(151)));
}

#[test]
fn probe_has_three_outcomes() {
    let codec = BoltCodec::new();
    assert_eq!(codec.probe(&[]), Probe::NeedMore);
    assert_eq!(codec.probe(&[0x01]), Probe::NeedMore);
    assert_eq!(codec.probe(&[0x01, 0x01]), Probe::Match);
    assert_eq!(codec.probe(&[0x02, 0x02]), Probe::NeedMore);
    assert_eq!(codec.probe(&[0x02, 0x02, 0x00]), Probe::Match);
    assert_eq!(codec.probe(&[0x01, 0x07]), Probe::NoMatch);
    assert_eq!(codec.probe(&[0x02, 0x03]), Probe::NoMatch);
    assert_eq!(codec.probe(&[0xda, 0xbb]), Probe::NoMatch);
}

#[test]
fn framing_errors_close_the_connection() {
    let codec = BoltCodec::new();
    let err = codec.split_frame(&[0xda, 0xbb, 0xc2]).unwrap_err();
    assert_eq!(
        err,
        Error::BadMagic {
            protocol: "bolt",
            offset: 0,
            found: 0xda
        }
    );
    assert_eq!(err.action(), ErrorAction::CloseConnection);

    let mut bad_type = testdata::REQUEST_151.to_vec();
    bad_type[1] = 9;
    let err = codec.split_frame(&bad_type).unwrap_err();
    assert!(
        matches!(err, Error::BadFrameHeader { field: "type", .. }),
        "{err}"
    );

    let small = BoltCodec::with_limits(Limits {
        max_frame_len: 150,
        ..Limits::default()
    });
    let err = small.split_frame(&testdata::REQUEST_151[..22]).unwrap_err();
    assert_eq!(
        err,
        Error::FrameTooLarge {
            protocol: "bolt",
            len: 151,
            limit: 150
        }
    );
    assert_eq!(err.action(), ErrorAction::CloseConnection);

    // The largest frame the length fields can declare is refused before any body arrives.
    let mut huge = testdata::REQUEST_151[..22].to_vec();
    huge[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        codec.split_frame(&huge),
        Err(Error::FrameTooLarge { .. })
    ));
}

fn crc_request() -> Vec<u8> {
    let codec = BoltCodec::new();
    codec
        .encode(
            &BoltHeader::request(5, 1000).v2(2, 1),
            b"com.alipay.sofa.rpc.core.request.SofaRequest",
            &[
                (b"service", b"com.example.EchoService:1.0:blue"),
                (b"sofa_head_method_name", b"echo"),
            ],
            Bytes::from_static(b"content"),
        )
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[test]
fn crc_is_verified_on_split_and_recomputed_on_rewrite_and_mutation() {
    let codec = BoltCodec::new();
    let frame = crc_request();
    assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(frame.len())));
    let mut flipped = frame.clone();
    let at = flipped.len() - 6;
    flipped[at] ^= 1;
    let err = codec.split_frame(&flipped).unwrap_err();
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err}");
    assert_eq!(err.action(), ErrorAction::CloseConnection);
    assert_eq!(
        BoltCodec::new().verify_crc(false).split_frame(&flipped),
        Ok(Split::Complete(frame.len()))
    );

    let mut rewritten = frame.clone();
    codec.set_request_id(&mut rewritten, 99).unwrap();
    assert_ne!(
        rewritten[rewritten.len() - 4..],
        frame[frame.len() - 4..],
        "CRC changed with the id"
    );
    assert_eq!(
        codec.split_frame(&rewritten),
        Ok(Split::Complete(frame.len()))
    );

    let mutated = codec
        .mutate_headers(&Bytes::from(frame), &[HeaderEdit::Set("x-trace", "t-1")])
        .unwrap()
        .to_bytes();
    assert_eq!(
        codec.split_frame(&mutated),
        Ok(Split::Complete(mutated.len()))
    );
}

#[test]
fn route_view_splits_the_unique_name() {
    let codec = BoltCodec::new();
    let frame = Bytes::from(crc_request());
    let route = codec.route_headers(&frame).unwrap();
    assert_eq!(route.service(), Some("com.example.EchoService:1.0:blue"));
    assert_eq!(route.interface(), Some("com.example.EchoService"));
    assert_eq!(route.version(), Some("1.0"));
    assert_eq!(route.group(), Some("blue"));
    assert_eq!(route.method(), Some("echo"));
    let old_style = codec
        .encode(
            &BoltHeader::request(1, 0),
            b"",
            &[(b"sofa_head_target_service", b"a.B")],
            Bytes::new(),
        )
        .unwrap()
        .to_bytes();
    let route = codec.route_headers(&old_style).unwrap();
    assert_eq!(
        (route.interface(), route.version(), route.method()),
        (Some("a.B"), None, None)
    );
}

#[test]
fn set_keeps_position_and_drops_duplicates_remove_drops_all() {
    let codec = BoltCodec::new();
    let frame = codec
        .encode(
            &BoltHeader::request(1, 0),
            b"",
            &[(b"a", b"1"), (b"b", b"2"), (b"a", b"3"), (b"c", b"4")],
            Bytes::from_static(b"body"),
        )
        .unwrap()
        .to_bytes();
    let set = codec
        .mutate_headers(&frame, &[HeaderEdit::Set("a", "new")])
        .unwrap()
        .to_bytes();
    let route = codec.route_headers(&set).unwrap();
    let pairs: Vec<_> = route.headers().collect();
    assert_eq!(
        pairs,
        [(&b"a"[..], &b"new"[..]), (b"b", b"2"), (b"c", b"4")]
    );
    assert!(set.ends_with(b"body"));
    let removed = codec
        .mutate_headers(&frame, &[HeaderEdit::Remove("a")])
        .unwrap()
        .to_bytes();
    let route = codec.route_headers(&removed).unwrap();
    assert_eq!(
        route.headers().map(|(k, _)| k).collect::<Vec<_>>(),
        [&b"b"[..], b"c"]
    );
}

#[test]
fn header_map_errors_fail_one_stream() {
    let codec = BoltCodec::new();
    // A header map whose key length runs past the block.
    let mut frame = testdata::REQUEST_151.to_vec();
    frame[66..70].copy_from_slice(&1000u32.to_be_bytes());
    let frame = Bytes::from(frame);
    assert_eq!(
        codec.split_frame(&frame),
        Ok(Split::Complete(151)),
        "framing is unaffected"
    );
    let err = codec.route_headers(&frame).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Malformed {
                field: "header key",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.action(), ErrorAction::FailStream);

    let tight_entries = Limits {
        max_header_entries: 1,
        ..Limits::default()
    };
    let tight_bytes = Limits {
        max_header_bytes: 10,
        ..Limits::default()
    };
    for (limits, name) in [
        (tight_entries, "max_header_entries"),
        (tight_bytes, "max_header_bytes"),
    ] {
        let err = BoltCodec::with_limits(limits)
            .route_headers(&Bytes::from_static(&testdata::REQUEST_151))
            .unwrap_err();
        assert!(
            matches!(err, Error::LimitExceeded { limit, .. } if limit == name),
            "{name}: {err}"
        );
    }
}

#[test]
fn ids_wider_than_32_bits_are_refused() {
    let codec = BoltCodec::new();
    let mut frame = testdata::REQUEST_151.to_vec();
    let err = codec.set_request_id(&mut frame, 1 << 32).unwrap_err();
    assert_eq!(
        err,
        Error::IdOutOfRange {
            protocol: "bolt",
            id: 1 << 32,
            bits: 32
        }
    );
    assert_eq!(frame, testdata::REQUEST_151);
    let mut out = BytesMut::new();
    assert!(codec.heartbeat_request(1 << 32, &mut out).is_err());
}

#[test]
fn unknown_command_codes_frame_but_have_no_kind() {
    let codec = BoltCodec::new();
    let mut frame = testdata::REQUEST_151.to_vec();
    frame[2..4].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(151)));
    let err = codec.frame_head(&frame).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Malformed {
                field: "cmd_code",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.action(), ErrorAction::FailStream);
}

#[test]
fn header_maps_with_nulls_or_duplicates_round_trip_through_http2() {
    let codec = BoltCodec::new();
    let mut block = BytesMut::new();
    put_entry(&mut block, Some(b"dup"), Some(b"1"));
    put_entry(&mut block, Some(b"Mixed.Case"), None);
    put_entry(&mut block, None, Some(b"v"));
    put_entry(&mut block, Some(b"dup"), Some("值\r\n".as_bytes()));
    put_entry(&mut block, Some(b""), Some(b""));
    let mut frame = testdata::REQUEST_151[..22].to_vec();
    frame[14..16].copy_from_slice(&0u16.to_be_bytes());
    frame[16..18].copy_from_slice(&(block.len() as u16).to_be_bytes());
    frame[18..22].copy_from_slice(&2u32.to_be_bytes());
    frame.extend_from_slice(&block);
    frame.extend_from_slice(b"ok");
    let frame = Bytes::from(frame);
    let message = codec.to_http2(&frame).unwrap();
    assert!(message.headers().contains_key("xp-bolt-header-block"));
    assert!(codec.from_http2(&message).unwrap() == frame[..]);
    let route = codec.route_headers(&frame).unwrap();
    assert_eq!(
        route.headers().count(),
        3,
        "null entries are not routing headers"
    );
}

#[test]
fn http2_mapping_uses_interface_addressing_and_escapes_keys() {
    let codec = BoltCodec::new();
    let frame = codec
        .encode(
            &BoltHeader::request(42, 3000),
            b"com.alipay.sofa.rpc.core.request.SofaRequest",
            &[
                (b"service", b"com.example.UserService:1.0"),
                (b"sofa_head_method_name", b"getUser"),
                (b"rpc_trace_context.sofaTraceId", b"0a1b"),
                (b"x-user", "张三".as_bytes()),
                (b"xp-status", b"spoof"),
                (b"content-length", b"1"),
            ],
            Bytes::from_static(b"args"),
        )
        .unwrap()
        .to_bytes();
    let xprotocol_core::Http2Message::Request(request) = codec.to_http2(&frame).unwrap() else {
        panic!("a request")
    };
    assert_eq!(
        request.uri().authority().unwrap().as_str(),
        "com.example.UserService"
    );
    assert_eq!(request.uri().path(), "/com.example.UserService/getUser");
    let h = request.headers();
    assert_eq!(h["xp-request-id"], "42");
    assert_eq!(h["xp-interface"], "com.example.UserService");
    assert_eq!(h["xp-method"], "getUser");
    assert_eq!(h["service"], "com.example.UserService:1.0");
    assert_eq!(h["rpc_trace_context.sofa%54race%49d"], "0a1b");
    assert_eq!(h["x-user"], "%e5%bc%a0%e4%b8%89");
    assert_eq!(h["%78p-status"], "spoof");
    assert_eq!(h["%63ontent-length"], "1");
    assert!(!h.contains_key("xp-status"), "a request carries no status");
    let back = codec
        .from_http2(&xprotocol_core::Http2Message::Request(request))
        .unwrap();
    assert!(back == frame[..]);
}

#[test]
fn an_interface_that_is_no_host_name_keeps_the_protocol_as_authority() {
    let codec = BoltCodec::new();
    let frame = codec
        .encode(
            &BoltHeader::request(7, 3000),
            b"com.alipay.sofa.rpc.core.request.SofaRequest",
            &[
                (b"service", b"com.example.Outer$Inner:1.0"),
                (b"sofa_head_method_name", b"get"),
            ],
            Bytes::from_static(b"args"),
        )
        .unwrap()
        .to_bytes();
    let xprotocol_core::Http2Message::Request(request) = codec.to_http2(&frame).unwrap() else {
        panic!("a request")
    };
    assert_eq!(request.uri().authority().unwrap().as_str(), "bolt");
    assert_eq!(request.uri().path(), "/com.example.Outer%24Inner/get");
    assert_eq!(request.headers()["xp-interface"], "com.example.Outer$Inner");
    let back = codec
        .from_http2(&xprotocol_core::Http2Message::Request(request))
        .unwrap();
    assert!(back == frame[..]);
}

#[test]
fn responses_carry_native_and_http_status() {
    let codec = BoltCodec::new();
    for (native, http) in [
        (0u16, 200u16),
        (4, 503),
        (7, 504),
        (0x10, 502),
        (6, 404),
        (2, 500),
    ] {
        let frame = codec
            .encode(
                &BoltHeader::response(3, native),
                b"",
                &[],
                Bytes::from_static(b"x"),
            )
            .unwrap()
            .to_bytes();
        let xprotocol_core::Http2Message::Response(response) = codec.to_http2(&frame).unwrap()
        else {
            panic!("a response")
        };
        assert_eq!(response.status().as_u16(), http);
        assert_eq!(response.headers()["xp-status"], native.to_string().as_str());
    }
}

#[test]
fn from_http2_names_the_bad_header() {
    let codec = BoltCodec::new();
    let message = codec
        .to_http2(&Bytes::from_static(&testdata::REQUEST_151))
        .unwrap();
    for (header, value) in [
        ("xp-bolt-proto", "9"),
        ("xp-bolt-type", "7"),
        ("xp-request-id", "4294967296"),
        ("xp-protocol", "dubbo"),
    ] {
        let mut m = message.clone();
        m.headers_mut().insert(header, value.parse().unwrap());
        let err = codec.from_http2(&m).unwrap_err();
        assert_ne!(err.to_string(), "", "{header}");
    }
    let mut m = message.clone();
    m.headers_mut().remove("xp-bolt-timeout");
    let err = codec.from_http2(&m).unwrap_err();
    assert_eq!(
        err,
        Error::Http2 {
            protocol: "bolt",
            header: "xp-bolt-timeout",
            reason: "missing"
        }
    );
}
