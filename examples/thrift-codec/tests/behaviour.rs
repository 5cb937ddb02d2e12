//! Hand-built Thrift frames (strict and non-strict) through every layer: every
//! truncation point, every error path, and the conformance kit on every frame.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use xp::testing::Conformance;
use xp::{
    Codec, Error, ErrorAction, FactValue, FrameKind, Framing, HeaderEdit, Limits, LocalStatus,
    Multiplexing, Needed, Probe, Routing, Split, Transcoding,
};
use xprotocol_core as xp;
use xprotocol_example_thrift::transcoding::names;
use xprotocol_example_thrift::wire::{self, exception_types};
use xprotocol_example_thrift::{PROTOCOL, ThriftCodec};

fn codec() -> ThriftCodec {
    ThriftCodec::new()
}

fn b(v: &[u8]) -> Bytes {
    Bytes::copy_from_slice(v)
}

#[test]
fn every_catalog_frame_probes_splits_and_reads_its_head() {
    let codec = codec();
    for (what, frame) in catalog() {
        assert_eq!(codec.probe(&frame), Probe::Match, "{what}");
        assert_eq!(
            codec.split_frame(&frame),
            Ok(Split::Complete(frame.len())),
            "{what}"
        );
        let (_, ty, _, seqid, _) = read_message(&frame);
        let head = codec.frame_head(&frame).unwrap();
        let kind = match ty {
            CALL => FrameKind::Request,
            ONEWAY => FrameKind::OnewayRequest,
            _ => FrameKind::Response,
        };
        assert_eq!(head.kind, kind, "{what}");
        assert_eq!(head.request_id, u64::from(seqid as u32), "{what}");
        assert_eq!(head.timeout, None, "{what}");
        let status = matches!(ty, REPLY | EXCEPTION).then_some(u32::from(ty));
        assert_eq!(head.status, status, "{what}");
    }
}

#[test]
fn every_truncation_point_needs_more_and_never_mismatches() {
    let codec = codec();
    for (what, frame) in catalog() {
        for k in 0..frame.len() {
            let prefix = &frame[..k];
            assert_ne!(codec.probe(prefix), Probe::NoMatch, "{what}: probe {k}");
            match codec.split_frame(prefix) {
                Ok(Split::Incomplete(Needed::Exact(n))) => {
                    assert!(k >= 4, "{what}: exact count before the length at {k}");
                    assert_eq!(k + n, frame.len(), "{what}: prefix {k}");
                }
                Ok(Split::Incomplete(Needed::AtLeast(n))) => {
                    assert!(k < 4, "{what}: lower bound after the length at {k}");
                    assert_eq!(n, 14 - k, "{what}: prefix {k}");
                }
                other => panic!("{what}: prefix {k}: {other:?}"),
            }
            // A truncated frame is never a whole message for the other layers.
            let bytes = b(prefix);
            assert!(codec.frame_head(prefix).is_err(), "{what}: head of {k}");
            assert!(codec.route_headers(&bytes).is_err(), "{what}: route of {k}");
            assert!(codec.to_http2(&bytes).is_err(), "{what}: http2 of {k}");
            assert!(codec.facts(&bytes).is_err(), "{what}: facts of {k}");
            let mut dst = BytesMut::new();
            assert!(
                codec
                    .local_reply(prefix, LocalStatus::Timeout, "t", &mut dst)
                    .is_err()
                    && dst.is_empty(),
                "{what}: local reply of {k}"
            );
        }
        // The probe decides once the type byte is in: strict at offset 7, loose after the name.
        let (strict, ..) = read_message(&frame);
        let decided = if strict {
            8
        } else {
            9 + u32::from_be_bytes(frame[4..8].try_into().unwrap()) as usize
        };
        assert_eq!(
            codec.probe(&frame[..decided - 1]),
            Probe::NeedMore,
            "{what}"
        );
        assert_eq!(codec.probe(&frame[..decided]), Probe::Match, "{what}");
    }
}

