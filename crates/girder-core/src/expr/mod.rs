//! Typed Terraform expressions.
//!
//! An [`Expr<T>`] is a Terraform expression whose result has type `T` (`String`, [`Number`],
//! `bool`, `Vec<T>`, [`Map<T>`], or [`Dynamic`] when the type is not known). Handles of
//! resources hand them out (`vpc.id()`), functions in [`fns`] combine them, and every field
//! of a resource accepts a [`Value<T>`]: a literal or an expression.
//!
//! Expressions remember what they reference. That is how girder finds dependencies between
//! stacks and refuses to write a value only known after apply into a Kubernetes manifest.
//! Config values holding expressions are serialized straight into girder's tree
//! ([`to_ast`]); an expression is recognized there by a private serde name, never by the
//! shape of the data, so no user value (a JSON object, a map key, a string) can become an
//! expression, and every literal string is escaped when rendered. Serializing an
//! expression with any other serializer (`serde_json::to_value`) is an error.

mod ast;
mod ast_serializer;
mod collections;
pub mod fns;
mod nested;

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize, Serializer};

pub use ast::{Ast, Reference, Target, escape_template_text};
pub use ast_serializer::{AstError, MAX_DEPTH, to_ast};
pub use collections::{IntoList, IntoMap, ListValue, MapValue};
pub use nested::{NestedList, NestedMap, NestedSet};

/// A Terraform map value (sorted by key, so output is stable).
pub type Map<T> = BTreeMap<String, T>;

/// The type of an expression whose result type girder does not know (a module output,
/// a dynamic attribute, `jsondecode`). Use [`Expr::cast`] to give it a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dynamic {}

impl Serialize for Dynamic {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

/// A Terraform number (integer or float), serialized without a spurious `.0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Number(serde_json::Number);

impl Number {
    /// A number from a float; `None` for NaN and infinities, which Terraform cannot hold.
    pub fn from_f64(value: f64) -> Option<Self> {
        serde_json::Number::from_f64(value).map(Number)
    }

    /// The underlying JSON number.
    pub fn as_json(&self) -> &serde_json::Number {
        &self.0
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(value: $t) -> Self {
                Number(serde_json::Number::from(value))
            }
        }
        impl From<$t> for Value<Number> {
            fn from(value: $t) -> Self {
                Value::Literal(Number::from(value))
            }
        }
        impl From<$t> for Expr<Number> {
            fn from(value: $t) -> Self {
                Expr::from_ast(Ast::Number(serde_json::Number::from(value)))
            }
        }
    )*};
}
number_from!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// A typed Terraform expression. Cheap to clone; see the module docs.
pub struct Expr<T> {
    ast: Ast,
    ty: PhantomData<fn() -> T>,
}

impl<T> Clone for Expr<T> {
    fn clone(&self) -> Self {
        Self::from_ast(self.ast.clone())
    }
}

impl<T> PartialEq for Expr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ast == other.ast
    }
}

impl<T> fmt::Debug for Expr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({})", self.ast.to_json_string())
    }
}

impl<T> Expr<T> {
    /// Wrap an expression tree. The caller vouches for the type `T`.
    pub fn from_ast(ast: Ast) -> Self {
        Self {
            ast,
            ty: PhantomData,
        }
    }

    /// A reference to an object (the root of a traversal such as `aws_vpc.main.id`).
    pub fn reference(reference: Reference) -> Self {
        Self::from_ast(Ast::Ref(Box::new(reference)))
    }

    /// The expression tree.
    pub fn ast(&self) -> &Ast {
        &self.ast
    }

    /// Forget the result type (for function arguments of mixed types).
    pub fn any(self) -> Expr<Dynamic> {
        Expr::from_ast(self.ast)
    }

    /// Assert a result type girder cannot infer (a module output, a `jsondecode` result).
    pub fn cast<U>(self) -> Expr<U> {
        Expr::from_ast(self.ast)
    }

    /// Read an attribute of this value (`<self>.name`).
    pub fn attr<U>(&self, name: &str) -> Expr<U> {
        Expr::from_ast(Ast::Attr {
            of: Box::new(self.ast.clone()),
            name: name.to_owned(),
        })
    }

    /// Index this value (`<self>[key]`).
    pub fn index<U, K>(&self, key: impl Into<Expr<K>>) -> Expr<U> {
        Expr::from_ast(Ast::Index {
            of: Box::new(self.ast.clone()),
            key: Box::new(key.into().ast),
        })
    }

    /// Mark the value sensitive: a cross-stack output carrying it is `sensitive = true`.
    pub fn sensitive(self) -> Self {
        Self::from_ast(Ast::Sensitive(Box::new(self.ast)))
    }

    /// Everything this expression references.
    pub fn references(&self) -> Vec<&Reference> {
        self.ast.references()
    }

