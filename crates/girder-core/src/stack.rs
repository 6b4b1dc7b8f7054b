//! [`Stack`]: one deployable unit for one environment: one Terraform
//! root module (one Terraform Cloud workspace) plus the Kubernetes and Helm artifacts of
//! that unit. A [`Scope`] is a construct path inside a stack; constructs take
//! `&mut Scope` and return handles (plain data, cheap to clone) rather than borrows.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde::Serialize;

use crate::address::is_identifier;
use crate::aspect::{Aspect, SharedAspect};
use crate::body;
use crate::checks::{self, CheckAcknowledgement, CheckTarget};
use crate::diagnostics::Acknowledgement;
use crate::error::{Error, Result};
use crate::expr::{Ast, Dynamic, Expr, Reference, Target, Value};
use crate::helm::HelmRelease;
use crate::kubernetes::KubeObject;
use crate::kubernetes_bundle::{KubeBundle, ObjectIdentity};
use crate::kubernetes_refs::ExternalKubeObject;
use crate::scope::Scope;

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
    Backend, BlockKind, ConstraintSyntax, ModuleSpec, Output, ProviderConfig, ProviderRef,
    ProviderRequirement, ResourceHandle, ResourceSpec, VarType, Variable, check_provider_source,
    check_version_constraint,
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
    /// The paths L2 constructs were added at (`Scope::construct_child`).
    pub(crate) constructs: HashSet<ConstructPath>,
    /// Stacks this one is deployed after without reading them (`Stack::deploy_after`).
    pub(crate) deploy_after: Vec<String>,
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
            deploy_after: Vec::new(),
            gitops_dirs: KubeBundle::default(),
            aspects: Vec::new(),
            acknowledgements: Vec::new(),
            check_acknowledgements: Vec::new(),
            paths: HashMap::new(),
            constructs: HashSet::new(),
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

    /// Deploy this stack after stack `id` (`<name>-<env>`) of the same app, though it
    /// reads none of its outputs: the stack whose bucket holds this one's state, say.
    /// The manifest lists `id` in this stack's `depends_on` and orders it first (stacks
    /// that read another's outputs depend on it already). Synth refuses an `id` that is
    /// not in the app, and a cycle.
    pub fn deploy_after(&mut self, id: &str) {
        if !self.deploy_after.iter().any(|d| d == id) {
            self.deploy_after.push(id.to_owned());
        }
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

    pub(crate) fn same_stack(&self, reference: &Reference, what: &str) -> Result<()> {
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

    pub(crate) fn claim_path(&mut self, path: &ConstructPath, what: String) -> Result<()> {
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
