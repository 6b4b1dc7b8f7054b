//! infra/rds.tf: PostgreSQL 16, db.t4g.micro, 20 GiB gp3, single-AZ.

use girder_core::{Result, Scope};
use girder_network::VpcHandle;
use girder_rds::{Postgres, PostgresHandle};

use crate::config::{Environment, REGION};
use crate::contract::RuntimeContract;

/// The database's handles, and what the cluster half knows of it at synth.
pub(super) struct Database {
    pub postgres: PostgresHandle,
    /// The instance identifier (alarm dimensions).
    pub identifier: String,
    /// The instance ARN, the tag RDS puts on the master secret External Secrets finds.
    /// Written out here because [`PostgresHandle`] gives the ARN only as a Terraform
    /// attribute, and the cluster half reads nothing from Terraform.
    pub instance_arn: String,
}

/// Instance `identifier` in `vpc`, its settings published for the node under the
/// contract's database prefix.
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    identifier: &str,
    vpc: &VpcHandle,
    contract: &RuntimeContract,
) -> Result<Database> {
    let mut data = root.child("data")?;
    let mut postgres = Postgres::new(identifier, 16, "db.t4g.micro")
        .storage(20, 100)
        .database("pixtools", "pixtools_admin")
        .backup_retention(if env.production { 14 } else { 7 });
    if !env.production {
        postgres = postgres.without_deletion_protection();
    }
    let postgres = postgres.add(&mut data, "database", vpc)?;
    postgres.publish_to_ssm(&mut data, "settings", &contract.database_prefix())?;
    Ok(Database {
        postgres,
        identifier: identifier.to_owned(),
        instance_arn: format!("arn:aws:rds:{REGION}:{}:db:{identifier}", env.account_id),
    })
}
