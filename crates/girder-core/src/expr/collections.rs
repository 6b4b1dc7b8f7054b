//! List and map arguments: a literal collection whose elements are values (literals or
//! expressions, mixed freely), or one expression for the whole collection.
//!
//! Generated L1 setters take `impl IntoList<T>` / `impl IntoMap<T>`, so all of these work:
//! `["10.0.0.0/8"]`, `vec![a.id(), b.id()]`, `subnets.ids()` (an `Expr<Vec<String>>`),
//! `[("Name", "web")]`, a `BTreeMap`.

use super::{Expr, Map, Value};

/// A list (or set) argument whose elements are `T`s.
pub type ListValue<T> = Value<Vec<Value<T>>>;

/// A map argument whose values are `T`s.
pub type MapValue<T> = Value<Map<Value<T>>>;

/// Converts into a [`ListValue`].
pub trait IntoList<T> {
    /// The list value.
    fn into_list(self) -> ListValue<T>;
}

impl<T, I> IntoList<T> for I
where
    I: IntoIterator,
    I::Item: Into<Value<T>>,
{
    fn into_list(self) -> ListValue<T> {
        Value::Literal(self.into_iter().map(Into::into).collect())
    }
}

impl<T> IntoList<T> for Expr<Vec<T>> {
    fn into_list(self) -> ListValue<T> {
        Value::Expr(self.cast())
    }
}

impl<T> IntoList<T> for &Expr<Vec<T>> {
    fn into_list(self) -> ListValue<T> {
        Value::Expr(self.clone().cast())
    }
}

impl<T> IntoList<T> for ListValue<T> {
    fn into_list(self) -> ListValue<T> {
        self
    }
}

/// Converts into a [`MapValue`].
pub trait IntoMap<T> {
    /// The map value.
    fn into_map(self) -> MapValue<T>;
}

impl<T, I, K, V> IntoMap<T> for I
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<Value<T>>,
{
    fn into_map(self) -> MapValue<T> {
        Value::Literal(
            self.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<T> IntoMap<T> for Expr<Map<T>> {
    fn into_map(self) -> MapValue<T> {
        Value::Expr(self.cast())
    }
}

impl<T> IntoMap<T> for &Expr<Map<T>> {
    fn into_map(self) -> MapValue<T> {
        Value::Expr(self.clone().cast())
    }
}

impl<T> IntoMap<T> for MapValue<T> {
    fn into_map(self) -> MapValue<T> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: serde::Serialize>(value: &T) -> String {
        // Plain serde: literals only in these cases.
        serde_json::to_string(value).unwrap()
    }

    #[test]
    fn literal_lists_mix_literals_and_expressions() {
        let id: Expr<String> = Expr::from_ast(crate::expr::Ast::Raw("aws_vpc.main.id".into()));
        let list: ListValue<String> = ["a", "b"].into_list();
        assert_eq!(json(&list), r#"["a","b"]"#);
        let mixed: ListValue<String> = vec![Value::from("a"), Value::from(&id)].into_list();
        let mixed = crate::expr::to_ast(&mixed).unwrap();
        assert_eq!(
            mixed,
            crate::expr::Ast::Tuple(vec![crate::expr::Ast::String("a".into()), id.ast().clone()])
        );
        let whole: ListValue<String> =
            Expr::<Vec<String>>::from_ast(crate::expr::Ast::Raw("var.ids".into())).into_list();
        assert!(matches!(whole, Value::Expr(_)));
    }

    #[test]
    fn maps_from_pairs_keep_keys_sorted() {
        let tags: MapValue<String> = [("b", "2"), ("a", "1")].into_map();
        assert_eq!(json(&tags), r#"{"a":"1","b":"2"}"#);
    }
}
