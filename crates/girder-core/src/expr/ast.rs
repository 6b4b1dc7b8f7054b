//! The untyped expression tree behind [`Expr`](super::Expr), and its rendering to Terraform's
//! expression syntax. Literal strings are always escaped so that no user text can become an
//! interpolation (`${`) or a template directive (`%{`).

use serde::{Deserialize, Serialize};

/// One node of a Terraform expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ast {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number literal.
    Number(serde_json::Number),
    /// A string literal (escaped when rendered).
    String(String),
    /// A reference to a resource, data source, variable, local, module or iterator (boxed:
    /// it is the largest node, and bodies hold many small ones).
    Ref(Box<Reference>),
    /// `of.name`.
    Attr {
        /// The value whose attribute is read.
        of: Box<Ast>,
        /// The attribute name.
        name: String,
    },
    /// `of[key]`.
    Index {
        /// The collection.
        of: Box<Ast>,
        /// The index or key.
        key: Box<Ast>,
    },
    /// A call of a Terraform built-in function.
    Call {
        /// Function name.
        function: String,
        /// Arguments.
        args: Vec<Ast>,
    },
    /// String concatenation: literal parts and interpolated expressions.
    Template(Vec<Ast>),
    /// `[a, b]`.
    Tuple(Vec<Ast>),
    /// `{ "k" = v }`.
    Object(Vec<(String, Ast)>),
    /// The value is sensitive (cross-stack outputs carrying it are marked sensitive).
    Sensitive(Box<Ast>),
    /// Raw Terraform expression text: the escape hatch. Not checked, not tracked.
    Raw(String),
}

/// What a reference points at, and in which stack it lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// The id (`<stack>-<env>`) of the stack the target belongs to; `None` for iterator
    /// symbols (`count.index`, `each.key`), which belong wherever they are used.
    pub stack: Option<String>,
    /// The referenced object.
    pub target: Target,
}

/// The object a reference names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Target {
    /// `<type>.<name>`.
    Resource {
        /// Resource type, e.g. `aws_vpc`.
        rtype: String,
        /// Terraform name.
        name: String,
    },
    /// `data.<type>.<name>`.
    Data {
        /// Data source type.
        dtype: String,
        /// Terraform name.
        name: String,
    },
    /// `var.<name>`.
    Variable(String),
    /// `local.<name>`.
    Local(String),
    /// `module.<name>`.
    Module(String),
    /// `count.index`.
    CountIndex,
    /// `each.key`.
    EachKey,
    /// `each.value`.
    EachValue,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Resource { rtype, name } => write!(f, "{rtype}.{name}"),
            Target::Data { dtype, name } => write!(f, "data.{dtype}.{name}"),
            Target::Variable(name) => write!(f, "var.{name}"),
            Target::Local(name) => write!(f, "local.{name}"),
            Target::Module(name) => write!(f, "module.{name}"),
            Target::CountIndex => f.write_str("count.index"),
            Target::EachKey => f.write_str("each.key"),
            Target::EachValue => f.write_str("each.value"),
        }
    }
}

