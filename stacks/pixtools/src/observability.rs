//! PixTools' metrics, alerts and dashboards (seed: "Observability Baseline", Sprint 4):
//! kube-prometheus-stack in namespace `monitoring` (girder-observability's
//! [`Monitoring`]), scraping RabbitMQ (its Prometheus plugin), Redis (an exporter
//! sidecar), the api and the Celery workers (through a Celery exporter), the seed's alert
//! set as PrometheusRules routed by Alertmanager to the stack's SNS topic, and the four
//! SLO dashboards. Written into Kubernetes app `monitoring`.
//!
//! The app's own metrics are named once, in the app contract ([`AppMetric`]): the api
//! serves prometheus-fastapi-instrumentator's `http_requests_total{handler,method,status}`
//! and `http_request_duration_seconds` on its `http` port at `/metrics`; the workers,
//! whose task processes record `pixtools_job_end_to_end_seconds` and
//! `pixtools_webhook_delivery_total{result}` (`app/metrics.py`), serve them on their
//! `metrics` port (see `cluster::WORKER_MAIN`).

use girder_core::kubernetes::ProvidedObject;
use girder_core::{Result, Scope, StaticJson};
use girder_k8s::AwsWebIdentity;
use girder_k8s::crds::external_secrets::Target as SecretTarget;
use girder_k8s::crds::{Extra, Object, Spec};
use girder_k8s::prelude::*;
use girder_observability::{
    Alert, AlertGroup, Dashboard, Duration, GrafanaAdmin, MetricName, Monitoring, MonitoringHandle,
    Panel, PanelKind, PromQl, Scrape, Severity, SnsAuth, SnsRoute, SnsTopicArn, Target, Unit,
};
use serde::Serialize;
use serde_json::json;

use crate::config::{Environment, REGION};
use crate::contract::{
    AppContract, AppEnv, AppMetric, ServedBy, WEBHOOK_DELIVERED, WEBHOOK_NOT_ATTEMPTED,
};

/// The Secret Grafana's admin credentials are in (namespace `monitoring`).
const GRAFANA_ADMIN: &str = "grafana-admin";
/// The Celery exporter: by tag, its digest could not be resolved here (no registry
/// access when this was written); pin `@sha256:` when the next release is taken.
pub(crate) const CELERY_EXPORTER_IMAGE: &str = "ghcr.io/danihodovic/celery-exporter:0.12.2";
/// The Redis exporter, by version and digest (the digest a published chart pins for it).
pub(crate) const REDIS_EXPORTER_IMAGE: &str = "docker.io/oliver006/redis_exporter:v1.73.0@sha256:1a8f5e48b2af0fb02d182be3ddd623e7e39881b6464bdb5bf843b1f6d45ed050";
/// The uid the redis_exporter image runs as.
pub(crate) const REDIS_EXPORTER_UID: u32 = 59000;
/// The RabbitMQ Prometheus plugin's port (enabled in the official image).
pub(crate) const RABBITMQ_METRICS_PORT: u16 = 15692;
/// The redis_exporter port.
pub(crate) const REDIS_EXPORTER_PORT: u16 = 9121;
/// The Celery exporter's port.
const CELERY_EXPORTER_PORT: u16 = 9808;

/// The workloads the cluster half made that are scraped.
pub(crate) struct Scraped<'a> {
    /// The api (port `http`).
    pub api: &'a WorkloadHandle,
    /// The worker pools (port `metrics`).
    pub workers: &'a [WorkloadHandle],
    /// RabbitMQ (port `prometheus`).
    pub broker: &'a WorkloadHandle,
    /// Redis (port `metrics`, the exporter sidecar).
    pub redis: &'a WorkloadHandle,
    /// The worker pools' queues.
    pub queues: &'a [&'a str],
    /// The Secret holding the app's broker URL ([`AppEnv::RabbitmqUrl`]).
    pub runtime_secret: &'a str,
}

