//! Per-layer cost of the Bolt codec on a 151-byte request and a 64 KiB-content
//! request, against a hand-written baseline splitter, plus an allocation table.
//!
//! `cargo bench -p xprotocol-benches` (about 2 minutes on 2 vCPUs). Results and
//! method: `benches/RESULTS.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use xprotocol_benches::{Fixture, Layers, Op, alloc_table, baseline_split, fixtures, read_buffer};
use xprotocol_bolt::BoltCodec;

const WARM_UP: Duration = Duration::from_secs(1);
const MEASUREMENT: Duration = Duration::from_secs(2);
const SAMPLES: usize = 50;

/// Frames per read buffer in the buffered benches (`split_freeze`, `proxy_decode`).
fn frames_per_buffer(frame_len: usize) -> usize {
    (2 << 20) / frame_len.max(1) + 1
}

/// Time `op` on read buffers holding copies of `frame` back to back. Filling
/// the buffers (the copy) is outside the timed region; each timed call cuts one
/// frame off the front of a buffer, as a proxy does with its read buffer.
fn time_buffered(frame: &[u8], iters: u64, mut op: impl FnMut(&mut BytesMut)) -> Duration {
    let per_buffer = frames_per_buffer(frame.len()) as u64;
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(per_buffer);
        let mut buf = read_buffer(frame, n as usize);
        let start = Instant::now();
        for _ in 0..n {
            op(black_box(&mut buf));
        }
        total += start.elapsed();
        debug_assert!(buf.is_empty());
        left -= n;
    }
    total
}

fn bench_frame(group: &mut BenchmarkGroup<'_, WallTime>, layers: Layers<'_>, fx: &Fixture) {
    let frame = &fx.frame;
    let mut scratch = frame.to_vec();
    for op in Op::ALL {
        let buffered = matches!(op, Op::SplitFreeze | Op::ProxyDecode);
        if buffered && frame.len() > 4096 {
            // Refilling the read buffer (a 64 KiB copy per frame, untimed) costs
            // hundreds of times the timed split: budget the timed part so the
            // wall time stays bounded (~10 s). 10 samples of ~4 ms each.
            group
                .warm_up_time(Duration::from_millis(20))
                .measurement_time(Duration::from_millis(40))
                .sample_size(10);
        }
        match op {
            Op::Baseline => {
                group.bench_function(op.name(), |b| b.iter(|| baseline_split(black_box(frame))))
            }
            Op::Split => {
                group.bench_function(op.name(), |b| b.iter(|| layers.split(black_box(frame))))
            }
            Op::SplitFreeze => group.bench_function(op.name(), |b| {
                b.iter_custom(|iters| {
                    time_buffered(frame, iters, |buf| {
                        black_box(layers.split_freeze(buf));
                    })
                })
            }),
            Op::IdRead => {
                group.bench_function(op.name(), |b| b.iter(|| layers.id_read(black_box(frame))))
            }
            Op::IdRewrite => group.bench_function(op.name(), |b| {
                b.iter(|| layers.id_rewrite(black_box(&mut scratch), black_box(4242)))
            }),
            Op::FrameHead => group.bench_function(op.name(), |b| {
                b.iter(|| layers.frame_head(black_box(frame)))
            }),
            Op::RouteHeaders => group.bench_function(op.name(), |b| {
                b.iter(|| layers.route_headers(black_box(frame)))
            }),
            Op::MutateHeader => group.bench_function(op.name(), |b| {
                b.iter(|| layers.mutate_header(black_box(frame)))
            }),
            Op::ToHttp2 => {
                group.bench_function(op.name(), |b| b.iter(|| layers.to_http2(black_box(frame))))
            }
            Op::FromHttp2 => group.bench_function(op.name(), |b| {
                b.iter(|| layers.from_http2(black_box(&fx.message)))
            }),
            Op::ProxyDecode => group.bench_function(op.name(), |b| {
                b.iter_custom(|iters| {
                    time_buffered(frame, iters, |buf| {
                        black_box(layers.proxy_decode(buf));
                    })
                })
            }),
        };
        if buffered && frame.len() > 4096 {
            group
                .warm_up_time(WARM_UP)
                .measurement_time(MEASUREMENT)
                .sample_size(SAMPLES);
        }
    }
}

fn bench_layers(c: &mut Criterion) {
    let codec = BoltCodec::new();
    let layers = Layers::of(&codec);
    for fx in fixtures(&codec) {
        let mut group = c.benchmark_group(format!("bolt-{}", fx.label));
        bench_frame(&mut group, layers, &fx);
        group.finish();
    }
}

fn main() {
    println!("\nAllocations per frame (1000 runs each, this thread only, setup excluded):\n");
    println!("{}", alloc_table(1000));
    let mut c = Criterion::default()
        .warm_up_time(WARM_UP)
        .measurement_time(MEASUREMENT)
        .sample_size(SAMPLES)
        .configure_from_args();
    bench_layers(&mut c);
    c.final_summary();
}
