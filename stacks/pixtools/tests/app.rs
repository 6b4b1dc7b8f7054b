#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! PixTools' pods against the app they run (NFRohan/PixTools, the repository whose
//! sprint plan is seed 002). What the app does is written down here from its files, not
//! taken from the stack's contract, so a contract that drifts from the app fails: the
//! image's user (`Dockerfile`), the routes (`app/main.py`, `app/routers/health.py`), the
//! settings (`app/config.py`), the database drivers (`app/database.py`, the workers'
//! sync engine), the broker topology (`app/tasks/celery_app.py`), the periodic tasks and
//! the metrics (`app/metrics.py`).

use std::collections::{BTreeMap, BTreeSet};

use girder_core::App;
use girder_core::assertions::Template;
use serde_json::{Value as Json, json};

fn template(stack: &str) -> Template {
    let mut app = App::new();
    girder_stack_pixtools::build(&mut app).unwrap();
    let assembly = app.synth().unwrap();
    Template::from_assembly(&assembly, stack).unwrap()
}

const STACKS: [&str; 2] = ["pixtools-dev", "pixtools-prod"];

/// Every pod template of the stack's controllers, with its owner.
fn pods(t: &Template) -> Vec<(String, Json)> {
    t.kube_objects()
        .iter()
        .filter_map(|o| {
            let spec = match o["kind"].as_str().unwrap() {
                "Deployment" | "StatefulSet" | "DaemonSet" => &o["spec"]["template"]["spec"],
                "CronJob" => &o["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                "Job" => &o["spec"]["template"]["spec"],
                _ => return None,
            };
            Some((
                format!("{} {}", o["kind"].as_str().unwrap(), o["metadata"]["name"]),
                spec.clone(),
            ))
        })
        .collect()
}

fn containers(pod: &Json) -> impl Iterator<Item = &Json> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(move |key| pod[key].as_array().into_iter().flatten())
}

/// The kubelet's check before it starts a container: with `runAsNonRoot`, the user is
/// `runAsUser` (the container's, else the pod's), else the image's `USER`; root, or a
/// user the kubelet cannot read as a number, is CreateContainerConfigError.
fn kubelet_starts(pod: &Json, container: &Json, image_user: Option<u32>) -> Result<(), String> {
    let context = |key: &str| {
        container["securityContext"]
            .get(key)
            .or_else(|| pod["securityContext"].get(key))
            .cloned()
    };
    if context("runAsNonRoot") != Some(json!(true)) {
        return Ok(());
    }
    let user = context("runAsUser")
        .and_then(|u| u.as_u64())
        .or(image_user.map(u64::from));
    match user {
        Some(0) | None => Err(format!(
            "container {} has runAsNonRoot and image will run as root",
            container["name"]
        )),
        Some(_) => Ok(()),
    }
}

