//! Terraform built-in functions as typed constructors. Each returns an [`Expr`] of the
//! function's result type; arguments accept literals or expressions.
//!
//! Only functions that girder stacks use are here; anything else is one [`call`] away.

use super::{Ast, Dynamic, Expr, Map, Number};

/// Any Terraform function by name, for those without a typed constructor here.
pub fn call<T>(function: &str, args: impl IntoIterator<Item = Expr<Dynamic>>) -> Expr<T> {
    Expr::from_ast(Ast::Call {
        function: function.to_owned(),
        args: args.into_iter().map(|a| a.ast).collect(),
    })
}

/// `format(spec, args...)`.
pub fn format(
    spec: impl Into<Expr<String>>,
    args: impl IntoIterator<Item = Expr<Dynamic>>,
) -> Expr<String> {
    call("format", std::iter::once(spec.into().any()).chain(args))
}

/// `join(separator, list)`.
pub fn join(separator: impl Into<Expr<String>>, list: Expr<Vec<String>>) -> Expr<String> {
    call("join", [separator.into().any(), list.any()])
}

/// `jsonencode(value)`.
pub fn jsonencode<T>(value: Expr<T>) -> Expr<String> {
    call("jsonencode", [value.any()])
}

/// `cidrsubnet(prefix, newbits, netnum)`.
pub fn cidrsubnet(
    prefix: impl Into<Expr<String>>,
    newbits: impl Into<Expr<Number>>,
    netnum: impl Into<Expr<Number>>,
) -> Expr<String> {
    call(
        "cidrsubnet",
        [
            prefix.into().any(),
            newbits.into().any(),
            netnum.into().any(),
        ],
    )
}

/// `lookup(map, key, default)`.
pub fn lookup<T>(map: Expr<Map<T>>, key: impl Into<Expr<String>>, default: Expr<T>) -> Expr<T> {
    call("lookup", [map.any(), key.into().any(), default.any()])
}

/// `element(list, index)` (wraps around, unlike `list[index]`).
pub fn element<T>(list: Expr<Vec<T>>, index: impl Into<Expr<Number>>) -> Expr<T> {
    call("element", [list.any(), index.into().any()])
}

/// `try(first, fallbacks...)`: the first that evaluates without error.
pub fn try_<T>(first: Expr<T>, fallbacks: impl IntoIterator<Item = Expr<T>>) -> Expr<T> {
    call(
        "try",
        std::iter::once(first.any()).chain(fallbacks.into_iter().map(Expr::any)),
    )
}

/// `can(expression)`: whether it evaluates without error (for variable validations).
pub fn can<T>(expression: Expr<T>) -> Expr<bool> {
    call("can", [expression.any()])
}

/// `length(collection)`.
pub fn length<T>(collection: Expr<T>) -> Expr<Number> {
    call("length", [collection.any()])
}

/// `lower(text)`.
pub fn lower(text: impl Into<Expr<String>>) -> Expr<String> {
    call("lower", [text.into().any()])
}

/// `concat(lists...)`.
pub fn concat<T>(lists: impl IntoIterator<Item = Expr<Vec<T>>>) -> Expr<Vec<T>> {
    call("concat", lists.into_iter().map(Expr::any))
}

/// `merge(maps...)`.
pub fn merge<T>(maps: impl IntoIterator<Item = Expr<Map<T>>>) -> Expr<Map<T>> {
    call("merge", maps.into_iter().map(Expr::any))
}

/// `tostring(value)`.
pub fn tostring<T>(value: Expr<T>) -> Expr<String> {
    call("tostring", [value.any()])
}

/// `base64encode(text)`.
pub fn base64encode(text: impl Into<Expr<String>>) -> Expr<String> {
    call("base64encode", [text.into().any()])
}

/// `base64decode(text)`.
pub fn base64decode(text: impl Into<Expr<String>>) -> Expr<String> {
    call("base64decode", [text.into().any()])
}

/// A list built from element expressions (`[a, b]`).
pub fn list<T>(items: impl IntoIterator<Item = Expr<T>>) -> Expr<Vec<T>> {
    Expr::from_ast(Ast::Tuple(items.into_iter().map(|i| i.ast).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_render_with_escaped_literal_arguments() {
        let e = format("%s-${x}", [Expr::lit("a\"b").any()]);
        assert_eq!(e.to_terraform_string(), r#"${format("%s-$${x}", "a\"b")}"#);
        let c = cidrsubnet("10.0.0.0/16", 8, 1);
        assert_eq!(
            c.to_terraform_string(),
            r#"${cidrsubnet("10.0.0.0/16", 8, 1)}"#
        );
        assert_eq!(c.known_value(), None);
    }

    #[test]
    fn try_and_lists() {
        let l = list([Expr::lit("a"), Expr::lit("b")]);
        let e = try_(element(l, 3), [Expr::lit("z")]);
        assert_eq!(
            e.to_terraform_string(),
            r#"${try(element(["a", "b"], 3), "z")}"#
        );
    }
}