/// The SNS topic `ops` creates (`pixtools-<env>-alerts`), known at synth from the
/// account and region.
pub(crate) fn alerts_topic(
    env: &Environment,
) -> std::result::Result<SnsTopicArn, girder_observability::ObservabilityError> {
    // One way to an ARN: the environment's stated location (partition included).
    let location = env
        .location()
        .map_err(|_| girder_observability::ObservabilityError::TopicArn(env.account_id.into()))?;
    let arn = location.arn("sns", format!("pixtools-{}-alerts", env.name));
    SnsTopicArn::new(arn.known().unwrap_or_default())
}

/// Add the monitoring app under `cluster`.
pub(crate) fn add(
    cluster: &mut Scope<'_>,
    env: &Environment,
    ns: &NamespaceHandle,
    scraped: &Scraped<'_>,
    alertmanager_role_arn: &str,
) -> Result<MonitoringHandle> {
    let app = &mut cluster.child("monitoring")?.with_kube_app("monitoring")?;

    // The Celery exporter: reads the workers' task events from the broker.
    let exporter = Deployment::new(ns, "celery-exporter")
        .part_of(crate::cluster::NAMESPACE)
        .component("metrics")
        .container(
            Container::new("celery-exporter", CELERY_EXPORTER_IMAGE)
                .run_as_user(65534)
                .env(Env::secret_key(
                    "CE_BROKER_URL",
                    scraped.runtime_secret,
                    AppEnv::RabbitmqUrl.name(),
                ))
                .port(Port::new("metrics", CELERY_EXPORTER_PORT))
                .resources(Resources::new().cpu("10m", "200m").memory("64Mi", "128Mi"))
                .readiness(Probe::tcp("metrics"))
                .liveness(Probe::tcp("metrics").initial_delay(30))
                .mount("tmp", "/tmp"),
        )
        .volume(Volume::empty_dir("tmp"))
        .add(app, "celery-exporter")?;
    scraped.broker.allow_from(app, &exporter, "amqp")?;

    grafana_admin(app)?;

    let metric = |name: &str| MetricName::new(name).map_err(|e| e.at(app.location()));
    let metrics = |names: &[&str]| names.iter().map(|n| metric(n)).collect::<Result<Vec<_>>>();
    let mut monitoring = Monitoring::new(
        GrafanaAdmin::existing_secret(GRAFANA_ADMIN).keys("admin-user", "password"),
    )
    .alert_to_sns(SnsRoute::new(
        alerts_topic(env).map_err(|e| e.at(app.location()))?,
        // Its own role, through its ServiceAccount's token: on the pod network.
        SnsAuth::WebIdentity(AwsWebIdentity::new(alertmanager_role_arn).region(REGION)),
    ))
    .scrape(
        Scrape::new(scraped.broker, "prometheus")
            // Per queue (`queue` label): depth and consumers of each.
            .path("/metrics/per-object")
            .exposes(metrics(&RABBITMQ_METRICS)?),
    )
    .scrape(Scrape::new(scraped.redis, "metrics").exposes(metrics(&REDIS_METRICS)?))
    .scrape(
        Scrape::new(scraped.api, "http")
            .path(AppContract::METRICS_PATH)
            .exposes(metrics(&api_metrics())?),
    )
    .scrape(Scrape::new(&exporter, "metrics").exposes(metrics(&CELERY_METRICS)?))
    .retention(Duration::days(RETENTION_DAYS), RETENTION_SIZE)
    .alerts(alerts(env, scraped.queues).map_err(|e| e.at(app.location()))?);
    for worker in scraped.workers {
        monitoring = monitoring.scrape(
            Scrape::new(worker, "metrics")
                .path(AppContract::METRICS_PATH)
                .exposes(metrics(&AppMetric::served(ServedBy::Workers))?),
        );
    }
    let handle = monitoring.add(app, "stack")?;
    for (check, reason) in [
        (
            "CKV_K8S_43",
            "no digest of the celery-exporter release could be resolved when it was chosen (no registry access); pinned by release tag until one is",
        ),
        (
            "CKV_K8S_15",
            "pinned by release tag; IfNotPresent keeps pod restarts on the node independent of the registry",
        ),
        (
            "CKV_K8S_35",
            "celery-exporter takes the broker URL only as a flag or the CE_BROKER_URL variable; it comes from the Secret External Secrets writes",
        ),
    ] {
        app.stack().acknowledge_kube_check(
            "Deployment",
            Some(crate::cluster::NAMESPACE),
            "celery-exporter",
            check,
            reason,
        )?;
    }
    for dashboard in dashboards(&handle.namespace_handle()).map_err(|e| e.at(app.location()))? {
        let uid = dashboard.uid().to_owned();
        let _ = dashboard.add(app, &uid)?;
    }
    Ok(handle)
}