#[test]
fn the_app_pods_start_under_run_as_non_root() {
    // The app's Dockerfile has no USER: its images run as root.
    let app_image_user = Some(0);
    for stack in STACKS {
        let t = template(stack);
        let mut app_users = BTreeSet::new();
        for (owner, pod) in pods(&t) {
            for container in containers(&pod) {
                let image = container["image"].as_str().unwrap();
                let ours = image.contains("/pixtools-api@") || image.contains("/pixtools-worker@");
                // Third-party images: the user is stated (girder-k8s requires it), so
                // what the image says does not matter.
                let image_user = if ours { app_image_user } else { None };
                kubelet_starts(&pod, container, image_user)
                    .unwrap_or_else(|e| panic!("{stack} {owner}: {e}"));
                if ours {
                    let context = &container["securityContext"];
                    app_users.insert((
                        context["runAsUser"].as_u64().unwrap(),
                        context["runAsGroup"].as_u64().unwrap(),
                    ));
                    assert_eq!(context["readOnlyRootFilesystem"], true, "{owner}");
                    if owner.starts_with("CronJob") {
                        // The stale-node cleanup's script writes nothing.
                        continue;
                    }
                    // The app writes /tmp only, and /tmp is a volume.
                    let tmp = container["volumeMounts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|m| m["mountPath"] == "/tmp")
                        .unwrap_or_else(|| panic!("{owner}: no /tmp"));
                    assert!(tmp.get("readOnly").is_none(), "{owner}");
                }
            }
        }
        // One user for the app everywhere, and its group owns the pods' volumes.
        assert_eq!(app_users.len(), 1, "{stack}: {app_users:?}");
        let (_, group) = app_users.into_iter().next().unwrap();
        for name in ["api", "worker-standard", "worker-ml", "beat"] {
            let pod = &t.kube_object("Deployment", name)["spec"]["template"]["spec"];
            assert_eq!(pod["securityContext"]["fsGroup"], group, "{name}");
        }
    }
    // The model refuses what the review found: runAsNonRoot, no user, a root image.
    let pod = json!({"securityContext": {"runAsNonRoot": true}});
    let container = json!({"name": "api", "securityContext": {"runAsNonRoot": true}});
    assert!(kubelet_starts(&pod, &container, Some(0)).is_err());
}

/// The api's routes (`app/main.py` includes the health router with `prefix="/api"`):
/// path, and whether it checks a dependency.
const API_ROUTES: [(&str, bool); 5] = [
    ("/api/livez", false),
    ("/api/readyz", true),
    ("/api/health", true),
    ("/metrics", false),
    ("/", false),
];

#[test]
fn the_api_is_probed_and_health_checked_on_paths_the_app_serves() {
    let serves = |path: &str| API_ROUTES.iter().find(|(p, _)| *p == path).map(|(_, d)| *d);
    for stack in STACKS {
        let t = template(stack);
        let api = t.kube_object("Deployment", "api");
        let container = &api["spec"]["template"]["spec"]["containers"][0];
        let path = |probe: &str| {
            container[probe]["httpGet"]["path"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (live, ready) = (path("livenessProbe"), path("readinessProbe"));
        // A path the app does not serve is a 404: never Ready, restarted in a loop.
        let live_checks = serves(&live).unwrap_or_else(|| panic!("{live} is a 404"));
        let ready_checks = serves(&ready).unwrap_or_else(|| panic!("{ready} is a 404"));
        // Liveness checks nothing outside the process: an RDS or broker blip must not
        // restart the api. Readiness checks what a request needs.
        assert!(!live_checks, "{live} checks dependencies");
        assert!(ready_checks, "{ready} checks nothing");
        assert_eq!(ready, "/api/readyz");
        // The ALB's target group checks the same readiness path.
        let groups = t.resources("aws_lb_target_group");
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].1["health_check"][0]["path"],
            ready.as_str(),
            "{stack}"
        );
    }
}

/// What the app reads from its environment (`app/config.py`'s `Settings`, matched by
/// name in any case; `extra = "ignore"`, so any other name is silently unused).
const APP_SETTINGS: [&str; 31] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_region",
    "aws_s3_bucket",
    "aws_endpoint_url",
    "database_url",
    "redis_url",
    "rabbitmq_url",
    "ml_queue_isolation_enabled",
    "idempotency_ttl_seconds",
    "webhook_cb_fail_threshold",
    "webhook_cb_reset_timeout",
    "max_upload_bytes",
    "accepted_mime_types",
    "api_key",
    "max_image_width",
    "max_image_height",
    "task_timeout_seconds",
    "presigned_url_expiry_seconds",
    "job_retention_hours",
    "s3_retention_days",
    "alert_email",
    "observability_enabled",
    "metrics_enabled",
    "otel_exporter_otlp_endpoint",
    "otel_service_name_api",
    "otel_service_name_worker",
    // Read by libpq and asyncpg, not by Settings.
    "pgsslmode",
    // Read by prometheus_client in the workers.
    "prometheus_multiproc_dir",
    // The workers' metrics port, read by their entry point.
    "worker_metrics_port",
    // The AWS SDK's web identity (girder-k8s's aws_role).
    "aws_role_arn",
];

