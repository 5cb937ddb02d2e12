//! The whole tag table, strings, limits and hostile input.

use xprotocol_core::{Error, Limits};
use xprotocol_hessian2::{Reader, Value, Writer};

fn one(bytes: &[u8]) -> Result<(Value<'_>, usize), Error> {
    static LIMITS: Limits = Limits::DEFAULT;
    let mut r = Reader::new(bytes, &LIMITS, "test");
    let item = r.read_value()?;
    Ok((item.value, item.end))
}

fn value(bytes: &[u8]) -> Value<'_> {
    let (v, end) = one(bytes).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"));
    assert_eq!(end, bytes.len(), "{bytes:02x?} consumed whole");
    v
}

#[test]
fn scalars() {
    assert_eq!(value(b"N"), Value::Null);
    assert_eq!(value(b"T"), Value::Bool(true));
    assert_eq!(value(b"F"), Value::Bool(false));
    assert_eq!(value(&[0x90]), Value::Int(0));
    assert_eq!(value(&[0x80]), Value::Int(-16));
    assert_eq!(value(&[0xbf]), Value::Int(47));
    assert_eq!(value(&[0xc8, 0x30]), Value::Int(48));
    assert_eq!(value(&[0xc7, 0xff]), Value::Int(-1));
    assert_eq!(value(&[0xc0, 0x00]), Value::Int(-2048));
    assert_eq!(value(&[0xcf, 0xff]), Value::Int(2047));
    assert_eq!(value(&[0xd0, 0x00, 0x00]), Value::Int(-262_144));
    assert_eq!(value(&[0xd7, 0xff, 0xff]), Value::Int(262_143));
    assert_eq!(value(&[b'I', 0x80, 0, 0, 0]), Value::Int(i32::MIN));
    assert_eq!(value(&[0xd8]), Value::Long(-8));
    assert_eq!(value(&[0xef]), Value::Long(15));
    assert_eq!(value(&[0xf0, 0x00]), Value::Long(-2048));
    assert_eq!(value(&[0x38, 0x00, 0x00]), Value::Long(-262_144));
    assert_eq!(
        value(&[0x59, 0x7f, 0xff, 0xff, 0xff]),
        Value::Long(i64::from(i32::MAX))
    );
    assert_eq!(
        value(&[b'L', 0x80, 0, 0, 0, 0, 0, 0, 0]),
        Value::Long(i64::MIN)
    );
    assert_eq!(value(&[0x5b]), Value::Double(0.0));
    assert_eq!(value(&[0x5c]), Value::Double(1.0));
    assert_eq!(value(&[0x5d, 0xff]), Value::Double(-1.0));
    assert_eq!(value(&[0x5e, 0x01, 0x00]), Value::Double(256.0));
    assert_eq!(
        value(&[0x5f, 0x00, 0x00, 0x04, 0xd2]),
        Value::Double(1.234),
        "hessian-lite: int of thousandths"
    );
    assert_eq!(
        value(&[b'D', 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]),
        Value::Double(std::f64::consts::PI)
    );
    assert_eq!(
        value(&[b'J', 0, 0, 0, 0, 0, 0, 0x03, 0xe8]),
        Value::Date(1000)
    );
    assert_eq!(
        value(&[b'K', 0, 0, 0, 2]),
        Value::Date(120_000),
        "minutes × 60000"
    );
}

#[test]
fn binaries_lists_maps_objects_refs() {
    assert_eq!(value(&[0x23, 1, 2, 3]), Value::Binary);
    assert_eq!(value(&[0x34, 0x02, 1, 2]), Value::Binary);
    assert_eq!(value(&[b'A', 0, 1, 9, b'B', 0, 2, 7, 8]), Value::Binary);
    assert_eq!(
        value(&[b'A', 0, 1, 9, 0x21, 7]),
        Value::Binary,
        "a short final chunk after A"
    );
    assert_eq!(
        value(b"V\x04[int\x92\x90\x91"),
        Value::List,
        "typed fixed list"
    );
    assert_eq!(value(b"V\x90\x92\x90\x91"), Value::List, "type by index");
    assert_eq!(
        value(b"\x72\x04[int\x90\x91"),
        Value::List,
        "typed compact list"
    );
    assert_eq!(
        value(b"U\x04[int\x90\x91Z"),
        Value::List,
        "typed variable list"
    );
    assert_eq!(value(b"W\x90\x01aZ"), Value::List, "untyped variable list");
    assert_eq!(value(b"X\x92\x90\x91"), Value::List, "untyped fixed list");
    assert_eq!(value(b"\x7a\x90\x91"), Value::List, "untyped compact list");
    assert_eq!(value(b"H\x01k\x01vZ"), Value::Map);
    assert_eq!(value(b"M\x11java.util.TreeMap\x01k\x90Z"), Value::Map);
    assert_eq!(
        value(b"C\x03Car\x92\x05model\x05color\x60\x04Golf\x03red"),
        Value::Object
    );
    assert_eq!(
        value(b"C\x03Car\x91\x05modelO\x90\x04Golf"),
        Value::Object,
        "O + class index"
    );
    assert_eq!(value(b"Q\x90"), Value::Ref(0));
    // A second instance reuses the definition; nested object in a map.
    let bytes = b"H\x01aC\x01P\x91\x01x\x60\x91\x01b\x60\x92Z";
    assert_eq!(value(bytes), Value::Map);
}

