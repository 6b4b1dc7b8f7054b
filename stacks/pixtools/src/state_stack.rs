//! `pixtools-state-<env>`: where the main stack keeps its state (seed: Sprint 1,
//! infra/bootstrap/backend_setup.tf). Applied once with local state.

use girder_aws::aws;
use girder_aws::aws::dynamodb_table as table;
use girder_core::prelude::*;
use girder_core::terraform::IntoResourceSpec;
use girder_core::{Result, Stack};
use girder_storage::{Bucket, BucketName};

use crate::config::{Environment, REGION, aws_stack};

/// The state bucket of an environment's account.
pub(crate) fn state_bucket(env: &Environment) -> String {
    format!("pixtools-tfstate-{}-{REGION}", env.account_id)
}

/// The lock table.
pub(crate) const LOCK_TABLE: &str = "pixtools-tf-locks";

pub(crate) fn stack(env: &Environment) -> Result<Stack> {
    let mut stack = aws_stack("pixtools-state", env, Backend::local())?;
    let mut scope = stack.scope("state")?;
    Bucket::new(BucketName::with_account_and_region(
        "pixtools-tfstate",
        env.account_id,
        REGION,
    ))
    .prevent_destroy()
    .add(&mut scope, "bucket")?;
    scope.add(
        "locks",
        aws::DynamodbTable::new(LOCK_TABLE)
            .billing_mode("PAY_PER_REQUEST")
            .hash_key("LockID")
            .attribute(table::Attribute::new("LockID", "S"))
            .point_in_time_recovery(table::PointInTimeRecovery::new(true))
            .server_side_encryption(table::ServerSideEncryption::new(true))
            .deletion_protection_enabled(true)
            .into_spec()
            .prevent_destroy(),
    )?;
    crate::findings::state(&mut stack)?;
    Ok(stack)
}
