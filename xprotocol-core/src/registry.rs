//! A set of codecs and protocol detection for new connections.

use std::sync::Arc;

use crate::{Codec, Probe};

/// Outcome of [`Registry::detect`].
#[derive(Debug, Clone)]
pub enum Detection {
    /// This codec speaks the connection's protocol.
    Matched(Arc<dyn Codec>),
    /// Not enough bytes to decide: read more and detect again.
    NeedMore,
    /// No registered codec matches.
    Unknown,
}

/// The codecs a proxy knows, in priority order.
///
/// ```
/// # use std::sync::Arc;
/// # use xprotocol_core::*;
/// # struct Magic(&'static str, u8);
/// # impl Framing for Magic {
/// #   fn probe(&self, p: &[u8]) -> Probe { match p.first() { None => Probe::NeedMore, Some(&b) if b == self.1 => Probe::Match, _ => Probe::NoMatch } }
/// #   fn split_frame(&self, _: &[u8]) -> Result<Split, Error> { Ok(Split::Incomplete(Needed::AtLeast(1))) }
/// # }
/// # impl Codec for Magic {
/// #   fn name(&self) -> &str { self.0 }
/// #   fn framing(&self) -> &dyn Framing { self }
/// #   fn facts(&self, _: &bytes::Bytes) -> Result<Facts, Error> { Ok(Facts::new(self.0)) }
/// # }
/// let mut registry = Registry::new();
/// registry.register(Arc::new(Magic("one", 1)));
/// registry.register(Arc::new(Magic("two", 2)));
/// assert!(matches!(registry.detect(&[]), Detection::NeedMore));
/// assert!(matches!(registry.detect(&[2, 0]), Detection::Matched(c) if c.name() == "two"));
/// assert!(matches!(registry.detect(&[9]), Detection::Unknown));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    codecs: Vec<Arc<dyn Codec>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a codec; earlier codecs have priority in detection.
    /// A codec whose name is already registered replaces the old one in place.
    pub fn register(&mut self, codec: Arc<dyn Codec>) -> &mut Self {
        match self.codecs.iter_mut().find(|c| c.name() == codec.name()) {
            Some(slot) => *slot = codec,
            None => self.codecs.push(codec),
        }
        self
    }

    /// The codec named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Codec>> {
        self.codecs.iter().find(|c| c.name() == name)
    }

    /// All codecs, in priority order.
    pub fn codecs(&self) -> &[Arc<dyn Codec>] {
        &self.codecs
    }

    /// Detect the protocol of a connection from its first bytes.
    ///
    /// The first codec (in priority order) that matches wins, unless a codec of
    /// higher priority still needs more bytes: then the answer is `NeedMore`, so
    /// a short first read is never misrouted.
    pub fn detect(&self, prefix: &[u8]) -> Detection {
        for codec in &self.codecs {
            match codec.framing().probe(prefix) {
                Probe::Match => return Detection::Matched(codec.clone()),
                Probe::NeedMore => return Detection::NeedMore,
                Probe::NoMatch => {}
            }
        }
        Detection::Unknown
    }
}
