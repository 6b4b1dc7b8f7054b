//! Typed values of the prometheus-community `kube-prometheus-stack` chart, 88.5.3 (its
//! default values.yaml in ../shared/schemas/helm/kube-prometheus-stack checks the keys).
//! Every struct names the fields girder sets; `extra` maps, flattened in, take the rest.

use std::collections::BTreeMap;

use girder_core::helm::ChartRef;
use girder_k8s::ChartValues;
use girder_k8s::charts::ChartResources;
use girder_k8s::crds::Extra;
use girder_k8s::crds::prometheus::RuleGroup;
use serde::Serialize;
use serde_json::Value as Json;

pub use crate::routing::{EmailConfig, PagerDutyConfig, SlackConfig};
pub use crate::scrape::ChartMonitor;

/// The chart and version these values are written for.
pub const CHART_REPOSITORY: &str = "https://prometheus-community.github.io/helm-charts";
/// The chart.
pub const CHART_NAME: &str = "kube-prometheus-stack";
/// Its version (operator v0.93.1).
pub const CHART_VERSION: &str = "88.5.3";

/// Values of kube-prometheus-stack.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubePrometheusStackValues {
    /// The operator's CRDs, installed by Helm before any template.
    pub crds: Option<Enabled>,
    /// The chart's own alerting and recording rules.
    pub default_rules: Option<DefaultRules>,
    /// Extra PrometheusRules, by name: rendered by the release, after its CRDs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_prometheus_rules_map: BTreeMap<String, RulesEntry>,
    /// Alertmanager.
    pub alertmanager: Option<AlertmanagerValues>,
    /// Grafana (the grafana subchart).
    pub grafana: Option<GrafanaValues>,
    /// Scraping the control plane's controller manager.
    pub kube_controller_manager: Option<Enabled>,
    /// ... its scheduler.
    pub kube_scheduler: Option<Enabled>,
    /// ... kube-proxy.
    pub kube_proxy: Option<Enabled>,
    /// ... etcd.
    pub kube_etcd: Option<Enabled>,
    /// kube-state-metrics (subchart).
    #[serde(rename = "kube-state-metrics")]
    pub kube_state_metrics: Option<Subchart>,
    /// The node exporter (subchart).
    #[serde(rename = "prometheus-node-exporter")]
    pub node_exporter: Option<Subchart>,
    /// The Prometheus operator.
    pub prometheus_operator: Option<Subchart>,
    /// Prometheus.
    pub prometheus: Option<PrometheusValues>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChartValues for KubePrometheusStackValues {
    fn chart() -> ChartRef {
        ChartRef::new(CHART_REPOSITORY, CHART_NAME, CHART_VERSION)
    }
}

/// `{enabled: ...}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Enabled {
    /// On or off.
    pub enabled: bool,
}

impl Enabled {
    /// Off.
    pub fn off() -> Option<Self> {
        Some(Self { enabled: false })
    }

    /// On.
    pub fn on() -> Option<Self> {
        Some(Self { enabled: true })
    }
}

/// `defaultRules`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DefaultRules {
    /// Create them.
    pub create: Option<bool>,
    /// Rule sets on or off (`etcd`, `kubeControllerManager`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, bool>,
}

/// One entry of `additionalPrometheusRulesMap`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RulesEntry {
    /// Its groups.
    pub groups: Vec<RuleGroup>,
}

/// `alertmanager`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerValues {
    /// Deploy it.
    pub enabled: Option<bool>,
    /// Its configuration (merged over the chart's: maps merge, lists replace).
    pub config: Option<AlertmanagerConfig>,
    /// Its ServiceAccount (annotations: an IAM role for it).
    pub service_account: Option<ServiceAccountValues>,
    /// The Alertmanager resource's spec.
    pub alertmanager_spec: Option<ComponentSpec>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `serviceAccount`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServiceAccountValues {
    /// Its name (the chart's default derives one from the release's).
    pub name: Option<String>,
    /// Annotations (`eks.amazonaws.com/role-arn`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Alertmanager's configuration file.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertmanagerConfig {
    /// The routing tree.
    pub route: Option<AlertRoute>,
    /// Where alerts go.
    pub receivers: Vec<Receiver>,
    /// Other keys (`global`, `inhibit_rules`, `templates`: the chart's stay when unset).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A route.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AlertRoute {
    /// The receiver.
    pub receiver: String,
    /// Labels alerts are grouped by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    /// `alertname = "Watchdog"` style matchers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    /// Wait before the first notification of a group.
    pub group_wait: Option<String>,
    /// Wait before notifying of new alerts in a group.
    pub group_interval: Option<String>,
    /// Wait before repeating.
    pub repeat_interval: Option<String>,
    /// Child routes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<AlertRoute>,
    /// Go on matching the routes after this one (`continue`).
    #[serde(rename = "continue")]
    pub continue_matching: Option<bool>,
}

