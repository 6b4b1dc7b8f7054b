//! `piksel-bootstrap-<env>`: Terraform Cloud for one environment (seed 000, issue 2.1:
//! workspaces per environment, VCS integration with GitHub; seed 001: "Terraform Cloud
//! manages AWS authentication via OIDC", "required approvals in Terraform Cloud for
//! staging/prod", "infrastructure policy checks via Terraform Cloud").
//!
//! A project per environment (its own team access later: prod's runners are not dev's),
//! the environment's two workspaces (named after the stacks they hold, so girder's
//! cross-stack reads become `tfe_outputs` of the right one), the Kubernetes layer run
//! after the infra applies and reading only its state, the AWS credentials of each
//! workspace's runs (a plan role and an apply role pinned to the workspace and run phase:
//! no static key), and the policy set. Applied by hand once per environment, from its own
//! CLI-driven workspace (the one thing nothing else can create).

use girder_aws::{aws, tfe, tls};
use girder_core::construct::Construct;
use girder_core::{Result, Stack};
use girder_iam::{Condition, Statement, boundary_policy, role_management_with_boundary};
use girder_tfc::{
    OpaPolicy, PolicySet, RunTrigger, TeamAccess, TfcAwsAuth, TfcProject, TfcTeam, TfcWorkspace,
    TfcWorkspaceRoles, VcsConnection, WorkspaceAccess,
};

use crate::config::{Environment, ORGANIZATION, PARTITION, REGION, aws_stack};

/// The stack's name (`piksel-bootstrap-<env>`).
pub(crate) const NAME: &str = "piksel-bootstrap";

/// The repositories the workspaces run from: where CI publishes the synthesized
/// `terraform/<stack>/` directories (seed 001: piksel-infra, piksel-kubernetes).
/// The GitHub organization of the repositories, where Terraform Cloud's GitHub App is
/// installed.
const GITHUB_ORGANIZATION: &str = "piksel";
const INFRA_REPOSITORY: &str = "piksel/piksel-infra";
const KUBERNETES_REPOSITORY: &str = "piksel/piksel-kubernetes";

/// The services `piksel-infra-<env>` declares resources of.
const INFRA_SERVICES: [&str; 17] = [
    "ec2",
    "ecs",
    "rds",
    "s3",
    "ecr",
    "route53",
    "logs",
    "ssm",
    "secretsmanager",
    "kms",
    "cloudwatch",
    "sns",
    "cloudtrail",
    "access-analyzer",
    "backup",
    "backup-storage",
    "cloudfront",
];

/// The services `piksel-eks-<env>` declares resources of.
const EKS_SERVICES: [&str; 5] = ["eks", "ec2", "kms", "logs", "ssm"];

/// What an apply may do with IAM: the stack's own roles, their inline and customer-managed
/// policies and instance profiles, the OIDC providers and the service-linked roles EKS
/// and RDS ask for; never a user, a group or an account setting. (A role it makes could
/// hold more than the apply role itself: the approval gate, the policy checks and a
/// permissions boundary, not yet set, are what stop that.)
const IAM_ROLE_ACTIONS: [&str; 37] = [
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:PassRole",
    "iam:CreateServiceLinkedRole",
    "iam:CreateOpenIDConnectProvider",
    "iam:GetOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    // The instance profiles of the stack's EC2 roles (the developer instance).
    "iam:CreateInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
    // The customer-managed policies the stack writes (the developers' SSH policy).
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:ListPolicyVersions",
    "iam:TagPolicy",
    "iam:ListRoles",
    "iam:ListPolicies",
];

/// The environment's permissions boundary's name.
fn boundary_name(env: &Environment) -> String {
    format!("piksel-{}-boundary", env.name)
}

/// Its ARN (known at synth: the infra and EKS stacks set it on every role they make).
pub(crate) fn boundary_arn(env: &Environment) -> String {
    format!(
        "arn:aws:iam::{}:policy/{}",
        env.account_id,
        boundary_name(env)
    )
}

