//! JupyterHub with Dask on Piksel (issue 14; seed 000's phases 3.4 and 5, seed 001's
//! piksel-jupyter): Kubernetes app `jupyter` of `piksel-eks-<env>`, the notebook
//! servers' AWS role in the same stack's Terraform, and (from `infra.rs`) the notebook
//! sync role of piksel-jupyter's CI.
//!
//! - **JupyterHub** (chart `jupyterhub` 4.4.0, Flux HelmRelease `jupyterhub` in namespace
//!   `jupyterhub`) at `http://jupyter.<env>.piksel.internal/`: an internal ALB (the load
//!   balancer controller's Ingress, IP targets on the proxy's container port `http`,
//!   which the platform's `allow-from-load-balancer` admits) and the record external-dns
//!   writes in the private zone. Hub and proxy on the `workloads` pool, the hub's
//!   database on a gp3 claim. Each user's home is a gp3 claim of their own (5 GiB in
//!   dev and staging, 10 GiB in prod: the namespace's claim and storage quotas hold a
//!   volume for every user they count, plus the hub's); servers idle for an hour are
//!   stopped (the culler checks every 10 minutes); users pick a profile (`standard`,
//!   `large`) whose requests and limits fit the namespace's quota. The listener is
//!   plain HTTP inside the VPC: HTTPS needs a certificate for the private zone's name,
//!   which ACM's public CA does not issue (AWS Private CA, or the public zone of the
//!   README's DNS move, would give one: then `alb.ingress.kubernetes.io/certificate-arn`
//!   and an `https` callback).
//! - **Authentication: GitHub OAuth, organization `piksel`.** Everything Piksel has
//!   lives in GitHub organization `piksel` (seed 000's 1.1 creates it; seed 001's
//!   repositories, CI and OIDC trusts are all there), and the seeds name no other
//!   identity provider: its members sign in with their GitHub accounts, nobody else
//!   can (`allowed_organizations`, scope `read:org` to read private memberships). The
//!   OAuth app's client id and secret are Secrets Manager secret
//!   `piksel/<env>/jupyterhub-github-oauth` (keys `client_id`, `client_secret`; the
//!   infra stack makes it empty, an operator puts the values), read into Secret
//!   `jupyterhub-github-oauth` by External Secrets; the hub reads them from the
//!   environment (`GITHUB_CLIENT_ID`, `GITHUB_CLIENT_SECRET`), never from its values.
//!   The OAuth app's callback is `http://jupyter.<env>.piksel.internal/hub/oauth_callback`.
//! - **Dask Gateway** (chart `dask-gateway` 2026.3.0, Flux HelmRelease `dask-gateway` in
//!   namespace `dask`): users authenticate with their JupyterHub tokens (the gateway is
//!   hub service `dask-gateway` and admits only tokens with
//!   `access:services!service=dask-gateway`, which the hub's `user` and `server` roles
//!   carry); the gateway's API token is Secrets Manager secret
//!   `piksel/<env>/dask-gateway-api-token` (key `token`, `openssl rand -hex 32`), read
//!   into Secret `dask-gateway-api-token` in both namespaces (the chart's documented way
//!   for a gateway in another namespace: the same token on both sides). Workers run on
//!   the tainted `dask` pool (they tolerate `piksel.io/dask` and select `piksel.io/pool:
//!   dask`, spot r7i.2xlarge the cluster autoscaler adds from zero), schedulers on the
//!   on-demand `workloads` pool (a spot interruption of a scheduler loses its cluster;
//!   of a worker, only its tasks, which Dask recomputes). Users choose 1-4 cores and
//!   4-28 GiB per worker (default 2 cores, 14 GiB: four fill an r7i.2xlarge, each
//!   reserving 7/8 of its cores); a cluster has at most 8 workers (16 cores, 120 GiB) in
//!   dev and staging and 32 (60 cores, 460 GiB) in prod, and stops after 30 minutes
//!   (prod: an hour) without clients. dask-gateway has no per-user cluster count: what
//!   all clusters take together is bounded by the `dask` namespace's quota and the pool
//!   (6 nodes, 20 in prod). The gateway, controller and Traefik run as uid 1000 with
//!   the `restricted` security context the namespace enforces: the chart templates none
//!   for the first two and only the uid for Traefik, so Flux's post-renderers patch
//!   their Deployments; schedulers and workers get theirs from the chart's
//!   `extraPodConfig` / `extraContainerConfig`.
//! - **Configuration** (seed 001's piksel-jupyter `config/`: the JupyterLab extensions,
//!   the base environment, the Dask client settings) is typed data here, delivered as
//!   ConfigMap `jupyter-config` that Flux updates: `environment.yml` (the conda
//!   environment the piksel-jupyter image is built from), `extensions.yml` (the
//!   JupyterLab extensions it holds) and `dask.yaml` (the client's gateway address, its
//!   JupyterHub authentication, the lab extension's cluster factory), mounted read-only
//!   into every server (`/etc/piksel/`, `/etc/dask/dask.yaml`). A change reaches each
//!   server at its next start.
//! - **Notebooks** live in the versioned bucket `piksel-notebooks-<account>-us-west-2`
//!   (the seed's `s3://piksel-notebooks/`, named as S3's global names require), under
//!   `notebooks/`. piksel-jupyter's CI syncs its `notebooks/` there (`aws s3 sync
//!   --delete notebooks/ s3://<bucket>/notebooks/`) as role `piksel-<env>-notebook-sync`
//!   (GitHub OIDC; main in dev and staging, the approved `prod` environment in prod):
//!   list the prefix, put and delete objects under it, nothing else. Delete, because a
//!   notebook removed or renamed in the repository must leave the examples too;
//!   versioning keeps every deleted and overwritten version, which the role cannot
//!   remove (no `s3:DeleteObjectVersion`). Every server starts with an init container
//!   (the same image, as uid 1000) copying `notebooks/` into `~/examples`, a volume of
//!   the pod mounted read-only into the notebook container: fresh from main at each
//!   start, never the user's to lose (copy one into the home to change it). The servers
//!   sign as `piksel-<env>-notebook-reader` (EKS Pod Identity of ServiceAccount
//!   `jupyter-user`): list and get under `notebooks/` of that bucket, and read the
//!   indexed products' pixels (odc.rs's `pixel_read_statements`: the analyses'
//!   prefixes of the data bucket, Sentinel-2's COGs, USGS's requester-pays Landsat,
//!   `AWS_REQUEST_PAYER=requester`), nothing else. The Dask workers, which load what a
//!   notebook's graph asks for, sign as `piksel-<env>-dask-worker` (ServiceAccount
//!   `dask-worker` of `dask`) with the same pixel reads; the schedulers read nothing.
//! - **The Open Data Cube:** the servers read the index as `odc_reader` (odc.rs writes
//!   its Secret `odc-reader` in this namespace), datacube's `ODC_DEFAULT_*` settings in
//!   their environment, the host substituted by Flux, TLS verified against the RDS
//!   bundle.
//! - **Images:** the servers, the examples' init container and the Dask schedulers and
//!   workers run the environment's piksel-jupyter image pinned by digest
//!   (`images.rs`; one environment everywhere: a worker unpickles what the notebook
//!   pickled). What the image must hold: the base environment below (the AWS CLI, for the
//!   examples; dask-gateway at the gateway's version), Jupyter's docker-stacks user
//!   (uid 1000, gid 100, home `/home/jovyan`) and the RDS bundle at piksel-core's path.
//! - **Security:** namespace `jupyterhub` is Pod Security `baseline` (platform.rs);
//!   the chart's privileged iptables init container is off
//!   (`singleuser.cloudMetadata.blockWithIptables: false`): the platform's
//!   NetworkPolicies keep the instance metadata address out of reach. The chart's own
//!   NetworkPolicies are off too: the platform's default-deny and allowances are the
//!   one statement of what may talk (the chart's would let notebooks reach every public
//!   address on every port). The servers run as uid 1000 without privilege escalation,
//!   every capability dropped, seccomp `RuntimeDefault`.
//! - **Disruption:** neither chart has an autoscaler; the hub (its SQLite database on
//!   one claim) and the proxy (routes in memory, re-sent by the hub) are single
//!   replicas, for which a disruption budget would block every node drain, so none is
//!   written; the gateway's API server and Traefik run two replicas in prod.

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Error, Result, Stack};
use girder_eks::{EksClusterHandle, PodIdentityRoleHandle};
use girder_iam::{PolicyDocument, Role, Trust};
use girder_k8s::charts::dask_gateway::{
    Backend, Bounds, ClusterPolicy, Component, DaskGatewayValues, DaskProcess, Gateway,
    GatewayAuth, Traefik, TraefikService,
};
use girder_k8s::charts::jupyterhub::{
    ChartIngress, ChartNetworkPolicy, Chp, CloudMetadata, Cull, DynamicStorage, Enabled, Hub,
    HubDb, HubDbClaim, HubRole, HubService, JupyterhubValues, PodTolerations, PrePuller, Profile,
    ProfileOverride, Proxy, ProxyService, Scheduling, Singleuser, SingleuserStorage, SpawnerCpu,
    SpawnerMemory,
};
use girder_k8s::charts::{ChartImage, ChartResources, Cores, Gibibytes, RequestLimit};
use girder_k8s::crds::external_secrets::{ExternalSecret, ExternalSecretSpec, StoreRef};
use girder_k8s::crds::flux::{KustomizePatch, KustomizePostRenderer, PostRenderer};
use girder_k8s::{ConfigMap, Delivery, NamespaceHandle, Release, ServiceAccount};
use girder_storage::BucketHandle;
use serde_json::{Value as Json, json};

