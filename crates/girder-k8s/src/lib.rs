//! girder-k8s: Kubernetes constructs with the defaults a platform team would approve.
//!
//! Describe a workload by intent (a container, its ports, its config, its storage) and get
//! manifests with consistent `app.kubernetes.io/*` labels, selectors derived from them
//! (never typed twice), and a hardened security context (non-root, no privilege
//! escalation, all capabilities dropped, seccomp `RuntimeDefault`, read-only root
//! filesystem), where each relaxation needs a written reason that lands in the output.
//! Intent methods add the objects that go with a workload: a Service, an Ingress, a
//! HorizontalPodAutoscaler, a PodDisruptionBudget, NetworkPolicies.
//!
//! Objects are k8s-openapi types; girder-core writes them as YAML per app with a
//! kustomization, and at synth checks that every ConfigMap, Secret, PVC, ServiceAccount,
//! Service selector and Ingress backend resolves inside the stack.
//!
//! ```
//! use girder_core::prelude::*;
//! use girder_k8s::prelude::*;
//!
//! # fn main() -> girder_core::Result<()> {
//! let mut stack = Stack::new("shop", "dev", Backend::local())?;
//! // Kubernetes constructs under this scope write into app (directory) `shop`.
//! let mut scope = stack.scope("shop")?.with_kube_app("shop")?;
//! let ns = Namespace::new("shop").add(&mut scope, "namespace")?;
//! let api = Deployment::new(&ns, "api")
//!     .part_of("shop")
//!     .container(
//!         Container::new("api", "ghcr.io/acme/api:1.4.2")
//!             .run_as_user(10001)
//!             .port(Port::http(8080))
//!             .resources(Resources::new().cpu("250m", "1").memory("256Mi", "512Mi"))
//!             .readiness(Probe::http_get("/healthz", "http")),
//!     )
//!     .replicas(2)
//!     .expose(Service::cluster_ip().port(80, "http"))
//!     .add(&mut scope, "api")?;
//! assert_eq!(api.service_name(), Some("api"));
//! # Ok(())
//! # }
//! ```

mod aws_identity;
pub mod charts;
mod container;
pub mod crds;
mod error;
pub mod gitops;
mod helm;
mod labels;
mod meta;
mod namespace;
mod network_policy;
mod objects;
mod rbac;
mod scaling;
mod service;
mod validate;
mod volume;
mod workload;

pub use aws_identity::{
    AWS_TOKEN_AUDIENCE, AWS_TOKEN_DIRECTORY, AWS_TOKEN_EXPIRATION_SECONDS, AWS_TOKEN_VOLUME,
    AwsWebIdentity,
};
pub use container::{Container, Env, EnvFrom, Port, Probe, Protocol, Resources, SecurityException};
pub use error::K8sError;
pub use gitops::{FLUX_SOURCE, FluxSync, GitOps};
pub use helm::{ChartValues, Delivery, Release, ReleaseHandle};
pub use labels::{AppLabels, MANAGED_BY};
pub use namespace::{Namespace, NamespaceHandle, PodSecurity};
pub use network_policy::{IpBlock, NetworkPolicyPeer};
pub use objects::{
    ConfigMap, ConfigMapHandle, LimitRange, LimitRangeHandle, PersistentVolumeClaim,
    PersistentVolumeClaimHandle, ResourceQuota, ResourceQuotaHandle, StorageClass,
    StorageClassHandle,
};
pub use rbac::{
    ClusterRole, ClusterRoleHandle, IRSA_ANNOTATION, Role, RoleHandle, ServiceAccount,
    ServiceAccountHandle,
};
pub use scaling::{Autoscaling, DisruptionBudget};
pub use service::{Ingress, Service, ServiceType};
pub use volume::{ClaimTemplate, Volume};
pub use workload::{
    CronJob, DaemonSet, Deployment, Exposable, Job, Rollout, SECURITY_EXCEPTIONS_ANNOTATION,
    Scalable, StatefulSet, Workload, WorkloadHandle, content_hash,
};

/// The names a stack program needs, in one import.
pub mod prelude {
    pub use girder_core::construct::Construct;

    pub use crate::{
        AppLabels, Autoscaling, ChartValues, ClaimTemplate, ClusterRole, ClusterRoleHandle,
        ConfigMap, ConfigMapHandle, Container, CronJob, DaemonSet, Delivery, Deployment,
        DisruptionBudget, Env, EnvFrom, Exposable, FluxSync, GitOps, Ingress, IpBlock, Job,
        LimitRange, Namespace, NamespaceHandle, NetworkPolicyPeer, PersistentVolumeClaim,
        PersistentVolumeClaimHandle, PodSecurity, Port, Probe, Protocol, Release, ReleaseHandle,
        ResourceQuota, Resources, Role, RoleHandle, Rollout, Scalable, SecurityException, Service,
        ServiceAccount, ServiceAccountHandle, ServiceType, StatefulSet, StorageClass,
        StorageClassHandle, Volume, Workload, WorkloadHandle,
    };
}
