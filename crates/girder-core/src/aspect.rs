//! Aspects: visitors that run over every element of a stack before synth. They apply
//! cross-cutting defaults (tags) and policy checks that report [`Diagnostics`] with
//! construct paths. An aspect sees a copy of the stack made for synth, so running synth
//! twice never applies an aspect twice.

use std::cell::Cell;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::body;
use crate::diagnostics::Diagnostics;
use crate::expr::{Ast, Map, Target};
use crate::helm::HelmRelease;
use crate::kubernetes::KubeObject;
use crate::path::ConstructPath;
use crate::stack::StackVariable;
use crate::static_json::StaticJson;
use crate::terraform::{ProviderConfig, ResourceSpec, SecretPaths};

/// One element of a stack, as an aspect sees it (mutable).
#[non_exhaustive]
pub enum Element<'a> {
    /// A provider configuration.
    #[non_exhaustive]
    Provider {
        /// Path of the construct that added it.
        path: &'a ConstructPath,
        /// The configuration.
        config: &'a mut ProviderConfig,
        /// The stack's locals and variable defaults its expressions may read.
        values: StackValues<'a>,
    },
    /// A resource or data source.
    #[non_exhaustive]
    Resource {
        /// Its construct path.
        path: &'a ConstructPath,
        /// Its specification.
        spec: &'a mut ResourceSpec,
        /// The stack's locals and variable defaults its expressions may read.
        values: StackValues<'a>,
    },
    /// A Kubernetes object (of an app or of the GitOps layout).
    KubeObject {
        /// Its construct path.
        path: &'a ConstructPath,
        /// The object.
        object: &'a mut KubeObject,
    },
    /// A Helm release's values.
    HelmRelease {
        /// Its construct path.
        path: &'a ConstructPath,
        /// The release.
        release: &'a mut HelmRelease,
    },
}

/// The values an element's expressions can read in their stack: locals and variable
/// defaults, for checks that follow a value back to where it was written.
#[derive(Clone, Copy)]
pub struct StackValues<'a> {
    stack: &'a str,
    locals: &'a IndexMap<String, Ast>,
    variables: &'a IndexMap<String, StackVariable>,
}

impl<'a> StackValues<'a> {
    pub(crate) fn new(
        stack: &'a str,
        locals: &'a IndexMap<String, Ast>,
        variables: &'a IndexMap<String, StackVariable>,
    ) -> Self {
        Self {
            stack,
            locals,
            variables,
        }
    }

    /// The value of `local.<name>`.
    pub fn local(&self, name: &str) -> Option<&'a Ast> {
        self.locals.get(name)
    }

    /// The default of `var.<name>`, if it has one.
    pub fn variable_default(&self, name: &str) -> Option<&'a Ast> {
        self.variables.get(name)?.default.as_ref()
    }

    /// For a traversal of a local or a variable of this stack, the value it reads where
    /// the program wrote it (`local.db.password` -> the `password` entry of
    /// `local.db`), and its label (`local.db`). `None` for anything else.
    fn resolve(&self, ast: &Ast) -> Option<(&'a Ast, String)> {
        let mut steps = Vec::new();
        let mut node = ast;
        loop {
            match node {
                Ast::Attr { of, name } => {
                    steps.push(Ast::String(name.clone()));
                    node = of;
                }
                Ast::Index { of, key } => {
                    steps.push(key.as_ref().clone());
                    node = of;
                }
                Ast::Ref(_) => break,
                _ => return None,
            }
        }
        let Ast::Ref(reference) = node else {
            return None;
        };
        if reference.stack.as_deref() != Some(self.stack) {
            return None;
        }
        let mut value = match &reference.target {
            Target::Local(name) => self.local(name)?,
            Target::Variable(name) => self.variable_default(name)?,
            _ => return None,
        };
        for step in steps.iter().rev() {
            value = match (value, step.known_value()) {
                (Ast::Object(entries), Some(Json::String(key))) => {
                    &entries.iter().find(|(k, _)| *k == key)?.1
                }
                (Ast::Tuple(items), Some(Json::Number(n))) => {
                    items.get(usize::try_from(n.as_u64()?).ok()?)?
                }
                // Past what girder can take apart: the whole value stands for the part.
                _ => break,
            };
        }
        Some((value, reference.target.to_string()))
    }
}