#[test]
fn probe_rejects_other_protocols_early() {
    let codec = codec();
    // Bolt (0x01 …), Dubbo (0xda 0xbb), HSF (0x0e), HTTP/1 and HTTP/2 prefaces.
    for prefix in [
        &[0x01, 0x01, 0x00][..],
        &[0xda, 0xbb],
        &[0x0e, 0x01, 0x00],
        b"GET / HTTP/1.1\r\n",
        b"PRI * HTTP/2.0\r\n",
    ] {
        assert_eq!(codec.probe(prefix), Probe::NoMatch, "{prefix:02x?}");
    }
    // Length below the smallest message; strict word with a bad version, byte 6 or type.
    for prefix in [
        &[0, 0, 0, 9][..],
        &[0, 0, 0, 20, 0x80, 0x02],
        &[0, 0, 0, 20, 0x80, 0x01, 0x01],
        &[0, 0, 0, 20, 0x80, 0x01, 0x00, 0x05],
        &[0, 0, 0, 20, 0x80, 0x01, 0x00, 0x00],
        &[0, 0, 0, 20, 0x81],
        // Non-strict: a name longer than the frame, a bad type byte after the name.
        &[0, 0, 0, 20, 0, 0, 0, 11],
        &[0, 0, 0, 20, 0, 0, 0, 1, b'x', 9],
    ] {
        assert_eq!(codec.probe(prefix), Probe::NoMatch, "{prefix:02x?}");
    }
    assert_eq!(codec.probe(&[]), Probe::NeedMore);
    assert_eq!(codec.probe(&[0, 0]), Probe::NeedMore);
    // With a 64 KiB frame cap the first length byte already decides.
    let small = ThriftCodec::with_limits(Limits {
        max_frame_len: 64 * 1024,
        ..Limits::default()
    });
    assert_eq!(small.probe(&[0, 1]), Probe::NoMatch);
    assert_eq!(small.probe(&[0, 0]), Probe::NeedMore);
}

#[test]
fn framing_errors_close_the_connection() {
    let codec = codec();
    let cases: Vec<(Vec<u8>, Error)> = vec![
        (
            vec![0x01, 0, 0, 0],
            Error::FrameTooLarge {
                protocol: PROTOCOL,
                len: 0x0100_0004,
                limit: 16 << 20,
            },
        ),
        (
            vec![0x80, 0, 0, 0],
            Error::FrameTooLarge {
                protocol: PROTOCOL,
                len: 0x8000_0004,
                limit: 16 << 20,
            },
        ),
        (
            vec![0, 0, 0, 9, 0x80, 1, 0, 1, 0, 0, 0, 0, 0],
            Error::BadFrameHeader {
                protocol: PROTOCOL,
                field: "frame length",
                reason: "shorter than the smallest message (10 bytes)",
            },
        ),
        (
            vec![0, 0, 0, 20, 0x81],
            Error::BadMagic {
                protocol: PROTOCOL,
                offset: 4,
                found: 0x81,
            },
        ),
        (
            vec![0, 0, 0, 20, 0x80, 0x02],
            Error::BadMagic {
                protocol: PROTOCOL,
                offset: 5,
                found: 0x02,
            },
        ),
    ];
    for (buf, expect) in cases {
        let err = codec.split_frame(&buf).unwrap_err();
        assert_eq!(err, expect, "{buf:02x?}");
        assert_eq!(err.action(), ErrorAction::CloseConnection);
    }
    // max_frame_len counts the 4 length bytes.
    let frame = strict(CALL, "ping", 1, &[T_STOP]);
    let exact = ThriftCodec::with_limits(Limits {
        max_frame_len: frame.len(),
        ..Limits::default()
    });
    assert_eq!(exact.split_frame(&frame), Ok(Split::Complete(frame.len())));
    let below = ThriftCodec::with_limits(Limits {
        max_frame_len: frame.len() - 1,
        ..Limits::default()
    });
    assert!(matches!(
        below.split_frame(&frame),
        Err(Error::FrameTooLarge { .. })
    ));
    assert_eq!(below.probe(&frame), Probe::NoMatch);
    assert!(matches!(
        below.frame_head(&frame),
        Err(Error::FrameTooLarge { .. })
    ));
}

