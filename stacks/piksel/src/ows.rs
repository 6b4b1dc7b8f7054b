//! Kubernetes app `odc-services` of `piksel-eks-<env>` (seed 000 phase 8: "Integrate
//! Datacube OWS for WMS/WMTS services", "Configure Datacube Explorer with STAC API",
//! "Set up service networking", "Configure service monitoring"), in namespace `odc`
//! (Pod Security `restricted`):
//!
//! - **datacube-ows** (chart `datacube-ows` 0.20.1, release `ows`): WMS and WMTS over
//!   the index's products ([`ows_config`]: Sentinel-2 L2A true colour, false colour and
//!   NDVI; Landsat 8 and 9 surface reflectance true colour; the Sentinel-2 annual
//!   geomedian true colour and NDVI; WOfS's wet and dry), its configuration the JSON of
//!   ConfigMap `ows-config`, the index read as `odc_reader` (Secret `odc-reader`), the
//!   pixels with the pod identity role `piksel-<env>-odc-ows` of its ServiceAccount `ows`
//!   ([`ows_statements`]: the analyses' prefixes of the data bucket, Element 84's
//!   Sentinel-2 COGs and USGS's requester-pays Landsat, `AWS_REQUEST_PAYER=requester`);
//!   its ranges refreshed hourly by CronJob `ows-update` (`datacube-ows-update --views`,
//!   then `datacube-ows-update`) as `odc_indexer` (Secret `odc-indexer`): a newly
//!   indexed dataset is served within the hour;
//! - **Datacube Explorer** (chart `datacube-explorer` 0.5.31, release `explorer`): the
//!   products' browser and its STAC API (`/stac`), read as `odc_explorer` (Secret
//!   `odc-explorer`), which may create schema `cubedash`: CronJob `explorer-summaries`
//!   (`cubedash-gen --init --all`, every six hours) writes the summaries Explorer
//!   serves;
//! - both as Flux HelmReleases, values typed (girder-odc's `OwsValues` /
//!   `ExplorerValues` from one checked `OdcService`): the platform's piksel-core image
//!   by digest (`images.rs`), as its contract's user ([`CoreImage`]), on the `workloads`
//!   pool, restricted security contexts (Explorer's by a post-renderer: its chart
//!   templates none), requests and limits, an HPA on CPU between per-environment bounds
//!   (prod more), a PodDisruptionBudget in prod and wherever the floor is 2 or more; the
//!   index at `${ODC_DB_HOST}` (Flux's substitution from the Terraform outputs
//!   ConfigMap), port 5432, database `odc`, with odc.rs's connection settings (datacube
//!   1.9's postgis driver, `ODC_DEFAULT_INDEX_DRIVER=postgis`; libpq verifying RDS's
//!   certificate);
//! - internal ALB Ingresses (the load balancer controller, IP targets, one ALB for
//!   both: group `piksel-odc`; HTTP on 80, the zone being private) at
//!   `ows.<env>.piksel.internal` and `explorer.<env>.piksel.internal`, which
//!   external-dns writes into the private zone; the ALB checks `/ping` (datacube-ows:
//!   the index and its ranges answer) and `/stac` (Explorer);
//! - ServiceMonitors of both (prometheus-flask-exporter's `/metrics`), alert rules
//!   (pods not ready, a service without a ready pod, 5xx share above 5%, metrics
//!   missing) and a Grafana dashboard.
//!
//! The app applies after `odc-index` (its init Job made the schemas and added the
//! products the configuration names), `secret-stores` (its Secrets are ExternalSecrets
//! of the store) and `observability` (its ServiceMonitors and PrometheusRule need the
//! operator's CRDs).

use std::collections::BTreeMap;

use girder_core::construct::Construct;
use girder_core::{Error, Result, Stack};
use girder_eks::{EksClusterHandle, PodIdentityRoleHandle};
use girder_iam::Statement;
use girder_k8s::charts::ChartResources;
use girder_k8s::crds::prometheus::{
    Endpoint, NamespaceSelector, ServiceMonitor, ServiceMonitorSpec,
};
use girder_k8s::prelude::*;
use girder_observability::{
    Alert, AlertGroup, Dashboard, Duration, Panel, PanelKind, PromQl, Severity, Target, Unit,
};
use girder_odc::charts::{Database, ExplorerValues, OdcService, OwsValues};
use girder_odc::{CONFIG_FILE, Layer, OwsConfig, Product, Style, TimeResolution};
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::config::Environment;
use crate::eks::POOL_LABEL;
use crate::odc::{
    CORE_IMAGE, CoreImage, DATABASE, DATABASE_PORT, EXPLORER_SECRET, INDEXER_SECRET, READER_SECRET,
};
use crate::platform::ODC_NAMESPACE;

