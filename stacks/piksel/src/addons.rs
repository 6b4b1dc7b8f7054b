//! The cluster add-ons Flux installs (issue 13: "Add-ons defined in Flux"), Kubernetes
//! app `addons` of `piksel-eks-<env>`, and the AWS side of those that call AWS (their
//! pod identity roles, in the same stack's Terraform):
//!
//! - metrics-server (resource metrics for `kubectl top` and the HPAs);
//! - the AWS Load Balancer Controller (its cluster, region and VPC set explicitly: the
//!   pods cannot reach the instance metadata service, hop limit 1);
//! - external-dns for the internal zone `<env>.piksel.internal`, policy `sync`: it
//!   removes the records of Services and Ingresses that are gone (a stale internal name
//!   would point at a load balancer address AWS may hand to someone else), and only
//!   those it owns (TXT registry, owner `piksel-eks-<env>`); the records Terraform
//!   writes in the zone carry no ownership record, so it never touches them;
//! - the Cluster Autoscaler, not Karpenter: the stack already has managed node groups
//!   sized per pool (system, workloads, and the Dask spot pool scaled from zero), and the
//!   autoscaler scales exactly those (EKS tags their Auto Scaling groups for
//!   auto-discovery; girder adds the scale-from-zero label and taint tags). Karpenter
//!   would replace the node groups with its own provisioning, a second way to make nodes;
//! - the EBS storage classes: `gp3` (default, encrypted, WaitForFirstConsumer) and, in
//!   production, `gp3-provisioned` (provisioned IOPS and throughput, volumes retained);
//! - the External Secrets operator, and (app `secret-stores`, delivered after the
//!   infrastructure apps, when the operator's CRDs exist) the ClusterSecretStore
//!   `aws-secrets-manager`, reading the environment's `piksel/<env>/*` secrets and the
//!   index users' (`piksel-<env>-odc/users/*`, odc.rs) only.
//!
//! Every chart is pinned to a version of the shared schema index, its pods on the system
//! pool (`piksel.io/pool: system`) with requests and limits, two replicas and a
//! PodDisruptionBudget in production where the chart can run two (external-dns cannot:
//! it has no leader election), each in a namespace of its own with Pod Security labels.
//! Values Terraform learns only at apply (the VPC id, the zone id) are `${VARS}` that
//! Flux substitutes from the stack's Terraform outputs ConfigMap (see `gitops.rs`).

use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::helm::ChartRef;
use girder_core::{Result, Stack};
use girder_eks::{EksClusterHandle, NodeGroupHandle};
use girder_k8s::crds::external_secrets::{ClusterSecretStore, ClusterSecretStoreSpec, Provider};
use girder_k8s::{Delivery, Namespace, Release, StorageClass};
use serde_json::{Value as Json, json};

use crate::config::{Environment, REGION};
use crate::eks::POOL_LABEL;

/// The add-ons' namespaces (their HelmReleases are there: Flux's alerts watch them).
pub(crate) const NAMESPACES: [&str; 5] = [
    "metrics-server",
    "aws-load-balancer-controller",
    "external-dns",
    "cluster-autoscaler",
    "external-secrets",
];

/// The Kubernetes app of the add-ons (an infrastructure app: delivered first).
pub(crate) const APP: &str = "addons";
/// The app of the secret stores, delivered once the add-ons (the operator's CRDs) are.
pub(crate) const SECRET_STORES_APP: &str = "secret-stores";
/// The ClusterSecretStore the services' ExternalSecrets name.
pub const SECRET_STORE: &str = "aws-secrets-manager";

/// Substitution variables (keys of the Terraform outputs ConfigMap, `gitops.rs`).
pub(crate) const VPC_ID: &str = "VPC_ID";
/// The internal zone's id.
pub(crate) const ZONE_ID: &str = "ROUTE53_ZONE_ID";

/// The charts, each at a version of the shared schema index (`schemas/helm/index.json`).
fn metrics_server() -> ChartRef {
    ChartRef::new(
        "https://kubernetes-sigs.github.io/metrics-server",
        "metrics-server",
        "3.13.1",
    )
}
fn load_balancer_controller() -> ChartRef {
    ChartRef::new(
        "https://aws.github.io/eks-charts",
        "aws-load-balancer-controller",
        "3.5.0",
    )
}
fn external_dns() -> ChartRef {
    ChartRef::new(
        "https://kubernetes-sigs.github.io/external-dns",
        "external-dns",
        "1.21.1",
    )
}
fn cluster_autoscaler() -> ChartRef {
    ChartRef::new(
        "https://kubernetes.github.io/autoscaler",
        "cluster-autoscaler",
        "9.59.0",
    )
}
fn external_secrets() -> ChartRef {
    ChartRef::new(
        "https://charts.external-secrets.io",
        "external-secrets",
        "2.9.0",
    )
}

