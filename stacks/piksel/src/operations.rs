//! Security monitoring and backups of one environment (seed 000, issues 2.2.3, 2.2.4 and
//! 2.3.9): the account's CloudTrail trail (its bucket under S3 Object Lock) with its CIS
//! alarms to the security topic, IAM Access Analyzer with its active findings to the
//! same topic, and AWS Backup of the ODC index database and the cluster's volumes,
//! retention by environment, prod's vault under a compliance lock. And, in production,
//! the website (issue 7.3: S3 + CloudFront, deployed by the website repository's CI).

use girder_core::construct::Construct;
use girder_core::{Expr, Result, Scope, Stack};
use girder_iam::Trust;
use girder_observability::{AccessAnalyzer, AlertTopic, AuditTrail, EventRoute, Subscription};
use girder_rds::PostgresHandle;
use girder_storage::{
    BackupPlan, BackupRule, BucketName, EBS_CSI_CLUSTER_TAG, ObjectLock, StaticSite,
    StaticSiteHandle,
};

use crate::config::{Environment, REGION};

/// The trail's name (and its bucket's and key alias's): `piksel-<env>`.
pub(crate) fn trail_name(env: &Environment) -> String {
    format!("piksel-{}", env.name)
}

/// The trail bucket's name: `piksel-<env>-audit-<account>-<region>`.
pub(crate) fn trail_bucket_name(env: &Environment) -> String {
    format!("{}-audit-{}-{REGION}", trail_name(env), env.account_id)
}

/// The security topic's name.
pub(crate) fn security_topic_name(env: &Environment) -> String {
    format!("piksel-{}-security-alerts", env.name)
}

/// The backup plan's (and vault's) name.
pub(crate) fn backup_plan_name(env: &Environment) -> String {
    format!("piksel-{}-platform", env.name)
}

/// The KMS aliases of the keys that protect the audit record and the backups: the
/// trail's, the backup vault's and the security topic's (the apply roles may not disable
/// or delete them).
pub(crate) fn audit_key_aliases(env: &Environment) -> [String; 3] {
    [
        format!("alias/cloudtrail/{}", trail_name(env)),
        format!("alias/backup/{}", backup_plan_name(env)),
        format!("alias/sns/{}", security_topic_name(env)),
    ]
}

/// How the trail bucket's log files are locked: governance outside production (a
/// break-glass role holding `s3:BypassGovernanceRetention` can still clean up a test
/// account), compliance in production (nobody, the root user included, deletes a log
/// file in its first year). Shorter in dev and staging, whose accounts are torn down.
fn trail_lock(env: &Environment) -> ObjectLock {
    match env.name {
        "prod" => ObjectLock::compliance(365),
        "staging" => ObjectLock::governance(90),
        _ => ObjectLock::governance(30),
    }
}

/// What `add` made that the stack publishes.
pub(crate) struct Operations {
    /// The website, in production.
    pub(crate) site: Option<StaticSiteHandle>,
}

/// Add them under `root`; `github` is the account's GitHub OIDC provider's ARN.
pub(crate) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    database: &PostgresHandle,
    github: Expr<String>,
) -> Result<Operations> {
    let mut scope = root.child("security")?;
    // Where the security alarms and Access Analyzer's findings go (seed 001's channels):
    // PagerDuty pages the on-call for every one (they are all critical: root use, IAM
    // and trail changes, something shared outside the account), and the platform's
    // mailbox keeps the record. Slack's warnings are the cluster's (Flux, Alertmanager).
    let topic = AlertTopic::new(
        security_topic_name(env),
        [
            Subscription::https(env.security_pagerduty_url),
            Subscription::email(env.security_report_email),
        ],
    )
    .route(EventRoute::access_analyzer_findings())
    .add(&mut scope, "alerts")?;
    let _trail = AuditTrail::new(trail_name(env))
        .object_lock(trail_lock(env))
        .alert_to(topic.arn())
        .add(&mut scope, "trail")?;
    let _analyzer =
        AccessAnalyzer::account(format!("{name}-account")).add(&mut scope, "access-analyzer")?;
    drop(scope);

    // Backups: the database nightly and the cluster's EBS volumes (the CSI driver tags
    // every volume it makes), kept a week in dev, two in staging, five and a year of
    // monthlies in prod.
    let mut plan = BackupPlan::new(backup_plan_name(env));
    plan = match env.name {
        // Production's vault is locked in compliance mode: no recovery point is deleted
        // before 7 days or kept past 400 (the monthlies' year, with room), by anyone.
        // The lock can be removed in its first 7 days (a mistaken first apply); after
        // that it is permanent.
        "prod" => plan
            .rule(BackupRule::daily(35))
            .rule(BackupRule::monthly(365))
            .compliance_lock(7, 400, 7),
        "staging" => plan.rule(BackupRule::daily(14)),
        _ => plan.rule(BackupRule::daily(7)),
    };
    let _backups = plan
        .protect(database.arn().clone())
        .protect_tagged(EBS_CSI_CLUSTER_TAG, "true")
        .add(&mut root.child("backup")?, "plan")?;

    let mut site = None;
    if env.production {
        // The static site: one, in production, deployed by piksel-website's main.
        site = Some(
            StaticSite::new(BucketName::with_account_and_region(
                "piksel-website",
                env.account_id,
                REGION,
            ))
            .deployer(
                format!("{name}-website-deploy"),
                Trust::github_actions_branch(github, "piksel/piksel-website", "main"),
            )
            .add(&mut root.child("website")?, "site")?,
        );
    }
    Ok(Operations { site })
}

/// The outputs the website's CI reads (seed 001's workflow: the bucket it syncs, the
/// distribution it invalidates, the role it assumes).
pub(crate) fn outputs(stack: &mut Stack, operations: &Operations) -> Result<()> {
    use girder_core::terraform::Output;
    let Some(site) = &operations.site else {
        return Ok(());
    };
    stack.add_output(
        "website_bucket",
        Output::new(site.bucket().name())
            .description("The bucket the website's CI syncs (aws s3 sync ... s3://<this>/)"),
    )?;
    stack.add_output(
        "website_distribution_id",
        Output::new(&site.distribution_id())
            .description("The distribution the website's CI invalidates (CF_DIST_ID)"),
    )?;
    if let Some(deployer) = site.deployer() {
        stack.add_output(
            "website_deploy_role_arn",
            Output::new(&deployer.arn())
                .description("The role the website's CI assumes with GitHub's OIDC token"),
        )?;
    }
    Ok(())
}