/// The Kubernetes app.
pub(crate) const APP: &str = "odc-services";

/// The index database's host: the Flux substitution variable of the Terraform outputs
/// ConfigMap.
fn database_host() -> String {
    format!("${{{}}}", crate::odc::DB_HOST_VAR)
}

/// datacube-ows's release.
pub(crate) const OWS_RELEASE: &str = "ows";
/// Explorer's release.
pub(crate) const EXPLORER_RELEASE: &str = "explorer";
/// The ConfigMap of datacube-ows's configuration.
pub(crate) const OWS_CONFIG_MAP: &str = "ows-config";
/// What every ODC process of the platform sets besides the database's address and
/// credentials (which the charts set as `DB_*`, datacube 1.9's legacy aliases of
/// `ODC_DEFAULT_DB_*`): as odc.rs's `connection_env`, datacube 1.9's postgis index driver
/// (`ODC_<ENV>_INDEX_DRIVER` of the default environment), libpq verifying RDS's
/// certificate, the region.
fn service_env() -> [(&'static str, &'static str); 5] {
    [
        ("ODC_DEFAULT_INDEX_DRIVER", "postgis"),
        ("PGSSLMODE", "verify-full"),
        ("PGSSLROOTCERT", CoreImage::RDS_CA_BUNDLE),
        ("AWS_REGION", crate::config::REGION),
        ("AWS_DEFAULT_REGION", crate::config::REGION),
    ]
}
/// The ALB both Ingresses share.
const ALB_GROUP: &str = "piksel-odc";
/// When the OWS ranges are refreshed (UTC): hourly, so new datasets appear within an
/// hour of their indexing.
const OWS_UPDATE_SCHEDULE: &str = "15 * * * *";
/// When Explorer's summaries are regenerated (UTC).
const EXPLORER_SUMMARY_SCHEDULE: &str = "45 */6 * * *";

/// The image the services run: the platform's piksel-core (which holds datacube,
/// datacube-ows, datacube-explorer and gunicorn: [`CoreImage`]), by digest.
fn core_image(env: &Environment) -> Result<String> {
    Ok(crate::images::pinned(env, CORE_IMAGE)?.to_string())
}

/// The host names of the services.
pub fn hosts(env: &Environment) -> (String, String) {
    (
        format!("ows.{}.piksel.internal", env.name),
        format!("explorer.{}.piksel.internal", env.name),
    )
}

/// datacube-ows's configuration for `env`: a layer per product the index holds.
pub fn ows_config(env: &Environment) -> OwsConfig {
    let products = crate::odc::products();
    let product = |name: &str| products.iter().find(|p| p.name() == name).cloned();
    let (ows_host, _) = hosts(env);
    let mut config = OwsConfig::new(
        format!("Piksel ({}): Open Data Cube web map services", env.name),
        [format!("http://{ows_host}")],
    );
    if let Some(s2) = product("s2_l2a") {
        config = config.folder("Sentinel-2", [sentinel2_layer(&s2)]);
    }
    let landsat: Vec<Layer> = [("ls8_sr", 8), ("ls9_sr", 9)]
        .into_iter()
        .filter_map(|(name, number)| product(name).map(|p| landsat_layer(&p, number)))
        .collect();
    if !landsat.is_empty() {
        config = config.folder("Landsat", landsat);
    }
    if let Some(gm) = product("gm_s2_annual") {
        config = config.folder("Annual summaries", [geomedian_layer(&gm)]);
    }
    if let Some(wofs) = product("wofs_ls") {
        config = config.folder("Water", [wofs_layer(&wofs)]);
    }
    config
}

fn true_colour(range: (f64, f64)) -> Style {
    Style::rgb(
        "true_colour",
        "True colour",
        ["red", "green", "blue"],
        range,
    )
}