#[test]
fn malformed_messages_fail_only_the_stream() {
    let codec = codec();
    let malformed = |field: &'static str| move |e: &Error| matches!(e, Error::Malformed { field: f, .. } if *f == field);
    let mut bad_byte6 = strict(CALL, "echo", 1, &[T_STOP]);
    bad_byte6[6] = 1;
    let mut bad_type = strict(CALL, "echo", 1, &[T_STOP]);
    bad_type[7] = 5;
    let mut loose_bad_type = loose(CALL, "echo", 1, &[T_STOP]);
    loose_bad_type[12] = 0;
    let mut negative_name = strict(CALL, "echo", 1, &[T_STOP]);
    negative_name[8..12].copy_from_slice(&(-1i32).to_be_bytes());
    let mut long_name = strict(CALL, "echo", 1, &[T_STOP]);
    long_name[8..12].copy_from_slice(&100i32.to_be_bytes());
    let mut loose_long_name = loose(CALL, "echo", 1, &[T_STOP]);
    loose_long_name[4..8].copy_from_slice(&100i32.to_be_bytes());
    let mut short_length = strict(CALL, "echo", 1, &[T_STOP]);
    short_length[3] -= 1;
    type Expect = Box<dyn Fn(&Error) -> bool>;
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "no struct",
            strict(CALL, "echo", 1, &[]),
            Box::new(malformed("struct")),
        ),
        (
            "loose, no struct",
            loose(CALL, "echo", 1, &[]),
            Box::new(malformed("struct")),
        ),
        ("byte 6", bad_byte6, Box::new(malformed("version"))),
        ("type 5", bad_type, Box::new(malformed("message type"))),
        (
            "loose type 0",
            loose_bad_type,
            Box::new(malformed("message type")),
        ),
        (
            "negative name length",
            negative_name,
            Box::new(malformed("name length")),
        ),
        ("name past the end", long_name, Box::new(malformed("name"))),
        (
            "loose name past the end",
            loose_long_name,
            Box::new(malformed("name")),
        ),
        (
            "length disagrees",
            short_length,
            Box::new(malformed("frame length")),
        ),
        (
            "three bytes",
            vec![0, 0, 0],
            Box::new(malformed("frame length")),
        ),
        (
            "strict header cut",
            framed(&[0x80, 1, 0, 1, 0, 0, 0, 0, 0, 0]),
            Box::new(malformed("message header")),
        ),
    ];
    for (what, frame, ok) in &cases {
        let err = codec.frame_head(frame).unwrap_err();
        assert!(ok(&err), "{what}: {err:?}");
        assert_eq!(err.action(), ErrorAction::FailStream, "{what}");
        let bytes = b(frame);
        assert!(codec.route_headers(&bytes).is_err(), "{what}");
        assert!(codec.to_http2(&bytes).is_err(), "{what}");
        assert!(codec.facts(&bytes).is_err(), "{what}");
        let mut copy = frame.clone();
        assert!(codec.set_request_id(&mut copy, 1).is_err(), "{what}");
        assert_eq!(&copy, frame, "{what}: refused rewrite touched the frame");
    }
    // A name above max_header_bytes is a limit error.
    let tight = ThriftCodec::with_limits(Limits {
        max_header_bytes: 3,
        ..Limits::default()
    });
    let err = tight
        .frame_head(&strict(CALL, "echo", 1, &[T_STOP]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                field: "message name",
                value: 4,
                max: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        tight.probe(&loose(CALL, "echo", 1, &[T_STOP])),
        Probe::NoMatch
    );
}

