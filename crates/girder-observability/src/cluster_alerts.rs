//! [`ClusterAlerts`]: the alerts every Kubernetes cluster under kube-prometheus-stack
//! wants, over what the chart scrapes itself (the node exporter, kube-state-metrics, the
//! API server): nodes (CPU, memory, disk, readiness, network errors), pods (crash loops,
//! not running, unavailable replicas) and the control plane as a managed cluster exposes
//! it (the API server's errors, latency and reachability: EKS, GKE and AKS serve the API
//! server's metrics, not the scheduler's or etcd's).

use crate::alert::{Alert, AlertGroup, Severity};
use crate::error::ObservabilityError;
use crate::promql::{Duration, PromQl};

/// The metric families [`ClusterAlerts`] reads, all scraped by kube-prometheus-stack's
/// own monitors (node exporter, kube-state-metrics, `apiserver`).
pub const CLUSTER_ALERT_METRICS: [&str; 14] = [
    "node_cpu_seconds_total",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_network_receive_errs_total",
    "node_network_transmit_errs_total",
    "kube_node_status_condition",
    "kube_pod_container_status_waiting_reason",
    "kube_pod_status_phase",
    "kube_deployment_status_replicas_unavailable",
    "apiserver_request_total",
    "apiserver_request_duration_seconds_bucket",
    "up",
];

/// Node, pod and control-plane alerts with their thresholds.
#[must_use]
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterAlerts {
    cpu: f64,
    memory: f64,
    namespaces: Option<String>,
    api_error_ratio: f64,
    api_p99_seconds: f64,
    runbooks: Option<String>,
}

impl Default for ClusterAlerts {
    fn default() -> Self {
        Self::new()
    }
}

impl ClusterAlerts {
    /// Nodes above 90% CPU or memory for 15 minutes warn; pods of every namespace;
    /// the API server alerts above 5% errors or a 1 s p99 for 10 minutes.
    pub fn new() -> Self {
        Self {
            cpu: 0.9,
            memory: 0.9,
            namespaces: None,
            api_error_ratio: 0.05,
            api_p99_seconds: 1.0,
            runbooks: None,
        }
    }

    /// Warn above these shares (0 to 1) of a node's CPU and memory in use.
    pub fn node_thresholds(mut self, cpu: f64, memory: f64) -> Self {
        self.cpu = cpu;
        self.memory = memory;
        self
    }

    /// Pod alerts only for namespaces matching `regex` (`odc|jupyterhub|dask`).
    pub fn namespaces(mut self, regex: impl Into<String>) -> Self {
        self.namespaces = Some(regex.into());
        self
    }

    /// Each alert's `runbook_url` is `<base>#<alert name in lowercase>`.
    pub fn runbooks(mut self, base: impl Into<String>) -> Self {
        self.runbooks = Some(base.into());
        self
    }