impl Ast {
    /// Every reference in the tree, in order of appearance.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.visit(&mut |node| {
            if let Ast::Ref(r) = node {
                out.push(&**r);
            }
        });
        out
    }

    /// How many levels of nodes the tree has (a leaf is 1). Iterative, so that even a
    /// tree too deep to render can be measured and refused.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut pending: Vec<(&Ast, usize)> = vec![(self, 1)];
        while let Some((node, level)) = pending.pop() {
            deepest = deepest.max(level);
            let below = level + 1;
            match node {
                Ast::Attr { of, .. } | Ast::Sensitive(of) => pending.push((of, below)),
                Ast::Index { of, key } => {
                    pending.push((of, below));
                    pending.push((key, below));
                }
                Ast::Call { args: items, .. } | Ast::Template(items) | Ast::Tuple(items) => {
                    pending.extend(items.iter().map(|item| (item, below)));
                }
                Ast::Object(entries) => pending.extend(entries.iter().map(|(_, v)| (v, below))),
                Ast::Null
                | Ast::Bool(_)
                | Ast::Number(_)
                | Ast::String(_)
                | Ast::Ref(_)
                | Ast::Raw(_) => {}
            }
        }
        deepest
    }

    /// Call `f` on this node and every node below it, parents first.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Ast)) {
        self.visit_pruned(&mut |node| {
            f(node);
            true
        });
    }

    /// Call `f` on this node and, while `f` returns true, on the nodes below it, parents
    /// first: a node for which `f` returns false is handled whole (a traversal matched as
    /// one cross-stack read) and its children are not visited.
    pub fn visit_pruned<'a>(&'a self, f: &mut impl FnMut(&'a Ast) -> bool) {
        if !f(self) {
            return;
        }
        match self {
            Ast::Attr { of, .. } | Ast::Sensitive(of) => of.visit_pruned(f),
            Ast::Index { of, key } => {
                of.visit_pruned(f);
                key.visit_pruned(f);
            }
            Ast::Call { args: items, .. } | Ast::Template(items) | Ast::Tuple(items) => {
                for item in items {
                    item.visit_pruned(f);
                }
            }
            Ast::Object(entries) => {
                for (_, value) in entries {
                    value.visit_pruned(f);
                }
            }
            Ast::Null
            | Ast::Bool(_)
            | Ast::Number(_)
            | Ast::String(_)
            | Ast::Ref(_)
            | Ast::Raw(_) => {}
        }
    }

    /// A copy of the tree in which every node for which `replace` returns `Some` is swapped
    /// for the returned node (whose children are not visited again). Parents are offered
    /// before their children.
    pub fn rewrite(&self, replace: &mut dyn FnMut(&Ast) -> Option<Ast>) -> Ast {
        if let Some(new) = replace(self) {
            return new;
        }
        match self {
            Ast::Attr { of, name } => Ast::Attr {
                of: Box::new(of.rewrite(replace)),
                name: name.clone(),
            },
            Ast::Index { of, key } => Ast::Index {
                of: Box::new(of.rewrite(replace)),
                key: Box::new(key.rewrite(replace)),
            },
            Ast::Sensitive(of) => Ast::Sensitive(Box::new(of.rewrite(replace))),
            Ast::Call { function, args } => Ast::Call {
                function: function.clone(),
                args: args.iter().map(|a| a.rewrite(replace)).collect(),
            },
            Ast::Template(parts) => {
                Ast::Template(parts.iter().map(|a| a.rewrite(replace)).collect())
            }
            Ast::Tuple(items) => Ast::Tuple(items.iter().map(|a| a.rewrite(replace)).collect()),
            Ast::Object(entries) => Ast::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.rewrite(replace)))
                    .collect(),
            ),
            leaf => leaf.clone(),
        }
    }

    /// For a traversal (a reference followed by attribute reads and literal indexes), the
    /// reference at its root. `None` for anything else.
    pub fn traversal_root(&self) -> Option<&Reference> {
        match self {
            Ast::Ref(r) => Some(r),
            Ast::Attr { of, .. } => of.traversal_root(),
            Ast::Index { of, key } if key.is_literal() => of.traversal_root(),
            _ => None,
        }
    }

    fn is_literal(&self) -> bool {
        matches!(
            self,
            Ast::Null | Ast::Bool(_) | Ast::Number(_) | Ast::String(_)
        )
    }

    /// The JSON value of a tree made only of literals, templates of literals, tuples and
    /// objects; `None` when any part needs Terraform to evaluate it.
    pub fn known_value(&self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match self {
            Ast::Null => J::Null,
            Ast::Bool(b) => J::Bool(*b),
            Ast::Number(n) => J::Number(n.clone()),
            Ast::String(s) => J::String(s.clone()),
            Ast::Sensitive(inner) => inner.known_value()?,
            Ast::Template(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part.known_value()? {
                        J::String(p) => s.push_str(&p),
                        J::Number(n) => s.push_str(&n.to_string()),
                        J::Bool(b) => s.push_str(if b { "true" } else { "false" }),
                        _ => return None,
                    }
                }
                J::String(s)
            }
            Ast::Tuple(items) => J::Array(
                items
                    .iter()
                    .map(Ast::known_value)
                    .collect::<Option<Vec<_>>>()?,
            ),
            Ast::Object(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.known_value()?)))
                    .collect::<Option<serde_json::Map<_, _>>>()?,
            ),
            _ => return None,
        })
    }

    /// The value as a Terraform JSON string: literal text escaped, expressions in `${...}`.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        match self {
            Ast::String(s) => escape_template_text(s, &mut out),
            Ast::Template(parts) => {
                let parts = merge_adjacent_text(parts);
                for (i, part) in parts.iter().enumerate() {
                    match part {
                        Ast::String(s) => {
                            let (text, dollars) = split_trailing_dollars(s, parts.get(i + 1));
                            escape_template_text(text, &mut out);
                            write_dollars(dollars, &mut out);
                        }
                        other => {
                            out.push_str("${");
                            other.write_hcl(&mut out);
                            out.push('}');
                        }
                    }
                }
            }
            Ast::Sensitive(inner) => return inner.to_json_string(),
            other => {
                out.push_str("${");
                other.write_hcl(&mut out);
                out.push('}');
            }
        }
        out
    }

    /// The expression in Terraform's native syntax (what goes between `${` and `}`).
    pub fn to_hcl(&self) -> String {
        let mut out = String::new();
        self.write_hcl(&mut out);
        out
    }

    fn write_hcl(&self, out: &mut String) {
        match self {
            Ast::Null => out.push_str("null"),
            Ast::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Ast::Number(n) => out.push_str(&n.to_string()),
            Ast::String(s) => write_quoted(s, out),
            Ast::Ref(r) => out.push_str(&r.target.to_string()),
            Ast::Attr { of, name } => {
                of.write_postfix_base(out);
                if crate::address::is_terraform_identifier(name) {
                    out.push('.');
                    out.push_str(name);
                } else {
                    out.push('[');
                    write_quoted(name, out);
                    out.push(']');
                }
            }
            Ast::Index { of, key } => {
                of.write_postfix_base(out);
                out.push('[');
                key.write_hcl(out);
                out.push(']');
            }
            Ast::Call { function, args } => {
                out.push_str(function);
                out.push('(');
                write_separated(args, out);
                out.push(')');
            }
            Ast::Template(parts) => {
                out.push('"');
                let parts = merge_adjacent_text(parts);
                for (i, part) in parts.iter().enumerate() {
                    match part {
                        Ast::String(s) => {
                            let (text, dollars) = split_trailing_dollars(s, parts.get(i + 1));
                            escape_quoted_text(text, out);
                            write_dollars(dollars, out);
                        }
                        other => {
                            out.push_str("${");
                            other.write_hcl(out);
                            out.push('}');
                        }
                    }
                }
                out.push('"');
            }
            Ast::Tuple(items) => {
                out.push('[');
                write_separated(items, out);
                out.push(']');
            }
            Ast::Object(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_quoted(key, out);
                    out.push_str(" = ");
                    value.write_hcl(out);
                }
                out.push('}');
            }
            Ast::Sensitive(inner) => inner.write_hcl(out),
            Ast::Raw(text) => out.push_str(text),
        }
    }

    /// Raw text may be an operator expression: parenthesize it before `.x` or `[i]`.
    fn write_postfix_base(&self, out: &mut String) {
        if let Ast::Raw(text) = self {
            out.push('(');
            out.push_str(text);
            out.push(')');
        } else {
            self.write_hcl(out);
        }
    }
}