use crate::config::{Environment, REGION};
use crate::eks::{DASK_TAINT, POOL_LABEL};
use crate::platform::{DASK_NAMESPACE, JUPYTERHUB_NAMESPACE};

/// The Kubernetes app.
pub(crate) const APP: &str = "jupyter";
/// The GitHub organization whose members may sign in.
pub const GITHUB_ORGANIZATION: &str = "piksel";
/// The GitHub repository of the notebooks and configuration (seed 001).
pub(crate) const REPOSITORY: &str = "piksel/piksel-jupyter";
/// The image of the servers, schedulers and workers.
const IMAGE_REPOSITORY: &str = "piksel-jupyter";
/// Where the notebooks live in the notebooks bucket.
pub const NOTEBOOKS_PREFIX: &str = "notebooks/";
/// The notebook servers' ServiceAccount (their AWS role's).
pub const USER_SERVICE_ACCOUNT: &str = "jupyter-user";
/// The Dask workers' ServiceAccount (their AWS role's), in `dask`.
pub const WORKER_SERVICE_ACCOUNT: &str = "dask-worker";
/// The hub's and the gateway's Helm releases.
const HUB_RELEASE: &str = "jupyterhub";
const GATEWAY_RELEASE: &str = "dask-gateway";
/// The gateway's name as a hub service.
const GATEWAY_SERVICE: &str = "dask-gateway";
/// The Secret (and Secrets Manager secret, under `piksel/<env>/`) of the OAuth app.
const OAUTH_SECRET: &str = "jupyterhub-github-oauth";
/// The Secret (and Secrets Manager secret) of the gateway's hub API token.
const GATEWAY_TOKEN_SECRET: &str = "dask-gateway-api-token";
/// The ConfigMap of the piksel-jupyter configuration.
const CONFIG_MAP: &str = "jupyter-config";
/// The StorageClass of the claims (the add-ons' gp3 default class).
const GP3: &str = "gp3";
/// The uid and gid the notebook image (Jupyter's docker-stacks) runs as.
const NOTEBOOK_UID: i64 = 1000;
const NOTEBOOK_GID: i64 = 100;
/// The home directory in the image.
const HOME: &str = "/home/jovyan";
/// Where the examples are mounted.
const EXAMPLES: &str = "/home/jovyan/examples";

