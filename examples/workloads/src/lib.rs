//! girder-k8s by example: the cluster side of a small shop, stack `shop` (env `dev`).
//!
//! - Namespace `shop`: Pod Security `restricted`, ingress denied by default;
//! - `api` (Deployment): config from a ConfigMap, database URL from a Secret that an
//!   ExternalSecret makes from SSM Parameter Store, IRSA ServiceAccount with a Role to
//!   read ConfigMaps, exposed as a Service and through an internet-facing ALB restricted
//!   to an office CIDR, autoscaled 2-6, a disruption budget, spread across zones;
//! - `cache` (StatefulSet): one volume per replica, reachable only from `api`;
//! - `worker` (Deployment) with a shared upload volume, a `migrate` Job and a nightly
//!   `cleanup` CronJob; `node-exporter` (DaemonSet) in a privileged namespace;
//! - a gp3 StorageClass, a ResourceQuota and a LimitRange;
//! - typed custom resources: a ClusterSecretStore and ExternalSecrets (SSM Parameter
//!   Store), a ServiceMonitor and PrometheusRule alerts for the API;
//! - a session store from the Bitnami Redis chart with typed values, delivered by Flux;
//! - the Flux layout (`gitops/shop-dev/clusters/dev/`): platform first, then shop.

use girder_core::prelude::*;
use girder_core::{Result, Stack};
use girder_k8s::charts::redis::RedisValues;
use girder_k8s::crds::Extra;
use girder_k8s::crds::external_secrets::{
    ClusterSecretStore, ClusterSecretStoreSpec, ExternalSecret, ExternalSecretSpec, Provider,
    StoreRef,
};
use girder_k8s::crds::prometheus::{
    Endpoint, PrometheusRule, PrometheusRuleSpec, Rule, RuleGroup, ServiceMonitor,
    ServiceMonitorSpec,
};
use girder_k8s::prelude::*;

/// The environment the example describes.
pub const ENVIRONMENT: &str = "dev";

/// The office network allowed through the load balancer.
pub const OFFICE_CIDR: &str = "203.0.113.0/24";

/// Add the example's stack to `app`.
pub fn build(app: &mut App) -> Result<()> {
    app.add_stack(shop_stack()?)
}