/// The prefix of the roles of the workspace of stack `stack_id`: `tfc-<stack id>`.
fn role_prefix(stack_id: &str) -> String {
    format!("tfc-{stack_id}")
}

/// The ARN of the apply role of the workspace of stack `stack_id` in `env`'s account
/// (known at synth: the EKS stack gives it an access entry).
pub(crate) fn apply_role_arn(env: &Environment, stack_id: &str) -> String {
    format!(
        "arn:aws:iam::{}:role/{}-apply",
        env.account_id,
        role_prefix(stack_id)
    )
}

/// No read of the agents' token parameter, nor of parameters by path (which would
/// include it; no stack reads parameters by path).
fn agent_token_denies(env: &Environment) -> Result<[Statement; 2]> {
    let parameter = crate::agents::token_parameter(env)?;
    Ok([
        Statement::deny([
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParameterHistory",
        ])
        .sid("NotTheAgentToken")
        .on([format!(
            "arn:aws:ssm:{REGION}:{}:parameter{}",
            env.account_id,
            parameter.as_str()
        )]),
        Statement::deny(["ssm:GetParametersByPath"])
            .sid("NoParametersByPath")
            .on(["*"]),
    ])
}

/// The ARN of the plan role of the workspace of stack `stack_id` in `env`'s account
/// (the EKS stack gives it a read-only access entry in flux-system).
pub(crate) fn plan_role_arn(env: &Environment, stack_id: &str) -> String {
    format!(
        "arn:aws:iam::{}:role/{}-plan",
        env.account_id,
        role_prefix(stack_id)
    )
}

/// The platform's region and us-east-1, where the global services answer.
fn in_the_platforms_regions() -> Condition {
    Condition::new("StringEquals", "aws:RequestedRegion", [REGION, "us-east-1"])
}

