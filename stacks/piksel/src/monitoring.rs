//! The monitoring stack of `piksel-eks-<env>` (seed 6.4: "Deploy Prometheus and
//! Grafana", "Set up custom dashboards", "Configure alerting rules"; seed 001's
//! monitoring strategy), in two Kubernetes apps:
//!
//! - `observability` (infrastructure, applied before the services): kube-prometheus-stack
//!   as a Flux HelmRelease in namespace `monitoring` (girder-observability's
//!   [`Monitoring`]): Prometheus, Alertmanager, Grafana, the operator and
//!   kube-state-metrics on the system pool, Prometheus's TSDB and Alertmanager's state on
//!   gp3 claims; Grafana's admin and Alertmanager's receiver credentials from AWS Secrets
//!   Manager through External Secrets; and the CloudWatch exporter that brings the ODC
//!   index database's metrics into Prometheus.
//! - `monitoring` (after it: its PrometheusRules need the operator's CRDs): the alerting
//!   rules and the dashboards' ConfigMaps.
//!
//! **RDS through YACE.** The database's connections, latency, CPU and storage are
//! CloudWatch metrics. They come into Prometheus through YACE (prometheus-community's
//! yet-another-cloudwatch-exporter), with an EKS Pod Identity role that may only read
//! CloudWatch metrics and list tagged resources, rather than through Grafana's CloudWatch
//! data source: so the RDS rules are PrometheusRules like every other, routed by the
//! one Alertmanager (PagerDuty / Slack / e-mail), checked against what is scraped, and
//! the dashboards read one data source. (The infra stack's CloudWatch alarms on the
//! account's audit trail cover security-group and IAM changes: those are events in
//! CloudTrail, not metrics a cluster sees.)
//!
//! **Alert routing** (seed 001's notification channels): `severity="critical"` pages
//! PagerDuty and is posted to Slack too; warnings go to Slack; Flux's status events
//! (notifications.rs sends them to Alertmanager labelled `notify="status"`) are mailed;
//! Flux's failures of the platform's own objects are labelled `notify="page"` and page.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_eks::EksClusterHandle;
use girder_iam::Statement;
use girder_k8s::charts::ChartResources;
use girder_k8s::crds::external_secrets::{ExternalSecret, ExternalSecretSpec, StoreRef};
use girder_k8s::prelude::*;
use girder_observability::{
    Alert, AlertGroup, Channel, ClusterAlerts, Component, Dashboard, Duration, GrafanaAdmin,
    MetricName, Monitoring, Panel, PanelKind, PromQl, Routing, Scrape, Severity, Storage, Target,
    Unit,
};
use girder_rds::PostgresHandle;
use serde_json::json;

use crate::config::{Environment, REGION};
use crate::eks::POOL_LABEL;

/// The infrastructure app: the chart, its secrets, the exporter.
pub(crate) const OBSERVABILITY_APP: &str = "observability";
/// The rules and dashboards.
pub(crate) const MONITORING_APP: &str = "monitoring";
/// The namespace of the stack.
pub(crate) const NAMESPACE: &str = girder_observability::DEFAULT_NAMESPACE;
/// Where the node exporter runs, privileged (it reads every node's host).
pub(crate) const NODE_EXPORTER_NAMESPACE: &str = "monitoring-node-exporter";
/// The StorageClass of the claims (the add-ons' gp3 default class).
pub(crate) const GP3: &str = "gp3";
/// Grafana's admin credentials (keys `admin-user`, `admin-password`).
const GRAFANA_ADMIN: &str = "grafana-admin";
/// Alertmanager's receiver credentials.
pub const ALERT_RECEIVERS: &str = "alert-receivers";
/// The SES SMTP user's name (replace: `aws iam create-access-key` of the environment's
/// SMTP user gives it; its password, derived from the secret key, goes into
/// `piksel/<env>/alerting` as `smtp-password`).
const SMTP_USERNAME: &str = "replace-with-the-ses-smtp-user-name";
/// The label Flux's events carry to pick a route (notifications.rs sets it).
pub(crate) const NOTIFY_LABEL: &str = "notify";
/// Alertmanager's Service (the release's name and `-alertmanager`), port 9093.
pub(crate) const ALERTMANAGER_URL: &str =
    "http://kube-prometheus-stack-alertmanager.monitoring.svc:9093/api/v2/alerts/";

