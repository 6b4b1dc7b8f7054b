//! Scrapes: how Prometheus reads a girder-k8s workload's metrics. A [`Scrape`] names the
//! workload (its [`WorkloadHandle`]: selector, namespace, ports), one of its named container
//! ports and the path, and the metric families the target exposes (so a stack can check
//! that every alert reads something that is scraped). It becomes a PodMonitor (pods
//! directly, the default) or a ServiceMonitor (through the workload's Service), and a
//! NetworkPolicy admitting Prometheus's namespace to that port.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::crds::Extra;
use girder_k8s::crds::prometheus::{
    Endpoint, NamespaceSelector, PodMonitor, PodMonitorSpec, ServiceMonitor, ServiceMonitorSpec,
};
use girder_k8s::{NamespaceHandle, WorkloadHandle};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;
use serde_json::json;

use crate::error::ObservabilityError;
use crate::monitoring::MonitoringHandle;
use crate::promql::{Duration, MetricName};

/// The pod label girder-k8s gives every workload's pods, whose value (the workload name)
/// becomes the `job` label of what is scraped from them.
const JOB_LABEL: &str = "app.kubernetes.io/name";

/// Through what Prometheus finds the targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Via {
    /// The pods, by the workload's selector (a PodMonitor): no Service port needed, so it
    /// works for workloads without a Service (workers, exporters).
    #[default]
    Pods,
    /// The workload's Service (a ServiceMonitor): the port must be one the Service serves.
    Service,
}

/// Prometheus reading one port of a workload.
#[must_use = "a scrape creates nothing until it is added or given to `Monitoring::scrape`"]
#[derive(Clone, Debug, PartialEq)]
pub struct Scrape {
    workload: WorkloadHandle,
    port: String,
    path: String,
    interval: Duration,
    via: Via,
    exposes: BTreeSet<MetricName>,
    release_label: Option<(String, String)>,
    prometheus_namespace: String,
}

impl Scrape {
    /// Scrape `workload`'s container port `port` at `/metrics` every 30 seconds.
    pub fn new(workload: &WorkloadHandle, port: impl Into<String>) -> Self {
        Self {
            workload: workload.clone(),
            port: port.into(),
            path: "/metrics".into(),
            interval: Duration::seconds(30),
            via: Via::Pods,
            exposes: BTreeSet::new(),
            release_label: None,
            prometheus_namespace: crate::monitoring::DEFAULT_NAMESPACE.to_owned(),
        }
    }

    /// The metrics path (default `/metrics`; may carry a query, `/metrics/per-object`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// How often (default 30 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Through the pods (default) or the Service.
    pub fn via(mut self, via: Via) -> Self {
        self.via = via;
        self
    }

    /// The metric families the target serves (what alerts and dashboards may read).
    pub fn exposes(mut self, metrics: impl IntoIterator<Item = MetricName>) -> Self {
        self.exposes.extend(metrics);
        self
    }

    /// For [`Scrape::add`]: label the monitor so `monitoring`'s Prometheus selects it.
    pub fn for_monitoring(mut self, monitoring: &MonitoringHandle) -> Self {
        self.release_label = Some(monitoring.selector_label());
        self.prometheus_namespace = monitoring.namespace().to_owned();
        self
    }

    /// The workload scraped.
    pub fn workload(&self) -> &WorkloadHandle {
        &self.workload
    }

