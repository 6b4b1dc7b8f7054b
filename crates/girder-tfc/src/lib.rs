//! girder-tfc: the Terraform Cloud bootstrap, declared with the tfe provider.
//!
//! - [`TfcProject`] and [`TfcWorkspace`]: workspaces in a project, driven by a GitHub
//!   repository through an OAuth client ([`VcsConnection`]), with a working directory and
//!   trigger patterns or prefixes, Terraform pinned ([`TERRAFORM_VERSION`]), runs waiting
//!   for a person's approval unless `.auto_apply()`, and state readable only by the
//!   workspaces named with `.shares_state_with(&consumer)` (`global_remote_state = false`
//!   always, in `tfe_workspace_settings`).
//! - [`RunTrigger`]: a workspace runs after another applies.
//! - [`TfcAwsAuth`] and [`TfcWorkspaceRoles`]: dynamic AWS credentials. The account's IAM
//!   OIDC provider for `app.terraform.io`, and per workspace a plan role and an apply
//!   role whose trust is pinned to that workspace and run phase, set on the workspace as
//!   `TFC_AWS_PROVIDER_AUTH` / `TFC_AWS_PLAN_ROLE_ARN` / `TFC_AWS_APPLY_ROLE_ARN`. No
//!   static AWS key exists.
//! - [`TfcAgentPool`] (a pool limited to a project, with its agents' token) and
//!   [`TfcWorkspace::agent_pool`]: runs on agents in a private network. [`TfcAgentService`]
//!   runs those agents on ECS Fargate in a VPC's private subnets, their token from an SSM
//!   SecureString parameter, no inbound rule.
//! - [`PolicySet`] of [`OpaPolicy`]s attached to workspaces: policy checks after each
//!   plan (SSH open to the internet, S3 buckets without a public access block).
//!
//! Builders implement [`girder_core::construct::Construct`]; refusals are [`TfcError`]s
//! inside [`girder_core::Error::Construct`].

mod agent_pool;
mod agent_service;
mod aws_auth;
mod error;
mod names;
mod policy;
mod team;
mod workspace;

pub use agent_pool::{TfcAgentPool, TfcAgentPoolHandle};
pub use agent_service::{TFC_AGENT_SERVICE_CPU, TfcAgentService, TfcAgentServiceHandle};
pub use aws_auth::{
    PLAN_READ_ONLY_POLICY, TFC_AWS_AUDIENCE, TfcAwsAuth, TfcAwsAuthHandle, TfcWorkspaceRoles,
    TfcWorkspaceRolesHandle,
};
pub use error::TfcError;
pub use policy::{
    Enforcement, NO_PUBLIC_SSH_REGO, OpaPolicy, PolicySet, PolicySetHandle,
    S3_PUBLIC_ACCESS_BLOCK_REGO,
};
pub use team::{TeamAccess, TfcTeam, TfcTeamHandle, WorkspaceAccess};
pub use workspace::{
    RunTrigger, TERRAFORM_VERSION, TfcProject, TfcProjectHandle, TfcWorkspace, TfcWorkspaceHandle,
    VcsConnection,
};
