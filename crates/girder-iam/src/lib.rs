//! girder-iam: the IAM every girder construct uses.
//!
//! - [`PolicyDocument`] / [`Statement`]: typed IAM policy JSON whose actions, resources
//!   and conditions may be Terraform expressions (`bucket.arn()`). Rendering refuses `*`
//!   actions and resources unless the statement says why the service needs them, so
//!   least privilege is the default and every exception is written down.
//! - [`Trust`]: who may assume a role: an AWS service (EC2), GitHub Actions through OIDC
//!   (repository plus branch or environment), Terraform Cloud through OIDC (organization,
//!   project, workspace, run phase).
//! - [`Role`]: an IAM role with inline policies, managed policy attachments and, for EC2,
//!   an instance profile; [`GithubOidcProvider`] for the account's GitHub provider.
//!
//! Builders implement [`girder_core::construct::Construct`]; refusals are [`IamError`]s
//! inside [`girder_core::Error::Construct`].
//!
//! It is its own crate because every L2 crate (network, storage, rds, k3s, eks) grants
//! access, and none of them should own the others' IAM.

mod boundary;
mod error;
mod policy;
mod role;
mod session_manager;
mod trust;

pub use boundary::{
    PermissionsBoundary, RolePath, boundary_policy, own_roles_stay, role_management_with_boundary,
};
pub use error::IamError;
pub use policy::{Access, Condition, Effect, PolicyDocument, Statement};
pub use role::{
    GITHUB_OIDC_URL, GithubOidcProvider, Role, RoleHandle, TFC_OIDC_URL, is_iam_principal_arn,
    is_role_arn,
};
pub use session_manager::{SSM_AGENT_ACTIONS, SSM_CHANNEL_ACTIONS, session_manager_statements};
pub use trust::Trust;