/// The CloudWatch exporter: YACE, by release tag (its digest could not be resolved when
/// this was written, offline: pin `@sha256:` when it is next taken; check the tag with
/// `crane ls quay.io/prometheuscommunity/yet-another-cloudwatch-exporter` first).
pub const YACE_IMAGE: &str = "quay.io/prometheuscommunity/yet-another-cloudwatch-exporter:v0.62.1";
/// Its name, ServiceAccount and role suffix.
const YACE: &str = "cloudwatch-exporter";
/// Where it serves `/metrics` (YACE's default listen address).
const YACE_PORT: u16 = 5000;
/// The uid of the image's `nobody`.
const YACE_UID: u32 = 65534;

/// The RDS metrics YACE exports (`aws_rds_<metric>_average`), CloudWatch name first.
const RDS_METRICS: [(&str, &str); 6] = [
    (
        "DatabaseConnections",
        "aws_rds_database_connections_average",
    ),
    ("CPUUtilization", "aws_rds_cpuutilization_average"),
    ("FreeStorageSpace", "aws_rds_free_storage_space_average"),
    ("FreeableMemory", "aws_rds_freeable_memory_average"),
    ("ReadLatency", "aws_rds_read_latency_average"),
    ("WriteLatency", "aws_rds_write_latency_average"),
];

/// Add apps `observability` and `monitoring` under `scope`, with the exporter's role in
/// Terraform.
pub(crate) fn add(
    scope: &mut Scope<'_>,
    env: &Environment,
    cluster: &EksClusterHandle,
    database: &PostgresHandle,
) -> Result<()> {
    let mut root = scope.child("monitoring")?;
    let role = cluster.pod_identity_role(
        &mut root,
        "cloudwatch-exporter-identity",
        format!("piksel-{}-{YACE}", env.name),
        NAMESPACE,
        YACE,
        yace_statements(),
    )?;
    let _ = role;
    let app = &mut root
        .child(OBSERVABILITY_APP)?
        .with_kube_app(OBSERVABILITY_APP)?;
    let ns = NamespaceHandle::existing(NAMESPACE);
    secrets(app, env)?;
    let exporter = exporter(app, env, &ns)?;
    let metric = |name: &str| MetricName::new(name).map_err(|e| e.at(app.location()));
    let exported = RDS_METRICS
        .iter()
        .map(|(_, m)| metric(m))
        .collect::<Result<Vec<_>>>()?;
    let mut monitoring = Monitoring::new(GrafanaAdmin::existing_secret(GRAFANA_ADMIN))
        .delivery(Delivery::Flux)
        .node_selector(POOL_LABEL, "system")
        .retention(
            Duration::days(if env.production { 30 } else { 15 }),
            if env.production { "90GB" } else { "40GB" },
        )
        .storage(Storage::Claim {
            size: if env.production { "100Gi" } else { "50Gi" }.into(),
            class: Some(GP3.into()),
        })
        .alertmanager_storage("2Gi", Some(GP3.into()))
        // The node exporter alone is privileged (review 3's m10): monitoring is baseline.
        .node_exporter_namespace(NODE_EXPORTER_NAMESPACE)
        .alert_through(routing(env))
        .scrape(Scrape::new(&exporter, "http").exposes(exported));
    // Sized for the system pool's m7i.large nodes (2 vCPU, 8 GiB), not one small node.
    for (component, cpu, memory) in [
        (Component::Prometheus, ("500m", "2"), ("2Gi", "4Gi")),
        (Component::Grafana, ("100m", "500m"), ("256Mi", "512Mi")),
        (Component::Alertmanager, ("20m", "200m"), ("64Mi", "128Mi")),
        (Component::Operator, ("50m", "200m"), ("128Mi", "256Mi")),
        (
            Component::KubeStateMetrics,
            ("50m", "200m"),
            ("128Mi", "256Mi"),
        ),
        (Component::NodeExporter, ("20m", "200m"), ("32Mi", "64Mi")),
    ] {
        monitoring = monitoring.resources(component, ChartResources::new(cpu, memory));
    }
    let monitoring = monitoring.add(app, "stack")?;

    let app = &mut root.child(MONITORING_APP)?.with_kube_app(MONITORING_APP)?;
    for group in alert_groups(env, database).map_err(|e| e.at(app.location()))? {
        let id = group.name().to_owned();
        group.for_monitoring(&monitoring).add(app, &id)?;
    }
    for dashboard in dashboards(&ns, database).map_err(|e| e.at(app.location()))? {
        let uid = dashboard.uid().to_owned();
        let _ = dashboard.add(app, &uid)?;
    }
    Ok(())
}

