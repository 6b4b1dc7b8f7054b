//! The Open Data Cube's service charts (opendatacube/datacube-charts), typed:
//! `datacube-ows` 0.20.1 ([`OwsValues`], WMS / WMTS) and `datacube-explorer` 0.5.31
//! ([`ExplorerValues`], Explorer and its STAC API). Both are built from one
//! [`OdcService`] (image, index database, replicas, resources, user, nodes, ingress),
//! checked before synth: the image pinned by digest, replicas `1 <= min <= max`, CPU
//! and memory requested and limited with each request at most its limit, a database
//! Secret named.
//!
//! What the templates do, and so what these values set (read from the charts' templates
//! at those versions):
//! - both read the database from `database.{host,port,database}` and Secret
//!   `database.existingSecret` (keys `postgres-username`, `postgres-password`) into the
//!   `DB_*` variables datacube reads (datacube 1.9 as legacy aliases of
//!   `ODC_DEFAULT_DB_*`), plus `additionalEnvironmentVars`;
//! - datacube-ows mounts ConfigMap `owsConfig.configMap` at `owsConfig.path` and sets
//!   `DATACUBE_OWS_CFG` to `owsConfig.ows_cfg` (here the absolute path of
//!   [`CONFIG_FILE`](crate::CONFIG_FILE), which datacube-ows reads as JSON); its default
//!   `owsConfig.image` adds an init container copying a test configuration out of an
//!   image: set to null here. Its container port 8000 has no name; its Service port is
//!   named `"80"`. It templates the pod's (`securityContext`) and the container's
//!   (`ows.securityContext`) security contexts, an HPA (`ows.hpa`, `minReplicas` /
//!   `maxReplicas`; `ows.autoscaling` leaves the Deployment's replicas to it), and
//!   metrics (`prometheus.enabled`: `prometheus_multiproc_dir` on an emptyDir, served at
//!   `/metrics` on port 8000 by prometheus-flask-exporter);
//! - datacube-explorer templates no security context, no HPA and no metrics volume:
//!   [`ExplorerValues::post_renderer`] adds the security contexts (and, when autoscaled,
//!   removes the Deployment's replica count) as a Flux post-renderer; the HPA is an
//!   object of the caller's; its metrics go to `/dev/shm` (`PROMETHEUS_MULTIPROC_DIR`).
//!   Its container port 8080 is named `http`, as is its Service port.

use std::collections::BTreeMap;

use girder_core::helm::ChartRef;
use girder_k8s::ChartValues;
use girder_k8s::charts::ChartResources;
use girder_k8s::crds::Extra;
use girder_k8s::crds::flux::{KustomizePatch, KustomizePostRenderer, PostRenderer};
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::json;

use crate::error::{OdcError, ResourceProblem};
use crate::ows::{CONFIG_FILE, OwsConfig};

/// The charts' Helm repository.
pub const CHART_REPOSITORY: &str = "https://opendatacube.github.io/datacube-charts";
/// datacube-ows's port in its container (unnamed in the chart).
pub const OWS_PORT: u16 = 8000;
/// Explorer's port in its container (named `http`).
pub const EXPLORER_PORT: u16 = 8080;
/// Where datacube-ows's configuration is mounted.
pub const OWS_CONFIG_PATH: &str = "/env/config";
/// Where datacube-ows keeps its Prometheus multiprocess files (an emptyDir).
const OWS_METRICS_PATH: &str = "/opt/prometheus/";
/// The CPU utilization (percent of the request) the autoscalers keep.
pub const TARGET_CPU_PERCENT: u8 = 70;

/// A chart's `image`: `registry/repository:tag`, the tag carrying the digest
/// (`v1.2.0@sha256:...`), so the chart's `registry/repository:tag` is pinned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartImage {
    /// `123456789012.dkr.ecr.us-west-2.amazonaws.com`.
    pub registry: String,
    /// `piksel-core`.
    pub repository: String,
    /// `v1.2.0@sha256:<digest>`.
    pub tag: String,
    /// `IfNotPresent`: a digest never changes.
    pub pull_policy: String,
}

