//! Terraform Cloud agents in each environment's VPC: the EKS workspace's runs execute
//! there (review 2's N3, review 1's M5). Terraform Cloud's own runners have no stable
//! addresses, so they cannot be let into the cluster's restricted public endpoint; from
//! inside the VPC the runs reach the private endpoint. The helm provider's credentials
//! are an `aws eks get-token` per phase (the exec plugin), as the phase's own role, fresh
//! at plan and at apply however long an approval waits, so the agent image carries the
//! AWS CLI: `stacks/piksel/agent/Dockerfile`, built on `hashicorp/tfc-agent`
//! [`AGENT_VERSION`] and pushed to the environment's `piksel-tfc-agent` registry.
//!
//! - The bootstrap makes the pool (allowed to the environment's project only) and its
//!   token, written to the SSM SecureString parameter [`token_parameter`].
//! - Stack `piksel-agents-<env>`, applied by hand after the infra, runs the agents on ECS
//!   Fargate in the infra's private subnets (outbound HTTPS only), their token injected
//!   by ECS from that parameter. No Terraform Cloud run may change them: the ECS
//!   service, the image's registry and the `tfc-` execution role are out of every apply
//!   role's reach (bootstrap.rs).
//! - The EKS stack lets the agents' security group into the cluster's API (443).

use girder_core::construct::Construct;
use girder_core::vocabulary::SsmPath;
use girder_core::{Error, Result, Scope, Stack};
use girder_network::VpcHandle;
use girder_storage::{Repository, RepositoryHandle};
use girder_tfc::{
    TfcAgentPool, TfcAgentPoolHandle, TfcAgentService, TfcAgentServiceHandle, TfcProjectHandle,
};

use crate::config::{Environment, REGION};

/// The `hashicorp/tfc-agent` release the agent image is built on (releases.hashicorp.com,
/// the newest when this was written); the image's tag in `piksel-tfc-agent`.
pub const AGENT_VERSION: &str = "1.22.5";

/// The registry of the agent image, in each environment's account.
pub const AGENT_REPOSITORY: &str = "piksel-tfc-agent";

/// Where the bootstrap writes the agents' token and the infra's agents read it.
pub(crate) fn token_parameter(env: &Environment) -> Result<SsmPath> {
    let path = format!("/piksel/{}/tfc-agent-token", env.name);
    SsmPath::new(&path).map_err(|e| Error::construct(format!("piksel-{}:agents", env.name), e))
}

/// The bootstrap's part: the environment's pool and its token in SSM.
pub(crate) fn pool(
    scope: &mut Scope<'_>,
    env: &Environment,
    project: &TfcProjectHandle,
) -> Result<TfcAgentPoolHandle> {
    let mut agents = scope.child("agents")?;
    let pool =
        TfcAgentPool::new(project, format!("piksel-{}", env.name)).add(&mut agents, "pool")?;
    let parameter = token_parameter(env)?;
    agents.add(
        "token",
        girder_aws::aws::SsmParameter::new(parameter.as_str(), "SecureString")
            .value(pool.token())
            .description(format!(
                "Terraform Cloud agent token of pool piksel-{} (ECS injects it into the agents)",
                env.name
            )),
    )?;
    Ok(pool)
}

/// The stack's name (`piksel-agents-<env>`).
pub(crate) const NAME: &str = "piksel-agents";

/// What the EKS stack reads of the agents: their security group, which the cluster's
/// API admits.
#[derive(Clone, Debug)]
pub struct Agents {
    /// The agents' service (its security group through `Connectable`).
    pub service: TfcAgentServiceHandle,
    /// The agent image's registry.
    pub registry: RepositoryHandle,
}

/// The agents' names (`tfc-agent-piksel-<env>`: the ECS cluster, service, task family,
/// log group, and the execution role `tfc-agent-piksel-<env>-execution`): under `tfc-`,
/// the roles no Terraform Cloud run may change or pass (bootstrap.rs).
pub(crate) fn service_name(env: &Environment) -> String {
    format!("tfc-agent-piksel-{}", env.name)
}

/// Stack `piksel-agents-<env>`: the agent image's registry and the agents in the
/// infra's VPC. Applied by hand, like the bootstrap, with an administrator's
/// credentials (its workspace runs locally): whoever controls the agents' task
/// definition or image receives the EKS workspace's runs and their credentials, so no
/// Terraform Cloud run may change them (review 3's M2: the infra workspace did).
pub(crate) fn stack(env: &Environment, vpc: &VpcHandle) -> Result<(Stack, Agents)> {
    let mut stack = crate::config::aws_stack(NAME, env)?;
    let mut root = stack.root();
    let mut agents = root.child("agents")?;
    // Tagged by the agent's release, which never expires (as the services' releases).
    let registry = Repository::new(AGENT_REPOSITORY)
        .expire_only_builds_tagged([crate::infra::BUILD_TAG_PREFIX])
        .add(&mut agents, "registry")?;
    let image = format!(
        "{}.dkr.ecr.{REGION}.amazonaws.com/{AGENT_REPOSITORY}:{AGENT_VERSION}",
        env.account_id
    );
    let service = TfcAgentService::new(vpc, service_name(env), image, token_parameter(env)?)
        // Production: an apply while another run plans.
        .agents(if env.production { 2 } else { 1 })
        .add(&mut agents, "service")?;
    drop(agents);
    drop(root);
    acknowledge(&mut stack)?;
    Ok((stack, Agents { service, registry }))
}

/// checkov findings on the bootstrap's part, with their reasons.
pub(crate) fn acknowledge_bootstrap(stack: &mut Stack) -> Result<()> {
    stack.acknowledge_check(
        "agents/token",
        "CKV_AWS_337",
        "SecureString under the account's aws/ssm key: ECS's execution role decrypts it through SSM with no key grant; who may read it is IAM's (every Terraform Cloud role is denied it)",
    )
}

/// checkov findings on the agents' stack, with their reasons.
fn acknowledge(stack: &mut Stack) -> Result<()> {
    stack.acknowledge_check(
        "agents/registry",
        "CKV_AWS_136",
        "the agent image is encrypted with the ECR service key (AES-256); it holds no secret (the token is injected at start)",
    )?;
    stack.acknowledge_check(
        "agents/service/logs",
        "CKV_AWS_158",
        "encrypted with the CloudWatch Logs service key; the agents' logs are run logs, which Terraform Cloud also keeps, with no secret (sensitive values are redacted)",
    )
}