/// The Secrets Manager secrets the app's ExternalSecrets read (`piksel/<env>/...`):
/// the infra stack makes them empty (cluster_secrets.rs), an operator puts the values.
pub(crate) fn secret_names(env: &Environment) -> [String; 2] {
    [OAUTH_SECRET, GATEWAY_TOKEN_SECRET].map(|secret| format!("piksel/{}/{secret}", env.name))
}

/// The hub's address.
pub fn hostname(env: &Environment) -> String {
    format!("jupyter.{}.piksel.internal", env.name)
}

/// A profile's requests and limits: cores, GiB.
struct ProfileSize {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    cpu: (f64, f64),
    memory: (u32, u32),
}

/// What differs by environment.
struct Sizing {
    home_gib: u32,
    profiles: [ProfileSize; 2],
    dask: ClusterPolicy,
    replicas: u16,
}

/// Sized to the namespaces' quotas (platform.rs): in dev and staging the `jupyterhub`
/// quota's 12 CPU / 40 GiB of limits hold about ten standard servers besides the hub
/// and proxy, its 30 claims / 300 GiB 29 homes of 5 GiB and the hub's; in prod 40 CPU /
/// 120 GiB hold twenty, 150 claims / 1500 GiB 149 homes of 10 GiB and the hub's.
fn sizing(env: &Environment) -> Sizing {
    let worker_cores = Bounds::new(1, 2, 4);
    let worker_memory = Bounds::new(4, 14, 28);
    if env.production {
        Sizing {
            home_gib: 10,
            profiles: [
                ProfileSize {
                    slug: "standard",
                    name: "Standard",
                    description: "2 CPU, 6 GiB: notebooks that send their heavy work to Dask",
                    cpu: (0.5, 2.0),
                    memory: (2, 6),
                },
                ProfileSize {
                    slug: "large",
                    name: "Large",
                    description: "4 CPU, 12 GiB: analyses that hold a scene in memory",
                    cpu: (1.0, 4.0),
                    memory: (4, 12),
                },
            ],
            dask: ClusterPolicy {
                worker_cores,
                worker_memory,
                cpu_request_share: 0.875,
                max_workers: 32,
                max_cores: 60,
                max_memory: Gibibytes(460),
                idle_timeout: 3600,
            },
            replicas: 2,
        }
    } else {
        Sizing {
            home_gib: 5,
            profiles: [
                ProfileSize {
                    slug: "standard",
                    name: "Standard",
                    description: "1 CPU, 3 GiB: notebooks that send their heavy work to Dask",
                    cpu: (0.25, 1.0),
                    memory: (1, 3),
                },
                ProfileSize {
                    slug: "large",
                    name: "Large",
                    description: "2 CPU, 6 GiB: analyses that hold a scene in memory",
                    cpu: (0.5, 2.0),
                    memory: (2, 6),
                },
            ],
            dask: ClusterPolicy {
                worker_cores,
                worker_memory,
                cpu_request_share: 0.875,
                max_workers: 8,
                max_cores: 16,
                max_memory: Gibibytes(120),
                idle_timeout: 1800,
            },
            replicas: 1,
        }
    }
}