impl ChartImage {
    /// Split `reference` (`registry/repository:tag@sha256:<64 hex>`), for `release`'s
    /// errors.
    pub fn pinned(release: &str, reference: &str) -> Result<Self, OdcError> {
        let refuse = || OdcError::Image {
            release: release.to_owned(),
            reference: reference.to_owned(),
        };
        let (name, digest) = reference.split_once("@sha256:").ok_or_else(refuse)?;
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(refuse());
        }
        let (registry, path) = name.split_once('/').ok_or_else(refuse)?;
        let (repository, tag) = path.rsplit_once(':').ok_or_else(refuse)?;
        let fine = |s: &str| !s.is_empty() && !s.contains([' ', '@']);
        if !(fine(registry) && fine(repository) && fine(tag)) || tag.contains('/') {
            return Err(refuse());
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: format!("{tag}@sha256:{digest}"),
            pull_policy: "IfNotPresent".into(),
        })
    }
}

/// The index database a service reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// Host name (or a Flux substitution variable, `${ODC_DB_HOST}`).
    pub host: String,
    /// Port (5432).
    pub port: u16,
    /// Database name.
    pub database: String,
    /// Secret with `postgres-username` and `postgres-password`.
    pub secret: String,
}

/// One ODC service's deployment, by intent: what both charts' values are made from.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct OdcService {
    release: String,
    image: String,
    database: Database,
    replicas: (u16, u16),
    resources: ChartResources,
    user: u32,
    nodes: Option<(String, String)>,
    ingress: Option<ServiceIngress>,
    environment: BTreeMap<String, String>,
    metrics: bool,
    service_account: Option<String>,
}

/// An Ingress in front of a service: class, host and annotations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceIngress {
    /// IngressClass (`alb`).
    pub class: String,
    /// Host name (`ows.dev.example.internal`).
    pub host: String,
    /// Annotations (the controller's settings).
    pub annotations: BTreeMap<String, String>,
}

impl OdcService {
    /// Release `release` of image `image` (`registry/repository:tag@sha256:<digest>`)
    /// reading `database`: one to two replicas, 250m to 1 CPU and 512Mi to 2Gi, as uid
    /// and gid 1000 (the ODC images' `ubuntu`), metrics on.
    pub fn new(release: impl Into<String>, image: impl Into<String>, database: Database) -> Self {
        Self {
            release: release.into(),
            image: image.into(),
            database,
            replicas: (1, 2),
            resources: ChartResources::new(("250m", "1"), ("512Mi", "2Gi")),
            user: 1000,
            nodes: None,
            ingress: None,
            environment: BTreeMap::new(),
            metrics: true,
            service_account: None,
        }
    }

    /// Run as ServiceAccount `name`, which datacube-ows's chart makes (for an AWS role
    /// bound to it: EKS Pod Identity, or IRSA through its annotations). Explorer's chart
    /// names an existing one only; it needs none here.
    pub fn service_account(mut self, name: impl Into<String>) -> Self {
        self.service_account = Some(name.into());
        self
    }

    /// Between `min` and `max` replicas, by CPU.
    pub fn replicas(mut self, min: u16, max: u16) -> Self {
        self.replicas = (min, max);
        self
    }

    /// Requests and limits of the service's container.
    pub fn resources(mut self, resources: ChartResources) -> Self {
        self.resources = resources;
        self
    }

    /// Run as uid (and gid, and fsGroup) `uid`.
    pub fn run_as(mut self, uid: u32) -> Self {
        self.user = uid;
        self
    }

    /// Only on nodes labelled `label=value` (required node affinity).
    pub fn on_nodes(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.nodes = Some((label.into(), value.into()));
        self
    }

    /// An Ingress of class `class` for `host`, with `annotations`.
    pub fn ingress<K: Into<String>, V: Into<String>>(
        mut self,
        class: impl Into<String>,
        host: impl Into<String>,
        annotations: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.ingress = Some(ServiceIngress {
            class: class.into(),
            host: host.into(),
            annotations: annotations
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        });
        self
    }

