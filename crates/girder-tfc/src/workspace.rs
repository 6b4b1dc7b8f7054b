//! Projects, workspaces and the run triggers between them.

use girder_aws::tfe;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::{Backend, CloudBackend, Dependency, IntoResourceSpec};
use girder_core::{Error, Expr, Result, Scope, Value};

use crate::agent_pool::TfcAgentPoolHandle;
use crate::error::TfcError;
use crate::names;

/// The Terraform release workspaces run unless told otherwise: the one girder's CI
/// validates and plans with.
pub const TERRAFORM_VERSION: &str = "1.11.4";

/// A Terraform Cloud project (`tfe_project`) of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcProject {
    organization: String,
    name: String,
    description: Option<String>,
}

/// A project in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcProjectHandle {
    project: tfe::ProjectHandle,
    organization: String,
    name: String,
}

impl TfcProject {
    /// Project `name` of `organization`.
    pub fn new(organization: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            organization: organization.into(),
            name: name.into(),
            description: None,
        }
    }

    /// What it holds.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl Construct for TfcProject {
    type Handle = TfcProjectHandle;

    /// Add it as construct `id`: `tfe_project.<path>`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcProjectHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        names::organization(&self.organization).map_err(|e| Error::construct(&at, e))?;
        names::project(&self.name).map_err(|e| Error::construct(&at, e))?;
        let mut project = tfe::Project::new(&self.name).organization(&self.organization);
        if let Some(description) = &self.description {
            project = project.description(description);
        }
        let project = scope.add_default(project)?;
        Ok(TfcProjectHandle {
            project,
            organization: self.organization,
            name: self.name,
        })
    }
}

impl TfcProjectHandle {
    /// The project's id.
    pub fn id(&self) -> Expr<String> {
        self.project.id()
    }

    /// Its organization.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// Its name (part of the OIDC subject of its workspaces' runs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The generated resource.
    pub fn resource(&self) -> &tfe::ProjectHandle {
        &self.project
    }
}

impl Dependable for TfcProjectHandle {
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.project.dependency()]
    }
}

/// Which files of the repository start a run.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Triggers {
    /// Changes under the working directory only (Terraform Cloud's default with file
    /// triggers on).
    WorkingDirectory,
    /// Glob patterns from the repository root.
    Patterns(Vec<String>),
    /// Directories from the repository root, besides the working directory.
    Prefixes(Vec<String>),
}

/// A workspace's VCS connection: a GitHub repository through Terraform Cloud's GitHub
/// App or an OAuth client, and the branch runs come from.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct VcsConnection {
    repository: String,
    auth: VcsAuth,
    branch: Option<String>,
}

/// How Terraform Cloud reads the repository.
#[derive(Clone, Debug, PartialEq)]
enum VcsAuth {
    /// An OAuth client's token (`ot-...`).
    OauthToken(Value<String>),
    /// An installation of Terraform Cloud's GitHub App (`ghain-...`).
    GithubApp(Value<String>),
}

impl VcsConnection {
    /// `repository` (`owner/name`) through the VCS connection `oauth_token_id` (the
    /// `ot-...` id of an OAuth client made elsewhere).
    pub fn new(repository: impl Into<String>, oauth_token_id: impl Into<Value<String>>) -> Self {
        Self {
            repository: repository.into(),
            auth: VcsAuth::OauthToken(oauth_token_id.into()),
            branch: None,
        }
    }

    /// `repository` through `client`, a `tfe_oauth_client` of this stack.
    pub fn oauth_client(repository: impl Into<String>, client: &tfe::OauthClientHandle) -> Self {
        Self::new(repository, client.oauth_token_id())
    }

    /// `repository` through Terraform Cloud's GitHub App, installed on the repository's
    /// GitHub organization (HashiCorp's recommended connection: no OAuth token to
    /// rotate), the installation looked up at plan with the
    /// `tfe_github_app_installation` data source (which needs a user token).
    pub fn github_app(
        repository: impl Into<String>,
        installation: &tfe::DataGithubAppInstallationHandle,
    ) -> Self {
        Self {
            repository: repository.into(),
            auth: VcsAuth::GithubApp(Value::Expr(installation.id())),
            branch: None,
        }
    }

    /// Runs come from `branch` (otherwise the repository's default branch).
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = Some(branch.into());
        self
    }
}

