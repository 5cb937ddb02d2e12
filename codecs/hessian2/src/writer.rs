//! The writer: the values a proxy re-encodes, in the exact forms Java's
//! hessian-lite writes them.

use bytes::{BufMut, Bytes, BytesMut};

/// Longest string chunk Java writes, in UTF-16 units.
const CHUNK_UNITS: usize = 0x8000;

/// Appends Hessian2 values to a buffer.
///
/// ```
/// use xprotocol_hessian2::Writer;
/// let mut w = Writer::new();
/// w.map_untyped().string("k").string("v").map_end();
/// assert_eq!(&w.into_bytes()[..], b"H\x01k\x01vZ");
/// ```
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: BytesMut,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(n),
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes.
    pub fn into_bytes(self) -> Bytes {
        self.buf.freeze()
    }

    /// `N`.
    pub fn null(&mut self) -> &mut Self {
        self.buf.put_u8(b'N');
        self
    }

    /// `T` or `F`.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.buf.put_u8(if v { b'T' } else { b'F' });
        self
    }

    /// An int in its most compact form.
    pub fn int(&mut self, v: i32) -> &mut Self {
        match v {
            -16..=47 => self.buf.put_u8((0x90 + v) as u8),
            -2048..=2047 => self.buf.put_slice(&[(0xc8 + (v >> 8)) as u8, v as u8]),
            -262_144..=262_143 => {
                self.buf
                    .put_slice(&[(0xd4 + (v >> 16)) as u8, (v >> 8) as u8, v as u8])
            }
            _ => {
                self.buf.put_u8(b'I');
                self.buf.put_i32(v);
            }
        }
        self
    }

    /// A long in its most compact form.
    pub fn long(&mut self, v: i64) -> &mut Self {
        match v {
            -8..=15 => self.buf.put_u8((0xe0 + v) as u8),
            -2048..=2047 => self.buf.put_slice(&[(0xf8 + (v >> 8)) as u8, v as u8]),
            -262_144..=262_143 => {
                self.buf
                    .put_slice(&[(0x3c + (v >> 16)) as u8, (v >> 8) as u8, v as u8])
            }
            _ if i32::try_from(v).is_ok() => {
                self.buf.put_u8(0x59);
                self.buf.put_i32(v as i32);
            }
            _ => {
                self.buf.put_u8(b'L');
                self.buf.put_i64(v);
            }
        }
        self
    }

    /// A string, chunked as Java does (at most 0x8000 UTF-16 units per chunk, a
    /// chunk never ends on a high surrogate), each supplementary character as
    /// two 3-byte surrogates.
    pub fn string(&mut self, s: &str) -> &mut Self {
        let mut units = s.chars().map(char::len_utf16).sum::<usize>();
        let mut chars = s.chars().peekable();
        while units > CHUNK_UNITS {
            // Take up to 0x8000 units without splitting a surrogate pair.
            let mut take = 0;
            let mut piece = String::new();
            while let Some(&c) = chars.peek() {
                if take + c.len_utf16() > CHUNK_UNITS {
                    break;
                }
                take += c.len_utf16();
                piece.push(c);
                chars.next();
            }
            self.buf.put_u8(b'R');
            self.buf.put_u16(take as u16);
            self.put_java_utf8(piece.chars());
            units -= take;
        }
        match units {
            0..=0x1f => self.buf.put_u8(units as u8),
            0x20..=0x3ff => self
                .buf
                .put_slice(&[0x30 + (units >> 8) as u8, units as u8]),
            _ => {
                self.buf.put_u8(b'S');
                self.buf.put_u16(units as u16);
            }
        }
        self.put_java_utf8(chars);
        self
    }

    fn put_java_utf8(&mut self, chars: impl Iterator<Item = char>) {
        let mut utf16 = [0u16; 2];
        for c in chars {
            for &unit in c.encode_utf16(&mut utf16).iter() {
                let u = u32::from(unit);
                match u {
                    0..=0x7f => self.buf.put_u8(u as u8),
                    0x80..=0x7ff => self
                        .buf
                        .put_slice(&[0xc0 | (u >> 6) as u8, 0x80 | (u & 0x3f) as u8]),
                    _ => self.buf.put_slice(&[
                        0xe0 | (u >> 12) as u8,
                        0x80 | ((u >> 6) & 0x3f) as u8,
                        0x80 | (u & 0x3f) as u8,
                    ]),
                }
            }
        }
    }

    /// Begin an untyped map (`H`), as hessian-lite writes a `HashMap`.
    pub fn map_untyped(&mut self) -> &mut Self {
        self.buf.put_u8(b'H');
        self
    }

    /// Begin a typed map (`M` and the type name), as hessian-lite writes other maps.
    pub fn map_typed(&mut self, type_name: &str) -> &mut Self {
        self.buf.put_u8(b'M');
        self.string(type_name)
    }

    /// End a map (`Z`).
    pub fn map_end(&mut self) -> &mut Self {
        self.buf.put_u8(b'Z');
        self
    }

    /// Copy already-encoded bytes verbatim (pass-through of values kept raw).
    pub fn raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.buf.put_slice(encoded);
        self
    }
}
