//! Dynamic AWS credentials for Terraform Cloud runs: the account's OIDC provider for
//! `app.terraform.io` and, per workspace, a plan role and an apply role.

use girder_aws::{aws, tfe, tls};
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::Dependency;
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::{PolicyDocument, Role, RoleHandle, Statement, TFC_OIDC_URL, Trust};

use crate::error::TfcError;
use crate::workspace::TfcWorkspaceHandle;

/// The audience Terraform Cloud's workload identity tokens carry for AWS (its default
/// for `TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE`).
pub const TFC_AWS_AUDIENCE: &str = "aws.workload.identity";

/// The AWS managed policy the plan role holds unless told otherwise.
pub const PLAN_READ_ONLY_POLICY: &str = "ReadOnlyAccess";

/// The account's IAM OIDC provider for Terraform Cloud (one per account): issuer
/// [`TFC_OIDC_URL`], audience [`TFC_AWS_AUDIENCE`], thumbprint read from the issuer's
/// certificate chain by a `tls_certificate` data source (HashiCorp's and
/// terraform-aws-modules' way; AWS now validates well-known issuers against its own
/// trusted CAs, but the argument is still kept in step with the chain). The stack
/// requires the tls provider (`girder_aws::tls::requirement()`) besides aws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcAwsAuth;

/// The provider in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcAwsAuthHandle {
    provider: aws::IamOpenidConnectProviderHandle,
}

impl TfcAwsAuth {
    /// The account's provider.
    pub fn new() -> Self {
        Self
    }
}

impl Construct for TfcAwsAuth {
    type Handle = TfcAwsAuthHandle;

    /// Add it as construct `id`: `aws_iam_openid_connect_provider.<path>` and
    /// `data.tls_certificate.<path>_certificate`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcAwsAuthHandle> {
        let mut scope = scope.construct_child(id)?;
        let certificate =
            scope.add("certificate", tls::DataCertificate::new().url(TFC_OIDC_URL))?;
        let thumbprint = certificate.certificates().first().sha1_fingerprint();
        let provider = scope.add_default(
            aws::IamOpenidConnectProvider::new([TFC_AWS_AUDIENCE], TFC_OIDC_URL)
                .thumbprint_list([Value::Expr(thumbprint)]),
        )?;
        Ok(TfcAwsAuthHandle { provider })
    }
}

impl TfcAwsAuthHandle {
    /// The provider's ARN, the principal of the roles' trust.
    pub fn arn(&self) -> Expr<String> {
        self.provider.arn()
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::IamOpenidConnectProviderHandle {
        &self.provider
    }
}

impl Dependable for TfcAwsAuthHandle {
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.provider.dependency()]
    }
}

/// A workspace's AWS roles: `<prefix>-plan`, which only its plan phase may assume, and
/// `<prefix>-apply`, which only its apply phase may assume (trust pinned to
/// `organization:<o>:project:<p>:workspace:<w>:run_phase:<plan|apply>`), and the
/// workspace's environment variables that make its runs use them
/// (`TFC_AWS_PROVIDER_AUTH`, `TFC_AWS_PLAN_ROLE_ARN`, `TFC_AWS_APPLY_ROLE_ARN`). No
/// static key exists: each run gets short-lived credentials for its phase.
///
/// The plan role holds AWS's `ReadOnlyAccess` (a plan reads every resource it refreshes)
/// plus the statements given with [`TfcWorkspaceRoles::plan_statement`] (reads
/// `ReadOnlyAccess` lacks, a secret's value); the apply role holds exactly the
/// statements given with [`TfcWorkspaceRoles::apply_statement`] (an apply also reads
/// what it creates: grant those reads too).
///
/// `ReadOnlyAccess` reads data as well as configuration (S3 objects, DynamoDB items,
/// String SSM parameters), and a speculative plan of a pull request runs its Terraform
/// with the plan role: whoever may open a pull request that the workspace plans may read
/// that. Keep the repositories private, or give the plan role exact statements with
/// [`TfcWorkspaceRoles::plan_without_read_only_access`].
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcWorkspaceRoles {
    provider_arn: Expr<String>,
    workspace: TfcWorkspaceHandle,
    partition: Value<String>,
    prefix: Option<String>,
    read_only: bool,
    plan: PolicyDocument,
    apply: PolicyDocument,
}

/// The roles and variables in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcWorkspaceRolesHandle {
    plan: RoleHandle,
    apply: RoleHandle,
    plan_trust: Trust,
    apply_trust: Trust,
    plan_policy: PolicyDocument,
    apply_policy: PolicyDocument,
    variables: Vec<tfe::VariableHandle>,
}

impl TfcWorkspaceRoles {
    /// Roles for `workspace`'s runs through `auth`, in `partition` (stated, or from
    /// `aws_partition`: the ARN of `ReadOnlyAccess`).
    pub fn new(
        auth: &TfcAwsAuthHandle,
        workspace: &TfcWorkspaceHandle,
        partition: impl Into<Value<String>>,
    ) -> Self {
        Self {
            provider_arn: auth.arn(),
            workspace: workspace.clone(),
            partition: partition.into(),
            prefix: None,
            read_only: true,
            plan: PolicyDocument::new(),
            apply: PolicyDocument::new(),
        }
    }