/// A workspace (`tfe_workspace` plus its `tfe_workspace_settings`) in a project.
///
/// Defaults: runs wait for a person's approval (`auto_apply = false`, also for runs a
/// run trigger starts) unless [`TfcWorkspace::auto_apply`]; Terraform pinned to
/// [`TERRAFORM_VERSION`]; remote execution; the state readable by no other workspace
/// (`global_remote_state = false`) except those named with
/// [`TfcWorkspace::shares_state_with`]. Those two settings live in
/// `tfe_workspace_settings`, where provider 0.71 moved them (they are deprecated on
/// `tfe_workspace`).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcWorkspace {
    organization: String,
    project_name: String,
    project_id: Expr<String>,
    name: String,
    description: Option<String>,
    working_directory: Option<String>,
    vcs: Option<VcsConnection>,
    triggers: Triggers,
    patterns_and_prefixes: bool,
    auto_apply: bool,
    terraform_version: String,
    state_consumers: Vec<TfcWorkspaceHandle>,
    tags: Vec<(String, String)>,
    agent_pool: Option<TfcAgentPoolHandle>,
    local: bool,
    speculative: bool,
}

/// A workspace in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcWorkspaceHandle {
    workspace: tfe::WorkspaceHandle,
    settings: tfe::WorkspaceSettingsHandle,
    organization: String,
    project: String,
    name: String,
    auto_apply: bool,
}

impl TfcWorkspace {
    /// Workspace `name` in `project`.
    pub fn new(project: &TfcProjectHandle, name: impl Into<String>) -> Self {
        Self {
            organization: project.organization.clone(),
            project_name: project.name.clone(),
            project_id: project.id(),
            name: name.into(),
            description: None,
            working_directory: None,
            vcs: None,
            triggers: Triggers::WorkingDirectory,
            patterns_and_prefixes: false,
            auto_apply: false,
            terraform_version: TERRAFORM_VERSION.to_owned(),
            state_consumers: Vec::new(),
            tags: Vec::new(),
            agent_pool: None,
            local: false,
            speculative: true,
        }
    }

    /// What it manages.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Terraform runs in `path` of the repository (relative to its root).
    pub fn working_directory(mut self, path: impl Into<String>) -> Self {
        self.working_directory = Some(path.into());
        self
    }

    /// Runs come from a VCS repository (pushes start runs, pull requests speculative
    /// plans).
    pub fn vcs(mut self, connection: VcsConnection) -> Self {
        self.vcs = Some(connection);
        self
    }

    /// A push starts a run only when it changes a file matching one of `patterns`
    /// (globs from the repository root, `modules/**/*.tf`).
    pub fn trigger_patterns<S: Into<String>>(
        mut self,
        patterns: impl IntoIterator<Item = S>,
    ) -> Self {
        if matches!(self.triggers, Triggers::Prefixes(_)) {
            self.patterns_and_prefixes = true;
        }
        self.triggers = Triggers::Patterns(patterns.into_iter().map(Into::into).collect());
        self
    }

    /// A push starts a run when it changes a file under the working directory or one of
    /// `prefixes` (directories from the repository root).
    pub fn trigger_prefixes<S: Into<String>>(
        mut self,
        prefixes: impl IntoIterator<Item = S>,
    ) -> Self {
        if matches!(self.triggers, Triggers::Patterns(_)) {
            self.patterns_and_prefixes = true;
        }
        self.triggers = Triggers::Prefixes(prefixes.into_iter().map(Into::into).collect());
        self
    }

    /// A successful plan is applied without a person's approval (also when a run
    /// trigger started it). Off by default.
    pub fn auto_apply(mut self) -> Self {
        self.auto_apply = true;
        self
    }

    /// Run Terraform `version` (one exact release) instead of [`TERRAFORM_VERSION`].
    pub fn terraform_version(mut self, version: impl Into<String>) -> Self {
        self.terraform_version = version.into();
        self
    }

    /// Workspace `consumer` may read this workspace's state (its outputs, through
    /// `tfe_outputs` or `terraform_remote_state`); no other workspace may.
    pub fn shares_state_with(mut self, consumer: &TfcWorkspaceHandle) -> Self {
        self.state_consumers.push(consumer.clone());
        self
    }

