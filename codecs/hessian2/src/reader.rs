//! The reader: skips any value, reads the ones routing needs.

use xprotocol_core::{Error, Limits};

use crate::Dialect;
use crate::string::{Str, chunk_header, is_string_tag, utf16_units_len};

/// What a value is. Scalars and strings are decoded; containers are skipped
/// (their bytes are in [`Item`]'s range).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// `N`.
    Null,
    /// `T` / `F`.
    Bool(bool),
    /// A 32-bit int.
    Int(i32),
    /// A 64-bit long.
    Long(i64),
    /// A double.
    Double(f64),
    /// A date, in ms since the epoch.
    Date(i64),
    /// A string.
    Str(Str<'a>),
    /// A binary (skipped).
    Binary,
    /// A list (skipped).
    List,
    /// A map (skipped).
    Map,
    /// An object instance (skipped).
    Object,
    /// A reference to an earlier map, list or object.
    Ref(i32),
}

impl Value<'_> {
    /// The value as header text: strings as they are (a zero-copy span of the
    /// buffer when possible), numbers and booleans as decimal text; `None` for
    /// null, binaries, containers and references.
    pub fn to_text(&self) -> Option<xprotocol_core::Text> {
        let owned = |s: String| {
            Some(xprotocol_core::Text::Owned(
                s.into_bytes().into_boxed_slice(),
            ))
        };
        match self {
            Value::Str(s) => Some(s.to_text(0)),
            Value::Int(i) => owned(i.to_string()),
            Value::Long(l) => owned(l.to_string()),
            Value::Bool(b) => owned(b.to_string()),
            Value::Double(d) => owned(d.to_string()),
            _ => None,
        }
    }
}

/// One value and the range of its encoding in the buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item<'a> {
    /// First byte of the value (a class definition before it included).
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// What it is.
    pub value: Value<'a>,
}

impl<'a> Item<'a> {
    /// The string, when the value is one.
    pub fn as_str(&self) -> Option<&Str<'a>> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The start of a map: its tag and, for a typed map, the raw type encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapHeader {
    /// Offset of the `H` or `M` tag.
    pub start: usize,
    /// Offset of the first entry.
    pub entries_at: usize,
    /// True for `M` (typed), false for `H`.
    pub typed: bool,
}

/// One class definition: its field count and where its field names start.
#[derive(Debug, Clone, Copy, Default)]
struct ClassDef {
    fields: u32,
    names_at: u32,
}

/// Small class-definition table, inline up to 16 definitions.
#[derive(Debug, Clone)]
struct ClassTable {
    inline: [ClassDef; 16],
    len: usize,
    spill: Vec<ClassDef>,
}

impl ClassTable {
    fn new() -> Self {
        Self {
            inline: [ClassDef::default(); 16],
            len: 0,
            spill: Vec::new(),
        }
    }
    fn push(&mut self, def: ClassDef) {
        if self.len < self.inline.len() {
            self.inline[self.len] = def;
        } else {
            self.spill.push(def);
        }
        self.len += 1;
    }
    fn get(&self, i: usize) -> Option<ClassDef> {
        match i {
            i if i >= self.len => None,
            i if i < self.inline.len() => Some(self.inline[i]),
            i => self.spill.get(i - self.inline.len()).copied(),
        }
    }
}

