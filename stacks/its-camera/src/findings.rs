//! checkov findings `its-camera-<env>` accepts, each with its reason (written next to the
//! resource in the output).

use girder_core::{Result, Stack};

/// The stack's acknowledgements.
pub(crate) fn acknowledge(stack: &mut Stack) -> Result<()> {
    for (group, kept) in [
        ("network/vpc/flow-logs", "flow logs kept 14 days"),
        ("cluster/eks/logs", "control-plane logs kept 90 days"),
    ] {
        stack.acknowledge_check(
            group,
            "CKV_AWS_158",
            "encrypted with the CloudWatch Logs service key; the logs hold no secrets",
        )?;
        stack.acknowledge_check(
            group,
            "CKV_AWS_338",
            &format!(
                "{kept} (terraform-aws-modules' defaults); the seed asks no audit retention, which CloudTrail would keep"
            ),
        )?;
    }
    stack.acknowledge_check(
        "network/vpc/zones",
        "CKV_AWS_394",
        "the VPC takes the first three zones of the region's sorted list; a zone AWS adds later sorts after them and moves no subnet",
    )?;
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
    for role in [
        "access/admins-role",
        "people/developers-role",
        "people/operators-role",
    ] {
        stack.acknowledge_check(
            role,
            "CKV_AWS_61",
            "trusted by this account only (its root: the account's own IAM policies, an SSO permission set, decide who may assume it); no other account, no service",
        )?;
    }
    stack.acknowledge_check(
        "cluster/eks/key",
        "CKV2_AWS_64",
        "the key policy is KMS's default (the account's IAM decides): the cluster role's grant is in its IAM policy",
    )
}

/// The checkov findings of a setup Job (the data services' init Jobs, MinIO's mc Job, the
/// Redis streams' groups): a client CLI run once as its image's own user, from an image
/// pinned by release tag. `user` names that user, for the reason.
pub(crate) fn acknowledge_setup_job(
    stack: &mut Stack,
    namespace: &str,
    job: &str,
    user: &str,
) -> Result<()> {
    for (check, reason) in [
        (
            "CKV_K8S_35",
            "the client (psql, mc, redis-cli) reads its password from the environment, its documented way; the Job runs once and exits".to_owned(),
        ),
        (
            "CKV_K8S_40",
            format!("runs as the image's own non-root user ({user}), which owns what the client writes"),
        ),
        (
            "CKV_K8S_43",
            "not yet: pinned by release tag until the team verifies each image's digest (offline here)".to_owned(),
        ),
        (
            "CKV_K8S_15",
            "not yet: with the digest (CKV_K8S_43) the pull policy is moot; until then the release tag is pulled once per node".to_owned(),
        ),
    ] {
        stack.acknowledge_kube_check("Job", Some(namespace), job, check, &reason)?;
    }
    Ok(())
}