#[test]
fn request_ids_are_rewritten_in_place_after_the_name() {
    let codec = codec();
    assert_eq!(codec.id_width(), xp::IdWidth::U32);
    for (what, frame) in catalog() {
        let (strict, _, name, _, _) = read_message(&frame);
        let at = if strict { 12 } else { 9 } + name.len();
        for id in [
            0u64,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xdead_beef,
            u64::from(u32::MAX),
        ] {
            let mut copy = frame.clone();
            codec.set_request_id(&mut copy, id).unwrap();
            assert_eq!(&copy[at..at + 4], &(id as u32).to_be_bytes(), "{what}");
            assert_eq!(&copy[..at], &frame[..at], "{what}");
            assert_eq!(&copy[at + 4..], &frame[at + 4..], "{what}");
            assert_eq!(codec.request_id(&copy), Ok(id), "{what}");
        }
        let mut copy = frame.clone();
        assert_eq!(
            codec.set_request_id(&mut copy, 1 << 32),
            Err(Error::IdOutOfRange {
                protocol: PROTOCOL,
                id: 1 << 32,
                bits: 32
            })
        );
        assert_eq!(copy, frame);
        let shared = xp::rewrite_request_id(&codec, b(&frame), 99).unwrap();
        assert_eq!(codec.request_id(&shared), Ok(99));
    }
}

#[test]
fn heartbeats_and_goaway_are_unsupported() {
    let codec = codec();
    let frame = strict(CALL, "echo", 1, &[T_STOP]);
    let mut dst = BytesMut::new();
    assert!(
        codec
            .heartbeat_reply(&frame, &mut dst)
            .unwrap_err()
            .is_unsupported()
    );
    assert!(
        codec
            .heartbeat_request(1, &mut dst)
            .unwrap_err()
            .is_unsupported()
    );
    assert!(codec.goaway(1, &mut dst).unwrap_err().is_unsupported());
    assert!(dst.is_empty());
}

#[test]
fn routing_view_from_plain_and_multiplexed_names() {
    let codec = codec();
    let args = Struct::new().string(1, "x").end();
    for frame in [
        strict(CALL, "echo", 1, &args),
        loose(ONEWAY, "echo", 1, &args),
    ] {
        let route = codec.route_headers(&b(&frame)).unwrap();
        assert_eq!(route.method(), Some("echo"));
        assert_eq!((route.service(), route.interface()), (None, None));
        assert_eq!((route.version(), route.group()), (None, None));
        assert_eq!(route.header_count(), 0);
    }
    for frame in [
        strict(CALL, "Echo:echo", 1, &args),
        loose(CALL, "Echo:echo", 1, &args),
    ] {
        let route = codec.route_headers(&b(&frame)).unwrap();
        assert_eq!(route.method(), Some("echo"));
        assert_eq!(route.service(), Some("Echo"));
        assert_eq!(route.interface(), Some("Echo"));
        // Zero-copy: the texts are spans of the frame.
        assert!(matches!(route.method, Some(xp::Text::Span { .. })));
    }
    // Only the first ':' separates; an empty service or method stays as it is.
    let route = codec
        .route_headers(&b(&strict(CALL, "a:b:c", 1, &args)))
        .unwrap();
    assert_eq!((route.service(), route.method()), (Some("a"), Some("b:c")));
    let route = codec
        .route_headers(&b(&strict(CALL, ":m", 1, &args)))
        .unwrap();
    assert_eq!((route.service(), route.method()), (Some(""), Some("m")));
    // Responses have no routing fields.
    let route = codec
        .route_headers(&b(&strict(REPLY, "Echo:echo", 1, &args)))
        .unwrap();
    assert_eq!((route.method(), route.service()), (None, None));
}

#[test]
fn header_edits_are_unsupported() {
    let codec = codec();
    for (what, frame) in catalog() {
        let frame = b(&frame);
        for edits in [
            &[HeaderEdit::Set("k", "v")][..],
            &[HeaderEdit::Remove("k")],
            &[],
        ] {
            let err = codec.mutate_headers(&frame, edits).unwrap_err();
            assert!(err.is_unsupported(), "{what}: {err:?}");
        }
    }
    let err = codec
        .mutate_headers(&b(&[0, 0, 0, 1, 0]), &[HeaderEdit::Set("k", "v")])
        .unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }), "{err:?}");
}

