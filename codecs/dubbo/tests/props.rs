//! Property tests: requests built from arbitrary fields split, route and
//! transcode back to exactly those fields; attachment edits keep the rest.

use bytes::Bytes;
use proptest::prelude::*;
use xprotocol_core::testing::Conformance;
use xprotocol_core::{Framing, HeaderEdit, Multiplexing, Routing, Split, Transcoding};
use xprotocol_dubbo::{DubboCodec, DubboHeader};
use xprotocol_hessian2::Writer;

#[derive(Debug, Clone)]
struct Request {
    id: u64,
    two_way: bool,
    path: String,
    version: String,
    method: String,
    args: Vec<i64>,
    attachments: Vec<(String, String)>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<u64>(),
        any::<bool>(),
        "[a-z]{1,8}(\\.[A-Z][a-z]{1,8}){1,3}",
        "[0-9]\\.[0-9]\\.[0-9]|",
        "[a-z][a-zA-Z]{0,10}",
        proptest::collection::vec(any::<i64>(), 0..4),
        proptest::collection::btree_map("[a-z][a-z.-]{0,10}", ".{0,16}", 0..6),
    )
        .prop_map(
            |(id, two_way, path, version, method, args, attachments)| Request {
                id,
                two_way,
                path,
                version,
                method,
                args,
                attachments: attachments.into_iter().collect(),
            },
        )
}

fn encode(r: &Request) -> Bytes {
    let mut body = Writer::new();
    body.string("2.0.2")
        .string(&r.path)
        .string(&r.version)
        .string(&r.method)
        .string(&"J".repeat(r.args.len()));
    for a in &r.args {
        body.long(*a);
    }
    body.map_untyped();
    for (k, v) in &r.attachments {
        body.string(k).string(v);
    }
    body.map_end();
    let body = body.into_bytes();
    let flag = 0x80 | if r.two_way { 0x40 } else { 0 } | 2;
    let mut frame = bytes::BytesMut::new();
    DubboHeader {
        flag,
        status: 0,
        request_id: r.id,
        body_len: body.len() as u32,
    }
    .write(&mut frame);
    frame.extend_from_slice(&body);
    frame.freeze()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn build_split_route_round_trip(r in request()) {
        let codec = DubboCodec::new();
        let frame = encode(&r);
        prop_assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(frame.len())));
        prop_assert_eq!(codec.request_id(&frame), Ok(r.id));
        let route = codec.route_headers(&frame).unwrap();
        prop_assert_eq!(route.method(), Some(r.method.as_str()));
        prop_assert_eq!(route.interface(), Some(r.path.as_str()));
        prop_assert_eq!(route.version(), (!r.version.is_empty()).then_some(r.version.as_str()));
        let got: Vec<(String, String)> = route
            .headers()
            .map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        prop_assert_eq!(&got, &r.attachments);
        let message = codec.to_http2(&frame).unwrap();
        prop_assert!(codec.from_http2(&message).unwrap() == frame[..]);
        let kit = Conformance::new(&codec);
        kit.check_chunked_feeding(&frame);
        kit.check_mutation(&frame);
    }

    #[test]
    fn edits_touch_only_the_attachments(r in request(), key in "[a-z]{1,6}", value in ".{0,12}") {
        let codec = DubboCodec::new();
        let frame = encode(&r);
        let edited = codec.mutate_headers(&frame, &[HeaderEdit::Set(&key, &value)]).unwrap().to_bytes();
        prop_assert_eq!(codec.split_frame(&edited), Ok(Split::Complete(edited.len())));
        let route = codec.route_headers(&edited).unwrap();
        prop_assert_eq!(route.header(&key), Some(value.as_str()));
        prop_assert_eq!(route.method(), Some(r.method.as_str()));
        let mut expected = r.clone();
        match expected.attachments.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => expected.attachments.push((key.clone(), value.clone())),
        }
        expected.id = r.id;
        prop_assert_eq!(&edited[..], &encode(&expected)[..], "same bytes as a frame built with the edit");
    }
}
