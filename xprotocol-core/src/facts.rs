//! Named facts about one frame, for operators (`xproto decode`), logs and
//! conformance tests. Not on the hot path: building facts allocates.

use std::borrow::Cow;

/// One fact's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    /// Absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer (64-bit request ids).
    UInt(u64),
    /// Text (lossily decoded when the wire bytes were not UTF-8).
    Str(String),
    /// An ordered map of text to facts.
    Map(Vec<(String, Self)>),
    /// A list of facts.
    List(Vec<Self>),
}

impl From<bool> for FactValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<i64> for FactValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<u64> for FactValue {
    fn from(v: u64) -> Self {
        Self::UInt(v)
    }
}
impl From<&str> for FactValue {
    fn from(v: &str) -> Self {
        Self::Str(v.to_owned())
    }
}
impl From<&[u8]> for FactValue {
    fn from(v: &[u8]) -> Self {
        Self::Str(String::from_utf8_lossy(v).into_owned())
    }
}
impl<T: Into<Self>> From<Option<T>> for FactValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

#[cfg(feature = "json")]
impl FactValue {
    /// The value as JSON (maps keep their order with serde_json's `preserve_order`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(i) => Value::from(*i),
            Self::UInt(u) => Value::from(*u),
            Self::Str(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            Self::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The facts of one frame, in a stable order, keyed by the names the shared
/// test vectors use (`kind`, `request_id`, …).
///
/// ```
/// use xprotocol_core::{FactValue, Facts};
/// let mut facts = Facts::new("bolt");
/// facts.push("request_id", 7i64);
/// assert_eq!(facts.get("request_id"), Some(&FactValue::Int(7)));
/// assert_eq!(facts.get("protocol"), Some(&FactValue::Str("bolt".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    entries: Vec<(Cow<'static, str>, FactValue)>,
}

impl Facts {
    /// Facts starting with `"protocol": protocol`.
    pub fn new(protocol: &str) -> Self {
        let mut facts = Self {
            entries: Vec::with_capacity(24),
        };
        facts.push("protocol", protocol);
        facts
    }

    /// Add (or replace) a fact.
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<FactValue>) {
        let (name, value) = (name.into(), value.into());
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// A fact by name.
    pub fn get(&self, name: &str) -> Option<&FactValue> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The facts as one JSON object, in order.
    #[cfg(feature = "json")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_owned(), v.to_json()))
                .collect(),
        )
    }

    /// All facts in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FactValue)> {
        self.entries.iter().map(|(n, v)| (n.as_ref(), v))
    }
}