#[test]
fn local_replies_are_application_exceptions() {
    let codec = codec();
    let expected = [
        (LocalStatus::NoRoute, exception_types::UNKNOWN_METHOD),
        (
            LocalStatus::NoHealthyUpstream,
            exception_types::INTERNAL_ERROR,
        ),
        (
            LocalStatus::UpstreamConnectFailure,
            exception_types::INTERNAL_ERROR,
        ),
        (LocalStatus::Timeout, exception_types::UNKNOWN),
        (LocalStatus::Overloaded, exception_types::INTERNAL_ERROR),
        (LocalStatus::CodecError, exception_types::PROTOCOL_ERROR),
        (LocalStatus::PermissionDenied, exception_types::UNKNOWN),
        (LocalStatus::LimitExceeded, exception_types::UNKNOWN),
        (LocalStatus::InternalError, exception_types::INTERNAL_ERROR),
    ];
    assert_eq!(expected.len(), LocalStatus::ALL.len());
    let args = Struct::new().string(1, "x").end();
    let requests = [
        (strict(CALL, "echo", 0x1234, &args), true, "echo"),
        (strict(CALL, "Echo:echo", -7, &args), true, "echo"),
        (loose(CALL, "add", 5, &args), false, "add"),
        (loose(CALL, "Calc:add", i32::MAX, &args), false, "add"),
    ];
    for (request, is_strict, method) in requests {
        let (_, _, _, seqid, _) = read_message(&request);
        for (status, ty) in expected {
            assert_eq!(wire::exception_type(status), ty);
            let mut dst = BytesMut::from(&b"prefix"[..]);
            codec
                .local_reply(&request, status, "no route: 拒绝 ✓", &mut dst)
                .unwrap();
            assert_eq!(&dst[..6], b"prefix", "appends to dst");
            let reply = &dst[6..];
            assert_eq!(codec.split_frame(reply), Ok(Split::Complete(reply.len())));
            let (s, mtype, name, rseqid, body) = read_message(reply);
            assert_eq!(
                (s, mtype, name.as_str(), rseqid),
                (is_strict, EXCEPTION, method, seqid)
            );
            let (fields, rest) = read_struct(&body);
            assert!(rest.is_empty());
            assert_eq!(
                fields,
                [
                    (1, Field::Str("no route: 拒绝 ✓".into())),
                    (2, Field::I32(ty))
                ]
            );
            let head = codec.frame_head(reply).unwrap();
            assert_eq!(
                (head.kind, head.request_id, head.status),
                (FrameKind::Response, u64::from(seqid as u32), Some(3))
            );
            let facts = codec.facts(&b(reply)).unwrap();
            assert_eq!(
                facts.get("exception_type"),
                Some(&FactValue::Int(i64::from(ty)))
            );
        }
    }
    // Only CALLs are answered.
    for frame in [
        strict(ONEWAY, "notify", 1, &args),
        strict(REPLY, "echo", 1, &args),
        loose(EXCEPTION, "echo", 1, &args),
    ] {
        let mut dst = BytesMut::new();
        let err = codec
            .local_reply(&frame, LocalStatus::Timeout, "t", &mut dst)
            .unwrap_err();
        assert!(matches!(err, Error::WrongFrameKind { .. }), "{err:?}");
        assert!(dst.is_empty());
    }
    // The message is cut to max_header_bytes on a character boundary.
    let tight = ThriftCodec::with_limits(Limits {
        max_header_bytes: 8,
        ..Limits::default()
    });
    let mut dst = BytesMut::new();
    tight
        .local_reply(
            &strict(CALL, "echo", 1, &args),
            LocalStatus::Timeout,
            "ab拒绝cd",
            &mut dst,
        )
        .unwrap();
    let (_, _, _, _, body) = read_message(&dst);
    assert_eq!(read_struct(&body).0[0], (1, Field::Str("ab拒绝".into())));
    // A reply that would exceed max_frame_len is refused, dst untouched.
    let request = strict(CALL, "echo", 1, &[T_STOP]);
    let small = ThriftCodec::with_limits(Limits {
        max_frame_len: request.len() + 10,
        ..Limits::default()
    });
    let mut dst = BytesMut::new();
    let err = small
        .local_reply(&request, LocalStatus::Timeout, "a long message", &mut dst)
        .unwrap_err();
    assert!(matches!(err, Error::FrameTooLarge { .. }), "{err:?}");
    assert!(dst.is_empty());
}

