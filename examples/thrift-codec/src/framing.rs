//! Layer 1: sniffing and splitting on the 4-byte frame length.
//!
//! Both functions look at fixed offsets only: no allocation, no copy, and the
//! same cost for any frame size.

use crate::wire::{FRAME_HEADER_LEN, MIN_MESSAGE_LEN, VERSION_1, message_type, u32_at};
use crate::{PROTOCOL, ThriftCodec, xp};

fn is_type(b: u8) -> bool {
    (message_type::CALL..=message_type::ONEWAY).contains(&b)
}

impl xp::Framing for ThriftCodec {
    /// `Match` for a frame length within `max_frame_len` followed by either a
    /// strict version word `80 01 00 <type 1..4>`, or a non-strict name length
    /// that fits the frame and a type byte 1..4 after the name. Shorter prefixes
    /// consistent with that are `NeedMore`. (Non-strict sniffing is weaker:
    /// it relies on the lengths and the type byte alone.)
    fn probe(&self, prefix: &[u8]) -> xp::Probe {
        // The smallest length the prefix allows: its bytes, zero-padded.
        let mut len = [0u8; 4];
        let have = prefix.len().min(4);
        len[..have].copy_from_slice(&prefix[..have]);
        let len = u64::from(u32::from_be_bytes(len));
        if len + FRAME_HEADER_LEN as u64 > self.limits.max_frame_len as u64 || len > i32::MAX as u64
        {
            return xp::Probe::NoMatch;
        }
        if prefix.len() < FRAME_HEADER_LEN {
            return xp::Probe::NeedMore;
        }
        if len < MIN_MESSAGE_LEN as u64 {
            return xp::Probe::NoMatch;
        }
        match &prefix[FRAME_HEADER_LEN..] {
            [] => xp::Probe::NeedMore,
            [0x80] | [0x80, 0x01] | [0x80, 0x01, 0x00] => xp::Probe::NeedMore,
            [0x80, 0x01, 0x00, ty, ..] if is_type(*ty) && len >= 13 => xp::Probe::Match,
            [b, ..] if b & 0x80 != 0 => xp::Probe::NoMatch,
            message if message.len() < 4 => xp::Probe::NeedMore,
            message => {
                let name_len = u64::from(u32_at(message, 0));
                if name_len + MIN_MESSAGE_LEN as u64 > len
                    || name_len > self.limits.max_header_bytes as u64
                {
                    return xp::Probe::NoMatch;
                }
                match message.get(4 + name_len as usize) {
                    None => xp::Probe::NeedMore,
                    Some(&ty) if is_type(ty) => xp::Probe::Match,
                    Some(_) => xp::Probe::NoMatch,
                }
            }
        }
    }

    /// The frame is `4 + length` bytes. A length above `max_frame_len`, below
    /// the smallest message (10 bytes) or a first message byte with the high
    /// bit set that is not the `80 01` version is a framing error.
    fn split_frame(&self, buf: &[u8]) -> Result<xp::Split, xp::Error> {
        let Some(len) = buf.first_chunk::<4>() else {
            let need = FRAME_HEADER_LEN + MIN_MESSAGE_LEN - buf.len();
            return Ok(xp::Split::Incomplete(xp::Needed::AtLeast(need)));
        };
        let len = u64::from(u32::from_be_bytes(*len));
        let total = len + FRAME_HEADER_LEN as u64;
        if total > self.limits.max_frame_len as u64 || len > i32::MAX as u64 {
            return Err(crate::wire::too_large(total, &self.limits));
        }
        if len < MIN_MESSAGE_LEN as u64 {
            return Err(xp::Error::BadFrameHeader {
                protocol: PROTOCOL,
                field: "frame length",
                reason: "shorter than the smallest message (10 bytes)",
            });
        }
        if let Some(&b) = buf.get(4)
            && b & 0x80 != 0
        {
            for (offset, expect) in [(4, VERSION_1[0]), (5, VERSION_1[1])] {
                match buf.get(offset) {
                    Some(&found) if found != expect => {
                        return Err(xp::Error::BadMagic {
                            protocol: PROTOCOL,
                            offset,
                            found,
                        });
                    }
                    _ => {}
                }
            }
        }
        // `total` fits `max_frame_len`, a usize.
        let total = total as usize;
        Ok(match buf.len() {
            have if have >= total => xp::Split::Complete(total),
            have => xp::Split::Incomplete(xp::Needed::Exact(total - have)),
        })
    }
}