/// One JupyterLab extension of the image.
struct LabExtension {
    package: &'static str,
    version: &'static str,
    why: &'static str,
}

/// The JupyterLab extensions (seed 000's 3.4.2).
const LAB_EXTENSIONS: [LabExtension; 4] = [
    LabExtension {
        package: "dask-labextension",
        version: ">=7.0",
        why: "Dask Gateway clusters and their dashboards in the lab",
    },
    LabExtension {
        package: "jupyterlab-git",
        version: ">=0.51",
        why: "clone and commit analysis repositories",
    },
    LabExtension {
        package: "jupyter-resource-usage",
        version: ">=1.1",
        why: "the server's memory and CPU against its profile's limits",
    },
    LabExtension {
        package: "ipyleaflet",
        version: ">=0.19",
        why: "maps of the data cube's results",
    },
];

/// The base environment (seed 000's 3.4.3 and 5.1.3: the Open Data Cube and the
/// geospatial libraries; dask-gateway at the gateway's version).
const BASE_PACKAGES: [(&str, &str); 16] = [
    ("python", "3.12.*"),
    ("jupyterlab", ">=4.4"),
    ("datacube", ">=1.9"),
    ("odc-stac", ">=0.4"),
    ("odc-geo", ">=0.4"),
    ("pystac-client", ">=0.8"),
    ("rioxarray", ">=0.15"),
    ("xarray", ">=2024.6"),
    ("geopandas", ">=1.0"),
    ("dask", ">=2025.1"),
    ("distributed", ">=2025.1"),
    ("dask-gateway", "2026.3.0"),
    ("s3fs", ">=2024.6"),
    ("boto3", ">=1.34"),
    ("awscli", ">=1.33"),
    ("matplotlib", ">=3.9"),
];

/// Add the servers' AWS role and app `jupyter` to `stack`. Returns the role, whose
/// association Flux's sync waits for (a server started before it never gets the role).
pub(crate) fn add(
    stack: &mut Stack,
    env: &Environment,
    cluster: &EksClusterHandle,
    notebooks: &BucketHandle,
    data: &BucketHandle,
) -> Result<Vec<PodIdentityRoleHandle>> {
    let size = sizing(env);
    let mut root = stack.root();
    let mut scope = root.child(APP)?;
    let at = scope.location();
    let bucket = notebooks
        .known_name()
        .ok_or_else(|| Error::Invalid {
            path: at.clone(),
            message: "the notebooks bucket's name must be known at synth (the servers' init container names it)".into(),
        })?
        .to_owned();
    let image = crate::images::pinned(env, IMAGE_REPOSITORY)?;
    let chart_image = ChartImage::from_reference(&image.to_string()).map_err(|e| e.at(&at))?;

    let reader = cluster.pod_identity_role(
        &mut scope,
        "notebook-reader",
        format!("piksel-{}-notebook-reader", env.name),
        JUPYTERHUB_NAMESPACE,
        USER_SERVICE_ACCOUNT,
        // The examples, and the pixels of every indexed product (a notebook's
        // `dc.load` without Dask reads them itself).
        notebooks
            .read_statements(NOTEBOOKS_PREFIX)
            .into_iter()
            .enumerate()
            .map(|(n, statement)| statement.sid(format!("ReadTheExamples{n}")))
            .chain(crate::odc::pixel_read_statements(data)),
    )?;
    // The Dask workers load the pixels a notebook's graph asks for: the same reads.
    let workers = cluster.pod_identity_role(
        &mut scope,
        "dask-worker",
        format!("piksel-{}-dask-worker", env.name),
        DASK_NAMESPACE,
        WORKER_SERVICE_ACCOUNT,
        crate::odc::pixel_read_statements(data),
    )?;

    let app = &mut scope.with_kube_app(APP)?;
    let hub_ns = NamespaceHandle::existing(JUPYTERHUB_NAMESPACE);
    let dask_ns = NamespaceHandle::existing(DASK_NAMESPACE);
    let _ = ServiceAccount::new(&hub_ns, USER_SERVICE_ACCOUNT).add(app, "user-account")?;
    let _ = ServiceAccount::new(&dask_ns, WORKER_SERVICE_ACCOUNT).add(app, "worker-account")?;
    let secret = |namespace: &str, name: &str, keys: &[&str]| {
        ExternalSecret::new(
            namespace,
            name,
            ExternalSecretSpec::from_properties(
                StoreRef::cluster(crate::SECRET_STORE),
                name,
                &format!("piksel/{}/{name}", env.name),
                keys.iter().map(|key| (*key, *key)),
            ),
        )
    };
    let _ = secret(
        JUPYTERHUB_NAMESPACE,
        OAUTH_SECRET,
        &["client_id", "client_secret"],
    )
    .add(app, "oauth-secret")?;
    let _ = secret(JUPYTERHUB_NAMESPACE, GATEWAY_TOKEN_SECRET, &["token"])
        .add(app, "hub-gateway-token")?;
    let _ = secret(DASK_NAMESPACE, GATEWAY_TOKEN_SECRET, &["token"]).add(app, "gateway-token")?;

    let mut config = ConfigMap::new(&hub_ns, CONFIG_MAP);
    for (key, value) in configuration(env) {
        let text = girder_core::yaml::to_yaml(&at, &value)?;
        config = config.entry(key, text);
    }
    let _ = config.add(app, "config")?;

    let _ = Release::typed(
        HUB_RELEASE,
        JUPYTERHUB_NAMESPACE,
        &hub_values(env, &size, &chart_image, &bucket),
    )
    .delivery(Delivery::Flux)
    .add(app, "jupyterhub")?;
    let mut gateway = Release::typed(
        GATEWAY_RELEASE,
        dask_ns.name(),
        &gateway_values(&size, &chart_image),
    )
    .delivery(Delivery::Flux);
    for renderer in restricted_patches() {
        gateway = gateway.post_renderer(renderer);
    }
    let _ = gateway.add(app, "dask-gateway")?;
    Ok(vec![reader, workers])
}