/// What the RabbitMQ plugin's per-object endpoint serves that PixTools reads.
const RABBITMQ_METRICS: [&str; 4] = [
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_queue_consumers",
    "rabbitmq_queue_messages",
];
/// What redis_exporter serves that PixTools reads.
const REDIS_METRICS: [&str; 4] = [
    "redis_up",
    "redis_memory_used_bytes",
    "redis_evicted_keys_total",
    "redis_connected_clients",
];
/// What the api serves (the app contract's).
fn api_metrics() -> Vec<&'static str> {
    AppMetric::served(ServedBy::Api)
}
/// How long Prometheus keeps samples: no panel reads a longer window.
const RETENTION_DAYS: u64 = 7;
const RETENTION_SIZE: &str = "3GB";
/// What the Celery exporter serves that PixTools reads.
const CELERY_METRICS: [&str; 4] = [
    "celery_task_succeeded_total",
    "celery_task_failed_total",
    "celery_worker_up",
    "celery_task_runtime_bucket",
];

const API: &str = r#"namespace="pixtools",job="api""#;

/// The seed's minimum alert set and Sprint 4's (queue depth, task failure spikes, API
/// error rate, worker down), plus the broker's own health.
fn alerts(
    env: &Environment,
    queues: &[&str],
) -> std::result::Result<AlertGroup, girder_observability::ObservabilityError> {
    let runbook = |name: &str| {
        format!(
            "https://github.com/{}/blob/main/docs/runbooks.md#{name}",
            env.github_repository
        )
    };
    let queues = format!(r#"namespace="pixtools",queue=~"{}""#, queues.join("|"));
    let threshold = env.queue_depth_threshold;
    Ok(AlertGroup::new("pixtools")
        .alert(
            Alert::new(
                "PixToolsApiHealthCheckFailing",
                PromQl::new(
                    r#"sum(kube_deployment_status_replicas_available{namespace="pixtools",deployment="api"}) < 1 or absent(kube_deployment_status_replicas_available{namespace="pixtools",deployment="api"})"#,
                )?,
                Duration::minutes(5),
                Severity::Critical,
                format!(
                    "No api pod has passed its {} readiness check for 5 minutes",
                    AppContract::HEALTH.readiness
                ),
            )
            .runbook(runbook("api-health")),
        )
        .alert(
            Alert::new(
                "PixToolsQueueDepthHigh",
                PromQl::new(format!(
                    "max by (queue) (rabbitmq_queue_messages_ready{{{queues}}}) > {threshold}"
                ))?,
                Duration::minutes(10),
                Severity::Warning,
                format!("Queue depth above {threshold} for 10 minutes"),
            )
            .description("{{ $labels.queue }} holds {{ $value }} ready messages")
            .runbook(runbook("queue-depth")),
        )
        .alert(
            Alert::new(
                "PixToolsNoWorkers",
                PromQl::new(format!(
                    "sum by (queue) (rabbitmq_queue_consumers{{{queues}}}) == 0"
                ))?,
                Duration::minutes(5),
                Severity::Critical,
                "A queue has had no consuming worker for 5 minutes",
            )
            .description("{{ $labels.queue }} has no consumer: its worker pool is down")
            .runbook(runbook("worker-down")),
        )
        .alert(
            Alert::new(
                "PixToolsBrokerDown",
                PromQl::new(r#"absent(up{namespace="pixtools",job="rabbitmq"} == 1)"#)?,
                Duration::minutes(5),
                Severity::Critical,
                "RabbitMQ has not been scraped for 5 minutes: queue and worker alerts are blind",
            )
            .runbook(runbook("broker-down")),
        )
        .alert(
            Alert::new(
                "PixToolsTaskFailureSpike",
                PromQl::new(
                    "sum(increase(celery_task_failed_total[10m])) > 5 and sum(rate(celery_task_failed_total[10m])) / (sum(rate(celery_task_failed_total[10m])) + sum(rate(celery_task_succeeded_total[10m]))) > 0.1",
                )?,
                Duration::minutes(5),
                Severity::Warning,
                "More than 10% of Celery tasks (and more than 5) failed in the last 10 minutes",
            )
            .runbook(runbook("task-failures")),
        )
        .alert(
            Alert::new(
                "PixToolsApiErrorRate",
                PromQl::new(format!(
                    r#"sum(rate(http_requests_total{{{API},status=~"5.."}}[5m])) / sum(rate(http_requests_total{{{API}}}[5m])) > 0.05"#
                ))?,
                Duration::minutes(10),
                Severity::Warning,
                "More than 5% of API requests failed (5xx) for 10 minutes",
            )
            .runbook(runbook("api-errors")),
        ))
}

/// The seed's four SLO dashboards (Sprint 4).
fn dashboards(
    namespace: &NamespaceHandle,
) -> std::result::Result<Vec<Dashboard>, girder_observability::ObservabilityError> {
    let q = |expr: &str| PromQl::new(expr);
    let requests = AppMetric::HttpRequests.series();
    let total = format!("sum(rate({requests}{{{API}}}[5m]))");
    let good = format!(r#"sum(rate({requests}{{{API},status!~"5.."}}[5m]))"#);
    let window = format!("{RETENTION_DAYS}d");
    let availability = Dashboard::new(namespace, "pixtools-api-availability", "PixTools: API availability")
        .tag("pixtools")
        .tag("slo")
        .panel(
            Panel::new(format!("Availability, {RETENTION_DAYS} days"), PanelKind::Stat, Unit::PercentUnit)
                .description("Share of API requests not answered 5xx, over what Prometheus keeps; objective 99.5%")
                .target(Target::new(q(&format!(
                    r#"sum(increase({requests}{{{API},status!~"5.."}}[{window}])) / sum(increase({requests}{{{API}}}[{window}]))"#
                ))?))
                .objective(0.995),
        )
        .panel(
            Panel::new("Availability, 5 minute windows", PanelKind::TimeSeries, Unit::PercentUnit)
                .target(Target::new(q(&format!("{good} / {total}"))?).legend("available"))
                .objective(0.995),
        )
        .panel(
            Panel::new("Requests by status", PanelKind::TimeSeries, Unit::RequestsPerSecond).target(
                Target::new(q(&format!(
                    "sum by (status) (rate({requests}{{{API}}}[5m]))"
                ))?)
                .legend("{{status}}"),
            ),
        )
        .panel(
            Panel::new("Ready api pods", PanelKind::Stat, Unit::Short).target(Target::new(q(
                r#"sum(kube_deployment_status_replicas_available{namespace="pixtools",deployment="api"})"#,
            )?)),
        );
    let succeeded = "sum(rate(celery_task_succeeded_total[1h]))";
    let failed = "sum(rate(celery_task_failed_total[1h]))";
    let jobs = Dashboard::new(
        namespace,
        "pixtools-job-success",
        "PixTools: job success rate",
    )
    .tag("pixtools")
    .tag("slo")
    .panel(
        Panel::new(
            "Job success rate, 1 hour",
            PanelKind::Stat,
            Unit::PercentUnit,
        )
        .description("Celery tasks that succeeded, of those that finished; objective 99%")
        .target(Target::new(q(&format!(
            "{succeeded} / ({succeeded} + {failed})"
        ))?))
        .objective(0.99),
    )
    .panel(
        Panel::new(
            "Succeeded and failed by task",
            PanelKind::TimeSeries,
            Unit::OpsPerSecond,
        )
        .target(
            Target::new(q("sum by (name) (rate(celery_task_succeeded_total[5m]))")?)
                .legend("{{name}} succeeded"),
        )
        .target(
            Target::new(q("sum by (name) (rate(celery_task_failed_total[5m]))")?)
                .legend("{{name}} failed"),
        ),
    )
    .panel(
        Panel::new(
            "Ready messages by queue",
            PanelKind::TimeSeries,
            Unit::Short,
        )
        .target(
            Target::new(q(
                r#"sum by (queue) (rabbitmq_queue_messages_ready{namespace="pixtools"})"#,
            )?)
            .legend("{{queue}}"),
        ),
    )
    .panel(
        Panel::new("Workers up", PanelKind::Stat, Unit::Short)
            .target(Target::new(q("sum(celery_worker_up)")?)),
    );
    let latency = Dashboard::new(namespace, "pixtools-latency", "PixTools: P95 end-to-end latency")
        .tag("pixtools")
        .tag("slo")
        .panel(
            Panel::new("P95 end-to-end processing latency", PanelKind::TimeSeries, Unit::Seconds)
                .description("From enqueue to finalize (pixtools_job_end_to_end_seconds, recorded by the workers' finalize tasks)")
                .target(
                    Target::new(q(&format!("histogram_quantile(0.95, sum by (le) (rate({}[5m])))", AppMetric::JobEndToEnd.series()))?)
                        .legend("p95"),
                ),
        )
        .panel(
            Panel::new("P95 task runtime by task", PanelKind::TimeSeries, Unit::Seconds).target(
                Target::new(q("histogram_quantile(0.95, sum by (le, name) (rate(celery_task_runtime_bucket[5m])))")?)
                    .legend("{{name}}"),
            ),
        )
        .panel(
            Panel::new("P95 API request duration", PanelKind::TimeSeries, Unit::Seconds).target(
                Target::new(q(&format!(
                    "histogram_quantile(0.95, sum by (le) (rate({}{{{API}}}[5m])))",
                    AppMetric::HttpRequestDuration.series()
                ))?)
                .legend("p95"),
            ),
        );
    let deliveries = AppMetric::WebhookDelivery.series();
    let delivered = format!(r#"sum(rate({deliveries}{{result="{WEBHOOK_DELIVERED}"}}[1h]))"#);
    let attempted = format!(r#"sum(rate({deliveries}{{result!="{WEBHOOK_NOT_ATTEMPTED}"}}[1h]))"#);
    let webhooks = Dashboard::new(
        namespace,
        "pixtools-webhooks",
        "PixTools: webhook success rate",
    )
    .tag("pixtools")
    .tag("slo")
    .panel(
        Panel::new(
            "Webhook success rate, 1 hour",
            PanelKind::Stat,
            Unit::PercentUnit,
        )
        .description("Deliveries that succeeded, of all attempts (errors and an open circuit fail); objective 99%")
        .target(Target::new(q(&format!("{delivered} / {attempted}"))?))
        .objective(0.99),
    )
    .panel(
        Panel::new(
            "Deliveries by outcome",
            PanelKind::TimeSeries,
            Unit::OpsPerSecond,
        )
        .target(
            Target::new(q(&format!(
                "sum by (result) (rate({deliveries}[5m]))"
            ))?)
            .legend("{{result}}"),
        ),
    );
    Ok(vec![availability, jobs, latency, webhooks])
}

/// Grafana's admin: user `admin` and a password External Secrets generates once in the
/// cluster (a Password generator, `refreshPolicy: CreatedOnce`), so no password is written in
/// code, Terraform state or SSM. Read it with
/// `kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.password}'`.
fn grafana_admin(app: &mut Scope<'_>) -> Result<()> {
    let namespace = girder_observability::DEFAULT_NAMESPACE;
    let _ = Object::new(
        namespace,
        GRAFANA_ADMIN,
        PasswordSpec {
            length: 32,
            digits: 6,
            symbols: 0,
            no_upper: false,
            allow_repeat: true,
        },
    )
    .add(app, "grafana-admin-password")?;
    let mut target = SecretTarget {
        name: GRAFANA_ADMIN.into(),
        creation_policy: Some("Owner".into()),
        extra: Extra::new(),
    };
    target.extra.insert(
        "template".into(),
        json!({
            "engineVersion": "v2",
            "mergePolicy": "Merge",
            "data": {"admin-user": "admin"},
        }),
    );
    let _ = Object::new(
        namespace,
        GRAFANA_ADMIN,
        GeneratedSecretSpec {
            refresh_policy: "CreatedOnce".into(),
            target,
            data: Vec::new(),
            data_from: vec![json!({"sourceRef": {"generatorRef": {
                "apiVersion": PasswordSpec::API_VERSION,
                "kind": PasswordSpec::KIND,
                "name": GRAFANA_ADMIN,
            }}})],
        },
    )
    .add(app, "grafana-admin")?;
    Ok(())
}

/// External Secrets' `Password` generator.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordSpec {
    length: u16,
    digits: u16,
    symbols: u16,
    no_upper: bool,
    allow_repeat: bool,
}

impl Spec for PasswordSpec {
    const API_VERSION: &'static str = "generators.external-secrets.io/v1alpha1";
    const KIND: &'static str = "Password";
}

/// An ExternalSecret filled from a generator only (no store).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratedSecretSpec {
    refresh_policy: String,
    target: SecretTarget,
    data: Vec<serde_json::Value>,
    data_from: Vec<serde_json::Value>,
}

impl Spec for GeneratedSecretSpec {
    const API_VERSION: &'static str = "external-secrets.io/v1";
    const KIND: &'static str = "ExternalSecret";

    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let name = body
            .pointer("/spec/target/name")
            .and_then(StaticJson::as_str)
            .unwrap_or_default();
        vec![ProvidedObject {
            kind: "Secret".into(),
            name: name.to_owned(),
            keys: Some(
                ["admin-user".to_owned(), "password".to_owned()]
                    .into_iter()
                    .collect(),
            ),
        }]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use girder_core::assertions::Template;
    use serde_json::Value as Json;

    use super::*;

    fn main_stack(env: &Environment) -> Template {
        Template::from_stack(crate::main_stack(env).unwrap()).unwrap()
    }

    /// Every metric the scrapes declare, and what the chart scrapes itself.
    fn exposed() -> BTreeSet<String> {
        let app: Vec<&str> = AppMetric::ALL.into_iter().map(AppMetric::series).collect();
        let mut all: BTreeSet<String> = RABBITMQ_METRICS
            .iter()
            .chain(&REDIS_METRICS)
            .chain(&app)
            .chain(&CELERY_METRICS)
            .chain(&girder_observability::CHART_SCRAPED_METRICS)
            .map(|m| (*m).to_owned())
            .collect();
        all.insert("up".into());
        all
    }

    fn rules(values: &Json) -> Vec<Json> {
        values["additionalPrometheusRulesMap"]["pixtools"]["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .clone()
    }

    #[test]
    fn every_alert_and_panel_reads_a_metric_something_scrapes() {
        let exposed = exposed();
        for env in crate::environments() {
            let queues = ["default_queue", "ml_inference_queue"];
            let group = alerts(&env, &queues).unwrap();
            let mut read = BTreeSet::new();
            for alert in group.alerts() {
                let names = alert.expr().metric_names();
                assert!(!names.is_empty(), "{} reads no metric", alert.name());
                read.extend(names);
            }
            for dashboard in dashboards(&NamespaceHandle::existing("monitoring")).unwrap() {
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

    #[test]
    fn the_seeds_alert_set_fires_after_its_durations() {
        let env = &crate::environments()[0];
        let t = main_stack(env);
        let values = t.helm_values("kube-prometheus-stack").unwrap();
        let rules = rules(values);
        let rule = |name: &str| {
            rules
                .iter()
                .find(|r| r["alert"] == name)
                .unwrap_or_else(|| panic!("no alert {name}"))
                .clone()
        };
        let depth = rule("PixToolsQueueDepthHigh");
        assert_eq!(depth["for"], "10m");
        let expr = depth["expr"].as_str().unwrap();
        assert!(expr.contains("rabbitmq_queue_messages_ready"), "{expr}");
        assert!(
            expr.ends_with(&format!("> {}", env.queue_depth_threshold)),
            "{expr}"
        );
        let workers = rule("PixToolsNoWorkers");
        assert!(
            workers["expr"]
                .as_str()
                .unwrap()
                .contains("rabbitmq_queue_consumers")
        );
        assert!(workers["expr"].as_str().unwrap().ends_with("== 0"));
        assert_eq!(workers["labels"]["severity"], "critical");
        assert_eq!(rule("PixToolsApiHealthCheckFailing")["for"], "5m");
        assert_eq!(rule("PixToolsApiErrorRate")["for"], "10m");
        assert!(
            rule("PixToolsTaskFailureSpike")["expr"]
                .as_str()
                .unwrap()
                .contains("celery_task_failed_total")
        );
        for r in &rules {
            assert!(r["annotations"]["runbook_url"].is_string(), "{r}");
        }
    }

    #[test]
    fn alerts_go_to_the_topic_ops_creates() {
        for env in crate::environments() {
            let t = main_stack(&env);
            let topics = t.resources("aws_sns_topic");
            assert_eq!(topics.len(), 1);
            let topic = alerts_topic(&env).unwrap();
            assert_eq!(
                topic.as_str().rsplit(':').next(),
                topics[0].1["name"].as_str(),
                "{}",
                env.name
            );
            assert!(topic.as_str().contains(env.account_id));
            let values = t.helm_values("kube-prometheus-stack").unwrap();
            let receivers = values["alertmanager"]["config"]["receivers"]
                .as_array()
                .unwrap();
            let sns = receivers.iter().find(|r| r["name"] == "sns").unwrap();
            assert_eq!(sns["sns_configs"][0]["topic_arn"], topic.as_str());
            assert_eq!(values["alertmanager"]["config"]["route"]["receiver"], "sns");
        }
    }

    #[test]
    fn prometheus_may_reach_every_scraped_port_and_the_exporter_the_broker() {
        let t = main_stack(&crate::environments()[0]);
        for (policy, port) in [
            ("rabbitmq-from-ns-monitoring", "prometheus"),
            ("redis-from-ns-monitoring", "metrics"),
            ("api-from-ns-monitoring", "http"),
            ("celery-exporter-from-ns-monitoring", "metrics"),
            ("rabbitmq-from-celery-exporter", "amqp"),
        ] {
            let p = t.kube_object("NetworkPolicy", policy);
            assert_eq!(
                p["spec"]["ingress"][0]["ports"][0]["port"], port,
                "{policy}"
            );
        }
        // Grafana's admin is generated in the cluster: no password in any values.
        let values = t.helm_values("kube-prometheus-stack").unwrap();
        assert_eq!(values["grafana"]["admin"]["existingSecret"], GRAFANA_ADMIN);
        assert!(values["grafana"].get("adminPassword").is_none());
        let secret = t.kube_object("ExternalSecret", GRAFANA_ADMIN);
        assert_eq!(
            secret["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"]["kind"],
            "Password"
        );
        assert_eq!(secret["spec"]["refreshPolicy"], "CreatedOnce");
    }

    #[test]
    fn the_four_slo_dashboards_are_loaded_by_the_sidecar() {
        let t = main_stack(&crate::environments()[0]);
        for uid in [
            "pixtools-api-availability",
            "pixtools-job-success",
            "pixtools-latency",
            "pixtools-webhooks",
        ] {
            let cm = t.kube_object("ConfigMap", &format!("dashboard-{uid}"));
            assert_eq!(cm["metadata"]["namespace"], "monitoring");
            assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
            let model: Json =
                serde_json::from_str(cm["data"][format!("{uid}.json")].as_str().unwrap()).unwrap();
            assert!(!model["panels"].as_array().unwrap().is_empty(), "{uid}");
        }
    }
}
