//! Serializing stack data straight into girder's expression tree ([`Ast`]).
//!
//! Every body girder holds (resource arguments, locals, Kubernetes objects, Helm values) is
//! made by serializing a user value with [`to_ast`]. User data can only ever become data
//! nodes: strings stay [`Ast::String`] (escaped when rendered), maps stay [`Ast::Object`],
//! whatever their keys or shape. An [`Expr`](super::Expr) is recognized by a private
//! newtype-struct name that only `Expr`'s own `Serialize` impl uses, the way serde_json
//! recognizes its `RawValue`, and its tree is handed over on the side (a thread-local
//! slot filled and emptied within the one call), so no JSON shape, key or string can be read
//! back as an expression.
//!
//! Nesting is bounded ([`MAX_DEPTH`]): hostile data nested thousands deep is an error, not
//! a stack overflow.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::ast::Ast;

/// The newtype-struct name an expression serializes under. Private: a value with this
/// name that is not an `Expr` cannot produce a tree (the side slot stays empty).
pub(crate) const EXPR_TOKEN: &str = "$girder::private::Expr";

/// Deepest nesting of objects and lists accepted in a body (serde_json's parser stops at
/// 128 as well). Real Terraform and Kubernetes bodies stay below 20.
pub const MAX_DEPTH: usize = 128;

thread_local! {
    /// Set by [`AstSerializer`] right before it asks an expression for its tree.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The tree an expression hands over while `CAPTURING` is set.
    static CAPTURED: RefCell<Option<Ast>> = const { RefCell::new(None) };
}

/// Why a value could not become a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AstError {
    message: String,
    /// Where in the value (`$.spec.template`), when known.
    field: String,
}

impl AstError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            field: String::new(),
        }
    }

    fn at(mut self, segment: &str) -> Self {
        self.field.insert_str(0, segment);
        self
    }
}

