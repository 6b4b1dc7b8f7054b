//! The Prometheus operator (`monitoring.coreos.com/v1`): what to scrape and what to alert on.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use super::{Extra, Object, Spec};

/// `ServiceMonitor`.
pub type ServiceMonitor = Object<ServiceMonitorSpec>;
/// `PodMonitor`.
pub type PodMonitor = Object<PodMonitorSpec>;
/// `PrometheusRule`.
pub type PrometheusRule = Object<PrometheusRuleSpec>;

/// One scrape endpoint: a named port and a path.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Endpoint {
    /// Port name (of the Service, or the container for PodMonitors).
    pub port: String,
    /// Metrics path (`/metrics`).
    pub path: Option<String>,
    /// Scrape interval (`30s`).
    pub interval: Option<String>,
    /// Other fields (`scheme`, `tlsConfig`, `relabelings`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Endpoint {
    /// `port` at `/metrics` every 30 seconds.
    pub fn new(port: impl Into<String>) -> Self {
        Self {
            port: port.into(),
            path: Some("/metrics".into()),
            interval: Some("30s".into()),
            extra: Extra::new(),
        }
    }
}

/// `namespaceSelector`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// These namespaces.
    pub match_names: Vec<String>,
}

/// The spec of a ServiceMonitor.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Services to scrape.
    pub selector: LabelSelector,
    /// Where to look for them.
    pub namespace_selector: Option<NamespaceSelector>,
    /// What to scrape on each.
    pub endpoints: Vec<Endpoint>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ServiceMonitorSpec {
    const API_VERSION: &'static str = "monitoring.coreos.com/v1";
    const KIND: &'static str = "ServiceMonitor";
}

/// The spec of a PodMonitor.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMonitorSpec {
    /// Pods to scrape.
    pub selector: LabelSelector,
    /// Where to look for them.
    pub namespace_selector: Option<NamespaceSelector>,
    /// What to scrape on each.
    pub pod_metrics_endpoints: Vec<Endpoint>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for PodMonitorSpec {
    const API_VERSION: &'static str = "monitoring.coreos.com/v1";
    const KIND: &'static str = "PodMonitor";
}

/// The spec of a PrometheusRule.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PrometheusRuleSpec {
    /// Rule groups.
    pub groups: Vec<RuleGroup>,
}

impl Spec for PrometheusRuleSpec {
    const API_VERSION: &'static str = "monitoring.coreos.com/v1";
    const KIND: &'static str = "PrometheusRule";
}

/// A rule group.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// Evaluation interval.
    pub interval: Option<String>,
    /// The rules.
    pub rules: Vec<Rule>,
}

/// An alerting or recording rule.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rule {
    /// Alert name (alerting rules).
    pub alert: Option<String>,
    /// Series name (recording rules).
    pub record: Option<String>,
    /// PromQL.
    pub expr: String,
    /// How long the condition holds before firing (`5m`).
    #[serde(rename = "for")]
    pub for_: Option<String>,
    /// Labels (`severity`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `description`, `runbook_url`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    /// Alert `name` when `expr` holds for `for_`, with `severity`.
    pub fn alert(name: &str, expr: &str, for_: &str, severity: &str, summary: &str) -> Self {
        Self {
            alert: Some(name.into()),
            expr: expr.into(),
            for_: Some(for_.into()),
            labels: BTreeMap::from([("severity".to_owned(), severity.to_owned())]),
            annotations: BTreeMap::from([("summary".to_owned(), summary.to_owned())]),
            ..Self::default()
        }
    }
}
