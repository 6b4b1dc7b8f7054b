//! [`StaticJson`]: a JSON value known at synth time, as girder holds Kubernetes objects.
//!
//! It is serde_json's data model (null, bool, number, string, array, object) in a smaller
//! shape: objects are vectors of entries in insertion order (no hash table; Kubernetes
//! objects have a handful of keys per map, where a linear scan beats hashing), and strings
//! of up to 24 bytes live inline in the value instead of on the heap. A Deployment takes
//! about half the memory of the same object as a `serde_json::Value` with
//! `preserve_order`, and ten thousand objects are most of a large synth.
//!
//! The accessors follow serde_json's names (`get`, `pointer`, `as_str`, `as_array`,
//! `as_object`, `[key]` indexing that yields `null` for what is absent), and
//! [`StaticJson::to_serde_json`] / `From<serde_json::Value>` convert both ways.

use std::fmt;
use std::ops::{Deref, Index};

use compact_str::CompactString;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Number;

use crate::expr::Ast;

/// A string of a [`StaticJson`] value or key (stored inline up to 24 bytes). It reads as
/// a `&str`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(CompactString);

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A JSON object: entries in insertion order, keys unique.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object(Vec<(Text, StaticJson)>);

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// An empty object with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&StaticJson> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, mutable.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut StaticJson> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Set `key` (in place when present, else appended); the previous value, if any.
    pub fn insert(
        &mut self,
        key: impl Into<Text>,
        value: impl Into<StaticJson>,
    ) -> Option<StaticJson> {
        let key = key.into();
        let value = value.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Remove `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<StaticJson> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// The entry for `key`, inserted as `default()` when absent.
    pub fn entry_or_insert_with(
        &mut self,
        key: &str,
        default: impl FnOnce() -> StaticJson,
    ) -> &mut StaticJson {
        let at = match self.0.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                self.0.push((Text::from(key), default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Text, &StaticJson)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Entries in order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Text, &mut StaticJson)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &Text> {
        self.0.iter().map(|(k, _)| k)
    }

    /// Values in order.
    pub fn values(&self) -> impl Iterator<Item = &StaticJson> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the object has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a Text, &'a StaticJson);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, StaticJson)>,
        fn(&'a (Text, StaticJson)) -> (&'a Text, &'a StaticJson),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Into<Text>, V: Into<StaticJson>> FromIterator<(K, V)> for Object {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut object = Object::new();
        for (k, v) in iter {
            object.insert(k, v);
        }
        object
    }
}

/// A JSON value known at synth time (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StaticJson {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as serde_json holds it.
    Number(Number),
    /// A string.
    String(Text),
    /// An array.
    Array(Vec<StaticJson>),
    /// An object, in insertion order.
    Object(Object),
}

static NULL: StaticJson = StaticJson::Null;

impl StaticJson {
    /// The value of `key` when this is an object holding it.
    pub fn get(&self, key: &str) -> Option<&StaticJson> {
        match self {
            StaticJson::Object(o) => o.get(key),
            _ => None,
        }
    }

    /// The value of `key`, mutable.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut StaticJson> {
        match self {
            StaticJson::Object(o) => o.get_mut(key),
            _ => None,
        }
    }

    /// The value at a JSON pointer (RFC 6901: `/spec/template`, `~1` for `/`, `~0` for
    /// `~`, array indices as numbers); `""` is the value itself.
    pub fn pointer(&self, pointer: &str) -> Option<&StaticJson> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |node, token| {
            let token = unescape_token(token);
            match node {
                StaticJson::Object(o) => o.get(&token),
                StaticJson::Array(items) => array_index(&token).and_then(|i| items.get(i)),
                _ => None,
            }
        })
    }

    /// The value at a JSON pointer, mutable.
    pub fn pointer_mut(&mut self, pointer: &str) -> Option<&mut StaticJson> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |node, token| {
            let token = unescape_token(token);
            match node {
                StaticJson::Object(o) => o.get_mut(&token),
                StaticJson::Array(items) => array_index(&token).and_then(move |i| items.get_mut(i)),
                _ => None,
            }
        })
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            StaticJson::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            StaticJson::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as a `u64`, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            StaticJson::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StaticJson::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as an `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            StaticJson::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<StaticJson>> {
        match self {
            StaticJson::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The items, mutable.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<StaticJson>> {
        match self {
            StaticJson::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            StaticJson::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The entries, mutable.
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            StaticJson::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, StaticJson::String(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, StaticJson::Null)
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, StaticJson::Object(_))
    }

    /// The same value as a `serde_json::Value` (a copy).
    pub fn to_serde_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            StaticJson::Null => J::Null,
            StaticJson::Bool(b) => J::Bool(*b),
            StaticJson::Number(n) => J::Number(n.clone()),
            StaticJson::String(s) => J::String(s.as_str().to_owned()),
            StaticJson::Array(items) => J::Array(items.iter().map(Self::to_serde_json).collect()),
            StaticJson::Object(o) => J::Object(
                o.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_serde_json()))
                    .collect(),
            ),
        }
    }

    /// The value of a body that holds only literals (the caller checked), moving its
    /// strings; `None` if some node needs Terraform after all.
    pub(crate) fn from_known_ast(body: Ast) -> Option<Self> {
        Some(match body {
            Ast::Null => StaticJson::Null,
            Ast::Bool(b) => StaticJson::Bool(b),
            Ast::Number(n) => StaticJson::Number(n),
            Ast::String(s) => StaticJson::String(Text::from(s)),
            Ast::Tuple(items) => StaticJson::Array(
                items
                    .into_iter()
                    .map(Self::from_known_ast)
                    .collect::<Option<_>>()?,
            ),
            Ast::Object(entries) => {
                let mut object = Object::with_capacity(entries.len());
                for (key, value) in entries {
                    object
                        .0
                        .push((Text::from(key), Self::from_known_ast(value)?));
                }
                StaticJson::Object(object)
            }
            other => StaticJson::from(other.known_value()?),
        })
    }
}