impl fmt::Display for AstError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `${}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for AstError {}

impl ser::Error for AstError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(msg.to_string())
    }
}

/// Serialize `value` into an expression tree. Expressions inside it become expression
/// nodes; everything else is data.
pub fn to_ast<T: Serialize + ?Sized>(value: &T) -> Result<Ast, AstError> {
    value.serialize(AstSerializer { depth: 0 })
}

/// How an expression serializes: under the private token, handing its tree over when
/// girder's serializer asks and refusing any other serializer (which would otherwise
/// turn it into text that reads as a literal, silently dropping the reference).
pub(crate) fn serialize_expr<S: ser::Serializer>(
    ast: &Ast,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_newtype_struct(EXPR_TOKEN, &Payload(ast))
}

struct Payload<'a>(&'a Ast);

impl Serialize for Payload<'_> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if CAPTURING.get() {
            CAPTURING.set(false);
            CAPTURED.with(|slot| *slot.borrow_mut() = Some(self.0.clone()));
            serializer.serialize_unit()
        } else if let Some(known) = self.0.known_value() {
            // Made only of literals: the same data anywhere.
            known.serialize(serializer)
        } else {
            Err(ser::Error::custom(format!(
                "the girder expression `{}` can only be serialized into a girder body \
                 (a resource, local, output, Kubernetes object or Helm values); \
                 pass the typed value to girder instead of converting it to JSON first",
                self.0.to_json_string()
            )))
        }
    }
}

/// Take the tree of an expression serialized as `value` under [`EXPR_TOKEN`].
fn capture<T: Serialize + ?Sized>(value: &T, depth: usize) -> Result<Ast, AstError> {
    CAPTURED.with(|slot| slot.borrow_mut().take());
    CAPTURING.set(true);
    let result = value.serialize(Sink);
    CAPTURING.set(false);
    result?;
    let ast = CAPTURED
        .with(|slot| slot.borrow_mut().take())
        .ok_or_else(|| AstError::new(format!("{EXPR_TOKEN} is reserved for girder expressions")))?;
    if depth + ast.depth() > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(ast)
}

fn too_deep() -> AstError {
    AstError::new(format!(
        "the value is nested more than {MAX_DEPTH} levels deep; girder refuses it \
         rather than risk exhausting the stack"
    ))
}

/// The serializer that builds [`Ast`] nodes.
#[derive(Clone, Copy)]
struct AstSerializer {
    depth: usize,
}

impl AstSerializer {
    fn nested(self) -> Result<Self, AstError> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(Self {
            depth: self.depth + 1,
        })
    }
}

fn number(n: impl Into<serde_json::Number>) -> Ast {
    Ast::Number(n.into())
}

impl ser::Serializer for AstSerializer {
    type Ok = Ast;
    type Error = AstError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = VariantBuilder<MapBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Ast, AstError> {
        Ok(Ast::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Ast, AstError> {
        if let Ok(small) = i64::try_from(v) {
            return Ok(number(small));
        }
        u64::try_from(v)
            .map(number)
            .map_err(|_| AstError::new(format!("the integer {v} does not fit in 64 bits")))
    }
    fn serialize_u8(self, v: u8) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Ast, AstError> {
        Ok(number(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Ast, AstError> {
        u64::try_from(v)
            .map(number)
            .map_err(|_| AstError::new(format!("the integer {v} does not fit in 64 bits")))
    }
    fn serialize_f32(self, v: f32) -> Result<Ast, AstError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Ast, AstError> {
        serde_json::Number::from_f64(v)
            .map(Ast::Number)
            .ok_or_else(|| AstError::new(format!("{v} is not a number Terraform or YAML can hold")))
    }
    fn serialize_char(self, v: char) -> Result<Ast, AstError> {
        Ok(Ast::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Ast, AstError> {
        Ok(Ast::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Ast, AstError> {
        Ok(Ast::Tuple(v.iter().map(|b| number(*b)).collect()))
    }
    fn serialize_none(self) -> Result<Ast, AstError> {
        Ok(Ast::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Ast, AstError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Ast, AstError> {
        Ok(Ast::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Ast, AstError> {
        Ok(Ast::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Ast, AstError> {
        Ok(Ast::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Ast, AstError> {
        if name == EXPR_TOKEN {
            capture(value, self.depth)
        } else {
            value.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Ast, AstError> {
        let inner = value
            .serialize(self.nested()?)
            .map_err(|e| e.at(&format!(".{variant}")))?;
        Ok(Ast::Object(vec![(variant.to_owned(), inner)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, AstError> {
        Ok(SeqBuilder {
            inner: self.nested()?,
            items: Vec::with_capacity(len.unwrap_or(0)),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, AstError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, AstError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<SeqBuilder>, AstError> {
        Ok(VariantBuilder {
            variant,
            inner: self.nested()?.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, AstError> {
        Ok(MapBuilder {
            inner: self.nested()?,
            entries: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapBuilder, AstError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<MapBuilder>, AstError> {
        Ok(VariantBuilder {
            variant,
            inner: self.nested()?.serialize_map(Some(len))?,
        })
    }
}

/// Builds a list.
struct SeqBuilder {
    inner: AstSerializer,
    items: Vec<Ast>,
}

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AstError> {
        let index = self.items.len();
        let item = value
            .serialize(self.inner)
            .map_err(|e| e.at(&format!("[{index}]")))?;
        self.items.push(item);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AstError> {
        self.push(value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(Ast::Tuple(self.items))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AstError> {
        self.push(value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(Ast::Tuple(self.items))
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AstError> {
        self.push(value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(Ast::Tuple(self.items))
    }
}

/// Builds an object. Keys are literal strings (integers and chars are written as text,
/// as serde_json does); a later entry with the same key replaces the earlier one.
struct MapBuilder {
    inner: AstSerializer,
    entries: Vec<(String, Ast)>,
    key: Option<String>,
}

impl MapBuilder {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), AstError> {
        let value = value
            .serialize(self.inner)
            .map_err(|e| e.at(&field_segment(&key)))?;
        self.entries.push((key, value));
        Ok(())
    }

    /// The object, with a repeated key keeping its first position and its last value
    /// (what serde_json's ordered map does).
    fn finish(self) -> Ast {
        let entries = self.entries;
        let repeated = if entries.len() <= 16 {
            entries
                .iter()
                .enumerate()
                .any(|(i, (key, _))| entries[..i].iter().any(|(k, _)| k == key))
        } else {
            let mut seen = std::collections::HashSet::with_capacity(entries.len());
            !entries.iter().all(|(key, _)| seen.insert(key.as_str()))
        };
        if !repeated {
            return Ast::Object(entries);
        }
        let mut out: Vec<(String, Ast)> = Vec::with_capacity(entries.len());
        let mut position: std::collections::HashMap<String, usize> =
            std::collections::HashMap::with_capacity(entries.len());
        for (key, value) in entries {
            match position.get(&key) {
                Some(&i) => out[i].1 = value,
                None => {
                    position.insert(key.clone(), out.len());
                    out.push((key, value));
                }
            }
        }
        Ast::Object(out)
    }
}

fn field_segment(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!(".{key}")
    } else {
        format!("[{key:?}]")
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), AstError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AstError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| AstError::new("a map value was serialized before its key"))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(self.finish())
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), AstError> {
        self.insert(key.to_owned(), value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(self.finish())
    }
}

/// An enum variant with content: `{ "<variant>": <content> }`.
struct VariantBuilder<B> {
    variant: &'static str,
    inner: B,
}

impl ser::SerializeTupleVariant for VariantBuilder<SeqBuilder> {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), AstError> {
        self.inner.push(value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(Ast::Object(vec![(
            self.variant.to_owned(),
            Ast::Tuple(self.inner.items),
        )]))
    }
}

impl ser::SerializeStructVariant for VariantBuilder<MapBuilder> {
    type Ok = Ast;
    type Error = AstError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), AstError> {
        self.inner.insert(key.to_owned(), value)
    }
    fn end(self) -> Result<Ast, AstError> {
        Ok(Ast::Object(vec![(
            self.variant.to_owned(),
            self.inner.finish(),
        )]))
    }
}

/// Map keys: text only. An expression as a key is refused (Terraform JSON keys are not
/// references girder tracks).
struct KeySerializer;

fn key_error(what: &str) -> AstError {
    AstError::new(format!("a map key must be a string, not {what}"))
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = AstError;
    type SerializeSeq = Impossible<String, AstError>;
    type SerializeTuple = Impossible<String, AstError>;
    type SerializeTupleStruct = Impossible<String, AstError>;
    type SerializeTupleVariant = Impossible<String, AstError>;
    type SerializeMap = Impossible<String, AstError>;
    type SerializeStruct = Impossible<String, AstError>;
    type SerializeStructVariant = Impossible<String, AstError>;

    fn serialize_bool(self, v: bool) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _: f32) -> Result<String, AstError> {
        Err(key_error("a float"))
    }
    fn serialize_f64(self, _: f64) -> Result<String, AstError> {
        Err(key_error("a float"))
    }
    fn serialize_char(self, v: char) -> Result<String, AstError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, AstError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, AstError> {
        Err(key_error("bytes"))
    }
    fn serialize_none(self) -> Result<String, AstError> {
        Err(key_error("null"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, AstError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, AstError> {
        Err(key_error("null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, AstError> {
        Err(key_error("null"))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, AstError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<String, AstError> {
        if name == EXPR_TOKEN {
            Err(key_error("an expression"))
        } else {
            value.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, AstError> {
        Err(key_error("an enum with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, AstError> {
        Err(key_error("a list"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, AstError> {
        Err(key_error("a list"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, AstError> {
        Err(key_error("a list"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, AstError> {
        Err(key_error("an enum with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, AstError> {
        Err(key_error("a map"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, AstError> {
        Err(key_error("a struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, AstError> {
        Err(key_error("an enum with data"))
    }
}

/// The serializer an expression's payload is offered to while capturing: it only
/// accepts the unit the payload answers with.
struct Sink;

fn not_an_expression() -> AstError {
    AstError::new(format!("{EXPR_TOKEN} is reserved for girder expressions"))
}

impl ser::Serializer for Sink {
    type Ok = ();
    type Error = AstError;
    type SerializeSeq = Impossible<(), AstError>;
    type SerializeTuple = Impossible<(), AstError>;
    type SerializeTupleStruct = Impossible<(), AstError>;
    type SerializeTupleVariant = Impossible<(), AstError>;
    type SerializeMap = Impossible<(), AstError>;
    type SerializeStruct = Impossible<(), AstError>;
    type SerializeStructVariant = Impossible<(), AstError>;

    fn serialize_unit(self) -> Result<(), AstError> {
        Ok(())
    }
    fn serialize_bool(self, _: bool) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_i64(self, _: i64) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_u64(self, _: u64) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_i8(self, _: i8) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_i16(self, _: i16) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_i32(self, _: i32) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_u8(self, _: u8) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_u16(self, _: u16) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_u32(self, _: u32) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_f32(self, _: f32) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_f64(self, _: f64) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_char(self, _: char) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_str(self, _: &str) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_none(self) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), AstError> {
        Err(not_an_expression())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, AstError> {
        Err(not_an_expression())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, AstError> {
        Err(not_an_expression())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, AstError> {
        Err(not_an_expression())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, AstError> {
        Err(not_an_expression())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, AstError> {
        Err(not_an_expression())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, AstError> {
        Err(not_an_expression())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, AstError> {
        Err(not_an_expression())
    }
}
