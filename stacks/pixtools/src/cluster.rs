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
use girder_k3s::{EbsCsiDriver, Traefik};
use girder_k8s::crds::Extra;
use girder_k8s::crds::external_secrets::{
    ClusterSecretStore, ClusterSecretStoreSpec, DataFrom, ExternalSecret, ExternalSecretSpec,
    Provider, StoreRef,
};
use girder_k8s::crds::traefik::{self, Middleware, MiddlewareSpec, RateLimit};
use girder_k8s::prelude::*;
use girder_k8s::{AwsWebIdentity, StorageClassHandle};
use girder_network::Ipv4Cidr;
use serde_json::{Value as Json, json};

use crate::config::{Environment, REGION};
use crate::contract::{AppContract, AppEnv, AppTopology, RuntimeContract, RuntimeKey};
use crate::observability;

/// The namespace of the seed's k8s/namespace.yaml.
pub(crate) const NAMESPACE: &str = "pixtools";
/// The service accounts of the app's pods (the api's and each worker pool's): the app
/// role trusts exactly these.
pub(crate) const APP_SERVICE_ACCOUNTS: [&str; 3] = ["api", "worker-standard", "worker-ml"];
/// The ClusterSecretStores: SSM Parameter Store and Secrets Manager, read with the
/// External Secrets controller's own role.
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
/// The Secret holding Redis's password: its configuration (`redis.conf`, read by the
/// server) and the bare password (key [`REDIS_AUTH_KEY`], read by the exporter).
const REDIS_AUTH: &str = "redis-auth";
const REDIS_AUTH_KEY: &str = "auth";
/// The External Secrets operator's namespace and its controller's ServiceAccount (named
/// in the chart's values, so the controller's role can trust it before it exists).
pub(crate) const ESO_NAMESPACE: &str = "external-secrets";
pub(crate) const ESO_SERVICE_ACCOUNT: &str = "external-secrets";
/// Per client (the address the ALB appends to X-Forwarded-For): requests per second
/// and burst, at the ingress layer (seed: Sprint 2, "API rate limiting at ingress").
const RATE_LIMIT: (u32, u32) = (20, 40);
/// Third-party images, pinned.
const RABBITMQ_IMAGE: &str = "docker.io/library/rabbitmq:4.1.3-alpine";
const REDIS_IMAGE: &str = "docker.io/library/redis:7.4.5-alpine";
/// aws-node-termination-handler (IMDS mode): drains the node on a spot interruption
/// notice or a scheduled maintenance event.
pub(crate) const DRAIN_HANDLER_IMAGE: &str =
    "public.ecr.aws/aws-ec2/aws-node-termination-handler:v1.22.0";
/// Its name, in kube-system (the DaemonSet and its ServiceAccount).
pub(crate) const DRAIN_HANDLER: &str = "aws-node-termination-handler";
/// The ClusterRole of what it may do.
const DRAIN_ROLE: &str = "node-drain";
/// The port its probes server listens on, on the node's network (nothing else on the
/// node uses it: K3s's own ports are 6443, 10250 and the NodePort range).
const DRAIN_HANDLER_PROBES_PORT: u16 = 8581;
/// The CronJob (and its ServiceAccount and ClusterRole) that removes stale Nodes.
const STALE_NODES: &str = "stale-nodes";
/// A Node NotReady this long is gone (K3s has no cloud controller to remove it).
pub(crate) const STALE_NODE_MINUTES: u16 = 5;
/// What the cleanup may do, and nothing else: list and delete Nodes, list and delete
/// (force) the pods bound to them.
pub(crate) const STALE_NODE_RULES: [(&str, &str, &[&str]); 2] = [
    ("", "nodes", &["list", "delete"]),
    ("", "pods", &["list", "delete"]),
];
/// The uid the official redis (alpine) image runs as.
const IMAGE_UID: u32 = 999;
/// The user and group the official rabbitmq alpine image owns its files with
/// (`adduser -u 100 ... -G rabbitmq`, `addgroup -g 101`).
const RABBITMQ_UID: u32 = 100;
const RABBITMQ_GID: u32 = 101;
/// The two worker pools: name, queue (the app's), concurrency (seed: Architecture
/// Freeze).
const WORKER_POOLS: [(&str, &str, u16); 2] = [
    ("worker-standard", AppTopology::QUEUES[0].name, 5),
    ("worker-ml", AppTopology::QUEUES[1].name, 1),
];
/// The port each worker serves its metrics on (see [`WORKER_MAIN`]).
pub(crate) const WORKER_METRICS_PORT: u16 = 9400;
/// Where the workers' processes keep their metrics for the collector (an emptyDir).
const WORKER_METRICS_DIR: &str = "/tmp/prometheus";

