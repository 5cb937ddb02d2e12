//! # xprotocol-hessian2
//!
//! Not a general serializer: a [`Reader`] that can **skip any Hessian2 value**
//! and read the values a proxy routes on (strings, numbers, maps), and a
//! [`Writer`] for the values a proxy re-encodes (strings, numbers, null,
//! booleans, maps), byte-compatible with Java's hessian-lite.
//!
//! * The whole Hessian 2.0 tag table: compact/medium/chunked strings, binaries,
//!   compact ints, longs and doubles (0x5f as hessian-lite writes it: an int of
//!   thousandths), dates, null/true/false, typed and untyped lists (fixed and
//!   variable), typed `M` and untyped `H` maps, class definitions and instances
//!   (a per-message class table), refs.
//! * String lengths count UTF-16 units. Java writes supplementary characters as
//!   two 3-byte surrogates (CESU-8); they are accepted and turned into proper
//!   UTF-8 when a Rust string is asked for ([`Str::to_string_lossy`]), while
//!   pass-through keeps the raw bytes. Real 4-byte UTF-8 from non-Java writers
//!   counts as 2 units.
//! * Every length is bounds-checked before use, nothing is allocated from an
//!   untrusted count, nesting is capped by [`Limits::max_depth`](xprotocol_core::Limits),
//!   and every violation is a typed [`Error`](xprotocol_core::Error). Never a panic.
//!
//! ```
//! use xprotocol_hessian2::{Reader, Writer, Value};
//! use xprotocol_core::Limits;
//!
//! let mut w = Writer::new();
//! w.string("com.example.Echo").int(3000).null();
//! let bytes = w.into_bytes();
//!
//! let limits = Limits::default();
//! let mut r = Reader::new(&bytes, &limits, "dubbo");
//! assert_eq!(r.read_str()?.unwrap().to_string_lossy(), "com.example.Echo");
//! assert_eq!(r.read_value()?.value, Value::Int(3000));
//! assert_eq!(r.read_value()?.value, Value::Null);
//! assert!(r.is_empty());
//! # Ok::<(), xprotocol_core::Error>(())
//! ```
#![deny(missing_docs)]

mod edit;
mod reader;
mod string;
mod writer;

pub use edit::{EditedMap, edit_map};
pub use reader::{Item, MapEntries, MapHeader, ObjectFields, Reader, Value};

/// Which Hessian 2 encoding a message uses.
///
/// | | [`Dialect::Hessian2`] (final spec) | [`Dialect::Draft`] (2.0 draft) |
/// |---|---|---|
/// | who writes it | Dubbo's hessian-lite, Hessian 4, hessian.js `v2` | SOFA's Hessian 3.x, hessian.js-1 `v2` (sofa-bolt-node) |
/// | class definition / instance | `C` / `O`, `0x60-0x6f` | `O` + length-prefixed name / `o` |
/// | string chunks | `R` … `S`, `0x30-0x33` medium | `s` … `S` |
/// | lists | `V`, `U`, `W`, `X`, `0x70-0x7f` | `V` [`t` type] [`n`/`l` length] … `z`, `v` |
/// | maps end with | `Z` | `z` |
/// | refs | `Q` | `J`, `K`, `R` |
/// | dates | `J`, `K` | `d` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Hessian 2.0 as specified (Dubbo).
    #[default]
    Hessian2,
    /// The Hessian 2.0 draft implemented by Hessian 3.x (SOFA RPC).
    Draft,
}

impl Dialect {
    /// The dialect of a message that starts with a class definition
    /// (`C` → final spec, `O` → draft), as SOFA request and response bodies do.
    pub fn of_object_message(first: u8) -> Option<Self> {
        match first {
            b'C' => Some(Self::Hessian2),
            b'O' => Some(Self::Draft),
            _ => None,
        }
    }
}
pub use string::Str;
pub use writer::Writer;

/// Tag bytes used by the writer and the tests.
pub mod tag {
    /// Null.
    pub const NULL: u8 = b'N';
    /// True.
    pub const TRUE: u8 = b'T';
    /// False.
    pub const FALSE: u8 = b'F';
    /// Untyped map.
    pub const MAP_UNTYPED: u8 = b'H';
    /// Typed map.
    pub const MAP_TYPED: u8 = b'M';
    /// End of a map or variable-length list.
    pub const END: u8 = b'Z';
    /// Non-final string chunk.
    pub const STRING_CHUNK: u8 = b'R';
    /// Final string chunk.
    pub const STRING_FINAL: u8 = b'S';
    /// Class definition.
    pub const CLASS_DEF: u8 = b'C';
    /// Reference to an earlier map, list or object.
    pub const REF: u8 = b'Q';
}
