//! Layer 2: on any input that splits into a whole frame, rewriting the request
//! id to an id taken from the input reads back, keeps the length and the rest
//! of the head, and the frame still splits whole (CRC fixed).
#![no_main]

use std::hint::black_box;

use libfuzzer_sys::fuzz_target;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::testing::Conformance;
use xprotocol_core::{FrameHead, Framing, Multiplexing, Split};

fuzz_target!(|data: &[u8]| {
    let codec = BoltCodec::new();
    Conformance::new(&codec).check_arbitrary_input(data);
    // The new id is the input's last 4 bytes (the frame itself is a prefix of the input).
    let id = match data {
        [.., a, b, c, d] => u64::from(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => 0,
    };
    let Ok(Split::Complete(len)) = codec.split_frame(black_box(data)) else {
        return;
    };
    let mut frame = data[..len].to_vec();
    let Ok(head) = codec.frame_head(black_box(&frame)) else {
        return;
    };
    codec
        .set_request_id(black_box(&mut frame), black_box(id))
        .expect("set a u32 id on a frame with a head");
    assert_eq!(frame.len(), len, "length changed");
    assert_eq!(codec.request_id(&frame), Ok(id), "id read back");
    assert_eq!(
        codec.frame_head(&frame),
        Ok(FrameHead {
            request_id: id,
            ..head
        }),
        "other head fields"
    );
    assert_eq!(
        codec.split_frame(&frame),
        Ok(Split::Complete(len)),
        "rewritten frame must split whole"
    );
    // Out-of-range ids are refused and leave the frame untouched.
    let before = frame.clone();
    assert!(
        codec
            .set_request_id(&mut frame, u64::from(u32::MAX) + 1 + id)
            .is_err(),
        "id > u32::MAX accepted"
    );
    assert_eq!(frame, before, "refused rewrite touched the frame");
    black_box(frame);
});
