//! infra/alb.tf: one ALB, allowlisted, access logs kept as long as the other logs.
//! Frontend and API share its host, so CORS allows that one origin (seed:
//! Access-Control Implementation Notes).

use girder_core::{Result, Scope};
use girder_network::{AccessLogs, Alb, AlbHandle, Cors, Ipv4Cidr, Targets, VpcHandle};
use girder_storage::{Bucket, BucketName};

use super::{API_NODE_PORT, LOG_RETENTION_DAYS};
use crate::config::{Environment, REGION};

/// The load balancer's handles.
pub(super) struct Edge {
    pub alb: AlbHandle,
}

/// The ALB `name` in `vpc`, admitting `allowed` only, and its access-log bucket.
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    allowed: Ipv4Cidr,
    vpc: &VpcHandle,
) -> Result<Edge> {
    let mut edge = root.child("edge")?;
    // The log delivery statement goes into the bucket's policy, so the name comes first.
    let logs_name = format!("pixtools-alb-logs-{}-{REGION}", env.account_id);
    let access_logs = AccessLogs::new(&logs_name, "alb");
    let delivery = access_logs.delivery_statement(&mut edge, "log-delivery")?;
    let logs_bucket = Bucket::new(BucketName::literal(&logs_name))
        .expire_prefix("alb/", LOG_RETENTION_DAYS)
        .policy_statement(delivery)
        .add(&mut edge, "logs")?;
    let mut alb = Alb::internet_facing(
        name,
        Targets::instances(format!("{name}-api"), API_NODE_PORT).health_check("/health"),
    );
    if env.production {
        alb = alb.deletion_protection();
    }
    let alb = alb
        .allow([allowed])
        .cors(
            Cors::same_origin()
                .methods(["GET", "POST", "DELETE", "OPTIONS"])
                .headers(["Content-Type", "Authorization"]),
        )
        .hardened_headers()
        .access_logs(access_logs.after_policy(logs_bucket.policy()))
        .add(&mut edge, "alb", vpc)?;
    Ok(Edge { alb })
}