/// A visitor run over every element of a stack before synth.
pub trait Aspect: Send + Sync {
    /// Visit one element; report findings into `diagnostics`.
    fn visit(&self, element: Element<'_>, diagnostics: &mut Diagnostics);
}

/// Shared handle to an aspect (stacks are cloned for synth; aspects are shared).
pub type SharedAspect = Arc<dyn Aspect>;

/// Sets `default_tags` on every AWS provider configuration, so that every taggable AWS
/// resource of the stack carries them (tags set on a provider already win over these,
/// and tags set on a resource win over both, as the AWS provider merges them).
#[derive(Clone, Debug)]
pub struct DefaultTags {
    tags: Map<String>,
}

impl DefaultTags {
    /// Tags to apply, e.g. `Project`, `Environment`, `ManagedBy`.
    pub fn new<K: Into<String>, V: Into<String>>(tags: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            tags: tags
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl Aspect for DefaultTags {
    fn visit(&self, element: Element<'_>, diagnostics: &mut Diagnostics) {
        let Element::Provider { path, config, .. } = element else {
            return;
        };
        if config.name() != "aws" {
            return;
        }
        let body = config.body_mut();
        let mut merged: Vec<(String, Ast)> = self
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), Ast::String(v.clone())))
            .collect();
        // Existing provider-level default tags win over the aspect's.
        if let Some(Ast::Tuple(blocks)) = body::get(body, "default_tags") {
            if let Some(Ast::Object(existing)) = blocks.first().and_then(|b| body::get(b, "tags")) {
                for (key, value) in existing {
                    match merged.iter_mut().find(|(k, _)| k == key) {
                        Some((_, slot)) => *slot = value.clone(),
                        None => merged.push((key.clone(), value.clone())),
                    }
                }
            }
        }
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        let block = Ast::Object(vec![("tags".to_owned(), Ast::Object(merged))]);
        if !body::set(body, "default_tags", Ast::Tuple(vec![block])) {
            diagnostics.error(
                path,
                "default-tags",
                "the aws provider configuration is not an object; cannot set default_tags",
            );
        }
    }
}

/// Reports an error for every literal secret: a literal (a string or number, or an
/// expression built only from literals: templates, function calls such as `format` or
/// `base64encode`, `.sensitive()` wrappers, locals and variable defaults holding them)
/// that reaches an argument holding a secret. Which arguments hold secrets comes from the
/// provider schema (the sensitive attributes and credential arguments generated L1 types
/// and provider configurations carry, nested blocks included), from the kind (a
/// Kubernetes v1 `Secret`'s `data` / `stringData`: girder writes no Secret, pods read
/// what External Secrets or Sealed Secrets produce), and, for raw specs that carry no
/// schema knowledge, from argument names. An empty string is not a secret. Secrets
/// belong in a generator (random_password), a managed secret, or a sensitive variable
/// without a default.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLiteralSecrets;

/// Argument names that hold secrets in a raw spec or provider configuration, which
/// carries no schema knowledge.
const SECRET_ARGUMENT_NAMES: &[&str] = &[
    "password",
    "master_password",
    "secret",
    "secret_key",
    "secret_string",
    "client_secret",
    "private_key",
    "token",
    "auth_token",
    "api_key",
];

/// The rule id, used to acknowledge a finding.
const RULE: &str = "no-literal-secrets";

/// Deepest nesting of values and locals followed (a bound against malformed programs;
/// real bodies and chains of locals are far shallower).
const MAX_DEPTH: usize = 256;

