//! Conformance on the shared real-peer vectors (sofa-bolt-node 2.0.1): every
//! `bolt-*` vector decodes to exactly its facts and passes the whole
//! conformance kit (chunked feeding at every split point, id rewrite keeping
//! every other fact, heartbeat and local replies, header mutation,
//! byte-identical HTTP/2 round trip).

use bytes::Bytes;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::Transcoding;
use xprotocol_core::testing::{Conformance, vectors};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_bolt_vector_decodes_to_its_facts() {
    let all = vectors::load(MANIFEST_DIR, "bolt-");
    assert!(
        all.len() >= 27,
        "expected the 27+ bolt vectors, found {}",
        all.len()
    );
    vectors::check_facts(&BoltCodec::new(), &all);
}

#[test]
fn every_bolt_vector_passes_the_conformance_kit() {
    let codec = BoltCodec::new();
    let kit = Conformance::new(&codec);
    for v in vectors::load(MANIFEST_DIR, "bolt-") {
        kit.check_frame(&v.frame);
    }
}

#[test]
fn http2_body_shares_the_frame_content() {
    let codec = BoltCodec::new();
    for v in vectors::load(MANIFEST_DIR, "bolt-") {
        let frame = Bytes::from(v.frame.clone());
        let message = codec.to_http2(&frame).unwrap();
        let body = message.body();
        if body.is_empty() {
            continue;
        }
        let range = frame.as_ptr_range();
        assert!(range.contains(&body.as_ptr()), "{}: body was copied", v.id);
        let back = codec.from_http2(&message).unwrap();
        assert!(
            back.pieces().iter().any(|p| p.as_ptr() == body.as_ptr()),
            "{}: content copied on the way back",
            v.id
        );
    }
}

#[test]
fn arbitrary_bytes_never_panic_and_respect_limits() {
    let codec = BoltCodec::new();
    let seeds: Vec<Vec<u8>> = vectors::load(MANIFEST_DIR, "bolt-")
        .into_iter()
        .map(|v| v.frame)
        .collect();
    Conformance::new(&codec).check_arbitrary_inputs(&seeds, 4_000);
}
