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
use girder_iam::{
    Condition, Statement, boundary_policy, own_roles_stay, role_management_with_boundary,
};
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

/// The services `piksel-infra-<env>` declares resources of and manages whole (`<service>:*`);
/// the audit and backup services are narrowed ([`INFRA_ACTIONS`]).
const INFRA_SERVICES: [&str; 12] = [
    "ec2",
    "rds",
    "s3",
    "ecr",
    "route53",
    "logs",
    "ssm",
    "secretsmanager",
    "cloudwatch",
    "sns",
    "cloudfront",
    "access-analyzer",
];

/// What `piksel-infra-<env>` does with the services that hold the audit record and the
/// backups (and [`KMS_WRITES`], [`KMS_READ_AND_USE`] with its keys): create, read, update
/// and tag the trail, the vault, its plan and selections and the event rules; never stop
/// or delete the trail, delete a vault or a recovery point (and
/// [`audit_protection_statements`] denies those outright).
const INFRA_ACTIONS: [&str; 31] = [
    // The trail (CreateTrail with its event selectors, logging started; tags).
    "cloudtrail:CreateTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:StartLogging",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:AddTags",
    "cloudtrail:RemoveTags",
    "cloudtrail:Get*",
    "cloudtrail:Describe*",
    "cloudtrail:List*",
    // The vault (its lock), the plan and its selections.
    "backup:CreateBackupVault",
    "backup:PutBackupVaultLockConfiguration",
    "backup:CreateBackupPlan",
    "backup:UpdateBackupPlan",
    "backup:DeleteBackupPlan",
    "backup:CreateBackupSelection",
    "backup:DeleteBackupSelection",
    "backup:TagResource",
    "backup:UntagResource",
    "backup:Get*",
    "backup:Describe*",
    "backup:List*",
    // CreateBackupVault mounts the vault's storage.
    "backup-storage:MountCapsule",
    // The security topic's rule for Access Analyzer's findings.
    "events:PutRule",
    "events:DeleteRule",
    "events:DescribeRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:ListTargetsByRule",
    "events:TagResource",
    "events:UntagResource",
    "events:ListTagsForResource",
];

/// What either stack does to its KMS keys: create them with their policy and alias,
/// rotate, tag, schedule a replaced key's deletion (never an audit key's:
/// [`audit_protection_statements`]), and the grants the services they are given to make.
const KMS_WRITES: [&str; 12] = [
    "kms:CreateKey",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:PutKeyPolicy",
    "kms:EnableKeyRotation",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:CreateGrant",
    "kms:RetireGrant",
];

/// What either stack does with KMS besides [`KMS_WRITES`]: read keys, and the data-key
/// calls AWS Backup's, RDS's and EKS's creates make with the caller's rights.
const KMS_READ_AND_USE: [&str; 9] = [
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:ListAliases",
    "kms:ListKeys",
    "kms:ListGrants",
    "kms:GenerateDataKey",
    "kms:Decrypt",
];

/// The services `piksel-eks-<env>` declares resources of and manages whole.
const EKS_SERVICES: [&str; 2] = ["eks", "logs"];

/// What `piksel-eks-<env>` does with EC2 (and [`KMS_WRITES`], [`KMS_READ_AND_USE`] with
/// the cluster's Secrets key): the cluster's security group and its rules, the node
/// groups' launch templates (and the instances EKS launches from them, which it checks
/// the caller may launch: a statement of its own), tags, reads. No VPC, subnet, route or
/// instance of its own (those are the infra's), and no SSM at all (the node groups' AMI
/// type names the image; no parameter is read).
const EKS_ACTIONS: [&str; 18] = [
    "ec2:Describe*",
    "ec2:GetLaunchTemplateData",
    "ec2:CreateSecurityGroup",
    "ec2:DeleteSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifySecurityGroupRules",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateLaunchTemplateVersion",
    "ec2:ModifyLaunchTemplate",
    "ec2:DeleteLaunchTemplate",
    "ec2:DeleteLaunchTemplateVersions",
    "ec2:CreateTags",
    "ec2:DeleteTags",
];