fn unescape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        std::borrow::Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        std::borrow::Cow::Borrowed(token)
    }
}

/// An array index token: digits without a leading zero (RFC 6901).
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    if !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// Compact JSON text, as serde_json's `Display` writes it.
impl fmt::Display for StaticJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Index<&str> for StaticJson {
    type Output = StaticJson;
    /// The value of `key`, or `null` when absent or when this is not an object.
    fn index(&self, key: &str) -> &StaticJson {
        self.get(key).unwrap_or(&NULL)
    }
}

impl Index<usize> for StaticJson {
    type Output = StaticJson;
    /// Item `i`, or `null` when absent or when this is not an array.
    fn index(&self, i: usize) -> &StaticJson {
        match self {
            StaticJson::Array(items) => items.get(i).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

impl From<serde_json::Value> for StaticJson {
    fn from(value: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match value {
            J::Null => StaticJson::Null,
            J::Bool(b) => StaticJson::Bool(b),
            J::Number(n) => StaticJson::Number(n),
            J::String(s) => StaticJson::String(Text::from(s)),
            J::Array(items) => StaticJson::Array(items.into_iter().map(Self::from).collect()),
            J::Object(map) => {
                let mut object = Object::with_capacity(map.len());
                for (k, v) in map {
                    object.0.push((Text::from(k), Self::from(v)));
                }
                StaticJson::Object(object)
            }
        }
    }
}

impl From<&str> for StaticJson {
    fn from(s: &str) -> Self {
        StaticJson::String(Text::from(s))
    }
}

impl From<String> for StaticJson {
    fn from(s: String) -> Self {
        StaticJson::String(Text::from(s))
    }
}

impl From<bool> for StaticJson {
    fn from(b: bool) -> Self {
        StaticJson::Bool(b)
    }
}

impl From<Object> for StaticJson {
    fn from(o: Object) -> Self {
        StaticJson::Object(o)
    }
}

impl From<Vec<StaticJson>> for StaticJson {
    fn from(items: Vec<StaticJson>) -> Self {
        StaticJson::Array(items)
    }
}

impl PartialEq<serde_json::Value> for StaticJson {
    fn eq(&self, other: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (self, other) {
            (StaticJson::Null, J::Null) => true,
            (StaticJson::Bool(a), J::Bool(b)) => a == b,
            (StaticJson::Number(a), J::Number(b)) => a == b,
            (StaticJson::String(a), J::String(b)) => a.as_str() == b,
            (StaticJson::Array(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (StaticJson::Object(a), J::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k.as_str()).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

impl Serialize for StaticJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StaticJson::Null => serializer.serialize_unit(),
            StaticJson::Bool(b) => serializer.serialize_bool(*b),
            StaticJson::Number(n) => n.serialize(serializer),
            StaticJson::String(s) => serializer.serialize_str(s),
            StaticJson::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            StaticJson::Object(o) => {
                let mut map = serializer.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_value_is_small() {
        assert!(std::mem::size_of::<StaticJson>() <= 32);
        assert_eq!(std::mem::size_of::<Text>(), 24);
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        let v = StaticJson::from(json!({
            "spec": { "ports": [ { "port": 80 } ] },
            "a/b": { "~x": 1 },
            "": 2
        }));
        assert_eq!(
            v.pointer("/spec/ports/0/port").and_then(StaticJson::as_u64),
            Some(80)
        );
        assert_eq!(v.pointer("/a~1b/~0x").and_then(StaticJson::as_u64), Some(1));
        assert_eq!(v.pointer("/").and_then(StaticJson::as_u64), Some(2));
        assert_eq!(v.pointer(""), Some(&v));
        assert!(v.pointer("/spec/ports/00").is_none());
        assert!(v.pointer("/spec/ports/1").is_none());
        assert!(v.pointer("/spec/ports/-1").is_none());
        assert!(v.pointer("spec").is_none());
        assert!(v["missing"]["deeper"][3].is_null());
    }

    #[test]
    fn insert_replaces_in_place_and_remove_keeps_order() {
        let mut o = Object::new();
        o.insert("a", "1");
        o.insert("b", "2");
        o.insert("c", "3");
        assert_eq!(o.insert("a", "first"), Some(StaticJson::from("1")));
        assert_eq!(o.remove("b"), Some(StaticJson::from("2")));
        let keys: Vec<&str> = o.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "c"]);
        assert_eq!(StaticJson::Object(o), json!({ "a": "first", "c": "3" }));
    }

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::vec(("[a-z/~]{0,30}", inner), 0..6)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Converting, serializing and comparing agree with serde_json, key order included.
        #[test]
        fn round_trips_through_serde_json(value in any_json()) {
            let tree = StaticJson::from(value.clone());
            prop_assert_eq!(&tree.to_serde_json(), &value);
            prop_assert!(tree == value);
            prop_assert_eq!(
                serde_json::to_string(&tree).ok(),
                serde_json::to_string(&value).ok()
            );
        }
    }
}
