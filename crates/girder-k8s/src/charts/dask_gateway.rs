//! Dask's `dask-gateway` chart 2026.3.0 (<https://helm.dask.org>): the gateway's API
//! server, its controller and Traefik, and the scheduler and worker pods the controller
//! starts per Dask cluster. Typed fields for what girder's systems set, the rest in each
//! level's `extra`; the chart's values schema
//! (`../shared/schemas/helm/dask-gateway/values.schema.json`) refuses unknown keys.
//!
//! The gateway's limits and the options users choose from are Python configuration
//! (`gateway.extraConfig`): [`ClusterPolicy`] renders them from typed bounds, so they are
//! checked before synth ([`ChartValues::check`]): every option's `min <= default <= max`,
//! a positive idle timeout, per-cluster ceilings that fit the scheduler and at least one
//! worker of the largest size, and every request within its limit. dask-gateway 2026.3.0
//! limits each cluster (cores, memory, workers); it has no per-user cluster count, so
//! what all of a user's clusters take together is bounded by the namespace's quota.

use std::collections::BTreeMap;

use girder_core::helm::ChartRef;
use serde::Serialize;
use serde_json::Value as Json;

use super::{ChartImage, ChartResources, Cores, Gibibytes, RequestLimit};
use crate::crds::Extra;
use crate::error::K8sError;
use crate::helm::ChartValues;

/// The chart's name in errors.
const CHART: &str = "dask-gateway";
/// The `gateway.extraConfig` key of [`ClusterPolicy`]'s configuration.
pub const POLICY_CONFIG_KEY: &str = "girder-cluster-policy";

/// Values of the `dask-gateway` chart.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaskGatewayValues {
    /// The API server, and the clusters' schedulers and workers (`gateway.backend`).
    pub gateway: Option<Gateway>,
    /// The controller (starts the clusters' pods).
    pub controller: Option<Component>,
    /// Traefik, which routes the clients' and dashboards' traffic.
    pub traefik: Option<Traefik>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChartValues for DaskGatewayValues {
    fn chart() -> ChartRef {
        ChartRef::new("https://helm.dask.org", "dask-gateway", "2026.3.0")
    }

    fn check(&self) -> Result<(), K8sError> {
        let Some(gateway) = &self.gateway else {
            return Ok(());
        };
        let backend = gateway.backend.as_ref();
        let scheduler = backend.and_then(|b| b.scheduler.as_ref());
        for (what, process) in [
            ("dask-gateway scheduler", scheduler),
            (
                "dask-gateway worker",
                backend.and_then(|b| b.worker.as_ref()),
            ),
        ] {
            if let Some(process) = process {
                if let Some(cores) = &process.cores {
                    cores.check(what, "cpu")?;
                }
                if let Some(memory) = &process.memory {
                    memory.check(what, "memory")?;
                }
            }
        }
        if let Some(policy) = &gateway.cluster_policy {
            policy.check(scheduler)?;
        }
        Ok(())
    }
}

/// `gateway`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gateway {
    /// API server replicas.
    pub replicas: Option<u16>,
    /// The path prefix of every route (`/services/dask-gateway` behind JupyterHub).
    pub prefix: Option<String>,
    /// The API server's requests and limits.
    pub resources: Option<ChartResources>,
    /// How users authenticate.
    pub auth: Option<GatewayAuth>,
    /// The clusters' schedulers and workers.
    pub backend: Option<Backend>,
    /// Node selector of the API server.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Limits and user options, rendered into `extraConfig` under [`POLICY_CONFIG_KEY`].
    pub cluster_policy: Option<ClusterPolicy>,
    /// Python appended to `dask_gateway_config.py`, by key (run in key order).
    pub extra_config: BTreeMap<String, String>,
    /// Other values.
    pub extra: Extra,
}

/// `gateway` as the chart reads it: [`Gateway`] with its policy rendered.
#[serde_with::skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GatewayValues<'a> {
    replicas: Option<u16>,
    prefix: Option<&'a String>,
    resources: Option<&'a ChartResources>,
    auth: Option<&'a GatewayAuth>,
    backend: Option<&'a Backend>,
    node_selector: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra_config: BTreeMap<String, String>,
    #[serde(flatten)]
    extra: &'a Extra,
}