/// What an apply may do with IAM: the stack's own roles, their inline and customer-managed
/// policies and instance profiles, the OIDC providers and the service-linked roles EKS
/// and RDS ask for, created, updated (tags included) and deleted; never a user, a group
/// or an account setting. (The roles it makes carry the environment's boundary, and
/// [`role_management_with_boundary`] keeps it from writing any other role; it also grants
/// the writes that are scoped to the stacks' roles by name: creating, re-trusting,
/// updating, tagging, deleting and passing them.)
const IAM_ROLE_ACTIONS: [&str; 35] = [
    "iam:GetRole",
    "iam:ListRoleTags",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:CreateServiceLinkedRole",
    "iam:CreateOpenIDConnectProvider",
    "iam:GetOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    // The instance profiles of the stack's EC2 roles (the developer instance).
    "iam:CreateInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
    "iam:UntagInstanceProfile",
    // The customer-managed policies the stack writes (the developers' SSH policy).
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:ListPolicyVersions",
    "iam:TagPolicy",
    "iam:UntagPolicy",
    "iam:ListRoles",
    "iam:ListPolicies",
];

/// The AWS managed policies the stacks attach to their roles (by name, with the path):
/// the EKS cluster and node roles, the VPC CNI's Pod Identity role, AWS Backup's service
/// role. An apply may attach or detach no other managed policy but the stacks' own
/// (the developers' SSH policy).
const ATTACHABLE_AWS_POLICIES: [&str; 6] = [
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEKS_CNI_Policy",
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
];

/// The managed policies an apply of `env` may attach: [`ATTACHABLE_AWS_POLICIES`] and the
/// developers' policy.
fn attachable_policies(env: &Environment) -> Vec<String> {
    ATTACHABLE_AWS_POLICIES
        .iter()
        .map(|name| format!("arn:{}:iam::aws:policy/{name}", PARTITION.as_str()))
        .chain([crate::developer_access::developer_policy_arn(env)])
        .collect()
}

/// The services the roles the stacks make use, by prefix: the ceiling of the
/// environment's boundary (a bounded role may do nothing else, whatever its own policy
/// says). From the roles' own policies (the test
/// `every_action_of_every_role_the_stacks_make_is_within_the_boundary` derives it) and
/// from the AWS managed policies [`ATTACHABLE_AWS_POLICIES`] attached to them:
/// - the flow logs and CloudTrail's log roles, the agents' ECS execution role: `logs`,
///   `ecr`, `ssm` (the agent token, its one reader);
/// - the EKS cluster (`AmazonEKSClusterPolicy`: `ec2`, `elasticloadbalancing`,
///   `autoscaling`, `kms`, the load balancers' service-linked role) and its Secrets key;
/// - the nodes (`AmazonEKSWorkerNodePolicy`: `ec2`, `eks`, `eks-auth`; the ECR pull
///   policy), the VPC CNI (`AmazonEKS_CNI_Policy`: `ec2`), the EBS CSI driver (`ec2`);
/// - the add-on controllers: the load balancer controller (`elasticloadbalancing`,
///   `ec2`, `acm`, `wafv2`, `shield`, `cognito-idp`, `tag`, server certificates),
///   external-dns (`route53`), the cluster autoscaler (`autoscaling`, `ec2`, `eks`), the
///   secrets reader (`secretsmanager`), the image reflector (`ecr`), the CloudWatch
///   exporter (`cloudwatch`, `tag`);
/// - AWS Backup's role (`AWSBackupServiceRolePolicyForBackup` and `...ForRestores`:
///   `backup`, `rds`, `ec2`, `kms`, `tag`);
/// - the developers (`ec2-instance-connect`, `ssm`) and their instance (Session
///   Manager: `ssm`, `ssmmessages`, `ec2messages`), the platform administrators
///   (`eks`), the website deployer (`s3`, `cloudfront`), CI's ECR push (`ecr`).
///
/// No `iam` (but [`BOUNDED_IAM_ACTIONS`]), `sts`, `cloudtrail`, `sns`, `organizations`:
/// a bounded role never writes a role, assumes another or touches the audit.
const BOUNDED_SERVICES: [&str; 23] = [
    "acm",
    "autoscaling",
    "backup",
    "cloudfront",
    "cloudwatch",
    "cognito-idp",
    "ec2",
    "ec2-instance-connect",
    "ec2messages",
    "ecr",
    "eks-auth",
    "elasticloadbalancing",
    "kms",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "shield",
    "ssm",
    "ssmmessages",
    "tag",
    "wafv2",
];