fn ndvi() -> Style {
    Style::normalised_difference(
        "ndvi",
        "NDVI: normalised difference vegetation index",
        ("nir", "red"),
        "RdYlGn",
        (0.0, 1.0),
    )
}

fn sentinel2_layer(product: &Product) -> Layer {
    Layer::new(
        "s2_l2a",
        "Sentinel-2 L2A surface reflectance",
        product,
        "EPSG:3857",
        (10.0, -10.0),
    )
    // The dates indexing adds show within the hour (`ows-update`), no restart.
    .dynamic()
    .abstract_text("Sentinel-2A and 2B scenes, Level-2A surface reflectance (Element 84's COGs)")
    .band("red")
    .band("green")
    .band("blue")
    .band("nir")
    .band("swir16")
    .style(true_colour((0.0, 3000.0)))
    .style(Style::rgb(
        "false_colour",
        "False colour (near infrared, red, green)",
        ["nir", "red", "green"],
        (0.0, 4000.0),
    ))
    .style(ndvi())
}

fn landsat_layer(product: &Product, number: u8) -> Layer {
    Layer::new(
        product.name(),
        format!("Landsat {number} Collection 2 Level-2 surface reflectance"),
        product,
        "EPSG:3857",
        (30.0, -30.0),
    )
    // The dates indexing adds show within the hour (`ows-update`), no restart.
    .dynamic()
    .abstract_text(format!(
        "Landsat {number} OLI scenes, USGS Collection 2 Level-2 surface reflectance"
    ))
    .band("red")
    .band("green")
    .band("blue")
    // Collection 2's scaled reflectance: 0.0000275 * DN - 0.2, so 7300 to 18000 spans
    // 0 to 0.3.
    .style(true_colour((7300.0, 18000.0)))
}

fn geomedian_layer(product: &Product) -> Layer {
    Layer::new(
        "gm_s2_annual",
        "Sentinel-2 annual geomedian",
        product,
        "EPSG:3857",
        (10.0, -10.0),
    )
    // The dates indexing adds show within the hour (`ows-update`), no restart.
    .dynamic()
    .abstract_text("The annual geometric median of Sentinel-2 surface reflectance")
    .time_resolution(TimeResolution::Summary)
    .band("red")
    .band("green")
    .band("blue")
    .band("nir")
    .style(true_colour((0.0, 3000.0)))
    .style(ndvi())
}

fn wofs_layer(product: &Product) -> Layer {
    Layer::new(
        "wofs_ls",
        "Water observations from space (Landsat)",
        product,
        "EPSG:3857",
        (30.0, -30.0),
    )
    // The dates indexing adds show within the hour (`ows-update`), no restart.
    .dynamic()
    .abstract_text("Each Landsat scene's pixels classified clear and wet, or clear and dry")
    .band("water")
    .style(Style::flag_colours(
        "water",
        "Wet and dry",
        "water",
        [("Wet", "wet", "#4F81BD"), ("Dry", "dry", "#D99694")],
    ))
}

/// One service's shape per environment: replicas (min, max) and (cpu, memory) requests
/// and limits.
struct Size {
    replicas: (u16, u16),
    cpu: (&'static str, &'static str),
    memory: (&'static str, &'static str),
}

/// datacube-ows's and Explorer's sizes: prod keeps two of each (a node drain or a zone
/// never takes a service down) and scales further; staging and dev one to two (inside
/// the namespace's quota: platform.rs).
fn sizes(env: &Environment) -> (Size, Size) {
    if env.production {
        (
            Size {
                replicas: (2, 8),
                cpu: ("1", "2"),
                memory: ("2Gi", "4Gi"),
            },
            Size {
                replicas: (2, 4),
                cpu: ("250m", "1"),
                memory: ("512Mi", "1Gi"),
            },
        )
    } else {
        (
            Size {
                replicas: (1, 2),
                cpu: ("500m", "1"),
                memory: ("1Gi", "2Gi"),
            },
            Size {
                replicas: (1, 2),
                cpu: ("250m", "1"),
                memory: ("512Mi", "1Gi"),
            },
        )
    }
}

