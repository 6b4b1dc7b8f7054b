//! Resources and data sources: their type, arguments and meta-arguments, and the handle a
//! stack returns for them.

use std::marker::PhantomData;

use serde::{Serialize, Serializer};

use crate::body;
use crate::expr::{Ast, Dynamic, Expr, Reference, Target};
use crate::path::ConstructPath;
use crate::terraform::ProviderRef;

/// Whether a block is a managed resource or a data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockKind {
    /// `resource`.
    Resource,
    /// `data`.
    Data,
}

/// `lifecycle.ignore_changes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IgnoreChanges {
    /// Nothing ignored.
    #[default]
    None,
    /// These attributes (`["tags", "desired_size"]`).
    Attributes(Vec<String>),
    /// `all`.
    All,
}

/// The `lifecycle` meta-argument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// Create the replacement before destroying the old object.
    pub create_before_destroy: Option<bool>,
    /// Refuse plans that destroy this object.
    pub prevent_destroy: Option<bool>,
    /// Attributes whose drift is ignored.
    pub ignore_changes: IgnoreChanges,
    /// Replace this object when any of these change (references as text).
    pub replace_triggered_by: Vec<String>,
}

impl Lifecycle {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Lifecycle::default()
    }
}

/// One JSON override of the rendered block (the escape hatch for anything not modelled).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Override {
    pub(crate) path: String,
    /// `None` deletes the key.
    pub(crate) value: Option<Ast>,
}

/// A resource or data source before it is added to a scope.
///
/// `H` is the handle [`Scope::add`](crate::Scope::add) returns for it: [`ResourceHandle`]
/// for a raw spec, the generated typed handle (`VpcHandle`) for an L1 config turned into a
/// spec with [`IntoResourceSpec::into_spec`].
///
/// ```
/// use girder_core::terraform::ResourceSpec;
/// let spec = ResourceSpec::resource("aws_vpc", &serde_json::json!({ "cidr_block": "10.0.0.0/16" }))
///     .prevent_destroy();
/// assert_eq!(spec.resource_type(), "aws_vpc");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSpec<H = ResourceHandle> {
    pub(crate) kind: BlockKind,
    pub(crate) rtype: String,
    pub(crate) body: Ast,
    pub(crate) body_error: Option<String>,
    pub(crate) depends_on: Vec<Reference>,
    // Meta-arguments most blocks leave unset are boxed: a big stack holds many specs.
    pub(crate) count: Option<Box<Ast>>,
    pub(crate) for_each: Option<Box<Ast>>,
    pub(crate) provider: Option<Box<ProviderRef>>,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) overrides: Vec<Override>,
    pub(crate) secrets: Option<SecretPaths>,
    handle: PhantomData<fn() -> H>,
}

impl ResourceSpec {
    /// A managed resource of type `rtype` with arguments `config` (any serializable value:
    /// a generated config struct, or `serde_json::json!` for the raw escape hatch).
    pub fn resource<T: Serialize + ?Sized>(rtype: impl Into<String>, config: &T) -> Self {
        Self::new(BlockKind::Resource, rtype.into(), config)
    }

    /// A data source of type `dtype` with arguments `config`.
    pub fn data<T: Serialize + ?Sized>(dtype: impl Into<String>, config: &T) -> Self {
        Self::new(BlockKind::Data, dtype.into(), config)
    }

    fn new<T: Serialize + ?Sized>(kind: BlockKind, rtype: String, config: &T) -> Self {
        let (body, body_error) = match body::to_body("", "arguments", config) {
            Ok(ast) => (ast, None),
            Err(e) => (Ast::Object(Vec::new()), Some(e.to_string())),
        };
        Self {
            kind,
            rtype,
            body,
            body_error,
            depends_on: Vec::new(),
            count: None,
            for_each: None,
            provider: None,
            lifecycle: Lifecycle::default(),
            overrides: Vec::new(),
            secrets: None,
            handle: PhantomData,
        }
    }
}

impl<H> ResourceSpec<H> {
    /// The same spec, handing out handle type `H2` when added: how a generated L1 type or
    /// a construct gives its raw resource a typed handle.
    pub fn with_handle<H2: From<ResourceHandle>>(self) -> ResourceSpec<H2> {
        ResourceSpec {
            kind: self.kind,
            rtype: self.rtype,
            body: self.body,
            body_error: self.body_error,
            depends_on: self.depends_on,
            count: self.count,
            for_each: self.for_each,
            provider: self.provider,
            lifecycle: self.lifecycle,
            overrides: self.overrides,
            secrets: self.secrets,
            handle: PhantomData,
        }
    }

    /// Declare what the provider schema says about the block's secrets. Generated L1
    /// types call it from `into_spec`; a raw spec may call it with the paths of its type.
    /// Without it girder knows nothing of the type: no attribute counts as sensitive for
    /// cross-stack outputs, and [`NoLiteralSecrets`](crate::aspect::NoLiteralSecrets)
    /// falls back to argument names.
    pub fn with_schema_secrets(mut self, secrets: SecretPaths) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// The schema's secret paths, when the spec carries them (generated L1 types do).
    pub fn schema_secrets(&self) -> Option<SecretPaths> {
        self.secrets
    }

