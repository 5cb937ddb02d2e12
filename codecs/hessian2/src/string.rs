//! Hessian2 strings: lengths in UTF-16 units, chunks, Java's surrogate pairs.

use std::ops::Range;

use crate::Dialect;

/// A string as it stands in the buffer: its raw encoding (chunk tags included)
/// and where it is. Reading it copied nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    buf: &'a [u8],
    range: (usize, usize),
    utf16_len: usize,
    chunks: usize,
    dialect: Dialect,
    ascii: bool,
}

/// Header of one string chunk at `buf[at..]`: (is final, UTF-16 units, header length).
pub(crate) fn chunk_header(
    buf: &[u8],
    at: usize,
    dialect: Dialect,
) -> Option<(bool, usize, usize)> {
    let tag = *buf.get(at)?;
    let long = |last| {
        Some((
            last,
            usize::from(u16::from_be_bytes([*buf.get(at + 1)?, *buf.get(at + 2)?])),
            3,
        ))
    };
    match (dialect, tag) {
        (_, 0x00..=0x1f) => Some((true, usize::from(tag), 1)),
        (_, b'S') => long(true),
        (Dialect::Hessian2, 0x30..=0x33) => Some((
            true,
            (usize::from(tag - 0x30) << 8) | usize::from(*buf.get(at + 1)?),
            2,
        )),
        (Dialect::Hessian2, b'R') | (Dialect::Draft, b's') => long(false),
        _ => None,
    }
}

/// True when `tag` starts a string in `dialect`.
pub(crate) fn is_string_tag(tag: u8, dialect: Dialect) -> bool {
    match dialect {
        Dialect::Hessian2 => matches!(tag, 0x00..=0x1f | 0x30..=0x33 | b'R' | b'S'),
        Dialect::Draft => matches!(tag, 0x00..=0x1f | b's' | b'S'),
    }
}

/// Byte length of `units` UTF-16 units of (modified) UTF-8 at `buf[at..]`.
/// `Err(reason)` on a bad lead or continuation byte, or a 4-byte sequence
/// that would straddle the chunk's unit count.
pub(crate) fn utf16_units_len(
    buf: &[u8],
    at: usize,
    mut units: usize,
) -> Result<usize, &'static str> {
    // Fast path: `units` ASCII bytes are exactly `units` UTF-16 units.
    if buf.get(at..at + units).is_some_and(<[u8]>::is_ascii) {
        return Ok(units);
    }
    let mut i = at;
    while units > 0 {
        let lead = *buf.get(i).ok_or("string runs past the end")?;
        let (bytes, count) = match lead {
            0x00..=0x7f => (1, 1),
            0xc0..=0xdf => (2, 1),
            0xe0..=0xef => (3, 1),
            0xf0..=0xf7 if units >= 2 => (4, 2),
            0xf0..=0xf7 => return Err("4-byte character splits a UTF-16 unit count"),
            _ => return Err("bad UTF-8 lead byte"),
        };
        let tail = buf
            .get(i + 1..i + bytes)
            .ok_or("string runs past the end")?;
        if tail.iter().any(|&b| b & 0xc0 != 0x80) {
            return Err("bad UTF-8 continuation byte");
        }
        i += bytes;
        units -= count;
    }
    Ok(i - at)
}

impl<'a> Str<'a> {
    pub(crate) fn new(
        buf: &'a [u8],
        range: (usize, usize),
        utf16_len: usize,
        chunks: usize,
        dialect: Dialect,
        ascii: bool,
    ) -> Self {
        Self {
            buf,
            range,
            utf16_len,
            chunks,
            dialect,
            ascii,
        }
    }

