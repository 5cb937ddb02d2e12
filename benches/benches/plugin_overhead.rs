//! The cost of the plugin boundary: split, id read and id rewrite on the
//! 151-byte and 64 KiB Bolt requests, through the statically linked codec and
//! through `libxprotocol_bolt_plugin.so` loaded by `xprotocol-plugin-host`,
//! in one run. Both go through `&dyn` layers, as a proxy holds them.
//!
//! Needs the release plugin: `cargo build --release -p xprotocol-bolt-plugin`
//! (CI builds it), then `cargo bench -p xprotocol-benches --bench plugin_overhead`.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::Criterion;
use xprotocol_benches::Layers;
use xprotocol_bolt::{BoltCodec, testdata};
use xprotocol_core::Codec;

fn main() {
    let exe = std::env::current_exe().expect("bench path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join("libxprotocol_bolt_plugin.so");
    let plugin = xprotocol_plugin_host::load(&path).unwrap_or_else(|e| {
        panic!("{e} (build it: cargo build --release -p xprotocol-bolt-plugin)")
    });
    let fixed = BoltCodec::new();
    let mut c = Criterion::default().configure_from_args();
    for (label, frame) in [
        ("151B", Bytes::from_static(&testdata::REQUEST_151)),
        ("64KiB", Bytes::from(testdata::request_with_content(65536))),
    ] {
        for (how, codec) in [
            ("static", &fixed as &dyn Codec),
            ("plugin", plugin.as_ref() as &dyn Codec),
        ] {
            let layers = Layers::of(codec);
            let mut scratch = frame.to_vec();
            let mut g = c.benchmark_group(format!("bolt-{label}-{how}"));
            g.warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(2))
                .sample_size(50);
            g.bench_function("split", |b| b.iter(|| layers.split(black_box(&frame))));
            g.bench_function("id_read", |b| b.iter(|| layers.id_read(black_box(&frame))));
            g.bench_function("id_rewrite", |b| {
                b.iter(|| layers.id_rewrite(black_box(&mut scratch), 4242))
            });
            g.bench_function("route_headers", |b| {
                b.iter(|| layers.route_headers(black_box(&frame)))
            });
            g.finish();
        }
    }
    c.final_summary();
}