#[test]
fn http2_round_trip_is_lossless() {
    let codec = codec();
    for (what, frame) in catalog() {
        let bytes = b(&frame);
        let message = codec.to_http2(&bytes).unwrap();
        let (is_strict, ty, name, seqid, body) = read_message(&frame);
        let h = message.headers();
        let get = |n: &str| h.get(n).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(get("xp-protocol").as_deref(), Some("thrift"), "{what}");
        assert_eq!(
            get("xp-request-id"),
            Some((seqid as u32).to_string()),
            "{what}"
        );
        assert_eq!(
            get(names::STRICT),
            Some(u8::from(is_strict).to_string()),
            "{what}"
        );
        assert_eq!(get(names::MESSAGE_TYPE), Some(ty.to_string()), "{what}");
        assert_eq!(
            xp::HeaderEscape::decode_value(h[names::NAME].as_bytes()).unwrap(),
            name.as_bytes(),
            "{what}"
        );
        assert_eq!(&message.body()[..], &body[..], "{what}");
        match &message {
            xp::Http2Message::Request(r) => {
                assert!(matches!(ty, CALL | ONEWAY), "{what}");
                if name == "Echo:echo" {
                    assert_eq!(r.uri().path(), "/Echo/echo");
                    assert_eq!(get("xp-method").as_deref(), Some("echo"));
                }
            }
            xp::Http2Message::Response(r) => {
                assert_eq!(get("xp-status"), Some(ty.to_string()), "{what}");
                let code = if ty == REPLY { 200 } else { 500 };
                assert_eq!(r.status().as_u16(), code, "{what}");
            }
        }
        let back = codec.from_http2(&message).unwrap();
        assert!(back == frame[..], "{what}: round trip");
        // The body is shared, not copied.
        assert_eq!(back.pieces().len(), 2, "{what}");
        assert_eq!(
            back.pieces()[1].as_ptr(),
            bytes[frame.len() - body.len()..].as_ptr()
        );
    }
}

#[test]
fn from_http2_refuses_inconsistent_messages() {
    let codec = codec();
    let frame = b(&strict(
        REPLY,
        "echo",
        1,
        &Struct::new().string(0, "x").end(),
    ));
    let message = codec.to_http2(&frame).unwrap();
    let edit = |name: &'static str, value: Option<&'static str>| {
        let mut m = message.clone();
        match value {
            Some(v) => m.headers_mut().insert(name, v.parse().unwrap()),
            None => m.headers_mut().remove(name),
        };
        codec.from_http2(&m).unwrap_err()
    };
    let http2 =
        |e: &Error, header: &str| matches!(e, Error::Http2 { header: h, .. } if *h == header);
    for (name, value, header) in [
        (names::STRICT, Some("2"), names::STRICT),
        (names::STRICT, None, names::STRICT),
        (names::MESSAGE_TYPE, Some("5"), names::MESSAGE_TYPE),
        (names::MESSAGE_TYPE, Some("1"), "xp-kind"),
        (names::NAME, None, names::NAME),
        (names::NAME, Some("%zz"), names::NAME),
        ("xp-request-id", Some("4294967296"), "xp-request-id"),
        ("xp-request-id", Some("-1"), "xp-request-id"),
        ("xp-protocol", Some("bolt"), "xp-protocol"),
    ] {
        let err = edit(name, value);
        assert!(http2(&err, header), "{name}={value:?}: {err:?}");
    }
    let mut empty = message.clone();
    if let xp::Http2Message::Response(r) = &mut empty {
        *r.body_mut() = Bytes::new();
    }
    assert!(http2(&codec.from_http2(&empty).unwrap_err(), "body"));
    let small = ThriftCodec::with_limits(Limits {
        max_frame_len: frame.len() - 1,
        ..Limits::default()
    });
    assert!(matches!(
        small.from_http2(&message),
        Err(Error::FrameTooLarge { .. })
    ));
    let tight = ThriftCodec::with_limits(Limits {
        max_header_bytes: 3,
        ..Limits::default()
    });
    assert!(matches!(
        tight.from_http2(&message),
        Err(Error::LimitExceeded { .. })
    ));
}