/// The IAM actions a bounded role may have: the load balancers' service-linked role
/// (the cluster's and the load balancer controller's policies) and the server
/// certificates the controller lists.
const BOUNDED_IAM_ACTIONS: [&str; 5] = [
    "iam:CreateServiceLinkedRole",
    "iam:GetServerCertificate",
    "iam:ListServerCertificates",
    // EKS: reads only (the autoscaler's node groups, the administrators' cluster). No
    // bounded role writes EKS: one that could would make itself an access entry
    // (review 4's M-A).
    "eks:Describe*",
    "eks:List*",
];

/// The services the stacks pass their roles to (`iam:PassedToService`): the services
/// the roles trust. The EKS cluster and its node groups (`eks`), the developers'
/// instance profile (`ec2`), the add-ons' Pod Identity associations (`pods.eks`), the
/// VPC's flow logs (`vpc-flow-logs`), the
/// trail's CloudWatch Logs delivery (`cloudtrail`), the backup selection (`backup`).
const PASSED_TO_SERVICES: [&str; 6] = [
    "eks.amazonaws.com",
    "ec2.amazonaws.com",
    "pods.eks.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "backup.amazonaws.com",
];

/// The IAM path of the roles stack `stack` (`piksel-infra`, `piksel-eks`) makes: its
/// apply manages these and no other stack's (review 4's M-A: under one prefix, an infra
/// run could re-trust the cluster administrators' role).
pub(crate) fn role_path(stack: &str) -> String {
    format!("/{stack}/")
}

/// The roles stack `stack` of `env` makes: `role/<stack>/piksel-<env>-*` (the test
/// `every_role_the_stacks_make_is_named_for_its_environment` checks each). Its apply
/// creates, re-trusts, changes, tags, deletes and passes only these.
fn managed_roles(env: &Environment, stack: &str) -> Vec<String> {
    vec![format!(
        "arn:aws:iam::{}:role{}piksel-{}-*",
        env.account_id,
        role_path(stack),
        env.name
    )]
}

/// The Terraform Cloud roles of `env`'s account (the plan and apply roles of every
/// workspace): no apply changes them, nor does any role an apply makes.
fn workspace_roles(env: &Environment) -> Vec<String> {
    vec![format!("arn:aws:iam::{}:role/tfc-*", env.account_id)]
}