/// What the cluster half needs from the Terraform half: literals known at synth.
pub(crate) struct ClusterInputs<'a> {
    /// The VPC's CIDR: the ALB's addresses, trusted for forwarded headers.
    pub vpc_cidr: Ipv4Cidr,
    /// The NodePort the ALB's target group sends to.
    pub node_port: u16,
    /// The Secrets Manager secret of the app's own database user (its password: the
    /// master's rotation never changes it).
    pub app_database_secret: &'a str,
    /// The ARN of the app's AWS role (the images bucket), which the api's and the
    /// workers' service accounts assume.
    pub app_role_arn: &'a str,
    /// The platform components' own AWS roles.
    pub platform_roles: &'a PlatformRoles,
    /// The SSM parameters the Terraform half writes.
    pub contract: &'a RuntimeContract,
}

/// The AWS roles of the platform's pods, each assumed with its ServiceAccount's
/// projected token (the node's published issuer), none through the node role.
pub(crate) struct PlatformRoles {
    /// The EBS CSI driver's controller (kube-system/ebs-csi-controller-sa).
    pub ebs_csi_controller: String,
    /// The External Secrets controller ([`ESO_NAMESPACE`]/[`ESO_SERVICE_ACCOUNT`]).
    pub external_secrets: String,
    /// Alertmanager (monitoring/alertmanager): publishes to the alerts topic.
    pub alertmanager: String,
}

