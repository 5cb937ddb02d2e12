//! Conformance on the shared real-peer vectors (dubbo2.js, apache-dubbo-*):
//! every `dubbo-*` vector decodes to exactly its facts and passes the
//! conformance kit.

use bytes::Bytes;
use xprotocol_core::testing::{Conformance, vectors};
use xprotocol_core::{Codec, Multiplexing};
use xprotocol_dubbo::DubboCodec;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_dubbo_vector_decodes_to_its_facts() {
    let codec = DubboCodec::new();
    let all = vectors::load(MANIFEST_DIR, "dubbo-");
    assert!(
        all.len() >= 16,
        "expected the 16+ dubbo vectors, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for v in &all {
        let facts = codec.facts(&Bytes::from(v.frame.clone())).expect(&v.id);
        for (key, want, got) in vectors::mismatches(&facts, &v.expect, &[]) {
            failures.push(format!("{}: {key}: expected {want}, got {got}", v.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
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
fn rewrite_keeps_every_other_fact_and_the_length() {
    let codec = DubboCodec::new();
    for v in vectors::load(MANIFEST_DIR, "dubbo-") {
        let before = codec.facts(&Bytes::from(v.frame.clone())).unwrap();
        let mut frame = v.frame.clone();
        codec.set_request_id(&mut frame, u64::MAX - 3).unwrap();
        assert_eq!(frame.len(), v.frame.len(), "{}", v.id);
        let mut after = codec.facts(&Bytes::from(frame)).unwrap();
        assert_eq!(
            after.get("request_id"),
            Some(&xprotocol_core::FactValue::UInt(u64::MAX - 3)),
            "{}",
            v.id
        );
        after.push("request_id", before.get("request_id").cloned().unwrap());
        assert_eq!(after, before, "{}", v.id);
    }
}

#[test]
fn arbitrary_bytes_never_panic_and_respect_limits() {
    let codec = DubboCodec::new();
    let mut seeds: Vec<Vec<u8>> = vectors::load(MANIFEST_DIR, "dubbo-")
        .into_iter()
        .map(|v| v.frame)
        .collect();
    seeds.push(xprotocol_dubbo::testdata::from_hex(
        xprotocol_dubbo::testdata::MOSN_D2,
    ));
    Conformance::new(&codec).check_arbitrary_inputs(&seeds, 4_000);
}