fn database(secret: &str) -> Database {
    Database {
        host: database_host(),
        port: DATABASE_PORT,
        database: DATABASE.into(),
        secret: secret.into(),
    }
}

fn ingress_annotations(health_path: &str) -> [(&'static str, String); 5] {
    [
        ("alb.ingress.kubernetes.io/scheme", "internal".to_owned()),
        ("alb.ingress.kubernetes.io/target-type", "ip".to_owned()),
        (
            "alb.ingress.kubernetes.io/healthcheck-path",
            health_path.to_owned(),
        ),
        ("alb.ingress.kubernetes.io/group.name", ALB_GROUP.to_owned()),
        (
            "alb.ingress.kubernetes.io/listen-ports",
            r#"[{"HTTP": 80}]"#.to_owned(),
        ),
    ]
}

fn service(
    release: &str,
    secret: &str,
    size: &Size,
    host: String,
    health_path: &str,
    image: &str,
) -> OdcService {
    service_env().into_iter().fold(
        OdcService::new(release, image, database(secret))
            .replicas(size.replicas.0, size.replicas.1)
            .resources(ChartResources::new(size.cpu, size.memory))
            .run_as(CoreImage::UID)
            .on_nodes(POOL_LABEL, "workloads")
            .ingress("alb", host, ingress_annotations(health_path)),
        |service, (name, value)| service.env(name, value),
    )
}

/// datacube-ows's ServiceAccount (the chart makes it), which its AWS role is bound to.
pub(crate) const OWS_SERVICE_ACCOUNT: &str = "ows";

/// What datacube-ows reads its pixels with (odc.rs's [`crate::odc::pixel_read_statements`]);
/// the index is read as `odc_reader`.
pub(crate) fn ows_statements(data: &girder_storage::BucketHandle) -> Vec<Statement> {
    crate::odc::pixel_read_statements(data)
}

/// Add app `odc-services` to `stack`, and datacube-ows's pod identity role (what the
/// Terraform outputs ConfigMap, and so every app, waits for: a pod gets its role only
/// if the association exists when the pod is made).
pub(crate) fn add(
    stack: &mut Stack,
    env: &Environment,
    cluster: &EksClusterHandle,
    infra: &crate::infra::Infra,
) -> Result<PodIdentityRoleHandle> {
    let mut root = stack.root();
    let role = cluster.pod_identity_role(
        &mut root.child("odc-services-roles")?,
        "ows",
        format!("piksel-{}-odc-ows", env.name),
        ODC_NAMESPACE,
        OWS_SERVICE_ACCOUNT,
        ows_statements(&infra.data),
    )?;
    let app = &mut root.child(APP)?.with_kube_app(APP)?;
    let at = app.location();
    let ns = NamespaceHandle::existing(ODC_NAMESPACE);
    let image = core_image(env)?;
    let (ows_host, explorer_host) = hosts(env);
    let (ows_size, explorer_size) = sizes(env);

    let config = ows_config(env);
    let json = config.to_json().map_err(|e| Error::construct(&at, e))?;
    let config_map = ConfigMap::new(&ns, OWS_CONFIG_MAP)
        .entry(CONFIG_FILE, format!("{json}\n"))
        .add(app, "ows-config")?;

    let ows = service(
        OWS_RELEASE,
        READER_SECRET,
        &ows_size,
        ows_host,
        OwsValues::HEALTH_PATH,
        &image,
    )
    .service_account(OWS_SERVICE_ACCOUNT)
    // Signed reads with the role's credentials (the data bucket is private), paying for
    // USGS's requester-pays bucket.
    .env(
        crate::odc::REQUESTER_PAYS_ENV.0,
        crate::odc::REQUESTER_PAYS_ENV.1,
    );
    let ows_values = OwsValues::new(&ows, &config, OWS_CONFIG_MAP, env.name)
        .map_err(|e| Error::construct(&at, e))?;
    let _ = Release::typed(OWS_RELEASE, ODC_NAMESPACE, &ows_values)
        .delivery(Delivery::Flux)
        .add(app, "ows")?;

    let explorer = service(
        EXPLORER_RELEASE,
        EXPLORER_SECRET,
        &explorer_size,
        explorer_host,
        ExplorerValues::HEALTH_PATH,
        &image,
    );
    let explorer_values = ExplorerValues::new(&explorer).map_err(|e| Error::construct(&at, e))?;
    let _ = Release::typed(EXPLORER_RELEASE, ODC_NAMESPACE, &explorer_values)
        .delivery(Delivery::Flux)
        .post_renderer(ExplorerValues::post_renderer(&explorer))
        .add(app, "explorer")?;
    // The chart has no HPA: one of ours on its Deployment.
    if explorer.min_replicas() < explorer.max_replicas() {
        let autoscaler = explorer_autoscaler(&explorer, &at)?;
        app.add_app_object(&autoscaler)?;
    }

    for (service, labels) in [
        (&ows, OwsValues::pod_labels(OWS_RELEASE)),
        (&explorer, ExplorerValues::pod_labels(EXPLORER_RELEASE)),
    ] {
        if env.production || service.min_replicas() >= 2 {
            app.add_app_object(&disruption_budget(service.release(), labels))?;
        }
    }

    cron_jobs(app, &ns, &config_map, &image)?;
    monitoring(app, env)?;
    Ok(role)
}

/// The HPA Explorer's chart does not write, on its Deployment.
fn explorer_autoscaler(
    explorer: &OdcService,
    at: &str,
) -> Result<autoscaling::HorizontalPodAutoscaler> {
    girder_k8s::Autoscaling::new(explorer.min_replicas(), explorer.max_replicas())
        .cpu_utilization(girder_odc::charts::TARGET_CPU_PERCENT)
        .autoscaler(
            ODC_NAMESPACE,
            "Deployment",
            &ExplorerValues::fullname(explorer.release()),
            ExplorerValues::pod_labels(explorer.release()),
        )
        .map_err(|e| e.at(at))
}

/// One pod of the release's always stays up through a node drain.
fn disruption_budget(
    release: &str,
    labels: BTreeMap<String, String>,
) -> policy::PodDisruptionBudget {
    policy::PodDisruptionBudget {
        metadata: meta(release, labels.clone()),
        spec: Some(policy::PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(labels),
                match_expressions: None,
            }),
            ..policy::PodDisruptionBudgetSpec::default()
        }),
        status: None,
    }
}

