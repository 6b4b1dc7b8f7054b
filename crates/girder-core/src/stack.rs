//! Stacks and scopes. A [`Stack`] is one deployable unit for one environment: one Terraform
//! root module (one Terraform Cloud workspace) plus the Kubernetes and Helm artifacts of
//! that unit. A [`Scope`] is a construct path inside a stack; constructs take
//! `&mut Scope` and return handles (plain data, cheap to clone) rather than borrows.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::Serialize;

use crate::address::{is_identifier, terraform_name};
use crate::aspect::{Aspect, SharedAspect};
use crate::body;
use crate::checks::{self, CheckAcknowledgement, CheckTarget};
use crate::diagnostics::Acknowledgement;
use crate::error::{Error, Result};
use crate::expr::{Ast, Dynamic, Expr, Reference, Target, Value};
use crate::helm::HelmRelease;
use crate::kubernetes::{KubeKind, KubeObject};
use crate::kubernetes_bundle::{KubeBundle, ObjectIdentity};
use crate::kubernetes_refs::ExternalKubeObject;

/// Which Kubernetes object: kind, namespace (none for cluster-scoped or unset), name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeObjectId {
    /// `Deployment`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}
use crate::path::{ConstructPath, validate_dns_label};
use crate::terraform::{
    Backend, BlockKind, ConstraintSyntax, IntoResourceSpec, ModuleHandle, ModuleSpec, Output,
    ProviderConfig, ProviderRef, ProviderRequirement, ResourceHandle, ResourceSpec, VarType,
    Variable, check_provider_source, check_version_constraint,
};
use crate::vocabulary::{Reason, ReasonError};

/// The Terraform version constraint written when a stack sets none: 1.10 brings S3 native
/// state locking; `moved` and `import` blocks need 1.5.
pub const DEFAULT_REQUIRED_VERSION: &str = ">= 1.10, < 2.0";

/// The id of the construct that holds a scope's primary resource: hidden from the
/// Terraform address, so `network/vpc` names `aws_vpc.network_vpc`.
pub const DEFAULT_ID: &str = "default";

/// A variable as added to a stack (validations evaluated).
#[derive(Clone, Debug)]
pub(crate) struct StackVariable {
    pub(crate) ty: VarType,
    pub(crate) default: Option<Ast>,
    pub(crate) description: Option<String>,
    pub(crate) sensitive: bool,
    pub(crate) nullable: Option<bool>,
    pub(crate) validations: Vec<(Ast, String)>,
}

/// A resource or data source as added to a stack.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub(crate) path: ConstructPath,
    /// Boxed: a spec is large, and the map of a big stack grows by doubling its entries.
    pub(crate) spec: Box<ResourceSpec>,
}

/// A module call as added to a stack.
#[derive(Clone, Debug)]
pub(crate) struct ModuleCall {
    pub(crate) path: ConstructPath,
    pub(crate) spec: ModuleSpec,
}

/// Key of a block: kind, type, name.
pub(crate) type BlockKey = (BlockKind, String, String);

/// One deployable unit for one environment. See the module docs.
#[derive(Clone)]
pub struct Stack {
    pub(crate) name: String,
    pub(crate) env: String,
    pub(crate) id: String,
    pub(crate) backend: Backend,
    pub(crate) required_version: String,
    pub(crate) requirements: IndexMap<String, ProviderRequirement>,
    pub(crate) providers: IndexMap<String, (ConstructPath, ProviderConfig)>,
    pub(crate) variables: IndexMap<String, StackVariable>,
    pub(crate) locals: IndexMap<String, Ast>,
    pub(crate) outputs: IndexMap<String, Output>,
    pub(crate) blocks: IndexMap<BlockKey, Block>,
    pub(crate) modules: IndexMap<String, ModuleCall>,
    pub(crate) moved: Vec<(String, String)>,
    pub(crate) imports: Vec<(String, Ast)>,
    pub(crate) kube_apps: KubeBundle,
    pub(crate) helm_releases: IndexMap<String, (ConstructPath, HelmRelease)>,
    pub(crate) kube_externals: Vec<ExternalKubeObject>,
    pub(crate) gitops_dirs: KubeBundle,
    pub(crate) aspects: Vec<SharedAspect>,
    pub(crate) acknowledgements: Vec<Acknowledgement>,
    pub(crate) check_acknowledgements: Vec<CheckAcknowledgement>,
    paths: HashMap<ConstructPath, String>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("id", &self.id)
            .field("backend", &self.backend.kind())
            .field("resources", &self.blocks.len())
            .field("kube_apps", &self.kube_apps.len())
            .field("helm_releases", &self.helm_releases.len())
            .finish()
    }
}