    /// An environment variable of the service's container.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.environment.insert(name.into(), value.into());
        self
    }

    /// Serve Prometheus metrics at `/metrics` (default on).
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// The release name.
    pub fn release(&self) -> &str {
        &self.release
    }

    /// The replica floor.
    pub fn min_replicas(&self) -> u16 {
        self.replicas.0
    }

    /// The replica ceiling.
    pub fn max_replicas(&self) -> u16 {
        self.replicas.1
    }

    /// Whether it serves metrics.
    pub fn serves_metrics(&self) -> bool {
        self.metrics
    }

    /// Its Ingress, if any.
    pub fn ingress_settings(&self) -> Option<&ServiceIngress> {
        self.ingress.as_ref()
    }

    /// Check the rules and return the image.
    fn check(&self) -> Result<ChartImage, OdcError> {
        let release = || self.release.clone();
        let (min, max) = self.replicas;
        if min == 0 || min > max {
            return Err(OdcError::Replicas {
                release: release(),
                min,
                max,
            });
        }
        if self.database.secret.is_empty() {
            return Err(OdcError::DatabaseSecret { release: release() });
        }
        for resource in ["cpu", "memory"] {
            let get = |side: &Option<BTreeMap<String, String>>| {
                side.as_ref().and_then(|m| m.get(resource)).cloned()
            };
            let problem = |problem| OdcError::Resources {
                release: release(),
                resource,
                problem,
            };
            let (Some(request), Some(limit)) =
                (get(&self.resources.requests), get(&self.resources.limits))
            else {
                return Err(problem(ResourceProblem::Missing));
            };
            let read = |q: &str| {
                quantity(q).ok_or_else(|| problem(ResourceProblem::Unreadable(q.to_owned())))
            };
            if read(&request)? > read(&limit)? {
                return Err(problem(ResourceProblem::RequestAboveLimit {
                    request,
                    limit,
                }));
            }
        }
        ChartImage::pinned(&self.release, &self.image)
    }

    fn pod_security(&self) -> core::PodSecurityContext {
        let id = i64::from(self.user);
        core::PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(id),
            run_as_group: Some(id),
            fs_group: Some(id),
            seccomp_profile: Some(core::SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..core::PodSecurityContext::default()
        }
    }

    fn container_security(&self) -> core::SecurityContext {
        core::SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(core::Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            run_as_non_root: Some(true),
            seccomp_profile: Some(core::SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..core::SecurityContext::default()
        }
    }

    fn affinity(&self) -> Option<core::Affinity> {
        let (label, value) = self.nodes.as_ref()?;
        Some(core::Affinity {
            node_affinity: Some(core::NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(core::NodeSelector {
                    node_selector_terms: vec![core::NodeSelectorTerm {
                        match_expressions: Some(vec![core::NodeSelectorRequirement {
                            key: label.clone(),
                            operator: "In".into(),
                            values: Some(vec![value.clone()]),
                        }]),
                        match_fields: None,
                    }],
                }),
                ..core::NodeAffinity::default()
            }),
            ..core::Affinity::default()
        })
    }

    fn chart_database(&self) -> ChartDatabase {
        ChartDatabase {
            existing_secret: self.database.secret.clone(),
            database: self.database.database.clone(),
            host: self.database.host.clone(),
            port: self.database.port,
        }
    }

    fn chart_ingress(&self) -> Option<IngressValues> {
        self.ingress.as_ref().map(|ingress| IngressValues {
            enabled: true,
            ingress_class_name: ingress.class.clone(),
            hosts: vec![ingress.host.clone()],
            path: "/".into(),
            annotations: ingress.annotations.clone(),
        })
    }
}

/// A Kubernetes CPU or memory quantity as a number (cores or bytes), for comparing.
fn quantity(text: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 12] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("m", 0.001),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, factor) = SUFFIXES
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((text, 1.0));
    let value: f64 = number.parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(value * factor)
}

/// `database`, as both charts read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartDatabase {
    /// Secret with `postgres-username` and `postgres-password`.
    pub existing_secret: String,
    /// Database name.
    pub database: String,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// `ingress`, as both charts read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressValues {
    /// Write the Ingress.
    pub enabled: bool,
    /// Its class (both templates read `ingress.ingressClassName`).
    pub ingress_class_name: String,
    /// Its hosts.
    pub hosts: Vec<String>,
    /// Its path (a `Prefix`).
    pub path: String,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
}

/// `service`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceValues {
    /// `ClusterIP` (the ALB targets pods directly; datacube-ows's default is `NodePort`).
    #[serde(rename = "type")]
    pub type_: String,
}

fn cluster_ip() -> ServiceValues {
    ServiceValues {
        type_: "ClusterIP".into(),
    }
}

/// A probe as a chart's values: Helm merges a probe into the chart's default one, so an
/// `httpGet` this probe does not use (the handler the charts' default probes use) is
/// written as `null` (deleted), or the merge would give a probe of two handlers, which
/// the API server refuses.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartProbe(pub core::Probe);

impl Serialize for ChartProbe {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        if let Some(map) = value.as_object_mut() {
            map.entry("httpGet").or_insert(serde_json::Value::Null);
        }
        value.serialize(serializer)
    }
}

