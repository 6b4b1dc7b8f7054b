//! The Terraform half of a stack: what one root module (one Terraform Cloud workspace)
//! holds, and its rendering to Terraform JSON syntax.

mod backend;
pub(crate) mod document;
mod module;
mod provider;
mod resource;
mod variable;

pub use backend::{Backend, CloudBackend, LocalBackend, S3Backend};
pub use module::{ModuleHandle, ModuleSpec};
pub(crate) use provider::{ConstraintSyntax, check_provider_source, check_version_constraint};
pub use provider::{ProviderConfig, ProviderRef, ProviderRequirement};
pub(crate) use resource::PathRelation;
pub use resource::{
    BlockKind, Dependency, IgnoreChanges, IntoResourceSpec, Lifecycle, ResourceHandle,
    ResourceSpec, SecretPaths, serialize_block_list_of_exactly_one, serialize_block_list_of_one,
};
pub use variable::{Output, VarType, Variable};
