//! Module calls (`module "x" { source = ..., version = ... }`).

use serde::Serialize;

use crate::body;
use crate::expr::{Ast, Expr, Reference};
use crate::path::ConstructPath;
use crate::terraform::resource::Dependency;
use crate::terraform::{ConstraintSyntax, check_version_constraint};

/// A module call before it is added to a scope.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleSpec {
    pub(crate) source: String,
    pub(crate) version: Option<String>,
    pub(crate) inputs: Vec<(String, Ast)>,
    pub(crate) errors: Vec<String>,
    pub(crate) depends_on: Vec<Reference>,
}

impl ModuleSpec {
    /// A call of the module at `source` (registry address, git URL or local path).
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            version: None,
            inputs: Vec::new(),
            errors: Vec::new(),
            depends_on: Vec::new(),
        }
    }

    /// Version constraint (registry modules only; Terraform's constraint syntax,
    /// `"~> 5.0"`). Checked when the call is added.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The source is not empty, and a version constraint is well formed and given only
    /// for a registry source (Terraform refuses one on a path, Git or URL source).
    pub(crate) fn check_source_and_version(&self) -> Result<(), String> {
        if self.source.trim().is_empty() {
            return Err(
                "a module call needs a source (registry address, Git URL or local path)".into(),
            );
        }
        let Some(version) = &self.version else {
            return Ok(());
        };
        check_version_constraint(version, ConstraintSyntax::GoVersion)
            .map_err(|why| format!("module {:?} version {version:?}: {why}", self.source))?;
        if !is_registry_source(&self.source) {
            return Err(format!(
                "module source {:?} is not a registry address ([hostname/]namespace/name/system); \
                 Terraform takes a version only for registry modules (pin a Git source with ?ref=)",
                self.source
            ));
        }
        Ok(())
    }

    /// An input variable of the module.
    pub fn input<T: Serialize + ?Sized>(mut self, name: impl Into<String>, value: &T) -> Self {
        let name = name.into();
        match body::to_body("", &format!("module input {name}"), value) {
            Ok(ast) => self.inputs.push((name, ast)),
            Err(e) => self.errors.push(e.to_string()),
        }
        self
    }

    /// `depends_on`.
    pub fn depends_on(mut self, other: &impl Dependency) -> Self {
        self.depends_on.push(other.dependency());
        self
    }

    /// `depends_on` every block an L2 handle names; a block already listed is not
    /// repeated.
    pub fn depends_on_all(mut self, other: &impl crate::construct::Dependable) -> Self {
        for reference in other.dependencies() {
            if !self.depends_on.contains(&reference) {
                self.depends_on.push(reference);
            }
        }
        self
    }
}

/// `[hostname/]namespace/name/system[//subdir]`, not a local path, URL or Git / Mercurial /
/// S3 / GCS source, nor a GitHub or Bitbucket shorthand.
fn is_registry_source(source: &str) -> bool {
    if source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with('/')
        || source.contains("::")
        || source.contains("://")
    {
        return false;
    }
    let address = source.split("//").next().unwrap_or(source);
    let parts: Vec<&str> = address.split('/').collect();
    let label = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    };
    match parts.as_slice() {
        [_, _, _] => parts.iter().all(label),
        [host, rest @ ..] => {
            host.contains('.')
                && !matches!(*host, "github.com" | "bitbucket.org")
                && rest.iter().all(label)
        }
        _ => false,
    }
}

/// A module call added to a stack.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModuleHandle {
    pub(crate) reference: Reference,
    pub(crate) path: ConstructPath,
}

impl ModuleHandle {
    /// An output of the module (`module.<name>.<output>`), typed by the caller.
    pub fn output<T>(&self, name: &str) -> Expr<T> {
        Expr::<()>::reference(self.reference.clone()).attr(name)
    }

    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The Terraform address (`module.network_vpc`).
    pub fn address(&self) -> String {
        self.reference.target.to_string()
    }
}

impl Dependency for ModuleHandle {
    fn dependency(&self) -> Reference {
        self.reference.clone()
    }
}
