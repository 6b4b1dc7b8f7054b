//! infra/alb.tf: one ALB, allowlisted, access logs kept as long as the other logs.
//! Frontend and API share its host, so CORS allows that one origin (seed:
//! Access-Control Implementation Notes).

use girder_core::construct::Construct;
use girder_core::{Error, Result, Scope};
use girder_network::{AccessLogs, Alb, AlbHandle, Cors, Targets, VpcHandle};
use girder_storage::{Bucket, BucketName};

use super::{API_NODE_PORT, LOG_RETENTION_DAYS};
use crate::config::{Environment, PARTITION, REGION};
use crate::contract::AppContract;

/// The load balancer's handles.
pub(super) struct Edge {
    pub alb: AlbHandle,
}

/// The ALB `name` in `vpc`, admitting the environment's allowlist only, and its
/// access-log bucket.
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    vpc: &VpcHandle,
) -> Result<Edge> {
    let mut edge = root.child("edge")?;
    // The log delivery statement goes into the bucket's policy, so the name comes first.
    let logs_name =
        BucketName::with_account_and_region("pixtools-alb-logs", env.account_id, REGION);
    let bucket = logs_name
        .resolve()
        .map_err(|e| Error::construct(format!("{}/logs", edge.location()), e))?;
    let access_logs = AccessLogs::new(PARTITION, bucket, "alb");
    let delivery = access_logs.delivery_statement(&mut edge, "log-delivery")?;
    let logs_bucket = Bucket::new(logs_name)
        .expire_prefix("alb/", LOG_RETENTION_DAYS)
        .policy_statement(delivery)
        .add(&mut edge, "logs")?;
    let mut alb = Alb::internet_facing(
        vpc,
        name,
        // The api's readiness path, as its probe: the target is healthy while the api
        // can serve (through Traefik, which answers 503 while no api pod is Ready).
        Targets::instances(format!("{name}-api"), API_NODE_PORT)
            .health_check(AppContract::HEALTH.readiness),
    );
    if env.alb_deletion_protection {
        alb = alb.deletion_protection();
    }
    let alb = alb
        .allow([env.allowed_ingress_cidr])
        .cors(
            Cors::same_origin()
                .methods(["GET", "POST", "DELETE", "OPTIONS"])
                .headers(["Content-Type", "Authorization"]),
        )
        .hardened_headers()
        .access_logs(access_logs.after(&logs_bucket))
        .add(&mut edge, "alb")?;
    Ok(Edge { alb })
}