#[test]
fn the_runtime_secret_gives_the_app_every_setting_it_reads_by_its_name() {
    let reads: BTreeSet<String> = APP_SETTINGS.iter().map(|s| s.to_uppercase()).collect();
    for stack in STACKS {
        let t = template(stack);
        let runtime = t.kube_object("ExternalSecret", "pixtools-runtime");
        let keys: BTreeSet<String> = runtime["spec"]["target"]["template"]["data"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        // Every key is a variable the app reads (CELERY_BROKER_URL is not: the app reads
        // RABBITMQ_URL and falls back to guest@localhost).
        let unread: Vec<&String> = keys.difference(&reads).collect();
        assert!(unread.is_empty(), "{stack}: the app reads no {unread:?}");
        // And the ones without a usable default are all there.
        for needed in [
            "DATABASE_URL",
            "REDIS_URL",
            "RABBITMQ_URL",
            "AWS_S3_BUCKET",
            "WEBHOOK_CB_FAIL_THRESHOLD",
            "WEBHOOK_CB_RESET_TIMEOUT",
        ] {
            assert!(keys.contains(needed), "{stack}: no {needed}");
        }
        // The Celery exporter reads the same broker URL key.
        let exporter = t.kube_object("Deployment", "celery-exporter");
        let env = &exporter["spec"]["template"]["spec"]["containers"][0]["env"][0];
        assert_eq!(env["valueFrom"]["secretKeyRef"]["key"], "RABBITMQ_URL");
    }
}

/// Whether a driver accepts a database URL: SQLAlchemy passes the query's keys to
/// `asyncpg.connect` as keyword arguments (it has `ssl`, no `sslmode`: TypeError), and
/// libpq (psycopg2) takes them as connection options (`sslmode`, no `ssl`).
fn driver_accepts(url: &str) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").unwrap();
    let query: Vec<&str> = rest
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .map(|kv| kv.split('=').next().unwrap())
                .collect()
        })
        .unwrap_or_default();
    let refused = match scheme {
        "postgresql+asyncpg" => "sslmode",
        "postgresql+psycopg2" => "ssl",
        // `create_async_engine` with a sync driver fails at import.
        other => return Err(format!("{other} is not one of the app's drivers")),
    };
    match query.iter().find(|k| **k == refused) {
        Some(key) => Err(format!("{scheme} refuses {key}")),
        None => Ok(()),
    }
}

#[test]
fn the_database_url_is_one_both_of_the_apps_drivers_accept() {
    for stack in STACKS {
        let t = template(stack);
        let env = stack.trim_start_matches("pixtools-");
        let parameter = t
            .resources("aws_ssm_parameter")
            .into_iter()
            .find(|(_, p)| p["name"] == format!("/pixtools/{env}/database_url"))
            .unwrap()
            .1;
        // `${format("postgresql+asyncpg://pixtools@%s:%s/pixtools", ...)}`
        let value = parameter["value"].as_str().unwrap();
        let url = value
            .split('"')
            .nth(1)
            .unwrap()
            .replace("%s:%s", "db.internal:5432");
        // The api's async engine, and the workers' sync engine (`+asyncpg` becomes
        // `+psycopg2` in `_get_sync_engine`).
        driver_accepts(&url).unwrap();
        driver_accepts(&url.replace("+asyncpg", "+psycopg2")).unwrap();
        // TLS for both through libpq's variable, which asyncpg reads too.
        let config = t.kube_object("ConfigMap", "pixtools-config");
        assert_eq!(config["data"]["PGSSLMODE"], "require", "{stack}");
    }
    // What the review found, refused by the model: a sync scheme, and either parameter.
    assert!(driver_accepts("postgresql://u@h:5432/d?sslmode=require").is_err());
    assert!(driver_accepts("postgresql+asyncpg://u@h:5432/d?sslmode=require").is_err());
    assert!(driver_accepts("postgresql+psycopg2://u@h:5432/d?ssl=require").is_err());
}

/// A RabbitMQ vhost's exchanges and queues, as declarations see them.
#[derive(Default)]
struct Broker {
    exchanges: BTreeMap<String, Json>,
    queues: BTreeMap<String, Json>,
}

/// Why RabbitMQ closed the channel.
#[derive(Debug, PartialEq, Eq)]
struct PreconditionFailed {
    name: String,
    field: String,
}

impl Broker {
    /// The broker after `load_definitions` (the fields RabbitMQ compares; what the file
    /// leaves out is the default).
    fn booted(definitions: &Json) -> Self {
        let mut broker = Broker::default();
        for e in definitions["exchanges"].as_array().unwrap() {
            let exchange = json!({
                "type": e["type"], "durable": e["durable"], "auto_delete": e["auto_delete"],
                "internal": e.get("internal").cloned().unwrap_or(json!(false)),
                "arguments": e["arguments"],
            });
            broker
                .exchanges
                .insert(e["name"].as_str().unwrap().into(), exchange);
        }
        for q in definitions["queues"].as_array().unwrap() {
            let queue = json!({
                "durable": q["durable"], "auto_delete": q["auto_delete"],
                "exclusive": false, "arguments": q["arguments"],
            });
            broker
                .queues
                .insert(q["name"].as_str().unwrap().into(), queue);
        }
        broker
    }