fn http_probe(path: &str, port: u16, period: i32, timeout: i32) -> ChartProbe {
    ChartProbe(core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(i32::from(port)),
            ..core::HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(3),
        ..core::Probe::default()
    })
}

fn tcp_probe(port: u16, period: i32, failures: i32) -> ChartProbe {
    ChartProbe(core::Probe {
        tcp_socket: Some(core::TCPSocketAction {
            port: IntOrString::Int(i32::from(port)),
            host: None,
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(failures),
        ..core::Probe::default()
    })
}

fn cpu_metric() -> autoscaling::MetricSpec {
    autoscaling::MetricSpec {
        type_: "Resource".into(),
        resource: Some(autoscaling::ResourceMetricSource {
            name: "cpu".into(),
            target: autoscaling::MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(i32::from(TARGET_CPU_PERCENT)),
                ..autoscaling::MetricTarget::default()
            },
        }),
        ..autoscaling::MetricSpec::default()
    }
}

/// Values of `datacube-ows` 0.20.1.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwsValues {
    /// The HPA's floor (and the Deployment's replicas without one).
    pub min_replicas: u16,
    /// The HPA's ceiling.
    pub max_replicas: u16,
    /// The pod's security context.
    pub security_context: Option<core::PodSecurityContext>,
    /// `clusterInfo.envName`: the Deployment's name ends with it.
    pub cluster_info: ClusterInfo,
    /// The index database.
    pub database: ChartDatabase,
    /// The service's container.
    pub ows: OwsContainer,
    /// Where the configuration comes from.
    pub ows_config: OwsConfigSource,
    /// Metrics.
    pub prometheus: Option<OwsPrometheus>,
    /// The Service.
    pub service: ServiceValues,
    /// Scheduling.
    pub affinity: Option<core::Affinity>,
    /// The Ingress.
    pub ingress: Option<IngressValues>,
    /// The ServiceAccount the chart makes and the pods run as.
    pub service_account: Option<OwsServiceAccount>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `serviceAccount` of datacube-ows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwsServiceAccount {
    /// Make it.
    pub enabled: bool,
    /// Its name.
    pub name: String,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
}

/// `clusterInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// The environment's name.
    pub env_name: String,
}

/// `ows`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwsContainer {
    /// The image.
    pub image: ChartImage,
    /// Requests and limits.
    pub resources: ChartResources,
    /// The container's arguments (gunicorn's command line).
    pub docker_args: Vec<String>,
    /// Pod annotations; `null` removes the chart's default (kiam's
    /// `iam.amazonaws.com/role`).
    pub annotations: BTreeMap<String, Option<String>>,
    /// Liveness.
    pub liveness_probe: Option<ChartProbe>,
    /// Readiness.
    pub readiness_probe: Option<ChartProbe>,
    /// Startup.
    pub startup_probe: Option<ChartProbe>,
    /// The container's security context.
    pub security_context: Option<core::SecurityContext>,
    /// The chart's HPA.
    pub hpa: OwsHpa,
    /// Leave the Deployment's replicas to the HPA (the template reads it; the chart's
    /// defaults do not list it).
    pub autoscaling: Option<bool>,
    /// More environment variables.
    pub additional_environment_vars: BTreeMap<String, String>,
}

/// `ows.hpa`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OwsHpa {
    /// Write the HPA.
    pub autoscaling: bool,
    /// Its metrics.
    pub metrics: Vec<autoscaling::MetricSpec>,
}

/// `owsConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwsConfigSource {
    /// The init container's image: null, so none copies a configuration from an image.
    pub image: Option<ChartImage>,
    /// Mount path of the ConfigMap.
    pub path: String,
    /// `DATACUBE_OWS_CFG`.
    pub ows_cfg: String,
    /// The ConfigMap with [`CONFIG_FILE`].
    #[serde(rename = "configMap")]
    pub config_map: String,
}

/// `prometheus`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwsPrometheus {
    /// Serve `/metrics`.
    pub enabled: bool,
    /// The multiprocess directory (an emptyDir).
    pub path: String,
}

impl ChartValues for OwsValues {
    fn chart() -> ChartRef {
        ChartRef::new(CHART_REPOSITORY, "datacube-ows", "0.20.1")
    }
}

impl OwsValues {
    /// datacube-ows's path answering 200 once the database and its OWS ranges are
    /// there (`/ping`): the load balancer's health check. Not the pods' readiness: the
    /// ranges exist only after the first `datacube-ows-update`, and a release whose pods
    /// never become ready before it would fail its install; readiness is the port
    /// accepting connections (the configuration loaded against the index).
    pub const HEALTH_PATH: &'static str = "/ping";