/// The checkov findings of the exporter the stack accepts, with their reasons.
pub(crate) fn acknowledge(stack: &mut girder_core::Stack) -> Result<()> {
    for (check, reason) in [
        (
            "CKV_K8S_43",
            "no digest of the YACE release could be resolved when it was chosen (offline); pinned by release tag until one is",
        ),
        (
            "CKV_K8S_15",
            "pinned by release tag; IfNotPresent keeps pod restarts on the node independent of the registry",
        ),
    ] {
        stack.acknowledge_kube_check("Deployment", Some(NAMESPACE), YACE, check, reason)?;
    }
    Ok(())
}

/// What YACE calls: CloudWatch's metric reads and the tagging API's resource listing
/// (its discovery). None of them has resource-level permissions.
pub(crate) fn yace_statements() -> Vec<Statement> {
    vec![
        Statement::allow([
            "cloudwatch:GetMetricData",
            "cloudwatch:ListMetrics",
            "tag:GetResources",
        ])
        .sid("ReadMetricsOfTaggedResources")
        .on(["*"])
        .wildcard_because(
            "CloudWatch GetMetricData / ListMetrics and tag:GetResources have no resource-level permissions",
        ),
    ]
}

/// Alertmanager's routes (seed 001: critical to PagerDuty, warnings to Slack, status to
/// e-mail). The credentials are keys of [`ALERT_RECEIVERS`].
fn routing(env: &Environment) -> Routing {
    Routing::new(ALERT_RECEIVERS, "slack")
        .receiver(
            "slack",
            Channel::Slack {
                webhook_url_key: "slack-webhook-url".into(),
                channel: format!("#piksel-{}-alerts", env.name),
            },
        )
        .receiver(
            "pagerduty",
            Channel::PagerDuty {
                routing_key_key: "pagerduty-routing-key".into(),
            },
        )
        .receiver(
            "email",
            Channel::Email {
                to: "piksel-platform@piksel.example.org".into(),
                from: format!("alertmanager-{}@piksel.example.org", env.name),
                smarthost: format!("email-smtp.{REGION}.amazonaws.com:587"),
                username: SMTP_USERNAME.into(),
                password_key: "smtp-password".into(),
            },
        )
        // Status is mail only, whatever its severity.
        .route("email", [format!(r#"{NOTIFY_LABEL} = "status""#)])
        .also("pagerduty", [r#"severity = "critical""#.to_owned()])
        // Flux posts its own failures to Slack (notifications.rs): page only.
        .route("pagerduty", [format!(r#"{NOTIFY_LABEL} = "page""#)])
}

/// Grafana's admin and Alertmanager's receivers, from Secrets Manager
/// (`piksel/<env>/grafana-admin`, `piksel/<env>/alerting`: JSON secrets an operator
/// fills once).
fn secrets(app: &mut Scope<'_>, env: &Environment) -> Result<()> {
    let from = |secret: &str, keys: &[&str]| {
        ExternalSecretSpec::from_properties(
            StoreRef::cluster(crate::addons::SECRET_STORE),
            secret,
            &format!("piksel/{}/{}", env.name, remote_of(secret)),
            keys.iter().map(|key| (*key, *key)),
        )
    };
    let _ = ExternalSecret::new(
        NAMESPACE,
        GRAFANA_ADMIN,
        from(GRAFANA_ADMIN, &["admin-user", "admin-password"]),
    )
    .add(app, "grafana-admin")?;
    let keys: Vec<String> = routing(env).secret_keys().into_iter().collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let _ = ExternalSecret::new(NAMESPACE, ALERT_RECEIVERS, from(ALERT_RECEIVERS, &keys))
        .add(app, "alert-receivers")?;
    Ok(())
}

/// The Secrets Manager secrets the cluster's ExternalSecrets read (`piksel/<env>/...`):
/// the infra stack makes them empty, so the names exist; an operator puts the values.
pub(crate) fn secret_names(env: &Environment) -> [String; 2] {
    [ALERT_RECEIVERS, GRAFANA_ADMIN]
        .map(|secret| format!("piksel/{}/{}", env.name, remote_of(secret)))
}

/// The Secrets Manager secret (under `piksel/<env>/`) a Secret is read from.
fn remote_of(secret: &str) -> &str {
    if secret == ALERT_RECEIVERS {
        "alerting"
    } else {
        secret
    }
}

/// YACE, reading the environment's RDS metrics every minute.
fn exporter(
    app: &mut Scope<'_>,
    env: &Environment,
    ns: &NamespaceHandle,
) -> Result<WorkloadHandle> {
    let config = json!({
        "apiVersion": "v1alpha1",
        "discovery": {
            "exportedTagsOnMetrics": {"AWS/RDS": ["Environment"]},
            "jobs": [{
                "type": "AWS/RDS",
                "regions": [REGION],
                // Only this environment's (the account holds one, but the tag says so).
                "searchTags": [{"key": "Environment", "value": env.name}],
                "period": 60,
                "length": 300,
                "metrics": RDS_METRICS
                    .iter()
                    .map(|(name, _)| json!({"name": name, "statistics": ["Average"]}))
                    .collect::<Vec<_>>(),
            }],
        },
    });
    let config = ConfigMap::new(ns, YACE)
        .entry("config.yml", format!("{config:#}\n"))
        .add(app, "cloudwatch-exporter-config")?;
    let account = ServiceAccount::new(ns, YACE).add(app, "cloudwatch-exporter-account")?;
    Deployment::new(ns, YACE)
        .part_of("monitoring")
        .component("metrics")
        .service_account(&account)
        // EKS Pod Identity mounts its own token for the role; YACE never calls the
        // Kubernetes API.
        .api_token(false)
        .node_selector(POOL_LABEL, "system")
        .container(
            Container::new(YACE, YACE_IMAGE)
                .run_as_user(YACE_UID)
                .args(["--config.file=/config/config.yml", "--listen-address=:5000"])
                .env(Env::value("AWS_REGION", REGION))
                .port(Port::http(YACE_PORT))
                .resources(Resources::new().cpu("20m", "200m").memory("64Mi", "256Mi"))
                .readiness(Probe::http_get("/healthz", "http"))
                .liveness(Probe::http_get("/healthz", "http").initial_delay(30))
                .mount_read_only("config", "/config"),
        )
        .volume(Volume::config_map("config", &config))
        .add(app, "cloudwatch-exporter")
}

/// The seed's categories: nodes, pods, the control plane (ClusterAlerts), the index
/// database, and the platform's own delivery.
fn alert_groups(
    env: &Environment,
    database: &PostgresHandle,
) -> std::result::Result<Vec<AlertGroup>, girder_observability::ObservabilityError> {
    let runbooks = "https://github.com/piksel/piksel-document/blob/main/operations/runbooks.md";
    let mut groups = ClusterAlerts::new().runbooks(runbooks).groups()?;
    let db = format!(
        r#"dimension_DBInstanceIdentifier="{}""#,
        database.identifier()
    );
    // About 80% of PostgreSQL's max_connections on the instance class (RDS sets
    // LEAST(memory / 9531392, 5000): ~400 on db.t4g.medium, ~800 on db.m7g.large).
    let connections = if env.production { 640 } else { 320 };
    let runbook = |alert: Alert| {
        let anchor = alert.name().to_ascii_lowercase();
        alert.runbook(format!("{runbooks}#{anchor}"))
    };
    groups.push(
        AlertGroup::new("index-database")
            .alert(runbook(Alert::new(
                "IndexDatabaseConnectionsHigh",
                PromQl::new(format!("aws_rds_database_connections_average{{{db}}} > {connections}"))?,
                Duration::minutes(10),
                Severity::Warning,
                format!("The ODC index database has held more than {connections} connections for 10 minutes"),
            )))
            .alert(runbook(Alert::new(
                "IndexDatabaseSlowQueries",
                PromQl::new(format!(
                    "max(aws_rds_read_latency_average{{{db}}} or aws_rds_write_latency_average{{{db}}}) > 0.02"
                ))?,
                Duration::minutes(15),
                Severity::Warning,
                "The ODC index database's read or write latency has been above 20 ms for 15 minutes",
            )))
            .alert(runbook(Alert::new(
                "IndexDatabaseCpuHigh",
                PromQl::new(format!("aws_rds_cpuutilization_average{{{db}}} > 80"))?,
                Duration::minutes(15),
                Severity::Warning,
                "The ODC index database's CPU has been above 80% for 15 minutes: slow queries",
            )))
            .alert(runbook(Alert::new(
                "IndexDatabaseStorageLow",
                PromQl::new(format!("aws_rds_free_storage_space_average{{{db}}} < 8 * 1024^3"))?,
                Duration::minutes(30),
                Severity::Warning,
                "The ODC index database has less than 8 GiB free (storage autoscaling may be at its maximum)",
            )))
            .alert(runbook(Alert::new(
                "IndexDatabaseStorageExhausted",
                PromQl::new(format!("aws_rds_free_storage_space_average{{{db}}} < 2 * 1024^3"))?,
                Duration::minutes(5),
                Severity::Critical,
                "The ODC index database has less than 2 GiB free: writes will fail",
            )))
            .alert(runbook(Alert::new(
                "IndexDatabaseMetricsMissing",
                PromQl::new(format!("absent(aws_rds_free_storage_space_average{{{db}}})"))?,
                Duration::minutes(30),
                Severity::Warning,
                "No CloudWatch metrics of the ODC index database for 30 minutes: the exporter or its role is broken",
            ))),
    );
    Ok(groups)
}

/// The platform's dashboards: the cluster (nodes, pods, API server) and the index
/// database.
fn dashboards(
    namespace: &NamespaceHandle,
    database: &PostgresHandle,
) -> std::result::Result<Vec<Dashboard>, girder_observability::ObservabilityError> {
    let q = |expr: &str| PromQl::new(expr);
    let db = format!(
        r#"dimension_DBInstanceIdentifier="{}""#,
        database.identifier()
    );
    let cluster = Dashboard::new(namespace, "piksel-cluster", "Piksel: cluster health")
        .tag("piksel")
        .panel(
            Panel::new("Node CPU busy", PanelKind::TimeSeries, Unit::PercentUnit).target(
                Target::new(q(
                    r#"1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))"#,
                )?)
                .legend("{{instance}}"),
            ),
        )
        .panel(
            Panel::new("Node memory used", PanelKind::TimeSeries, Unit::PercentUnit).target(
                Target::new(q(
                    "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
                )?)
                .legend("{{instance}}"),
            ),
        )
        .panel(
            Panel::new("Pods not running", PanelKind::TimeSeries, Unit::Short).target(
                Target::new(q(
                    r#"sum by (namespace) (kube_pod_status_phase{phase=~"Pending|Unknown|Failed"})"#,
                )?)
                .legend("{{namespace}}"),
            ),
        )
        .panel(
            Panel::new("API server 5xx share", PanelKind::TimeSeries, Unit::PercentUnit).target(
                Target::new(q(
                    r#"sum(rate(apiserver_request_total{code=~"5.."}[5m])) / sum(rate(apiserver_request_total[5m]))"#,
                )?)
                .legend("5xx"),
            ),
        )
        .panel(
            Panel::new("API server p99 latency", PanelKind::TimeSeries, Unit::Seconds).target(
                Target::new(q(
                    r#"histogram_quantile(0.99, sum by (le, verb) (rate(apiserver_request_duration_seconds_bucket{verb!~"WATCH|CONNECT"}[5m])))"#,
                )?)
                .legend("{{verb}}"),
            ),
        );
    let index = Dashboard::new(
        namespace,
        "piksel-index-database",
        "Piksel: ODC index database",
    )
    .tag("piksel")
    .panel(
        Panel::new("Connections", PanelKind::TimeSeries, Unit::Short).target(
            Target::new(q(&format!("aws_rds_database_connections_average{{{db}}}"))?)
                .legend("connections"),
        ),
    )
    .panel(
        Panel::new(
            "Read and write latency",
            PanelKind::TimeSeries,
            Unit::Seconds,
        )
        .target(Target::new(q(&format!("aws_rds_read_latency_average{{{db}}}"))?).legend("read"))
        .target(Target::new(q(&format!("aws_rds_write_latency_average{{{db}}}"))?).legend("write")),
    )
    .panel(
        Panel::new("CPU", PanelKind::TimeSeries, Unit::Percent).target(
            Target::new(q(&format!("aws_rds_cpuutilization_average{{{db}}}"))?).legend("cpu"),
        ),
    )
    .panel(
        Panel::new("Free storage", PanelKind::Stat, Unit::Bytes).target(Target::new(q(&format!(
            "aws_rds_free_storage_space_average{{{db}}}"
        ))?)),
    )
    .panel(
        Panel::new("Freeable memory", PanelKind::TimeSeries, Unit::Bytes).target(
            Target::new(q(&format!("aws_rds_freeable_memory_average{{{db}}}"))?).legend("memory"),
        ),
    );
    Ok(vec![cluster, index])
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every metric an alert or panel reads is one something scrapes.
    #[test]
    fn every_alert_and_panel_reads_a_scraped_metric() {
        let exposed: BTreeSet<String> = girder_observability::CLUSTER_ALERT_METRICS
            .iter()
            .chain(RDS_METRICS.iter().map(|(_, m)| m))
            .map(|m| (*m).to_owned())
            .collect();
        for env in crate::environments() {
            let (_, infra) = crate::infra::stack(&env).unwrap();
            let mut read = BTreeSet::new();
            for group in alert_groups(&env, &infra.database).unwrap() {
                for alert in group.alerts() {
                    let names = alert.expr().metric_names();
                    assert!(!names.is_empty(), "{} reads no metric", alert.name());
                    read.extend(names);
                }
            }
            for dashboard in
                dashboards(&NamespaceHandle::existing(NAMESPACE), &infra.database).unwrap()
            {
                for panel in dashboard.panels() {
                    for target in panel.targets() {
                        read.extend(target.expr().metric_names());
                    }
                }
            }
            let unscraped: Vec<&String> = read.difference(&exposed).collect();
            assert!(unscraped.is_empty(), "nothing scrapes {unscraped:?}");
        }
    }
}