    /// The expression as it appears in a Terraform JSON string (`${aws_vpc.main.id}`).
    ///
    /// For display, tests and Terraform-only text (descriptions). Writing this string into
    /// a Kubernetes manifest would bypass girder's check for values only known after apply:
    /// pass the expression itself instead.
    pub fn to_terraform_string(&self) -> String {
        self.ast.to_json_string()
    }

    /// The value, when it is made only of literals.
    pub fn known_value(&self) -> Option<serde_json::Value> {
        self.ast.known_value()
    }
}

impl Expr<Dynamic> {
    /// Raw Terraform expression text, the escape hatch for syntax girder does not model
    /// (conditionals, `for` expressions, splats). Not escaped, not checked, and its
    /// references are not tracked: prefer typed expressions.
    pub fn raw(hcl: impl Into<String>) -> Self {
        Self::from_ast(Ast::Raw(hcl.into()))
    }

    /// A value of any serializable type as an expression. Its data stays data: strings are
    /// escaped when rendered and no map or string is ever read as an expression; `Expr`s
    /// inside it (typed fields holding references) stay expressions.
    pub fn literal<V: Serialize + ?Sized>(value: &V) -> Result<Self, AstError> {
        Ok(Self::from_ast(to_ast(value)?))
    }
}

impl Expr<Number> {
    /// `count.index` inside a resource with `count`.
    pub fn count_index() -> Self {
        Self::reference(Reference {
            stack: None,
            target: Target::CountIndex,
        })
    }
}

impl Expr<String> {
    /// A string literal (escaped when rendered).
    pub fn lit(text: impl Into<String>) -> Self {
        Self::from_ast(Ast::String(text.into()))
    }

    /// `each.key` inside a resource with `for_each`.
    pub fn each_key() -> Self {
        Self::reference(Reference {
            stack: None,
            target: Target::EachKey,
        })
    }

    /// String interpolation: the parts concatenated (`"arn:${p}:s3:::${b}"`).
    pub fn interpolate(parts: impl IntoIterator<Item = Expr<Dynamic>>) -> Self {
        let mut out: Vec<Ast> = Vec::new();
        for part in parts {
            match part.ast {
                Ast::Template(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        // Merge adjacent literal strings so the tree stays canonical.
        let mut merged: Vec<Ast> = Vec::with_capacity(out.len());
        for part in out {
            match (merged.last_mut(), part) {
                (Some(Ast::String(prev)), Ast::String(next)) => prev.push_str(&next),
                (_, part) => merged.push(part),
            }
        }
        match merged.len() {
            0 => Self::lit(""),
            1 if matches!(merged[0], Ast::String(_)) => Self::from_ast(merged.remove(0)),
            _ => Self::from_ast(Ast::Template(merged)),
        }
    }
}

impl Expr<Dynamic> {
    /// `each.value` inside a resource with `for_each`.
    pub fn each_value() -> Self {
        Self::reference(Reference {
            stack: None,
            target: Target::EachValue,
        })
    }
}

impl<T> Expr<Vec<T>> {
    /// The element at `index` (`list[index]`).
    pub fn get(&self, index: impl Into<Expr<Number>>) -> Expr<T> {
        self.index::<T, Number>(index)
    }
}

impl<T> Expr<Map<T>> {
    /// The value at `key` (`map["key"]`).
    pub fn get(&self, key: impl Into<Expr<String>>) -> Expr<T> {
        self.index::<T, String>(key)
    }
}

impl From<&str> for Expr<String> {
    fn from(value: &str) -> Self {
        Self::lit(value)
    }
}

impl From<String> for Expr<String> {
    fn from(value: String) -> Self {
        Self::lit(value)
    }
}

impl From<&String> for Expr<String> {
    fn from(value: &String) -> Self {
        Self::lit(value.clone())
    }
}

impl From<bool> for Expr<bool> {
    fn from(value: bool) -> Self {
        Self::from_ast(Ast::Bool(value))
    }
}

impl From<Number> for Expr<Number> {
    fn from(value: Number) -> Self {
        Self::from_ast(Ast::Number(value.0))
    }
}

impl<T> Serialize for Expr<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ast_serializer::serialize_expr(&self.ast, serializer)
    }
}

/// A field value: a literal `T` or an expression producing a `T`. Every argument of a
/// resource accepts one, so literals and references mix freely.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<T> {
    /// A value known when the program runs.
    Literal(T),
    /// A value Terraform computes.
    Expr(Expr<T>),
}

impl<T: Serialize> Value<T> {
    /// The value as an expression (literals become literal expressions).
    pub fn into_expr(self) -> Result<Expr<T>, AstError> {
        match self {
            Value::Expr(e) => Ok(e),
            Value::Literal(v) => Ok(Expr::from_ast(to_ast(&v)?)),
        }
    }
}