#[test]
fn strings_count_utf16_units() {
    let s = |bytes: &'static [u8]| match value(bytes) {
        Value::Str(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(s(b"\x05hello").as_str(), Some("hello"));
    assert_eq!(s(b"\x00").as_str(), Some(""));
    let han = s("\x02张三".as_bytes());
    assert_eq!((han.as_str(), han.utf16_len()), (Some("张三"), 2));
    // Java writes U+1F600 as a surrogate pair of two 3-byte sequences: 2 units.
    let java = s(b"\x02\xed\xa0\xbd\xed\xb8\x80");
    assert_eq!(java.as_str(), None, "CESU-8 is not a Rust str");
    assert_eq!(java.to_string_lossy(), "😀");
    assert!(java.eq_str("😀"));
    assert_eq!(
        java.raw(),
        b"\x02\xed\xa0\xbd\xed\xb8\x80",
        "pass-through keeps the raw bytes"
    );
    // A non-Java writer's real 4-byte UTF-8 counts as 2 units.
    let four = s("\x03a😀".as_bytes());
    assert_eq!((four.as_str(), four.utf16_len()), (Some("a😀"), 3));
    assert!(
        one("\x01😀".as_bytes()).is_err(),
        "one unit cannot hold a 4-byte character"
    );
    // Medium and chunked strings.
    let medium = [&[0x30, 0x20][..], &[b'x'; 32]].concat();
    assert_eq!(
        value(&medium),
        Value::Str(match value(&medium) {
            Value::Str(s) => s,
            _ => unreachable!(),
        })
    );
    let chunked = s(b"R\x00\x03abcS\x00\x02de");
    assert_eq!(
        (
            chunked.as_str(),
            chunked.to_string_lossy(),
            chunked.utf16_len()
        ),
        (None, "abcde".to_owned(), 5)
    );
    let chunked_compact = s(b"R\x00\x01a\x01b");
    assert_eq!(chunked_compact.to_string_lossy(), "ab");
    // A surrogate pair split across chunks is still joined.
    let split = s(b"R\x00\x01\xed\xa0\xbd\x01\xed\xb8\x80");
    assert_eq!(split.to_string_lossy(), "😀");
}

#[test]
fn malformed_input_is_a_typed_error() {
    for bad in [
        &b""[..],
        b"\x05hel",             // string runs past the end
        b"\x02\xff\xff",        // bad UTF-8 lead
        b"\x01\xe4\x41\x41",    // bad continuation
        b"R\x00\x01a",          // chunk without a final chunk
        b"R\x00\x01aI\x00\x00", // chunk followed by a non-string
        b"\x40",                // reserved tag
        b"Z",                   // end tag outside a container
        b"H\x01k",              // map without value and end
        b"H\x01k\x01v",         // map without end
        b"V\x04[int\x95\x90",   // list shorter than declared
        b"X\xd7\xff\xff",       // declared length beyond the message
        b"X\x8f",               // negative length
        b"\x60\x90",            // instance of an undefined class
        b"C\x90",               // class name not a string
        b"CCCCCCCC\x03Car\x90", // definitions cannot nest
        b"QQQQQQQQQQ\x90",      // refs take an int, not a value
        b"O\xc8\x00",           // class index out of range
        b"\x34\x05\x00",        // binary runs past the end
        b"J\x00\x00",           // truncated date
    ] {
        match one(bad) {
            Err(Error::Malformed {
                protocol: "test", ..
            }) => {}
            other => panic!("{bad:02x?}: {other:?}"),
        }
    }
}

#[test]
fn nesting_is_capped_by_max_depth() {
    let limits = Limits {
        max_depth: 8,
        ..Limits::default()
    };
    let nested = |depth: usize| {
        let mut v = vec![b'W'; depth];
        v.push(b'N');
        v.extend(std::iter::repeat_n(b'Z', depth));
        v
    };
    assert!(Reader::new(&nested(8), &limits, "t").read_value().is_ok());
    let err = Reader::new(&nested(9), &limits, "t")
        .read_value()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "max_depth",
                ..
            }
        ),
        "{err}"
    );
    // A deep attack with default limits: an error, not a stack overflow.
    let deep = [vec![b'H'; 100_000], vec![b'N'; 1]].concat();
    assert!(
        Reader::new(&deep, &Limits::default(), "t")
            .read_value()
            .is_err()
    );
    let deep_maps = b"H\x01k".repeat(50_000);
    assert!(
        Reader::new(&deep_maps, &Limits::default(), "t")
            .read_value()
            .is_err()
    );
}

