//! checkov findings the Piksel platform accepts, each with its reason. A reason says
//! "not yet" where the finding is a gap issue 13 still has to close (they are listed in
//! the README tour), not a decision. `Stack::acknowledge_check` writes every reason next
//! to the block it covers; CI fails on any finding not listed here.

use girder_core::{Result, Stack};

use crate::config::Environment;

/// `piksel-infra-<env>`.
pub(crate) fn infra(stack: &mut Stack, env: &Environment) -> Result<()> {
    // The index users' secrets (issue 14): Terraform's password, the account's key.
    for user in crate::odc::IndexUsers::IDS {
        let path = format!("database/{user}");
        stack.acknowledge_check(
            &path,
            "CKV_AWS_149",
            "the account's aws/secretsmanager key: the External Secrets role and the init Job's role read it with no key grant, and who may read is IAM's (those two roles)",
        )?;
        stack.acknowledge_check(
            &path,
            "CKV2_AWS_57",
            "Terraform generates the password (replace its random_password to change it; the odc-init Job sets it in PostgreSQL when re-run); a rotation Lambda is not yet",
        )?;
    }
    for bucket in ["storage/data", "storage/notebooks"] {
        for (check, reason) in [
            (
                "CKV_AWS_145",
                "SSE-S3 (AES-256): the EO products and notebooks are read by many roles of the account, which a per-bucket KMS key would have to list",
            ),
            (
                "CKV_AWS_144",
                "one region, beside the open data it derives from; the notebooks are versioned, the products can be recomputed",
            ),
            (
                "CKV2_AWS_62",
                "nothing consumes bucket events yet (indexing is run by the ODC jobs of the next issue)",
            ),
            (
                "CKV_AWS_18",
                "not yet: server access logs go to the account's log bucket, which the CloudTrail part of issue 13 adds",
            ),
        ] {
            stack.acknowledge_check(bucket, check, reason)?;
        }
    }
    for group in [
        "network/vpc/flow-logs",
        "database/odc/postgresql-logs",
        "database/odc/upgrade-logs",
    ] {
        for (check, reason) in [
            (
                "CKV_AWS_158",
                "encrypted with the CloudWatch Logs service key; the logs hold no secrets",
            ),
            (
                "CKV_AWS_338",
                "operational logs kept 14 days; the audit trail is CloudTrail's (issue 13), kept longer",
            ),
        ] {
            stack.acknowledge_check(group, check, reason)?;
        }
    }
    stack.acknowledge_check(
        "network/vpc/zones",
        "CKV_AWS_394",
        "the VPC takes the first three zones of the region's sorted list; a zone AWS adds later sorts after them and moves no subnet",
    )?;
    stack.acknowledge_check(
        "registry",
        "CKV_AWS_136",
        "images are encrypted with the ECR service key (AES-256); they hold no secrets",
    )?;
    stack.acknowledge_check(
        "database/settings",
        "CKV2_AWS_34",
        "host, port, database, user name and the master secret's ARN: none is a secret (the password stays in Secrets Manager)",
    )?;
    for (check, reason) in [
        (
            "CKV_AWS_118",
            "not yet: enhanced monitoring needs its own role; Performance Insights covers query performance meanwhile",
        ),
        (
            "CKV_AWS_161",
            "the ODC services authenticate with a password read from Secrets Manager (the ODC index driver takes no IAM token)",
        ),
        (
            "CKV_AWS_354",
            "Performance Insights data is encrypted with the RDS service key",
        ),
    ] {
        stack.acknowledge_check("database/odc", check, reason)?;
    }
    // The audit trail's bucket and logs.
    for (check, reason) in [
        (
            "CKV_AWS_18",
            "the audit trail's own bucket: access to it is itself in the trail (S3 data events are not logged, management events are)",
        ),
        (
            "CKV_AWS_144",
            "one region; the trail is multi-region and the bucket keeps every file a year, undeletable by Terraform",
        ),
        (
            "CKV2_AWS_62",
            "nothing consumes the trail bucket's events; the alarms read the trail's log group",
        ),
    ] {
        stack.acknowledge_check("security/trail/bucket", check, reason)?;
    }
    stack.acknowledge_check(
        "security/trail/logs",
        "CKV_AWS_338",
        "the log group feeds the alarms for 90 days; the bucket keeps the trail a year",
    )?;
    stack.acknowledge_check(
        "security/trail/trail",
        "CKV_AWS_252",
        "no SNS message per delivered log file: the CIS alarms on the log group notify the security topic",
    )?;
    stack.acknowledge_check(
        "developer-access/developers-role",
        "CKV_AWS_61",
        "trusted by this account only (its root: the account's own IAM policies, an SSO permission set, decide who may assume it); no other account, no service",
    )?;
    stack.acknowledge_check(
        "backup/plan/key",
        "CKV2_AWS_64",
        "the key policy is KMS's default (the account's IAM decides); AWS Backup's grants are its service role's",
    )?;
    if env.production {
        for (check, reason) in [
            (
                "CKV2_AWS_42",
                "not yet: no custom domain (the seed's website has none yet), so CloudFront's default certificate",
            ),
            (
                "CKV_AWS_174",
                "CloudFront's default certificate (no custom domain yet) sets the protocol; a certificate brings TLSv1.2_2021",
            ),
            (
                "CKV2_AWS_47",
                "a static documentation site: no WAF until it serves anything dynamic",
            ),
            (
                "CKV_AWS_68",
                "a static documentation site: no WAF until it serves anything dynamic",
            ),
            (
                "CKV_AWS_86",
                "not yet: CloudFront's standard logs need an ACL-enabled bucket, which girder's buckets refuse",
            ),
            (
                "CKV_AWS_310",
                "one origin bucket in one region: the site is rebuilt from its repository",
            ),
            ("CKV_AWS_374", "a public website: no geographic restriction"),
        ] {
            stack.acknowledge_check("website/site", check, reason)?;
        }
        for (check, reason) in [
            (
                "CKV_AWS_145",
                "SSE-S3: CloudFront reads the public site's objects through its origin access control",
            ),
            (
                "CKV_AWS_18",
                "the site's bucket is read only by its distribution",
            ),
            (
                "CKV_AWS_144",
                "one region: the site is rebuilt from its repository",
            ),
            ("CKV2_AWS_62", "nothing consumes the site bucket's events"),
        ] {
            stack.acknowledge_check("website/site/bucket", check, reason)?;
        }
    }
    if !env.production {
        for (check, reason) in [
            (
                "CKV_AWS_157",
                "single-AZ outside production; prod is multi-AZ",
            ),
            (
                "CKV_AWS_293",
                "non-production databases are torn down and rebuilt from code; prod has deletion protection",
            ),
        ] {
            stack.acknowledge_check("database/odc", check, reason)?;
        }
    }
    Ok(())
}

