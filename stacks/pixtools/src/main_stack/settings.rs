//! The Terraform side of the runtime contract (seed: Sprint 1, item 3): one SSM
//! parameter per [`RuntimeKey`], read by the cluster half through External Secrets.

use girder_aws::{aws, random};
use girder_core::expr::fns;
use girder_core::{Expr, Result, Scope, Value};

use super::database::Database;
use super::storage::Storage;
use crate::contract::{AppContract, RuntimeContract, RuntimeKey};

/// Every parameter of `contract`, under `config`.
pub(super) fn add(
    root: &mut Scope<'_>,
    contract: &RuntimeContract,
    database: &Database,
    storage: &Storage,
) -> Result<()> {
    let mut config = root.child("config")?;
    // RabbitMQ's application user: generated here, read by External Secrets into the
    // broker's definitions and the workers' broker URL.
    let broker_password = config.add(
        "rabbitmq-password",
        random::Password::new(40).special(false),
    )?;
    // Redis requires a password (issue 12): generated here, read by External Secrets
    // into Redis's configuration, its exporter and the app's REDIS_URL.
    let cache_password = config.add("redis-password", random::Password::new(40).special(false))?;
    // The generated password's parameter first, then the others in the contract's order.
    let keys = std::iter::once(RuntimeKey::RabbitmqPassword).chain(
        RuntimeKey::ALL
            .into_iter()
            .filter(|key| *key != RuntimeKey::RabbitmqPassword),
    );
    for key in keys {
        // Exhaustive: a key added to the contract does not compile until it has a value.
        let value: Value<String> = match key {
            RuntimeKey::DatabaseUrl => fns::format(
                // No TLS parameter: the app's two drivers take none in common; the
                // pods' PGSSLMODE asks for TLS (`AppContract::SSL_MODE`).
                format!(
                    "{}://{}@%s:%s/{}",
                    AppContract::DATABASE_SCHEME,
                    database.app_user.name(),
                    database.app_user.database()
                ),
                [
                    database.postgres.endpoint().any(),
                    database.postgres.port().any(),
                ],
            )
            .into(),
            RuntimeKey::RedisUrl => {
                Expr::lit("redis://redis.pixtools.svc.cluster.local:6379/0").into()
            }
            RuntimeKey::RabbitmqUrl => {
                Expr::lit("amqp://pixtools@rabbitmq.pixtools.svc.cluster.local:5672/").into()
            }
            RuntimeKey::RabbitmqPassword => broker_password.result().into(),
            RuntimeKey::RedisPassword => cache_password.result().into(),
            RuntimeKey::AwsS3Bucket => storage.images.name().clone(),
            RuntimeKey::WebhookCbFailThreshold => Expr::lit("5").into(),
            RuntimeKey::WebhookCbResetTimeout => Expr::lit("60").into(),
        };
        let id = match key {
            // `rabbitmq-password` is the generated password itself.
            RuntimeKey::RabbitmqPassword => "rabbitmq-password-parameter".to_owned(),
            RuntimeKey::RedisPassword => "redis-password-parameter".to_owned(),
            _ => key.name().replace('_', "-"),
        };
        config.add(
            &id,
            aws::SsmParameter::new(contract.path(key), "SecureString")
                .value(value)
                .description(key.description()),
        )?;
    }
    Ok(())
}