    /// Runs execute on `pool`'s agents (`execution_mode = "agent"`), not on Terraform
    /// Cloud's runners: for a workspace whose Terraform must reach a private network. The
    /// pool must allow this workspace's project.
    pub fn agent_pool(mut self, pool: &TfcAgentPoolHandle) -> Self {
        self.agent_pool = Some(pool.clone());
        self
    }

    /// Runs execute where Terraform is invoked (`execution_mode = "local"`): the
    /// workspace only keeps the state. For a stack applied by hand with an
    /// administrator's credentials, which no pushed commit may change; its state stays
    /// readable by the consumers named with [`TfcWorkspace::shares_state_with`].
    pub fn local_execution(mut self) -> Self {
        self.local = true;
        self
    }

    /// No speculative plans of pull requests: only merged code plans, with the plan
    /// role's credentials. For a workspace whose plan role can read what a pull request
    /// must not (a cluster's Secrets that a Helm release's refresh reads).
    pub fn without_speculative_plans(mut self) -> Self {
        self.speculative = false;
        self
    }

    /// Tag `key` = `value` on the workspace.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    fn check(&self) -> std::result::Result<(), TfcError> {
        names::workspace(&self.name)?;
        names::terraform_version(&self.terraform_version)?;
        if self.patterns_and_prefixes {
            return Err(TfcError::TriggerPatternsAndPrefixes(self.name.clone()));
        }
        if let Some(dir) = &self.working_directory {
            names::repository_path("working directory", dir)?;
        }
        match &self.triggers {
            Triggers::WorkingDirectory => {}
            Triggers::Patterns(patterns) => {
                for p in patterns {
                    names::repository_path("trigger pattern", p)?;
                }
            }
            Triggers::Prefixes(prefixes) => {
                for p in prefixes {
                    names::repository_path("trigger prefix", p)?;
                }
            }
        }
        if let Some(vcs) = &self.vcs {
            names::repository(&vcs.repository)?;
        }
        if self.local && (self.agent_pool.is_some() || self.vcs.is_some()) {
            return Err(TfcError::LocalExecution(self.name.clone()));
        }
        if let Some(pool) = &self.agent_pool
            && (pool.organization() != self.organization || pool.project() != self.project_name)
        {
            return Err(TfcError::AgentPoolOfAnotherProject {
                workspace: self.name.clone(),
                project: self.project_name.clone(),
                pool: pool.name().to_owned(),
                pool_project: format!("{}/{}", pool.organization(), pool.project()),
            });
        }
        for consumer in &self.state_consumers {
            if consumer.organization != self.organization {
                return Err(TfcError::OtherOrganization {
                    relation: "state share",
                    from: self.name.clone(),
                    from_organization: self.organization.clone(),
                    to: consumer.name.clone(),
                    to_organization: consumer.organization.clone(),
                });
            }
            if consumer.name == self.name {
                return Err(TfcError::SameWorkspace(self.name.clone(), "state share"));
            }
        }
        Ok(())
    }
}

impl Construct for TfcWorkspace {
    type Handle = TfcWorkspaceHandle;