/// Add the cluster half to `stack`.
pub(crate) fn add(stack: &mut Stack, env: &Environment, inputs: &ClusterInputs<'_>) -> Result<()> {
    let mut root = stack.root();
    let cluster = &mut root.child("cluster")?;

    // k8s/namespace.yaml: restricted pods, no ingress unless allowed below.
    let ns = Namespace::new(NAMESPACE)
        .default_deny_ingress()
        .add(&mut app(cluster, "namespace")?, "namespace")?;

    let volumes = platform(&mut app(cluster, "platform")?, inputs.platform_roles)?;
    drain_handler(&mut app(cluster, "platform")?)?;
    stale_node_cleanup(&mut app(cluster, "platform")?, env)?;
    reloader(&mut app(cluster, "config")?)?;
    let config = runtime_config(
        &mut app(cluster, "config")?,
        env,
        &ns,
        inputs.contract,
        inputs.app_database_secret,
    )?;

    // k8s/api: the FastAPI service behind the ingress.
    let api_app = &mut app(cluster, "api")?;
    let api_account = ServiceAccount::new(&ns, "api").add(api_app, "api-account")?;
    let api_image = image(env, "pixtools-api", &env.api_image_digest);
    let health = AppContract::HEALTH;
    let api = Deployment::new(&ns, "api")
        .part_of(NAMESPACE)
        .service_account(&api_account)
        .aws_role(inputs.app_role_arn)
        .component("api")
        .fs_group(AppContract::GID)
        // The schema first: every new api pod runs `alembic upgrade head` (a no-op when
        // the schema is current) before uvicorn starts, as the app's own manifests do.
        // A Job would need a new name per release (its pod template is immutable, so
        // re-applying it with a new digest fails) and a gate the api waits on; an init
        // container is re-run by every rollout and orders itself. A failing migration
        // keeps the new pod Init (the old one serves on) until the Deployment's progress
        // deadline marks the rollout failed.
        .init_container(
            app_container(&config, "migrate", &api_image)
                .command(AppContract::MIGRATION)
                .resources(Resources::new().cpu("100m", "1").memory("128Mi", "256Mi")),
        )
        .container(
            app_container(&config, "api", &api_image)
                .port(Port::http(AppContract::API_PORT))
                .resources(Resources::new().cpu("250m", "1").memory("384Mi", "768Mi"))
                // Ready while the database, Redis and RabbitMQ answer; alive while the
                // process answers (a dependency's outage never restarts it).
                .readiness(Probe::http_get(health.readiness, "http").period(5))
                .liveness(Probe::http_get(health.liveness, "http").initial_delay(15)),
        )
        .volume(Volume::empty_dir("tmp"))
        .annotation(RELOAD_ON_SECRET, RUNTIME_SECRET)
        .expose(Service::cluster_ip().port(80, "http").ingress(
            Ingress::new("traefik").path("/", 80).annotation(
                traefik::MIDDLEWARES_ANNOTATION,
                traefik::middlewares_annotation([&rate_limit()]),
            ),
        ))
        .add(api_app, "api")?;
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
        let account =
            ServiceAccount::new(&ns, name).add(workers_app, &format!("{name}-account"))?;
        let worker = Deployment::new(&ns, name)
            .part_of(NAMESPACE)
            .service_account(&account)
            .aws_role(inputs.app_role_arn)
            .component("worker")
            .fs_group(AppContract::GID)
            .container(
                app_container(
                    &config,
                    "worker",
                    &image(env, "pixtools-worker", &env.worker_image_digest),
                )
                // Celery, with the metrics its processes record served on `metrics`.
                .command(["python", "-c", WORKER_MAIN])
                .env(Env::value("PROMETHEUS_MULTIPROC_DIR", WORKER_METRICS_DIR))
                .env(Env::value(
                    "WORKER_METRICS_PORT",
                    WORKER_METRICS_PORT.to_string(),
                ))
                .port(Port::metrics(WORKER_METRICS_PORT))
                .args(
                    [
                        "--app".to_owned(),
                        AppContract::CELERY_APP.to_owned(),
                        "worker".to_owned(),
                        "--loglevel=INFO".to_owned(),
                        format!("--queues={queue}"),
                    ]
                    .into_iter()
                    .chain(worker_pool_args(concurrency))
                    .chain([
                        format!("--hostname={name}@%h"),
                        // Task events for the Celery exporter (`observability`).
                        "--task-events".to_owned(),
                    ]),
                )
                // The node has about 2000m allocatable: the pools request 355m and 400m
                // (both burst to 2 CPUs), leaving room for beat, the stale-node
                // cleanup's runs and the api's rollout, which starts its new pod beside
                // the old one (the workers replace theirs in place).
                .resources(if concurrency > 1 {
                    Resources::new().cpu("355m", "2").memory("1Gi", "2Gi")
                } else {
                    Resources::new().cpu("400m", "2").memory("1536Mi", "3Gi")
                })
                // Ready once this worker (by its Celery node name) answers a ping over
                // the broker: a rollout waits for a worker that consumes. Alive while
                // its process serves its metrics: a liveness through the broker would
                // restart every worker whenever the broker is away (a node loss, a
                // broker restart), and the restarts' back-off would then delay them
                // after it is back. Celery reconnects by itself. Each ping starts a
                // Python process that imports the app, so once a minute.
                .readiness(worker_ping(name).period(60).timeout(30))
                .liveness(
                    Probe::http_get("/", "metrics")
                        .initial_delay(30)
                        .period(30)
                        .failure_threshold(3),
                ),
            )
            .volume(Volume::empty_dir("tmp"))
            .annotation(RELOAD_ON_SECRET, RUNTIME_SECRET)
            // A task in flight finishes (acks late) before the pod goes.
            .termination_grace(120)
            // The node has no room for a second worker pod: the old one goes first and
            // its queue waits (a deploy or rollback would otherwise stall Pending).
            .rollout(Rollout::InPlace)
            .add(workers_app, name)?;
        workers.push(worker);
    }

    // k8s/workers/beat.yaml: the app has periodic tasks (`celery_app.conf.beat_schedule`),
    // which exactly one beat sends: one replica, and a rollout that stops the old one
    // before the new one starts (two would send every task twice).
    let beat = if AppContract::PERIODIC_TASKS.is_empty() {
        None
    } else {
        Some(
            Deployment::new(&ns, "beat")
                .part_of(NAMESPACE)
                .component("scheduler")
                .fs_group(AppContract::GID)
                .container(
                    app_container(
                        &config,
                        "beat",
                        &image(env, "pixtools-worker", &env.worker_image_digest),
                    )
                    .command(["celery"])
                    .args([
                        "--app",
                        AppContract::CELERY_APP,
                        "beat",
                        "--loglevel=INFO",
                        "--schedule",
                        AppContract::BEAT_SCHEDULE,
                    ])
                    // The app's own beat.yaml requests 192Mi (it imports every task
                    // module, torch among them); it sleeps between ticks.
                    .resources(Resources::new().cpu("20m", "500m").memory("192Mi", "384Mi")),
                )
                .volume(Volume::empty_dir("tmp"))
                .annotation(RELOAD_ON_SECRET, RUNTIME_SECRET)
                .replicas(1)
                .rollout(Rollout::Recreate)
                .add(workers_app, "beat")?,
        )
    };

    // k8s/rabbitmq: durable queues, persistence, a dead-letter exchange.
    let rabbitmq_app = &mut app(cluster, "rabbitmq")?;
    let rabbitmq = ConfigMap::new(&ns, "rabbitmq-config")
        .entry("10-pixtools.conf", RABBITMQ_CONF)
        .add(rabbitmq_app, "config")?;
    let broker = StatefulSet::new(&ns, "rabbitmq")
        .part_of(NAMESPACE)
        .component("broker")
        // The definitions carry the app user's password, loaded at boot: a changed
        // password restarts the broker, which loads it (Reloader).
        .annotation(RELOAD_ON_SECRET, RABBITMQ_DEFINITIONS)
        .container(
            Container::new("rabbitmq", RABBITMQ_IMAGE)
                .run_as_user(RABBITMQ_UID)
                .run_as_group(RABBITMQ_GID)
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
        // An EBS volume (kept when the claim goes): the queues survive a RabbitMQ
        // restart and the node's loss; a new volume is root's, the image's group gets it.
        .claim_template(ClaimTemplate::new("data", "8Gi").storage_class(volumes.name()))
        .fs_group(RABBITMQ_GID)
        .replicas(1)
        .termination_grace(60)
        .expose(Service::cluster_ip().port(5672, "amqp"))
        .add(rabbitmq_app, "rabbitmq")?;

    // k8s/redis: a cache, evicting least-recently-used keys, nothing on disk; clients
    // authenticate with the password in Secret `redis-auth`.
    let redis = Deployment::new(&ns, "redis")
        .part_of(NAMESPACE)
        .component("cache")
        // redis.conf is read at start: a changed password restarts Redis (Reloader).
        .annotation(RELOAD_ON_SECRET, REDIS_AUTH)
        .container(
            Container::new("redis", REDIS_IMAGE)
                .run_as_user(IMAGE_UID)
                .args([
                    // `requirepass`, from the Secret (never on the command line).
                    "/etc/redis/redis.conf",
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
                // A small cache, single-threaded: 50m guaranteed, bursting to half a
                // core; the node's CPU is booked to the last pod (see the capacity test).
                .resources(Resources::new().cpu("50m", "500m").memory("256Mi", "256Mi"))
                .readiness(Probe::tcp("redis"))
                .liveness(Probe::tcp("redis").initial_delay(10))
                .mount_read_only("auth", "/etc/redis")
                .mount("data", "/data"),
        )
        // Redis serves no metrics itself: the exporter reads INFO over localhost.
        .container(
            Container::new("redis-exporter", observability::REDIS_EXPORTER_IMAGE)
                .run_as_user(observability::REDIS_EXPORTER_UID)
                .env(Env::value("REDIS_ADDR", "redis://localhost:6379"))
                .env(Env::secret_key(
                    "REDIS_PASSWORD",
                    REDIS_AUTH,
                    REDIS_AUTH_KEY,
                ))
                .port(Port::metrics(observability::REDIS_EXPORTER_PORT))
                .resources(Resources::new().cpu("10m", "100m").memory("32Mi", "64Mi"))
                .readiness(Probe::http_get("/health", "metrics"))
                .liveness(Probe::http_get("/health", "metrics").initial_delay(10)),
        )
        .volume(Volume::secret("auth", REDIS_AUTH))
        .volume(Volume::empty_dir("data"))
        .expose(Service::cluster_ip().port(6379, "redis"))
        .add(&mut app(cluster, "redis")?, "redis")?;

    for client in std::iter::once(&api).chain(&workers).chain(&beat) {
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
            workers: &workers,
            broker: &broker,
            redis: &redis,
            queues: &queues,
            runtime_secret: RUNTIME_SECRET,
        },
        &inputs.platform_roles.alertmanager,
    )?;
    Ok(())
}

/// Child scope `name` of `cluster`, writing into Kubernetes app `name`: one directory of
/// the seed's k8s/ layout.
fn app<'s>(cluster: &'s mut Scope<'_>, name: &str) -> Result<Scope<'s>> {
    cluster.child(name)?.with_kube_app(name)
}

/// The External Secrets operator, installed by K3s's Helm controller, and its stores;
/// the EBS CSI driver and its StorageClass (returned: what durable claims name).
fn platform(scope: &mut Scope<'_>, roles: &PlatformRoles) -> Result<StorageClassHandle> {
    let chart = ChartRef::new(
        "https://charts.external-secrets.io",
        "external-secrets",
        "2.9.0",
    );
    // The controller reads SSM and Secrets Manager as its own role, on the pod network
    // (the node's metadata hop limit keeps every pod from the node role).
    let identity = AwsWebIdentity::new(&roles.external_secrets).region(REGION);
    Release::new(
        "external-secrets",
        ESO_NAMESPACE,
        chart,
        &json!({
            "installCRDs": true,
            "serviceAccount": {"create": true, "name": ESO_SERVICE_ACCOUNT},
            "extraEnv": identity.env_values(),
            "extraVolumes": [identity.volume_values()],
            "extraVolumeMounts": [identity.mount_values()],
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
        // Only PixTools' ExternalSecrets may read through the controller's role.
        ClusterSecretStore::cluster(
            name,
            ClusterSecretStoreSpec::new(provider).only_for([NAMESPACE]),
        )
        .add(scope, name)?;
    }
    // Volumes that outlive the node: RabbitMQ's queues survive a spot interruption.
    let driver = EbsCsiDriver::new(&roles.ebs_csi_controller, REGION).add(scope, "ebs-csi")?;
    Ok(driver.storage_class().clone())
}

/// What the drain handler may do in the API, and nothing else (aws-node-termination-
/// handler's own ClusterRole in IMDS mode, without events): read and cordon its node,
/// find the node's pods, evict them, and tell DaemonSet pods (which it leaves) apart.
pub(crate) const DRAIN_HANDLER_RULES: [(&str, &str, &[&str]); 5] = [
    ("", "nodes", &["get", "list", "patch", "update"]),
    ("", "pods", &["get", "list"]),
    ("", "pods/eviction", &["create"]),
    ("apps", "daemonsets", &["get"]),
    ("extensions", "daemonsets", &["get"]),
];

/// The spot interruption notice becomes a drain: aws-node-termination-handler in IMDS
/// mode, a DaemonSet on the node's network (IMDSv2's hop limit is 1, so only the node's
/// network reaches the metadata it polls; it needs no AWS permission). On
/// `spot/instance-action` (two minutes before the instance stops) or a scheduled event,
/// it cordons the node and evicts every pod but DaemonSets', each with its own grace
/// period: RabbitMQ shuts down cleanly, the workers stop taking tasks, and the
/// Deployments' replacements wait, Pending, for the new node instead of for the old
/// Node's five-minute eviction.
fn drain_handler(scope: &mut Scope<'_>) -> Result<()> {
    let kube_system = NamespaceHandle::existing("kube-system");
    let account =
        ServiceAccount::new(&kube_system, DRAIN_HANDLER).add(scope, "drain-handler-account")?;
    let mut role = ClusterRole::new(DRAIN_ROLE);
    for (group, resource, verbs) in DRAIN_HANDLER_RULES {
        role = role.allow(&[group], &[resource], verbs);
    }
    role.add(scope, "drain-handler-role")?
        .bind_cluster_wide(scope, &account)?;
    let probes = Port::new("probes", DRAIN_HANDLER_PROBES_PORT);
    let probe = || Probe::http_get("/healthz", "probes");
    DaemonSet::new(&kube_system, DRAIN_HANDLER)
        .part_of("platform")
        .component("drain")
        .container(
            Container::new(DRAIN_HANDLER, DRAIN_HANDLER_IMAGE)
                .run_as_user(1000)
                .env(Env::field("NODE_NAME", "spec.nodeName"))
                .env(Env::field("POD_NAME", "metadata.name"))
                .env(Env::field("NAMESPACE", "metadata.namespace"))
                .env(Env::value("ENABLE_SPOT_INTERRUPTION_DRAINING", "true"))
                .env(Env::value("ENABLE_SCHEDULED_EVENT_DRAINING", "true"))
                // A rebalance recommendation is not an interruption: the ASG's
                // Capacity Rebalancing acts on it.
                .env(Env::value("ENABLE_REBALANCE_MONITORING", "false"))
                .env(Env::value("ENABLE_REBALANCE_DRAINING", "false"))
                .env(Env::value("IGNORE_DAEMON_SETS", "true"))
                // The pods' emptyDirs (`/tmp`, Prometheus) go with the node anyway.
                .env(Env::value("DELETE_LOCAL_DATA", "true"))
                // Each pod's own grace period (the workers' 120 s fits in the notice).
                .env(Env::value("POD_TERMINATION_GRACE_PERIOD", "-1"))
                .env(Env::value("NODE_TERMINATION_GRACE_PERIOD", "120"))
                .env(Env::value("METADATA_TRIES", "3"))
                .env(Env::value("JSON_LOGGING", "true"))
                .env(Env::value("ENABLE_PROMETHEUS_SERVER", "false"))
                .env(Env::value("ENABLE_PROBES_SERVER", "true"))
                .env(Env::value("PROBES_SERVER_PORT", DRAIN_HANDLER_PROBES_PORT.to_string()))
                .env(Env::value("PROBES_SERVER_ENDPOINT", "/healthz"))
                .port(probes)
                .resources(Resources::new().cpu("10m", "100m").memory("32Mi", "64Mi"))
                .readiness(probe())
                .liveness(probe().initial_delay(10)),
        )
        .service_account(&account)
        .host_network("polls the instance metadata service for the spot interruption notice; IMDSv2's hop limit 1 admits the node's network only")
        .priority_class("system-node-critical")
        // Runs on a cordoned or tainted node: it is what drains it.
        .toleration(k8s_openapi::api::core::v1::Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        })
        .add(scope, "drain-handler")?;
    Ok(())
}

/// Stale Nodes are removed: every 5 minutes a CronJob deletes each Node NotReady for
/// more than [`STALE_NODE_MINUTES`] minutes while another Node is Ready (the spot node
/// that was replaced), force-deleting its pods first, so a StatefulSet's pod that was
/// stuck Terminating on it is created again. The script is Python's standard library
/// only, run by the `pixtools-worker` image (by digest; it has Python), with a
/// ServiceAccount that may list and delete Nodes and pods and nothing else.
fn stale_node_cleanup(scope: &mut Scope<'_>, env: &Environment) -> Result<()> {
    let kube_system = NamespaceHandle::existing("kube-system");
    let account =
        ServiceAccount::new(&kube_system, STALE_NODES).add(scope, "stale-nodes-account")?;
    let mut role = ClusterRole::new(STALE_NODES);
    for (group, resource, verbs) in STALE_NODE_RULES {
        role = role.allow(&[group], &[resource], verbs);
    }
    role.add(scope, "stale-nodes-role")?
        .bind_cluster_wide(scope, &account)?;
    let script = ConfigMap::new(&kube_system, STALE_NODES)
        .entry("remove_stale_nodes.py", STALE_NODES_SCRIPT)
        .add(scope, "stale-nodes-script")?;
    CronJob::new(&kube_system, STALE_NODES, "*/5 * * * *")
        .part_of("platform")
        .component("node-cleanup")
        .container(
            Container::new(
                "cleanup",
                image(env, "pixtools-worker", &env.worker_image_digest),
            )
            // The image has no USER: the app contract's user.
            .run_as_user(AppContract::UID)
            .run_as_group(AppContract::GID)
            .command(["python3", "/scripts/remove_stale_nodes.py"])
            .env(Env::value("STALE_MINUTES", STALE_NODE_MINUTES.to_string()))
            .resources(Resources::new().cpu("10m", "200m").memory("64Mi", "128Mi"))
            .mount_read_only("script", "/scripts"),
        )
        .volume(Volume::config_map("script", &script))
        .service_account(&account)
        .backoff_limit(1)
        .add(scope, "stale-nodes")?;
    Ok(())
}

/// The stale Node cleanup (see [`stale_node_cleanup`]).
const STALE_NODES_SCRIPT: &str = r#""""Delete Nodes NotReady for more than STALE_MINUTES while another Node is Ready,
force-deleting their pods first (K3s has no cloud controller to remove a replaced node)."""
import datetime
import json
import os
import ssl
import urllib.parse
import urllib.request

ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
API = "https://kubernetes.default.svc"
STALE = datetime.timedelta(minutes=int(os.environ["STALE_MINUTES"]))
with open(ACCOUNT + "/token") as f:
    TOKEN = f.read().strip()
CONTEXT = ssl.create_default_context(cafile=ACCOUNT + "/ca.crt")


def call(method, path, body=None):
    request = urllib.request.Request(
        API + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=CONTEXT, timeout=30) as response:
        return json.load(response)


def ready(node):
    for condition in node.get("status", {}).get("conditions", []):
        if condition["type"] == "Ready":
            return condition
    return None


def log(message, **fields):
    print(json.dumps({"msg": message, **fields}), flush=True)


now = datetime.datetime.now(datetime.timezone.utc)
nodes = call("GET", "/api/v1/nodes")["items"]
if not any((ready(n) or {}).get("status") == "True" for n in nodes):
    log("no Ready node: nothing removed")
    raise SystemExit(0)
for node in nodes:
    name = node["metadata"]["name"]
    condition = ready(node)
    if condition is None or condition["status"] == "True":
        continue
    since = datetime.datetime.fromisoformat(condition["lastTransitionTime"].replace("Z", "+00:00"))
    if now - since < STALE:
        continue
    selector = urllib.parse.quote("spec.nodeName=" + name)
    for pod in call("GET", "/api/v1/pods?fieldSelector=" + selector)["items"]:
        meta = pod["metadata"]
        call("DELETE", "/api/v1/namespaces/%s/pods/%s" % (meta["namespace"], meta["name"]), {"gracePeriodSeconds": 0})
        log("force-deleted pod", node=name, pod=meta["namespace"] + "/" + meta["name"])
    call("DELETE", "/api/v1/nodes/" + name)
    log("deleted stale node", node=name, not_ready_since=condition["lastTransitionTime"])
"#;
/// Stakater Reloader, in the app's namespace and watching it alone (a Role, not a
/// ClusterRole): the pods read the runtime Secret once, as environment variables, so
/// when External Secrets rewrites it (a changed database password) Reloader rolls the
/// workloads annotated with [`RELOAD_ON_SECRET`]: the app's, and the broker and Redis,
/// whose passwords are in their own Secrets.
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
    // One key per variable the app reads, named as the contract says; exhaustive, so a
    // variable added to the contract does not compile until it has a value.
    let mut data = serde_json::Map::new();
    for variable in AppEnv::ALL {
        let parameter = variable.parameter();
        let value = match variable {
            AppEnv::DatabaseUrl => with_password(parameter, &format!(".{DATABASE_PASSWORD}")),
            AppEnv::RabbitmqUrl => with_password(parameter, &broker_password),
            AppEnv::RedisUrl => format!(
                "{{{{ .{} | replace \"redis://\" (printf \"redis://:%s@\" (.{} | urlquery)) }}}}",
                parameter.name(),
                RuntimeKey::RedisPassword.name(),
            ),
            AppEnv::AwsS3Bucket
            | AppEnv::WebhookCbFailThreshold
            | AppEnv::WebhookCbResetTimeout => read(parameter),
        };
        data.insert(variable.name().to_owned(), Json::String(value));
    }
    spec.target.extra.insert(
        "template".into(),
        json!({"engineVersion": "v2", "data": data}),
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

    let mut redis_auth = ExternalSecretSpec::new(
        StoreRef::cluster(PARAMETER_STORE),
        REDIS_AUTH,
        [(
            RuntimeKey::RedisPassword.name().to_owned(),
            contract.path(RuntimeKey::RedisPassword),
        )],
    );
    let password = format!("{{{{ .{} }}}}", RuntimeKey::RedisPassword.name());
    redis_auth.target.extra.insert(
        "template".into(),
        json!({
            "engineVersion": "v2",
            "data": {
                "redis.conf": format!("requirepass \"{password}\"\n"),
                (REDIS_AUTH_KEY): password,
            },
        }),
    );
    ExternalSecret::new(NAMESPACE, REDIS_AUTH, redis_auth).add(scope, REDIS_AUTH)?;

    ConfigMap::new(ns, CONFIG_MAP)
        .entry("ENVIRONMENT", env.name)
        .entry("AWS_REGION", REGION)
        .entry("LOG_FORMAT", "json")
        .entry("CORS_ALLOW_SAME_ORIGIN_ONLY", "true")
        // TLS to RDS for both of the app's drivers (see `AppContract::SSL_MODE`).
        .entry(AppContract::SSL_MODE.0, AppContract::SSL_MODE.1)
        .add(scope, CONFIG_MAP)
}

/// A PixTools container: settings from the ConfigMap and the runtime Secret, a writable
/// `/tmp`, the restricted defaults, as the contract's user (the image has none).
fn app_container(config: &ConfigMapHandle, name: &str, image: &str) -> Container {
    Container::new(name, image)
        .run_as_user(AppContract::UID)
        .run_as_group(AppContract::GID)
        .env_from(EnvFrom::config_map(config))
        .env_from(EnvFrom::Secret(RUNTIME_SECRET.into()))
        .mount("tmp", "/tmp")
}

/// How a pool of `concurrency` runs its tasks: prefork children for several; one task at
/// a time in the worker's own process for one, as the app runs its ML pool
/// (`k8s/workers/worker-ml.yaml`: `--pool=solo`; a model loaded before a fork is not
/// safe to use in the child).
fn worker_pool_args(concurrency: u16) -> Vec<String> {
    if concurrency == 1 {
        vec!["--pool=solo".to_owned()]
    } else {
        vec![format!("--concurrency={concurrency}")]
    }
}

/// The readiness check of worker pool `name`: `celery inspect ping` of this
/// pod's worker (`<pool>@<pod name>`, its `--hostname`) through the broker, as a process
/// that keeps its metrics to itself (out of the workers' collector directory).
fn worker_ping(name: &str) -> Probe {
    let app = AppContract::CELERY_APP;
    Probe::exec([
        "sh".to_owned(),
        "-c".to_owned(),
        format!(
            "exec env -u PROMETHEUS_MULTIPROC_DIR celery --app {app} inspect ping --destination \"{name}@$HOSTNAME\" --timeout 10"
        ),
    ])
}

/// A worker's entry point: `celery <args>` in a process that first serves, on
/// `WORKER_METRICS_PORT`, what every process of the worker records. The app's metrics
/// (`app/metrics.py`: the job end-to-end histogram, webhook deliveries) are recorded in
/// the prefork children, which serve nothing; with `PROMETHEUS_MULTIPROC_DIR` set before
/// the app is imported, prometheus_client keeps each process's values in a file there,
/// and the collector in the parent sums them (its documented multiprocess mode). The
/// directory is emptied first: files of a previous container's processes would count
/// twice.
const WORKER_MAIN: &str = r#"import os, shutil, sys
directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
shutil.rmtree(directory, ignore_errors=True)
os.makedirs(directory)
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
registry = CollectorRegistry()
MultiProcessCollector(registry)
start_http_server(int(os.environ["WORKER_METRICS_PORT"]), registry=registry)
sys.argv = ["celery", *sys.argv[1:]]
from celery.__main__ import main
main()
"#;

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
/// loaded at boot replace the default user), and the app's own topology exactly as the
/// app declares it ([`AppTopology`]): kombu re-declares each exchange and queue on
/// connect, and RabbitMQ closes the channel of a declaration that differs from what
/// exists (`PRECONDITION_FAILED - inequivalent arg`). Declared at boot, the dead-letter
/// exchange and queue exist before any worker connects: the workers declare only the
/// queue they consume, so nothing else would declare `dlx` or `dead_letter`, and
/// RabbitMQ drops what is dead-lettered to an exchange that does not exist.
fn rabbitmq_definitions() -> String {
    let exchanges: Vec<Json> = AppTopology::EXCHANGES
        .iter()
        .map(|e| {
            json!({
                "name": e.name, "vhost": "/", "type": e.kind,
                "durable": true, "auto_delete": false, "internal": false, "arguments": {},
            })
        })
        .collect();
    let queues: Vec<Json> = AppTopology::QUEUES
        .iter()
        .map(|q| {
            let arguments: serde_json::Map<String, Json> = q
                .arguments
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Json::String((*v).to_owned())))
                .collect();
            json!({"name": q.name, "vhost": "/", "durable": true, "auto_delete": false, "arguments": arguments})
        })
        .collect();
    let bindings: Vec<Json> = AppTopology::QUEUES
        .iter()
        .map(|q| {
            json!({
                "source": q.exchange, "vhost": "/", "destination": q.name,
                "destination_type": "queue", "routing_key": q.routing_key, "arguments": {},
            })
        })
        .collect();
    let definitions = json!({
        "users": [{"name": "pixtools", "password": "PASSWORD", "tags": ""}],
        "vhosts": [{"name": "/"}],
        "permissions": [{"user": "pixtools", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
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
