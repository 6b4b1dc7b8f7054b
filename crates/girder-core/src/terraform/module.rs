//! Module calls (`module "x" { source = ..., version = ... }`).

use serde::Serialize;

use crate::body;
use crate::expr::{Ast, Expr, Reference};
use crate::path::ConstructPath;
use crate::terraform::resource::Dependency;

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

    /// Version constraint (registry modules).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
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
