//! Security monitoring and backups of one environment (seed 000, issues 2.2.3, 2.2.4 and
//! 2.3.9): the account's CloudTrail trail with its CIS alarms to the security topic, IAM
//! Access Analyzer, and AWS Backup of the ODC index database and the cluster's volumes,
//! retention by environment. And, in production, the website (issue 7.3: S3 +
//! CloudFront, deployed by the website repository's CI).

use girder_aws::aws;
use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_iam::Trust;
use girder_observability::{AccessAnalyzer, AuditTrail};
use girder_rds::PostgresHandle;
use girder_storage::{BackupPlan, BackupRule, BucketName, EBS_CSI_CLUSTER_TAG, StaticSite};

use crate::config::{Environment, REGION};

/// Add them under `root`; `github` is the account's GitHub OIDC provider's ARN.
pub(crate) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    database: &PostgresHandle,
    github: girder_core::Expr<String>,
) -> Result<()> {
    let mut scope = root.child("security")?;
    // Where the security alarms go (its subscriptions are the on-call's: PagerDuty's
    // endpoint, added outside the stack, as the seed's "critical alerts: PagerDuty").
    let topic = scope.add(
        "alerts",
        aws::SnsTopic::new()
            .name(format!("{name}-security-alerts"))
            .kms_master_key_id("alias/aws/sns"),
    )?;
    let _trail = AuditTrail::new(name)
        .alert_to(topic.arn())
        .add(&mut scope, "trail")?;
    let _analyzer =
        AccessAnalyzer::account(format!("{name}-account")).add(&mut scope, "access-analyzer")?;
    drop(scope);

    // Backups: the database nightly and the cluster's EBS volumes (the CSI driver tags
    // every volume it makes), kept a week in dev, two in staging, five and a year of
    // monthlies in prod.
    let mut plan = BackupPlan::new(format!("{name}-platform"));
    plan = match env.name {
        "prod" => plan
            .rule(BackupRule::daily(35))
            .rule(BackupRule::monthly(365)),
        "staging" => plan.rule(BackupRule::daily(14)),
        _ => plan.rule(BackupRule::daily(7)),
    };
    let _backups = plan
        .protect(database.arn().clone())
        .protect_tagged(EBS_CSI_CLUSTER_TAG, "true")
        .add(&mut root.child("backup")?, "plan")?;

    if env.production {
        // The static site: one, in production, deployed by piksel-website's main.
        let _site = StaticSite::new(BucketName::with_account_and_region(
            "piksel-website",
            env.account_id,
            REGION,
        ))
        .deployer(
            format!("{name}-website-deploy"),
            Trust::github_actions_branch(github, "piksel/piksel-website", "main"),
        )
        .add(&mut root.child("website")?, "site")?;
    }
    Ok(())
}