    /// Resource or data source.
    pub fn kind(&self) -> BlockKind {
        self.kind
    }

    /// The type (`aws_vpc`).
    pub fn resource_type(&self) -> &str {
        &self.rtype
    }

    /// The arguments.
    pub fn body(&self) -> &Ast {
        &self.body
    }

    /// The arguments, mutable (for aspects and intent methods).
    pub fn body_mut(&mut self) -> &mut Ast {
        &mut self.body
    }

    /// `depends_on`: wait for `other` (a resource, data source or module of this stack).
    pub fn depends_on(mut self, other: &impl Dependency) -> Self {
        self.depends_on.push(other.dependency());
        self
    }

    /// `depends_on` every block an L2 handle names (a bucket and its policy, a database
    /// and its parameter group); a block already listed is not repeated.
    pub fn depends_on_all(mut self, other: &impl crate::construct::Dependable) -> Self {
        for reference in other.dependencies() {
            if !self.depends_on.contains(&reference) {
                self.depends_on.push(reference);
            }
        }
        self
    }

    /// `count`.
    pub fn count(mut self, count: impl Into<Expr<crate::expr::Number>>) -> Self {
        match body::to_body("", "count", &count.into()) {
            Ok(ast) => self.count = Some(Box::new(ast)),
            Err(e) => {
                if self.body_error.is_none() {
                    self.body_error = Some(e.to_string());
                }
            }
        }
        self
    }

    /// `for_each` over a map or set (a literal or an expression).
    pub fn for_each<T: Serialize + ?Sized>(mut self, collection: &T) -> Self {
        match body::to_body("", "for_each", collection) {
            Ok(ast) => self.for_each = Some(Box::new(ast)),
            Err(e) => self.body_error = Some(e.to_string()),
        }
        self
    }

    /// Use a specific provider configuration (`provider = aws.west`).
    pub fn provider(mut self, provider: &ProviderRef) -> Self {
        self.provider = Some(Box::new(provider.clone()));
        self
    }

    /// The whole `lifecycle` meta-argument.
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// `lifecycle.prevent_destroy = true`.
    pub fn prevent_destroy(mut self) -> Self {
        self.lifecycle.prevent_destroy = Some(true);
        self
    }

    /// `lifecycle.create_before_destroy = true`.
    pub fn create_before_destroy(mut self) -> Self {
        self.lifecycle.create_before_destroy = Some(true);
        self
    }

    /// Add attributes to `lifecycle.ignore_changes`.
    pub fn ignore_changes<S: Into<String>>(
        mut self,
        attributes: impl IntoIterator<Item = S>,
    ) -> Self {
        let mut list = match std::mem::take(&mut self.lifecycle.ignore_changes) {
            IgnoreChanges::Attributes(list) => list,
            IgnoreChanges::None => Vec::new(),
            IgnoreChanges::All => {
                self.lifecycle.ignore_changes = IgnoreChanges::All;
                return self;
            }
        };
        list.extend(attributes.into_iter().map(Into::into));
        self.lifecycle.ignore_changes = IgnoreChanges::Attributes(list);
        self
    }

    /// Set a value at a dotted JSON path of the rendered block (`"lifecycle.ignore_changes"`,
    /// `"ingress.0.cidr_blocks"`), creating objects on the way. Applied last, after
    /// arguments and meta-arguments. The value is a body like the arguments: literal text
    /// is escaped, expressions inside it are rendered (and their references tracked).
    pub fn override_at(mut self, path: impl Into<String>, value: impl Serialize) -> Self {
        match body::to_body("", "override", &value) {
            Ok(ast) => self.overrides.push(Override {
                path: path.into(),
                value: Some(ast),
            }),
            Err(e) => {
                if self.body_error.is_none() {
                    self.body_error = Some(e.to_string());
                }
            }
        }
        self
    }

    /// Delete the key at a dotted JSON path of the rendered block.
    pub fn remove_at(mut self, path: impl Into<String>) -> Self {
        self.overrides.push(Override {
            path: path.into(),
            value: None,
        });
        self
    }

    /// All expressions inside the spec (arguments and meta-arguments).
    pub(crate) fn expressions(&self) -> impl Iterator<Item = &Ast> {
        std::iter::once(&self.body)
            .chain(self.count.as_deref())
            .chain(self.for_each.as_deref())
            .chain(self.overrides.iter().filter_map(|o| o.value.as_ref()))
    }
}

/// What a provider schema says about the secrets of one block type (a resource, a data
/// source or a provider configuration), as dotted attribute paths through nested blocks
/// (`default_action.authenticate_oidc.client_secret`; `*` stands for the key of a
/// map-nested block). The L1 generator writes one per type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecretPaths {
    /// Attributes the provider marks sensitive: Terraform hides them in plans, a value
    /// read from one is sensitive wherever it flows, and an output carrying it must be
    /// `sensitive = true`.
    pub sensitive: &'static [&'static str],
    /// Further arguments that hold credentials although the provider does not mark them
    /// sensitive (write-only arguments, provider credentials): no literal belongs there.
    pub credentials: &'static [&'static str],
}

