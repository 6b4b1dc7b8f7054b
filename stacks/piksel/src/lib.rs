//! Piksel on AWS, the platform (seeds 000 and 001): per environment (`dev`, `staging`,
//! `prod`, one AWS account each), the seed's piksel-infra as stack `piksel-infra-<env>`
//! and piksel-kubernetes' Terraform as stack `piksel-eks-<env>`, each its own Terraform
//! Cloud workspace; the EKS stack reads the infra's VPC through Terraform Cloud's outputs
//! (girder wires them). See the README's Piksel tour.

mod addons;
mod agents;
mod bootstrap;
mod cluster_secrets;
mod config;
mod developer_access;
mod eks;
mod findings;
mod flux;
mod gitops;
mod images;
mod infra;
mod jupyter;
mod monitoring;
mod notifications;
mod odc;
mod operations;
mod ows;
mod platform;

pub use addons::SECRET_STORE;
pub use agents::{AGENT_REPOSITORY, AGENT_VERSION, Agents};
pub use config::{Environment, ORGANIZATION, REGION, environments};
pub use eks::{Cluster, DASK_TAINT, POOL_LABEL};
pub use images::{REFLECTOR_ACTIONS, REFLECTOR_SERVICE_ACCOUNT, pinned as pinned_image};
pub use infra::{BUILD_TAG_PREFIX, Infra, REPOSITORIES};
pub use jupyter::{
    GITHUB_ORGANIZATION, NOTEBOOKS_PREFIX, USER_SERVICE_ACCOUNT, WORKER_SERVICE_ACCOUNT,
    hostname as jupyter_hostname,
};
pub use monitoring::{ALERT_RECEIVERS, YACE_IMAGE};
pub use notifications::SLACK_SECRET;
pub use odc::{CoreImage, IndexUsers, products as odc_products};
pub use ows::{hosts as odc_service_hosts, ows_config};
pub use platform::{DASK_NAMESPACE, JUPYTERHUB_NAMESPACE, ODC_NAMESPACE};

use girder_core::{App, Result, Stack};

/// Add every Piksel stack of every environment to `app`.
pub fn build(app: &mut App) -> Result<()> {
    for env in environments() {
        app.add_stack(bootstrap_stack(&env)?)?;
        let (infra, handles) = infra_stack(&env)?;
        app.add_stack(infra)?;
        let (agents, agent_handles) = agents::stack(&env, &handles.vpc)?;
        app.add_stack(agents)?;
        app.add_stack(eks::stack(&env, &handles, &agent_handles)?.0)?;
    }
    Ok(())
}

/// `piksel-bootstrap-<env>`: the environment's Terraform Cloud project, workspaces,
/// AWS credentials and policy set.
pub fn bootstrap_stack(env: &Environment) -> Result<Stack> {
    bootstrap::stack(env)
}

/// `piksel-infra-<env>`, and the handles the EKS stack reads.
pub fn infra_stack(env: &Environment) -> Result<(Stack, Infra)> {
    infra::stack(env)
}

/// `piksel-agents-<env>`: the Terraform Cloud agents of the EKS workspace, in the
/// infra's VPC (read through Terraform Cloud's outputs). Applied by hand.
pub fn agents_stack(env: &Environment) -> Result<Stack> {
    let (_, infra) = infra::stack(env)?;
    Ok(agents::stack(env, &infra.vpc)?.0)
}

/// `piksel-eks-<env>`: builds the infra and agents stacks again for their handles
/// (girder turns the handles' attributes into reads of their workspaces' outputs).
pub fn eks_stack(env: &Environment) -> Result<Stack> {
    let (_, infra) = infra::stack(env)?;
    let (_, agents) = agents::stack(env, &infra.vpc)?;
    Ok(eks::stack(env, &infra, &agents)?.0)
}
