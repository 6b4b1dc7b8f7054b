//! Bodies: the data of a resource, provider, local, Kubernetes object or Helm values, held
//! as an expression tree ([`Ast`]) so that expressions inside stay visible until synth.
//!
//! A body is built by serializing any `serde::Serialize` value straight into the tree
//! ([`to_ast`](crate::expr::to_ast)): data stays data, and only girder's own expressions
//! become expression nodes. Rendering to Terraform JSON escapes every literal string;
//! rendering to a static artifact (Kubernetes, Helm) refuses expressions that are only
//! known after apply.

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::expr::{Ast, Dynamic, Expr, to_ast};
use crate::static_json::StaticJson;

/// An ad-hoc object body mixing literals and expressions, for untyped resources
/// ([`ResourceSpec::resource`](crate::terraform::ResourceSpec::resource)), locals or
/// objects where no typed config exists. Raw JSON (`serde_json::json!`) is data only and
/// cannot hold expressions; this can:
///
/// ```
/// use girder_core::Body;
/// use girder_core::prelude::*;
///
/// # fn main() -> girder_core::Result<()> {
/// let mut stack = Stack::new("network", "dev", Backend::local())?;
/// let vpc = stack.root().add("vpc", ResourceSpec::resource("aws_vpc", &Body::new().set("cidr_block", "10.0.0.0/16")))?;
/// let subnet = Body::new()
///     .set("vpc_id", vpc.attr::<String>("id"))
///     .set("cidr_block", "10.0.1.0/24")
///     .set("tags", Body::new().set("Name", "a"));
/// stack.root().add("subnet", ResourceSpec::resource("aws_subnet", &subnet))?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    entries: Vec<(String, Ast)>,
    error: Option<String>,
}

impl Body {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `key` to `value` (any serializable value: a literal, an `Expr`, a typed config,
    /// another `Body`). Setting a key again replaces its value in place. A value that
    /// cannot be serialized is reported when the body is used.
    pub fn set(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        let key = key.into();
        match to_ast(&value) {
            Ok(ast) => match self.entries.iter_mut().find(|(k, _)| *k == key) {
                Some((_, slot)) => *slot = ast,
                None => self.entries.push((key, ast)),
            },
            Err(e) if self.error.is_none() => self.error = Some(format!("{key}: {e}")),
            Err(_) => {}
        }
        self
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(message) = &self.error {
            return Err(serde::ser::Error::custom(message));
        }
        Expr::<Dynamic>::from_ast(Ast::Object(self.entries.clone())).serialize(serializer)
    }
}

/// Serialize `value` into a body; `path` and `what` name it in errors.
pub(crate) fn to_body<T: Serialize + ?Sized>(path: &str, what: &str, value: &T) -> Result<Ast> {
    to_ast(value).map_err(|e| serialize_error(path, what, e))
}

pub(crate) fn serialize_error(path: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Serialize {
        path: path.to_owned(),
        what: what.to_owned(),
        message: e.to_string(),
    }
}

/// Render a body as Terraform JSON: data stays data, expressions become `${...}` strings,
/// and literal strings (and object keys) are escaped.
pub(crate) fn to_terraform_json(body: &Ast) -> serde_json::Value {
    use serde_json::Value as J;
    match body {
        Ast::Null => J::Null,
        Ast::Bool(b) => J::Bool(*b),
        Ast::Number(n) => J::Number(n.clone()),
        Ast::Tuple(items) => J::Array(items.iter().map(to_terraform_json).collect()),
        Ast::Object(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (escape(k), to_terraform_json(v)))
                .collect(),
        ),
        other => J::String(other.to_json_string()),
    }
}