impl<T: Serialize> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Literal(v) => v.serialize(serializer),
            Value::Expr(e) => e.serialize(serializer),
        }
    }
}

impl<T> From<T> for Value<T> {
    fn from(value: T) -> Self {
        Value::Literal(value)
    }
}

impl<T> From<Expr<T>> for Value<T> {
    fn from(value: Expr<T>) -> Self {
        Value::Expr(value)
    }
}

impl<T> From<&Expr<T>> for Value<T> {
    fn from(value: &Expr<T>) -> Self {
        Value::Expr(value.clone())
    }
}

impl From<&str> for Value<String> {
    fn from(value: &str) -> Self {
        Value::Literal(value.to_owned())
    }
}

impl From<&String> for Value<String> {
    fn from(value: &String) -> Self {
        Value::Literal(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc_id() -> Expr<String> {
        Expr::<Dynamic>::reference(Reference {
            stack: Some("network-dev".into()),
            target: Target::Resource {
                rtype: "aws_vpc".into(),
                name: "network_vpc".into(),
            },
        })
        .attr("id")
    }

    #[test]
    fn references_render_as_interpolations() {
        assert_eq!(vpc_id().to_terraform_string(), "${aws_vpc.network_vpc.id}");
        assert_eq!(vpc_id().references().len(), 1);
    }

    #[test]
    fn literals_are_escaped() {
        assert_eq!(
            Expr::lit("a ${b} %{c}").to_terraform_string(),
            "a $${b} %%{c}"
        );
        assert_eq!(Expr::lit("$$").to_terraform_string(), "$$");
    }

    #[test]
    fn interpolation_mixes_text_and_references() {
        let e = Expr::interpolate([
            Expr::lit("vpc-").any(),
            vpc_id().any(),
            Expr::lit("-${x}").any(),
        ]);
        assert_eq!(
            e.to_terraform_string(),
            "vpc-${aws_vpc.network_vpc.id}-$${x}"
        );
        let only_text = Expr::interpolate([Expr::lit("a").any(), Expr::lit("b").any()]);
        assert_eq!(only_text.known_value(), Some(serde_json::json!("ab")));
    }

    #[test]
    fn attribute_names_that_are_not_identifiers_use_index_syntax() {
        let e: Expr<String> = vpc_id().attr("a.b");
        assert_eq!(
            e.to_terraform_string(),
            "${aws_vpc.network_vpc.id[\"a.b\"]}"
        );
    }

    #[test]
    fn values_become_tree_nodes_literals_as_data_and_expressions_as_themselves() {
        let lit: Value<String> = "10.0.0.0/16".into();
        assert_eq!(to_ast(&lit).unwrap(), Ast::String("10.0.0.0/16".into()));
        let expr: Value<String> = vpc_id().into();
        assert_eq!(to_ast(&expr).unwrap(), vpc_id().ast);
        let port: Value<Number> = 5432.into();
        assert_eq!(to_ast(&port).unwrap(), Ast::Number(5432.into()));
    }

    #[test]
    fn other_serializers_refuse_expressions_instead_of_losing_them() {
        let err = serde_json::to_value(vpc_id()).unwrap_err().to_string();
        assert!(err.contains("${aws_vpc.network_vpc.id}"), "{err}");
        assert!(err.contains("girder body"), "{err}");
        // The literal half of a Value still serializes anywhere.
        let lit: Value<String> = "a".into();
        assert_eq!(serde_json::to_value(&lit).unwrap(), serde_json::json!("a"));
    }

    #[test]
    fn a_literal_dollar_right_before_an_interpolation_keeps_the_reference() {
        // `cost-$` + `${...}` would read as the escape `$${` (the literal text `${...}`).
        let e = Expr::interpolate([Expr::lit("cost-$").any(), vpc_id().any()]);
        assert_eq!(
            e.to_terraform_string(),
            "cost-${\"$\"}${aws_vpc.network_vpc.id}"
        );
        let e = Expr::interpolate([Expr::lit("$$").any(), vpc_id().any(), Expr::lit("$").any()]);
        assert_eq!(
            e.to_terraform_string(),
            "${\"$$\"}${aws_vpc.network_vpc.id}$"
        );
        // Inside a function call the template is a quoted HCL string; same rule.
        let call: Expr<String> = fns::lower(e);
        assert_eq!(
            call.to_terraform_string(),
            "${lower(\"${\"$$\"}${aws_vpc.network_vpc.id}$\")}"
        );
    }

    #[test]
    fn raw_text_is_parenthesized_before_postfix() {
        let e: Expr<String> = Expr::raw("var.a ? var.b : var.c").attr("id");
        assert_eq!(e.to_terraform_string(), "${(var.a ? var.b : var.c).id}");
    }
}