    /// Name the roles `<prefix>-plan` and `<prefix>-apply` (default: `tfc-<workspace>`).
    pub fn role_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// The plan role may also do what `statement` allows.
    pub fn plan_statement(mut self, statement: Statement) -> Self {
        self.plan = self.plan.statement(statement);
        self
    }

    /// The plan role holds only its statements, not `ReadOnlyAccess`.
    pub fn plan_without_read_only_access(mut self) -> Self {
        self.read_only = false;
        self
    }

    /// The apply role may do what `statement` allows.
    pub fn apply_statement(mut self, statement: Statement) -> Self {
        self.apply = self.apply.statement(statement);
        self
    }
}

impl Construct for TfcWorkspaceRoles {
    type Handle = TfcWorkspaceRolesHandle;

    /// Add them as construct `id`: roles `<path>_plan` and `<path>_apply` (girder-iam
    /// `Role`s) and `tfe_variable.<path>_provider_auth`, `_plan_role_arn`,
    /// `_apply_role_arn`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcWorkspaceRolesHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let ws = &self.workspace;
        let refuse = |e: TfcError| Error::construct(&at, e);
        if self.apply.is_empty() {
            return Err(refuse(TfcError::NoApplyStatements(ws.name().to_owned())));
        }
        if !self.read_only && self.plan.is_empty() {
            return Err(refuse(TfcError::NoPlanAccess(ws.name().to_owned())));
        }
        let prefix = self
            .prefix
            .clone()
            .unwrap_or_else(|| format!("tfc-{}", ws.name()));
        let (plan_name, apply_name) = (format!("{prefix}-plan"), format!("{prefix}-apply"));
        for name in [&plan_name, &apply_name] {
            if name.len() > 64 {
                return Err(refuse(TfcError::RoleName(name.clone())));
            }
        }
        let trust = |phase: &str| {
            Trust::terraform_cloud(
                self.provider_arn.clone(),
                ws.organization(),
                ws.project(),
                ws.name(),
                phase,
            )
        };
        let (plan_trust, apply_trust) = (trust("plan"), trust("apply"));
        let mut plan = Role::new(&plan_name, plan_trust.clone()).description(format!(
            "Terraform Cloud plans of workspace {} (read-only)",
            ws.name()
        ));
        if self.read_only {
            plan = plan.aws_managed_policy(self.partition.clone(), PLAN_READ_ONLY_POLICY);
        }
        if !self.plan.is_empty() {
            plan = plan.policy("plan", self.plan.clone());
        }
        let plan = plan.add(&mut scope, "plan")?;
        let apply = Role::new(&apply_name, apply_trust.clone())
            .description(format!(
                "Terraform Cloud applies of workspace {}",
                ws.name()
            ))
            .policy("apply", self.apply.clone())
            .add(&mut scope, "apply")?;
        let mut variables = Vec::new();
        for (var_id, key, value, description) in [
            (
                "provider-auth",
                "TFC_AWS_PROVIDER_AUTH",
                Value::from("true"),
                "Runs authenticate to AWS with workload identity (no static keys)",
            ),
            (
                "plan-role-arn",
                "TFC_AWS_PLAN_ROLE_ARN",
                Value::Expr(plan.arn()),
                "The role plans assume",
            ),
            (
                "apply-role-arn",
                "TFC_AWS_APPLY_ROLE_ARN",
                Value::Expr(apply.arn()),
                "The role applies assume",
            ),
        ] {
            variables.push(
                scope.add(
                    var_id,
                    tfe::Variable::new("env", key)
                        .workspace_id(ws.id())
                        .value(value)
                        .description(description),
                )?,
            );
        }
        Ok(TfcWorkspaceRolesHandle {
            plan,
            apply,
            plan_trust,
            apply_trust,
            plan_policy: self.plan,
            apply_policy: self.apply,
            variables,
        })
    }
}

impl TfcWorkspaceRolesHandle {
    /// The plan role.
    pub fn plan(&self) -> &RoleHandle {
        &self.plan
    }

    /// The apply role.
    pub fn apply(&self) -> &RoleHandle {
        &self.apply
    }

    /// Who may assume the plan role.
    pub fn plan_trust(&self) -> &Trust {
        &self.plan_trust
    }

    /// Who may assume the apply role.
    pub fn apply_trust(&self) -> &Trust {
        &self.apply_trust
    }

    /// The plan role's inline statements (besides `ReadOnlyAccess`, unless dropped).
    pub fn plan_policy(&self) -> &PolicyDocument {
        &self.plan_policy
    }

    /// The apply role's statements.
    pub fn apply_policy(&self) -> &PolicyDocument {
        &self.apply_policy
    }
}

impl Dependable for TfcWorkspaceRolesHandle {
    /// Both roles with their policies, and the three variables: a run queued after this
    /// finds its credentials.
    fn dependencies(&self) -> Vec<Reference> {
        let mut references = self.plan.dependencies();
        references.extend(self.apply.dependencies());
        references.extend(self.variables.iter().map(Dependency::dependency));
        references
    }
}