/// What no apply may do, whatever else it is allowed, nor any role an apply makes (the
/// boundary carries these too: [`boundary_protections`]): stop or delete the trail;
/// delete the trail bucket, its policy or a log file, or lift or change a file's lock;
/// delete a recovery point, shorten one's life, delete a vault or its lock, or rewrite
/// its access policy; disable, schedule the deletion of or re-policy the keys that
/// protect the audit record, the backups and the security topic, or move their aliases
/// (which the key condition reads); delete the security topic. Changing an audit key's
/// policy is therefore break-glass too (a key is created with its policy, before its
/// alias exists, so creating one is not denied). What the infra apply needs to create
/// and update them stays allowed:
/// `s3:PutLifecycleConfiguration` and `s3:PutBucketObjectLockConfiguration` are one IAM
/// action for creating and changing, so they are not denied; the lock itself keeps every
/// written file (a lifecycle rule does not expire a locked version). Tearing down an
/// environment's trail, trail bucket or vault is therefore a break-glass action, outside
/// Terraform Cloud.
fn audit_protection_statements(env: &Environment) -> Vec<Statement> {
    let account = env.account_id;
    let trail = crate::operations::trail_name(env);
    let bucket = crate::operations::trail_bucket_name(env);
    let aliases = crate::operations::audit_key_aliases(env);
    let topic = format!(
        "arn:aws:sns:{REGION}:{account}:{}",
        crate::operations::security_topic_name(env)
    );
    vec![
        Statement::deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"])
            .sid("TheTrailKeepsLogging")
            .on([format!(
                "arn:aws:cloudtrail:{REGION}:{account}:trail/{trail}"
            )]),
        Statement::deny([
            "s3:DeleteBucket",
            "s3:DeleteBucketPolicy",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
        ])
        .sid("TheTrailBucketKeepsItsFiles")
        .on([
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/*"),
        ]),
        Statement::deny([
            "backup:DeleteRecoveryPoint",
            "backup:UpdateRecoveryPointLifecycle",
            "backup:DisassociateRecoveryPoint",
            "backup:DeleteBackupVault",
            "backup:DeleteBackupVaultLockConfiguration",
            "backup:PutBackupVaultAccessPolicy",
            "backup:DeleteBackupVaultAccessPolicy",
        ])
        .sid("TheBackupsStay")
        .on(["*"])
        .wildcard_because("every vault and recovery point of the account: no stack deletes one"),
        Statement::deny(["kms:DisableKey", "kms:ScheduleKeyDeletion"])
            .sid("TheAuditKeysStay")
            .on(["*"])
            .when(Condition::new(
                "ForAnyValue:StringEquals",
                "kms:ResourceAliases",
                aliases.iter().cloned(),
            ))
            .wildcard_because("the keys are named by their aliases: their ids are made at apply"),
        Statement::deny(["kms:DeleteAlias", "kms:UpdateAlias"])
            .sid("TheAuditKeysKeepTheirAliases")
            .on(aliases
                .iter()
                .map(|alias| format!("arn:aws:kms:{REGION}:{account}:{alias}"))),
        // Review 3's m8: a key policy without CloudTrail's, SNS's or Backup's grant blinds
        // the audit as surely as a deleted key. The key is created with its policy (the
        // alias comes after it), so only a later change is denied: break-glass.
        Statement::deny(["kms:PutKeyPolicy"])
            .sid("TheAuditKeysKeepTheirPolicies")
            .on(["*"])
            .when(Condition::new(
                "ForAnyValue:StringEquals",
                "kms:ResourceAliases",
                aliases.iter().cloned(),
            ))
            .wildcard_because("the keys are named by their aliases: their ids are made at apply"),
        // Nor is the alarms' topic deleted before the trail is touched. (Its
        // subscriptions are the apply's to replace: the PagerDuty endpoint is a
        // placeholder an operator replaces, which unsubscribes the old one.)
        Statement::deny(["sns:DeleteTopic"])
            .sid("TheSecurityTopicStays")
            .on([topic]),
    ]
}

/// What no role an apply makes may do, on top of [`audit_protection_statements`] (which
/// the boundary carries too): what the infra apply itself needs to create and update
/// the audit record, and no bounded role does. Change the trail's settings and event
/// selectors (which could drop the management events or repoint the bucket), the trail
/// bucket's policy, lock, lifecycle or versioning, the security topic's attributes (its
/// policy, its key) or its subscriptions. The infra apply keeps these: it creates the
/// trail with its selectors (`CreateTrail` then `PutEventSelectors`), the bucket's
/// policy and lock, the topic's policy (`SetTopicAttributes`, for which IAM has no
/// condition by attribute) and its subscriptions (replacing one unsubscribes it); its
/// run is approved (staging, prod), and the trail changes alarm on the topic the
/// apply may not delete.
fn boundary_only_protections(env: &Environment) -> Vec<Statement> {
    let account = env.account_id;
    let trail = crate::operations::trail_name(env);
    let bucket = crate::operations::trail_bucket_name(env);
    let topic = crate::operations::security_topic_name(env);
    vec![
        Statement::deny([
            "cloudtrail:UpdateTrail",
            "cloudtrail:PutEventSelectors",
            "cloudtrail:PutInsightSelectors",
        ])
        .sid("TheTrailKeepsItsSettings")
        .on([format!(
            "arn:aws:cloudtrail:{REGION}:{account}:trail/{trail}"
        )]),
        Statement::deny([
            "s3:PutBucketPolicy",
            "s3:PutBucketObjectLockConfiguration",
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketVersioning",
        ])
        .sid("TheTrailBucketKeepsItsPolicyAndLock")
        .on([format!("arn:aws:s3:::{bucket}")]),
        Statement::deny(["sns:SetTopicAttributes", "sns:Unsubscribe"])
            .sid("TheSecurityTopicKeepsItsSettings")
            .on([
                format!("arn:aws:sns:{REGION}:{account}:{topic}"),
                format!("arn:aws:sns:{REGION}:{account}:{topic}:*"),
            ]),
    ]
}

/// Every Deny the environment's boundary carries, so every role an apply makes inherits
/// it (review 3's M1): the audit record, the backups and the keys
/// ([`audit_protection_statements`], [`boundary_only_protections`]), the agent token
/// (but to its reader), and the Terraform Cloud roles.
fn boundary_protections(env: &Environment) -> Result<Vec<Statement>> {
    let mut protections = audit_protection_statements(env);
    protections.extend(boundary_only_protections(env));
    protections.extend(agent_token_denies(env)?);
    protections.push(own_roles_stay(&workspace_roles(env)).sid("TheWorkspaceRolesStay"));
    Ok(protections)
}

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
/// include it; no stack reads parameters by path), and no change to the agents' image.
/// No bounded role reads the token: the agents' execution role is the agents' stack's,
/// unbounded, under `tfc-` (agents.rs).
fn agent_token_denies(env: &Environment) -> Result<[Statement; 3]> {
    let parameter = crate::agents::token_parameter(env)?;
    Ok([
        Statement::deny([
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParameterHistory",
            // Nor overwrite or delete it (the agents would stop: review 4's m3).
            "ssm:PutParameter",
            "ssm:DeleteParameter",
            "ssm:LabelParameterVersion",
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
        // Nor replace the agents' image: tags are immutable, but a deleted tag can be
        // pushed again (review 3's M2). The agents' stack, applied by hand, owns it.
        Statement::deny([
            "ecr:PutImage",
            "ecr:BatchDeleteImage",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:DeleteRepository",
            "ecr:SetRepositoryPolicy",
            "ecr:DeleteRepositoryPolicy",
            "ecr:PutLifecyclePolicy",
            "ecr:DeleteLifecyclePolicy",
            "ecr:PutImageTagMutability",
        ])
        .sid("NotTheAgentImage")
        .on([format!(
            "arn:aws:ecr:{REGION}:{}:repository/{}",
            env.account_id,
            crate::agents::AGENT_REPOSITORY
        )]),
    ])
}

/// What a plan role may not read although ReadOnlyAccess allows it: the data, not the
/// configuration (no plan of these stacks reads an object, an image or a log event).
fn plan_data_deny() -> Statement {
    Statement::deny([
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectAttributes",
        "s3:GetObjectTorrent",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "logs:StartQuery",
        "logs:StartLiveTail",
        "secretsmanager:GetSecretValue",
    ])
    .sid("NoDataInPlans")
    .on(["*"])
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
        // Both repositories hold girder's synthesized `out/` at their root (the Flux
        // layout of gitops.rs reads `./out/...` too): the stack's Terraform is
        // `out/terraform/<stack id>/`.
        let directory = format!("{}/terraform/{stack_id}", crate::gitops::OUTPUT);
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
    // The agents' stack is applied by hand (local execution: no run of Terraform Cloud
    // may change the agents the EKS workspace runs on); the workspace keeps its state,
    // which the EKS layer reads (the agents' security group).
    let agents = TfcWorkspace::new(&project, format!("{}-{}", crate::agents::NAME, env.name))
        .description(format!(
            "girder stack {}-{}, applied by hand (local execution)",
            crate::agents::NAME,
            env.name
        ))
        .local_execution()
        .shares_state_with(&eks)
        .add(&mut root, "agents-workspace")?;
    let infra = workspace(crate::infra::NAME, INFRA_REPOSITORY)
        // The EKS layer and the agents read the VPC's ids from the infra's outputs, and
        // nothing else reads the infra's state.
        .shares_state_with(&eks)
        .shares_state_with(&agents)
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
    let ceiling: Vec<String> = BOUNDED_SERVICES
        .iter()
        .map(|service| format!("{service}:*"))
        .chain(
            BOUNDED_IAM_ACTIONS
                .iter()
                .map(|action| (*action).to_owned()),
        )
        .collect();
    let at = root.location();
    root.add(
        "boundary",
        aws::IamPolicy::new(
            boundary_policy(&at, &boundary, &ceiling, &boundary_protections(env)?)?.render(&at)?,
        )
        .name(boundary_name(env))
        .description("The ceiling of every role Piksel's Terraform Cloud applies make"),
    )?;
    // EKS checks that whoever creates a node group from a launch template may launch
    // instances from it: only from launch templates of this account and region.
    let launch_from_templates = Statement::allow(["ec2:RunInstances"])
        .sid("NodeGroupsFromTheStacksLaunchTemplates")
        .on(["*"])
        .when(Condition::new(
            "ArnLike",
            "ec2:LaunchTemplate",
            [format!(
                "arn:aws:ec2:{REGION}:{}:launch-template/*",
                env.account_id
            )],
        ))
        .wildcard_because("the instances, volumes and interfaces EKS launches are numbered at apply; the launch template condition is the guard");
    for (id, workspace, stack_name, services, actions, extra) in [
        (
            "infra-aws",
            &infra,
            crate::infra::NAME,
            INFRA_SERVICES.as_slice(),
            INFRA_ACTIONS.as_slice(),
            None,
        ),
        (
            "eks-aws",
            &eks,
            crate::eks::NAME,
            EKS_SERVICES.as_slice(),
            EKS_ACTIONS.as_slice(),
            Some(launch_from_templates.clone()),
        ),
    ] {
        let mut roles = TfcWorkspaceRoles::new(&auth, workspace, PARTITION)
            .role_name_prefix(role_prefix(workspace.name()));
        // Whoever holds the agents' token can register an agent and receive the EKS
        // workspace's runs, with their credentials: no run reads it (the bootstrap
        // writes it, the agents' ECS execution role reads it).
        for deny in agent_token_denies(env)? {
            roles = roles.plan_statement(deny.clone()).apply_statement(deny);
        }
        // A plan (a pull request's too, in the infra) reads the account's configuration,
        // never its data: no object of a bucket, no image layer, no log event (review 3's
        // m11; ReadOnlyAccess would allow all three).
        roles = roles.plan_statement(plan_data_deny());
        // An apply assumes no role: not one it made, nor one it re-trusted (review 4).
        roles = roles.apply_statement(
            Statement::deny(["sts:AssumeRole"])
                .sid("AssumesNoRole")
                .on(["*"]),
        );
        roles = roles
            .apply_statement(
                Statement::allow(services.iter().map(|service| format!("{service}:*")))
                    .sid("ManageTheStacksServices")
                    .on(["*"])
                    .when(in_the_platforms_regions())
                    .wildcard_because("a workspace creates and deletes resources of these services by names it chooses at plan; the guard is the services, the region and the workspace's approval gate"),
            )
            .apply_statement(
                Statement::allow(
                    actions
                        .iter()
                        .chain(KMS_WRITES.iter())
                        .chain(KMS_READ_AND_USE.iter())
                        .copied(),
                )
                    .sid("ManageTheStacksResourcesByAction")
                    .on(["*"])
                    .when(in_the_platforms_regions())
                    .wildcard_because("the trail, vault, rules, keys, groups and launch templates are named or numbered at apply; the guard is the actions, the region and the denies that protect the audit record"),
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
        let own_roles = workspace_roles(env);
        if let Some(statement) = extra {
            roles = roles.apply_statement(statement);
        }
        let passed_to = PASSED_TO_SERVICES.map(str::to_owned);
        for statement in role_management_with_boundary(
            &boundary,
            &own_roles,
            &attachable_policies(env),
            &managed_roles(env, stack_name),
            &passed_to,
        ) {
            roles = roles.apply_statement(statement);
        }
        // Neither apply may erase the audit record or the backups.
        for statement in audit_protection_statements(env) {
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
    crate::agents::acknowledge_bootstrap(&mut stack)?;
    Ok(stack)
}