impl Stack {
    /// A stack named `name` for environment `env`, keeping state in `backend`. Both names
    /// are DNS labels; the stack's id is `<name>-<env>`.
    pub fn new(name: &str, env: &str, backend: Backend) -> Result<Self> {
        validate_dns_label("stack name", name)?;
        validate_dns_label("environment name", env)?;
        backend.validate(&format!("{name}-{env}"))?;
        Ok(Self {
            name: name.to_owned(),
            env: env.to_owned(),
            id: format!("{name}-{env}"),
            backend,
            required_version: DEFAULT_REQUIRED_VERSION.to_owned(),
            requirements: IndexMap::new(),
            providers: IndexMap::new(),
            variables: IndexMap::new(),
            locals: IndexMap::new(),
            outputs: IndexMap::new(),
            blocks: IndexMap::new(),
            modules: IndexMap::new(),
            moved: Vec::new(),
            imports: Vec::new(),
            kube_apps: KubeBundle::default(),
            helm_releases: IndexMap::new(),
            kube_externals: Vec::new(),
            gitops_dirs: KubeBundle::default(),
            aspects: Vec::new(),
            acknowledgements: Vec::new(),
            check_acknowledgements: Vec::new(),
            paths: HashMap::new(),
        })
    }

    /// Stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Environment name.
    pub fn environment(&self) -> &str {
        &self.env
    }

    /// `<name>-<env>`: the directory of its artifacts and its default workspace name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The state backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Number of resources and data sources.
    pub fn resource_count(&self) -> usize {
        self.blocks.len()
    }

