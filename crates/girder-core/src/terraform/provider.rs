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
