//! The Hessian2 reader on arbitrary bytes, in both dialects: every value is
//! read or refused with a typed error, items stay inside the input, strings
//! decode, maps and objects iterate; and strings written from the input read
//! back exactly.
#![no_main]

use std::hint::black_box;

use libfuzzer_sys::fuzz_target;
use xprotocol_core::Limits;
use xprotocol_hessian2::{Dialect, Reader, Value, Writer};

fn walk(data: &[u8], dialect: Dialect, limits: &Limits) {
    let mut r = Reader::new(data, limits, "fuzz").dialect(dialect);
    while !r.is_empty() {
        let before = r.pos();
        match r.read_value() {
            Ok(item) => {
                assert!(item.start == before && item.end > before && item.end <= data.len());
                if let Value::Str(s) = item.value {
                    black_box((s.to_string_lossy(), s.as_str(), s.utf16_len()));
                }
            }
            Err(e) => {
                black_box(e);
                break;
            }
        }
    }
    let mut r = Reader::new(data, limits, "fuzz").dialect(dialect);
    if let Ok(map) = r.read_map("map", limits.max_header_entries) {
        black_box(map.take(1000).count());
    }
    let mut r = Reader::new(data, limits, "fuzz").dialect(dialect);
    if let Ok(fields) = r.read_object("object") {
        black_box(fields.take(1000).count());
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_depth: 32,
        ..Limits::default()
    };
    walk(data, Dialect::Hessian2, &limits);
    walk(data, Dialect::Draft, &limits);
    let text = String::from_utf8_lossy(data);
    let mut w = Writer::new();
    w.string(&text);
    let bytes = w.into_bytes();
    let mut r = Reader::new(&bytes, &limits, "fuzz");
    let read = r
        .read_str()
        .expect("written string reads back")
        .expect("not null");
    assert_eq!(read.to_string_lossy(), text);
    assert!(r.is_empty());
});