fn meta(name: &str, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(ODC_NAMESPACE.to_owned()),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

/// `ows-update` (the OWS views and ranges, as the indexer) and `explorer-summaries`
/// (Explorer's schema and summaries, as its own user).
fn cron_jobs(
    app: &mut girder_core::Scope<'_>,
    ns: &NamespaceHandle,
    config: &ConfigMapHandle,
    image: &str,
) -> Result<()> {
    let job_resources = || Resources::new().cpu("250m", "1").memory("512Mi", "1Gi");
    let ows_update = crate::odc::as_index_user(
        Container::new("ows-update", image)
            .run_as_user(CoreImage::UID)
            .run_as_group(CoreImage::GID)
            .env(Env::value(
                "DATACUBE_OWS_CFG",
                format!("{}/{CONFIG_FILE}", girder_odc::charts::OWS_CONFIG_PATH),
            ))
            .resources(job_resources())
            .mount_read_only("ows-config", girder_odc::charts::OWS_CONFIG_PATH)
            .mount("tmp", "/tmp"),
        "datacube-ows-update --views && exec datacube-ows-update",
    );
    let _ = CronJob::new(ns, "ows-update", OWS_UPDATE_SCHEDULE)
        .part_of("odc-services")
        .component("ows-update")
        .node_selector(POOL_LABEL, "workloads")
        .backoff_limit(2)
        .container(ows_update)
        .volume(Volume::config_map("ows-config", config))
        .volume(Volume::empty_dir("tmp"))
        .volume(Volume::secret(
            crate::odc::CREDENTIALS_VOLUME,
            INDEXER_SECRET,
        ))
        .add(app, "ows-update")?;

    let summaries = crate::odc::as_index_user(
        Container::new("explorer-summaries", image)
            .run_as_user(CoreImage::UID)
            .run_as_group(CoreImage::GID)
            .resources(job_resources())
            .mount("tmp", "/tmp"),
        "exec cubedash-gen --init --all",
    );
    let _ = CronJob::new(ns, "explorer-summaries", EXPLORER_SUMMARY_SCHEDULE)
        .part_of("odc-services")
        .component("explorer-summaries")
        .node_selector(POOL_LABEL, "workloads")
        .backoff_limit(2)
        .container(summaries)
        .volume(Volume::empty_dir("tmp"))
        .volume(Volume::secret(
            crate::odc::CREDENTIALS_VOLUME,
            EXPLORER_SECRET,
        ))
        .add(app, "explorer-summaries")?;
    Ok(())
}

/// ServiceMonitors, the alert rules and the dashboard.
fn monitoring(app: &mut girder_core::Scope<'_>, env: &Environment) -> Result<()> {
    let release_label = || {
        [(
            "release".to_owned(),
            girder_observability::DEFAULT_RELEASE.to_owned(),
        )]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
    };
    for (name, labels, port) in [
        (
            OwsValues::service_name(OWS_RELEASE),
            OwsValues::pod_labels(OWS_RELEASE),
            OwsValues::SERVICE_PORT_NAME,
        ),
        (
            ExplorerValues::fullname(EXPLORER_RELEASE),
            ExplorerValues::pod_labels(EXPLORER_RELEASE),
            ExplorerValues::SERVICE_PORT_NAME,
        ),
    ] {
        let mut monitor = ServiceMonitor::new(
            ODC_NAMESPACE,
            &name,
            ServiceMonitorSpec {
                selector: LabelSelector {
                    match_labels: Some(labels),
                    match_expressions: None,
                },
                namespace_selector: Some(NamespaceSelector {
                    match_names: vec![ODC_NAMESPACE.to_owned()],
                }),
                endpoints: vec![Endpoint::new(port)],
                ..ServiceMonitorSpec::default()
            },
        );
        monitor.metadata.labels = Some(release_label());
        let _ = monitor.add(app, &format!("{name}-monitor"))?;
    }
    let at = app.location();
    let group = alerts(env).map_err(|e| e.at(&at))?;
    group
        .for_release(ODC_NAMESPACE, girder_observability::DEFAULT_RELEASE)
        .add(app, "alerts")?;
    let board = dashboard(env).map_err(|e| e.at(&at))?;
    let _ = board.add(app, "dashboard")?;
    Ok(())
}

/// The Deployments of the two charts.
fn deployments(env: &Environment) -> String {
    format!(
        "{}|{}",
        OwsValues::deployment_name(OWS_RELEASE, env.name),
        ExplorerValues::fullname(EXPLORER_RELEASE)
    )
}

/// The services' jobs (the Services' names, which the ServiceMonitors' targets carry).
fn jobs() -> String {
    format!(
        "{}|{}",
        OwsValues::service_name(OWS_RELEASE),
        ExplorerValues::fullname(EXPLORER_RELEASE)
    )
}

fn alerts(
    env: &Environment,
) -> std::result::Result<AlertGroup, girder_observability::ObservabilityError> {
    let runbooks = "https://github.com/piksel/piksel-document/blob/main/operations/runbooks.md";
    let runbook = |alert: Alert| {
        let anchor = alert.name().to_ascii_lowercase();
        alert.runbook(format!("{runbooks}#{anchor}"))
    };
    let ns = ODC_NAMESPACE;
    let deployments = deployments(env);
    let jobs = jobs();
    Ok(AlertGroup::new("odc-services")
        .alert(runbook(Alert::new(
            "OdcServicePodsNotReady",
            PromQl::new(format!(
                r#"sum by (pod) (kube_pod_status_ready{{namespace="{ns}", condition="false", pod=~"({deployments})-.*"}}) > 0"#
            ))?,
            Duration::minutes(15),
            Severity::Warning,
            "A datacube-ows or Explorer pod has not been ready for 15 minutes",
        )))
        .alert(runbook(Alert::new(
            "OdcServiceDown",
            PromQl::new(format!(
                r#"max by (deployment) (kube_deployment_status_replicas_available{{namespace="{ns}", deployment=~"{deployments}"}}) < 1"#
            ))?,
            Duration::minutes(5),
            Severity::Critical,
            "datacube-ows or Explorer has had no ready pod for 5 minutes: the maps or the catalogue are down",
        )))
        .alert(runbook(Alert::new(
            "OdcServiceErrorsHigh",
            PromQl::new(format!(
                r#"sum by (job) (rate(flask_http_request_total{{namespace="{ns}", job=~"{jobs}", status=~"5.."}}[5m])) / sum by (job) (rate(flask_http_request_total{{namespace="{ns}", job=~"{jobs}"}}[5m])) > 0.05"#
            ))?,
            Duration::minutes(10),
            Severity::Warning,
            "More than 5% of datacube-ows's or Explorer's responses have been 5xx for 10 minutes",
        )))
        .alert(runbook(Alert::new(
            "OdcServiceMetricsMissing",
            PromQl::new(format!(
                r#"max by (job) (up{{namespace="{ns}", job=~"{jobs}"}}) < 1"#
            ))?,
            Duration::minutes(15),
            Severity::Warning,
            "Prometheus has not scraped datacube-ows or Explorer for 15 minutes",
        ))))
}

fn dashboard(
    env: &Environment,
) -> std::result::Result<Dashboard, girder_observability::ObservabilityError> {
    let ns = ODC_NAMESPACE;
    let jobs = jobs();
    let deployments = deployments(env);
    let q = PromQl::new;
    Ok(Dashboard::new(
        &NamespaceHandle::existing(ODC_NAMESPACE),
        "piksel-odc-services",
        "Piksel: ODC services (datacube-ows, Explorer)",
    )
    .tag("piksel")
    .panel(
        Panel::new("Requests per second", PanelKind::TimeSeries, Unit::Short).target(
            Target::new(q(format!(
                r#"sum by (job) (rate(flask_http_request_total{{namespace="{ns}", job=~"{jobs}"}}[5m]))"#
            ))?)
            .legend("{{job}}"),
        ),
    )
    .panel(
        Panel::new("5xx share", PanelKind::TimeSeries, Unit::PercentUnit).target(
            Target::new(q(format!(
                r#"sum by (job) (rate(flask_http_request_total{{namespace="{ns}", job=~"{jobs}", status=~"5.."}}[5m])) / sum by (job) (rate(flask_http_request_total{{namespace="{ns}", job=~"{jobs}"}}[5m]))"#
            ))?)
            .legend("{{job}}"),
        ),
    )
    .panel(
        Panel::new("p95 response time", PanelKind::TimeSeries, Unit::Seconds).target(
            Target::new(q(format!(
                r#"histogram_quantile(0.95, sum by (le, job) (rate(flask_http_request_duration_seconds_bucket{{namespace="{ns}", job=~"{jobs}"}}[5m])))"#
            ))?)
            .legend("{{job}}"),
        ),
    )
    .panel(
        Panel::new("Ready pods", PanelKind::TimeSeries, Unit::Short).target(
            Target::new(q(format!(
                r#"kube_deployment_status_replicas_available{{namespace="{ns}", deployment=~"{deployments}"}}"#
            ))?)
            .legend("{{deployment}}"),
        ),
    )
    .panel(
        Panel::new("CPU", PanelKind::TimeSeries, Unit::Short).target(
            Target::new(q(format!(
                r#"sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace="{ns}", pod=~"({deployments})-.*"}}[5m]))"#
            ))?)
            .legend("{{pod}}"),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The metric families the services serve (prometheus-flask-exporter's).
    const SERVICE_METRICS: [&str; 2] = [
        "flask_http_request_total",
        "flask_http_request_duration_seconds_bucket",
    ];

    /// Every metric an alert or panel reads is one something scrapes.
    #[test]
    fn every_alert_and_panel_reads_a_scraped_metric() {
        let exposed: BTreeSet<&str> = girder_observability::CHART_SCRAPED_METRICS
            .iter()
            .chain(SERVICE_METRICS.iter())
            .copied()
            .collect();
        for env in crate::environments() {
            let mut read = BTreeSet::new();
            for alert in alerts(&env).unwrap().alerts() {
                read.extend(alert.expr().metric_names());
            }
            for panel in dashboard(&env).unwrap().panels() {
                for target in panel.targets() {
                    read.extend(target.expr().metric_names());
                }
            }
            let unscraped: Vec<&String> = read
                .iter()
                .filter(|m| !exposed.contains(m.as_str()))
                .collect();
            assert!(unscraped.is_empty(), "nothing scrapes {unscraped:?}");
        }
    }
}
