//! `pixtools-state-<env>`: where the main stack keeps its state (seed: Sprint 1,
//! infra/bootstrap/backend_setup.tf). Applied once with local state.

use girder_aws::aws;
use girder_aws::aws::dynamodb_table as table;
use girder_core::prelude::*;
use girder_core::terraform::IntoResourceSpec;
use girder_core::{Error, Result, Stack, Value};
use girder_storage::{Bucket, BucketName};

use crate::config::{Environment, REGION, aws_stack};

/// The state bucket's name in an environment's account: the one definition, for the
/// bucket and for the main stack's backend.
fn state_bucket_name(env: &Environment) -> BucketName {
    BucketName::with_account_and_region("pixtools-tfstate", env.account_id, REGION)
}

/// The state bucket of an environment's account, as the main stack's backend names it
/// (a literal: backends cannot interpolate).
pub(crate) fn state_bucket(env: &Environment) -> Result<String> {
    let at = format!("pixtools-state-{}:state/bucket", env.name);
    match state_bucket_name(env).resolve() {
        Ok(Value::Literal(name)) => Ok(name),
        Ok(Value::Expr(_)) => Err(Error::invalid(at, "the state bucket needs a literal name")),
        Err(e) => Err(Error::construct(at, e)),
    }
}

/// The lock table.
pub(crate) const LOCK_TABLE: &str = "pixtools-tf-locks";

pub(crate) fn stack(env: &Environment) -> Result<Stack> {
    let mut stack = aws_stack("pixtools-state", env, Backend::local())?;
    let mut scope = stack.scope("state")?;
    let _state = Bucket::new(state_bucket_name(env))
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
