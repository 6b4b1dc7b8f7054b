//! The cluster half of `pixtools-<env>`: the seed's k8s/ manifest set, applied by K3s
//! from the manifests bucket (see the README's PixTools tour).
//!
//! One app per directory of the seed's layout: `namespace`, `config` (runtime settings
//! from SSM through External Secrets), `api`, `workers`, `rabbitmq`, `redis`, `ingress`
//! (K3s's Traefik on the ALB's NodePort, rate limiting), `platform` (the External
//! Secrets operator, installed by K3s's Helm controller), and `monitoring` (Prometheus,
//! Alertmanager and Grafana; see `observability.rs`).
//!
//! Terraform values reach the pods only through SSM Parameter Store, as the seed
//! decided: nothing here reads a Terraform attribute.

use girder_core::helm::ChartRef;
use girder_core::{Result, Scope, Stack};
use girder_k3s::Traefik;
use girder_k8s::crds::Extra;
use girder_k8s::crds::external_secrets::{
    ClusterSecretStore, ClusterSecretStoreSpec, DataFrom, ExternalSecret, ExternalSecretSpec,
    Provider, StoreRef,
};
use girder_k8s::crds::traefik::{self, Middleware, MiddlewareSpec, RateLimit};
use girder_k8s::prelude::*;
use girder_network::Ipv4Cidr;
use serde_json::{Value as Json, json};

use crate::config::{Environment, REGION};
use crate::contract::{RuntimeContract, RuntimeKey};
use crate::observability;

/// The namespace of the seed's k8s/namespace.yaml.
pub(crate) const NAMESPACE: &str = "pixtools";
/// The ClusterSecretStores: SSM Parameter Store and Secrets Manager, read with the node
/// role (IMDSv2, two hops).
const PARAMETER_STORE: &str = "aws-parameter-store";
const SECRETS_MANAGER: &str = "aws-secrets-manager";
/// The key of the app's database password in the runtime ExternalSecret's template.
pub(crate) const DATABASE_PASSWORD: &str = "database_password";
/// The ConfigMap every PixTools pod reads its plain settings from.
const CONFIG_MAP: &str = "pixtools-config";
/// The Secret every PixTools pod reads its runtime settings from.
const RUNTIME_SECRET: &str = "pixtools-runtime";
/// Reloader's annotation: roll the workload when the named Secret changes.
const RELOAD_ON_SECRET: &str = "secret.reloader.stakater.com/reload";
/// How often External Secrets re-reads the runtime settings (the app user's password
/// among them): with Reloader, how long a changed password takes to reach the pods.
const RUNTIME_REFRESH: &str = "5m";
/// The Secret holding RabbitMQ's boot definitions (they carry the application user).
const RABBITMQ_DEFINITIONS: &str = "rabbitmq-definitions";
/// The Celery application module both worker pools run.
const CELERY_APP: &str = "app.worker.celery_app";
/// The API's port in its container.
const API_PORT: u16 = 8000;
/// Per client (the address the ALB appends to X-Forwarded-For): requests per second
/// and burst, at the ingress layer (seed: Sprint 2, "API rate limiting at ingress").
const RATE_LIMIT: (u32, u32) = (20, 40);
/// Third-party images, pinned.
const RABBITMQ_IMAGE: &str = "docker.io/library/rabbitmq:4.1.3-alpine";
const REDIS_IMAGE: &str = "docker.io/library/redis:7.4.5-alpine";
/// The uid the official rabbitmq and redis images run as.
const IMAGE_UID: u32 = 999;
/// The two worker pools: name, queue, concurrency (seed: Architecture Freeze).
const WORKER_POOLS: [(&str, &str, u16); 2] = [
    ("worker-standard", "default_queue", 5),
    ("worker-ml", "ml_inference_queue", 1),
];
/// RabbitMQ's dead-letter exchange and the queue it routes to.
const DEAD_LETTER_EXCHANGE: &str = "pixtools.dlx";
const DEAD_LETTER_QUEUE: &str = "pixtools.dead_letter";

/// What the cluster half needs from the Terraform half: literals known at synth.
pub(crate) struct ClusterInputs<'a> {
    /// The VPC's CIDR: the ALB's addresses, trusted for forwarded headers.
    pub vpc_cidr: Ipv4Cidr,
    /// The NodePort the ALB's target group sends to.
    pub node_port: u16,
    /// The Secrets Manager secret of the app's own database user (its password: the
    /// master's rotation never changes it).
    pub app_database_secret: &'a str,
    /// The SSM parameters the Terraform half writes.
    pub contract: &'a RuntimeContract,
}