    fn declare(
        existing: &mut BTreeMap<String, Json>,
        name: &str,
        declared: Json,
    ) -> Result<(), PreconditionFailed> {
        match existing.get(name) {
            None => {
                existing.insert(name.into(), declared);
                Ok(())
            }
            Some(current) => {
                for (field, value) in declared.as_object().unwrap() {
                    if field == "arguments" {
                        let keys: BTreeSet<&String> = value
                            .as_object()
                            .unwrap()
                            .keys()
                            .chain(current["arguments"].as_object().unwrap().keys())
                            .collect();
                        for key in keys {
                            if value.get(key) != current["arguments"].get(key) {
                                return Err(PreconditionFailed {
                                    name: name.into(),
                                    field: key.clone(),
                                });
                            }
                        }
                    } else if &current[field] != value {
                        return Err(PreconditionFailed {
                            name: name.into(),
                            field: field.clone(),
                        });
                    }
                }
                Ok(())
            }
        }
    }

    /// What kombu declares for the app (`app/tasks/celery_app.py`): `Exchange("default",
    /// type="direct")`, `Exchange("dlx", type="direct")` and three `Queue`s, with
    /// kombu's defaults (durable, not auto-deleted, not exclusive, no arguments).
    fn app_connects(&mut self) -> Result<(), PreconditionFailed> {
        let exchange = |kind: &str| json!({"type": kind, "durable": true, "auto_delete": false, "internal": false, "arguments": {}});
        let queue = |arguments: Json| json!({"durable": true, "auto_delete": false, "exclusive": false, "arguments": arguments});
        let dead_letter = json!({
            "x-dead-letter-exchange": "dlx",
            "x-dead-letter-routing-key": "dead_letter",
        });
        Broker::declare(&mut self.exchanges, "default", exchange("direct"))?;
        Broker::declare(&mut self.exchanges, "dlx", exchange("direct"))?;
        Broker::declare(
            &mut self.queues,
            "default_queue",
            queue(dead_letter.clone()),
        )?;
        Broker::declare(&mut self.queues, "ml_inference_queue", queue(dead_letter))?;
        Broker::declare(&mut self.queues, "dead_letter", queue(json!({})))
    }
}

fn boot_definitions(t: &Template) -> Json {
    let secret = t.kube_object("ExternalSecret", "rabbitmq-definitions");
    let text = secret["spec"]["target"]["template"]["data"]["definitions.json"]
        .as_str()
        .unwrap();
    serde_json::from_str(&text.replace("{{ .rabbitmq_password | toJson }}", "\"pw\"")).unwrap()
}

