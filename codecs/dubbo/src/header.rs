//! The 16-byte Dubbo header.
//!
//! ```text
//!  0      2      3        4                      12           16
//!  +------+------+--------+----------------------+------------+---------
//!  | dabb | flag | status | request id (u64)     | body (u32) | body …
//!  +------+------+--------+----------------------+------------+---------
//!  flag: 0x80 request | 0x40 two-way | 0x20 event | 0x1f serialization id
//! ```

use bytes::{BufMut, BytesMut};
use xprotocol_core::Error;

use crate::PROTOCOL;

/// The magic number.
pub const MAGIC: [u8; 2] = [0xda, 0xbb];
/// Length of the header.
pub const HEADER_LEN: usize = 16;
/// Offset of the request id.
pub const ID_AT: usize = 4;

/// Flag bits.
pub mod flag {
    /// A request (else a response).
    pub const REQUEST: u8 = 0x80;
    /// The request expects a response.
    pub const TWO_WAY: u8 = 0x40;
    /// An event: heartbeat or read-only (goaway).
    pub const EVENT: u8 = 0x20;
    /// The serialization id bits.
    pub const SERIALIZATION: u8 = 0x1f;
}

/// The fixed header of one Dubbo frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DubboHeader {
    /// The flag byte.
    pub flag: u8,
    /// The status byte (meaningful in responses).
    pub status: u8,
    /// The request id.
    pub request_id: u64,
    /// Length of the body.
    pub body_len: u32,
}

impl DubboHeader {
    /// Parse the header at the front of `buf` (`Ok(None)`: fewer than 16 bytes).
    pub fn parse(buf: &[u8]) -> Result<Option<Self>, Error> {
        check_magic(buf)?;
        let Some(h) = buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        Ok(Some(Self {
            flag: h[2],
            status: h[3],
            request_id: u64::from_be_bytes([h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11]]),
            body_len: u32::from_be_bytes([h[12], h[13], h[14], h[15]]),
        }))
    }

    /// True for requests.
    pub fn is_request(&self) -> bool {
        self.flag & flag::REQUEST != 0
    }
    /// True when the two-way bit is set.
    pub fn is_two_way(&self) -> bool {
        self.flag & flag::TWO_WAY != 0
    }
    /// True for events (heartbeats, read-only).
    pub fn is_event(&self) -> bool {
        self.flag & flag::EVENT != 0
    }
    /// The serialization id (2 = hessian2).
    pub fn serialization(&self) -> u8 {
        self.flag & flag::SERIALIZATION
    }

    /// Length of the whole frame.
    pub fn frame_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.body_len)
    }

    /// Append the header to `dst`.
    pub fn write(&self, dst: &mut BytesMut) {
        dst.put_slice(&MAGIC);
        dst.put_u8(self.flag);
        dst.put_u8(self.status);
        dst.put_u64(self.request_id);
        dst.put_u32(self.body_len);
    }
}

/// The magic bytes present so far are right.
pub(crate) fn check_magic(buf: &[u8]) -> Result<(), Error> {
    for (offset, (&found, &want)) in buf.iter().zip(&MAGIC).enumerate() {
        if found != want {
            return Err(Error::BadMagic {
                protocol: PROTOCOL,
                offset,
                found,
            });
        }
    }
    Ok(())
}
