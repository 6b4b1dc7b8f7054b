//! What girder-tfc refuses, as values tests can match.

/// Why a Terraform Cloud construct was refused. Wrapped into
/// [`girder_core::Error::Construct`] with the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TfcError {
    /// An organization name Terraform Cloud refuses.
    #[error("organization name {0:?}: 1-90 letters, digits, '-' and '_' (Terraform Cloud's rule)")]
    OrganizationName(String),
    /// A project name Terraform Cloud refuses.
    #[error(
        "project name {0:?}: 3-40 letters, digits, spaces, '-' and '_', not starting or ending \
         with a space (Terraform Cloud's rule)"
    )]
    ProjectName(String),
    /// A workspace name Terraform Cloud refuses.
    #[error("workspace name {0:?}: 1-90 letters, digits, '-' and '_' (Terraform Cloud's rule)")]
    WorkspaceName(String),
    /// A team name Terraform Cloud refuses.
    #[error("team name {0:?}: letters, digits, '-' and '_', at most 90 characters")]
    TeamName(String),
    /// An SSO team id that is empty or holds template syntax.
    #[error("SSO team id {0:?}: the identity provider's group name, literal text")]
    SsoTeamId(String),
    /// A workspace of local execution with a VCS connection or an agent pool (runs that
    /// would never happen there).
    #[error(
        "workspace {0:?} runs locally: it takes no VCS connection and no agent pool (a \
         person applies it)"
    )]
    LocalExecution(String),
    /// An agent pool name Terraform Cloud refuses.
    #[error("agent pool name {0:?}: 1-90 letters, digits, '-' and '_'")]
    AgentPoolName(String),
    /// A workspace set to run on a pool its project may not use.
    #[error(
        "workspace {workspace:?} (project {project:?}) cannot run on agent pool {pool:?}: the \
         pool allows project {pool_project:?} only"
    )]
    AgentPoolOfAnotherProject {
        /// The workspace.
        workspace: String,
        /// Its project.
        project: String,
        /// The pool.
        pool: String,
        /// The organization and project the pool allows.
        pool_project: String,
    },
    /// An agent service name ECS refuses.
    #[error("agent service name {0:?}: 1-255 letters, digits, '-' and '_' (ECS's rule)")]
    AgentServiceName(String),
    /// An agent image that is not one pinned image reference.
    #[error(
        "agent image {0:?}: give one image reference pinned by a tag other than `latest` or \
         by a `sha256:` digest, without whitespace or template syntax"
    )]
    AgentImage(String),
    /// An agent count outside 1 to 10.
    #[error("{0} agents: run 1 to 10")]
    AgentCount(u8),
    /// A policy or policy set name Terraform Cloud refuses.
    #[error("policy name {0:?}: 1-90 letters, digits, '-' and '_'")]
    PolicyName(String),
    /// A VCS repository not in `owner/name` form.
    #[error(
        "VCS repository {0:?}: `<owner>/<name>`, each letters, digits, '-', '_' and '.' (GitHub)"
    )]
    Repository(String),
    /// A working directory, trigger pattern or trigger prefix outside the repository.
    #[error(
        "{what} {path:?} leaves the repository: give a path relative to the repository root, \
         without a leading '/', '\\', '..' component or empty component"
    )]
    PathOutsideRepository {
        /// `working directory`, `trigger pattern` or `trigger prefix`.
        what: &'static str,
        /// The path given.
        path: String,
    },
    /// Both trigger patterns and trigger prefixes (the provider accepts one kind).
    #[error("workspace {0:?} has trigger patterns and trigger prefixes: give one kind")]
    TriggerPatternsAndPrefixes(String),
    /// A Terraform version that is not one exact release.
    #[error(
        "Terraform version {0:?}: pin one release, `MAJOR.MINOR.PATCH` (1.11.4), not a \
         constraint or `latest`"
    )]
    TerraformVersion(String),
    /// A state share, run trigger or policy attachment between organizations.
    #[error(
        "{relation} from workspace {from:?} (organization {from_organization:?}) to workspace \
         {to:?} (organization {to_organization:?}): Terraform Cloud only relates workspaces of \
         one organization"
    )]
    OtherOrganization {
        /// `state share`, `run trigger` or `policy set`.
        relation: &'static str,
        /// The workspace (or policy set) relating.
        from: String,
        /// Its organization.
        from_organization: String,
        /// The workspace related to.
        to: String,
        /// Its organization.
        to_organization: String,
    },
    /// A workspace sharing its state with, or triggering, itself.
    #[error("{relation} from workspace {0:?} to itself", relation = .1)]
    SameWorkspace(String, &'static str),
    /// An IAM role name over IAM's 64 characters.
    #[error(
        "role name {0:?} is longer than IAM's 64 characters: give a shorter prefix with \
         `.role_name_prefix(..)`"
    )]
    RoleName(String),
    /// An apply role without statements.
    #[error(
        "workspace {0:?}: the apply role has no statements; give what the workspace's \
         Terraform creates with `.apply_statement(..)`"
    )]
    NoApplyStatements(String),
    /// A plan role with neither read-only access nor statements.
    #[error(
        "workspace {0:?}: the plan role has neither `ReadOnlyAccess` nor statements; give \
         `.plan_statement(..)`"
    )]
    NoPlanAccess(String),
    /// A policy set without policies or without workspaces.
    #[error("policy set {name:?} has no {missing}")]
    EmptyPolicySet {
        /// The policy set.
        name: String,
        /// `policies` or `workspaces`.
        missing: &'static str,
    },
    /// Two policies of one set with one name.
    #[error("policy set {set:?} holds two policies named {policy:?}")]
    DuplicatePolicy {
        /// The policy set.
        set: String,
        /// The name.
        policy: String,
    },
}