impl Serialize for Gateway {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut extra_config = self.extra_config.clone();
        if let Some(policy) = &self.cluster_policy {
            extra_config.insert(POLICY_CONFIG_KEY.into(), policy.python());
        }
        GatewayValues {
            replicas: self.replicas,
            prefix: self.prefix.as_ref(),
            resources: self.resources.as_ref(),
            auth: self.auth.as_ref(),
            backend: self.backend.as_ref(),
            node_selector: self.node_selector.as_ref(),
            extra_config,
            extra: &self.extra,
        }
        .serialize(serializer)
    }
}

/// `gateway.auth`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GatewayAuth {
    /// `simple`, `kerberos`, `jupyterhub`, `custom`.
    #[serde(rename = "type")]
    pub kind: String,
    /// JupyterHub authentication.
    pub jupyterhub: Option<JupyterhubAuth>,
}

impl GatewayAuth {
    /// Users authenticate with their JupyterHub tokens: the gateway asks the hub at
    /// `api_url` (`http://hub.<namespace>:8081/hub/api`) with its own API token, key
    /// `secret_key` of Secret `secret` (the one the hub has for service `service`), and
    /// admits only tokens with `access:services!service=<service>`.
    pub fn jupyterhub(api_url: &str, secret: &str, secret_key: &str, service: &str) -> Self {
        Self {
            kind: "jupyterhub".into(),
            jupyterhub: Some(JupyterhubAuth {
                api_token_from_secret_name: Some(secret.into()),
                api_token_from_secret_key: Some(secret_key.into()),
                api_url: Some(api_url.into()),
                jupyterhub_service_name: Some(service.into()),
            }),
        }
    }
}

/// `gateway.auth.jupyterhub`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JupyterhubAuth {
    /// The Secret holding the gateway's JupyterHub API token.
    pub api_token_from_secret_name: Option<String>,
    /// Its key.
    pub api_token_from_secret_key: Option<String>,
    /// The hub's API.
    pub api_url: Option<String>,
    /// The gateway's service name at the hub (turns on scope checks).
    pub jupyterhub_service_name: Option<String>,
}

/// `gateway.backend`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// The schedulers' and workers' image (the notebook image: the same libraries).
    pub image: Option<ChartImage>,
    /// Environment variables of schedulers and workers.
    pub environment: Option<BTreeMap<String, String>>,
    /// Each cluster's scheduler.
    pub scheduler: Option<DaskProcess>,
    /// Each worker (the defaults; [`ClusterPolicy`]'s options override them).
    pub worker: Option<DaskProcess>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `gateway.backend.scheduler` / `worker`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaskProcess {
    /// Merged into the pod spec (`securityContext`, `tolerations`, `nodeSelector`,
    /// `volumes`).
    pub extra_pod_config: Option<Json>,
    /// Merged into the container (`securityContext`, `volumeMounts`).
    pub extra_container_config: Option<Json>,
    /// CPU cores.
    pub cores: Option<RequestLimit<Cores>>,
    /// Memory.
    pub memory: Option<RequestLimit<Gibibytes>>,
    /// Threads per worker.
    pub threads: Option<u16>,
}

/// `controller`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Node selector.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `traefik`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Traefik {
    /// Replicas.
    pub replicas: Option<u16>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Its Service.
    pub service: Option<TraefikService>,
    /// Node selector.
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `traefik.service`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TraefikService {
    /// `ClusterIP`, `NodePort`, `LoadBalancer` (the chart's default).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A user's choice between `min` and `max`, `default` when they choose nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The least.
    pub min: u32,
    /// Without a choice.
    pub default: u32,
    /// The most.
    pub max: u32,
}

impl Bounds {
    /// `min <= default <= max`.
    pub fn new(min: u32, default: u32, max: u32) -> Self {
        Self { min, default, max }
    }

    fn check(&self, field: &str) -> Result<(), K8sError> {
        if self.min == 0 || self.min > self.default || self.default > self.max {
            return Err(K8sError::ScalingBounds {
                what: CHART.into(),
                field: field.into(),
                min: self.min.to_string(),
                default: self.default.to_string(),
                max: self.max.to_string(),
            });
        }
        Ok(())
    }
}

/// What a Dask cluster may be: the worker sizes users choose from (cores and GiB per
/// worker), the CPU share a worker reserves of its cores (the rest is burst, so a node
/// packs one more worker), per-cluster ceilings, and the idle timeout after which the
/// gateway stops a cluster nobody uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterPolicy {
    /// Cores per worker (its CPU limit, and its threads).
    pub worker_cores: Bounds,
    /// GiB per worker (request = limit: Dask spills and pauses by this limit, so the
    /// kernel must never take memory it counted on).
    pub worker_memory: Bounds,
    /// The share of its cores a worker requests, in (0, 1].
    pub cpu_request_share: f64,
    /// Workers per cluster.
    pub max_workers: u32,
    /// Cores per cluster (requests: the scheduler's and the workers').
    pub max_cores: u32,
    /// Memory per cluster (the scheduler's and the workers').
    pub max_memory: Gibibytes,
    /// Seconds without a client or work before the gateway stops the cluster.
    pub idle_timeout: u32,
}