    /// True when every character is ASCII (then the string is valid UTF-8).
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// The characters' bytes, when the string is one chunk (no copy, no validation).
    pub fn content(&self) -> Option<&'a [u8]> {
        self.content_range().map(|r| &self.buf[r])
    }

    /// The raw encoding, tags included (what pass-through copies).
    pub fn raw(&self) -> &'a [u8] {
        &self.buf[self.range.0..self.range.1]
    }

    /// Where the raw encoding sits in the reader's buffer.
    pub fn raw_range(&self) -> Range<usize> {
        self.range.0..self.range.1
    }

    /// Length in UTF-16 units (what Java's `String.length()` says).
    pub fn utf16_len(&self) -> usize {
        self.utf16_len
    }

    /// The range of the characters in the buffer, when the string is one chunk.
    pub fn content_range(&self) -> Option<Range<usize>> {
        if self.chunks != 1 {
            return None;
        }
        let header = match self.buf[self.range.0] {
            0x00..=0x1f => 1,
            0x30..=0x33 => 2,
            _ => 3,
        };
        Some(self.range.0 + header..self.range.1)
    }

    /// The string as `&str` without copying: one chunk of valid UTF-8 (no
    /// Java surrogate pairs, no modified-UTF-8 NUL). `None` otherwise; use
    /// [`Str::to_string_lossy`] then.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(&self.buf[self.content_range()?]).ok()
    }

    /// The string as a [`Text`](xprotocol_core::Text) of the frame whose bytes
    /// start `offset` bytes before the reader's buffer: a zero-copy span when the
    /// string is one chunk of valid UTF-8, else the decoded UTF-8 (owned).
    pub fn to_text(&self, offset: usize) -> xprotocol_core::Text {
        match self.content_range() {
            Some(range) if self.ascii || std::str::from_utf8(&self.buf[range.clone()]).is_ok() => {
                xprotocol_core::Text::span(offset + range.start, range.len())
            }
            _ => {
                xprotocol_core::Text::Owned(self.to_string_lossy().into_bytes().into_boxed_slice())
            }
        }
    }

    /// The string as UTF-8: surrogate pairs joined, chunks concatenated, lone
    /// surrogates and overlong forms replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        if let Some(s) = self.as_str() {
            return s.to_owned();
        }
        let units = self.utf16_units();
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    }

    /// True when the string equals `s` (surrogate pairs compare as the character they encode).
    pub fn eq_str(&self, s: &str) -> bool {
        match self.content() {
            Some(bytes) if self.ascii => bytes == s.as_bytes(),
            _ => match self.as_str() {
                Some(mine) => mine == s,
                None => self.utf16_len == s.encode_utf16().count() && self.to_string_lossy() == s,
            },
        }
    }

    /// The UTF-16 units, decoded from every chunk.
    fn utf16_units(&self) -> impl Iterator<Item = u16> + 'a {
        let buf = self.buf;
        let dialect = self.dialect;
        let end = self.range.1;
        let mut at = self.range.0;
        let mut left = 0usize; // bytes left in the current chunk's characters
        let mut pending_low: Option<u16> = None;
        std::iter::from_fn(move || {
            if let Some(low) = pending_low.take() {
                return Some(low);
            }
            while left == 0 {
                if at >= end {
                    return None;
                }
                let (_, units, header) = chunk_header(buf, at, dialect)?;
                let bytes = utf16_units_len(buf, at + header, units).ok()?;
                at += header;
                left = bytes;
            }
            let lead = buf[at];
            let (len, cp) = match lead {
                0x00..=0x7f => (1, u32::from(lead)),
                0xc0..=0xdf => (
                    2,
                    (u32::from(lead & 0x1f) << 6) | u32::from(buf[at + 1] & 0x3f),
                ),
                0xe0..=0xef => (
                    3,
                    (u32::from(lead & 0x0f) << 12)
                        | (u32::from(buf[at + 1] & 0x3f) << 6)
                        | u32::from(buf[at + 2] & 0x3f),
                ),
                _ => (
                    4,
                    (u32::from(lead & 0x07) << 18)
                        | (u32::from(buf[at + 1] & 0x3f) << 12)
                        | (u32::from(buf[at + 2] & 0x3f) << 6)
                        | u32::from(buf[at + 3] & 0x3f),
                ),
            };
            at += len;
            left -= len;
            if cp > 0xffff {
                let c = cp - 0x1_0000;
                pending_low = Some(0xdc00 | (c & 0x3ff) as u16);
                return Some(0xd800 | ((c >> 10) & 0x3ff) as u16);
            }
            Some(cp as u16)
        })
    }
}
