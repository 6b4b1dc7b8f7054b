//! [`Scope`]: a position in a stack's construct tree. Constructs are created inside a scope
//! (`scope.add(id, spec)`, `Construct::add(scope, id)`); a child scope extends the path,
//! which becomes the constructs' Terraform names and their name in errors, and carries the
//! Kubernetes app its Kubernetes constructs write into.

use serde::Serialize;

use crate::address::{is_identifier, terraform_name};
use crate::checks;
use crate::error::{Error, Result};
use crate::expr::{Ast, Target};
use crate::helm::HelmRelease;
use crate::kubernetes::{KubeKind, KubeObject};
use crate::path::{ConstructPath, validate_dns_label};
use crate::stack::{Block, DEFAULT_ID, ModuleCall, Stack};
use crate::terraform::{
    BlockKind, IntoResourceSpec, ModuleHandle, ModuleSpec, ResourceHandle, ResourceSpec,
};

/// A position in a stack's construct tree where constructs are created.
pub struct Scope<'a> {
    pub(crate) stack: &'a mut Stack,
    pub(crate) path: ConstructPath,
    /// The Kubernetes app (output directory) Kubernetes constructs of this scope and its
    /// children write into.
    pub(crate) kube_app: Option<String>,
}

impl Scope<'_> {
    /// This scope's path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The stack this scope belongs to (for stack-level items: providers, variables,
    /// outputs).
    pub fn stack(&mut self) -> &mut Stack {
        self.stack
    }

    /// The id of the stack.
    pub fn stack_id(&self) -> &str {
        &self.stack.id
    }

    /// The environment of the stack.
    pub fn environment(&self) -> &str {
        &self.stack.env
    }

    /// Where this scope is, for error messages: `<stack id>:<path>` (`shop-dev:k8s/api`).
    /// Constructs name themselves with it in every error they return.
    pub fn location(&self) -> String {
        self.stack.at(&self.path.to_string())
    }

    /// A child scope `id`.
    pub fn child(&mut self, id: &str) -> Result<Scope<'_>> {
        let path = self.path.child(id)?;
        Ok(Scope {
            stack: self.stack,
            path,
            kube_app: self.kube_app.clone(),
        })
    }

    /// The child scope of an L2 construct added as `id`: like [`Scope::child`], and `id`
    /// is claimed, so a second construct with the same id in this scope is an error (as
    /// AWS CDK refuses two children with one id) even when the two would create no
    /// clashing Terraform address or Kubernetes object. Every `Construct::add` opens its
    /// scope with it.
    pub fn construct_child(&mut self, id: &str) -> Result<Scope<'_>> {
        let path = self.path.child(id)?;
        if !self.stack.constructs.insert(path.clone()) {
            return Err(Error::Duplicate {
                path: self.location(),
                what: "construct id",
                name: id.to_owned(),
            });
        }
        Ok(Scope {
            stack: self.stack,
            path,
            kube_app: self.kube_app.clone(),
        })
    }

    /// This scope with Kubernetes app `app`: the directory (with its own
    /// `kustomization.yaml`) its Kubernetes constructs, and its children's, write into.
    /// A child may name another app.
    pub fn with_kube_app(mut self, app: &str) -> Result<Self> {
        validate_dns_label("Kubernetes app name", app)
            .map_err(|e| Error::invalid(self.location(), e.to_string()))?;
        self.kube_app = Some(app.to_owned());
        Ok(self)
    }

    /// The Kubernetes app of this scope, if one was set here or on a parent.
    pub fn kube_app(&self) -> Option<&str> {
        self.kube_app.as_deref()
    }

    /// Add a Kubernetes object to this scope's app ([`Scope::with_kube_app`]); the L2
    /// form of [`Scope::add_kube_object`].
    pub fn add_app_object<T: Serialize + ?Sized>(&mut self, object: &T) -> Result<()> {
        let app = self.require_kube_app()?;
        self.insert_kube_object(&app, object, None)
    }

    fn require_kube_app(&self) -> Result<String> {
        self.kube_app.clone().ok_or_else(|| {
            Error::invalid(
                self.location(),
                "this scope has no Kubernetes app to write into; set one on the scope or a \
                 parent with `Scope::with_kube_app(\"<app>\")`",
            )
        })
    }

    /// Add a resource or data source as construct `id` of this scope. Its Terraform name
    /// comes from the construct path (`network/vpc` -> `network_vpc`).
    ///
    /// `spec` is a [`ResourceSpec`] or a generated L1 config; the handle returned is typed
    /// accordingly (`aws::Vpc` gives a `VpcHandle`).
    pub fn add<S: IntoResourceSpec>(&mut self, id: &str, spec: S) -> Result<S::Handle> {
        let path = self.path.child(id)?;
        let name = terraform_name(&path);
        self.insert_block(path, name, spec.into_spec().with_handle())
            .map(S::Handle::from)
    }

    /// Add the scope's primary resource: its Terraform name is the scope's own path, as in
    /// AWS CDK's `Default` child (`network/vpc` -> `aws_vpc.network_vpc`).
    pub fn add_default<S: IntoResourceSpec>(&mut self, spec: S) -> Result<S::Handle> {
        if self.path.is_root() {
            return Err(Error::invalid(
                self.stack.at("/"),
                "the root scope has no name to give a default resource; use `add` with an id",
            ));
        }
        let name = terraform_name(&self.path);
        let path = self.path.child(DEFAULT_ID)?;
        self.insert_block(path, name, spec.into_spec().with_handle())
            .map(S::Handle::from)
    }

    fn insert_block(
        &mut self,
        path: ConstructPath,
        name: String,
        spec: ResourceSpec,
    ) -> Result<ResourceHandle> {
        let at = self.stack.at(&path.to_string());
        if let Some(message) = &spec.body_error {
            return Err(Error::Serialize {
                path: at,
                what: format!("arguments of {}", spec.rtype),
                message: message.clone(),
            });
        }
        let rtype = &spec.rtype;
        let valid_type = is_identifier(rtype)
            && rtype.contains('_')
            && !rtype.starts_with('_')
            && !rtype.ends_with('_');
        if !valid_type {
            return Err(Error::InvalidName {
                path: at,
                what: "resource type",
                value: rtype.clone(),
                allowed: "`<provider>_<type>` in lowercase letters, digits and '_' (aws_vpc)",
            });
        }
        if !matches!(spec.body, Ast::Object(_)) {
            return Err(Error::invalid(
                at,
                format!("arguments of {rtype} must be an object"),
            ));
        }
        for dependency in &spec.depends_on {
            self.stack.same_stack(dependency, &path.to_string())?;
        }
        let target = match spec.kind {
            BlockKind::Resource => Target::Resource {
                rtype: rtype.clone(),
                name: name.clone(),
            },
            BlockKind::Data => Target::Data {
                dtype: rtype.clone(),
                name: name.clone(),
            },
        };
        let key = (spec.kind, rtype.clone(), name);
        if let Some(existing) = self.stack.blocks.get(&key) {
            return Err(Error::DuplicateAddress {
                path: at,
                address: target.to_string(),
                existing: self.stack.at(&existing.path.to_string()),
            });
        }
        self.stack.claim_path(&path, target.to_string())?;
        let handle = ResourceHandle {
            reference: self.stack.reference(target),
            path: path.clone(),
        };
        self.stack.blocks.insert(
            key,
            Block {
                path,
                spec: Box::new(spec),
            },
        );
        Ok(handle)
    }

    /// Add a module call as construct `id`; its name comes from the path like resources'.
    pub fn add_module(&mut self, id: &str, spec: ModuleSpec) -> Result<ModuleHandle> {
        let path = self.path.child(id)?;
        let at = self.stack.at(&path.to_string());
        if let Some(message) = spec.errors.first() {
            return Err(Error::invalid(at, message.clone()));
        }
        spec.check_source_and_version()
            .map_err(|why| Error::invalid(&at, why))?;
        for dependency in &spec.depends_on {
            self.stack.same_stack(dependency, &path.to_string())?;
        }
        let name = terraform_name(&path);
        let target = Target::Module(name.clone());
        if let Some(existing) = self.stack.modules.get(&name) {
            return Err(Error::DuplicateAddress {
                path: at,
                address: target.to_string(),
                existing: self.stack.at(&existing.path.to_string()),
            });
        }
        self.stack.claim_path(&path, target.to_string())?;
        let handle = ModuleHandle {
            reference: self.stack.reference(target),
            path: path.clone(),
        };
        self.stack.modules.insert(name, ModuleCall { path, spec });
        Ok(handle)
    }

    /// Add a Kubernetes object to app `app` of this stack (one directory with a
    /// `kustomization.yaml`). The object must not contain Terraform values only known
    /// after apply; an object with the same group, kind, namespace and name anywhere in
    /// the stack is an error.
    ///
    /// The object is read as one of Kubernetes' own kinds
    /// ([`BuiltInKind`](crate::kubernetes::BuiltInKind)); a custom
    /// resource whose kind is cluster-scoped or makes other objects (an ExternalSecret's
    /// Secret) is added with [`Scope::add_typed_kube_object`].
    pub fn add_kube_object<T: Serialize + ?Sized>(&mut self, app: &str, object: &T) -> Result<()> {
        self.insert_kube_object(app, object, None)
    }

    /// [`Scope::add_kube_object`] for an object whose type knows its kind
    /// ([`KubeKind`]: scope, objects it makes), as girder-k8s's custom resources do.
    pub fn add_typed_kube_object<T: Serialize + KubeKind>(
        &mut self,
        app: &str,
        object: &T,
    ) -> Result<()> {
        self.insert_kube_object(app, object, Some(object))
    }

    /// [`Scope::add_typed_kube_object`] into this scope's app ([`Scope::with_kube_app`]).
    pub fn add_typed_app_object<T: Serialize + KubeKind>(&mut self, object: &T) -> Result<()> {
        let app = self.require_kube_app()?;
        self.insert_kube_object(&app, object, Some(object))
    }

    fn insert_kube_object<T: Serialize + ?Sized>(
        &mut self,
        app: &str,
        object: &T,
        kind: Option<&dyn KubeKind>,
    ) -> Result<()> {
        validate_dns_label("Kubernetes app name", app)
            .map_err(|e| Error::invalid(self.stack.at(&self.path.to_string()), e.to_string()))?;
        let at = self.stack.at(&self.path.to_string());
        let mut object = KubeObject::with_kind(&at, object, kind)?;
        checks::annotate(&self.stack.check_acknowledgements, &self.path, &mut object);
        let stack = &mut *self.stack;
        stack
            .kube_apps
            .insert(app, self.path.clone(), object)
            .map_err(|duplicate| Error::Duplicate {
                path: at,
                what: "Kubernetes object",
                name: format!(
                    "{} (first added at {})",
                    duplicate.object,
                    stack.at(&duplicate.first.to_string())
                ),
            })
    }

    /// Add the values of a Helm release, written to `helm/<stack>/<release>.values.yaml`.
    pub fn add_helm_release(&mut self, release: HelmRelease) -> Result<()> {
        let at = self.stack.at(&self.path.to_string());
        let release = release.resolve(&at)?;
        if self.stack.helm_releases.contains_key(release.name()) {
            return Err(Error::Duplicate {
                path: at,
                what: "Helm release",
                name: release.name().to_owned(),
            });
        }
        self.stack
            .helm_releases
            .insert(release.name().to_owned(), (self.path.clone(), release));
        Ok(())
    }
}
