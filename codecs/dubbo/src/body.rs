//! Where things are in a Hessian2 Dubbo body.
//!
//! Request: dubbo version, path, service version, method, parameter-type
//! descriptor, one value per parameter, then the attachments map (`H` or `M`).
//! Response (status 20): a response flag, then by flag a value, an exception or
//! nothing, and for flags 3–5 the attachments map. Any other status: an error
//! string (some peers append the attachments map).

use xprotocol_core::{Error, Limits};
use xprotocol_hessian2::{Item, MapHeader, Reader, Str, Value};

use crate::header::HEADER_LEN;
use crate::{PROTOCOL, serialization, status};

/// Where an attachments map is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attachments {
    pub(crate) header: MapHeader,
}

/// The fields of a request body (offsets are into the whole frame).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestBody<'a> {
    pub(crate) dubbo_version: Option<Str<'a>>,
    pub(crate) path: Option<Str<'a>>,
    pub(crate) version: Option<Str<'a>>,
    pub(crate) method: Option<Str<'a>>,
    pub(crate) descriptor: Option<Str<'a>>,
    pub(crate) attachments: Option<Attachments>,
}

/// The fields of a response body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponseBody<'a> {
    /// The response flag (status 20 only).
    pub(crate) flag: Option<i32>,
    /// The value, exception or error string.
    pub(crate) value: Option<Item<'a>>,
    pub(crate) attachments: Option<Attachments>,
}

/// Response flags.
pub mod response_flag {
    /// An exception follows.
    pub const EXCEPTION: i32 = 0;
    /// A value follows.
    pub const VALUE: i32 = 1;
    /// Nothing follows.
    pub const NULL_VALUE: i32 = 2;
    /// An exception, then attachments.
    pub const EXCEPTION_WITH_ATTACHMENTS: i32 = 3;
    /// A value, then attachments.
    pub const VALUE_WITH_ATTACHMENTS: i32 = 4;
    /// Nothing, then attachments.
    pub const NULL_VALUE_WITH_ATTACHMENTS: i32 = 5;
}

/// The number of parameters a JVM descriptor lists (`Ljava/lang/String;[I` → 2).
pub fn parameter_count(descriptor: &[u8]) -> Result<usize, Error> {
    let bad = |reason| Error::Malformed {
        protocol: PROTOCOL,
        field: "parameter types",
        reason,
    };
    let mut count = 0;
    let mut i = 0;
    while i < descriptor.len() {
        match descriptor[i] {
            b'[' => {}
            b'V' | b'Z' | b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' => count += 1,
            b'L' => {
                let end = descriptor[i..]
                    .iter()
                    .position(|&b| b == b';')
                    .ok_or(bad("class name without ';'"))?;
                i += end;
                count += 1;
            }
            _ => return Err(bad("not a JVM type descriptor")),
        }
        i += 1;
    }
    Ok(count)
}

pub(crate) fn require_hessian2(serialization_id: u8) -> Result<(), Error> {
    if serialization_id == serialization::HESSIAN2 {
        Ok(())
    } else {
        Err(Error::Unsupported {
            protocol: PROTOCOL,
            what: "a body serialization other than hessian2",
        })
    }
}

/// Read an attachments map at the reader's position, calling `entry` for each pair.
pub(crate) fn read_attachments<'a>(
    reader: &mut Reader<'a>,
    limits: &Limits,
    mut entry: impl FnMut(Item<'a>, Item<'a>),
) -> Result<Attachments, Error> {
    let mut entries = reader.read_map("attachments", limits.max_header_entries)?;
    let header = entries.header();
    for pair in &mut entries {
        let (k, v) = pair?;
        entry(k, v);
    }
    let end = entries.pos();
    if end - header.start > limits.max_header_bytes {
        return Err(Error::LimitExceeded {
            protocol: PROTOCOL,
            field: "attachments",
            limit: "max_header_bytes",
            value: (end - header.start) as u64,
            max: limits.max_header_bytes as u64,
        });
    }
    Ok(Attachments { header })
}

/// Lay out a request body; `entry` sees every attachment.
pub(crate) fn request<'a>(
    frame: &'a [u8],
    limits: &'a Limits,
    entry: impl FnMut(Item<'a>, Item<'a>),
) -> Result<RequestBody<'a>, Error> {
    let mut r = Reader::at(frame, HEADER_LEN, limits, PROTOCOL);
    let dubbo_version = r.read_str_field("dubbo version")?;
    let path = r.read_str_field("service path")?;
    let version = r.read_str_field("service version")?;
    let method = r.read_str_field("method")?;
    let descriptor = r.read_str_field("parameter types")?;
    let params = match &descriptor {
        Some(d) => match d.as_str() {
            Some(text) => parameter_count(text.as_bytes())?,
            None => parameter_count(d.to_string_lossy().as_bytes())?,
        },
        None => 0,
    };
    for _ in 0..params {
        r.skip_value()?;
    }
    let attachments = match r.peek() {
        None => None,
        Some(_) => Some(read_attachments(&mut r, limits, entry)?),
    };
    Ok(RequestBody {
        dubbo_version,
        path,
        version,
        method,
        descriptor,
        attachments,
    })
}

/// Lay out a response body; `entry` sees every attachment.
pub(crate) fn response<'a>(
    frame: &'a [u8],
    status_byte: u8,
    limits: &'a Limits,
    entry: impl FnMut(Item<'a>, Item<'a>),
) -> Result<ResponseBody<'a>, Error> {
    let mut r = Reader::at(frame, HEADER_LEN, limits, PROTOCOL);
    if status_byte != status::OK {
        let value = if r.is_empty() {
            None
        } else {
            Some(r.read_value()?)
        };
        let attachments = match r.peek() {
            Some(b'H' | b'M') => Some(read_attachments(&mut r, limits, entry)?),
            _ => None,
        };
        return Ok(ResponseBody {
            flag: None,
            value,
            attachments,
        });
    }
    let flag = r.read_int("response flag")?;
    let value = match flag {
        response_flag::NULL_VALUE | response_flag::NULL_VALUE_WITH_ATTACHMENTS => None,
        0..=5 => Some(r.read_value()?),
        _ => {
            return Err(Error::Malformed {
                protocol: PROTOCOL,
                field: "response flag",
                reason: "not 0..=5",
            });
        }
    };
    let attachments = match flag {
        3..=5 => Some(read_attachments(&mut r, limits, entry)?),
        _ => None,
    };
    Ok(ResponseBody {
        flag: Some(flag),
        value,
        attachments,
    })
}

/// The message of an exception value: a string, or a Throwable's `detailMessage`.
pub(crate) fn exception_message(frame: &[u8], item: &Item<'_>, limits: &Limits) -> Option<String> {
    match &item.value {
        Value::Str(s) => Some(s.to_string_lossy()),
        Value::Object => {
            let mut r = Reader::at(frame, item.start, limits, PROTOCOL);
            let fields = r.read_object("exception").ok()?;
            for field in fields {
                let (name, value) = field.ok()?;
                if name.eq_str("detailMessage") {
                    return value.as_str().map(Str::to_string_lossy);
                }
            }
            None
        }
        _ => None,
    }
}
