//! girder-observability: metrics, alerts and dashboards for girder systems, reusable
//! across clusters (K3s, MicroK8s, EKS) and accounts.
//!
//! - [`Monitoring`]: Prometheus, Alertmanager and Grafana in the cluster as one
//!   kube-prometheus-stack release ([`values::KubePrometheusStackValues`], typed), sized for
//!   a small single node by default; Grafana's admin from an existing Secret; the
//!   dashboard sidecar on; Prometheus selecting every ServiceMonitor, PodMonitor and
//!   PrometheusRule labelled `release: <release>` in any namespace; Alertmanager routing to
//!   an SNS topic ([`SnsRoute`], [`SnsAuth`]) or to people by what alerts match
//!   ([`Routing`]: PagerDuty, Slack, e-mail, credentials from a mounted Secret); on the
//!   nodes a selector names, with Alertmanager's state on a claim when asked.
//! - [`Scrape`]: a girder-k8s workload's named port and path, as a PodMonitor or a
//!   ServiceMonitor, with the NetworkPolicy admitting Prometheus.
//! - [`Alert`] / [`AlertGroup`]: typed PrometheusRules ([`PromQl`], [`Duration`],
//!   [`Severity`]).
//! - [`ClusterAlerts`]: node, pod and control-plane alerts for any cluster under the
//!   chart (what a managed control plane exposes: the API server).
//! - [`Dashboard`]: Grafana dashboards as code, a ConfigMap the sidecar loads.
//! - [`MetricAlarm`]: a CloudWatch alarm over a metric AWS holds (ALB, RDS), with
//!   [`TreatMissingData`] explicit.
//! - [`AuditTrail`]: IAM activity monitoring of an AWS account: a multi-region CloudTrail
//!   trail to a KMS-encrypted, retained bucket and log group, with alarms ([`AuditAlarm`],
//!   CIS AWS Foundations 4.x) on IAM, security-group, network-ACL, trail and key changes,
//!   root use and console sign-in without MFA; [`AccessAnalyzer`] for the account. The
//!   periodic permissions report is read from both ([`AuditTrail`]'s docs).
//! - [`AlertTopic`]: the SNS topic those alarms notify: a customer managed key CloudWatch
//!   and EventBridge may use, a topic policy letting them publish, [`Subscription`]s (at
//!   least one: e-mail, an HTTPS endpoint such as PagerDuty's), and [`EventRoute`]s
//!   (EventBridge rules: IAM Access Analyzer's active findings) to it.
//!
//! **Ordering.** PodMonitors, ServiceMonitors and PrometheusRules are custom resources of
//! the operator the release installs. Given to [`Monitoring::scrape`] /
//! [`Monitoring::alerts`] they are rendered *by the release* (`prometheus.additional*Monitors`,
//! `additionalPrometheusRulesMap`): Helm installs the chart's CRDs before any template,
//! so they can never apply before their kinds exist. [`Scrape::add`] and
//! [`AlertGroup::add`] write them as objects of their own, for clusters where the operator
//! is already installed. Dashboards are ConfigMaps: no ordering needed.

mod alert;
mod audit;
mod cloudwatch;
mod cluster_alerts;
mod dashboard;
mod error;
mod key;
mod monitoring;
mod promql;
mod routing;
mod scrape;
mod topic;
pub mod values;

pub use alert::{Alert, AlertGroup, Severity};
pub use audit::{
    AccessAnalyzer, AccessAnalyzerHandle, AuditAlarm, AuditTrail, AuditTrailHandle,
    DEFAULT_LOG_RETENTION_DAYS, DEFAULT_RETENTION_DAYS, MAX_TRAIL_NAME_LEN,
    METRIC_NAMESPACE_PREFIX,
};
pub use cloudwatch::{
    Comparison, MetricAlarm, MetricAlarmHandle, Period, Statistic, TreatMissingData,
};
pub use cluster_alerts::{CLUSTER_ALERT_METRICS, ClusterAlerts};
pub use dashboard::{Dashboard, DashboardHandle, Panel, PanelKind, SIDECAR_LABEL, Target, Unit};
pub use error::ObservabilityError;
pub use monitoring::{
    ALERTMANAGER_SERVICE_ACCOUNT, CHART_SCRAPED_METRICS, Component, DEFAULT_NAMESPACE,
    DEFAULT_RELEASE, GrafanaAdmin, Monitoring, MonitoringHandle, SnsAuth, SnsRoute, SnsTopicArn,
    Storage,
};
pub use promql::{Duration, MetricName, PromQl};
pub use routing::{ALERTMANAGER_SECRETS_DIR, Channel, Routing};
pub use scrape::{Scrape, ScrapeHandle, Via};
pub use topic::{
    AlertTopic, AlertTopicHandle, CLOUDWATCH_SERVICE, EVENTBRIDGE_SERVICE, EventRoute, Subscription,
};
