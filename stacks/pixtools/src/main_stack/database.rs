//! infra/rds.tf: PostgreSQL 16, db.t4g.micro, 20 GiB gp3, single-AZ.

use girder_core::construct::Construct;
use girder_core::vocabulary::AwsLocation;
use girder_core::{Result, Scope};
use girder_network::VpcHandle;
use girder_rds::{Postgres, PostgresHandle, PostgresParameters, PostgresUserHandle};

use crate::config::Environment;
use crate::contract::RuntimeContract;

/// The database's handles. Its ARN is known at synth (the instance is told its
/// location): the tag RDS puts on the master secret, which External Secrets finds.
pub(super) struct Database {
    pub postgres: PostgresHandle,
    /// Where the node reads the connection settings.
    pub published: PostgresParameters,
    /// K3s's user, owner of its datastore `k3s_state` (the seed's name for it).
    pub k3s_user: PostgresUserHandle,
    /// The app's user, owner of database `pixtools`.
    pub app_user: PostgresUserHandle,
}

/// The app's database and user.
pub(crate) const APP_DATABASE: &str = "pixtools";
/// K3s's datastore and user.
const K3S_DATABASE: &str = "k3s_state";

/// Instance `identifier` at `location` in `vpc`, its settings published for the node
/// under the contract's database prefix.
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    identifier: &str,
    location: &AwsLocation,
    vpc: &VpcHandle,
    contract: &RuntimeContract,
) -> Result<Database> {
    let mut data = root.child("data")?;
    let mut postgres = Postgres::new(vpc, identifier, 16, "db.t4g.micro")
        .located_in(location)
        .storage(20, 100)
        .database(APP_DATABASE, "pixtools_admin")
        .backup_retention(if env.production { 14 } else { 7 });
    if !env.production {
        postgres = postgres.without_deletion_protection();
    }
    let postgres = postgres.add(&mut data, "database")?;
    let published = postgres.publish_to_ssm(&mut data, "settings", contract.database_prefix())?;
    // Users of their own: RDS rotates the master password every 7 days, which K3s's
    // datastore endpoint and the app's URL must not depend on. The node creates them at
    // boot (girder-k3s).
    let k3s_user = postgres.user(&mut data, "k3s-user", K3S_DATABASE, K3S_DATABASE)?;
    let app_user = postgres.user(&mut data, "app-user", APP_DATABASE, APP_DATABASE)?;
    Ok(Database {
        postgres,
        published,
        k3s_user,
        app_user,
    })
}
