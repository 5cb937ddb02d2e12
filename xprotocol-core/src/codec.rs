//! The umbrella trait a proxy holds, static or plugin alike.

use std::fmt;

use bytes::Bytes;

use crate::{Error, Facts, Framing, Multiplexing, Routing, Transcoding};

/// Which layers a codec supports. Framing is always there.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities(u8);

impl Capabilities {
    /// Layer 1: sniffing and frame boundaries.
    pub const FRAMING: Self = Self(1);
    /// Layer 2: kinds, request ids, heartbeats, goaway.
    pub const MULTIPLEXING: Self = Self(2);
    /// Layer 3: routing view, header mutation, local replies.
    pub const ROUTING: Self = Self(4);
    /// Layer 4: HTTP/2 transcoding.
    pub const TRANSCODING: Self = Self(8);

    /// True when every layer in `other` is supported.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The raw bits (1 framing, 2 multiplexing, 4 routing, 8 transcoding).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Names of the layers, in order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (Self::FRAMING, "framing"),
            (Self::MULTIPLEXING, "multiplexing"),
            (Self::ROUTING, "routing"),
            (Self::TRANSCODING, "transcoding"),
        ]
        .into_iter()
        .filter(move |(c, _)| self.contains(*c))
        .map(|(_, n)| n)
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// One protocol: its name, its sniffer and splitter, and whichever higher layers
/// it supports. Object-safe: a proxy holds `Arc<dyn Codec>`.
///
/// A proxy pays only for the layers it calls: framing and multiplexing read fixed
/// header fields and never allocate; routing parses the header map on demand;
/// transcoding builds an HTTP/2 message.
pub trait Codec: Send + Sync + 'static {
    /// Protocol name, lower case (`bolt`, `dubbo`, …).
    fn name(&self) -> &str;

    /// Layer 1 (always supported).
    fn framing(&self) -> &dyn Framing;

    /// Layer 2, when supported.
    fn multiplexing(&self) -> Option<&dyn Multiplexing> {
        None
    }

    /// Layer 3, when supported.
    fn routing(&self) -> Option<&dyn Routing> {
        None
    }

    /// Layer 4, when supported.
    fn transcoding(&self) -> Option<&dyn Transcoding> {
        None
    }

    /// Named facts about a whole frame, for operators and conformance tests.
    fn facts(&self, frame: &Bytes) -> Result<Facts, Error>;

    /// The layers supported, derived from which accessors return `Some`.
    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::FRAMING;
        if self.multiplexing().is_some() {
            caps = caps.union(Capabilities::MULTIPLEXING);
        }
        if self.routing().is_some() {
            caps = caps.union(Capabilities::ROUTING);
        }
        if self.transcoding().is_some() {
            caps = caps.union(Capabilities::TRANSCODING);
        }
        caps
    }
}

impl fmt::Debug for dyn Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("name", &self.name())
            .field("capabilities", &self.capabilities())
            .finish()
    }
}

/// Implement [`Codec`] for a type that implements all four layer traits
/// ([`Framing`], [`Multiplexing`], [`Routing`], [`Transcoding`]) and has an
/// inherent `fn frame_facts(&self, frame: &Bytes) -> Result<Facts, Error>`.
///
/// ```ignore
/// xprotocol_core::impl_codec!(BoltCodec, "bolt");
/// ```
#[macro_export]
macro_rules! impl_codec {
    ($codec:ty, $name:expr) => {
        impl $crate::Codec for $codec {
            fn name(&self) -> &str {
                $name
            }
            fn framing(&self) -> &dyn $crate::Framing {
                self
            }
            fn multiplexing(&self) -> ::core::option::Option<&dyn $crate::Multiplexing> {
                ::core::option::Option::Some(self)
            }
            fn routing(&self) -> ::core::option::Option<&dyn $crate::Routing> {
                ::core::option::Option::Some(self)
            }
            fn transcoding(&self) -> ::core::option::Option<&dyn $crate::Transcoding> {
                ::core::option::Option::Some(self)
            }
            fn facts(
                &self,
                frame: &$crate::bytes::Bytes,
            ) -> ::core::result::Result<$crate::Facts, $crate::Error> {
                self.frame_facts(frame)
            }
        }
    };
}