/// `piksel-eks-<env>`.
pub(crate) fn eks(stack: &mut Stack) -> Result<()> {
    for (check, reason) in [
        (
            "CKV_AWS_158",
            "encrypted with the CloudWatch Logs service key; control-plane logs hold no secrets",
        ),
        (
            "CKV_AWS_338",
            "control-plane logs kept 90 days (terraform-aws-modules/eks's default); the audit trail is CloudTrail's (issue 13)",
        ),
    ] {
        stack.acknowledge_check("cluster/eks/logs", check, reason)?;
    }
    for (check, reason) in [
        (
            "CKV_AWS_39",
            "the public endpoint admits only the operators' addresses (public_access_cidrs); nodes and pods use the private one",
        ),
        (
            "CKV_AWS_339",
            "Kubernetes 1.36 is in EKS standard support; checkov 3.3.30's list of supported versions predates it",
        ),
    ] {
        stack.acknowledge_check("cluster/eks/cluster", check, reason)?;
    }
    stack.acknowledge_check(
        "access/admins-role",
        "CKV_AWS_61",
        "trusted by this account only (its root: the account's own IAM policies, an SSO permission set, decide who may assume it); no other account, no service",
    )?;
    stack.acknowledge_check(
        "cluster/eks/key",
        "CKV2_AWS_64",
        "the key policy is KMS's default (the account's IAM decides): the cluster role's grant is in its IAM policy",
    )
}
