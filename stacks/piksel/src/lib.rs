//! Piksel on AWS, the platform (seeds 000 and 001): per environment (`dev`, `staging`,
//! `prod`, one AWS account each), the seed's piksel-infra as stack `piksel-infra-<env>`
//! and piksel-kubernetes' Terraform as stack `piksel-eks-<env>`, each its own Terraform
//! Cloud workspace; the EKS stack reads the infra's VPC through Terraform Cloud's outputs
//! (girder wires them). See the README's Piksel tour.

mod addons;
mod agents;
mod bootstrap;
mod config;
mod developer_access;
mod eks;
mod findings;
mod flux;
mod gitops;
mod images;
mod infra;
mod monitoring;
mod notifications;
mod operations;
mod platform;

pub use addons::SECRET_STORE;
pub use agents::{AGENT_REPOSITORY, AGENT_VERSION};
pub use config::{Environment, ORGANIZATION, REGION, environments};
pub use eks::{Cluster, DASK_TAINT, POOL_LABEL};
pub use images::{REFLECTOR_ACTIONS, REFLECTOR_SERVICE_ACCOUNT};
pub use infra::{BUILD_TAG_PREFIX, Infra, REPOSITORIES};
pub use monitoring::{ALERT_RECEIVERS, YACE_IMAGE};
pub use notifications::SLACK_SECRET;
pub use platform::{DASK_NAMESPACE, JUPYTERHUB_NAMESPACE, ODC_NAMESPACE};

use girder_core::{App, Result, Stack};

/// Add every Piksel stack of every environment to `app`.
pub fn build(app: &mut App) -> Result<()> {
    for env in environments() {
        app.add_stack(bootstrap_stack(&env)?)?;
        let (infra, handles) = infra_stack(&env)?;
        app.add_stack(infra)?;
        app.add_stack(eks_stack_with(&env, &handles)?)?;
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

/// `piksel-eks-<env>`: builds the infra stack again for its handles (girder turns the
/// handles' attributes into reads of the infra workspace's outputs).
pub fn eks_stack(env: &Environment) -> Result<Stack> {
    let (_, infra) = infra::stack(env)?;
    eks_stack_with(env, &infra)
}

fn eks_stack_with(env: &Environment, infra: &Infra) -> Result<Stack> {
    Ok(eks::stack(env, infra)?.0)
}