impl SecretPaths {
    /// No secrets: a type whose schema marks nothing.
    pub const NONE: SecretPaths = SecretPaths {
        sensitive: &[],
        credentials: &[],
    };

    /// Where the attribute at `path` (attribute names and map keys from the block's root;
    /// list positions left out) stands relative to the sensitive attributes.
    pub(crate) fn sensitive_relation(&self, path: &[&str]) -> PathRelation {
        relation(self.sensitive, path)
    }

    /// Whether an argument at `path` holds a secret (sensitive or a credential).
    pub(crate) fn is_secret_argument(&self, path: &[&str]) -> bool {
        relation(self.sensitive, path) == PathRelation::Inside
            || relation(self.credentials, path) == PathRelation::Inside
    }
}

/// How a path stands to a set of marked attribute paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathRelation {
    /// The path is a marked attribute or lies inside one.
    Inside,
    /// The path is an object that holds a marked attribute further down.
    Contains,
    /// Neither.
    Apart,
}

fn relation(patterns: &[&str], path: &[&str]) -> PathRelation {
    let mut contains = false;
    for pattern in patterns {
        let segments: Vec<&str> = pattern.split('.').collect();
        let shared = segments.len().min(path.len());
        let matched = segments[..shared]
            .iter()
            .zip(&path[..shared])
            .all(|(segment, step)| *segment == "*" || segment == step);
        if !matched {
            continue;
        }
        if segments.len() <= path.len() {
            return PathRelation::Inside;
        }
        contains = true;
    }
    if contains {
        PathRelation::Contains
    } else {
        PathRelation::Apart
    }
}

/// Anything [`Scope::add`](crate::Scope::add) accepts: a [`ResourceSpec`], or a generated
/// L1 config (`aws::Vpc`), whose `into_spec` gives a spec with a typed handle so
/// meta-arguments can be set (`Subnet::new(vpc.id()).into_spec().count(2)`).
pub trait IntoResourceSpec {
    /// The handle the stack returns for it.
    type Handle: From<ResourceHandle>;

    /// The spec, with its typed handle.
    fn into_spec(self) -> ResourceSpec<Self::Handle>;
}

impl<H: From<ResourceHandle>> IntoResourceSpec for ResourceSpec<H> {
    type Handle = H;

    fn into_spec(self) -> ResourceSpec<H> {
        self
    }
}

/// Serialize an optional block of a list / set nesting mode with at most one item as
/// the list Terraform JSON expects (`[ {...} ]`). Generated L1 types use it with
/// `skip_serializing_if = "Option::is_none"`.
pub fn serialize_block_list_of_one<T: Serialize, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(value.iter())
}

/// Serialize a required block of a list / set nesting mode with exactly one item as a
/// one-element list.
pub fn serialize_block_list_of_exactly_one<T: Serialize, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(std::iter::once(value))
}

/// Something `depends_on` can name.
pub trait Dependency {
    /// The reference to the dependency.
    fn dependency(&self) -> Reference;
}

/// A resource or data source added to a stack: cheap to clone, hands out expressions for
/// its attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceHandle {
    pub(crate) reference: Reference,
    pub(crate) path: ConstructPath,
}

impl ResourceHandle {
    /// The Terraform address (`aws_vpc.network_vpc`, `data.aws_region.current`).
    pub fn address(&self) -> String {
        self.reference.target.to_string()
    }

    /// The Terraform name (`network_vpc`).
    pub fn name(&self) -> &str {
        match &self.reference.target {
            Target::Resource { name, .. } | Target::Data { name, .. } => name,
            _ => "",
        }
    }

    /// The type (`aws_vpc`).
    pub fn resource_type(&self) -> &str {
        match &self.reference.target {
            Target::Resource { rtype, .. } => rtype,
            Target::Data { dtype, .. } => dtype,
            _ => "",
        }
    }

    /// The construct path that created it.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// The id of the stack it belongs to.
    pub fn stack_id(&self) -> &str {
        self.reference.stack.as_deref().unwrap_or_default()
    }

    /// The expression for the whole object (`aws_vpc.network_vpc`).
    pub fn expr(&self) -> Expr<Dynamic> {
        Expr::reference(self.reference.clone())
    }

    /// An attribute as a typed expression (`aws_vpc.network_vpc.cidr_block`).
    pub fn attr<T>(&self, name: &str) -> Expr<T> {
        self.expr().attr(name)
    }

    /// The `id` attribute every resource and data source has.
    pub fn id(&self) -> Expr<String> {
        self.attr("id")
    }
}

impl Dependency for ResourceHandle {
    fn dependency(&self) -> Reference {
        self.reference.clone()
    }
}