/// Plain data (no expressions) as Terraform JSON: every string and key escaped.
pub(crate) fn literal_terraform_json(data: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match data {
        J::String(s) => J::String(escape(s)),
        J::Array(items) => J::Array(items.iter().map(literal_terraform_json).collect()),
        J::Object(map) => J::Object(
            map.iter()
                .map(|(k, v)| (escape(k), literal_terraform_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A literal escaped for a Terraform JSON string (`${` -> `$${`, `%{` -> `%%{`).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    crate::expr::escape_template_text(text, &mut out);
    out
}

/// Render a body for a static artifact. An expression made only of literals is evaluated;
/// anything Terraform must compute is an [`Error::UnknownAtSynth`] naming the field.
pub(crate) fn to_static_json(path: &str, artifact: &str, body: &Ast) -> Result<serde_json::Value> {
    if let Some(json) = body.known_value() {
        return Ok(json);
    }
    Err(unknown_at_synth(path, artifact, body))
}

/// [`to_static_json`] for a body that is not needed afterwards, into girder's compact
/// [`StaticJson`]: data is moved rather than copied (Kubernetes objects are most of a
/// large synth).
pub(crate) fn into_static_tree(path: &str, artifact: &str, body: Ast) -> Result<StaticJson> {
    if is_known(&body) {
        if let Some(tree) = StaticJson::from_known_ast(body) {
            return Ok(tree);
        }
        return Err(Error::invalid(
            path,
            format!("{artifact} could not be evaluated"),
        ));
    }
    Err(unknown_at_synth(path, artifact, &body))
}

/// Whether [`Ast::known_value`] would succeed, without building the value.
fn is_known(body: &Ast) -> bool {
    match body {
        Ast::Null | Ast::Bool(_) | Ast::Number(_) | Ast::String(_) => true,
        Ast::Tuple(items) => items.iter().all(is_known),
        Ast::Object(entries) => entries.iter().all(|(_, v)| is_known(v)),
        other => other.known_value().is_some(),
    }
}

fn unknown_at_synth(path: &str, artifact: &str, body: &Ast) -> Error {
    // Only on failure: find the first field Terraform must compute.
    let mut field = String::from("$");
    let unknown = first_unknown(body, &mut field).unwrap_or(body);
    Error::UnknownAtSynth {
        path: path.to_owned(),
        artifact: artifact.to_owned(),
        field,
        expression: unknown.to_json_string(),
    }
}

/// The first node (depth first) whose value needs Terraform, with its field path in `field`.
fn first_unknown<'a>(body: &'a Ast, field: &mut String) -> Option<&'a Ast> {
    match body {
        Ast::Tuple(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = field.len();
            field.push_str(&format!("[{i}]"));
            let found = first_unknown(item, field);
            if found.is_none() {
                field.truncate(len);
            }
            found
        }),
        Ast::Object(entries) => entries.iter().find_map(|(key, value)| {
            let len = field.len();
            field.push('.');
            field.push_str(key);
            let found = first_unknown(value, field);
            if found.is_none() {
                field.truncate(len);
            }
            found
        }),
        other => other.known_value().is_none().then_some(other),
    }
}

/// The entry `key` of an object body, if the body is an object holding it.
pub(crate) fn get<'a>(body: &'a Ast, key: &str) -> Option<&'a Ast> {
    match body {
        Ast::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// Set `key` of an object body (replacing an existing entry in place, else appending).
/// Returns false when the body is not an object.
pub(crate) fn set(body: &mut Ast, key: &str, value: Ast) -> bool {
    match body {
        Ast::Object(entries) => {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some((_, slot)) => *slot = value,
                None => entries.push((key.to_owned(), value)),
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Expr, Reference, Target};
    use serde_json::json;

    #[test]
    fn terraform_json_escapes_literals_and_renders_expressions() {
        let id: Expr<String> = Expr::<()>::reference(Reference {
            stack: Some("s-dev".into()),
            target: Target::Resource {
                rtype: "aws_vpc".into(),
                name: "main".into(),
            },
        })
        .attr("id");
        #[derive(serde::Serialize)]
        struct Args {
            vpc_id: Expr<String>,
            name: &'static str,
            n: u8,
        }
        let args = Args {
            vpc_id: id,
            name: "${oops}",
            n: 1,
        };
        let body = to_body("p", "resource", &args).unwrap();
        assert_eq!(
            to_terraform_json(&body),
            json!({"vpc_id": "${aws_vpc.main.id}", "name": "$${oops}", "n": 1})
        );
        let err = to_static_json("web", "ConfigMap web", &body)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`$.vpc_id`"), "{err}");
        assert!(err.contains("${aws_vpc.main.id}"), "{err}");
        assert!(err.contains("SSM Parameter Store"), "{err}");
    }

    #[test]
    fn static_json_keeps_dollar_text_verbatim() {
        // Flux post-build substitution variables are plain text in manifests.
        let body = to_body("p", "obj", &json!({"host": "${DB_HOST}"})).unwrap();
        assert_eq!(
            to_static_json("p", "obj", &body).unwrap(),
            json!({"host": "${DB_HOST}"})
        );
    }
}