    /// Groups `nodes`, `pods` and `control-plane`.
    pub fn groups(&self) -> Result<Vec<AlertGroup>, ObservabilityError> {
        for (what, value) in [
            ("node CPU threshold", self.cpu),
            ("node memory threshold", self.memory),
            ("API server error ratio", self.api_error_ratio),
        ] {
            if !(value > 0.0 && value < 1.0) {
                return Err(ObservabilityError::Threshold(format!(
                    "{what} {value} (a share between 0 and 1)"
                )));
            }
        }
        let runbook = |alert: Alert| match &self.runbooks {
            Some(base) => {
                let anchor = alert.name().to_ascii_lowercase();
                alert.runbook(format!("{base}#{anchor}"))
            }
            None => alert,
        };
        let ns = match &self.namespaces {
            Some(regex) => format!(r#",namespace=~"{regex}""#),
            None => String::new(),
        };
        let (cpu, memory) = (self.cpu, self.memory);
        let cpu_percent = (cpu * 100.0).round();
        let memory_percent = (memory * 100.0).round();
        let nodes = AlertGroup::new("nodes")
            .alert(runbook(
                Alert::new(
                    "NodeCpuHigh",
                    PromQl::new(format!(
                        r#"1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[5m])) > {cpu}"#
                    ))?,
                    Duration::minutes(15),
                    Severity::Warning,
                    format!("A node's CPU has been over {cpu_percent}% busy for 15 minutes"),
                )
                .description("{{ $labels.instance }}: {{ $value | humanizePercentage }} busy"),
            ))
            .alert(runbook(
                Alert::new(
                    "NodeMemoryHigh",
                    PromQl::new(format!(
                        "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > {memory}"
                    ))?,
                    Duration::minutes(15),
                    Severity::Warning,
                    format!("A node's memory has been over {memory_percent}% used for 15 minutes"),
                )
                .description("{{ $labels.instance }}: {{ $value | humanizePercentage }} used"),
            ))
            .alert(runbook(
                Alert::new(
                    "NodeMemoryExhausted",
                    PromQl::new(
                        "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.03",
                    )?,
                    Duration::minutes(5),
                    Severity::Critical,
                    "A node has less than 3% of its memory available: the kernel is killing pods",
                )
                .description("{{ $labels.instance }}"),
            ))
            .alert(runbook(
                Alert::new(
                    "NodeDiskAlmostFull",
                    PromQl::new(
                        r#"node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"} < 0.1"#,
                    )?,
                    Duration::minutes(15),
                    Severity::Warning,
                    "A node filesystem has less than 10% free",
                )
                .description("{{ $labels.instance }} {{ $labels.mountpoint }}"),
            ))
            .alert(runbook(
                Alert::new(
                    "NodeNotReady",
                    PromQl::new(
                        r#"kube_node_status_condition{condition="Ready",status="true"} == 0"#,
                    )?,
                    Duration::minutes(10),
                    Severity::Critical,
                    "A node has not been Ready for 10 minutes",
                )
                .description("{{ $labels.node }}"),
            ))
            .alert(runbook(
                Alert::new(
                    "NodeNetworkErrors",
                    PromQl::new(
                        "sum by (instance) (rate(node_network_receive_errs_total[5m]) + rate(node_network_transmit_errs_total[5m])) > 1",
                    )?,
                    Duration::minutes(15),
                    Severity::Warning,
                    "A node's network interfaces report errors: more than one a second for 15 minutes",
                )
                .description("{{ $labels.instance }}: {{ $value }} errors/s"),
            ));
        let pods = AlertGroup::new("pods")
            .alert(runbook(
                Alert::new(
                    "PodCrashLooping",
                    PromQl::new(format!(
                        r#"max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff"{ns}}}[5m])) >= 1"#
                    ))?,
                    Duration::minutes(15),
                    Severity::Warning,
                    "A container has been restarting in a crash loop for 15 minutes",
                )
                .description("{{ $labels.namespace }}/{{ $labels.pod }} {{ $labels.container }}"),
            ))
            .alert(runbook(
                Alert::new(
                    "PodNotRunning",
                    PromQl::new(format!(
                        r#"sum by (namespace, pod) (kube_pod_status_phase{{phase=~"Pending|Unknown|Failed"{ns}}}) > 0"#
                    ))?,
                    Duration::minutes(15),
                    Severity::Warning,
                    "A pod has been Pending, Unknown or Failed for 15 minutes",
                )
                .description("{{ $labels.namespace }}/{{ $labels.pod }}"),
            ))
            .alert(runbook(
                Alert::new(
                    "DeploymentReplicasUnavailable",
                    PromQl::new(match &self.namespaces {
                        Some(regex) => format!(
                            r#"kube_deployment_status_replicas_unavailable{{namespace=~"{regex}"}} > 0"#
                        ),
                        None => "kube_deployment_status_replicas_unavailable > 0".to_owned(),
                    })?,
                    Duration::minutes(15),
                    Severity::Warning,
                    "A Deployment has had unavailable replicas for 15 minutes (a rollout stuck or failing)",
                )
                .description("{{ $labels.namespace }}/{{ $labels.deployment }}: {{ $value }} unavailable"),
            ));
        let errors = self.api_error_ratio;
        let p99 = self.api_p99_seconds;
        let control_plane = AlertGroup::new("control-plane")
            .alert(runbook(
                Alert::new(
                    "KubeApiServerErrors",
                    PromQl::new(format!(
                        r#"sum(rate(apiserver_request_total{{code=~"5.."}}[5m])) / sum(rate(apiserver_request_total[5m])) > {errors}"#
                    ))?,
                    Duration::minutes(10),
                    Severity::Critical,
                    format!(
                        "More than {}% of API server requests failed (5xx) for 10 minutes",
                        (errors * 100.0).round()
                    ),
                ),
            ))
            .alert(runbook(
                Alert::new(
                    "KubeApiServerSlow",
                    PromQl::new(format!(
                        r#"histogram_quantile(0.99, sum by (le, verb) (rate(apiserver_request_duration_seconds_bucket{{verb!~"WATCH|CONNECT"}}[5m]))) > {p99}"#
                    ))?,
                    Duration::minutes(10),
                    Severity::Warning,
                    format!("The API server's p99 latency has been above {p99} s for 10 minutes"),
                )
                .description("verb {{ $labels.verb }}: {{ $value }} s"),
            ))
            .alert(runbook(
                Alert::new(
                    "KubeApiServerUnreachable",
                    PromQl::new(r#"absent(up{job="apiserver"} == 1)"#)?,
                    Duration::minutes(5),
                    Severity::Critical,
                    "Prometheus has not scraped the API server for 5 minutes",
                ),
            ));
        Ok(vec![nodes, pods, control_plane])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_alert_reads_a_listed_metric_and_thresholds_are_checked() {
        let groups = ClusterAlerts::new()
            .namespaces("odc|dask")
            .runbooks("https://example.org/runbooks")
            .groups()
            .unwrap();
        let names: Vec<&str> = groups.iter().map(AlertGroup::name).collect();
        assert_eq!(names, ["nodes", "pods", "control-plane"]);
        let listed: BTreeSet<String> = CLUSTER_ALERT_METRICS
            .iter()
            .map(|m| (*m).to_owned())
            .collect();
        for alert in groups.iter().flat_map(AlertGroup::alerts) {
            let read = alert.expr().metric_names();
            assert!(!read.is_empty(), "{}", alert.name());
            assert!(read.is_subset(&listed), "{}: {read:?}", alert.name());
        }
        let pods = &groups[1].alerts()[0];
        assert!(pods.expr().as_str().contains(r#"namespace=~"odc|dask""#));
        assert!(matches!(
            ClusterAlerts::new().node_thresholds(1.5, 0.9).groups(),
            Err(ObservabilityError::Threshold(_))
        ));
    }
}