impl Aspect for NoLiteralSecrets {
    fn visit(&self, element: Element<'_>, diagnostics: &mut Diagnostics) {
        let advice = "use a generated or managed secret (random_password, \
                      manage_master_user_password, Secrets Manager) or a sensitive variable \
                      without a default";
        match element {
            Element::Resource {
                path, spec, values, ..
            } => {
                let rule = SecretArguments::for_resource(spec);
                for finding in literal_secrets(spec.body(), &rule, values) {
                    diagnostics.error(
                        path,
                        RULE,
                        format!(
                            "{} sets `{}` to a literal{}; {advice}",
                            spec.resource_type(),
                            finding.field,
                            finding.via()
                        ),
                    );
                }
            }
            Element::Provider {
                path,
                config,
                values,
                ..
            } => {
                let rule = SecretArguments::for_provider(config);
                for finding in literal_secrets(config.body(), &rule, values) {
                    diagnostics.error(
                        path,
                        RULE,
                        format!(
                            "the {} provider configuration sets `{}` to a literal{}; {advice}",
                            config.name(),
                            finding.field,
                            finding.via()
                        ),
                    );
                }
            }
            Element::KubeObject { path, object } => {
                for field in kube_secret_data(object.body()) {
                    diagnostics.error(
                        path,
                        RULE,
                        format!(
                            "{} writes `{field}`: girder writes no Secret data into \
                             manifests; let External Secrets (ExternalSecret) or Sealed \
                             Secrets (SealedSecret) produce the Secret in the cluster",
                            object.describe()
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}

/// A literal reaching a secret argument.
struct Finding {
    /// `password`, `default_action.authenticate_oidc.client_secret`, `data.key`.
    field: String,
    /// The local or variable the literal came through.
    via: Option<String>,
}

impl Finding {
    fn via(&self) -> String {
        match &self.via {
            Some(label) => format!(" (through {label})"),
            None => String::new(),
        }
    }
}

/// Which arguments of one block hold secrets.
struct SecretArguments {
    /// From the schema; `None` for a block without schema knowledge.
    schema: Option<SecretPaths>,
    /// Paths the block's own values take out of the schema's list (an SSM `String`
    /// parameter's `value`) or add to it.
    excluded: Vec<&'static str>,
    added: Vec<&'static str>,
}

impl SecretArguments {
    fn for_resource(spec: &ResourceSpec) -> Self {
        let body = spec.body();
        let mut rule = Self {
            schema: spec.schema_secrets(),
            excluded: Vec::new(),
            added: Vec::new(),
        };
        // Conditions the schema cannot state: the provider marks these sensitive whatever
        // they hold, but they hold secrets only in some configurations.
        let literal = |key: &str| body::get(body, key).and_then(Ast::known_value);
        match spec.resource_type() {
            // A `String` / `StringList` parameter is configuration (the SSM contract);
            // only a `SecureString` one is a secret.
            "aws_ssm_parameter" => {
                let secure = match literal("type") {
                    Some(Json::String(t)) => t == "SecureString",
                    _ => true,
                };
                let paths = ["value", "value_wo"];
                if secure {
                    rule.added.extend(paths);
                } else {
                    rule.excluded.extend(paths);
                }
            }
            // A workspace variable is a secret when it is marked sensitive.
            "tfe_variable" => {
                let sensitive = body::get(body, "sensitive").is_some_and(|flag| {
                    !matches!(flag.known_value(), Some(Json::Bool(false) | Json::Null))
                });
                let paths = ["value", "value_wo"];
                if sensitive {
                    rule.added.extend(paths);
                } else {
                    rule.excluded.extend(paths);
                }
            }
            "kubernetes_secret" | "kubernetes_secret_v1" => {
                rule.added
                    .extend(["data", "binary_data", "data_wo", "binary_data_wo"]);
            }
            // A Secret applied through the kubernetes provider as a raw manifest.
            "kubernetes_manifest" => {
                let manifest = body::get(body, "manifest");
                let field = |key: &str| {
                    manifest
                        .and_then(|m| body::get(m, key))
                        .and_then(Ast::known_value)
                };
                if field("apiVersion") == Some(Json::from("v1"))
                    && field("kind") == Some(Json::from("Secret"))
                {
                    rule.added.extend(["manifest.data", "manifest.stringData"]);
                }
            }
            _ => {}
        }
        rule
    }

    fn for_provider(config: &ProviderConfig) -> Self {
        Self {
            schema: config.schema_secrets(),
            excluded: Vec::new(),
            added: Vec::new(),
        }
    }

    /// Whether the argument at `path` (names from the block root, list positions left
    /// out) holds a secret.
    fn is_secret(&self, path: &[&str]) -> bool {
        let under = |pattern: &&str| {
            let segments: Vec<&str> = pattern.split('.').collect();
            segments.len() <= path.len()
                && segments
                    .iter()
                    .zip(path)
                    .all(|(segment, step)| *segment == "*" || segment == step)
        };
        if self.excluded.iter().any(under) {
            return false;
        }
        if self.added.iter().any(under) {
            return true;
        }
        match &self.schema {
            Some(schema) => schema.is_secret_argument(path),
            None => path
                .last()
                .is_some_and(|name| SECRET_ARGUMENT_NAMES.contains(name)),
        }
    }
}

/// Every literal in `body` that reaches a secret argument.
fn literal_secrets(body: &Ast, rule: &SecretArguments, values: StackValues<'_>) -> Vec<Finding> {
    let follow = Follow {
        values,
        budget: Cell::new(MAX_FOLLOWS),
    };
    let mut found = Vec::new();
    scan(body, &mut Vec::new(), rule, &follow, None, &mut found, 0);
    found
}

/// How many local / variable reads one element's check follows at most: locals may
/// share values, and a program whose expansion is larger than this is not checked
/// further (no real program comes near it).
const MAX_FOLLOWS: usize = 100_000;

/// Reads of locals and variable defaults, with a budget.
struct Follow<'a> {
    values: StackValues<'a>,
    budget: Cell<usize>,
}

impl<'a> Follow<'a> {
    fn resolve(&self, ast: &Ast) -> Option<(&'a Ast, String)> {
        let left = self.budget.get();
        if left == 0 {
            return None;
        }
        let resolved = self.values.resolve(ast)?;
        self.budget.set(left - 1);
        Some(resolved)
    }
}

/// Walk arguments until a secret one, following locals whose values are arguments.
fn scan(
    body: &Ast,
    path: &mut Vec<String>,
    rule: &SecretArguments,
    values: &Follow<'_>,
    via: Option<&str>,
    found: &mut Vec<Finding>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match body {
        Ast::Object(entries) => {
            for (key, value) in entries {
                path.push(key.clone());
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                if rule.is_secret(&names) {
                    let field = path.join(".");
                    literals_in(value, &field, values, via, found, depth + 1);
                } else {
                    scan(value, path, rule, values, via, found, depth + 1);
                }
                path.pop();
            }
        }
        Ast::Tuple(items) => {
            for item in items {
                scan(item, path, rule, values, via, found, depth + 1);
            }
        }
        Ast::Sensitive(inner) => scan(inner, path, rule, values, via, found, depth + 1),
        other => {
            if let Some((value, label)) = values.resolve(other) {
                scan(value, path, rule, values, Some(&label), found, depth + 1);
            }
        }
    }
}

/// Inside a secret argument: every part that is a literal with content.
fn literals_in(
    value: &Ast,
    field: &str,
    values: &Follow<'_>,
    via: Option<&str>,
    found: &mut Vec<Finding>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        // A map of secrets (`data`) or a list of them: each entry on its own.
        Ast::Object(entries) => {
            for (key, value) in entries {
                literals_in(
                    value,
                    &format!("{field}.{key}"),
                    values,
                    via,
                    found,
                    depth + 1,
                );
            }
        }
        Ast::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                literals_in(
                    item,
                    &format!("{field}[{i}]"),
                    values,
                    via,
                    found,
                    depth + 1,
                );
            }
        }
        Ast::Sensitive(inner) => literals_in(inner, field, values, via, found, depth + 1),
        other => {
            if let Some((resolved, label)) = values.resolve(other) {
                literals_in(resolved, field, values, Some(&label), found, depth + 1);
            } else if is_literal(other, values, depth) && has_content(other, values, depth) {
                found.push(Finding {
                    field: field.to_owned(),
                    via: via.map(str::to_owned),
                });
            }
        }
    }
}

/// Built only from literals: nothing Terraform must look up or compute from outside the
/// configuration (references other than locals / variable defaults holding literals,
/// raw text).
fn is_literal(ast: &Ast, values: &Follow<'_>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Some((resolved, _)) = values.resolve(ast) {
        return is_literal(resolved, values, depth + 1);
    }
    match ast {
        Ast::Null | Ast::Bool(_) | Ast::Number(_) | Ast::String(_) => true,
        Ast::Sensitive(inner) => is_literal(inner, values, depth + 1),
        Ast::Call { args: items, .. } | Ast::Template(items) | Ast::Tuple(items) => {
            items.iter().all(|item| is_literal(item, values, depth + 1))
        }
        Ast::Object(entries) => entries
            .iter()
            .all(|(_, value)| is_literal(value, values, depth + 1)),
        Ast::Attr { of, .. } => is_literal(of, values, depth + 1),
        Ast::Index { of, key } => {
            is_literal(of, values, depth + 1) && is_literal(key, values, depth + 1)
        }
        _ => false,
    }
}

/// Holds some text or number (an empty string, `null` or a bare `true` holds no secret).
fn has_content(ast: &Ast, values: &Follow<'_>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Some((resolved, _)) = values.resolve(ast) {
        return has_content(resolved, values, depth + 1);
    }
    match ast {
        Ast::String(s) => !s.is_empty(),
        Ast::Number(_) => true,
        Ast::Sensitive(inner) => has_content(inner, values, depth + 1),
        Ast::Call { args: items, .. } | Ast::Template(items) | Ast::Tuple(items) => items
            .iter()
            .any(|item| has_content(item, values, depth + 1)),
        Ast::Object(entries) => entries
            .iter()
            .any(|(_, value)| has_content(value, values, depth + 1)),
        Ast::Attr { of, .. } | Ast::Index { of, .. } => has_content(of, values, depth + 1),
        _ => false,
    }
}

/// The non-empty `data` / `stringData` entries of a Kubernetes v1 Secret.
fn kube_secret_data(object: &StaticJson) -> Vec<String> {
    let text = |key: &str| object.get(key).and_then(StaticJson::as_str);
    if text("apiVersion") != Some("v1") || text("kind") != Some("Secret") {
        return Vec::new();
    }
    let mut fields = Vec::new();
    for key in ["data", "stringData"] {
        match object.get(key) {
            Some(StaticJson::Object(entries)) => {
                for (name, value) in entries {
                    let empty = match value {
                        StaticJson::Null => true,
                        StaticJson::String(s) => s.is_empty(),
                        _ => false,
                    };
                    if !empty {
                        fields.push(format!("{key}.{name}"));
                    }
                }
            }
            None | Some(StaticJson::Null) => {}
            Some(_) => fields.push(key.to_owned()),
        }
    }
    fields
}