/// A receiver.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Receiver {
    /// Its name.
    pub name: String,
    /// SNS topics.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sns_configs: Vec<SnsConfig>,
    /// PagerDuty integrations ([`crate::Routing`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_configs: Vec<PagerDutyConfig>,
    /// Slack webhooks ([`crate::Routing`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack_configs: Vec<SlackConfig>,
    /// E-mail ([`crate::Routing`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
}

/// `sns_configs[]`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SnsConfig {
    /// The topic.
    pub topic_arn: String,
    /// How requests are signed.
    pub sigv4: Sigv4,
    /// The message subject.
    pub subject: Option<String>,
    /// Notify resolved alerts too.
    pub send_resolved: Option<bool>,
}

/// `sigv4`: region, and a role to assume on top of the default credentials chain.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sigv4 {
    /// The topic's region.
    pub region: String,
    /// A role to assume.
    pub role_arn: Option<String>,
}

/// `grafana`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaValues {
    /// Deploy it.
    pub enabled: Option<bool>,
    /// The admin credentials, from an existing Secret.
    pub admin: Option<GrafanaAdminValues>,
    /// The dashboard and data source sidecars.
    pub sidecar: Option<GrafanaSidecar>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// A volume for its database (off: dashboards and data sources are code).
    pub persistence: Option<Enabled>,
    /// The chart's own dashboards for the cluster.
    pub default_dashboards_enabled: Option<bool>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `grafana.admin`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaAdminValues {
    /// The Secret.
    pub existing_secret: String,
    /// Its key holding the user name.
    pub user_key: String,
    /// Its key holding the password.
    pub password_key: String,
}

/// `grafana.sidecar`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GrafanaSidecar {
    /// Loads dashboards from labelled ConfigMaps.
    pub dashboards: Option<SidecarDashboards>,
    /// Requests and limits of the sidecar containers.
    pub resources: Option<ChartResources>,
}

/// `grafana.sidecar.dashboards`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarDashboards {
    /// On.
    pub enabled: bool,
    /// The ConfigMap label it looks for.
    pub label: String,
    /// The label's value.
    pub label_value: String,
    /// Where (`ALL`).
    pub search_namespace: String,
}

/// A subchart or component taking only resources here.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Subchart {
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Other values.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `prometheus`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusValues {
    /// The Prometheus resource's spec.
    pub prometheus_spec: Option<PrometheusSpecValues>,
    /// PodMonitors rendered by the release.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_pod_monitors: Vec<ChartMonitor>,
    /// ServiceMonitors rendered by the release.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_service_monitors: Vec<ChartMonitor>,
}

/// Retention, resources and storage of one Prometheus or Alertmanager.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    /// How long data is kept (`7d`).
    pub retention: Option<String>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Where data lives.
    pub storage: Option<Json>,
    /// On the node's network: the way a pod reaches the instance metadata service when
    /// the hop limit is 1 (K3s nodes keep pods away from the node role that way).
    pub host_network: Option<bool>,
    /// `ClusterFirstWithHostNet` with `host_network`, so cluster DNS still resolves.
    pub dns_policy: Option<String>,
    /// Patches merged by name into the operator's containers (`env` of `alertmanager`).
    pub containers: Option<Vec<Json>>,
    /// More pod volumes.
    pub volumes: Option<Vec<Json>>,
    /// More mounts of the main container.
    pub volume_mounts: Option<Vec<Json>>,
    /// Secrets of the namespace the operator mounts under `/etc/alertmanager/secrets/`
    /// (Alertmanager's receiver credentials, [`crate::Routing`]).
    pub secrets: Option<Vec<String>>,
    /// The nodes its pods may run on.
    pub node_selector: Option<BTreeMap<String, String>>,
}

/// `prometheus.prometheusSpec`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpecValues {
    /// How long samples are kept (`7d`).
    pub retention: Option<String>,
    /// The most the TSDB may hold (`3GB`); the oldest blocks go first.
    pub retention_size: Option<String>,
    /// Requests and limits.
    pub resources: Option<ChartResources>,
    /// Where the TSDB lives (`emptyDir` or `volumeClaimTemplate`).
    pub storage_spec: Option<Json>,
    /// `false`: select ServiceMonitors by `serviceMonitorSelector`, not only the release's.
    pub service_monitor_selector_nil_uses_helm_values: Option<bool>,
    /// ... PodMonitors.
    pub pod_monitor_selector_nil_uses_helm_values: Option<bool>,
    /// ... PrometheusRules.
    pub rule_selector_nil_uses_helm_values: Option<bool>,
    /// Which ServiceMonitors.
    pub service_monitor_selector: Option<Json>,
    /// Which PodMonitors.
    pub pod_monitor_selector: Option<Json>,
    /// Which PrometheusRules.
    pub rule_selector: Option<Json>,
    /// In which namespaces (`{}`: all).
    pub service_monitor_namespace_selector: Option<Json>,
    /// ... for PodMonitors.
    pub pod_monitor_namespace_selector: Option<Json>,
    /// ... for PrometheusRules.
    pub rule_namespace_selector: Option<Json>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}
