//! `pixtools-<env>`: everything the seed's infra/*.tf list holds, then the cluster half.
//!
//! Each part is a module that takes the scope and the handles it needs and returns the
//! handles it creates; this function composes them in the order the seed lists them.

mod compute;
mod database;
mod deploy;
mod edge;
mod network;
mod ops;
mod settings;
mod storage;

use girder_aws::random;
use girder_core::prelude::*;
use girder_core::terraform::S3Backend;
use girder_core::vocabulary::Ipv4Cidr;
use girder_core::{Error, Result, Stack};

use crate::cluster::{self, ClusterInputs};
use crate::config::{Environment, REGION, aws_stack, cidr};
use crate::contract::RuntimeContract;
use crate::findings;
use crate::state_stack::{LOCK_TABLE, state_bucket};

/// The seed's VPC.
const VPC_CIDR: Ipv4Cidr = cidr([10, 40, 0, 0], 16);
/// The K3s release the node installs: the newest patch release of the 1.36 line we can
/// cite (v1.36.4+k3s1, k3s-io/k3s#14545, August 2026). Kubernetes 1.34 reached end of
/// life on 2026-10-27 (girder-k3s refuses it); 1.36 is supported into mid-2027. The
/// manifests target the 1.33 API (`.cargo/config.toml`), which 1.36 serves.
const K3S_VERSION: &str = "v1.36.4+k3s1";
/// The NodePort the API is served on; the ALB's targets.
pub(crate) const API_NODE_PORT: u16 = 30080;
/// Spot types: the primary, then the seed's fallbacks.
const INSTANCE_TYPES: [&str; 3] = ["m7i-flex.large", "c7i-flex.large", "m6i.large"];
/// CloudWatch Logs retention, days.
const LOG_RETENTION_DAYS: u16 = 14;
/// The existing budget alert, USD per month.
const BUDGET_USD: &str = "20";

pub(crate) fn stack(env: &Environment) -> Result<Stack> {
    let backend = Backend::S3(S3Backend {
        bucket: state_bucket(env)?,
        key: Some(format!("pixtools/{}/terraform.tfstate", env.name)),
        region: REGION.into(),
        dynamodb_table: Some(LOCK_TABLE.into()),
        kms_key_id: None,
    });
    let mut stack = aws_stack("pixtools", env, backend)?;
    // Its state lives in the state stack's bucket: that stack is applied first.
    stack.deploy_after(&format!("pixtools-state-{}", env.name));
    stack.require_provider(random::requirement())?;
    let name = format!("pixtools-{}", env.name);
    let contract = RuntimeContract::new(env)?;
    let location = env.location()?;

    let mut root = stack.root();
    let network = network::add(&mut root, &name, VPC_CIDR)?;
    let storage = storage::add(&mut root, env)?;
    let database = database::add(&mut root, env, &name, &location, &network.vpc, &contract)?;
    let edge = edge::add(&mut root, env, &name, &network.vpc)?;
    let app_logs = ops::app_logs(&mut root, env)?;
    let compute = compute::add(
        &mut root,
        env,
        &name,
        &contract,
        &network.vpc,
        &storage,
        &database,
        &edge,
        &app_logs,
    )?;
    settings::add(&mut root, &contract, &database, &storage)?;
    deploy::add(&mut root, env, &name, &location, &storage, &compute)?;
    let alerts = ops::add(&mut root, env, &name, &edge, &database)?;
    // Alertmanager signs its SNS calls as its own role: it may publish to the alerts
    // topic and nothing else.
    compute::alertmanager_role(&mut root, &name, &compute, &alerts)?;

    // The cluster half reads nothing from Terraform: the app user's secret is named at
    // synth.
    // Traefik trusts X-Forwarded-For from the ALB's subnets only, not the whole VPC (the
    // node itself and anything else in the private subnets could forge a client).
    let alb_subnets = exact_cover(&network.vpc.public_subnet_cidrs()).ok_or_else(|| {
        Error::invalid(
            format!("{}:network", stack.id()),
            "the ALB's subnets are not one CIDR block; Traefik needs the block it trusts",
        )
    })?;
    cluster::add(
        &mut stack,
        env,
        &ClusterInputs {
            vpc_cidr: alb_subnets,
            node_port: API_NODE_PORT,
            app_database_secret: database.app_user.secret_name(),
            app_role_arn: &compute.app_role_arn,
            platform_roles: &compute.platform_roles,
            contract: &contract,
        },
    )?;

    stack.add_output(
        "alb_dns_name",
        Output::new(&edge.alb.dns_name()).description("The API's address (no custom domain in v1)"),
    )?;
    stack.add_output(
        "rds_endpoint",
        Output::new(&database.postgres.endpoint()).description("PostgreSQL host"),
    )?;
    stack.add_output(
        "ecr_api_url",
        Output::new(&storage.api_repository.url()).description("pixtools-api repository"),
    )?;
    stack.add_output(
        "ecr_worker_url",
        Output::new(&storage.worker_repository.url()).description("pixtools-worker repository"),
    )?;
    stack.add_output(
        "ssm_prefix",
        Output::new(&Expr::lit(contract.prefix().as_str()))
            .description("Where runtime settings live"),
    )?;
    findings::main(&mut stack, env)?;
    Ok(stack)
}

/// The one block made of exactly `blocks` (non-overlapping, as the subnet planner lays
/// them out), if there is one: 10.40.0.0/24 and 10.40.1.0/24 are 10.40.0.0/23.
fn exact_cover(blocks: &[Ipv4Cidr]) -> Option<Ipv4Cidr> {
    let first = blocks.first()?;
    let total: u64 = blocks.iter().map(Ipv4Cidr::size).sum();
    (0..=first.prefix()).rev().find_map(|prefix| {
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        let candidate =
            Ipv4Cidr::new((u32::from(first.first()) & mask).to_be_bytes(), prefix).ok()?;
        (blocks.iter().all(|b| candidate.contains(b)) && candidate.size() == total)
            .then_some(candidate)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alb_subnets_are_one_block_or_none() {
        let block = |a: [u8; 4], p| Ipv4Cidr::new(a, p).unwrap();
        assert_eq!(
            exact_cover(&[block([10, 40, 0, 0], 24), block([10, 40, 1, 0], 24)]),
            Some(block([10, 40, 0, 0], 23))
        );
        // 10.40.1.0/24 + 10.40.2.0/24 would need 10.40.0.0/22, which holds two more.
        assert_eq!(
            exact_cover(&[block([10, 40, 1, 0], 24), block([10, 40, 2, 0], 24)]),
            None
        );
        assert_eq!(exact_cover(&[]), None);
    }
}
