//! Editing a map in place: the edits applied, untouched entries copied byte for
//! byte, new strings written as hessian-lite writes them. This is how codecs
//! write header (attachment, props) edits back without re-serializing a body.

use std::ops::Range;

use bytes::Bytes;
use xprotocol_core::{Error, HeaderEdit, Limits};

use crate::{Item, Reader, Writer};

/// A re-encoded map and the bytes it replaces.
#[derive(Debug, Clone)]
pub struct EditedMap {
    /// The range of the old map in the buffer (empty, at `at`, when there was none).
    pub replaced: Range<usize>,
    /// The new map (empty when there was no map and nothing is left to write).
    pub bytes: Bytes,
    /// Number of entries in the new map.
    pub entries: usize,
}

/// One entry being re-encoded: key and value, copied or new.
#[derive(Debug)]
enum Part<'a> {
    Raw(Item<'a>),
    New(&'a str),
}

impl Part<'_> {
    fn is(&self, key: &str) -> bool {
        match self {
            Part::Raw(item) => item.as_str().is_some_and(|s| s.eq_str(key)),
            Part::New(k) => *k == key,
        }
    }

    fn write(&self, buf: &[u8], w: &mut Writer) {
        match self {
            Part::Raw(item) => w.raw(&buf[item.start..item.end]),
            Part::New(s) => w.string(s),
        };
    }
}

/// Apply `edits` to the map (`H` or `M`, final Hessian 2) at `map_at` in `buf`,
/// or to a new untyped map when `map_at` is `None` (`at` says where it goes).
///
/// `Set` replaces the value of the first entry with that key (later duplicates
/// are dropped) or appends one; `Remove` drops every entry with that key. The
/// map keeps its form and type. A map holding references (`Q`) is refused with
/// [`Error::Unsupported`]: dropping an entry could shift them. Entry and size
/// limits come from `limits` (`max_header_entries`, `max_header_bytes`).
pub fn edit_map<'a>(
    buf: &'a [u8],
    map_at: Option<usize>,
    at: usize,
    edits: &[HeaderEdit<'a>],
    limits: &'a Limits,
    protocol: &'static str,
) -> Result<EditedMap, Error> {
    let mut entries: Vec<(Part<'a>, Part<'a>)> = Vec::new();
    let (replaced, head) = match map_at {
        Some(start) => {
            let mut reader = Reader::at(buf, start, limits, protocol);
            let mut map = reader.read_map("map", limits.max_header_entries)?;
            let header = map.header();
            for pair in &mut map {
                let (k, v) = pair?;
                entries.push((Part::Raw(k), Part::Raw(v)));
            }
            let end = map.pos();
            if reader.refs_seen() > 0 {
                return Err(Error::Unsupported {
                    protocol,
                    what: "editing a map that holds references",
                });
            }
            (start..end, &buf[start..header.entries_at])
        }
        None => (at..at, &b"H"[..]),
    };
    for edit in edits {
        match *edit {
            HeaderEdit::Set(key, value) => {
                let mut seen = false;
                entries.retain_mut(|(k, v)| {
                    if !k.is(key) {
                        return true;
                    }
                    let first = !seen;
                    if first {
                        *v = Part::New(value);
                    }
                    seen = true;
                    first
                });
                if !seen {
                    entries.push((Part::New(key), Part::New(value)));
                }
            }
            HeaderEdit::Remove(key) => entries.retain(|(k, _)| !k.is(key)),
        }
    }
    let limit = |limit, value: usize, max: usize| Error::LimitExceeded {
        protocol,
        field: "map",
        limit,
        value: value as u64,
        max: max as u64,
    };
    if entries.len() > limits.max_header_entries {
        return Err(limit(
            "max_header_entries",
            entries.len(),
            limits.max_header_entries,
        ));
    }
    let mut w = Writer::with_capacity(replaced.len() + 64);
    if map_at.is_some() || !entries.is_empty() {
        w.raw(head);
        for (k, v) in &entries {
            k.write(buf, &mut w);
            v.write(buf, &mut w);
        }
        w.map_end();
    }
    if w.len() > limits.max_header_bytes {
        return Err(limit("max_header_bytes", w.len(), limits.max_header_bytes));
    }
    Ok(EditedMap {
        replaced,
        bytes: w.into_bytes(),
        entries: entries.len(),
    })
}