#[test]
fn map_entries_are_read_in_order_with_a_cap() {
    let limits = Limits::default();
    let mut w = Writer::new();
    w.map_untyped()
        .string("path")
        .string("a.B")
        .string("timeout")
        .int(3000)
        .string("n")
        .null()
        .map_end();
    let bytes = w.into_bytes();
    let mut r = Reader::new(&bytes, &limits, "t");
    let entries: Vec<_> = r
        .read_map("attachments", 10)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].0.as_str().unwrap().as_str(), Some("path"));
    assert_eq!(entries[1].1.value, Value::Int(3000));
    assert_eq!(entries[2].1.value, Value::Null);
    assert!(r.is_empty());
    let mut r = Reader::new(&bytes, &limits, "t");
    let err = r
        .read_map("attachments", 2)
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "max_header_entries",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn writer_matches_hessian_lite_forms() {
    let enc = |f: &dyn Fn(&mut Writer)| {
        let mut w = Writer::new();
        f(&mut w);
        w.into_bytes().to_vec()
    };
    assert_eq!(
        enc(&|w| {
            w.int(0);
        }),
        [0x90]
    );
    assert_eq!(
        enc(&|w| {
            w.int(-16);
        }),
        [0x80]
    );
    assert_eq!(
        enc(&|w| {
            w.int(48);
        }),
        [0xc8, 0x30]
    );
    assert_eq!(
        enc(&|w| {
            w.int(-2048);
        }),
        [0xc0, 0x00]
    );
    assert_eq!(
        enc(&|w| {
            w.int(262_143);
        }),
        [0xd7, 0xff, 0xff]
    );
    assert_eq!(
        enc(&|w| {
            w.int(262_144);
        }),
        [b'I', 0, 4, 0, 0]
    );
    assert_eq!(
        enc(&|w| {
            w.long(15);
        }),
        [0xef]
    );
    assert_eq!(
        enc(&|w| {
            w.long(16);
        }),
        [0xf8, 0x10]
    );
    assert_eq!(
        enc(&|w| {
            w.long(262_144);
        }),
        [0x59, 0, 4, 0, 0]
    );
    assert_eq!(
        enc(&|w| {
            w.long(1 << 40);
        }),
        [b'L', 0, 0, 1, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        enc(&|w| {
            w.string("😀");
        }),
        b"\x02\xed\xa0\xbd\xed\xb8\x80"
    );
    assert_eq!(
        enc(&|w| {
            w.string(&"x".repeat(31));
        })[0],
        0x1f
    );
    assert_eq!(
        enc(&|w| {
            w.string(&"x".repeat(32));
        })[..2],
        [0x30, 0x20]
    );
    assert_eq!(
        enc(&|w| {
            w.string(&"x".repeat(1024));
        })[..3],
        [b'S', 0x04, 0x00]
    );
    let long = enc(&|w| {
        w.string(&"x".repeat(0x8001));
    });
    assert_eq!(long[..3], [b'R', 0x80, 0x00]);
    assert_eq!(long[3 + 0x8000], 0x01, "final compact chunk of 1 unit");
    // A chunk never ends on a high surrogate: 0x7fff 'x' then an emoji.
    let s = format!("{}😀{}", "x".repeat(0x7fff), "y");
    let split = enc(&|w| {
        w.string(&s);
    });
    assert_eq!(split[..3], [b'R', 0x7f, 0xff]);
    assert_eq!(
        enc(&|w| {
            w.map_typed("java.util.LinkedHashMap").map_end();
        })[0],
        b'M'
    );
}
