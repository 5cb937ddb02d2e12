//! Conformance on the shared real-peer vectors (dubbo2.js, apache-dubbo-*):
//! every `dubbo-*` vector decodes to exactly its facts and passes the whole
//! conformance kit (chunked feeding at every split point, id rewrite keeping
//! every other fact, heartbeat and local replies, attachment edits,
//! byte-identical HTTP/2 round trip).

use xprotocol_core::testing::{Conformance, vectors};
use xprotocol_dubbo::DubboCodec;
use xprotocol_dubbo::testdata::{MOSN_D2, from_hex};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_dubbo_vector_decodes_to_its_facts() {
    let all = vectors::load(MANIFEST_DIR, "dubbo-");
    assert!(
        all.len() >= 16,
        "expected the 16+ dubbo vectors, found {}",
        all.len()
    );
    vectors::check_facts(&DubboCodec::new(), &all);
}

#[test]
fn every_dubbo_vector_passes_the_conformance_kit() {
    let codec = DubboCodec::new();
    let kit = Conformance::new(&codec);
    for v in vectors::load(MANIFEST_DIR, "dubbo-") {
        kit.check_frame(&v.frame);
    }
}

#[test]
fn arbitrary_bytes_never_panic_and_respect_limits() {
    let codec = DubboCodec::new();
    let mut seeds: Vec<Vec<u8>> = vectors::load(MANIFEST_DIR, "dubbo-")
        .into_iter()
        .map(|v| v.frame)
        .collect();
    seeds.push(from_hex(MOSN_D2));
    Conformance::new(&codec).check_arbitrary_inputs(&seeds, 4_000);
}
