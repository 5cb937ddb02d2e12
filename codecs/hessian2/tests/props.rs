//! Writer → reader round trips, including surrogate pairs and chunk boundaries.

use proptest::prelude::*;
use xprotocol_core::Limits;
use xprotocol_hessian2::{Reader, Value, Writer};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z😀张]{0,40}",
        (0x7ff0usize..0x8010, any::<bool>()).prop_map(|(n, emoji)| {
            let mut s = "x".repeat(n);
            if emoji {
                s.push('😀');
                s.push('y');
            }
            s
        }),
        (0x17ff0usize..0x18010).prop_map(|n| "é".repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn strings_round_trip(s in text()) {
        let mut w = Writer::new();
        w.string(&s);
        let bytes = w.into_bytes();
        let limits = Limits::default();
        let mut r = Reader::new(&bytes, &limits, "t");
        let got = r.read_str().unwrap().unwrap();
        prop_assert!(r.is_empty());
        prop_assert_eq!(got.utf16_len(), s.encode_utf16().count());
        prop_assert_eq!(got.to_string_lossy(), s.clone());
        prop_assert!(got.eq_str(&s));
    }

    #[test]
    fn numbers_round_trip(i in any::<i32>(), l in any::<i64>(), b in any::<bool>()) {
        let mut w = Writer::new();
        w.int(i).long(l).bool(b).null();
        let bytes = w.into_bytes();
        let limits = Limits::default();
        let mut r = Reader::new(&bytes, &limits, "t");
        prop_assert_eq!(r.read_value().unwrap().value, Value::Int(i));
        prop_assert_eq!(r.read_value().unwrap().value, Value::Long(l));
        prop_assert_eq!(r.read_value().unwrap().value, Value::Bool(b));
        prop_assert_eq!(r.read_value().unwrap().value, Value::Null);
        prop_assert!(r.is_empty());
    }

    #[test]
    fn maps_round_trip(entries in proptest::collection::vec((".{0,12}", ".{0,12}"), 0..12), typed in any::<bool>()) {
        let mut w = Writer::new();
        if typed { w.map_typed("java.util.LinkedHashMap"); } else { w.map_untyped(); }
        for (k, v) in &entries {
            w.string(k).string(v);
        }
        w.map_end();
        let bytes = w.into_bytes();
        let limits = Limits::default();
        let mut r = Reader::new(&bytes, &limits, "t");
        let mut map = r.read_map("m", 64).unwrap();
        prop_assert_eq!(map.header().typed, typed);
        let got: Vec<(String, String)> = map
            .by_ref()
            .map(|e| e.map(|(k, v)| (k.as_str().unwrap().to_string_lossy(), v.as_str().unwrap().to_string_lossy())))
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(got, entries);
        prop_assert!(r.is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let limits = Limits { max_depth: 16, ..Limits::default() };
        let mut r = Reader::new(&data, &limits, "t");
        while !r.is_empty() {
            let before = r.pos();
            match r.read_value() {
                Ok(item) => {
                    prop_assert!(item.end > before && item.end <= data.len());
                    if let Value::Str(s) = item.value { let _ = s.to_string_lossy(); }
                }
                Err(_) => break,
            }
        }
    }
}
