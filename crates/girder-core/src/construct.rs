//! The construct contract: how every L2 construct is added, connected and ordered.
//!
//! - **Added** one way: a builder implements [`Construct`]; `builder.add(scope, id)` opens
//!   child scope `id` (the construct's path, hence its Terraform addresses and its name in
//!   errors) and returns the construct's handle. Required dependencies are handles passed
//!   to the builder's constructor (`Postgres::new(&vpc, ..)`), never extra `add`
//!   parameters, names or ARNs recomputed by the caller. Builders and handles are
//!   `#[must_use]`: a builder dropped before `add` creates nothing.
//! - **Kubernetes constructs** write into the Kubernetes app of their scope, set once with
//!   [`Scope::with_kube_app`] and inherited by child scopes; the `id` of `add` is a construct
//!   id there too, never an output directory.
//! - **Ordered** one way: a handle that others may wait for implements [`Dependable`]
//!   (AWS CDK's `IDependable`): it names every block that must exist first, and
//!   `ResourceSpec::depends_on_all` / `ModuleSpec::depends_on_all` take it.
//! - **Connected** one way per plane: security-group peers in girder-network
//!   (`Connections`, after CDK's `connections.allowFrom`) and network-policy peers in
//!   girder-k8s (after cdk8s-plus's `INetworkPolicyPeer`).
//!
//! ```
//! use girder_core::construct::Construct;
//! use girder_core::prelude::*;
//! use serde_json::json;
//!
//! /// A toy L2 construct: one bucket.
//! #[must_use = "a builder creates nothing until `add` is called"]
//! struct Bucket {
//!     name: String,
//! }
//!
//! #[must_use]
//! struct BucketHandle {
//!     bucket: ResourceHandle,
//! }
//!
//! impl Construct for Bucket {
//!     type Handle = BucketHandle;
//!     fn add(self, scope: &mut Scope<'_>, id: &str) -> girder_core::Result<BucketHandle> {
//!         let mut scope = scope.construct_child(id)?;
//!         let spec = ResourceSpec::resource("aws_s3_bucket", &json!({ "bucket": self.name }));
//!         Ok(BucketHandle { bucket: scope.add_default(spec)? })
//!     }
//! }
//!
//! # fn main() -> girder_core::Result<()> {
//! let mut stack = Stack::new("shop", "dev", Backend::local())?;
//! let handle = Bucket { name: "shop-assets".into() }.add(&mut stack.root(), "assets")?;
//! assert_eq!(handle.bucket.address(), "aws_s3_bucket.assets");
//! # Ok(())
//! # }
//! ```

use crate::expr::Reference;
use crate::terraform::Dependency;
use crate::{Result, Scope};

/// A builder that adds itself to a scope as construct `id` and returns its handle.
///
/// Implementations open `scope.child(id)` for everything they create, validate their
/// inputs there (errors name that path), and return a handle exposing what is known at
/// synth time (names, identifiers, ARNs) as typed values or expressions.
pub trait Construct: Sized {
    /// What the construct hands back: cheap to clone, the only way other constructs
    /// depend on it.
    type Handle;

    /// Add the construct as child `id` of `scope`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<Self::Handle>;
}

/// Something other blocks can wait for: every resource, data source or module that must
/// exist before a dependant is created (AWS CDK's `IDependable`). A bucket handle, for
/// instance, includes its policy, so a writer ordered after the bucket is also ordered
/// after the policy that lets it write.
pub trait Dependable {
    /// The blocks to wait for, in a stable order.
    fn dependencies(&self) -> Vec<Reference>;
}

impl<T: Dependency> Dependable for T {
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.dependency()]
    }
}

/// A list of references gathered from several handles (a construct's `waits_for`, say)
/// is itself something to wait for, in the order given.
impl Dependable for Vec<Reference> {
    fn dependencies(&self) -> Vec<Reference> {
        self.clone()
    }
}