/// The example's one stack, `shop`.
pub fn shop_stack() -> Result<Stack> {
    let mut stack = Stack::new("shop", ENVIRONMENT, Backend::local())?;
    let mut k8s = stack.scope("k8s")?;
    // Each child scope writes into its own Kubernetes app (output directory).
    let platform = &mut k8s.child("platform")?.with_kube_app("platform")?;
    let gp3 = StorageClass::ebs_gp3("gp3")
        .default_class()
        .add(platform, "gp3")?;
    let monitoring = Namespace::new("monitoring")
        .pod_security(PodSecurity::Privileged)
        .add(platform, "monitoring")?;
    DaemonSet::new(&monitoring, "node-exporter")
        .part_of("platform")
        .container(
            Container::new("node-exporter", "quay.io/prometheus/node-exporter:v1.9.1")
                // The image's `USER nobody`, by number: the kubelet cannot check a name
                // against runAsNonRoot.
                .run_as_user(65534)
                .port(Port::metrics(9100))
                .resources(Resources::new().cpu("50m", "250m").memory("64Mi", "128Mi"))
                .readiness(Probe::http_get("/", "metrics"))
                .liveness(Probe::http_get("/", "metrics")),
        )
        .toleration(k8s_openapi::api::core::v1::Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        })
        .add(platform, "node-exporter")?;
    let store = ClusterSecretStore::cluster(
        "aws-ssm",
        ClusterSecretStoreSpec {
            provider: Provider::parameter_store("eu-west-1")
                .with_service_account("external-secrets", "external-secrets"),
            conditions: Vec::new(),
            extra: Extra::new(),
        },
    )
    .add(platform, "aws-ssm")?;

    let shop = &mut k8s.child("shop")?.with_kube_app("shop")?;
    let ns = Namespace::new("shop")
        .default_deny_ingress()
        .add(shop, "namespace")?;
    ResourceQuota::new(&ns, "compute")
        .hard("requests.cpu", "8")
        .hard("requests.memory", "16Gi")
        .hard("pods", "40")
        .add(shop, "compute")?;
    LimitRange::new(&ns, "defaults")
        .container_default("cpu", "100m", "500m")
        .container_default("memory", "128Mi", "256Mi")
        .add(shop, "defaults")?;
    let config = ConfigMap::new(&ns, "api-config")
        .entry("LOG_LEVEL", "info")
        .entry("CACHE_HOST", "cache-headless.shop.svc.cluster.local")
        .add(shop, "api-config")?;
    // The Secret is made in the cluster from SSM Parameter Store; its value never
    // appears in girder's output.
    ExternalSecret::new(
        "shop",
        "api-database",
        ExternalSecretSpec::new(
            StoreRef::cluster(store.name()),
            "api-database",
            [("url", "/shop/dev/database-url")],
        ),
    )
    .add(shop, "api-database")?;
    let account = ServiceAccount::new(&ns, "api")
        .irsa_role("arn:aws:iam::123456789012:role/shop-dev-api")
        .add(shop, "api-account")?;
    Role::new(&ns, "config-reader")
        .allow(&[""], &["configmaps"], &["get", "list", "watch"])
        .add(shop, "config-reader")?
        .bind(shop, &account)?;

    let api = Deployment::new(&ns, "api")
        .part_of("shop")
        .component("backend")
        .container(
            Container::new("api", "ghcr.io/acme/shop-api:2.3.1")
                .run_as_user(10001)
                .port(Port::http(8080))
                .env(Env::config_map_key("LOG_LEVEL", &config, "LOG_LEVEL"))
                .env(Env::secret_key("DATABASE_URL", "api-database", "url"))
                .env(Env::field("POD_NAME", "metadata.name"))
                .resources(Resources::new().cpu("250m", "1").memory("256Mi", "512Mi"))
                .readiness(Probe::http_get("/healthz", "http").period(5))
                .liveness(Probe::http_get("/healthz", "http").initial_delay(10))
                .mount("tmp", "/tmp"),
        )
        .volume(Volume::empty_dir("tmp"))
        .service_account(&account)
        .spread_across_zones(1)
        .expose(
            Service::cluster_ip().port(80, "http").ingress(
                Ingress::aws_load_balancer()
                    .internet_facing()
                    .inbound_cidrs([OFFICE_CIDR])
                    .healthcheck_path("/healthz")
                    .path("/", 80),
            ),
        )
        .autoscale(Autoscaling::new(2, 6).cpu_utilization(70))
        .disruption_budget(DisruptionBudget::MaxUnavailable(1))
        .add(shop, "api")?;
    // One connection model: a CIDR, a namespace and (below) a workload are all peers.
    api.allow_from(shop, &IpBlock::new("alb", "10.20.0.0/16"), "http")?;
    api.allow_from(shop, &monitoring, "http")?;
    ServiceMonitor::new(
        "shop",
        "api",
        ServiceMonitorSpec {
            selector: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
                match_labels: Some(api.selector().clone()),
                ..Default::default()
            },
            endpoints: vec![Endpoint::new("http")],
            ..Default::default()
        },
    )
    .add(shop, "api-monitor")?;
    PrometheusRule::new(
        "shop",
        "api",
        PrometheusRuleSpec {
            groups: vec![RuleGroup {
                name: "shop-api".into(),
                interval: None,
                rules: vec![
                    Rule::alert(
                        "ShopApiDown",
                        r#"sum(up{namespace="shop", service="api"}) == 0"#,
                        "5m",
                        "critical",
                        "No shop API pod is being scraped",
                    ),
                    Rule::alert(
                        "ShopApiErrors",
                        r#"sum(rate(http_requests_total{namespace="shop", code=~"5.."}[5m])) / sum(rate(http_requests_total{namespace="shop"}[5m])) > 0.05"#,
                        "10m",
                        "warning",
                        "More than 5% of shop API requests fail",
                    ),
                ],
            }],
        },
    )
    .add(shop, "api-alerts")?;

    let cache = StatefulSet::new(&ns, "cache")
        .part_of("shop")
        .component("cache")
        .container(
            Container::new("valkey", "docker.io/valkey/valkey:8.1.3")
                // The image's valkey user (its entrypoint would switch to it from root).
                .run_as_user(999)
                .run_as_group(999)
                .args(["--save", "60", "1", "--dir", "/data"])
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
        .claim_template(ClaimTemplate::new("data", "1Gi").storage_class(gp3.name()))
        // A new EBS volume is root's: the group makes it valkey's to write.
        .fs_group(999)
        .replicas(1)
        .add(shop, "cache")?;
    cache.allow_from(shop, &api, "redis")?;

    let uploads = PersistentVolumeClaim::new(&ns, "uploads", "5Gi")
        .storage_class(gp3.name())
        .add(shop, "uploads")?;
    let worker_container = || {
        Container::new("worker", "ghcr.io/acme/shop-worker:2.3.1")
            .run_as_user(10001)
            .env(Env::secret_key("DATABASE_URL", "api-database", "url"))
            .env_from(EnvFrom::config_map(&config))
            .resources(Resources::new().cpu("500m", "2").memory("512Mi", "1Gi"))
    };
    Deployment::new(&ns, "worker")
        .part_of("shop")
        .component("worker")
        .container(worker_container().mount("uploads", "/var/uploads"))
        .volume(Volume::claim("uploads", &uploads))
        .fs_group(10001)
        .replicas(1)
        .add(shop, "worker")?;
    Job::new(&ns, "migrate")
        .part_of("shop")
        .container(worker_container().args(["migrate"]))
        .backoff_limit(2)
        .add(shop, "migrate")?;
    CronJob::new(&ns, "cleanup", "0 3 * * *")
        .part_of("shop")
        .container(worker_container().args(["cleanup", "--older-than", "30d"]))
        .add(shop, "cleanup")?;

    // Session store: the Bitnami Redis chart with typed values, delivered by Flux; its
    // password comes from SSM like the database URL.
    ExternalSecret::new(
        "shop",
        "sessions-redis",
        ExternalSecretSpec::new(
            StoreRef::cluster(store.name()),
            "sessions-redis",
            [("password", "/shop/dev/sessions-redis-password")],
        ),
    )
    .add(shop, "sessions-secret")?;
    Release::typed(
        "sessions",
        "shop",
        &RedisValues::lru_cache("256mb", "sessions-redis", "password"),
    )
    .delivery(Delivery::Flux)
    .add(shop, "sessions")?;

    GitOps::new("https://github.com/acme/shop-platform", "main")
        .infrastructure(["platform"])
        .substitute_from_config_map("shop-dev-terraform-outputs")
        .flux(&mut stack)?;
    acknowledge_findings(&mut stack)?;
    Ok(stack)
}

