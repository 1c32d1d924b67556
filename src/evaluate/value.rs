//! The input document as a regorus [`Value`], built straight from the Rust
//! structs by a serde serializer. Going through JSON text instead (write it,
//! then parse it with regorus) cost more than every rule together on a large
//! repository; this builds each value once, and lets the bulk of the input
//! (the manifests) be converted on several cores.
//!
//! Object keys are interned: 5,000 manifests share one `"metadata"` string
//! instead of allocating 5,000, as regorus' own JSON parser does.

use regorus::Value;
use serde::ser::{self, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A value serde could not express as a regorus value (a map with a key
/// that is not a value, say). The input document has none; this keeps a
/// future field from panicking.
#[derive(Debug)]
pub struct ValueError(String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

impl ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, ValueError>;

/// Converts values, interning object keys along the way. One per thread.
#[derive(Default)]
pub struct Converter {
    /// The keys of a manifest are the author's. foldhash is seeded per
    /// process (`RandomState`), so a pull request cannot precompute
    /// colliding keys, though it claims little resistance to an attacker
    /// who can observe timings; what bounds the damage is that a document's
    /// keys are bounded by the YAML limits. It replaced std's SipHash, which
    /// was a third of the conversion.
    keys: HashMap<Box<str>, Value, foldhash::fast::RandomState>,
    /// Top-level fields to emit from here instead of from the value: a part
    /// converted elsewhere (on another thread) is spliced in whole.
    spliced: Vec<(&'static str, Value)>,
}

impl Converter {
    /// Convert `value`.
    pub fn convert<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Value> {
        value.serialize(Serializer {
            conv: self,
            top: true,
        })
    }

    /// Convert `value`, a struct, but take each field named in `parts` from
    /// there.
    pub fn convert_spliced<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        parts: impl IntoIterator<Item = (&'static str, Value)>,
    ) -> Result<Value> {
        self.spliced.extend(parts);
        let out = self.convert(value);
        self.spliced.clear();
        out
    }

    /// Convert a JSON value (a manifest's object): what `convert` makes of
    /// it, without serde's visitor between every node and its value.
    pub fn json(&mut self, value: &serde_json::Value) -> Value {
        use serde_json::Value as Json;
        match value {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::from(*b),
            // As serde_json serializes a number: unsigned, signed, float.
            Json::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Value::from(u),
                (None, Some(i), _) => Value::from(i),
                (None, None, Some(f)) if f.is_finite() => Value::from(f),
                _ => Value::Null,
            },
            Json::String(s) => Value::from(s.as_str()),
            Json::Array(items) => {
                Value::from(items.iter().map(|v| self.json(v)).collect::<Vec<_>>())
            }
            Json::Object(entries) => object(
                entries
                    .iter()
                    .map(|(k, v)| (self.key(k), self.json(v)))
                    .collect(),
            ),
        }
    }

    fn key(&mut self, key: &str) -> Value {
        if let Some(v) = self.keys.get(key) {
            return v.clone();
        }
        let v = Value::from(key);
        self.keys.insert(key.into(), v.clone());
        v
    }
}

struct Serializer<'c> {
    conv: &'c mut Converter,
    /// Whether this is the outermost value (where fields can be spliced in).
    top: bool,
}

impl<'c> Serializer<'c> {
    fn inner(&mut self) -> Serializer<'_> {
        Serializer {
            conv: self.conv,
            top: false,
        }
    }
}

fn object(entries: Vec<(Value, Value)>) -> Value {
    if entries.is_empty() {
        return Value::new_object();
    }
    // Collecting a Vec into a BTreeMap sorts it and builds the tree in bulk;
    // regorus then freezes it into one sorted slice.
    Value::from(entries.into_iter().collect::<BTreeMap<Value, Value>>())
}

/// `fn serialize_T(self, v: T)` as `Value::from(v)`, widened first with `as`.
macro_rules! number {
    ($($name:ident: $ty:ty $(as $wide:ty)?),* $(,)?) => {$(
        fn $name(self, v: $ty) -> Result<Value> {
            Ok(Value::from($(<$wide>::from)?(v)))
        }
    )*};
}

impl<'c> ser::Serializer for Serializer<'c> {
    type Ok = Value;
    type Error = ValueError;
    type SerializeSeq = Seq<'c>;
    type SerializeTuple = Seq<'c>;
    type SerializeTupleStruct = Seq<'c>;
    type SerializeTupleVariant = Variant<Seq<'c>>;
    type SerializeMap = Map<'c>;
    type SerializeStruct = Map<'c>;
    type SerializeStructVariant = Variant<Map<'c>>;

    // Integers widen to the 64- or 128-bit forms regorus numbers are made from.
    number!(serialize_bool: bool, serialize_i64: i64, serialize_i128: i128);
    number!(serialize_u64: u64, serialize_u128: u128);
    number!(serialize_i8: i8 as i64, serialize_i16: i16 as i64, serialize_i32: i32 as i64);
    number!(serialize_u8: u8 as u64, serialize_u16: u16 as u64, serialize_u32: u32 as u64);
    fn serialize_f32(self, v: f32) -> Result<Value> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        // JSON has no NaN or infinity; serde_json writes null for them.
        Ok(if v.is_finite() {
            Value::from(v)
        } else {
            Value::Null
        })
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::from(
            v.iter()
                .map(|b| Value::from(u64::from(*b)))
                .collect::<Vec<_>>(),
        ))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(self.conv.key(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        let inner = value.serialize(self.inner())?;
        Ok(object(vec![(self.conv.key(variant), inner)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'c>> {
        Ok(Seq {
            conv: self.conv,
            items: Vec::with_capacity(len.unwrap_or(0)),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'c>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'c>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq<'c>>> {
        let key = self.conv.key(variant);
        Ok(Variant {
            key,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map<'c>> {
        Ok(Map {
            conv: self.conv,
            top: self.top,
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map<'c>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Map<'c>>> {
        let key = self.conv.key(variant);
        Ok(Variant {
            key,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

pub struct Seq<'c> {
    conv: &'c mut Converter,
    items: Vec<Value>,
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let v = value.serialize(Serializer {
            conv: self.conv,
            top: false,
        })?;
        self.items.push(v);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(Value::from(self.items))
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(Value::from(self.items))
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(Value::from(self.items))
    }
}

pub struct Map<'c> {
    conv: &'c mut Converter,
    top: bool,
    entries: Vec<(Value, Value)>,
    /// The key of the entry whose value comes next (`serialize_key` then
    /// `serialize_value`).
    key: Option<Value>,
}

impl Map<'_> {
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Value> {
        value.serialize(Serializer {
            conv: self.conv,
            top: false,
        })
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        let key = match self.value(key)? {
            Value::String(s) => self.conv.key(&s),
            other => other,
        };
        self.key = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ValueError("a map value without a key".into()))?;
        let value = self.value(value)?;
        self.entries.push((key, value));
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(object(self.entries))
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let spliced = if self.top {
            let at = self.conv.spliced.iter().position(|(f, _)| *f == key);
            at.map(|i| self.conv.spliced.swap_remove(i).1)
        } else {
            None
        };
        let value = match spliced {
            Some(v) => v,
            None => self.value(value)?,
        };
        let key = self.conv.key(key);
        self.entries.push((key, value));
        Ok(())
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<()> {
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(object(self.entries))
    }
}

/// An enum variant with data: `{variant: data}`, as serde_json writes it.
pub struct Variant<S> {
    key: Value,
    inner: S,
}

impl ser::SerializeTupleVariant for Variant<Seq<'_>> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.inner.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(object(vec![(self.key, Value::from(self.inner.items))]))
    }
}

impl ser::SerializeStructVariant for Variant<Map<'_>> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Value> {
        let inner = object(self.inner.entries);
        Ok(object(vec![(self.key, inner)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The converter agrees with regorus' own JSON parser on every kind of value.
    #[test]
    fn same_as_through_json_text() {
        let doc = json!({
            "s": "text", "n": 3, "neg": -4, "f": 1.5, "big": u64::MAX, "t": true, "z": null,
            "a": [1, "two", {"three": [3]}], "o": {"b": 1, "a": 2, "": {}},
            "empty": [], "nested": {"metadata": {"labels": {"app": "x"}}},
        });
        let ours = Converter::default().convert(&doc).unwrap();
        let theirs = Value::from_json_str(&doc.to_string()).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(Converter::default().json(&doc), theirs);
    }

    #[derive(serde::Serialize)]
    #[serde(rename_all = "kebab-case")]
    enum Mode {
        CommitMsg,
    }

    #[derive(serde::Serialize)]
    struct Doc {
        mode: Mode,
        maybe: Option<u32>,
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        list: Vec<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        gone: Option<u8>,
    }

    #[test]
    fn structs_enums_and_splices() {
        let doc = Doc {
            mode: Mode::CommitMsg,
            maybe: None,
            api_version: "v1",
            list: vec![1, 2],
            gone: None,
        };
        let text = serde_json::to_string(&doc).unwrap();
        let theirs = Value::from_json_str(&text).unwrap();
        let mut conv = Converter::default();
        assert_eq!(conv.convert(&doc).unwrap(), theirs);
        // A spliced field replaces the struct's own, at the top level only.
        let spliced = conv
            .convert_spliced(&doc, [("list", Value::from("elsewhere"))])
            .unwrap();
        assert_eq!(spliced["list"], Value::from("elsewhere"));
        assert_eq!(spliced["mode"], Value::from("commit-msg"));
        // The splice is used once: the next conversion is the plain one.
        assert_eq!(conv.convert(&doc).unwrap(), theirs);
    }
}