#[test]
fn the_brokers_boot_definitions_are_equivalent_to_what_the_app_declares() {
    for stack in STACKS {
        let t = template(stack);
        let definitions = boot_definitions(&t);
        let mut broker = Broker::booted(&definitions);
        // The api and every worker connect, again and again: every declaration holds.
        for _ in 0..2 {
            assert_eq!(broker.app_connects(), Ok(()), "{stack}");
        }
        // Nothing the app does not declare either, but the bindings it makes.
        assert_eq!(broker.exchanges.len(), 2, "{stack}");
        assert_eq!(broker.queues.len(), 3, "{stack}");
        let bindings: BTreeSet<(String, String, String)> = definitions["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let s = |k: &str| b[k].as_str().unwrap().to_owned();
                (s("source"), s("routing_key"), s("destination"))
            })
            .collect();
        let app_bindings: BTreeSet<(String, String, String)> = [
            ("default", "default", "default_queue"),
            ("default", "ml_inference", "ml_inference_queue"),
            ("dlx", "dead_letter", "dead_letter"),
        ]
        .iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect();
        assert_eq!(bindings, app_bindings, "{stack}");
    }
    // The definitions the review found: the same queue names without arguments. The
    // first connection's declaration closes the channel; nothing is ever published.
    let before = json!({
        "exchanges": [{"name": "pixtools.dlx", "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
        "queues": [
            {"name": "default_queue", "durable": true, "auto_delete": false, "arguments": {}},
            {"name": "ml_inference_queue", "durable": true, "auto_delete": false, "arguments": {}},
            {"name": "pixtools.dead_letter", "durable": true, "auto_delete": false, "arguments": {}},
        ],
    });
    assert_eq!(
        Broker::booted(&before).app_connects(),
        Err(PreconditionFailed {
            name: "default_queue".into(),
            field: "x-dead-letter-exchange".into(),
        })
    );
    // And an exchange of another type is refused the same way.
    let mut other = Broker::default();
    Broker::declare(&mut other.exchanges, "dlx", json!({"type": "fanout"})).unwrap();
    assert_eq!(
        Broker::declare(&mut other.exchanges, "dlx", json!({"type": "direct"})),
        Err(PreconditionFailed {
            name: "dlx".into(),
            field: "type".into(),
        })
    );
}

#[test]
fn the_api_migrates_the_schema_before_it_serves() {
    for stack in STACKS {
        let t = template(stack);
        let api = t.kube_object("Deployment", "api");
        let pod = &api["spec"]["template"]["spec"];
        let init = pod["initContainers"].as_array().unwrap();
        assert_eq!(init.len(), 1, "{stack}");
        let migrate = &init[0];
        let server = &pod["containers"][0];
        // Init containers finish before the api container starts: no request meets a
        // missing table. Every rollout's new pod runs it (a no-op when current).
        assert_eq!(migrate["command"], json!(["alembic", "upgrade", "head"]));
        // The api image (it holds alembic/ and alembic.ini), its settings, its user.
        for key in ["image", "envFrom", "securityContext"] {
            assert_eq!(migrate[key], server[key], "{stack} {key}");
        }
        // Not a Job: a Job's pod template is immutable, so re-applying one with the next
        // digest would fail the deploy.
        assert!(
            t.kube_objects().iter().all(|o| o["kind"] != "Job"),
            "{stack}"
        );
    }
}

#[test]
fn one_beat_sends_the_periodic_tasks_and_never_two() {
    for stack in STACKS {
        let t = template(stack);
        let beat = t.kube_object("Deployment", "beat");
        // One replica, and the old pod stops before the new one starts: two beats would
        // each send `prune_expired_jobs` every hour.
        assert_eq!(beat["spec"]["replicas"], 1, "{stack}");
        assert_eq!(
            beat["spec"]["strategy"],
            json!({"type": "Recreate"}),
            "{stack}"
        );
        assert!(beat["spec"].get("autoscaling").is_none());
        let container = &beat["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(container["command"], json!(["celery"]));
        assert_eq!(&args[..3], ["--app", "app.tasks.celery_app", "beat"]);
        // Its schedule file is written where the pod can write (the root filesystem is
        // read-only; beat's default is the working directory).
        let schedule = args[args.iter().position(|a| *a == "--schedule").unwrap() + 1];
        let mounted = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| schedule.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())));
        assert!(mounted, "{stack}: {schedule}");
        // It reaches the broker (and Redis, the result backend).
        for policy in ["rabbitmq-from-beat", "redis-from-beat"] {
            let _ = t.kube_object("NetworkPolicy", policy);
        }
        // Nothing else scales it.
        for o in t.kube_objects() {
            if o["kind"] == "HorizontalPodAutoscaler" {
                assert_ne!(o["spec"]["scaleTargetRef"]["name"], "beat");
            }
        }
    }
}

/// `app/metrics.py`: the metrics the app records, and where (`finalize` and
/// `metadata` are Celery tasks; the middleware is the api's).
const APP_METRICS: [(&str, &str); 3] = [
    ("pixtools_job_end_to_end_seconds", "worker"),
    ("pixtools_webhook_delivery_total", "worker"),
    ("pixtools_api_request_latency_seconds", "api"),
];