#[test]
fn facts_name_every_field() {
    let codec = codec();
    let frame = b(&loose(
        CALL,
        "Echo:echo",
        0x7fff_ffff,
        &Struct::new().string(1, "x").end(),
    ));
    let facts = codec.facts(&frame).unwrap();
    let expect = [
        ("protocol", FactValue::Str("thrift".into())),
        ("kind", FactValue::Str("request".into())),
        ("oneway", FactValue::Bool(false)),
        ("request_id", FactValue::UInt(0x7fff_ffff)),
        ("method", FactValue::Str("echo".into())),
        ("service", FactValue::Str("Echo".into())),
        ("message_type", FactValue::Str("call".into())),
        ("name", FactValue::Str("Echo:echo".into())),
        ("strict", FactValue::Bool(false)),
        ("frame_length", FactValue::Int(frame.len() as i64)),
        ("body_length", FactValue::Int(9)),
    ];
    let got: Vec<_> = facts.iter().map(|(k, v)| (k, v.clone())).collect();
    assert_eq!(got, expect);
    let oneway = codec
        .facts(&b(&strict(ONEWAY, "notify", 3, &[T_STOP])))
        .unwrap();
    assert_eq!(oneway.get("oneway"), Some(&FactValue::Bool(true)));
    assert_eq!(
        oneway.get("kind"),
        Some(&FactValue::Str("oneway_request".into()))
    );
    assert_eq!(oneway.get("service"), Some(&FactValue::Null));
    let exc = Struct::new().string(1, "Unknown function nope").end();
    let facts = codec
        .facts(&b(&strict(EXCEPTION, "nope", 2, &exc)))
        .unwrap();
    assert_eq!(
        facts.get("exception_message"),
        Some(&FactValue::Str("Unknown function nope".into()))
    );
    assert_eq!(facts.get("exception_type"), Some(&FactValue::Null));
    // A struct that is not a plain TApplicationException gives no exception facts.
    let facts = codec
        .facts(&b(&strict(EXCEPTION, "nope", 2, &[12, 0, 1, 0, 0])))
        .unwrap();
    assert_eq!(facts.get("exception_message"), None);
}

#[test]
fn codec_reports_all_four_layers() {
    let codec: std::sync::Arc<dyn Codec> = std::sync::Arc::new(codec());
    assert_eq!(codec.name(), "thrift");
    assert_eq!(
        codec.capabilities().names().collect::<Vec<_>>(),
        ["framing", "multiplexing", "routing", "transcoding"]
    );
    let mut registry = xp::Registry::new();
    registry.register(codec);
    let frame = strict(CALL, "echo", 1, &[T_STOP]);
    assert!(matches!(registry.detect(&frame), xp::Detection::Matched(c) if c.name() == "thrift"));
    assert!(matches!(
        registry.detect(&frame[..6]),
        xp::Detection::NeedMore
    ));
    assert!(matches!(registry.detect(b"GET /"), xp::Detection::Unknown));
}

#[test]
fn conformance_kit_on_every_frame() {
    let codec = codec();
    for (_, frame) in catalog() {
        conformance(&codec, &frame);
        // Local replies are frames too.
        if codec.frame_head(&frame).unwrap().kind == FrameKind::Request {
            let mut dst = BytesMut::new();
            codec
                .local_reply(&frame, LocalStatus::NoRoute, "x", &mut dst)
                .unwrap();
            Conformance::new(&codec).check_frame(&dst);
        }
    }
    let seeds: Vec<Vec<u8>> = catalog().into_iter().map(|(_, f)| f).collect();
    Conformance::new(&codec).check_arbitrary_inputs(&seeds, 2_000);
    let small = Limits {
        max_frame_len: 64,
        max_header_bytes: 8,
        ..Limits::default()
    };
    let tight = ThriftCodec::with_limits(small);
    Conformance::with_limits(&tight, small).check_arbitrary_inputs(&seeds, 1_000);
}
