//! ITS Camera AI on AWS (seed 003): per environment (`dev`, `prod`, an AWS account each),
//! stack `its-camera-<env>`: the VPC, the EKS cluster with its general and GPU node
//! groups (`cluster.rs`), and the Kubernetes platform the seed's teams deploy into
//! (`platform.rs`: namespaces, service accounts, RBAC, default-deny policies), delivered
//! by Argo CD from girder's output (an app of apps per environment, the environment's
//! overlay being its own synthesized directory). See the README's ITS tour.

mod cluster;
mod config;
mod data;
mod findings;
mod messaging;
mod platform;

pub use cluster::{GPU_TAINT, POOL_LABEL};
pub use config::{Environment, ORGANIZATION, REGION, environments};
pub use platform::{DEVELOPERS_GROUP, OPERATORS_GROUP};

use girder_core::construct::Construct;
use girder_core::{App, Result, Stack};
use girder_eks::AccessEntry;
use girder_iam::{Role, Trust};
use girder_k8s::GitOps;

/// The stack's name (`its-camera-<env>`).
pub const NAME: &str = "its-camera";

/// The repository Argo CD syncs: girder's synthesized `out/` at its root (replace).
pub const REPOSITORY: &str = "https://github.com/its-camera-ai/its-camera-infrastructure";

/// Add every ITS Camera AI stack of every environment to `app`.
pub fn build(app: &mut App) -> Result<()> {
    for env in environments() {
        app.add_stack(stack(&env)?)?;
    }
    Ok(())
}

/// `its-camera-<env>`.
pub fn stack(env: &Environment) -> Result<Stack> {
    let mut stack = config::aws_stack(NAME, env)?;
    let mut root = stack.root();
    let cluster = cluster::add(&mut root, env)?;
    // The people: roles the account's SSO grants, mapped to the platform's groups.
    let mut people = root.child("people")?;
    for (id, group) in [
        ("developers", platform::DEVELOPERS_GROUP),
        ("operators", platform::OPERATORS_GROUP),
    ] {
        let role = Role::new(
            format!("its-camera-{}-{id}", env.name),
            Trust::account(format!("arn:aws:iam::{}:root", env.account_id)),
        )
        .description(format!("ITS Camera AI {} {id}", env.name))
        .max_session(3600)
        .add(&mut people, &format!("{id}-role"))?;
        let _ = AccessEntry::groups(&cluster, &role, [group]).add(&mut people, id)?;
    }
    drop(people);
    let _namespaces = platform::add(&mut root, cluster.kubernetes_service_ip(), env.vpc_cidr)?;
    drop(root);
    messaging::add(&mut stack, env)?;
    data::add(&mut stack, env)?;
    // Argo CD's app of apps for this environment: the environment's overlay is its own
    // directory of girder's output (`out/kubernetes/its-camera-<env>/`).
    GitOps::new(REPOSITORY, "main")
        // The namespaces and the operators' CRDs first.
        .infrastructure([platform::APP, messaging::OPERATOR_APP, data::OPERATORS_APP])
        .argo_cd(&mut stack)?;
    findings::acknowledge(&mut stack)?;
    Ok(stack)
}