impl ClusterPolicy {
    fn check(&self, scheduler: Option<&DaskProcess>) -> Result<(), K8sError> {
        self.worker_cores.check("worker_cores")?;
        self.worker_memory.check("worker_memory")?;
        if !(self.cpu_request_share > 0.0 && self.cpu_request_share <= 1.0) {
            return Err(K8sError::ScalingBounds {
                what: CHART.into(),
                field: "cpu_request_share".into(),
                min: "0 (excluded)".into(),
                default: self.cpu_request_share.to_string(),
                max: "1".into(),
            });
        }
        if self.max_workers == 0 {
            return Err(K8sError::ScalingBounds {
                what: CHART.into(),
                field: "cluster_max_workers".into(),
                min: "1".into(),
                default: "1".into(),
                max: "0".into(),
            });
        }
        if self.idle_timeout == 0 {
            return Err(K8sError::CullPeriod {
                what: CHART.into(),
                field: "idle_timeout".into(),
                seconds: 0,
            });
        }
        let scheduler_cores = scheduler
            .and_then(|s| s.cores.as_ref())
            .and_then(|c| c.request)
            .map_or(0.0, |cores| cores.0);
        let scheduler_memory = scheduler
            .and_then(|s| s.memory.as_ref())
            .and_then(|m| m.request)
            .map_or(0, |m| m.0);
        let worker_cores = f64::from(self.worker_cores.max) * self.cpu_request_share;
        if f64::from(self.max_cores) < scheduler_cores + worker_cores {
            return Err(K8sError::CeilingBelowWorker {
                what: CHART.into(),
                field: "cluster_max_cores".into(),
                ceiling: self.max_cores.to_string(),
                worker: format!("{worker_cores} (plus the scheduler's {scheduler_cores})"),
            });
        }
        if self.max_memory.0 < scheduler_memory + self.worker_memory.max {
            return Err(K8sError::CeilingBelowWorker {
                what: CHART.into(),
                field: "cluster_max_memory".into(),
                ceiling: self.max_memory.to_string(),
                worker: format!(
                    "{} (plus the scheduler's {scheduler_memory}G)",
                    Gibibytes(self.worker_memory.max)
                ),
            });
        }
        Ok(())
    }

    /// The gateway configuration: `c.Backend.cluster_options` (the worker size choices
    /// and the handler turning them into requests and limits) and `c.ClusterConfig`'s
    /// ceilings and idle timeout.
    pub fn python(&self) -> String {
        let c = &self.worker_cores;
        let m = &self.worker_memory;
        format!(
            "from dask_gateway_server.options import Integer, Options\n\
             \n\
             \n\
             def _worker_size(options):\n\
             \x20   cores = options.worker_cores\n\
             \x20   memory = \"%dG\" % options.worker_memory\n\
             \x20   return {{\n\
             \x20       \"worker_cores\": cores * {share},\n\
             \x20       \"worker_cores_limit\": cores,\n\
             \x20       \"worker_threads\": cores,\n\
             \x20       \"worker_memory\": memory,\n\
             \x20       \"worker_memory_limit\": memory,\n\
             \x20   }}\n\
             \n\
             \n\
             c.Backend.cluster_options = Options(\n\
             \x20   Integer(\"worker_cores\", default={cd}, min={cmin}, max={cmax}, label=\"Cores per worker\"),\n\
             \x20   Integer(\"worker_memory\", default={md}, min={mmin}, max={mmax}, label=\"Memory per worker (GiB)\"),\n\
             \x20   handler=_worker_size,\n\
             )\n\
             c.ClusterConfig.cluster_max_workers = {workers}\n\
             c.ClusterConfig.cluster_max_cores = {cores}\n\
             c.ClusterConfig.cluster_max_memory = \"{memory}\"\n\
             c.ClusterConfig.idle_timeout = {idle}\n",
            share = self.cpu_request_share,
            cd = c.default,
            cmin = c.min,
            cmax = c.max,
            md = m.default,
            mmin = m.min,
            mmax = m.max,
            workers = self.max_workers,
            cores = self.max_cores,
            memory = self.max_memory,
            idle = self.idle_timeout,
        )
    }
}
