//! Aspects: visitors that run over every element of a stack before synth. They apply
//! cross-cutting defaults (tags) and policy checks that report [`Diagnostics`] with
//! construct paths. An aspect sees a copy of the stack made for synth, so running synth
//! twice never applies an aspect twice.

use std::sync::Arc;

use crate::body;
use crate::diagnostics::Diagnostics;
use crate::expr::{Ast, Map};
use crate::helm::HelmRelease;
use crate::kubernetes::KubeObject;
use crate::path::ConstructPath;
use crate::terraform::{ProviderConfig, ResourceSpec};

/// One element of a stack, as an aspect sees it (mutable).
#[non_exhaustive]
pub enum Element<'a> {
    /// A provider configuration.
    Provider {
        /// Path of the construct that added it.
        path: &'a ConstructPath,
        /// The configuration.
        config: &'a mut ProviderConfig,
    },
    /// A resource or data source.
    Resource {
        /// Its construct path.
        path: &'a ConstructPath,
        /// Its specification.
        spec: &'a mut ResourceSpec,
    },
    /// A Kubernetes object.
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
        let Element::Provider { path, config } = element else {
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

/// Reports an error for every literal secret: any resource argument named
/// `password`, `master_password`, `secret_key` or `token` holding a literal string. Secrets belong
/// in a generator (random_password), a managed secret, or a sensitive variable.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLiteralSecrets;

/// Argument names that must never hold a literal.
const SECRET_ARGUMENTS: &[&str] = &["password", "master_password", "secret_key", "token"];

impl Aspect for NoLiteralSecrets {
    fn visit(&self, element: Element<'_>, diagnostics: &mut Diagnostics) {
        let Element::Resource { path, spec } = element else {
            return;
        };
        let mut found = Vec::new();
        find_literal_secrets(spec.body(), &mut String::new(), &mut found);
        for field in found {
            diagnostics.error(
                path,
                "no-literal-secrets",
                format!(
                    "{} sets `{field}` to a literal string; use a generated or managed secret \
                     (random_password, manage_master_user_password, Secrets Manager) or a \
                     sensitive variable",
                    spec.resource_type()
                ),
            );
        }
    }
}

fn find_literal_secrets(body: &Ast, field: &mut String, found: &mut Vec<String>) {
    match body {
        Ast::Object(entries) => {
            for (key, value) in entries {
                let len = field.len();
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
                if SECRET_ARGUMENTS.contains(&key.as_str())
                    && matches!(value, Ast::String(s) if !s.is_empty())
                {
                    found.push(field.clone());
                } else {
                    find_literal_secrets(value, field, found);
                }
                field.truncate(len);
            }
        }
        Ast::Tuple(items) => {
            for item in items {
                find_literal_secrets(item, field, found);
            }
        }
        _ => {}
    }
}