#[test]
fn the_dashboards_read_the_apps_metrics_from_the_processes_that_record_them() {
    let t = template("pixtools-dev");
    // Every `pixtools_` series a dashboard reads is one the app records.
    let mut read = BTreeSet::new();
    for o in t.kube_objects() {
        if o["kind"] != "ConfigMap"
            || !o["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("dashboard-")
        {
            continue;
        }
        for text in o["data"].as_object().unwrap().values() {
            let text = text.as_str().unwrap();
            for (at, _) in text.match_indices("pixtools_") {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(&name)
                    .to_owned();
                read.insert(family);
            }
        }
    }
    let recorded: BTreeMap<&str, &str> = APP_METRICS.into_iter().collect();
    for family in &read {
        assert!(
            recorded.contains_key(family.as_str()),
            "the app records no {family}"
        );
    }
    assert!(read.contains("pixtools_webhook_delivery_total"), "{read:?}");
    assert!(read.contains("pixtools_job_end_to_end_seconds"), "{read:?}");
    // The worker-recorded ones are scraped from the workers, on a port they serve.
    let values = t.helm_values("kube-prometheus-stack").unwrap();
    let monitors = values["prometheus"]["additionalPodMonitors"]
        .as_array()
        .unwrap();
    for pool in ["worker-standard", "worker-ml"] {
        let monitor = monitors
            .iter()
            .find(|m| m["selector"]["matchLabels"]["app.kubernetes.io/name"] == pool)
            .unwrap_or_else(|| panic!("nothing scrapes {pool}"));
        let port = monitor["podMetricsEndpoints"][0]["port"].as_str().unwrap();
        let worker = t.kube_object("Deployment", pool);
        let container = &worker["spec"]["template"]["spec"]["containers"][0];
        assert!(
            container["ports"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == port),
            "{pool} serves no {port}"
        );
        let _ = t.kube_object("NetworkPolicy", &format!("{pool}-from-ns-monitoring"));
    }
}

#[test]
fn a_worker_serves_what_its_processes_record_and_then_runs_celery() {
    // The worker's entry point against stand-ins for prometheus_client and Celery: it
    // empties the collector directory, serves the multiprocess collector on the port,
    // then runs `celery` with the container's args.
    let t = template("pixtools-dev");
    let worker = t.kube_object("Deployment", "worker-standard");
    let container = &worker["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<String> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&command[..2], ["python", "-c"]);
    let env: BTreeMap<String, String> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_owned(),
                e["value"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let directory = &env["PROMETHEUS_MULTIPROC_DIR"];
    assert!(directory.starts_with("/tmp/"), "{directory}");
    let port = &env["WORKER_METRICS_PORT"];
    let declared = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "metrics")
        .unwrap();
    assert_eq!(declared["containerPort"].to_string(), *port);

    let dir = std::env::temp_dir().join(format!("pixtools-worker-main-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stubs = dir.join("stubs");
    for module in ["prometheus_client", "celery"] {
        std::fs::create_dir_all(stubs.join(module)).unwrap();
    }
    let log = dir.join("log.json");
    std::fs::write(
        stubs.join("prometheus_client/__init__.py"),
        format!(
            r#"import json, os
LOG = {log:?}
def record(**kw):
    entries = json.load(open(LOG)) if os.path.exists(LOG) else []
    entries.append(kw)
    json.dump(entries, open(LOG, "w"))
class CollectorRegistry:
    collectors = []
def start_http_server(port, registry=None):
    record(call="serve", port=port, collectors=registry.collectors,
           stale=os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
"#
        ),
    )
    .unwrap();
    std::fs::write(
        stubs.join("prometheus_client/multiprocess.py"),
        "def MultiProcessCollector(registry):\n    registry.collectors.append('multiprocess')\n",
    )
    .unwrap();
    std::fs::write(stubs.join("celery/__init__.py"), "").unwrap();
    std::fs::write(
        stubs.join("celery/__main__.py"),
        "import sys\nfrom prometheus_client import record\ndef main():\n    record(call='celery', argv=sys.argv)\n",
    )
    .unwrap();
    let collector_dir = dir.join("prometheus");
    std::fs::create_dir_all(&collector_dir).unwrap();
    std::fs::write(collector_dir.join("counter_41.db"), "stale").unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&command[2])
        .args(["--app", "app.tasks.celery_app", "worker"])
        .env("PYTHONPATH", &stubs)
        .env("PROMETHEUS_MULTIPROC_DIR", &collector_dir)
        .env("WORKER_METRICS_PORT", port)
        .output()
        .expect("python3 runs the worker entry point");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls: Json = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    assert_eq!(
        calls,
        json!([
            {"call": "serve", "port": port.parse::<u16>().unwrap(), "collectors": ["multiprocess"], "stale": []},
            {"call": "celery", "argv": ["celery", "--app", "app.tasks.celery_app", "worker"]},
        ])
    );
    let _ = std::fs::remove_dir_all(&dir);
}