/// `${NAME}`: a value Flux substitutes after build.
fn var(name: &str) -> String {
    format!("${{{name}}}")
}

/// What the add-ons' Terraform side gives the GitOps wiring.
pub(crate) struct Addons {
    /// The pod identity roles and associations: the apps are reconciled only after them
    /// (a pod started before its association never gets the role's credentials).
    pub(crate) roles: Vec<Reference>,
}

impl Dependable for Addons {
    fn dependencies(&self) -> Vec<Reference> {
        self.roles.clone()
    }
}

/// Requests and limits: memory limited to twice the request, CPU unlimited (a
/// controller throttled at its limit misses its leases).
fn resources(cpu: &str, memory: &str, memory_limit: &str) -> Json {
    json!({
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"memory": memory_limit},
    })
}

/// A container security context Pod Security `restricted` admits.
fn restricted_container() -> Json {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// Add the add-ons to `stack`: the roles of `cluster` (the autoscaler's limited to
/// `node_groups`), and the Kubernetes apps.
pub(crate) fn add(
    stack: &mut Stack,
    env: &Environment,
    cluster: &EksClusterHandle,
    node_groups: &[&NodeGroupHandle],
    zone_id: girder_core::Expr<String>,
    index_users: &crate::odc::IndexUsers,
) -> Result<Addons> {
    let prod = env.production;
    let replicas = if prod { 2 } else { 1 };
    let system = json!({ POOL_LABEL: "system" });
    let txt_owner = format!("{}-{}", crate::eks::NAME, env.name);

    // The AWS side: one pod identity role per add-on that calls AWS.
    let mut root = stack.root();
    let mut iam = root.child("addon-roles")?;
    let lbc_role = cluster.load_balancer_controller_role(
        &mut iam,
        "load-balancer-controller",
        "aws-load-balancer-controller",
        "aws-load-balancer-controller",
    )?;
    let autoscaler_role = cluster.cluster_autoscaler_role(
        &mut iam,
        "cluster-autoscaler",
        "cluster-autoscaler",
        "cluster-autoscaler",
        node_groups,
    )?;
    let dns_role = cluster.external_dns_role(
        &mut iam,
        "external-dns",
        "external-dns",
        "external-dns",
        zone_id,
    )?;
    let secrets_role = cluster.secrets_reader_role(
        &mut iam,
        "external-secrets",
        "external-secrets",
        "external-secrets",
        &[
            &format!("piksel/{}/", env.name),
            // The index users' (odc.rs); never RDS's master secret (`rds!db-...`).
            &index_users.secret_prefix(),
        ],
    )?;
    drop(iam);
    let roles = [&lbc_role, &autoscaler_role, &dns_role, &secrets_role]
        .iter()
        .flat_map(|role| role.dependencies())
        .collect();

    let scope = &mut root.child("flux-addons")?.with_kube_app(APP)?;

    // Storage: EBS through the EBS CSI add-on (EKS's own gp2 class is no longer the
    // default since 1.30).
    StorageClass::ebs_gp3("gp3")
        .default_class()
        .add(scope, "gp3")?;
    if prod {
        // For volumes that need more than gp3's baseline (3000 IOPS, 125 MiB/s): the
        // JupyterHub user volumes and any data store; kept when the claim goes.
        StorageClass::ebs_gp3("gp3-provisioned")
            .parameter("iops", "6000")
            .parameter("throughput", "500")
            .retain()
            .add(scope, "gp3-provisioned")?;
    }

    // metrics-server.
    let ns = Namespace::new(NAMESPACES[0]).add(scope, "metrics-server-namespace")?;
    let mut values = json!({
        "replicas": replicas,
        "nodeSelector": system,
        "resources": resources("100m", "200Mi", "400Mi"),
    });
    if prod {
        values["podDisruptionBudget"] = json!({"enabled": true, "minAvailable": 1});
    }
    Release::new("metrics-server", ns.name(), metrics_server(), &values)
        .delivery(Delivery::Flux)
        .add(scope, "metrics-server")?;

    // The AWS Load Balancer Controller: two replicas everywhere (its webhooks admit
    // every Service and Pod of the cluster).
    let ns = Namespace::new(NAMESPACES[1]).add(scope, "load-balancer-controller-namespace")?;
    let values = json!({
        "clusterName": cluster.name(),
        "region": REGION,
        "vpcId": var(VPC_ID),
        "replicaCount": 2,
        "podDisruptionBudget": {"maxUnavailable": 1},
        // No mutating webhook on Services: the platform makes no LoadBalancer Service
        // (Ingress only; the quotas allow none), and the chart's webhook fails every
        // Service create in the cluster while the controller's pods are down (review 3's
        // m1), the other add-ons' first install included.
        "enableServiceMutatorWebhook": false,
        "serviceAccount": {"create": true, "name": "aws-load-balancer-controller"},
        "securityContext": restricted_container(),
        "nodeSelector": system,
        "resources": resources("100m", "128Mi", "256Mi"),
        // The tags the stack's Terraform puts on everything (cost allocation).
        "defaultTags": {
            "Environment": env.name,
            "Project": "piksel",
            "ManagedBy": "aws-load-balancer-controller",
        },
    });
    Release::new(
        "aws-load-balancer-controller",
        ns.name(),
        load_balancer_controller(),
        &values,
    )
    .delivery(Delivery::Flux)
    .add(scope, "load-balancer-controller")?;

    // external-dns for the internal zone only.
    let ns = Namespace::new(NAMESPACES[2]).add(scope, "external-dns-namespace")?;
    let values = json!({
        "provider": {"name": "aws"},
        "policy": "sync",
        "registry": "txt",
        "txtOwnerId": txt_owner,
        // One writer: the chart has no leader election (and allows no more).
        "replicaCount": 1,
        "domainFilters": [format!("{}.piksel.internal", env.name)],
        "sources": ["service", "ingress"],
        "extraArgs": [
            "--aws-zone-type=private",
            format!("--zone-id-filter={}", var(ZONE_ID)),
        ],
        "env": [{"name": "AWS_DEFAULT_REGION", "value": REGION}],
        "serviceAccount": {"create": true, "name": "external-dns"},
        "nodeSelector": system,
        "resources": resources("50m", "64Mi", "128Mi"),
    });
    Release::new("external-dns", ns.name(), external_dns(), &values)
        .delivery(Delivery::Flux)
        .add(scope, "external-dns")?;

    // The Cluster Autoscaler.
    let ns = Namespace::new(NAMESPACES[3]).add(scope, "cluster-autoscaler-namespace")?;
    let values = json!({
        "cloudProvider": "aws",
        "awsRegion": REGION,
        "autoDiscovery": {"clusterName": cluster.name()},
        "rbac": {"serviceAccount": {"create": true, "name": "cluster-autoscaler"}},
        "replicaCount": replicas,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "extraArgs": {
            "logtostderr": true,
            "stderrthreshold": "info",
            "v": 2,
            // Spread a scale-up over the zones' groups alike, cheapest fit first.
            "balance-similar-node-groups": true,
            "expander": "least-waste",
            // Dask workers' scratch space is emptyDir: it must not pin a spot node.
            "skip-nodes-with-local-storage": false,
        },
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]},
        },
        "nodeSelector": system,
        "resources": resources("100m", "300Mi", "600Mi"),
    });
    Release::new(
        "cluster-autoscaler",
        ns.name(),
        cluster_autoscaler(),
        &values,
    )
    .delivery(Delivery::Flux)
    .add(scope, "cluster-autoscaler")?;

    // The External Secrets operator (its CRDs with it).
    let ns = Namespace::new(NAMESPACES[4]).add(scope, "external-secrets-namespace")?;
    let component = |cpu: &str, memory: &str, limit: &str| {
        let mut values = json!({
            "replicaCount": replicas,
            "nodeSelector": system,
            "resources": resources(cpu, memory, limit),
        });
        if prod {
            values["podDisruptionBudget"] = json!({"enabled": true, "minAvailable": 1});
        }
        values
    };
    let mut values = component("50m", "128Mi", "256Mi");
    values["installCRDs"] = json!(true);
    values["leaderElect"] = json!(prod);
    values["serviceAccount"] = json!({"create": true, "name": "external-secrets"});
    values["webhook"] = component("20m", "64Mi", "128Mi");
    values["certController"] = component("20m", "64Mi", "128Mi");
    Release::new("external-secrets", ns.name(), external_secrets(), &values)
        .delivery(Delivery::Flux)
        .add(scope, "external-secrets")?;
    drop(root);

    // The store, in an app of its own: Flux applies it after the infrastructure apps,
    // when the operator's CRDs exist. The operator signs with its pod identity role
    // (no `auth`: the SDK's default chain).
    let mut root = stack.root();
    let scope = &mut root
        .child("secret-stores")?
        .with_kube_app(SECRET_STORES_APP)?;
    // Only the namespaces whose ExternalSecrets the platform writes may read through it:
    // the alerting credentials (monitoring), Flux's Slack webhook (flux-system), the
    // index's credentials (odc, jupyterhub: odc.rs), the hub's OAuth app and the
    // gateway's hub token (jupyterhub, dask: jupyter.rs).
    ClusterSecretStore::cluster(
        SECRET_STORE,
        ClusterSecretStoreSpec::new(Provider::secrets_manager(REGION)).only_for([
            crate::monitoring::NAMESPACE,
            crate::flux::FLUX_NAMESPACE,
            crate::platform::ODC_NAMESPACE,
            crate::platform::JUPYTERHUB_NAMESPACE,
            crate::platform::DASK_NAMESPACE,
        ]),
    )
    .add(scope, "aws-secrets-manager")?;
    Ok(Addons { roles })
}