    /// Add it as construct `id`: `tfe_workspace.<path>` and
    /// `tfe_workspace_settings.<path>_settings`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcWorkspaceHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let mut workspace = tfe::Workspace::new(&self.name)
            .organization(&self.organization)
            .project_id(self.project_id.clone())
            .auto_apply(self.auto_apply)
            .auto_apply_run_trigger(self.auto_apply)
            .terraform_version(&self.terraform_version)
            .file_triggers_enabled(true)
            // No run at creation: its variables (the AWS roles) and the state it reads do
            // not exist yet. The first run comes from a push or a person.
            .queue_all_runs(false)
            .speculative_enabled(self.speculative);
        if let Some(description) = &self.description {
            workspace = workspace.description(description);
        }
        if let Some(dir) = &self.working_directory {
            workspace = workspace.working_directory(dir);
        }
        match &self.triggers {
            Triggers::WorkingDirectory => {}
            Triggers::Patterns(patterns) => {
                workspace = workspace.trigger_patterns(
                    patterns
                        .iter()
                        .map(|p| Value::from(p.as_str()))
                        .collect::<Vec<_>>(),
                );
            }
            Triggers::Prefixes(prefixes) => {
                workspace = workspace.trigger_prefixes(
                    prefixes
                        .iter()
                        .map(|p| Value::from(p.as_str()))
                        .collect::<Vec<_>>(),
                );
            }
        }
        if let Some(vcs) = &self.vcs {
            let mut repo = tfe::workspace::VcsRepo::new(&vcs.repository);
            repo = match &vcs.auth {
                VcsAuth::OauthToken(token) => repo.oauth_token_id(token.clone()),
                VcsAuth::GithubApp(installation) => {
                    repo.github_app_installation_id(installation.clone())
                }
            };
            if let Some(branch) = &vcs.branch {
                repo = repo.branch(branch);
            }
            workspace = workspace.vcs_repo(repo);
        }
        if !self.tags.is_empty() {
            workspace = workspace.tags(
                self.tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect::<Vec<_>>(),
            );
        }
        let workspace = scope.add_default(workspace)?;
        let consumers: Vec<Value<String>> = self
            .state_consumers
            .iter()
            .map(|c| Value::Expr(c.id()))
            .collect();
        let mut settings = tfe::WorkspaceSettings::new(workspace.id())
            .global_remote_state(false)
            .remote_state_consumer_ids(consumers);
        let settings = match &self.agent_pool {
            None if self.local => scope.add("settings", settings.execution_mode("local"))?,
            None => scope.add("settings", settings)?,
            Some(pool) => {
                settings = settings.execution_mode("agent").agent_pool_id(pool.id());
                scope.add("settings", settings.into_spec().depends_on_all(pool))?
            }
        };
        Ok(TfcWorkspaceHandle {
            workspace,
            settings,
            organization: self.organization,
            project: self.project_name,
            name: self.name,
            auto_apply: self.auto_apply,
        })
    }
}

impl TfcWorkspaceHandle {
    /// The workspace's id (`ws-...`).
    pub fn id(&self) -> Expr<String> {
        self.workspace.id()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its organization.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// Its project's name.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The backend of the stack whose state this workspace holds: Terraform Cloud in its
    /// organization, this workspace by name, in its project. Name the workspace after the
    /// stack id (`<stack>-<env>`) and other stacks' references to it become `tfe_outputs`
    /// reads of this workspace; give it [`TfcWorkspace::shares_state_with`] each
    /// workspace that reads it.
    pub fn backend(&self) -> Backend {
        Backend::Cloud(CloudBackend {
            organization: self.organization.clone(),
            workspace: Some(self.name.clone()),
            project: Some(self.project.clone()),
            hostname: None,
        })
    }

    /// Whether successful plans apply without approval.
    pub fn auto_applies(&self) -> bool {
        self.auto_apply
    }

    /// The generated workspace resource.
    pub fn resource(&self) -> &tfe::WorkspaceHandle {
        &self.workspace
    }

    /// The generated settings resource.
    pub fn settings(&self) -> &tfe::WorkspaceSettingsHandle {
        &self.settings
    }
}

impl Dependable for TfcWorkspaceHandle {
    /// The workspace and its settings: who waits for it waits until its state is shared
    /// as asked.
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.workspace.dependency(), self.settings.dependency()]
    }
}

/// Workspace `target` runs (a plan, then an apply as its settings say) after each
/// successful apply of `source` (`tfe_run_trigger`).
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct RunTrigger {
    source: TfcWorkspaceHandle,
    target: TfcWorkspaceHandle,
}

impl RunTrigger {
    /// `target` runs after `source` applies.
    pub fn new(source: &TfcWorkspaceHandle, target: &TfcWorkspaceHandle) -> Self {
        Self {
            source: source.clone(),
            target: target.clone(),
        }
    }
}

impl Construct for RunTrigger {
    type Handle = tfe::RunTriggerHandle;

    /// Add it as construct `id`: `tfe_run_trigger.<path>`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<tfe::RunTriggerHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        if self.source.organization != self.target.organization {
            return Err(Error::construct(
                &at,
                TfcError::OtherOrganization {
                    relation: "run trigger",
                    from: self.source.name,
                    from_organization: self.source.organization,
                    to: self.target.name,
                    to_organization: self.target.organization,
                },
            ));
        }
        if self.source.name == self.target.name {
            return Err(Error::construct(
                &at,
                TfcError::SameWorkspace(self.source.name, "run trigger"),
            ));
        }
        scope.add_default(tfe::RunTrigger::new(self.source.id(), self.target.id()))
    }
}
