//! Agent pools: where a workspace's runs execute when Terraform Cloud's own runners
//! cannot reach what the run manages (a cluster's private API endpoint, a database in a
//! VPC). The pool is limited to one project (the workspaces of another project cannot
//! choose it), and it has one token, which the agents present.
//!
//! The token is sensitive and lands in the state of the stack that makes the pool: give
//! it to the agents through a secret store ([`TfcAgentPoolHandle::token`] into an SSM
//! SecureString parameter, say), never an output.

use girder_aws::tfe;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::Dependency;
use girder_core::{Error, Expr, Result, Scope};

use crate::error::TfcError;
use crate::names;
use crate::workspace::TfcProjectHandle;

/// An agent pool of a project's organization, usable by that project's workspaces only.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcAgentPool {
    organization: String,
    project_id: Expr<String>,
    project: String,
    name: String,
}

/// An agent pool in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcAgentPoolHandle {
    pool: tfe::AgentPoolHandle,
    allowed: tfe::AgentPoolAllowedProjectsHandle,
    token: tfe::AgentTokenHandle,
    organization: String,
    project: String,
    name: String,
}

impl TfcAgentPool {
    /// Pool `name` in `project`'s organization, allowed to `project`'s workspaces.
    pub fn new(project: &TfcProjectHandle, name: impl Into<String>) -> Self {
        Self {
            organization: project.organization().to_owned(),
            project_id: project.id(),
            project: project.name().to_owned(),
            name: name.into(),
        }
    }
}

impl Construct for TfcAgentPool {
    type Handle = TfcAgentPoolHandle;

    /// Add it as construct `id`: `tfe_agent_pool.<path>` (not organization-scoped),
    /// `tfe_agent_pool_allowed_projects.<path>_allowed` and `tfe_agent_token.<path>_token`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcAgentPoolHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        // Pool names take what workspace names take.
        names::workspace(&self.name)
            .map_err(|_| Error::construct(&at, TfcError::AgentPoolName(self.name.clone())))?;
        let pool = scope.add_default(
            tfe::AgentPool::new(&self.name)
                .organization(&self.organization)
                .organization_scoped(false),
        )?;
        let allowed = scope.add(
            "allowed",
            tfe::AgentPoolAllowedProjects::new(pool.id(), [self.project_id.clone()]),
        )?;
        let token = scope.add(
            "token",
            tfe::AgentToken::new(pool.id(), format!("Agents of pool {} (girder)", self.name)),
        )?;
        Ok(TfcAgentPoolHandle {
            pool,
            allowed,
            token,
            organization: self.organization,
            project: self.project,
            name: self.name,
        })
    }
}

impl TfcAgentPoolHandle {
    /// The pool's id (`apool-...`).
    pub fn id(&self) -> Expr<String> {
        self.pool.id()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its organization.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// The project whose workspaces may use it.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The agents' token (sensitive).
    pub fn token(&self) -> Expr<String> {
        self.token.token().sensitive()
    }
}

/// A workspace set to run on the pool waits for the pool to allow its project.
impl Dependable for TfcAgentPoolHandle {
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.pool.dependency(), self.allowed.dependency()]
    }
}
