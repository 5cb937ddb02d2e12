//! Layers 1 and 2 must not allocate, whatever the frame size (the project's
//! hard requirement); the counts of layers 3 and 4 are printed for the record.
//!
//! Counting is per thread (`allocation_counter`'s `#[global_allocator]`, linked
//! through `xprotocol_benches`), so the test harness's own threads do not
//! disturb it. `cargo test -p xprotocol-benches --test allocations -- --nocapture`
//! shows the table.

use xprotocol_benches::{Layers, Op, allocs_per_frame, fixtures};
use xprotocol_bolt::BoltCodec;

const RUNS: usize = 1000;

#[test]
fn layers_1_and_2_do_not_allocate() {
    let codec = BoltCodec::new();
    let layers = Layers::of(&codec);
    let mut failures = Vec::new();
    let mut table = String::new();
    for fx in fixtures(&codec) {
        for op in Op::ALL {
            let (count, bytes) = allocs_per_frame(layers, &fx, op, RUNS);
            table.push_str(&format!(
                "{:>6} {:<15} {count:>6.2} allocs/frame {bytes:>8.0} B/frame\n",
                fx.label,
                op.name()
            ));
            let must_be_zero = matches!(
                op,
                Op::Baseline
                    | Op::Split
                    | Op::SplitFreeze
                    | Op::IdRead
                    | Op::IdRewrite
                    | Op::FrameHead
            );
            if must_be_zero && count != 0.0 {
                failures.push(format!("{} {}: {count} allocs/frame", fx.label, op.name()));
            }
        }
    }
    println!("{table}");
    assert!(failures.is_empty(), "layers 1-2 allocated: {failures:?}");
}

#[test]
fn counter_sees_allocations() {
    // Guards against the counter silently not being installed.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert_eq!(info.count_total, 1);
}

/// Dubbo on MOSN's D2: layers 1–2 allocate nothing, and the full routing view
/// (body walk, argument skip, 8 attachments) stays within the 2-allocation
/// target (MOSN: 87 allocations).
#[test]
fn dubbo_layers_1_and_2_do_not_allocate_and_the_view_is_cheap() {
    use xprotocol_core::{Framing, Multiplexing, Routing};
    let codec = xprotocol_dubbo::DubboCodec::new();
    let d2 = bytes::Bytes::from(xprotocol_dubbo::testdata::from_hex(
        xprotocol_dubbo::testdata::MOSN_D2,
    ));
    let mut scratch = d2.to_vec();
    let count = |f: &mut dyn FnMut()| {
        let info = allocation_counter::measure(|| {
            for _ in 0..RUNS {
                f();
            }
        });
        info.count_total as f64 / RUNS as f64
    };
    assert_eq!(
        count(&mut || drop(std::hint::black_box(codec.split_frame(&d2)))),
        0.0,
        "split"
    );
    assert_eq!(
        count(&mut || drop(std::hint::black_box(codec.frame_head(&d2)))),
        0.0,
        "frame_head"
    );
    assert_eq!(
        count(&mut || drop(std::hint::black_box(codec.set_request_id(&mut scratch, 9)))),
        0.0,
        "id_rewrite"
    );
    let view = count(&mut || {
        let route = codec.route_headers(&d2).unwrap();
        std::hint::black_box((route.interface(), route.method(), route.header("timeout")));
    });
    println!("dubbo D2 route_headers: {view} allocs/frame");
    assert!(
        view <= 2.0,
        "D2 routing view: {view} allocs/frame (target ≤ 2)"
    );
}
