//! Provider requirements (`required_providers`) and provider configurations (`provider`
//! blocks, with aliases).

use serde::Serialize;

use crate::body;
use crate::error::{Error, Result};
use crate::expr::Ast;
use crate::terraform::SecretPaths;

/// An entry of `required_providers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRequirement {
    /// Local name (`aws`), the prefix of its resource types.
    pub name: String,
    /// Registry source (`hashicorp/aws`).
    pub source: String,
    /// Version constraint (`~> 6.0`).
    pub version: String,
}

impl ProviderRequirement {
    /// A requirement; the constraint is mandatory so plans are reproducible.
    pub fn new(
        name: impl Into<String>,
        source: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
            version: version.into(),
        }
    }

    /// `hashicorp/tfe`, which girder adds itself to read Terraform Cloud outputs of other
    /// stacks (`tfe_outputs`). Generated provider crates carry the others.
    pub fn tfe() -> Self {
        Self::new("tfe", "hashicorp/tfe", "~> 0.71")
    }
}

/// How strictly Terraform parses a version constraint: `required_providers` versions go
/// through apparentlymart/go-versions (`N[.N[.N]][-pre]` only: `v1.0` and `1.2.3.4` are
/// "Invalid version constraint"); `required_version` and module versions through
/// hashicorp/go-version, which also takes a leading `v`, more than three numbers and
/// `+build` (checked against Terraform 1.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConstraintSyntax {
    /// Provider requirements.
    Provider,
    /// `required_version` and module versions.
    GoVersion,
}

/// Check a Terraform version constraint: one or more comma-separated `[op] version`
/// terms, `op` one of `=`, `!=`, `>`, `>=`, `<`, `<=`, `~>` (none means `=`), `version` as
/// `syntax` reads it. Returns why `constraint` is not one, for an error that names the
/// construct.
pub(crate) fn check_version_constraint(
    constraint: &str,
    syntax: ConstraintSyntax,
) -> std::result::Result<(), String> {
    const OPERATORS: &[&str] = &["~>", ">=", "<=", "!=", "=", ">", "<"];
    const ALLOWED: &str = "a Terraform version constraint is one or more comma-separated \
                           `[op] version` terms: op =, !=, >, >=, <, <= or ~>, version \
                           N[.N[.N]][-prerelease] (\"~> 6.25\", \">= 1.10, < 2.0\")";
    if constraint.trim().is_empty() {
        return Err(format!("the constraint is empty; {ALLOWED}"));
    }
    for term in constraint.split(',') {
        let term = term.trim();
        let rest = OPERATORS
            .iter()
            .find_map(|op| term.strip_prefix(op))
            .unwrap_or(term)
            .trim_start();
        let ok = match syntax {
            ConstraintSyntax::Provider => is_provider_constraint_version(rest),
            ConstraintSyntax::GoVersion => is_go_version(rest),
        };
        if !ok {
            return Err(format!("{term:?} is not a constraint term; {ALLOWED}"));
        }
    }
    Ok(())
}

/// `N[.N[.N]][-pre]`, pre being dot-separated runs of letters, digits and '-'.
fn is_provider_constraint_version(text: &str) -> bool {
    let (release, pre) = match text.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (text, None),
    };
    let numbers: Vec<&str> = release.split('.').collect();
    let release_ok = (1..=3).contains(&numbers.len())
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    });
    release_ok && pre_ok
}

/// A version as hashicorp/go-version (Terraform's parser) reads it: an optional `v`,
/// dot-separated numbers, then an optional `-pre` and `+build`, each dot-separated runs of
/// letters, digits, `-` and `~`.
fn is_go_version(text: &str) -> bool {
    let text = text.strip_prefix('v').unwrap_or(text);
    let (text, build) = match text.split_once('+') {
        Some((text, build)) => (text, Some(build)),
        None => (text, None),
    };
    let (release, pre) = match text.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (text, None),
    };
    let release_ok = !release.is_empty()
        && release
            .split('.')
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let identifiers_ok = |part: Option<&str>| {
        part.is_none_or(|part| {
            part.split('.').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '~')
            })
        })
    };
    release_ok && identifiers_ok(pre) && identifiers_ok(build)
}

