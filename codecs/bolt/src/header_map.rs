//! The Bolt header map: `[u32 key length][key][u32 value length][value]`
//! repeated until the header length is used up; a length of `0xFFFF_FFFF` is a
//! null key or value. Order is kept; every length is bounds-checked.

use bytes::{BufMut, BytesMut};
use xprotocol_core::{Error, Limits};

use crate::PROTOCOL;

/// Length that marks a null key or value.
pub const NULL_LEN: u32 = u32::MAX;

/// One raw entry: ranges relative to the start of the header map; `None` is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEntry {
    /// The key's range, or null.
    pub key: Option<(usize, usize)>,
    /// The value's range, or null.
    pub value: Option<(usize, usize)>,
}

/// Iterates the entries of a header map without allocating.
#[derive(Debug, Clone)]
pub struct HeaderMapIter<'a> {
    block: &'a [u8],
    pos: usize,
    count: usize,
    max_entries: usize,
}

impl<'a> HeaderMapIter<'a> {
    /// Iterate `block`, failing past `limits.max_header_entries` entries or
    /// when the block is longer than `limits.max_header_bytes`.
    pub fn new(block: &'a [u8], limits: &Limits) -> Result<Self, Error> {
        if block.len() > limits.max_header_bytes {
            return Err(Error::LimitExceeded {
                protocol: PROTOCOL,
                field: "header map",
                limit: "max_header_bytes",
                value: block.len() as u64,
                max: limits.max_header_bytes as u64,
            });
        }
        Ok(Self {
            block,
            pos: 0,
            count: 0,
            max_entries: limits.max_header_entries,
        })
    }

    fn item(&mut self, field: &'static str) -> Result<Option<(usize, usize)>, Error> {
        let truncated = || Error::Malformed {
            protocol: PROTOCOL,
            field,
            reason: "length runs past the header map",
        };
        let Some(&[a, b, c, d]) = self
            .block
            .get(self.pos..self.pos + 4)
            .and_then(|s| s.first_chunk::<4>())
        else {
            return Err(truncated());
        };
        let len = u32::from_be_bytes([a, b, c, d]);
        self.pos += 4;
        if len == NULL_LEN {
            return Ok(None);
        }
        let start = self.pos;
        let end = start + len as usize;
        if end > self.block.len() {
            return Err(truncated());
        }
        self.pos = end;
        Ok(Some((start, len as usize)))
    }
}

impl Iterator for HeaderMapIter<'_> {
    type Item = Result<RawEntry, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.block.len() {
            return None;
        }
        self.count += 1;
        if self.count > self.max_entries {
            self.pos = self.block.len();
            return Some(Err(Error::LimitExceeded {
                protocol: PROTOCOL,
                field: "header map",
                limit: "max_header_entries",
                value: self.count as u64,
                max: self.max_entries as u64,
            }));
        }
        let entry = self.item("header key").and_then(|key| {
            Ok(RawEntry {
                key,
                value: self.item("header value")?,
            })
        });
        if entry.is_err() {
            self.pos = self.block.len();
        }
        Some(entry)
    }
}

/// Append one entry to an encoded header map (`None` writes a null).
pub fn put_entry(dst: &mut BytesMut, key: Option<&[u8]>, value: Option<&[u8]>) {
    for item in [key, value] {
        match item {
            Some(bytes) => {
                dst.put_u32(bytes.len() as u32);
                dst.extend_from_slice(bytes);
            }
            None => dst.put_u32(NULL_LEN),
        }
    }
}
