//! PixTools on AWS, as its sprint plan (seed 002) fixes it: one AWS account per
//! environment (`dev`, `prod`), region `us-east-1`.
//!
//! Per environment:
//! - `pixtools-state-<env>` (local state, applied once): the remote-state bucket
//!   `pixtools-tfstate-<account>-us-east-1` and the lock table `pixtools-tf-locks`.
//! - `pixtools-<env>` (state in that bucket, locked by that table): the network
//!   (10.40.0.0/16, two public subnets for the ALB, two private for EC2 and RDS), ECR
//!   `pixtools-api` / `pixtools-worker`, the images and manifests buckets, PostgreSQL 16 on
//!   db.t4g.micro, the K3s node on spot EC2, one allowlisted ALB, the SSM parameter
//!   contract, GitHub Actions deploy role (OIDC), logs, alarms and the budget.
//!
//!   It also holds the cluster half, applied by K3s from the manifests bucket: namespace
//!   `pixtools`, the api, the `default_queue` (concurrency 5) and `ml_inference_queue`
//!   (concurrency 1) worker pools, RabbitMQ (durable queues, persistence, dead-letter
//!   exchange), Redis (`allkeys-lru`), runtime settings from SSM through External
//!   Secrets, K3s's Traefik on the ALB's NodePort with a per-client rate limit, and
//!   metrics (kube-prometheus-stack: scrapes, the seed's alerts to the SNS topic, the SLO
//!   dashboards; `observability.rs`).

mod cluster;
mod config;
mod contract;
mod findings;
mod main_stack;
mod observability;
mod state_stack;

pub use config::{Environment, REGION, environments};

use girder_core::{App, Result, Stack};

/// Add every PixTools stack of every environment to `app`.
pub fn build(app: &mut App) -> Result<()> {
    for env in environments() {
        build_environment(app, &env)?;
    }
    Ok(())
}

/// Add the two stacks of one environment to `app` (a team's own account and values, or
/// a release with other image digests).
pub fn build_environment(app: &mut App, env: &Environment) -> Result<()> {
    app.add_stack(state_stack(env)?)?;
    app.add_stack(main_stack(env)?)
}

/// `pixtools-state-<env>`: the state bucket and lock table of `env`'s account.
pub fn state_stack(env: &Environment) -> Result<Stack> {
    state_stack::stack(env)
}

/// `pixtools-<env>`: everything else, cloud and cluster halves. It keeps its state in the
/// bucket of [`state_stack`] but reads nothing from it at synth, so it builds on its own.
pub fn main_stack(env: &Environment) -> Result<Stack> {
    main_stack::stack(env)
}
