//! Property tests: frames built from arbitrary fields split, decode and
//! transcode back to exactly those fields.

use bytes::Bytes;
use proptest::prelude::*;
use xprotocol_bolt::{BoltCodec, BoltHeader};
use xprotocol_core::testing::Conformance;
use xprotocol_core::{FrameKind, Framing, Multiplexing, Routing, Split, Transcoding};

fn header_strategy() -> impl Strategy<Value = BoltHeader> {
    (
        any::<bool>(),
        prop_oneof![Just(0u8), Just(1), Just(2)],
        prop_oneof![Just(0u16), Just(1), Just(2), Just(100)],
        any::<u32>(),
        any::<u8>(),
        any::<i32>(),
        any::<u16>(),
        (1u8..=2, any::<u8>()),
        any::<u8>(),
    )
        .prop_map(
            |(v2, ty, cmd, id, codec, timeout, status, (ver1, switch), ver2)| {
                let base = if ty == 0 {
                    BoltHeader::response(id, status)
                } else {
                    BoltHeader::request(id, timeout)
                };
                let header = BoltHeader {
                    command_type: ty,
                    cmd_code: cmd,
                    codec,
                    ver2,
                    ..base
                };
                if v2 { header.v2(ver1, switch) } else { header }
            },
        )
}

fn entries_strategy() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    proptest::collection::vec(
        (
            proptest::collection::vec(any::<u8>(), 1..12),
            proptest::collection::vec(any::<u8>(), 0..24),
        ),
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn build_split_decode_round_trip(
        header in header_strategy(),
        class in proptest::collection::vec(any::<u8>(), 0..64),
        entries in entries_strategy(),
        content in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let codec = BoltCodec::new();
        let pairs: Vec<(&[u8], &[u8])> = entries.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        let frame = codec.encode(&header, &class, &pairs, Bytes::from(content.clone())).unwrap().to_bytes();
        prop_assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(frame.len())));
        let parsed = BoltHeader::parse(&frame).unwrap().unwrap();
        prop_assert_eq!(parsed, BoltHeader {
            class_len: class.len() as u16,
            header_len: parsed.header_len,
            content_len: content.len() as u32,
            ..header
        });
        let head = codec.frame_head(&frame).unwrap();
        prop_assert_eq!(head.request_id, u64::from(header.request_id));
        prop_assert_eq!(head.status, header.status.map(u32::from));
        let route = codec.route_headers(&frame).unwrap();
        let got: Vec<(&[u8], &[u8])> = route.headers().collect();
        prop_assert_eq!(got, pairs);
        prop_assert!(frame.ends_with(&content) || header.has_crc());
        let message = codec.to_http2(&frame).unwrap();
        prop_assert!(codec.from_http2(&message).unwrap() == frame[..]);
        if head.kind == FrameKind::Request || head.kind == FrameKind::Response {
            Conformance::new(&codec).check_split(&frame);
            Conformance::new(&codec).check_id_rewrite(&frame);
        }
    }
}
