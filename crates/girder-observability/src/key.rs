//! The customer-managed KMS keys of the audit trail and the alert topic: one key policy
//! shape (the account administers the key; the services that write with it are named in
//! the statements after) and one way to make a key with its alias.

use girder_aws::aws;
use girder_core::vocabulary::Arn;
use girder_core::{Result, Scope};
use girder_iam::{PolicyDocument, Statement};

/// Why a key policy names `*`: in a key policy the resource is the key itself.
pub(crate) const KEY_POLICY_RESOURCE: &str = "a key policy's only resource is its own key (`*`)";

/// A key policy's first statement: the account administers the key (its IAM policies
/// decide who), AWS's default key policy without its `kms:*` on usage.
pub(crate) fn account_administers_key(account_root: &Arn) -> Statement {
    Statement::allow([
        "kms:Create*",
        "kms:Describe*",
        "kms:Enable*",
        "kms:List*",
        "kms:Put*",
        "kms:Update*",
        "kms:Revoke*",
        "kms:Disable*",
        "kms:Get*",
        "kms:Delete*",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:RotateKeyOnDemand",
    ])
    .sid("AccountAdministersKey")
    .principal("AWS", [account_root.clone()])
    .on(["*"])
    .wildcard_because(KEY_POLICY_RESOURCE)
}

/// Key `key` (rotated, deleted `deletion_window_days` after it is scheduled) with
/// `policy`, and its alias `alias` (`key-alias`), in `scope` at construct path `at`.
pub(crate) fn add_key(
    scope: &mut Scope<'_>,
    at: &str,
    description: String,
    deletion_window_days: u8,
    policy: &PolicyDocument,
    alias: String,
) -> Result<aws::KmsKeyHandle> {
    let key = scope.add(
        "key",
        aws::KmsKey::new()
            .description(description)
            .enable_key_rotation(true)
            .deletion_window_in_days(deletion_window_days)
            .policy(policy.render(&format!("{at}/key"))?),
    )?;
    scope.add("key-alias", aws::KmsAlias::new(key.key_id()).name(alias))?;
    Ok(key)
}
