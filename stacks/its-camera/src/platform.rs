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
//! Within a namespace the pods talk freely (a data service's members replicate among
//! themselves); the operators' namespaces (`its-messaging`, `its-databases`,
//! `its-storage`) reach the Kubernetes API. What each service may reach across
//! namespaces is allowed per flow with the services themselves; until then everything
//! else is refused. The default StorageClass is `gp3` (EBS, encrypted, bound where the
//! pod lands).

use girder_core::construct::Construct;
use girder_core::vocabulary::Ipv4Cidr;
use girder_core::{Result, Scope};
use girder_k8s::{AppLabels, Namespace, NamespaceHandle, ServiceAccount, StorageClass};
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

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

/// The StorageClass of every volume (EBS gp3 through the EBS CSI add-on, encrypted, bound
/// where the pod lands): the cluster's default.
pub(crate) const STORAGE_CLASS: &str = "gp3";

/// The namespaces whose operators (Strimzi; CloudNativePG and MinIO's with the data
/// services) call the Kubernetes API.
const API_CLIENTS: [&str; 3] = ["its-messaging", "its-databases", "its-storage"];

/// The Kubernetes group that may read the system's namespaces (Kubernetes's `view`
/// ClusterRole: no Secrets), and the one that may change them (`edit`).
pub const DEVELOPERS_GROUP: &str = "its-developers";
/// The operators' group.
pub const OPERATORS_GROUP: &str = "its-operators";

/// A NetworkPolicy of `namespace` over all its pods.
fn policy(
    namespace: &str,
    name: &str,
    ingress: Option<Vec<net::NetworkPolicyIngressRule>>,
    egress: Option<Vec<net::NetworkPolicyEgressRule>>,
) -> net::NetworkPolicy {
    let mut types = Vec::new();
    if ingress.is_some() {
        types.push("Ingress".to_owned());
    }
    if egress.is_some() {
        types.push("Egress".to_owned());
    }
    net::NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(AppLabels::new(name).all()),
            ..ObjectMeta::default()
        },
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(types),
            ingress,
            egress,
        }),
    }
}

/// The pods of a namespace talk among themselves (a cluster's members: Kafka's brokers
/// and controllers, Redis and its Sentinels, PostgreSQL's instances, MinIO's servers).
fn same_namespace(namespace: &str) -> net::NetworkPolicy {
    let peer = || net::NetworkPolicyPeer {
        pod_selector: Some(LabelSelector::default()),
        ..net::NetworkPolicyPeer::default()
    };
    policy(
        namespace,
        "allow-same-namespace",
        Some(vec![net::NetworkPolicyIngressRule {
            from: Some(vec![peer()]),
            ports: None,
        }]),
        Some(vec![net::NetworkPolicyEgressRule {
            to: Some(vec![peer()]),
            ports: None,
        }]),
    )
}

/// The namespace's pods reach the Kubernetes API: the `kubernetes` Service's address and
/// the control plane's interfaces in the VPC, on 443 (the CNI's policy agent may see
/// either).
fn kubernetes_api(
    namespace: &str,
    service_ip: std::net::Ipv4Addr,
    vpc: Ipv4Cidr,
) -> net::NetworkPolicy {
    let block = |cidr: String| net::NetworkPolicyPeer {
        ip_block: Some(net::IPBlock { cidr, except: None }),
        ..net::NetworkPolicyPeer::default()
    };
    policy(
        namespace,
        "allow-kubernetes-api",
        None,
        Some(vec![net::NetworkPolicyEgressRule {
            to: Some(vec![
                block(format!("{service_ip}/32")),
                block(vpc.to_string()),
            ]),
            ports: Some(vec![net::NetworkPolicyPort {
                port: Some(IntOrString::Int(443)),
                protocol: Some("TCP".into()),
                end_port: None,
            }]),
        }]),
    )
}

/// Add app `platform` under `scope`, for a cluster whose `kubernetes` Service is
/// `service_ip` in VPC `vpc`.
pub(crate) fn add(
    scope: &mut Scope<'_>,
    service_ip: std::net::Ipv4Addr,
    vpc: Ipv4Cidr,
) -> Result<Vec<NamespaceHandle>> {
    let app = &mut scope.child(APP)?.with_kube_app(APP)?;
    StorageClass::ebs_gp3(STORAGE_CLASS)
        .default_class()
        .add(app, "gp3")?;
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
        app.add_app_object(&same_namespace(name))?;
        if API_CLIENTS.contains(&name) {
            app.add_app_object(&kubernetes_api(name, service_ip, vpc))?;
        }
        handles.push(ns);
    }
    Ok(handles)
}
