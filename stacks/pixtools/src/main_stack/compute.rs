//! infra/asg.tf: the K3s node, spot only, and what it may reach.

use girder_aws::{aws, random};
use girder_core::construct::Construct;
use girder_core::terraform::{IgnoreChanges, IntoResourceSpec, Lifecycle};
use girder_core::{Result, Scope};
use girder_iam::{PolicyDocument, Statement};
use girder_k3s::{K3sNode, K3sNodeHandle};
use girder_network::{Connectable, VpcHandle};
use girder_storage::BucketName;

use super::database::Database;
use super::edge::Edge;
use super::ops::AppLogs;
use super::storage::Storage;
use super::{INSTANCE_TYPES, K3S_VERSION, LOG_RETENTION_DAYS};
use crate::cluster::{APP_SERVICE_ACCOUNTS, NAMESPACE};
use crate::config::{Environment, REGION};
use crate::contract::RuntimeContract;

/// The node's handles.
pub(super) struct Compute {
    pub node: K3sNodeHandle,
    /// The ARN of the app's role (the api's and the workers' pods assume it with their
    /// service accounts' tokens), known at synth.
    pub app_role_arn: String,
}

/// The node `name` in `vpc`: its cluster token, the ALB's targets, the database's
/// clients, pulling the two images, creating the database users, shipping the app's
/// logs to the app's group; and the app's own role, which reads and writes the images
/// bucket (the node role does not: pods cannot reach IMDS, and need not).
// One handle per part the node joins (the composition's style: parts take handles).
#[allow(clippy::too_many_arguments)]
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    contract: &RuntimeContract,
    vpc: &VpcHandle,
    storage: &Storage,
    database: &Database,
    edge: &Edge,
    app_logs: &AppLogs,
) -> Result<Compute> {
    let mut compute = root.child("compute")?;
    // The token encrypts K3s's bootstrap data in the datastore: a new one (a changed
    // length, a replaced resource) and the next node cannot start. It never changes by a
    // plan; rotating it is `k3s token rotate` on the node, then this value.
    let token = compute.add(
        "k3s-token",
        random::Password::new(48)
            .special(false)
            .into_spec()
            .lifecycle(Lifecycle {
                ignore_changes: IgnoreChanges::All,
                ..Lifecycle::default()
            }),
    )?;
    let token_parameter = compute.add(
        "k3s-token-parameter",
        aws::SsmParameter::new(contract.node_token().as_str(), "SecureString")
            .value(token.result())
            .description("K3s cluster token, read by the node at boot"),
    )?;
    let node = K3sNode::new(
        vpc,
        &database.published,
        name,
        INSTANCE_TYPES,
        contract.prefix(),
        K3S_VERSION,
    )
    .manifests_from(&storage.manifests)
    .pulls_from(&storage.api_repository)
    .pulls_from(&storage.worker_repository)
    // The node reads the token at boot, like the datastore's settings.
    .after(&token_parameter)
    .target_of(&edge.alb)
    .bundled_traefik()
    .log_retention(LOG_RETENTION_DAYS)
    // K3s connects as its own user; the app's user is made at boot too (External
    // Secrets reads its password with the node role).
    .datastore_user(&database.k3s_user)
    .database_user(&database.app_user)
    // The app's containers log to the app's group.
    .namespace_logs(NAMESPACE, &app_logs.group, &app_logs.name)
    // The app's pods get AWS credentials of their own (IRSA's mechanism, no webhook):
    // the node's hop limit keeps them from IMDS and the node role.
    .pod_identity(
        BucketName::with_account_and_region("pixtools-oidc", env.account_id, REGION),
        REGION,
    )
    .add(&mut compute, "k3s")?;
    edge.alb.allow_to_targets(&mut compute, &node)?;
    database.postgres.connections().allow_default_port_from(
        &mut compute,
        &node,
        "K3s node (API, workers, K3s datastore)",
    )?;
    // The images bucket (seed: "EC2 IAM role grants app access to S3"): the app's role,
    // assumed by the api's and the workers' service accounts and no one else.
    let app_role_name = format!("{name}-app");
    let images = storage
        .images
        .read_statements("")
        .into_iter()
        .chain(storage.images.write_statements(""))
        .zip(["ListImages", "ReadImages", "WriteImages"])
        .map(|(statement, sid)| statement.sid(sid));
    let _app_role = node.workload_role(
        &mut compute,
        "app-role",
        &app_role_name,
        NAMESPACE,
        APP_SERVICE_ACCOUNTS,
        images,
    )?;
    // IAM is global: its ARNs name no region.
    let location = env.location()?;
    let app_role_arn = girder_core::vocabulary::Arn::new(
        location.partition().clone(),
        "iam",
        "",
        location.account().clone(),
        format!("role/{app_role_name}"),
    )
    .known()
    .map(str::to_owned)
    .ok_or_else(|| {
        girder_core::Error::invalid(
            compute.location(),
            "the app role's ARN must be known at synth (the pods' env names it)",
        )
    })?;
    Ok(Compute { node, app_role_arn })
}

/// Let the node role publish to the alerts topic (Alertmanager in the cluster signs its
/// SNS calls with it): `sns:Publish` on that one topic.
pub(super) fn allow_publishing_alerts(
    root: &mut Scope<'_>,
    compute: &Compute,
    topic: &aws::SnsTopicHandle,
) -> Result<()> {
    let mut scope = root.child("compute")?;
    scope.add(
        "node-publish-alerts",
        aws::IamRolePolicy::new(
            PolicyDocument::new()
                .statement(
                    Statement::allow(["sns:Publish"])
                        .sid("PublishAlerts")
                        .on([topic.arn()]),
                )
                .render(&scope.location())?,
            compute.node.role().name(),
        )
        .name("publish-alerts"),
    )?;
    Ok(())
}
