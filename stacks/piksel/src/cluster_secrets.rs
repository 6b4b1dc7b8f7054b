//! The Secrets Manager secrets the cluster reads through External Secrets (review 3's
//! m7): made by `piksel-infra-<env>` without a value, so their names exist before Flux's
//! first sync and nothing else can take them; an operator puts the values
//! (`aws secretsmanager put-secret-value`), which never pass through Terraform or its
//! state. Until then the ExternalSecrets report the missing value and the
//! `observability` app waits.

use girder_aws::aws;
use girder_core::{Result, Scope, Stack};

use crate::config::Environment;

/// Make the secrets under `scope`.
pub(crate) fn add(scope: &mut Scope<'_>, env: &Environment) -> Result<()> {
    let mut secrets = scope.child("cluster-secrets")?;
    for name in names(env) {
        let id = name.rsplit('/').next().unwrap_or("secret").to_owned();
        secrets.add(
            &id,
            aws::SecretsmanagerSecret::new()
                .name(&name)
                .description(format!(
                    "Read by the Piksel {} cluster through External Secrets; its value is put by an operator",
                    env.name
                ))
                .recovery_window_in_days(if env.production { 30 } else { 7 }),
        )?;
    }
    Ok(())
}

/// Every secret the cluster reads: the monitoring's and Jupyter's.
fn names(env: &Environment) -> Vec<String> {
    crate::monitoring::secret_names(env)
        .into_iter()
        .chain(crate::jupyter::secret_names(env))
        .collect()
}

/// checkov findings on them, with their reasons.
pub(crate) fn acknowledge(stack: &mut Stack, env: &Environment) -> Result<()> {
    for name in names(env) {
        let id = name.rsplit('/').next().unwrap_or("secret").to_owned();
        let path = format!("cluster-secrets/{id}");
        stack.acknowledge_check(
            &path,
            "CKV_AWS_149",
            "the account's aws/secretsmanager key: the External Secrets role reads it with no key grant, and who may read is IAM's (that role, secret:piksel/<env>/*)",
        )?;
        let rotation = if crate::monitoring::secret_names(env).contains(&name) {
            "third-party credentials (PagerDuty, Slack, SES, Grafana's admin) are rotated at their issuer by an operator; no rotation Lambda can"
        } else {
            "GitHub's OAuth app secret is rotated at GitHub, the gateway's hub token with openssl, by an operator (External Secrets re-reads both within the hour, the hub and gateway take them at their next start); no rotation Lambda can"
        };
        stack.acknowledge_check(&path, "CKV2_AWS_57", rotation)?;
    }
    Ok(())
}