    /// The port scraped.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// The monitor's name: `<workload>-<port>`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.workload.name(), self.port)
    }

    /// What the target serves: the declared families and Prometheus's own `up` and
    /// `scrape_*` series for every target.
    pub fn metric_names(&self) -> BTreeSet<String> {
        self.exposes
            .iter()
            .map(|m| m.as_str().to_owned())
            .chain(["up", "scrape_duration_seconds", "scrape_samples_scraped"].map(str::to_owned))
            .collect()
    }

    fn describe(&self) -> String {
        format!(
            "{} {}/{}",
            self.workload.kind(),
            self.workload.namespace(),
            self.workload.name()
        )
    }

    pub(crate) fn check(&self) -> std::result::Result<(), ObservabilityError> {
        if !self.workload.port_names().contains(&self.port) {
            return Err(ObservabilityError::NoSuchPort {
                workload: self.describe(),
                port: self.port.clone(),
                ports: self.workload.port_names().to_vec(),
            });
        }
        if self.via == Via::Service && self.workload.service_name().is_none() {
            return Err(ObservabilityError::NoService {
                workload: self.describe(),
            });
        }
        if !self.path.starts_with('/') || self.path.contains([' ', '#', '\n']) {
            return Err(ObservabilityError::MetricsPath(self.path.clone()));
        }
        self.interval.non_zero("scrape interval")?;
        Ok(())
    }

    fn endpoint(&self) -> Endpoint {
        let (path, params) = match self.path.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query)),
            None => (self.path.clone(), None),
        };
        let mut extra = Extra::new();
        if let Some(query) = params {
            let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                params.entry(k.to_owned()).or_default().push(v.to_owned());
            }
            extra.insert("params".into(), json!(params));
        }
        Endpoint {
            port: self.port.clone(),
            path: Some(path),
            interval: Some(self.interval.to_string()),
            extra,
        }
    }

    fn selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: Some(self.workload.selector().clone()),
            ..LabelSelector::default()
        }
    }

    fn namespace_selector(&self) -> NamespaceSelector {
        NamespaceSelector {
            match_names: vec![self.workload.namespace().to_owned()],
        }
    }

    /// The label Prometheus selects the stack's monitors by, when one is set.
    fn label_for_release(
        &self,
        metadata: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) {
        if let Some((k, v)) = &self.release_label {
            metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(k.clone(), v.clone());
        }
    }

    fn job_label(&self) -> Option<String> {
        self.workload
            .selector()
            .contains_key(JOB_LABEL)
            .then(|| JOB_LABEL.to_owned())
    }

    /// The entry of kube-prometheus-stack's `prometheus.additionalPodMonitors` or
    /// `prometheus.additionalServiceMonitors`.
    pub(crate) fn chart_entry(&self) -> ChartMonitor {
        let (pod_metrics_endpoints, endpoints) = match self.via {
            Via::Pods => (Some(vec![self.endpoint()]), None),
            Via::Service => (None, Some(vec![self.endpoint()])),
        };
        ChartMonitor {
            name: self.name(),
            job_label: self.job_label(),
            selector: self.selector(),
            namespace_selector: self.namespace_selector(),
            pod_metrics_endpoints,
            endpoints,
        }
    }

    /// Admit Prometheus (its namespace) to the scraped port.
    pub(crate) fn allow_prometheus(&self, scope: &mut Scope<'_>, namespace: &str) -> Result<()> {
        self.workload
            .allow_from(scope, &NamespaceHandle::existing(namespace), &self.port)
    }
}

/// One entry of kube-prometheus-stack's `prometheus.additionalPodMonitors` /
/// `additionalServiceMonitors` (made by [`Scrape`]).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMonitor {
    /// The monitor's name.
    pub name: String,
    /// The pod (or Service) label whose value becomes `job`.
    pub job_label: Option<String>,
    /// The pods (or Services).
    pub selector: LabelSelector,
    /// Their namespace.
    pub namespace_selector: NamespaceSelector,
    /// PodMonitor endpoints.
    pub pod_metrics_endpoints: Option<Vec<Endpoint>>,
    /// ServiceMonitor endpoints.
    pub endpoints: Option<Vec<Endpoint>>,
}

/// What [`Scrape::add`] returns.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeHandle {
    kind: &'static str,
    name: String,
    metrics: BTreeSet<String>,
}

impl ScrapeHandle {
    /// `PodMonitor` or `ServiceMonitor`.
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The monitor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The metrics the target serves.
    pub fn metric_names(&self) -> &BTreeSet<String> {
        &self.metrics
    }
}

impl Construct for Scrape {
    type Handle = ScrapeHandle;

    /// Write the PodMonitor (or ServiceMonitor) `<workload>-<port>` in the workload's
    /// namespace and the NetworkPolicy admitting Prometheus's namespace, into the scope's
    /// Kubernetes app. For a cluster whose Prometheus operator (and its CRDs) is already
    /// installed; with [`Monitoring`](crate::Monitoring) in the same stack, give the
    /// scrape to `Monitoring::scrape` so it installs after the CRDs.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ScrapeHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| e.at(&at))?;
        let name = self.name();
        let mut extra = Extra::new();
        if let Some(label) = self.job_label() {
            extra.insert("jobLabel".into(), json!(label));
        }
        let namespace = self.workload.namespace().to_owned();
        let kind = match self.via {
            Via::Pods => {
                let mut monitor = PodMonitor::new(
                    &namespace,
                    &name,
                    PodMonitorSpec {
                        selector: self.selector(),
                        namespace_selector: Some(self.namespace_selector()),
                        pod_metrics_endpoints: vec![self.endpoint()],
                        extra,
                    },
                );
                self.label_for_release(&mut monitor.metadata);
                let _ = monitor.add(scope, "monitor")?;
                "PodMonitor"
            }
            Via::Service => {
                let mut monitor = ServiceMonitor::new(
                    &namespace,
                    &name,
                    ServiceMonitorSpec {
                        selector: self.selector(),
                        namespace_selector: Some(self.namespace_selector()),
                        endpoints: vec![self.endpoint()],
                        extra,
                    },
                );
                self.label_for_release(&mut monitor.metadata);
                let _ = monitor.add(scope, "monitor")?;
                "ServiceMonitor"
            }
        };
        self.allow_prometheus(scope, &self.prometheus_namespace)?;
        Ok(ScrapeHandle {
            kind,
            name,
            metrics: self.metric_names(),
        })
    }
}
