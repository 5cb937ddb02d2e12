//! Layer 1 on arbitrary bytes: probe and split never panic; a complete frame
//! fits the input and the default `max_frame_len`; an incomplete one asks for
//! at least one byte. Runs the whole conformance input check as well.
#![no_main]

use std::hint::black_box;

use libfuzzer_sys::fuzz_target;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::testing::Conformance;
use xprotocol_core::{Framing, Limits, Split};

fuzz_target!(|data: &[u8]| {
    let codec = BoltCodec::new();
    black_box(codec.probe(black_box(data)));
    match black_box(codec.split_frame(black_box(data))) {
        Ok(Split::Complete(len)) => {
            assert!(
                len <= data.len(),
                "Complete({len}) past the input ({})",
                data.len()
            );
            assert!(
                len <= Limits::DEFAULT.max_frame_len,
                "Complete({len}) past max_frame_len"
            );
        }
        Ok(Split::Incomplete(needed)) => {
            assert!(needed.bytes() >= 1, "Incomplete({needed:?}) needs nothing")
        }
        Err(e) => drop(black_box(e)),
    }
    Conformance::new(&codec).check_arbitrary_input(data);
});
