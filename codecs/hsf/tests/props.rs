//! Property tests: requests built from arbitrary fields in the observed layout
//! split, route and transcode back to exactly those fields.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use xprotocol_core::testing::Conformance;
use xprotocol_core::{Framing, Multiplexing, Routing, Split, Transcoding};
use xprotocol_hessian2::Writer;
use xprotocol_hsf::HsfCodec;

#[derive(Debug, Clone)]
struct Request {
    id: u64,
    timeout: u32,
    interface: String,
    version: String,
    method: String,
    args: Vec<(String, Vec<u8>)>,
    props: Vec<(String, String)>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<u64>(),
        any::<u32>(),
        "[a-z]{1,6}(\\.[A-Z][a-z]{1,6}){1,3}",
        "[0-9]\\.[0-9](\\.daily)?",
        "[a-z][a-zA-Z]{0,8}",
        proptest::collection::vec(
            (
                "[a-z.]{1,12}",
                proptest::collection::vec(any::<u8>(), 0..12),
            ),
            0..5,
        ),
        proptest::collection::btree_map("[A-Za-z_-]{1,10}", ".{0,12}", 0..5),
    )
        .prop_map(
            |(id, timeout, interface, version, method, args, props)| Request {
                id,
                timeout,
                interface,
                version,
                method,
                args,
                props: props.into_iter().collect(),
            },
        )
}

fn encode(r: &Request) -> Bytes {
    let service = format!("{}:{}", r.interface, r.version);
    let mut props = Writer::new();
    if !r.props.is_empty() {
        props.map_untyped();
        for (k, v) in &r.props {
            props.string(k).string(v);
        }
        props.map_end();
    }
    let mut f = BytesMut::new();
    f.put_slice(&[0x0e, 1, 0, 4, 0, 0, 3]);
    f.put_u64(r.id);
    f.put_u32(r.timeout);
    f.put_u32(service.len() as u32);
    f.put_u32(r.method.len() as u32);
    f.put_u32(r.args.len() as u32);
    r.args.iter().for_each(|(t, _)| f.put_u32(t.len() as u32));
    r.args.iter().for_each(|(_, a)| f.put_u32(a.len() as u32));
    f.put_u32(props.len() as u32);
    f.put_slice(service.as_bytes());
    f.put_slice(r.method.as_bytes());
    r.args.iter().for_each(|(t, _)| f.put_slice(t.as_bytes()));
    r.args.iter().for_each(|(_, a)| f.put_slice(a));
    f.put_slice(props.as_bytes());
    f.freeze()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn build_split_route_round_trip(r in request()) {
        let codec = HsfCodec::new();
        let frame = encode(&r);
        prop_assert_eq!(codec.split_frame(&frame), Ok(Split::Complete(frame.len())));
        let head = codec.frame_head(&frame).unwrap();
        prop_assert_eq!(head.request_id, r.id);
        prop_assert_eq!(head.timeout.map(|t| t.as_millis() as u32), (r.timeout > 0).then_some(r.timeout));
        let route = codec.route_headers(&frame).unwrap();
        prop_assert_eq!(route.interface(), Some(r.interface.as_str()));
        prop_assert_eq!(route.version(), Some(r.version.as_str()));
        prop_assert_eq!(route.method(), Some(r.method.as_str()));
        let got: Vec<(String, String)> = route
            .headers()
            .map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        prop_assert_eq!(&got, &r.props);
        prop_assert!(codec.from_http2(&codec.to_http2(&frame).unwrap()).unwrap() == frame[..]);
        let kit = Conformance::new(&codec);
        kit.check_chunked_feeding(&frame);
        kit.check_id_rewrite(&frame);
        kit.check_mutation(&frame);
    }
}