/// The piksel-jupyter `config/`, by ConfigMap key.
fn configuration(env: &Environment) -> Vec<(&'static str, Json)> {
    let gateway = format!("traefik-{GATEWAY_RELEASE}.{DASK_NAMESPACE}.svc.cluster.local");
    let dependencies: Vec<Json> = BASE_PACKAGES
        .iter()
        .map(|(name, version)| {
            let spec = if version.starts_with(['<', '>', '=']) {
                format!("{name}{version}")
            } else {
                format!("{name}={version}")
            };
            Json::String(spec)
        })
        .chain(
            LAB_EXTENSIONS
                .iter()
                .map(|e| Json::String(format!("{}{}", e.package, e.version))),
        )
        .collect();
    vec![
        (
            "environment.yml",
            json!({
                "name": "piksel",
                "channels": ["conda-forge"],
                "dependencies": dependencies,
            }),
        ),
        (
            "extensions.yml",
            json!({
                "extensions": LAB_EXTENSIONS
                    .iter()
                    .map(|e| json!({"package": e.package, "version": e.version, "why": e.why}))
                    .collect::<Vec<_>>(),
            }),
        ),
        (
            "dask.yaml",
            json!({
                "gateway": {
                    "address": format!("http://{gateway}/services/{GATEWAY_SERVICE}"),
                    "proxy-address": format!("gateway://{gateway}:80"),
                    "public-address": format!("http://{}/services/{GATEWAY_SERVICE}", hostname(env)),
                    "auth": {"type": "jupyterhub"},
                },
                "labextension": {
                    "factory": {
                        "module": "dask_gateway",
                        "class": "GatewayCluster",
                        "args": [],
                        "kwargs": {},
                    },
                },
            }),
        ),
    ]
}

fn workloads_pool() -> BTreeMap<String, String> {
    [(POOL_LABEL.to_owned(), "workloads".to_owned())].into()
}