    /// Values serving `config` (checked) from ConfigMap `config_map` in environment
    /// `env_name`, as `service`.
    pub fn new(
        service: &OdcService,
        config: &OwsConfig,
        config_map: &str,
        env_name: &str,
    ) -> Result<Self, OdcError> {
        let image = service.check()?;
        config.check()?;
        let mut environment = service.environment.clone();
        let autoscaled = service.replicas.0 < service.replicas.1;
        environment
            .entry("PYTHONUNBUFFERED".into())
            .or_insert_with(|| "1".into());
        Ok(Self {
            min_replicas: service.replicas.0,
            max_replicas: service.replicas.1,
            security_context: Some(service.pod_security()),
            cluster_info: ClusterInfo {
                env_name: env_name.to_owned(),
            },
            database: service.chart_database(),
            ows: OwsContainer {
                image,
                resources: service.resources.clone(),
                docker_args: [
                    "gunicorn",
                    "-b",
                    "0.0.0.0:8000",
                    "--workers=3",
                    "--timeout",
                    "121",
                    "--keep-alive",
                    "50",
                    "--worker-tmp-dir",
                    "/dev/shm",
                    // Its hook removes a stopped worker's metrics files.
                    "--config",
                    "python:datacube_ows.gunicorn_config",
                    "datacube_ows.wsgi",
                ]
                .map(str::to_owned)
                .to_vec(),
                annotations: [("iam.amazonaws.com/role".to_owned(), None)].into(),
                liveness_probe: Some(tcp_probe(OWS_PORT, 20, 3)),
                readiness_probe: Some(tcp_probe(OWS_PORT, 10, 3)),
                startup_probe: Some(tcp_probe(OWS_PORT, 10, 30)),
                security_context: Some(service.container_security()),
                hpa: OwsHpa {
                    autoscaling: autoscaled,
                    metrics: vec![cpu_metric()],
                },
                autoscaling: autoscaled.then_some(true),
                additional_environment_vars: environment,
            },
            ows_config: OwsConfigSource {
                image: None,
                path: OWS_CONFIG_PATH.into(),
                ows_cfg: format!("{OWS_CONFIG_PATH}/{CONFIG_FILE}"),
                config_map: config_map.to_owned(),
            },
            prometheus: service.metrics.then(|| OwsPrometheus {
                enabled: true,
                path: OWS_METRICS_PATH.into(),
            }),
            service: cluster_ip(),
            affinity: service.affinity(),
            ingress: service.chart_ingress(),
            service_account: service
                .service_account
                .clone()
                .map(|name| OwsServiceAccount {
                    enabled: true,
                    name,
                    annotations: BTreeMap::new(),
                }),
            extra: Extra::new(),
        })
    }

    /// The Deployment the chart writes for `release` in environment `env_name`.
    pub fn deployment_name(release: &str, env_name: &str) -> String {
        format!("{release}-datacube-ows-{env_name}")
    }

    /// The Service (and Ingress, and HPA) the chart writes for `release`.
    pub fn service_name(release: &str) -> String {
        format!("{release}-datacube-ows")
    }

    /// The labels of the chart's pods (and its Service's).
    pub fn pod_labels(release: &str) -> BTreeMap<String, String> {
        [
            ("app".to_owned(), "datacube-ows".to_owned()),
            ("release".to_owned(), release.to_owned()),
        ]
        .into()
    }

    /// The Service port the chart names (`"80"`).
    pub const SERVICE_PORT_NAME: &'static str = "80";
}

/// Values of `datacube-explorer` 0.5.31.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplorerValues {
    /// Replicas at install (an HPA of the caller's takes over when autoscaled).
    pub replica_count: u16,
    /// The image.
    pub image: ChartImage,
    /// The index database.
    pub database: ChartDatabase,
    /// Requests and limits.
    pub resources: ChartResources,
    /// Liveness.
    pub liveness_probe: ChartProbe,
    /// Readiness.
    pub readiness_probe: ChartProbe,
    /// Startup.
    pub startup_probe: ChartProbe,
    /// More environment variables.
    pub additional_environment_vars: BTreeMap<String, String>,
    /// The Service.
    pub service: ServiceValues,
    /// Scheduling.
    pub affinity: Option<core::Affinity>,
    /// The Ingress.
    pub ingress: Option<IngressValues>,
    /// The container's arguments (the image's entrypoint runs them).
    pub docker_args: Vec<String>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChartValues for ExplorerValues {
    fn chart() -> ChartRef {
        ChartRef::new(CHART_REPOSITORY, "datacube-explorer", "0.5.31")
    }
}