/// A cursor over one Hessian2 message (a Dubbo body, a SofaRequest). Class
/// definitions are per message: use one reader per message.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    dialect: Dialect,
    limits: &'a Limits,
    protocol: &'static str,
    classes: ClassTable,
    depth: usize,
    refs: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`; errors name `protocol`.
    pub fn new(buf: &'a [u8], limits: &'a Limits, protocol: &'static str) -> Self {
        Self::at(buf, 0, limits, protocol)
    }

    /// A reader at offset `pos` of `buf` (offsets in items stay relative to `buf`).
    pub fn at(buf: &'a [u8], pos: usize, limits: &'a Limits, protocol: &'static str) -> Self {
        Self {
            buf,
            pos: pos.min(buf.len()),
            dialect: Dialect::Hessian2,
            limits,
            protocol,
            classes: ClassTable::new(),
            depth: 0,
            refs: 0,
        }
    }

    /// The same reader for another [`Dialect`].
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// True when every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Number of `Q` references read so far.
    pub fn refs_seen(&self) -> usize {
        self.refs
    }

    fn malformed(&self, field: &'static str, reason: &'static str) -> Error {
        Error::Malformed {
            protocol: self.protocol,
            field,
            reason,
        }
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, Error> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.malformed(field, "ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], Error> {
        let bytes = self
            .buf
            .get(self.pos..self.pos + N)
            .ok_or_else(|| self.malformed(field, "ends early"))?;
        self.pos += N;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn skip(&mut self, n: usize, field: &'static str) -> Result<(), Error> {
        if self.buf.len() - self.pos < n {
            return Err(self.malformed(field, "length runs past the end"));
        }
        self.pos += n;
        Ok(())
    }

    /// Peek at the next tag.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Read one value of any kind; containers and objects are skipped whole.
    pub fn read_value(&mut self) -> Result<Item<'a>, Error> {
        let start = self.pos;
        let value = self.value()?;
        Ok(Item {
            start,
            end: self.pos,
            value,
        })
    }

    /// Skip one value of any kind.
    pub fn skip_value(&mut self) -> Result<(), Error> {
        if self.dialect == Dialect::Hessian2 {
            // Fast path for the most common values: no `Value` is built.
            let pos = self.pos;
            let step = match self.buf.get(pos) {
                Some(&tag @ 0x00..=0x1f) => {
                    let end = pos + 1 + usize::from(tag);
                    self.buf
                        .get(pos + 1..end)
                        .filter(|s| s.is_ascii())
                        .map(|_| end - pos)
                }
                Some(0x80..=0xbf | 0xd8..=0xef | b'N' | b'T' | b'F' | 0x5b | 0x5c) => Some(1),
                Some(0xc0..=0xcf | 0xf0..=0xff | 0x5d) => Some(2),
                _ => None,
            };
            if let Some(step) = step.filter(|&n| pos + n <= self.buf.len()) {
                self.pos = pos + step;
                return Ok(());
            }
        }
        self.value().map(drop)
    }

    /// Read a string or null (`None`); any other value is an error naming `field`.
    pub fn read_str_field(&mut self, field: &'static str) -> Result<Option<Str<'a>>, Error> {
        match self.value()? {
            Value::Str(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            _ => Err(self.malformed(field, "expected a string")),
        }
    }

    /// Read a string or null (`None`).
    pub fn read_str(&mut self) -> Result<Option<Str<'a>>, Error> {
        self.read_str_field("string")
    }

    /// Read an int (any int encoding; a long that fits is accepted too).
    pub fn read_int(&mut self, field: &'static str) -> Result<i32, Error> {
        match self.value()? {
            Value::Int(i) => Ok(i),
            Value::Long(l) => {
                i32::try_from(l).map_err(|_| self.malformed(field, "out of int range"))
            }
            _ => Err(self.malformed(field, "expected an int")),
        }
    }

    /// Begin a map (`H`, or `M` and its type) and iterate its entries; at most
    /// `max_entries` entries are accepted.
    pub fn read_map(
        &mut self,
        field: &'static str,
        max_entries: usize,
    ) -> Result<MapEntries<'_, 'a>, Error> {
        let start = self.pos;
        let typed = match (self.byte(field)?, self.dialect) {
            (b'H', _) => false,
            (b'M', Dialect::Hessian2) => {
                self.type_name()?;
                true
            }
            (b'M', Dialect::Draft) => self.draft_type()?,
            _ => return Err(self.malformed(field, "expected a map")),
        };
        self.enter()?;
        let header = MapHeader {
            start,
            entries_at: self.pos,
            typed,
        };
        let end = match self.dialect {
            Dialect::Hessian2 => b'Z',
            Dialect::Draft => b'z',
        };
        Ok(MapEntries {
            reader: self,
            header,
            field,
            end,
            count: 0,
            max_entries,
            done: false,
        })
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(Error::LimitExceeded {
                protocol: self.protocol,
                field: "hessian2 value",
                limit: "max_depth",
                value: self.depth as u64,
                max: self.limits.max_depth as u64,
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// An int in any int encoding, read without recursing (no class
    /// definition or other value may stand in its place).
    fn int_value(&mut self, field: &'static str) -> Result<i32, Error> {
        let tag = self.byte(field)?;
        Ok(match tag {
            0x80..=0xbf => i32::from(tag) - 0x90,
            0xc0..=0xcf => ((i32::from(tag) - 0xc8) << 8) | i32::from(self.byte(field)?),
            0xd0..=0xd7 => {
                let [b1, b0] = self.take(field)?;
                ((i32::from(tag) - 0xd4) << 16) | (i32::from(b1) << 8) | i32::from(b0)
            }
            b'I' => i32::from_be_bytes(self.take(field)?),
            _ => return Err(self.malformed(field, "expected an int")),
        })
    }

    /// A string, read without recursing.
    fn string_value(&mut self, field: &'static str) -> Result<Str<'a>, Error> {
        match self.peek() {
            Some(tag) if is_string_tag(tag, self.dialect) => self.string(),
            _ => Err(self.malformed(field, "expected a string")),
        }
    }

    /// A length or index read as an int: non-negative and at most `bound`.
    fn count(&mut self, field: &'static str, bound: usize) -> Result<usize, Error> {
        let n = self.int_value(field)?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= bound)
            .ok_or_else(|| self.malformed(field, "negative or larger than the rest of the message"))
    }

    /// A type (of a typed list or map): a string, or an int index into the type table.
    fn type_name(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(tag) if is_string_tag(tag, self.dialect) => self.string().map(drop),
            _ => self.int_value("type").map(drop),
        }
    }

    /// Draft: an optional type, `t` + u16 length + raw characters, or `T`/`u` +
    /// an int index. True when a type was present.
    fn draft_type(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b't') => {
                self.pos += 1;
                let units = usize::from(u16::from_be_bytes(self.take("type")?));
                self.raw_chars(units, "type")?;
                Ok(true)
            }
            Some(b'T' | b'u') => {
                self.pos += 1;
                self.int_value("type").map(|_| true)
            }
            _ => Ok(false),
        }
    }

    /// Skip `units` UTF-16 units of raw (untagged) characters.
    fn raw_chars(&mut self, units: usize, field: &'static str) -> Result<(), Error> {
        let bytes =
            utf16_units_len(self.buf, self.pos, units).map_err(|r| self.malformed(field, r))?;
        self.pos += bytes;
        Ok(())
    }

    fn values_until_end(&mut self) -> Result<(), Error> {
        loop {
            match self.peek() {
                Some(b'Z') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => self.skip_value()?,
                None => return Err(self.malformed("list", "missing end tag Z")),
            }
        }
    }

    fn values(&mut self, n: usize) -> Result<(), Error> {
        for _ in 0..n {
            self.skip_value()?;
        }
        Ok(())
    }

    fn string(&mut self) -> Result<Str<'a>, Error> {
        let start = self.pos;

        let mut units = 0usize;
        let mut chunks = 0usize;
        let mut ascii = true;
        loop {
            let (last, n, header) = chunk_header(self.buf, self.pos, self.dialect)
                .ok_or_else(|| self.malformed("string", "bad or truncated chunk"))?;
            let bytes = utf16_units_len(self.buf, self.pos + header, n)
                .map_err(|r| self.malformed("string", r))?;
            self.pos += header + bytes;
            ascii &= bytes == n;
            units += n;
            chunks += 1;
            if last {
                let range = (start, self.pos);
                return Ok(Str::new(
                    self.buf,
                    range,
                    units,
                    chunks,
                    self.dialect,
                    ascii,
                ));
            }
        }
    }

    fn binary(&mut self, tag: u8) -> Result<(), Error> {
        let mut tag = tag;
        loop {
            match tag {
                0x20..=0x2f => return self.skip(usize::from(tag - 0x20), "binary"),
                0x34..=0x37 => {
                    let n = (usize::from(tag - 0x34) << 8) | usize::from(self.byte("binary")?);
                    return self.skip(n, "binary");
                }
                b'A' | b'B' | b'b' => {
                    let n = usize::from(u16::from_be_bytes(self.take("binary")?));
                    self.skip(n, "binary")?;
                    if tag == b'B' {
                        return Ok(());
                    }
                    tag = self.byte("binary")?;
                }
                _ => return Err(self.malformed("binary", "bad chunk tag")),
            }
        }
    }

    /// A class definition after its tag: final `C` (name string) or draft `O`
    /// (int length + raw name); then the field count and the field names.
    fn class_def(&mut self) -> Result<(), Error> {
        match self.dialect {
            Dialect::Hessian2 => self.string_value("class name").map(drop)?,
            Dialect::Draft => {
                let rest = self.buf.len() - self.pos;
                let units = self.count("class name length", rest)?;
                self.raw_chars(units, "class name")?;
            }
        }
        let rest = self.buf.len() - self.pos;
        let fields = self.count("class field count", rest)?;
        let names_at = self.pos as u32;
        for _ in 0..fields {
            self.string_value("class field name")?;
        }
        self.classes.push(ClassDef {
            fields: fields as u32,
            names_at,
        });
        Ok(())
    }

    fn class(&self, index: usize) -> Result<ClassDef, Error> {
        self.classes
            .get(index)
            .ok_or_else(|| self.malformed("object", "undefined class reference"))
    }

    fn object(&mut self, def: usize) -> Result<Value<'a>, Error> {
        let def = self.class(def)?;
        self.enter()?;
        self.values(def.fields as usize)?;
        self.leave();
        Ok(Value::Object)
    }

    /// Read an object (after any class definitions before it) field by field:
    /// `(field name, value)` in declaration order.
    pub fn read_object(&mut self, field: &'static str) -> Result<ObjectFields<'_, 'a>, Error> {
        let def_tag = match self.dialect {
            Dialect::Hessian2 => b'C',
            Dialect::Draft => b'O',
        };
        while self.peek() == Some(def_tag) {
            self.pos += 1;
            self.class_def()?;
        }
        let index = match (self.byte(field)?, self.dialect) {
            (b'O', Dialect::Hessian2) | (b'o', Dialect::Draft) => {
                self.count("object class", usize::MAX)?
            }
            (tag @ 0x60..=0x6f, Dialect::Hessian2) => usize::from(tag - 0x60),
            _ => return Err(self.malformed(field, "expected an object")),
        };
        let def = self.class(index)?;
        if def.fields > 0 {
            self.enter()?;
        }
        Ok(ObjectFields {
            names: self.clone_at(def.names_at as usize),
            reader: self,
            left: def.fields as usize,
        })
    }

    /// A reader over the same buffer and dialect at `pos`, for re-reading names.
    fn clone_at(&self, pos: usize) -> Self {
        Self::at(self.buf, pos, self.limits, self.protocol).dialect(self.dialect)
    }

    fn value(&mut self) -> Result<Value<'a>, Error> {
        if self.dialect == Dialect::Draft {
            return self.draft_value();
        }
        let mut tag = self.byte("value")?;
        while tag == b'C' {
            // Definitions precede the value that uses them.
            self.class_def()?;
            tag = self.byte("value")?;
        }
        if let Some(value) = self.shared_value(tag)? {
            return Ok(value);
        }
        let rest = |r: &Self| r.buf.len() - r.pos;
        Ok(match tag {
            0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => {
                self.pos -= 1;
                Value::Str(self.string()?)
            }
            0x20..=0x2f | 0x34..=0x37 | b'A' | b'B' => {
                self.binary(tag)?;
                Value::Binary
            }
            0x59 => Value::Long(i64::from(i32::from_be_bytes(self.take("long")?))),
            0x5b => Value::Double(0.0),
            0x5c => Value::Double(1.0),
            0x5d => Value::Double(f64::from(i8::from_be_bytes(self.take("double")?))),
            0x5e => Value::Double(f64::from(i16::from_be_bytes(self.take("double")?))),
            0x5f => Value::Double(f64::from(i32::from_be_bytes(self.take("double")?)) / 1000.0),
            b'J' => Value::Date(i64::from_be_bytes(self.take("date")?)),
            b'K' => Value::Date(i64::from(i32::from_be_bytes(self.take("date")?)) * 60_000),
            b'V' | 0x70..=0x77 | 0x55 | 0x57 | 0x58 | 0x78..=0x7f => {
                self.enter()?;
                if matches!(tag, b'V' | 0x70..=0x77 | 0x55) {
                    self.type_name()?;
                }
                match tag {
                    b'V' | 0x58 => {
                        let n = self.count("list length", rest(self))?;
                        self.values(n)?;
                    }
                    0x70..=0x77 => self.values(usize::from(tag - 0x70))?,
                    0x78..=0x7f => self.values(usize::from(tag - 0x78))?,
                    _ => self.values_until_end()?,
                }
                self.leave();
                Value::List
            }
            b'O' => {
                let def = self.count("object class", usize::MAX)?;
                self.object(def)?
            }
            0x60..=0x6f => self.object(usize::from(tag - 0x60))?,
            b'Q' => {
                self.refs += 1;
                Value::Ref(self.int_value("ref")?)
            }
            _ => return Err(self.malformed("value", "reserved or misplaced tag")),
        })
    }
}

impl<'a> Reader<'a> {
    /// The values both dialects encode the same way: ints, compact and 64-bit
    /// longs, 64-bit doubles, null, booleans and maps (whose end tag and type
    /// form `read_map` takes from the dialect). `None` for any other tag.
    #[inline(always)]
    fn shared_value(&mut self, tag: u8) -> Result<Option<Value<'a>>, Error> {
        Ok(Some(match tag {
            0x80..=0xd7 | b'I' => {
                self.pos -= 1;
                Value::Int(self.int_value("int")?)
            }
            0xd8..=0xef => Value::Long(i64::from(tag) - 0xe0),
            0xf0..=0xff => {
                Value::Long(((i64::from(tag) - 0xf8) << 8) | i64::from(self.byte("long")?))
            }
            0x38..=0x3f => {
                let [b1, b0] = self.take("long")?;
                Value::Long(((i64::from(tag) - 0x3c) << 16) | (i64::from(b1) << 8) | i64::from(b0))
            }
            b'L' => Value::Long(i64::from_be_bytes(self.take("long")?)),
            b'D' => Value::Double(f64::from_be_bytes(self.take("double")?)),
            b'N' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'H' | b'M' => {
                self.pos -= 1;
                let mut entries = self.read_map("map", usize::MAX)?;
                for entry in &mut entries {
                    entry?;
                }
                Value::Map
            }
            _ => return Ok(None),
        }))
    }

    /// One value of the Hessian 2.0 draft (Hessian 3.x, hessian.js-1 `v2`).
    fn draft_value(&mut self) -> Result<Value<'a>, Error> {
        let mut tag = self.byte("value")?;
        while tag == b'O' {
            self.class_def()?;
            tag = self.byte("value")?;
        }
        if let Some(value) = self.shared_value(tag)? {
            return Ok(value);
        }
        let rest = |r: &Self| r.buf.len() - r.pos;
        Ok(match tag {
            0x00..=0x1f | b's' | b'S' => {
                self.pos -= 1;
                Value::Str(self.string()?)
            }
            0x20..=0x2f | b'b' | b'B' => {
                self.binary(tag)?;
                Value::Binary
            }
            b'w' => Value::Long(i64::from(i32::from_be_bytes(self.take("long")?))),
            0x67 => Value::Double(0.0),
            0x68 => Value::Double(1.0),
            0x69 => Value::Double(f64::from(i8::from_be_bytes(self.take("double")?))),
            0x6a => Value::Double(f64::from(i16::from_be_bytes(self.take("double")?))),
            0x6b => Value::Double(f64::from(f32::from_be_bytes(self.take("double")?))),
            b'd' => Value::Date(i64::from_be_bytes(self.take("date")?)),
            b'J' => Value::Ref(i32::from(self.byte("ref")?)),
            b'K' => Value::Ref(i32::from(u16::from_be_bytes(self.take("ref")?))),
            b'R' => Value::Ref(i32::from_be_bytes(self.take("ref")?)),
            b'V' => {
                self.enter()?;
                self.draft_type()?;
                let len = match self.peek() {
                    Some(b'n') => {
                        self.pos += 1;
                        Some(usize::from(self.byte("list length")?))
                    }
                    Some(b'l') => {
                        self.pos += 1;
                        let n = u32::from_be_bytes(self.take("list length")?) as usize;
                        (n <= rest(self)).then_some(n).ok_or_else(|| {
                            self.malformed("list length", "larger than the rest of the message")
                        })?;
                        Some(n)
                    }
                    _ => None,
                };
                if let Some(n) = len {
                    self.values(n)?;
                }
                while self.peek() != Some(b'z') {
                    if self.peek().is_none() {
                        return Err(self.malformed("list", "missing end tag z"));
                    }
                    self.skip_value()?;
                }
                self.pos += 1;
                self.leave();
                Value::List
            }
            b'v' => {
                self.enter()?;
                self.int_value("list type")?;
                let n = self.count("list length", rest(self))?;
                self.values(n)?;
                self.leave();
                Value::List
            }
            b'o' => {
                let def = self.count("object class", usize::MAX)?;
                self.object(def)?
            }
            _ => return Err(self.malformed("value", "reserved or misplaced tag")),
        })
    }
}

/// The fields of an object being read: `(name, value)` in declaration order.
/// When the iterator ends the reader stands after the object.
#[derive(Debug)]
pub struct ObjectFields<'r, 'a> {
    reader: &'r mut Reader<'a>,
    names: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for ObjectFields<'_, 'a> {
    type Item = Result<(Str<'a>, Item<'a>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        if self.left == 0 {
            self.reader.leave();
        }
        let entry = self
            .names
            .string()
            .and_then(|name| Ok((name, self.reader.read_value()?)));
        if entry.is_err() {
            self.left = 0;
        }
        Some(entry)
    }
}

/// The entries of a map being read: `(key, value)` items until the end tag.
/// When the iterator ends the reader stands after the map.
#[derive(Debug)]
pub struct MapEntries<'r, 'a> {
    reader: &'r mut Reader<'a>,
    header: MapHeader,
    field: &'static str,
    end: u8,
    count: usize,
    max_entries: usize,
    done: bool,
}

impl<'a> MapEntries<'_, 'a> {
    /// The map's header.
    pub fn header(&self) -> MapHeader {
        self.header
    }

    /// Offset just past the map (after the iterator is exhausted), else the current position.
    pub fn pos(&self) -> usize {
        self.reader.pos
    }

    fn entry(&mut self) -> Result<Option<(Item<'a>, Item<'a>)>, Error> {
        match self.reader.peek() {
            Some(tag) if tag == self.end => {
                self.reader.pos += 1;
                self.reader.leave();
                return Ok(None);
            }
            None => return Err(self.reader.malformed(self.field, "missing end tag")),
            Some(_) => {}
        }
        self.count += 1;
        if self.count > self.max_entries {
            return Err(Error::LimitExceeded {
                protocol: self.reader.protocol,
                field: self.field,
                limit: "max_header_entries",
                value: self.count as u64,
                max: self.max_entries as u64,
            });
        }
        let key = self.reader.read_value()?;
        let value = self.reader.read_value()?;
        Ok(Some((key, value)))
    }
}

impl<'a> Iterator for MapEntries<'_, 'a> {
    type Item = Result<(Item<'a>, Item<'a>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let entry = self.entry();
        if !matches!(entry, Ok(Some(_))) {
            self.done = true;
        }
        entry.transpose()
    }
}