fn secret_env(secret: &str, key: &str) -> Json {
    json!({"valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
}

/// A container security context Pod Security `restricted` admits, as uid `uid`.
fn restricted_container(uid: i64, gid: i64) -> Json {
    json!({
        "runAsUser": uid,
        "runAsGroup": gid,
        "runAsNonRoot": true,
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

fn hub_values(
    env: &Environment,
    size: &Sizing,
    image: &ChartImage,
    bucket: &str,
) -> JupyterhubValues {
    let host = hostname(env);
    let gateway_url =
        format!("http://traefik-{GATEWAY_RELEASE}.{DASK_NAMESPACE}.svc.cluster.local");
    let access_gateway = format!("access:services!service={GATEWAY_SERVICE}");
    let standard = &size.profiles[0];
    let config: BTreeMap<String, girder_k8s::crds::Extra> = [
        (
            "JupyterHub",
            json!({"authenticator_class": "github", "admin_access": false}),
        ),
        (
            "GitHubOAuthenticator",
            json!({
                "oauth_callback_url": format!("http://{host}/hub/oauth_callback"),
                "allowed_organizations": [GITHUB_ORGANIZATION],
                "scope": ["read:org"],
            }),
        ),
        (
            // KubeSpawner's container: the settings it would write, and every capability
            // dropped.
            "KubeSpawner",
            json!({
                "extra_container_config": {
                    "securityContext": {
                        "runAsUser": NOTEBOOK_UID,
                        "runAsGroup": NOTEBOOK_GID,
                        "runAsNonRoot": true,
                        "allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"]},
                    },
                },
            }),
        ),
    ]
    .into_iter()
    .map(|(class, traits)| {
        let traits = match traits {
            Json::Object(map) => map.into_iter().collect(),
            _ => girder_k8s::crds::Extra::new(),
        };
        (class.to_owned(), traits)
    })
    .collect();
    let profiles = size
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| Profile {
            display_name: p.name.into(),
            description: Some(p.description.into()),
            slug: Some(p.slug.into()),
            default: (i == 0).then_some(true),
            kubespawner_override: ProfileOverride {
                cpu_guarantee: Some(Cores(p.cpu.0)),
                cpu_limit: Some(Cores(p.cpu.1)),
                mem_guarantee: Some(Gibibytes(p.memory.0)),
                mem_limit: Some(Gibibytes(p.memory.1)),
                ..ProfileOverride::default()
            },
        })
        .collect();
    let examples_init = json!({
        "name": "examples",
        "image": image.reference(),
        "command": [
            "aws", "s3", "sync", "--only-show-errors", "--no-progress",
            format!("s3://{bucket}/{NOTEBOOKS_PREFIX}"), "/examples/",
        ],
        "env": [{"name": "AWS_DEFAULT_REGION", "value": REGION}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "securityContext": restricted_container(NOTEBOOK_UID, NOTEBOOK_GID),
        "volumeMounts": [{"name": "examples", "mountPath": "/examples"}],
    });
    JupyterhubValues {
        hub: Some(Hub {
            config: Some(config),
            services: Some(
                [(
                    GATEWAY_SERVICE.to_owned(),
                    HubService {
                        url: Some(gateway_url),
                        display: Some(false),
                        ..HubService::default()
                    },
                )]
                .into(),
            ),
            load_roles: Some(
                [
                    (
                        "user".to_owned(),
                        HubRole {
                            scopes: vec!["self".into(), access_gateway.clone()],
                            ..HubRole::default()
                        },
                    ),
                    (
                        // The servers' own token (the lab extension's client): JupyterHub's
                        // default server scopes and the gateway's.
                        "server".to_owned(),
                        HubRole {
                            scopes: vec![
                                "users:activity!user".into(),
                                "access:servers!server".into(),
                                access_gateway,
                            ],
                            ..HubRole::default()
                        },
                    ),
                ]
                .into(),
            ),
            extra_env: Some(
                [
                    ("GITHUB_CLIENT_ID", secret_env(OAUTH_SECRET, "client_id")),
                    ("GITHUB_CLIENT_SECRET", secret_env(OAUTH_SECRET, "client_secret")),
                    ("DASK_GATEWAY_API_TOKEN", secret_env(GATEWAY_TOKEN_SECRET, "token")),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ),
            extra_config: Some(
                [(
                    "dask-gateway-token".to_owned(),
                    // The chart generates a token per service; the gateway, in another
                    // namespace, holds the shared one instead.
                    "import os\n\nfor service in c.JupyterHub.services:\n    if service[\"name\"] == \"dask-gateway\":\n        service[\"api_token\"] = os.environ[\"DASK_GATEWAY_API_TOKEN\"]\n".to_owned(),
                )]
                .into(),
            ),
            db: Some(HubDb {
                kind: "sqlite-pvc".into(),
                pvc: Some(HubDbClaim {
                    storage: "1Gi".into(),
                    storage_class_name: Some(GP3.into()),
                    // The hub's users, tokens and servers outlive a removed release
                    // (review 6's m5).
                    annotations: Some(
                        [("helm.sh/resource-policy".to_owned(), "keep".to_owned())].into(),
                    ),
                }),
            }),
            node_selector: Some(workloads_pool()),
            resources: Some(ChartResources::new(("250m", "1"), ("512Mi", "1Gi"))),
            network_policy: Some(ChartNetworkPolicy { enabled: false }),
            ..Hub::default()
        }),
        proxy: Some(Proxy {
            // The ALB reaches the proxy's pods directly (IP targets); the quota allows no
            // LoadBalancer Service.
            service: Some(ProxyService {
                kind: "ClusterIP".into(),
                ..ProxyService::default()
            }),
            chp: Some(Chp {
                resources: Some(ChartResources::new(("100m", "500m"), ("128Mi", "256Mi"))),
                node_selector: Some(workloads_pool()),
                network_policy: Some(ChartNetworkPolicy { enabled: false }),
                ..Chp::default()
            }),
            ..Proxy::default()
        }),
        singleuser: Some(Singleuser {
            image: Some(image.clone()),
            cpu: Some(SpawnerCpu {
                guarantee: Some(Cores(standard.cpu.0)),
                limit: Some(Cores(standard.cpu.1)),
            }),
            memory: Some(SpawnerMemory {
                guarantee: Some(Gibibytes(standard.memory.0)),
                limit: Some(Gibibytes(standard.memory.1)),
            }),
            storage: Some(SingleuserStorage {
                kind: "dynamic".into(),
                capacity: Some(format!("{}Gi", size.home_gib)),
                home_mount_path: HOME.into(),
                dynamic: Some(DynamicStorage {
                    storage_class: Some(GP3.into()),
                }),
                extra_volumes: Some(vec![
                    json!({"name": "examples", "emptyDir": {"sizeLimit": "1Gi"}}),
                    json!({"name": "piksel-config", "configMap": {"name": CONFIG_MAP, "items": [
                        {"key": "environment.yml", "path": "environment.yml"},
                        {"key": "extensions.yml", "path": "extensions.yml"},
                    ]}}),
                    json!({"name": "dask-config", "configMap": {"name": CONFIG_MAP, "items": [
                        {"key": "dask.yaml", "path": "dask.yaml"},
                    ]}}),
                ]),
                extra_volume_mounts: Some(vec![
                    json!({"name": "examples", "mountPath": EXAMPLES, "readOnly": true}),
                    json!({"name": "piksel-config", "mountPath": "/etc/piksel", "readOnly": true}),
                    json!({"name": "dask-config", "mountPath": "/etc/dask", "readOnly": true}),
                ]),
            }),
            node_selector: Some(workloads_pool()),
            cloud_metadata: Some(CloudMetadata {
                block_with_iptables: false,
            }),
            network_policy: Some(ChartNetworkPolicy { enabled: false }),
            extra_env: Some(
                [
                    ("AWS_DEFAULT_REGION", json!(REGION)),
                    (
                        crate::odc::REQUESTER_PAYS_ENV.0,
                        json!(crate::odc::REQUESTER_PAYS_ENV.1),
                    ),
                    ("PIKSEL_NOTEBOOKS", json!(format!("s3://{bucket}/{NOTEBOOKS_PREFIX}"))),
                    // The Open Data Cube index, read-only (odc.rs's `odc_reader`, whose
                    // Secret it writes in this namespace), over verified TLS; the host
                    // is known at apply and substituted by Flux.
                    (
                        "ODC_DEFAULT_DB_HOSTNAME",
                        json!(format!("${{{}}}", crate::odc::DB_HOST_VAR)),
                    ),
                    ("ODC_DEFAULT_DB_PORT", json!(crate::odc::DATABASE_PORT.to_string())),
                    ("ODC_DEFAULT_DB_DATABASE", json!(crate::odc::DATABASE)),
                    (
                        "ODC_DEFAULT_DB_USERNAME",
                        secret_env(crate::odc::READER_SECRET, crate::odc::USERNAME_KEY),
                    ),
                    (
                        "ODC_DEFAULT_DB_PASSWORD",
                        secret_env(crate::odc::READER_SECRET, crate::odc::PASSWORD_KEY),
                    ),
                    ("ODC_DEFAULT_INDEX_DRIVER", json!("postgis")),
                    ("PGSSLMODE", json!("verify-full")),
                    ("PGSSLROOTCERT", json!(crate::odc::CoreImage::RDS_CA_BUNDLE)),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ),
            init_containers: Some(vec![examples_init]),
            service_account_name: Some(USER_SERVICE_ACCOUNT.into()),
            default_url: Some("/lab".into()),
            profile_list: Some(profiles),
            // KubeSpawner's pod context is its fsGroup (the home volume's group): kept,
            // with seccomp.
            extra: [(
                "extraPodConfig".to_owned(),
                json!({"securityContext": {
                    "fsGroup": NOTEBOOK_GID,
                    "seccompProfile": {"type": "RuntimeDefault"},
                }}),
            )]
            .into(),
            ..Singleuser::default()
        }),
        scheduling: Some(Scheduling {
            // The cluster autoscaler packs and removes nodes; no second scheduler with
            // cluster-wide rights, no placeholders.
            user_scheduler: Some(Enabled { enabled: false }),
            user_placeholder: Some(Enabled { enabled: false }),
            // No node carries the chart's `hub.jupyter.org/dedicated` taints: tolerate
            // nothing.
            core_pods: Some(PodTolerations::default()),
            user_pods: Some(PodTolerations::default()),
            ..Scheduling::default()
        }),
        // The image is pinned by digest and pulled on a server's first start on a node.
        pre_puller: Some(PrePuller {
            hook: Some(Enabled { enabled: false }),
            continuous: Some(Enabled { enabled: false }),
        }),
        ingress: Some(ChartIngress {
            enabled: true,
            annotations: Some(
                [
                    ("alb.ingress.kubernetes.io/scheme", "internal".to_owned()),
                    ("alb.ingress.kubernetes.io/target-type", "ip".to_owned()),
                    ("alb.ingress.kubernetes.io/healthcheck-path", "/hub/health".to_owned()),
                    ("external-dns.alpha.kubernetes.io/hostname", host.clone()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            ),
            ingress_class_name: Some("alb".into()),
            hosts: Some(vec![host]),
            path_type: None,
        }),
        cull: Some(Cull::idle(3600, 600)),
        extra: girder_k8s::crds::Extra::new(),
    }
}

fn gateway_values(size: &Sizing, image: &ChartImage) -> DaskGatewayValues {
    let workloads = workloads_pool();
    let pod = |pool: &str, tolerate: bool| {
        let mut config = json!({
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": NOTEBOOK_UID,
                "runAsGroup": NOTEBOOK_GID,
                "fsGroup": NOTEBOOK_GID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "nodeSelector": {POOL_LABEL: pool},
            "automountServiceAccountToken": false,
        });
        if tolerate {
            config["tolerations"] = json!([{
                "key": DASK_TAINT,
                "operator": "Equal",
                "value": "true",
                "effect": "NoSchedule",
            }]);
        }
        config
    };
    let container = json!({
        "securityContext": {
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
        },
    });
    let hub_api = format!("http://hub.{JUPYTERHUB_NAMESPACE}.svc.cluster.local:8081/hub/api");
    DaskGatewayValues {
        gateway: Some(Gateway {
            replicas: Some(size.replicas),
            prefix: Some(format!("/services/{GATEWAY_SERVICE}")),
            resources: Some(ChartResources::new(("100m", "500m"), ("256Mi", "512Mi"))),
            auth: Some(GatewayAuth::jupyterhub(
                &hub_api,
                GATEWAY_TOKEN_SECRET,
                "token",
                GATEWAY_SERVICE,
            )),
            backend: Some(Backend {
                image: Some(image.clone()),
                scheduler: Some(DaskProcess {
                    extra_pod_config: Some(pod("workloads", false)),
                    extra_container_config: Some(container.clone()),
                    cores: Some(RequestLimit::new(Cores(0.5), Cores(1.0))),
                    memory: Some(RequestLimit::new(Gibibytes(2), Gibibytes(4))),
                    threads: None,
                }),
                worker: Some(DaskProcess {
                    extra_pod_config: Some({
                        let mut config = pod("dask", true);
                        config["serviceAccountName"] = json!(WORKER_SERVICE_ACCOUNT);
                        config
                    }),
                    extra_container_config: Some({
                        let mut config = container;
                        config["env"] = json!([
                            {"name": "AWS_REGION", "value": REGION},
                            {"name": "AWS_DEFAULT_REGION", "value": REGION},
                            {
                                "name": crate::odc::REQUESTER_PAYS_ENV.0,
                                "value": crate::odc::REQUESTER_PAYS_ENV.1,
                            },
                        ]);
                        config
                    }),
                    cores: Some(RequestLimit::new(Cores(1.75), Cores(2.0))),
                    memory: Some(RequestLimit::new(Gibibytes(14), Gibibytes(14))),
                    threads: Some(2),
                }),
                ..Backend::default()
            }),
            node_selector: Some(workloads.clone()),
            cluster_policy: Some(size.dask.clone()),
            ..Gateway::default()
        }),
        controller: Some(Component {
            resources: Some(ChartResources::new(("50m", "250m"), ("128Mi", "256Mi"))),
            node_selector: Some(workloads.clone()),
            ..Component::default()
        }),
        traefik: Some(Traefik {
            replicas: Some(size.replicas),
            resources: Some(ChartResources::new(("100m", "500m"), ("128Mi", "256Mi"))),
            // Notebooks reach it in the cluster; the quota allows no LoadBalancer.
            service: Some(TraefikService {
                kind: "ClusterIP".into(),
            }),
            node_selector: Some(workloads),
            ..Traefik::default()
        }),
        extra: girder_k8s::crds::Extra::new(),
    }
}

/// The `restricted` security context of the gateway's own Deployments, which the chart
/// cannot set: a pod context (non-root uid 1000, seccomp) and the container's (no
/// escalation, no capabilities).
fn restricted_patches() -> Vec<PostRenderer> {
    let patches = ["api", "controller", "traefik"]
        .into_iter()
        .map(|deployment| {
            KustomizePatch::json6902(
                "apps",
                "Deployment",
                &format!("{deployment}-{GATEWAY_RELEASE}"),
                &json!([
                    {
                        "op": "add",
                        "path": "/spec/template/spec/securityContext",
                        "value": {
                            "runAsNonRoot": true,
                            "runAsUser": 1000,
                            "runAsGroup": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                    },
                    {
                        "op": "add",
                        "path": "/spec/template/spec/containers/0/securityContext",
                        "value": restricted_container(1000, 1000),
                    },
                ]),
            )
        })
        .collect();
    vec![PostRenderer {
        kustomize: KustomizePostRenderer { patches },
    }]
}

/// The role piksel-jupyter's CI syncs `notebooks/` with (in `infra`'s scope `ci`, next to
/// the image pushes): list the prefix, put and delete objects under it.
pub(crate) fn notebook_sync_role(
    scope: &mut girder_core::Scope<'_>,
    env: &Environment,
    github: girder_core::Expr<String>,
    notebooks: &BucketHandle,
) -> Result<girder_iam::RoleHandle> {
    let trust = if env.production {
        Trust::github_actions_environment(github, REPOSITORY, "prod")
    } else {
        Trust::github_actions_branch(github, REPOSITORY, "main")
    };
    let mut policy = PolicyDocument::new().statement(
        notebooks
            .list_statement(NOTEBOOKS_PREFIX)
            .sid("ListNotebooks"),
    );
    for (i, statement) in notebooks
        .write_statements(NOTEBOOKS_PREFIX)
        .into_iter()
        .enumerate()
    {
        policy = policy.statement(statement.sid(format!("SyncNotebooks{i}")));
    }
    Role::new(format!("piksel-{}-notebook-sync", env.name), trust)
        .description(format!(
            "GitHub Actions of {REPOSITORY} syncs notebooks/ to the notebooks bucket in {}",
            env.name
        ))
        .max_session(3600)
        .policy("sync", policy)
        .add(scope, "notebook-sync")
}