/// Literal text right before an interpolation must not end in `$`: Terraform would read
/// `$` + `${` as the escape `$${` and the reference would become text. Such trailing
/// dollars are split off (when an interpolation follows) and written by [`write_dollars`]
/// as an interpolated string literal.
fn split_trailing_dollars<'a>(text: &'a str, next: Option<&Ast>) -> (&'a str, &'a str) {
    match next {
        Some(Ast::String(_)) | None => (text, ""),
        Some(_) => {
            let kept = text.trim_end_matches('$');
            (kept, &text[kept.len()..])
        }
    }
}

/// The parts of a template with adjacent literal texts joined, so that escaping sees
/// `$` + `{` split across two parts as the `${` it renders to.
fn merge_adjacent_text(parts: &[Ast]) -> std::borrow::Cow<'_, [Ast]> {
    let adjacent = parts
        .windows(2)
        .any(|w| matches!((&w[0], &w[1]), (Ast::String(_), Ast::String(_))));
    if !adjacent {
        return std::borrow::Cow::Borrowed(parts);
    }
    let mut merged: Vec<Ast> = Vec::with_capacity(parts.len());
    for part in parts {
        match (merged.last_mut(), part) {
            (Some(Ast::String(prev)), Ast::String(next)) => prev.push_str(next),
            (_, part) => merged.push(part.clone()),
        }
    }
    std::borrow::Cow::Owned(merged)
}

/// `$$` as `${"$$"}`: dollars that cannot start an escape or an interpolation.
fn write_dollars(dollars: &str, out: &mut String) {
    if !dollars.is_empty() {
        out.push_str("${\"");
        out.push_str(dollars);
        out.push_str("\"}");
    }
}

fn write_separated(items: &[Ast], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_hcl(out);
    }
}

/// Escape text that Terraform reads as a template (any JSON string value in `.tf.json`):
/// `${` becomes `$${` and `%{` becomes `%%{`.
pub fn escape_template_text(text: &str, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if (c == '$' || c == '%') && chars.peek() == Some(&'{') {
            out.push(c);
        }
    }
}

/// Escape text inside a quoted HCL string: template escapes plus `\`, `"` and control
/// characters.
fn escape_quoted_text(text: &str, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

fn write_quoted(text: &str, out: &mut String) {
    out.push('"');
    escape_quoted_text(text, out);
    out.push('"');
}
