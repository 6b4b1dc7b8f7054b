//! Teams and their access to workspaces: who may approve a run of a workspace that does
//! not apply by itself (staging, prod) besides the organization's owners.

use girder_aws::tfe;
use girder_core::construct::Construct;
use girder_core::{Error, Expr, Result, Scope};

use crate::error::TfcError;
use crate::names;
use crate::workspace::TfcWorkspaceHandle;

/// A team of an organization, its members managed in Terraform Cloud (or by SSO).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcTeam {
    organization: String,
    name: String,
    sso_team_id: Option<String>,
}

/// A team in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcTeamHandle {
    team: tfe::TeamHandle,
    organization: String,
    name: String,
}

impl TfcTeam {
    /// Team `name` of `organization`, visible to the organization's members.
    pub fn new(organization: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            organization: organization.into(),
            name: name.into(),
            sso_team_id: None,
        }
    }

    /// Its members are the identity provider's group `id` (the SAML team attribute's
    /// value): who approves is decided where people are managed, not in this stack.
    pub fn sso_team(mut self, id: impl Into<String>) -> Self {
        self.sso_team_id = Some(id.into());
        self
    }
}

impl Construct for TfcTeam {
    type Handle = TfcTeamHandle;

    /// Add it as construct `id`: `tfe_team.<path>`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcTeamHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        names::organization(&self.organization).map_err(|e| Error::construct(&at, e))?;
        // Team names take what workspace names take.
        names::workspace(&self.name)
            .map_err(|_| Error::construct(&at, TfcError::TeamName(self.name.clone())))?;
        let mut team = tfe::Team::new(&self.name)
            .organization(&self.organization)
            .visibility("organization");
        if let Some(id) = &self.sso_team_id {
            if id.trim().is_empty() || id.contains("${") || id.contains("%{") {
                return Err(Error::construct(&at, TfcError::SsoTeamId(id.clone())));
            }
            team = team.sso_team_id(id);
        }
        let team = scope.add_default(team)?;
        Ok(TfcTeamHandle {
            team,
            organization: self.organization,
            name: self.name,
        })
    }
}

impl TfcTeamHandle {
    /// The team's id.
    pub fn id(&self) -> Expr<String> {
        self.team.id()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a team may do in a workspace (Terraform Cloud's fixed permission sets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkspaceAccess {
    /// See runs and state outputs.
    Read,
    /// Also queue plans.
    Plan,
    /// Also approve and apply runs, and edit variables.
    Write,
    /// Also change the workspace's settings and access.
    Admin,
    /// Read runs and state outputs, and approve (apply) runs; nothing else: no variable
    /// edits, no locking, no queueing of plans of its own (a custom permission set).
    ApproveRuns,
}

impl WorkspaceAccess {
    fn as_str(self) -> Option<&'static str> {
        match self {
            WorkspaceAccess::Read => Some("read"),
            WorkspaceAccess::Plan => Some("plan"),
            WorkspaceAccess::Write => Some("write"),
            WorkspaceAccess::Admin => Some("admin"),
            WorkspaceAccess::ApproveRuns => None,
        }
    }
}

/// `team` gets `access` to `workspace` (`tfe_team_access`).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TeamAccess {
    team: TfcTeamHandle,
    workspace: TfcWorkspaceHandle,
    access: WorkspaceAccess,
}

impl TeamAccess {
    /// `team` gets `access` to `workspace`.
    pub fn new(
        team: &TfcTeamHandle,
        workspace: &TfcWorkspaceHandle,
        access: WorkspaceAccess,
    ) -> Self {
        Self {
            team: team.clone(),
            workspace: workspace.clone(),
            access,
        }
    }
}

impl Construct for TeamAccess {
    type Handle = ();

    /// Add it as construct `id`: `tfe_team_access.<path>`. Refused for a team and a
    /// workspace of two organizations.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<()> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        if self.team.organization != self.workspace.organization() {
            return Err(Error::construct(
                &at,
                TfcError::OtherOrganization {
                    relation: "team access",
                    from: self.team.name.clone(),
                    from_organization: self.team.organization.clone(),
                    to: self.workspace.name().to_owned(),
                    to_organization: self.workspace.organization().to_owned(),
                },
            ));
        }
        let access = tfe::TeamAccess::new(self.team.id(), self.workspace.id());
        let access = match self.access.as_str() {
            Some(fixed) => access.access(fixed),
            None => access.permissions(tfe::team_access::Permissions::new(
                false,
                "apply",
                "none",
                "read-outputs",
                "read",
                false,
            )),
        };
        scope.add_default(access)?;
        Ok(())
    }
}