/// Check a provider source address: `[hostname/]namespace/type` (`hashicorp/aws`,
/// `registry.terraform.io/hashicorp/aws`).
pub(crate) fn check_provider_source(source: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = source.split('/').collect();
    let label = |part: &str| {
        !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    };
    let host = |part: &str| {
        !part.is_empty()
            && part.contains('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
    };
    let ok = match parts.as_slice() {
        [namespace, kind] => label(namespace) && label(kind),
        [hostname, namespace, kind] => host(hostname) && label(namespace) && label(kind),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "provider source {source:?} is not [hostname/]namespace/type (\"hashicorp/aws\"): \
             namespace and type are letters, digits and '-'"
        ))
    }
}

/// A `provider` block. Build it with [`ProviderConfig::new`] and add it to a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderConfig {
    name: String,
    alias: Option<String>,
    body: Ast,
    body_error: Option<String>,
    secrets: Option<SecretPaths>,
}

impl ProviderConfig {
    /// The default configuration of provider `name`, with no arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            alias: None,
            body: Ast::Object(Vec::new()),
            body_error: None,
            secrets: None,
        }
    }

    /// Arguments of the block (any serializable value; expressions allowed).
    pub fn with<T: Serialize + ?Sized>(mut self, config: &T) -> Self {
        match body::to_body("provider", "provider configuration", config) {
            Ok(ast) => self.body = ast,
            Err(e) => self.body_error = Some(e.to_string()),
        }
        self
    }

    /// An additional configuration under `alias` (`aws.us_east_1`).
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Declare which arguments hold secrets, as the provider schema says (the generated
    /// `Provider` types call it). Without it
    /// [`NoLiteralSecrets`](crate::aspect::NoLiteralSecrets) falls back to argument names.
    pub fn with_schema_secrets(mut self, secrets: SecretPaths) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// The schema's secret paths, when the configuration carries them.
    pub fn schema_secrets(&self) -> Option<SecretPaths> {
        self.secrets
    }

    /// Provider local name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Alias, if any.
    pub fn alias_name(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// The arguments (for aspects).
    pub fn body(&self) -> &Ast {
        &self.body
    }

    /// The arguments, mutable (for aspects).
    pub fn body_mut(&mut self) -> &mut Ast {
        &mut self.body
    }

    pub(crate) fn validate(&self, stack: &str) -> Result<()> {
        let path = format!("{stack}:provider.{}", self.reference());
        if let Some(message) = &self.body_error {
            return Err(Error::invalid(path, message.clone()));
        }
        if !matches!(self.body, Ast::Object(_)) {
            return Err(Error::invalid(
                path,
                "provider configuration must be an object",
            ));
        }
        for (what, name) in [
            ("provider name", Some(&self.name)),
            ("alias", self.alias.as_ref()),
        ] {
            if let Some(name) = name {
                if !crate::address::is_identifier(name) {
                    return Err(Error::InvalidName {
                        path,
                        what,
                        value: name.clone(),
                        allowed: "lowercase letters, digits and '_', not starting with a digit",
                    });
                }
            }
        }
        Ok(())
    }

    /// The reference to this configuration (`aws` or `aws.west`).
    pub fn reference(&self) -> ProviderRef {
        ProviderRef {
            name: self.name.clone(),
            alias: self.alias.clone(),
        }
    }
}

/// Which provider configuration a resource uses (`provider = aws.west`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProviderRef {
    pub(crate) name: String,
    pub(crate) alias: Option<String>,
}

impl ProviderRef {
    /// Provider local name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for ProviderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.alias {
            Some(alias) => write!(f, "{}.{alias}", self.name),
            None => f.write_str(&self.name),
        }
    }
}