/// Stack `piksel-bootstrap-<env>`.
pub(crate) fn stack(env: &Environment) -> Result<Stack> {
    let mut stack = aws_stack(NAME, env)?;
    stack.require_provider(tfe::requirement())?;
    stack.require_provider(tls::requirement())?;
    stack.add_provider(tfe::Provider::new().organization(ORGANIZATION).into())?;
    let mut root = stack.root();
    let project = TfcProject::new(ORGANIZATION, format!("piksel-{}", env.name))
        .description(format!("Piksel platform, {}", env.name))
        .add(&mut root, "project")?;
    // The repositories are read through Terraform Cloud's GitHub App, installed once on
    // the `piksel` GitHub organization (no OAuth token to make, store or rotate).
    let github = root.add(
        "github",
        tfe::DataGithubAppInstallation::new().name(GITHUB_ORGANIZATION),
    )?;
    let workspace = |name: &str, repository: &str| {
        let stack_id = format!("{name}-{}", env.name);
        let directory = format!("terraform/{stack_id}");
        let mut workspace = TfcWorkspace::new(&project, &stack_id)
            .description(format!("girder stack {stack_id}"))
            .working_directory(&directory)
            .vcs(VcsConnection::github_app(repository, &github).branch("main"))
            .trigger_patterns([format!("{directory}/**/*")]);
        // dev applies on merge; staging and prod wait for a person's approval.
        if env.auto_apply {
            workspace = workspace.auto_apply();
        }
        workspace
    };
    // The EKS layer runs on the environment's agents, in the VPC, where the cluster's
    // private endpoint is. Its plan role reads the Helm releases' Secrets in
    // flux-system, so pull requests get no speculative plan there (their code would run
    // with that role): girder's offline synth, diff and checks review them instead.
    let pool = crate::agents::pool(&mut root, env, &project)?;
    let eks = workspace(crate::eks::NAME, KUBERNETES_REPOSITORY)
        .agent_pool(&pool)
        .without_speculative_plans()
        .add(&mut root, "eks")?;
    let infra = workspace(crate::infra::NAME, INFRA_REPOSITORY)
        // The EKS layer reads the VPC's ids from the infra's outputs, and nothing else
        // reads the infra's state.
        .shares_state_with(&eks)
        .add(&mut root, "infra")?;
    RunTrigger::new(&infra, &eks).add(&mut root, "infra-then-eks")?;
    // Who approves the runs that wait for a person (staging, prod): the environment's
    // approvers (members managed in Terraform Cloud or by SSO), not only the owners.
    if !env.auto_apply {
        // Members are the identity provider's group of the same name; they may read and
        // approve runs, not edit variables or lock the workspace (review 2's m-a).
        let team = format!("piksel-{}-approvers", env.name);
        let approvers = TfcTeam::new(ORGANIZATION, &team)
            .sso_team(&team)
            .add(&mut root, "approvers")?;
        for (id, workspace) in [("approvers-infra", &infra), ("approvers-eks", &eks)] {
            TeamAccess::new(&approvers, workspace, WorkspaceAccess::ApproveRuns)
                .add(&mut root, id)?;
        }
    }

    // Each run signs as its workspace's role for its phase. A plan reads (ReadOnlyAccess);
    // an apply manages the services its stack declares, in the platform's region and the
    // global services (IAM answers in us-east-1), and roles without full IAM rights.
    let auth = TfcAwsAuth::new().add(&mut root, "tfc-oidc")?;
    // The ceiling of every role the workspaces' applies make.
    let boundary = boundary_arn(env);
    root.add(
        "boundary",
        aws::IamPolicy::new(boundary_policy(&boundary).render(&root.location())?)
            .name(boundary_name(env))
            .description("The ceiling of every role Piksel's Terraform Cloud applies make"),
    )?;
    for (id, workspace, services) in [
        ("infra-aws", &infra, INFRA_SERVICES.as_slice()),
        ("eks-aws", &eks, EKS_SERVICES.as_slice()),
    ] {
        let mut roles = TfcWorkspaceRoles::new(&auth, workspace, PARTITION)
            .role_name_prefix(role_prefix(workspace.name()));
        // Whoever holds the agents' token can register an agent and receive the EKS
        // workspace's runs, with their credentials: no run reads it (the bootstrap
        // writes it, the agents' ECS execution role reads it).
        for deny in agent_token_denies(env)? {
            roles = roles.plan_statement(deny.clone()).apply_statement(deny);
        }
        roles = roles
            .apply_statement(
                Statement::allow(services.iter().map(|service| format!("{service}:*")))
                    .sid("ManageTheStacksServices")
                    .on(["*"])
                    .when(in_the_platforms_regions())
                    .wildcard_because("a workspace creates and deletes resources of these services by names it chooses at plan; the guard is the services, the region and the workspace's approval gate"),
            )
            .apply_statement(
                Statement::allow(IAM_ROLE_ACTIONS)
                    .sid("ManageTheStacksRoles")
                    .on(["*"])
                    .wildcard_because("the stack's roles (flow logs, the cluster, the nodes, the add-ons) are named at plan; no user, group or account-wide IAM change"),
            );
        // A role it makes carries the environment's boundary (the stacks set it on
        // every role), so no apply can make a role stronger than the ceiling.
        // Nor may it change its own role, a sibling's, or the boundary.
        let own_roles = [format!("arn:aws:iam::{}:role/tfc-*", env.account_id)];
        for statement in role_management_with_boundary(&boundary, &own_roles) {
            roles = roles.apply_statement(statement);
        }
        let _roles = roles.add(&mut root, id)?;
    }
    let _policies = PolicySet::new(ORGANIZATION, format!("piksel-{}", env.name))
        .description(format!("Checks on every plan of Piksel {}", env.name))
        // Policy names are the organization's: each environment's copies carry its name.
        .policy(OpaPolicy::no_public_ssh().named(format!("piksel-{}-no-public-ssh", env.name)))
        .policy(
            OpaPolicy::s3_public_access_block()
                .named(format!("piksel-{}-s3-public-access-block", env.name)),
        )
        .workspace(&infra)
        .workspace(&eks)
        .add(&mut root, "policies")?;
    drop(root);
    crate::findings::bootstrap(&mut stack)?;
    crate::agents::acknowledge_bootstrap(&mut stack)?;
    Ok(stack)
}