/// checkov findings the example accepts, each with its reason (written next to the object).
fn acknowledge_findings(stack: &mut Stack) -> Result<()> {
    let tagged = [
        ("DaemonSet", "monitoring", "node-exporter"),
        ("Deployment", "shop", "api"),
        ("Deployment", "shop", "worker"),
        ("StatefulSet", "shop", "cache"),
        ("Job", "shop", "migrate"),
        ("CronJob", "shop", "cleanup"),
    ];
    for (kind, namespace, name) in tagged {
        for (check, reason) in [
            (
                "CKV_K8S_43",
                "example images are pinned by release tag; a real stack pins digests (stacks/pixtools)",
            ),
            (
                "CKV_K8S_15",
                "pinned by release tag, pulled once per node; a real stack pins digests (stacks/pixtools)",
            ),
        ] {
            stack.acknowledge_kube_check(kind, Some(namespace), name, check, reason)?;
        }
    }
    // The others run as high uids (10001, node-exporter's 65534), stated: CKV_K8S_40 passes.
    stack.acknowledge_kube_check(
        "StatefulSet",
        Some("shop"),
        "cache",
        "CKV_K8S_40",
        "runs as uid 999, the valkey image's own user (stated: the image starts as root and would switch to it); runAsNonRoot is enforced",
    )?;
    for (kind, name) in [
        ("Deployment", "api"),
        ("Deployment", "worker"),
        ("Job", "migrate"),
        ("CronJob", "cleanup"),
    ] {
        stack.acknowledge_kube_check(
            kind,
            Some("shop"),
            name,
            "CKV_K8S_35",
            "the app reads DATABASE_URL from its environment; the value comes from a Secret that External Secrets writes",
        )?;
    }
    stack.acknowledge_kube_check(
        "Deployment",
        Some("shop"),
        "api",
        "CKV_K8S_38",
        "the api reads ConfigMaps through the Kubernetes API with its ServiceAccount (Role config-reader)",
    )?;
    for (check, reason) in [
        (
            "CKV_K8S_8",
            "a queue worker serves no port to probe; its queue's depth shows a stuck worker",
        ),
        ("CKV_K8S_9", "a queue worker receives no traffic to gate"),
    ] {
        stack.acknowledge_kube_check("Deployment", Some("shop"), "worker", check, reason)?;
    }
    Ok(())
}
