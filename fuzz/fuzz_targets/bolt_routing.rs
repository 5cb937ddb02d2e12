//! Layer 3: on any complete frame, the routing view never panics, and a Set
//! and a Remove of fuzzer-chosen keys/values yield one whole frame whose
//! header map reads back as edited.
#![no_main]

use std::hint::black_box;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xprotocol_bolt::BoltCodec;
use xprotocol_core::testing::Conformance;
use xprotocol_core::{Framing, HeaderEdit, Routing, Split};

/// Input: `[key len][value len][key][value][frame…]`, lengths one byte each.
fn parse(data: &[u8]) -> Option<(&str, &str, &[u8])> {
    let (&[kl, vl], rest) = data.split_first_chunk::<2>()?;
    let (key, rest) = rest.split_at_checked(usize::from(kl))?;
    let (value, frame) = rest.split_at_checked(usize::from(vl))?;
    Some((
        std::str::from_utf8(key).ok()?,
        std::str::from_utf8(value).ok()?,
        frame,
    ))
}

fn check_whole(codec: &BoltCodec, frame: &[u8], what: &str) {
    assert_eq!(
        codec.split_frame(frame),
        Ok(Split::Complete(frame.len())),
        "{what} is not one whole frame"
    );
}

fuzz_target!(|data: &[u8]| {
    let codec = BoltCodec::new();
    let Some((key, value, input)) = parse(data) else {
        Conformance::new(&codec).check_arbitrary_input(data);
        return;
    };
    Conformance::new(&codec).check_arbitrary_input(input);
    let Ok(Split::Complete(len)) = codec.split_frame(input) else {
        return;
    };
    let frame = Bytes::copy_from_slice(&input[..len]);
    let route = codec.route_headers(black_box(&frame));
    if let Ok(route) = &route {
        black_box((
            route.service(),
            route.interface(),
            route.version(),
            route.group(),
            route.method(),
        ));
        black_box(route.headers().count());
    }
    if let Ok(set) = codec.mutate_headers(black_box(&frame), &[HeaderEdit::Set(key, value)]) {
        let set = set.to_bytes();
        check_whole(&codec, &set, "Set result");
        if route.is_ok() {
            let after = codec
                .route_headers(&set)
                .expect("routing view of a Set result");
            let found: Vec<_> = after
                .headers()
                .filter(|(k, _)| *k == key.as_bytes())
                .collect();
            assert_eq!(
                found,
                [(key.as_bytes(), value.as_bytes())],
                "Set must leave exactly one {key:?}"
            );
        }
        black_box(set);
    }
    if let Ok(removed) = codec.mutate_headers(black_box(&frame), &[HeaderEdit::Remove(key)]) {
        let removed = removed.to_bytes();
        check_whole(&codec, &removed, "Remove result");
        if let Ok(after) = codec.route_headers(&removed) {
            assert!(
                after.headers().all(|(k, _)| k != key.as_bytes()),
                "Remove left {key:?}"
            );
        }
        black_box(removed);
    }
});
