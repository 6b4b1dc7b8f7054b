//! Kubernetes app `platform` of `its-camera-<env>` (seed 003's "Immediate actions: the
//! namespace structure, service accounts and RBAC", and TASK-SEC-001's "ingress/egress
//! rules for all namespaces"): one namespace per team's part of the system, each Pod
//! Security `restricted` and default-deny both ways but DNS (girder-k8s's
//! `Namespace::default_deny`; the VPC CNI enforces it), a ServiceAccount per service
//! (no API token: none of them calls the Kubernetes API), and who may read or change
//! what through Kubernetes groups the cluster's access entries give IAM roles.
//!
//! The namespaces (the seed's `infrastructure/kubernetes/<part>/` layout):
//! - `its-databases`: PostgreSQL (3 instances, streaming replication) with PgBouncer,
//!   TimescaleDB, Redis (Team 1);
//! - `its-messaging`: Kafka (3 brokers, 3 KRaft controllers) and the Redis Streams of the
//!   camera frames (Team 2);
//! - `its-storage`: MinIO (4 servers, erasure coded; Team 3);
//! - `its-processing`: the camera ingest, the stream processors and the GPU inference
//!   (the seed's `src/its_camera_ai/`; inference on the `gpu` pool);
//! - `its-api`: the API and the external integrations (Team 4);
//! - `its-monitoring`: Prometheus, Grafana, Loki (Team 5);
//! - `its-security`: Vault, Sealed Secrets' controller, cert-manager (Team 6).
//!
//! What each service may reach across namespaces is allowed per flow with the services
//! themselves; until then everything but DNS is refused.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::{Namespace, NamespaceHandle, ServiceAccount};
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The Kubernetes app (output directory).
pub(crate) const APP: &str = "platform";

/// Each namespace and the service accounts of its services.
pub(crate) const NAMESPACES: [(&str, &[&str]); 7] = [
    (
        "its-databases",
        &[
            "postgresql",
            "pgbouncer",
            "timescaledb",
            "redis",
            "database-init",
        ],
    ),
    ("its-messaging", &["kafka", "redis-streams"]),
    ("its-storage", &["minio", "minio-init"]),
    (
        "its-processing",
        &["camera-ingest", "stream-processor", "inference"],
    ),
    ("its-api", &["api", "integrations"]),
    ("its-monitoring", &["prometheus", "grafana", "loki"]),
    ("its-security", &["vault", "sealed-secrets", "cert-manager"]),
];

/// The Kubernetes group that may read the system's namespaces (Kubernetes's `view`
/// ClusterRole: no Secrets), and the one that may change them (`edit`).
pub const DEVELOPERS_GROUP: &str = "its-developers";
/// The operators' group.
pub const OPERATORS_GROUP: &str = "its-operators";

/// Add app `platform` under `scope`.
pub(crate) fn add(scope: &mut Scope<'_>) -> Result<Vec<NamespaceHandle>> {
    let app = &mut scope.child(APP)?.with_kube_app(APP)?;
    let mut handles = Vec::new();
    for (name, accounts) in NAMESPACES {
        let ns = Namespace::new(name)
            .label("its.camera/part-of", "its-camera-ai")
            .default_deny()
            .add(app, name)?;
        for account in accounts {
            let _ = ServiceAccount::new(&ns, *account).add(app, &format!("{name}-{account}"))?;
        }
        for (group, role) in [(DEVELOPERS_GROUP, "view"), (OPERATORS_GROUP, "edit")] {
            let binding = rbac::RoleBinding {
                metadata: ObjectMeta {
                    name: Some(format!("{group}-{role}")),
                    namespace: Some(name.to_owned()),
                    labels: Some(girder_k8s::AppLabels::new(format!("{group}-{role}")).all()),
                    ..ObjectMeta::default()
                },
                role_ref: rbac::RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "ClusterRole".into(),
                    name: role.into(),
                },
                subjects: Some(vec![rbac::Subject {
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    kind: "Group".into(),
                    name: group.into(),
                    namespace: None,
                }]),
            };
            app.add_app_object(&binding)?;
        }
        handles.push(ns);
    }
    Ok(handles)
}