/// Add the cluster half to `stack`.
pub(crate) fn add(stack: &mut Stack, env: &Environment, inputs: &ClusterInputs<'_>) -> Result<()> {
    let mut root = stack.root();
    let cluster = &mut root.child("cluster")?;

    // k8s/namespace.yaml: restricted pods, no ingress unless allowed below.
    let ns = Namespace::new(NAMESPACE)
        .default_deny_ingress()
        .add(&mut app(cluster, "namespace")?, "namespace")?;

    platform(&mut app(cluster, "platform")?)?;
    reloader(&mut app(cluster, "config")?)?;
    let config = runtime_config(
        &mut app(cluster, "config")?,
        env,
        &ns,
        inputs.contract,
        inputs.app_database_secret,
    )?;

    // k8s/api: the FastAPI service behind the ingress.
    let api = Deployment::new(&ns, "api")
        .part_of(NAMESPACE)
        .component("api")
        .container(
            app_container(
                &config,
                "api",
                &image(env, "pixtools-api", env.api_image_digest),
            )
            .port(Port::http(API_PORT))
            .resources(Resources::new().cpu("250m", "1").memory("384Mi", "768Mi"))
            .readiness(Probe::http_get("/health", "http").period(5))
            .liveness(Probe::http_get("/health", "http").initial_delay(15)),
        )
        .volume(Volume::empty_dir("tmp"))
        .annotation(RELOAD_ON_SECRET, RUNTIME_SECRET)
        .expose(Service::cluster_ip().port(80, "http").ingress(
            Ingress::new("traefik").path("/", 80).annotation(
                traefik::MIDDLEWARES_ANNOTATION,
                traefik::middlewares_annotation([&rate_limit()]),
            ),
        ))
        .add(&mut app(cluster, "api")?, "api")?;
    // Traefik runs in kube-system.
    api.allow_from(
        &mut app(cluster, "api")?,
        &NamespaceHandle::existing("kube-system"),
        "http",
    )?;

    // k8s/workers: one Deployment per queue, at the seed's concurrency.
    let mut workers = Vec::new();
    let workers_app = &mut app(cluster, "workers")?;
    for (name, queue, concurrency) in WORKER_POOLS {
        let worker = Deployment::new(&ns, name)
            .part_of(NAMESPACE)
            .component("worker")
            .container(
                app_container(
                    &config,
                    "worker",
                    &image(env, "pixtools-worker", env.worker_image_digest),
                )
                .command(["celery"])
                .args([
                    "--app".to_owned(),
                    CELERY_APP.to_owned(),
                    "worker".to_owned(),
                    "--loglevel=INFO".to_owned(),
                    format!("--queues={queue}"),
                    format!("--concurrency={concurrency}"),
                    format!("--hostname={name}@%h"),
                    // Task events for the Celery exporter (`observability`).
                    "--task-events".to_owned(),
                ])
                .resources(if concurrency > 1 {
                    Resources::new().cpu("500m", "2").memory("1Gi", "2Gi")
                } else {
                    Resources::new().cpu("500m", "2").memory("1536Mi", "3Gi")
                }),
            )
            .volume(Volume::empty_dir("tmp"))
            .annotation(RELOAD_ON_SECRET, RUNTIME_SECRET)
            // A task in flight finishes (acks late) before the pod goes.
            .termination_grace(120)
            .add(workers_app, name)?;
        workers.push(worker);
    }

    // k8s/rabbitmq: durable queues, persistence, a dead-letter exchange.
    let rabbitmq_app = &mut app(cluster, "rabbitmq")?;
    let rabbitmq = ConfigMap::new(&ns, "rabbitmq-config")
        .entry("10-pixtools.conf", RABBITMQ_CONF)
        .add(rabbitmq_app, "config")?;
    let broker = StatefulSet::new(&ns, "rabbitmq")
        .part_of(NAMESPACE)
        .component("broker")
        .container(
            Container::new("rabbitmq", RABBITMQ_IMAGE)
                .run_as_user(IMAGE_UID)
                .env(Env::value("RABBITMQ_NODENAME", "rabbit@localhost"))
                .port(Port::new("amqp", 5672))
                // The Prometheus plugin (enabled in the official image); scraped by
                // `observability`.
                .port(Port::new(
                    "prometheus",
                    observability::RABBITMQ_METRICS_PORT,
                ))
                .resources(Resources::new().cpu("250m", "1").memory("512Mi", "1Gi"))
                .readiness(
                    Probe::exec(["rabbitmq-diagnostics", "-q", "check_port_connectivity"])
                        .period(15)
                        .timeout(10),
                )
                .liveness(
                    Probe::exec(["rabbitmq-diagnostics", "-q", "status"])
                        .initial_delay(60)
                        .period(30)
                        .timeout(15),
                )
                .mount_read_only("config", "/etc/rabbitmq/conf.d")
                .mount_read_only("definitions", "/etc/rabbitmq/definitions")
                .mount("data", "/var/lib/rabbitmq")
                .mount("tmp", "/tmp"),
        )
        .volume(Volume::config_map("config", &rabbitmq))
        .volume(Volume::secret("definitions", RABBITMQ_DEFINITIONS))
        .volume(Volume::empty_dir("tmp"))
        // K3s's default local-path class: the queue survives a RabbitMQ restart.
        .claim_template(ClaimTemplate::new("data", "8Gi"))
        .replicas(1)
        .termination_grace(60)
        .expose(Service::cluster_ip().port(5672, "amqp"))
        .add(rabbitmq_app, "rabbitmq")?;

    // k8s/redis: a cache, evicting least-recently-used keys, nothing on disk.
    let redis = Deployment::new(&ns, "redis")
        .part_of(NAMESPACE)
        .component("cache")
        .container(
            Container::new("redis", REDIS_IMAGE)
                .run_as_user(IMAGE_UID)
                .args([
                    "--maxmemory",
                    "200mb",
                    "--maxmemory-policy",
                    "allkeys-lru",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .port(Port::new("redis", 6379))
                .resources(
                    Resources::new()
                        .cpu("100m", "500m")
                        .memory("256Mi", "256Mi"),
                )
                .readiness(Probe::tcp("redis"))
                .liveness(Probe::tcp("redis").initial_delay(10))
                .mount("data", "/data"),
        )
        // Redis serves no metrics itself: the exporter reads INFO over localhost.
        .container(
            Container::new("redis-exporter", observability::REDIS_EXPORTER_IMAGE)
                .run_as_user(observability::REDIS_EXPORTER_UID)
                .env(Env::value("REDIS_ADDR", "redis://localhost:6379"))
                .port(Port::metrics(observability::REDIS_EXPORTER_PORT))
                .resources(Resources::new().cpu("10m", "100m").memory("32Mi", "64Mi"))
                .readiness(Probe::http_get("/health", "metrics"))
                .liveness(Probe::http_get("/health", "metrics").initial_delay(10)),
        )
        .volume(Volume::empty_dir("data"))
        .expose(Service::cluster_ip().port(6379, "redis"))
        .add(&mut app(cluster, "redis")?, "redis")?;

    for client in std::iter::once(&api).chain(&workers) {
        broker.allow_from(&mut app(cluster, "rabbitmq")?, client, "amqp")?;
        redis.allow_from(&mut app(cluster, "redis")?, client, "redis")?;
    }

    // k8s/ingress: Traefik on the ALB's NodePort, the per-client rate limit.
    let ingress = &mut app(cluster, "ingress")?;
    Traefik::node_port(inputs.node_port)
        .trust_forwarded_headers_from(inputs.vpc_cidr)
        .add(ingress, "traefik")?;
    rate_limit().add(ingress, "rate-limit")?;

    // Metrics, alerts and dashboards (app `monitoring`).
    let queues: Vec<&str> = WORKER_POOLS.iter().map(|(_, queue, _)| *queue).collect();
    let _ = observability::add(
        cluster,
        env,
        &ns,
        &observability::Scraped {
            api: &api,
            broker: &broker,
            redis: &redis,
            queues: &queues,
            runtime_secret: RUNTIME_SECRET,
        },
    )?;
    Ok(())
}

/// Child scope `name` of `cluster`, writing into Kubernetes app `name`: one directory of
/// the seed's k8s/ layout.
fn app<'s>(cluster: &'s mut Scope<'_>, name: &str) -> Result<Scope<'s>> {
    cluster.child(name)?.with_kube_app(name)
}

/// The External Secrets operator, installed by K3s's Helm controller, and its stores.
fn platform(scope: &mut Scope<'_>) -> Result<()> {
    let chart = ChartRef::new(
        "https://charts.external-secrets.io",
        "external-secrets",
        "2.9.0",
    );
    Release::new(
        "external-secrets",
        "external-secrets",
        chart,
        &json!({
            "installCRDs": true,
            // The controller reads SSM and Secrets Manager with the node role. The node's
            // metadata hop limit is 1, so no pod reaches IMDS: the controller alone runs
            // on the node's network to reach it (not the webhook or the cert controller).
            "hostNetwork": true,
            "dnsPolicy": "ClusterFirstWithHostNet",
            "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            "webhook": {"resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}},
            "certController": {"resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}},
        }),
    )
    .create_namespace()
    .delivery(Delivery::K3s)
    .add(scope, "external-secrets")?;
    for (name, provider) in [
        (PARAMETER_STORE, Provider::parameter_store(REGION)),
        (SECRETS_MANAGER, Provider::secrets_manager(REGION)),
    ] {
        ClusterSecretStore::cluster(
            name,
            ClusterSecretStoreSpec {
                provider,
                extra: Extra::new(),
            },
        )
        .add(scope, name)?;
    }
    Ok(())
}

/// Stakater Reloader, in the app's namespace and watching it alone (a Role, not a
/// ClusterRole): the pods read the runtime Secret once, as environment variables, so
/// when External Secrets rewrites it (a changed database password) Reloader rolls the
/// Deployments annotated with [`RELOAD_ON_SECRET`].
fn reloader(scope: &mut Scope<'_>) -> Result<()> {
    let chart = ChartRef::new(
        "https://stakater.github.io/stakater-charts",
        "reloader",
        "2.2.12",
    );
    Release::new(
        "reloader",
        NAMESPACE,
        chart,
        &json!({
            "reloader": {
                "watchGlobally": false,
                "ignoreConfigMaps": true,
                "deployment": {
                    "containerSecurityContext": {
                        "allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": true,
                    },
                    "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                },
            },
        }),
    )
    .delivery(Delivery::K3s)
    .add(scope, "reloader")?;
    Ok(())
}

/// k8s/config: the SSM parameter contract as Secret `pixtools-runtime`, the passwords
/// composed into the URLs in the cluster; RabbitMQ's definitions with its user.
/// Returns the ConfigMap of plain settings every PixTools pod reads.
fn runtime_config(
    scope: &mut Scope<'_>,
    env: &Environment,
    ns: &NamespaceHandle,
    contract: &RuntimeContract,
    app_database_secret: &str,
) -> Result<ConfigMapHandle> {
    let mut spec = ExternalSecretSpec::new(
        StoreRef::cluster(PARAMETER_STORE),
        RUNTIME_SECRET,
        contract.entries(),
    );
    // The app's own database user (not the master, whose password RDS rotates): its
    // secret, read by name, its password as `database_password`.
    spec.data_from.push(
        DataFrom::extract(app_database_secret)
            .rewrite("^password$", DATABASE_PASSWORD)
            .rewrite("^username$", "database_username")
            .from_store(StoreRef::cluster(SECRETS_MANAGER)),
    );
    // The SSM URLs carry the user but no password; the password goes in after the user.
    let with_password = |url: RuntimeKey, password: &str| {
        let url = url.name();
        format!("{{{{ .{url} | replace \"@\" (printf \":%s@\" ({password} | urlquery)) }}}}")
    };
    let read = |key: RuntimeKey| format!("{{{{ .{} }}}}", key.name());
    let broker_password = format!(".{}", RuntimeKey::RabbitmqPassword.name());
    spec.target.extra.insert(
        "template".into(),
        json!({
            "engineVersion": "v2",
            "data": {
                "DATABASE_URL": with_password(RuntimeKey::DatabaseUrl, &format!(".{DATABASE_PASSWORD}")),
                "CELERY_BROKER_URL": with_password(RuntimeKey::RabbitmqUrl, &broker_password),
                "REDIS_URL": read(RuntimeKey::RedisUrl),
                "AWS_S3_BUCKET": read(RuntimeKey::AwsS3Bucket),
                "WEBHOOK_CB_FAIL_THRESHOLD": read(RuntimeKey::WebhookCbFailThreshold),
                "WEBHOOK_CB_RESET_TIMEOUT": read(RuntimeKey::WebhookCbResetTimeout),
            },
        }),
    );
    spec.refresh_interval = Some(RUNTIME_REFRESH.into());
    ExternalSecret::new(NAMESPACE, RUNTIME_SECRET, spec).add(scope, RUNTIME_SECRET)?;

    let mut definitions = ExternalSecretSpec::new(
        StoreRef::cluster(PARAMETER_STORE),
        RABBITMQ_DEFINITIONS,
        [(
            RuntimeKey::RabbitmqPassword.name().to_owned(),
            contract.path(RuntimeKey::RabbitmqPassword),
        )],
    );
    definitions.target.extra.insert(
        "template".into(),
        json!({
            "engineVersion": "v2",
            "data": {"definitions.json": rabbitmq_definitions()},
        }),
    );
    ExternalSecret::new(NAMESPACE, RABBITMQ_DEFINITIONS, definitions)
        .add(scope, RABBITMQ_DEFINITIONS)?;

    ConfigMap::new(ns, CONFIG_MAP)
        .entry("ENVIRONMENT", env.name)
        .entry("AWS_REGION", REGION)
        .entry("LOG_FORMAT", "json")
        .entry("CORS_ALLOW_SAME_ORIGIN_ONLY", "true")
        .add(scope, CONFIG_MAP)
}

/// A PixTools container: settings from the ConfigMap and the runtime Secret, a writable
/// `/tmp`, the restricted defaults.
fn app_container(config: &ConfigMapHandle, name: &str, image: &str) -> Container {
    Container::new(name, image)
        .env_from(EnvFrom::config_map(config))
        .env_from(EnvFrom::Secret(RUNTIME_SECRET.into()))
        .mount("tmp", "/tmp")
}

/// An ECR image of `env`'s account, by digest.
fn image(env: &Environment, repository: &str, digest: &str) -> String {
    format!(
        "{}.dkr.ecr.{REGION}.amazonaws.com/{repository}@{digest}",
        env.account_id
    )
}

/// The API's per-client rate limit.
fn rate_limit() -> Middleware {
    Middleware::new(
        NAMESPACE,
        "api-rate-limit",
        MiddlewareSpec {
            rate_limit: Some(RateLimit::per_second_behind_load_balancer(
                RATE_LIMIT.0,
                RATE_LIMIT.1,
            )),
            extra: Extra::new(),
        },
    )
}

/// RabbitMQ's configuration: definitions at boot, JSON logs to the console.
const RABBITMQ_CONF: &str = "\
load_definitions = /etc/rabbitmq/definitions/definitions.json
log.console = true
log.console.formatter = json
log.file = false
vm_memory_high_watermark.relative = 0.6
disk_free_limit.absolute = 1GB
";

/// The boot definitions, an External Secrets template: the application user (definitions
/// loaded at boot replace the default user), durable queues, and a policy sending
/// rejected and expired messages of both queues to the dead-letter exchange.
fn rabbitmq_definitions() -> String {
    let queue = |name: &str| json!({"name": name, "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}});
    let queues: Vec<Json> = WORKER_POOLS
        .iter()
        .map(|(_, name, _)| queue(name))
        .chain(std::iter::once(queue(DEAD_LETTER_QUEUE)))
        .collect();
    let pattern = format!(
        "^({})$",
        WORKER_POOLS
            .iter()
            .map(|(_, name, _)| *name)
            .collect::<Vec<_>>()
            .join("|")
    );
    let definitions = json!({
        "users": [{"name": "pixtools", "password": "PASSWORD", "tags": ""}],
        "vhosts": [{"name": "/"}],
        "permissions": [{"user": "pixtools", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
        "exchanges": [{
            "name": DEAD_LETTER_EXCHANGE, "vhost": "/", "type": "fanout",
            "durable": true, "auto_delete": false, "internal": false, "arguments": {},
        }],
        "queues": queues,
        "bindings": [{
            "source": DEAD_LETTER_EXCHANGE, "vhost": "/", "destination": DEAD_LETTER_QUEUE,
            "destination_type": "queue", "routing_key": "", "arguments": {},
        }],
        "policies": [{
            "name": "dead-letter", "vhost": "/", "pattern": pattern, "apply-to": "queues",
            "priority": 0, "definition": {"dead-letter-exchange": DEAD_LETTER_EXCHANGE},
        }],
    });
    // serde_json writes a string without braces; the one placeholder becomes the template
    // expression (a JSON string of the password).
    serde_json::to_string_pretty(&definitions)
        .unwrap_or_default()
        .replace(
            "\"PASSWORD\"",
            &format!(
                "{{{{ .{} | toJson }}}}",
                RuntimeKey::RabbitmqPassword.name()
            ),
        )
}
