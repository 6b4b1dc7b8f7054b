//! girder-core: the construct model and synthesizer every girder crate stands on.
//!
//! A program builds an [`App`] of [`Stack`]s. Constructs are created inside a [`Scope`] (a
//! path in a stack's construct tree) and return cheap handles whose attributes are typed
//! [`Expr`]essions. [`App::synth`] turns the app into an [`Assembly`]: Terraform JSON per
//! stack, Kubernetes manifests with kustomizations, Helm values files, and manifest.json,
//! written atomically by [`Assembly::write`].
//!
//! ```
//! use girder_core::prelude::*;
//! use serde_json::json;
//!
//! # fn main() -> girder_core::Result<()> {
//! let mut network = Stack::new("network", "dev", Backend::local())?;
//! network.require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0"))?;
//! let vpc = network
//!     .scope("network")?
//!     .add("vpc", ResourceSpec::resource("aws_vpc", &json!({ "cidr_block": "10.0.0.0/16" })))?;
//! assert_eq!(vpc.address(), "aws_vpc.network_vpc");
//!
//! let mut app = App::new();
//! app.add_stack(network)?;
//! let assembly = app.synth()?;
//! assert!(assembly.artifact("terraform/network-dev/main.tf.json").is_some());
//! # Ok(())
//! # }
//! ```

pub mod address;
mod app;
pub mod aspect;
mod assembly;
pub mod assertions;
mod body;
pub mod checks;
pub mod construct;
pub mod diagnostics;
mod error;
pub mod expr;
pub mod helm;
pub mod kubernetes;
mod kubernetes_bundle;
mod kubernetes_layout;
mod kubernetes_refs;
pub mod kubernetes_rules;
mod output;
mod path;
mod scope;
mod sensitivity;
mod stack;
pub mod static_json;
mod synth;
pub mod terraform;
pub mod vocabulary;
pub mod yaml;

pub use app::App;
pub use assembly::{Artifact, ArtifactKind, Assembly, MANIFEST_VERSION, StackArtifacts};
pub use body::Body;
pub use error::{Error, Result};
pub use expr::{Dynamic, Expr, Map, Number, Value};
pub use kubernetes_refs::ExternalKubeObject;
pub use path::{ConstructPath, MAX_ID_LEN};
pub use scope::Scope;
pub use stack::{DEFAULT_ID, DEFAULT_REQUIRED_VERSION, KubeObjectId, Stack};
pub use static_json::StaticJson;
pub use vocabulary::{LogRetention, Reason, SsmPath};

/// The names a stack program needs, in one import.
pub mod prelude {
    pub use crate::aspect::{Aspect, DefaultTags, Element, NoLiteralSecrets};
    pub use crate::construct::{Construct, Dependable};
    pub use crate::expr::{Dynamic, Expr, Map, Number, Value, fns};
    pub use crate::helm::{ChartRef, HelmRelease};
    pub use crate::terraform::{
        Backend, Lifecycle, ModuleSpec, Output, ProviderConfig, ProviderRequirement,
        ResourceHandle, ResourceSpec, VarType, Variable,
    };
    pub use crate::{App, Assembly, Body, Scope, Stack};
}
