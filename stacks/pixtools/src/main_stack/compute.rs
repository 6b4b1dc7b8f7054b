//! infra/asg.tf: the K3s node, spot only, and what it may reach.

use girder_aws::{aws, random};
use girder_core::construct::Construct;
use girder_core::terraform::{IgnoreChanges, IntoResourceSpec, Lifecycle};
use girder_core::{Result, Scope};
use girder_iam::Statement;
use girder_k3s::{K3sNode, K3sNodeHandle};
use girder_network::{Connectable, VpcHandle};
use girder_storage::BucketName;

use super::database::Database;
use super::edge::Edge;
use super::ops::AppLogs;
use super::storage::Storage;
use super::{INSTANCE_TYPES, K3S_VERSION, LOG_RETENTION_DAYS};
use crate::cluster::{
    APP_SERVICE_ACCOUNTS, ESO_NAMESPACE, ESO_SERVICE_ACCOUNT, NAMESPACE, PlatformRoles,
};
use crate::config::{Environment, REGION};
use crate::contract::{RuntimeContract, RuntimeKey};

/// The node's handles.
pub(super) struct Compute {
    pub node: K3sNodeHandle,
    /// The ARN of the app's role (the api's and the workers' pods assume it with their
    /// service accounts' tokens), known at synth.
    pub app_role_arn: String,
    /// The platform components' own roles (no pod uses the node role).
    pub platform_roles: PlatformRoles,
}

/// The ARN of IAM role `name` of `env`'s account, known at synth (IAM is global: the
/// ARN names no region): the pods' environment names it.
fn role_arn(scope: &Scope<'_>, env: &Environment, name: &str) -> Result<String> {
    let location = env.location()?;
    girder_core::vocabulary::Arn::new(
        location.partition().clone(),
        "iam",
        "",
        location.account().clone(),
        format!("role/{name}"),
    )
    .known()
    .map(str::to_owned)
    .ok_or_else(|| {
        girder_core::Error::invalid(
            scope.location(),
            "a workload role's ARN must be known at synth (the pods' env names it)",
        )
    })
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
    // RabbitMQ's volume is EBS, which attaches only in its zone: every replacement node
    // comes up there (the seed's ASG is one node; RDS is single-AZ too).
    .single_zone()
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
    let app_role_arn = role_arn(&compute, env, &app_role_name)?;

    // The EBS CSI driver's controller: RabbitMQ's volume (node loss, seed Sprint 3).
    let ebs_csi_name = format!("{name}-ebs-csi");
    let _ebs_csi_role =
        node.ebs_csi_controller_role(&mut compute, "ebs-csi-role", &ebs_csi_name)?;

    // External Secrets: exactly the runtime parameters the cluster reads, and the app
    // user's password; not the node's own (the token, the datastore's), not the master's.
    let location = env.location()?;
    let mut read_settings =
        Statement::allow(["ssm:GetParameter", "ssm:GetParameters"]).sid("ReadRuntimeSettings");
    for key in RuntimeKey::ALL {
        read_settings =
            read_settings.on([location.arn("ssm", format!("parameter{}", contract.path(key)))]);
    }
    let external_secrets_name = format!("{name}-external-secrets");
    let _external_secrets_role = node.workload_role(
        &mut compute,
        "external-secrets-role",
        &external_secrets_name,
        ESO_NAMESPACE,
        [ESO_SERVICE_ACCOUNT],
        [
            read_settings,
            Statement::allow(["kms:Decrypt"])
                .sid("DecryptSecureStrings")
                .on(["*"])
                .when(girder_iam::Condition::string_equals(
                    "kms:ViaService",
                    format!("ssm.{REGION}.amazonaws.com"),
                ))
                .wildcard_because("SecureString parameters use the account's aws/ssm key, whose id is not known here; kms:ViaService limits it to SSM"),
            Statement::allow(["secretsmanager:GetSecretValue"])
                .sid("ReadAppDatabasePassword")
                .on([girder_core::vocabulary::Arn::attribute(database.app_user.secret_arn())]),
        ],
    )?;
    let platform_roles = PlatformRoles {
        ebs_csi_controller: role_arn(&compute, env, &ebs_csi_name)?,
        external_secrets: role_arn(&compute, env, &external_secrets_name)?,
        alertmanager: role_arn(&compute, env, &alertmanager_role_name(name))?,
    };
    Ok(Compute {
        node,
        app_role_arn,
        platform_roles,
    })
}

/// Alertmanager's role's name.
fn alertmanager_role_name(name: &str) -> String {
    format!("{name}-alertmanager")
}

/// Alertmanager's own role (its ServiceAccount's projected token): `sns:Publish` on the
/// alerts topic, and nothing else; Alertmanager stays on the pod network.
pub(super) fn alertmanager_role(
    root: &mut Scope<'_>,
    name: &str,
    compute: &Compute,
    topic: &aws::SnsTopicHandle,
) -> Result<()> {
    let mut scope = root.child("compute")?;
    let _role = compute.node.workload_role(
        &mut scope,
        "alertmanager-role",
        alertmanager_role_name(name),
        girder_observability::DEFAULT_NAMESPACE,
        [girder_observability::ALERTMANAGER_SERVICE_ACCOUNT],
        [Statement::allow(["sns:Publish"])
            .sid("PublishAlerts")
            .on([topic.arn()])],
    )?;
    Ok(())
}