impl ExplorerValues {
    /// Explorer's STAC API root, its readiness and load balancer health check.
    pub const HEALTH_PATH: &'static str = "/stac";

    /// Values of `service`.
    pub fn new(service: &OdcService) -> Result<Self, OdcError> {
        let image = service.check()?;
        let mut environment = service.environment.clone();
        if service.metrics {
            // The chart mounts no volume for it; /dev/shm is the pod's own tmpfs.
            environment.insert("PROMETHEUS_MULTIPROC_DIR".into(), "/dev/shm".into());
        }
        Ok(Self {
            replica_count: service.replicas.0,
            image,
            database: service.chart_database(),
            resources: service.resources.clone(),
            // The STAC root is static (links only): it answers while the app runs.
            liveness_probe: http_probe(Self::HEALTH_PATH, EXPLORER_PORT, 20, 10),
            readiness_probe: http_probe(Self::HEALTH_PATH, EXPLORER_PORT, 15, 10),
            startup_probe: ChartProbe(core::Probe {
                failure_threshold: Some(30),
                period_seconds: Some(10),
                ..http_probe(Self::HEALTH_PATH, EXPLORER_PORT, 10, 10).0
            }),
            additional_environment_vars: environment,
            service: cluster_ip(),
            affinity: service.affinity(),
            ingress: service.chart_ingress(),
            // The chart's defaults, but the pid file in the pod's tmpfs (the chart's is
            // relative to the image's working directory, which a non-root user may not
            // write) and without its trailing `|| true`, which only a shell reads.
            docker_args: [
                "gunicorn",
                "-b",
                "0.0.0.0:8080",
                "-w",
                "3",
                "--threads=2",
                "-k",
                "gthread",
                "-t",
                "60",
                "--pid",
                "/dev/shm/gunicorn.pid",
                "--worker-tmp-dir",
                "/dev/shm",
                "--preload",
                "--config",
                "python:cubedash.gunicorn_config",
                "cubedash:app",
            ]
            .map(str::to_owned)
            .to_vec(),
            extra: Extra::new(),
        })
    }

    /// The chart's Deployment, Service and Ingress name for `release` (the release's
    /// own name when it contains `datacube-explorer`).
    pub fn fullname(release: &str) -> String {
        if release.contains("datacube-explorer") {
            release.to_owned()
        } else {
            format!("{release}-datacube-explorer")
        }
    }

    /// The labels of the chart's pods.
    pub fn pod_labels(release: &str) -> BTreeMap<String, String> {
        [
            ("app".to_owned(), release.to_owned()),
            (
                "app.kubernetes.io/name".to_owned(),
                "datacube-explorer".to_owned(),
            ),
            ("app.kubernetes.io/instance".to_owned(), release.to_owned()),
        ]
        .into()
    }

    /// The Service port the chart names.
    pub const SERVICE_PORT_NAME: &'static str = "http";

    /// What the chart's templates cannot say, as a Flux post-renderer on its Deployment:
    /// the pod's and the container's security contexts (Pod Security `restricted`), and,
    /// when `service` autoscales, no replica count (the HPA's, not Helm's, on upgrade).
    pub fn post_renderer(service: &OdcService) -> PostRenderer {
        let mut operations = vec![
            json!({
                "op": "add",
                "path": "/spec/template/spec/securityContext",
                "value": service.pod_security(),
            }),
            json!({
                "op": "add",
                "path": "/spec/template/spec/containers/0/securityContext",
                "value": service.container_security(),
            }),
        ];
        if service.replicas.0 < service.replicas.1 {
            operations.push(json!({"op": "remove", "path": "/spec/replicas"}));
        }
        PostRenderer {
            kustomize: KustomizePostRenderer {
                patches: vec![KustomizePatch::json6902(
                    "apps",
                    "Deployment",
                    &Self::fullname(&service.release),
                    &serde_json::Value::Array(operations),
                )],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn quantities_read_as_kubernetes_writes_them() {
        assert_eq!(quantity("250m"), Some(0.25));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("512Mi"), Some(536_870_912.0));
        assert_eq!(quantity("1G"), Some(1e9));
        assert_eq!(quantity("lots"), None);
        assert!(quantity("1Gi") > quantity("1000Mi"));
    }
}