    /// The root scope (`/`).
    pub fn root(&mut self) -> Scope<'_> {
        Scope {
            stack: self,
            path: ConstructPath::root(),
            kube_app: None,
        }
    }

    /// The scope `id` under the root.
    pub fn scope(&mut self, id: &str) -> Result<Scope<'_>> {
        let path = ConstructPath::root().child(id)?;
        Ok(Scope {
            stack: self,
            path,
            kube_app: None,
        })
    }

    /// Replace the `required_version` constraint (Terraform's constraint syntax:
    /// `">= 1.10, < 2.0"`); anything else is an error.
    pub fn set_required_version(&mut self, constraint: impl Into<String>) -> Result<()> {
        let constraint = constraint.into();
        check_version_constraint(&constraint, ConstraintSyntax::GoVersion).map_err(|why| {
            Error::invalid(
                self.at("terraform.required_version"),
                format!("required_version {constraint:?}: {why}"),
            )
        })?;
        self.required_version = constraint;
        Ok(())
    }

    /// Declare a provider in `required_providers`. Declaring the same one twice is fine;
    /// two different constraints for one name are an error.
    pub fn require_provider(&mut self, requirement: ProviderRequirement) -> Result<()> {
        if !is_identifier(&requirement.name) {
            return Err(self.bad_name("provider name", &requirement.name));
        }
        let at = self.at(&format!(
            "terraform.required_providers.{}",
            requirement.name
        ));
        check_provider_source(&requirement.source).map_err(|why| Error::invalid(&at, why))?;
        check_version_constraint(&requirement.version, ConstraintSyntax::Provider).map_err(
            |why| {
                Error::invalid(
                    &at,
                    format!(
                        "provider {} version {:?}: {why}",
                        requirement.name, requirement.version
                    ),
                )
            },
        )?;
        match self.requirements.get(&requirement.name) {
            Some(existing) if *existing != requirement => Err(Error::invalid(
                self.at("terraform.required_providers"),
                format!(
                    "provider {} is already required as {} {}; cannot also require {} {}",
                    requirement.name,
                    existing.source,
                    existing.version,
                    requirement.source,
                    requirement.version
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.requirements
                    .insert(requirement.name.clone(), requirement);
                Ok(())
            }
        }
    }

    /// Add a provider configuration; returns the reference resources use to select it.
    pub fn add_provider(&mut self, config: ProviderConfig) -> Result<ProviderRef> {
        config.validate(&self.id)?;
        let reference = config.reference();
        let key = reference.to_string();
        if self.providers.contains_key(&key) {
            return Err(Error::Duplicate {
                path: self.at("provider"),
                what: "provider configuration",
                name: key,
            });
        }
        let path = ConstructPath::parse(&format!("provider/{}", key.replace('.', "-")))?;
        self.providers.insert(key, (path, config));
        Ok(reference)
    }

    /// Add an input variable; returns `var.<name>` typed as `T`.
    pub fn add_variable<T>(&mut self, name: &str, variable: Variable) -> Result<Expr<T>> {
        const RESERVED: &[&str] = &[
            "source",
            "version",
            "providers",
            "count",
            "for_each",
            "lifecycle",
            "depends_on",
            "locals",
        ];
        if !is_identifier(name) || RESERVED.contains(&name) {
            return Err(self.bad_name("variable name", name));
        }
        if self.variables.contains_key(name) {
            return Err(self.duplicate("variable", name));
        }
        let reference: Expr<Dynamic> =
            Expr::reference(self.reference(Target::Variable(name.to_owned())));
        let default = match variable.default {
            Some(Ok(ast)) => Some(ast),
            Some(Err(message)) => {
                return Err(Error::invalid(self.at(&format!("var.{name}")), message));
            }
            None => None,
        };
        let at = self.at(&format!("var.{name}"));
        let validations = variable
            .validations
            .iter()
            .map(|(condition, message)| {
                let condition =
                    body::to_body(&at, "validation condition", &condition(reference.clone()))?;
                Ok((condition, message.clone()))
            })
            .collect::<Result<_>>()?;
        self.variables.insert(
            name.to_owned(),
            StackVariable {
                ty: variable.ty,
                default,
                description: variable.description,
                sensitive: variable.sensitive,
                nullable: variable.nullable,
                validations,
            },
        );
        Ok(reference.cast())
    }

    /// Add a local value; returns `local.<name>`.
    pub fn add_local<T: Serialize>(&mut self, name: &str, value: Value<T>) -> Result<Expr<T>> {
        if !is_identifier(name) {
            return Err(self.bad_name("local name", name));
        }
        if self.locals.contains_key(name) {
            return Err(self.duplicate("local", name));
        }
        let ast = body::to_body(&self.at(&format!("local.{name}")), "local value", &value)?;
        self.locals.insert(name.to_owned(), ast);
        Ok(Expr::reference(
            self.reference(Target::Local(name.to_owned())),
        ))
    }

    /// Add an output of the root module.
    pub fn add_output(&mut self, name: &str, output: Output) -> Result<()> {
        if !is_identifier(name) {
            return Err(self.bad_name("output name", name));
        }
        if self.outputs.contains_key(name) {
            return Err(self.duplicate("output", name));
        }
        if let Err(message) = output.value() {
            return Err(Error::invalid(
                self.at(&format!("output.{name}")),
                message.clone(),
            ));
        }
        self.outputs.insert(name.to_owned(), output);
        Ok(())
    }

    /// A `moved` block: the object formerly at `from` (`aws_vpc.main`) is now `to`.
    pub fn add_moved(&mut self, from: &str, to: &ResourceHandle) -> Result<()> {
        let well_formed = from
            .split('.')
            .all(|part| !part.is_empty() && crate::address::is_terraform_identifier(part))
            && from.contains('.');
        if !well_formed {
            return Err(Error::invalid(
                self.at("moved"),
                format!("moved.from {from:?} is not a Terraform address like `aws_vpc.main`"),
            ));
        }
        self.same_stack(&to.reference, "moved")?;
        self.moved.push((from.to_owned(), to.address()));
        Ok(())
    }

    /// An `import` block: adopt the existing object `id` as `to`.
    pub fn add_import(&mut self, to: &ResourceHandle, id: impl Into<Expr<String>>) -> Result<()> {
        self.same_stack(&to.reference, "import")?;
        let id = body::to_body(&self.at("import"), "import id", &id.into())?;
        self.imports.push((to.address(), id));
        Ok(())
    }

    /// Run `aspect` over this stack's elements before synth.
    pub fn add_aspect(&mut self, aspect: impl Aspect + 'static) {
        self.aspects.push(std::sync::Arc::new(aspect));
    }

    /// Accept findings of `rule` at `path` (and below) for `reason`, which is written into
    /// the synthesized output.
    pub fn acknowledge(&mut self, path: &str, rule: &str, reason: &str) -> Result<()> {
        let parsed = ConstructPath::parse(path.trim_start_matches('/'))?;
        let reason = Reason::new(reason).map_err(|e| {
            Error::invalid(
                self.at(path),
                match e {
                    ReasonError::Empty => {
                        format!("acknowledging {rule} needs a reason; it is kept in the output")
                    }
                    other => format!("the reason for acknowledging {rule}: {other}"),
                },
            )
        })?;
        self.acknowledgements.push(Acknowledgement {
            path: parsed.to_string(),
            rule: rule.to_owned(),
            reason: reason.into_string(),
        });
        Ok(())
    }

    /// Accept the finding of security-scanner check `check` (a checkov id: `CKV_AWS_144`,
    /// `CKV2_AWS_28`, `CKV_K8S_43`) on the Terraform blocks and Kubernetes objects at `path`
    /// and below, for `reason`. The reason is written next to each of them in the scanner's
    /// own syntax (a `checkov:skip=` line in the block's `"//"` comment; a `checkov.io/skip<n>`
    /// annotation), so it is read where the finding is. See [`crate::checks`].
    pub fn acknowledge_check(&mut self, path: &str, check: &str, reason: &str) -> Result<()> {
        let parsed = ConstructPath::parse(path.trim_start_matches('/'))?;
        self.add_check_acknowledgement(path, CheckTarget::Path(parsed), check, reason)
    }

    /// Accept scanner check `check` on one Kubernetes object of the stack (bundle or
    /// GitOps), by `kind`, `namespace` and `name`, added before or after this call: for
    /// constructs that put several objects at one construct path (a girder-k8s workload's
    /// Deployment, Service and policies). Written as a `checkov.io/skip<n>` annotation.
    pub fn acknowledge_kube_check(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        check: &str,
        reason: &str,
    ) -> Result<()> {
        let target = CheckTarget::KubeObject {
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        };
        let at = match namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        };
        self.add_check_acknowledgement(&at, target, check, reason)
    }

    fn add_check_acknowledgement(
        &mut self,
        what: &str,
        target: CheckTarget,
        check: &str,
        reason: &str,
    ) -> Result<()> {
        let ack = CheckAcknowledgement::new(&self.at(what), target, check, reason)?;
        let objects = self
            .kube_apps
            .objects_mut()
            .chain(self.gitops_dirs.objects_mut());
        for (object_path, object) in objects {
            if ack.covers_object(object_path, object) {
                checks::annotate_one(object, &ack);
            }
        }
        self.check_acknowledgements.push(ack);
        Ok(())
    }

    /// The Kubernetes apps of the stack, in the order they were first used, each with its
    /// objects' `(kind, namespace, name)`: for GitOps layouts that point at them.
    pub fn kube_apps(&self) -> Vec<(String, Vec<KubeObjectId>)> {
        self.kube_apps
            .dirs()
            .iter()
            .map(|(app, objects)| {
                let objects = objects
                    .iter()
                    .map(|(_, o)| KubeObjectId {
                        kind: o.kind().to_owned(),
                        namespace: o.namespace().map(str::to_owned),
                        name: o.name().to_owned(),
                    })
                    .collect();
                (app.clone(), objects)
            })
            .collect()
    }

    /// Add a GitOps object (a Flux Kustomization, an Argo CD Application: what a GitOps
    /// controller applies to deliver the stack's manifests) under
    /// `gitops/<stack>/<dir>/`. `dir` is one or more DNS labels joined by `/`
    /// (`clusters/dev`). These objects are not part of the stack's Kubernetes bundle.
    pub fn add_gitops_object<T: Serialize + ?Sized>(
        &mut self,
        dir: &str,
        object: &T,
    ) -> Result<()> {
        let at = self.at(&format!("gitops/{dir}"));
        for segment in dir.split('/') {
            validate_dns_label("GitOps directory", segment)
                .map_err(|e| Error::invalid(&at, e.to_string()))?;
        }
        let mut object = KubeObject::new(&at, object)?;
        let path = ConstructPath::root();
        checks::annotate(&self.check_acknowledgements, &path, &mut object);
        self.gitops_dirs
            .insert(dir, path, object)
            .map_err(|duplicate| Error::Duplicate {
                path: at,
                what: "GitOps object",
                name: duplicate.object,
            })
    }

    /// Whether the stack already has a Kubernetes object with this identity (API group,
    /// kind, namespace, name): for constructs that share one object between several uses.
    pub fn kube_object_exists(
        &self,
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        self.kube_apps
            .contains(&ObjectIdentity::new(group, kind, namespace, name))
    }

    /// Declare a Kubernetes object the stack's manifests rely on but do not contain (a
    /// Secret a Helm chart creates, a Namespace made by another stack), so synth accepts
    /// references to it. `namespace` `None` matches any namespace. The reason is written to
    /// manifest.json. Declaring the same object again keeps the first reason.
    pub fn external_kube_object(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        reason: &str,
    ) -> Result<()> {
        let reason = Reason::new(reason).map_err(|e| {
            Error::invalid(
                self.at("/"),
                match e {
                    ReasonError::Empty => {
                        format!("external {kind} {name:?} needs a reason (who creates it)")
                    }
                    other => format!("the reason for external {kind} {name:?}: {other}"),
                },
            )
        })?;
        let declared = self
            .kube_externals
            .iter()
            .any(|e| e.kind == kind && e.namespace.as_deref() == namespace && e.name == name);
        if declared {
            return Ok(());
        }
        self.kube_externals.push(ExternalKubeObject {
            kind: kind.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            reason: reason.into_string(),
        });
        Ok(())
    }

    /// A stack-qualified location for messages (`network-dev:network/vpc`).
    pub(crate) fn at(&self, what: &str) -> String {
        format!("{}:{what}", self.id)
    }

    pub(crate) fn reference(&self, target: Target) -> Reference {
        Reference {
            stack: Some(self.id.clone()),
            target,
        }
    }

    fn bad_name(&self, what: &'static str, value: &str) -> Error {
        Error::InvalidName {
            path: self.id.clone(),
            what,
            value: value.to_owned(),
            allowed: "lowercase letters, digits and '_', not starting with a digit \
                      (and not a Terraform reserved name)",
        }
    }

    fn duplicate(&self, what: &'static str, name: &str) -> Error {
        Error::Duplicate {
            path: self.id.clone(),
            what,
            name: name.to_owned(),
        }
    }

    fn same_stack(&self, reference: &Reference, what: &str) -> Result<()> {
        match &reference.stack {
            Some(stack) if *stack != self.id => Err(Error::BadReference {
                path: self.at(what),
                target: format!("{} of stack {stack}", reference.target),
                reason: format!(
                    "{what} can only name objects of this stack; across stacks, use the \
                     object's attributes (girder wires them through outputs)"
                ),
            }),
            _ => Ok(()),
        }
    }

    fn claim_path(&mut self, path: &ConstructPath, what: String) -> Result<()> {
        if let Some(existing) = self.paths.get(path) {
            return Err(Error::Duplicate {
                path: self.at(&path.to_string()),
                what: "construct path",
                name: format!("{path} (already holds {existing})"),
            });
        }
        self.paths.insert(path.clone(), what);
        Ok(())
    }
}

/// A position in a stack's construct tree where constructs are created.
pub struct Scope<'a> {
    stack: &'a mut Stack,
    path: ConstructPath,
    /// The Kubernetes app (output directory) Kubernetes constructs of this scope and its
    /// children write into.
    kube_app: Option<String>,
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
