#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The typed values of the jupyterhub and dask-gateway charts: rendered, merged over the
//! charts' defaults as Helm merges them, and valid against the charts' own values
//! schemas (../shared/schemas/helm, when present); and the rules checked before synth.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use girder_core::prelude::*;
use girder_k8s::K8sError;
use girder_k8s::charts::dask_gateway::{
    Backend as DaskBackend, Bounds, ClusterPolicy, Component, DaskGatewayValues, DaskProcess,
    Gateway, GatewayAuth, POLICY_CONFIG_KEY, Traefik, TraefikService,
};
use girder_k8s::charts::jupyterhub::{
    ChartIngress, ChartNetworkPolicy, ChartPdb, Chp, CloudMetadata, Cull, DynamicStorage, Enabled,
    Hub, HubDb, HubDbClaim, HubRole, HubService, JupyterhubValues, PodTolerations, PrePuller,
    Profile, ProfileOverride, Proxy, ProxyService, Scheduling, Singleuser, SingleuserStorage,
    SpawnerCpu, SpawnerMemory,
};
use girder_k8s::charts::{ChartImage, ChartResources, Cores, Gibibytes, RequestLimit};
use girder_k8s::prelude::*;
use serde_json::{Value, json};

const IMAGE: &str = "111111111111.dkr.ecr.us-west-2.amazonaws.com/notebook:v1.2.0@sha256:\
                     4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c";

fn pool(name: &str) -> BTreeMap<String, String> {
    [("example.org/pool".to_owned(), name.to_owned())].into()
}

fn secret_env(name: &str, key: &str) -> Value {
    json!({"valueFrom": {"secretKeyRef": {"name": name, "key": key}}})
}

/// Every typed field of the jupyterhub values, set as a deployment would.
fn hub_values() -> JupyterhubValues {
    let image = ChartImage::from_reference(IMAGE).unwrap();
    JupyterhubValues {
        hub: Some(Hub {
            config: Some(
                [
                    (
                        "JupyterHub".to_owned(),
                        [("authenticator_class".to_owned(), json!("github"))].into(),
                    ),
                    (
                        "GitHubOAuthenticator".to_owned(),
                        [("allowed_organizations".to_owned(), json!(["example"]))].into(),
                    ),
                ]
                .into(),
            ),
            services: Some(
                [(
                    "dask-gateway".to_owned(),
                    HubService {
                        url: Some("http://traefik-dask-gateway.dask".into()),
                        display: Some(false),
                        ..HubService::default()
                    },
                )]
                .into(),
            ),
            load_roles: Some(
                [(
                    "user".to_owned(),
                    HubRole {
                        scopes: vec!["self".into(), "access:services!service=dask-gateway".into()],
                        ..HubRole::default()
                    },
                )]
                .into(),
            ),
            extra_env: Some(
                [(
                    "GITHUB_CLIENT_SECRET".to_owned(),
                    secret_env("oauth", "client_secret"),
                )]
                .into(),
            ),
            extra_config: Some([("token".to_owned(), "import os\n".to_owned())].into()),
            db: Some(HubDb {
                kind: "sqlite-pvc".into(),
                pvc: Some(HubDbClaim {
                    storage: "1Gi".into(),
                    storage_class_name: Some("gp3".into()),
                    annotations: Some(
                        [("helm.sh/resource-policy".to_owned(), "keep".to_owned())].into(),
                    ),
                }),
            }),
            node_selector: Some(pool("workloads")),
            resources: Some(ChartResources::new(("250m", "1"), ("512Mi", "1Gi"))),
            network_policy: Some(ChartNetworkPolicy { enabled: false }),
            pdb: Some(ChartPdb {
                enabled: false,
                max_unavailable: Some(1),
                min_available: Some(Value::Null),
            }),
            ..Hub::default()
        }),
        proxy: Some(Proxy {
            service: Some(ProxyService {
                kind: "ClusterIP".into(),
                ..ProxyService::default()
            }),
            chp: Some(Chp {
                resources: Some(ChartResources::new(("100m", "500m"), ("128Mi", "256Mi"))),
                node_selector: Some(pool("workloads")),
                network_policy: Some(ChartNetworkPolicy { enabled: false }),
                ..Chp::default()
            }),
            ..Proxy::default()
        }),
        singleuser: Some(Singleuser {
            image: Some(image.clone()),
            cpu: Some(SpawnerCpu {
                guarantee: Some(Cores(0.5)),
                limit: Some(Cores(2.0)),
            }),
            memory: Some(SpawnerMemory {
                guarantee: Some(Gibibytes(2)),
                limit: Some(Gibibytes(6)),
            }),
            storage: Some(SingleuserStorage {
                kind: "dynamic".into(),
                capacity: Some("10Gi".into()),
                home_mount_path: "/home/jovyan".into(),
                dynamic: Some(DynamicStorage {
                    storage_class: Some("gp3".into()),
                }),
                extra_volumes: Some(vec![json!({"name": "examples", "emptyDir": {}})]),
                extra_volume_mounts: Some(vec![
                    json!({"name": "examples", "mountPath": "/home/jovyan/examples", "readOnly": true}),
                ]),
            }),
            node_selector: Some(pool("workloads")),
            extra_tolerations: Some(Vec::new()),
            cloud_metadata: Some(CloudMetadata {
                block_with_iptables: false,
            }),
            network_policy: Some(ChartNetworkPolicy { enabled: false }),
            extra_env: Some([("AWS_DEFAULT_REGION".to_owned(), json!("us-west-2"))].into()),
            init_containers: Some(vec![
                json!({"name": "examples", "image": image.reference()}),
            ]),
            service_account_name: Some("jupyter-user".into()),
            default_url: Some("/lab".into()),
            profile_list: Some(vec![Profile {
                display_name: "Large".into(),
                description: Some("4 CPU, 12 GiB".into()),
                slug: Some("large".into()),
                default: Some(true),
                kubespawner_override: ProfileOverride {
                    cpu_guarantee: Some(Cores(1.0)),
                    cpu_limit: Some(Cores(4.0)),
                    mem_guarantee: Some(Gibibytes(4)),
                    mem_limit: Some(Gibibytes(12)),
                    ..ProfileOverride::default()
                },
            }]),
            start_timeout: Some(600),
            ..Singleuser::default()
        }),
        scheduling: Some(Scheduling {
            user_scheduler: Some(Enabled { enabled: false }),
            user_placeholder: Some(Enabled { enabled: false }),
            core_pods: Some(PodTolerations::default()),
            user_pods: Some(PodTolerations::default()),
            ..Scheduling::default()
        }),
        pre_puller: Some(PrePuller {
            hook: Some(Enabled { enabled: false }),
            continuous: Some(Enabled { enabled: false }),
        }),
        ingress: Some(ChartIngress {
            enabled: true,
            annotations: Some(
                [(
                    "alb.ingress.kubernetes.io/scheme".to_owned(),
                    "internal".to_owned(),
                )]
                .into(),
            ),
            ingress_class_name: Some("alb".into()),
            hosts: Some(vec!["jupyter.dev.example.internal".into()]),
            path_type: Some("Prefix".into()),
        }),
        cull: Some(Cull::idle(3600, 600)),
        ..JupyterhubValues::default()
    }
}

fn policy() -> ClusterPolicy {
    ClusterPolicy {
        worker_cores: Bounds::new(1, 2, 4),
        worker_memory: Bounds::new(4, 14, 28),
        cpu_request_share: 0.875,
        max_workers: 8,
        max_cores: 16,
        max_memory: Gibibytes(120),
        idle_timeout: 1800,
    }
}

/// Every typed field of the dask-gateway values.
fn gateway_values() -> DaskGatewayValues {
    let process = |cores: (f64, f64), memory: (u32, u32)| DaskProcess {
        extra_pod_config: Some(json!({"nodeSelector": {"example.org/pool": "dask"}})),
        extra_container_config: Some(
            json!({"securityContext": {"allowPrivilegeEscalation": false}}),
        ),
        cores: Some(RequestLimit::new(Cores(cores.0), Cores(cores.1))),
        memory: Some(RequestLimit::new(Gibibytes(memory.0), Gibibytes(memory.1))),
        threads: None,
    };
    let mut worker = process((1.75, 2.0), (14, 14));
    worker.threads = Some(2);
    DaskGatewayValues {
        gateway: Some(Gateway {
            replicas: Some(2),
            prefix: Some("/services/dask-gateway".into()),
            resources: Some(ChartResources::new(("100m", "500m"), ("256Mi", "512Mi"))),
            auth: Some(GatewayAuth::jupyterhub(
                "http://hub.jupyterhub:8081/hub/api",
                "dask-gateway-api-token",
                "token",
                "dask-gateway",
            )),
            backend: Some(DaskBackend {
                image: Some(ChartImage::from_reference(IMAGE).unwrap()),
                environment: Some([("EXAMPLE".to_owned(), "1".to_owned())].into()),
                scheduler: Some(process((0.5, 1.0), (2, 4))),
                worker: Some(worker),
                ..DaskBackend::default()
            }),
            node_selector: Some(pool("workloads")),
            cluster_policy: Some(policy()),
            ..Gateway::default()
        }),
        controller: Some(Component {
            resources: Some(ChartResources::new(("50m", "250m"), ("128Mi", "256Mi"))),
            node_selector: Some(pool("workloads")),
            ..Component::default()
        }),
        traefik: Some(Traefik {
            replicas: Some(2),
            resources: Some(ChartResources::new(("100m", "500m"), ("128Mi", "256Mi"))),
            service: Some(TraefikService {
                kind: "ClusterIP".into(),
            }),
            node_selector: Some(pool("workloads")),
            ..Traefik::default()
        }),
        ..DaskGatewayValues::default()
    }
}

fn stack() -> Stack {
    Stack::new("lab", "dev", Backend::local()).unwrap()
}

/// Add `release` as construct `id` of app `lab`.
fn add(stack: &mut Stack, release: Release) -> girder_core::Result<ReleaseHandle> {
    let mut scope = stack.scope("lab").unwrap().with_kube_app("lab").unwrap();
    release.add(&mut scope, "release")
}

/// The values file girder writes for release `name`, read back.
fn rendered(release: Release, name: &str) -> Value {
    let mut stack = stack();
    add(&mut stack, release).unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let file = assembly
        .artifact(&format!("helm/lab-dev/{name}.values.yaml"))
        .unwrap();
    serde_norway::from_slice(&file.bytes).unwrap()
}

/// The chart's schema and defaults from ../shared, or why they are not there.
fn chart(name: &str) -> Option<(Value, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/schemas/helm")
        .join(name);
    let (Ok(schema), Ok(defaults)) = (
        std::fs::read_to_string(dir.join("values.schema.json")),
        std::fs::read_to_string(dir.join("values.yaml")),
    ) else {
        println!(
            "skipped: {} is not here (../shared sits beside the clone in CI and on the team's machines)",
            dir.display()
        );
        return None;
    };
    Some((
        serde_json::from_str(&schema).unwrap(),
        serde_norway::from_str(&defaults).unwrap(),
    ))
}

#[test]
fn jupyterhub_values_merged_over_the_charts_defaults_match_its_schema() {
    let values = rendered(
        Release::typed("jupyterhub", "jupyterhub", &hub_values()),
        "jupyterhub",
    );
    assert_eq!(values["singleuser"]["memory"]["limit"], "6G");
    assert_eq!(
        values["singleuser"]["image"]["tag"],
        "v1.2.0@sha256:4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c"
    );
    let Some((schema, defaults)) = chart("jupyterhub") else {
        return;
    };
    let merged = support::schema::merge(&defaults, &values);
    assert_eq!(
        merged["cull"]["concurrency"], 10,
        "the chart's defaults stay"
    );
    let problems = support::schema::validate(&schema, &merged);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn dask_gateway_values_merged_over_the_charts_defaults_match_its_schema() {
    let values = rendered(
        Release::typed("dask-gateway", "dask", &gateway_values()),
        "dask-gateway",
    );
    let config = values["gateway"]["extraConfig"][POLICY_CONFIG_KEY]
        .as_str()
        .unwrap();
    assert!(
        config.contains("c.ClusterConfig.cluster_max_workers = 8"),
        "{config}"
    );
    assert!(config.contains("max=4"), "{config}");
    let Some((schema, defaults)) = chart("dask-gateway") else {
        return;
    };
    let merged = support::schema::merge(&defaults, &values);
    let problems = support::schema::validate(&schema, &merged);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_schema_check_finds_what_the_charts_refuse() {
    let Some((schema, defaults)) = chart("jupyterhub") else {
        return;
    };
    let mut values = serde_json::to_value(hub_values()).unwrap();
    values["cull"]["timeout"] = json!("an hour");
    values["singleuser"]["storage"]["kind"] = json!("dynamic");
    let merged = support::schema::merge(&defaults, &values);
    let problems = support::schema::validate(&schema, &merged);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("values.cull.timeout")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("values.singleuser.storage.kind")),
        "{problems:#?}"
    );
}

/// The typed refusal of a release with `values`.
fn refusal<V: ChartValues>(name: &str, values: &V) -> K8sError {
    let mut stack = stack();
    let err = add(&mut stack, Release::typed(name, "lab", values)).unwrap_err();
    // Refused where the release was added.
    match &err {
        girder_core::Error::Construct { path, .. } => assert_eq!(path, "lab-dev:lab/release"),
        other => panic!("not a construct's refusal: {other}"),
    }
    err.construct_error::<K8sError>().unwrap().clone()
}

#[test]
fn idle_culling_needs_a_positive_timeout_and_period() {
    let mut values = hub_values();
    values.cull = Some(Cull::idle(0, 600));
    assert_eq!(
        refusal("jupyterhub", &values),
        K8sError::CullPeriod {
            what: "jupyterhub".into(),
            field: "cull.timeout".into(),
            seconds: 0,
        }
    );
    values.cull = Some(Cull::idle(3600, 0));
    assert!(matches!(
        refusal("jupyterhub", &values),
        K8sError::CullPeriod { field, .. } if field == "cull.every"
    ));
    // Culling off: no period needed.
    values.cull = Some(Cull {
        enabled: false,
        timeout: Some(0),
        ..Cull::default()
    });
    add(&mut stack(), Release::typed("jupyterhub", "lab", &values)).unwrap();
}

#[test]
fn a_servers_or_profiles_guarantee_above_its_limit_is_refused() {
    let mut values = hub_values();
    let singleuser = values.singleuser.as_mut().unwrap();
    singleuser.memory = Some(SpawnerMemory {
        guarantee: Some(Gibibytes(8)),
        limit: Some(Gibibytes(4)),
    });
    assert_eq!(
        refusal("jupyterhub", &values),
        K8sError::RequestAboveLimit {
            what: "jupyterhub singleuser".into(),
            resource: "memory".into(),
            request: "8G".into(),
            limit: "4G".into(),
        }
    );
    let mut values = hub_values();
    let profile = &mut values
        .singleuser
        .as_mut()
        .unwrap()
        .profile_list
        .as_mut()
        .unwrap()[0];
    profile.kubespawner_override.cpu_guarantee = Some(Cores(8.0));
    assert!(matches!(
        refusal("jupyterhub", &values),
        K8sError::RequestAboveLimit { what, resource, .. }
            if what == "jupyterhub profile \"Large\"" && resource == "cpu"
    ));
    let mut values = hub_values();
    values
        .singleuser
        .as_mut()
        .unwrap()
        .storage
        .as_mut()
        .unwrap()
        .capacity = Some("ten".into());
    assert!(matches!(
        refusal("jupyterhub", &values),
        K8sError::NotQuantity { value, .. } if value == "ten"
    ));
}

#[test]
fn dask_worker_limits_must_hold_their_requests() {
    let mut values = gateway_values();
    let worker = values
        .gateway
        .as_mut()
        .unwrap()
        .backend
        .as_mut()
        .unwrap()
        .worker
        .as_mut()
        .unwrap();
    worker.memory = Some(RequestLimit::new(Gibibytes(16), Gibibytes(14)));
    assert_eq!(
        refusal("dask-gateway", &values),
        K8sError::RequestAboveLimit {
            what: "dask-gateway worker".into(),
            resource: "memory".into(),
            request: "16G".into(),
            limit: "14G".into(),
        }
    );
    let mut values = gateway_values();
    let scheduler = values
        .gateway
        .as_mut()
        .unwrap()
        .backend
        .as_mut()
        .unwrap()
        .scheduler
        .as_mut()
        .unwrap();
    scheduler.cores = Some(RequestLimit::new(Cores(2.0), Cores(1.0)));
    assert!(matches!(
        refusal("dask-gateway", &values),
        K8sError::RequestAboveLimit { what, resource, .. }
            if what == "dask-gateway scheduler" && resource == "cpu"
    ));
}

fn with_policy(change: impl FnOnce(&mut ClusterPolicy)) -> DaskGatewayValues {
    let mut values = gateway_values();
    let mut policy = policy();
    change(&mut policy);
    values.gateway.as_mut().unwrap().cluster_policy = Some(policy);
    values
}

#[test]
fn dask_scaling_bounds_must_be_ordered_and_positive() {
    assert_eq!(
        refusal(
            "dask-gateway",
            &with_policy(|p| p.worker_cores = Bounds::new(4, 2, 8))
        ),
        K8sError::ScalingBounds {
            what: "dask-gateway".into(),
            field: "worker_cores".into(),
            min: "4".into(),
            default: "2".into(),
            max: "8".into(),
        }
    );
    for values in [
        with_policy(|p| p.worker_memory = Bounds::new(4, 32, 28)),
        with_policy(|p| p.worker_memory = Bounds::new(0, 4, 28)),
        with_policy(|p| p.max_workers = 0),
        with_policy(|p| p.cpu_request_share = 1.5),
    ] {
        assert!(matches!(
            refusal("dask-gateway", &values),
            K8sError::ScalingBounds { .. }
        ));
    }
    assert_eq!(
        refusal("dask-gateway", &with_policy(|p| p.idle_timeout = 0)),
        K8sError::CullPeriod {
            what: "dask-gateway".into(),
            field: "idle_timeout".into(),
            seconds: 0,
        }
    );
}

#[test]
fn a_clusters_ceiling_must_fit_its_scheduler_and_the_largest_worker() {
    // The largest worker: 4 cores (3.5 requested) and 28 GiB, plus the scheduler's 0.5
    // cores and 2 GiB.
    assert!(matches!(
        refusal("dask-gateway", &with_policy(|p| p.max_cores = 3)),
        K8sError::CeilingBelowWorker { field, .. } if field == "cluster_max_cores"
    ));
    assert!(matches!(
        refusal("dask-gateway", &with_policy(|p| p.max_memory = Gibibytes(29))),
        K8sError::CeilingBelowWorker { field, .. } if field == "cluster_max_memory"
    ));
    add(
        &mut stack(),
        Release::typed(
            "dask-gateway",
            "lab",
            &with_policy(|p| {
                p.max_cores = 4;
                p.max_memory = Gibibytes(30);
            }),
        ),
    )
    .unwrap();
}

#[test]
fn chart_images_split_at_the_tag_and_keep_the_digest() {
    let image = ChartImage::from_reference(IMAGE).unwrap();
    assert_eq!(
        image.name,
        "111111111111.dkr.ecr.us-west-2.amazonaws.com/notebook"
    );
    assert!(image.tag.starts_with("v1.2.0@sha256:4b5c"));
    assert_eq!(image.reference(), IMAGE);
    let port = ChartImage::from_reference("registry.local:5000/team/image:2.1").unwrap();
    assert_eq!(port.name, "registry.local:5000/team/image");
    assert_eq!(port.tag, "2.1");
    for refused in [
        "registry.local:5000/team/image",
        "quay.io/jupyterhub/k8s-hub:latest",
        "quay.io/jupyterhub/k8s-hub:4.4.0@sha256:abc",
        "quay.io/jupyterhub/k8s-hub@sha256:4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c",
    ] {
        assert!(
            matches!(
                ChartImage::from_reference(refused),
                Err(K8sError::Image { image, .. }) if image == refused
            ),
            "{refused}"
        );
    }
}

#[test]
fn whole_cores_are_written_as_whole_numbers() {
    // kustomize and Helm print `2` for `2.0`: written so, the manifests round-trip.
    assert_eq!(
        serde_json::to_value(Cores(2.0)).unwrap(),
        serde_json::json!(2)
    );
    assert_eq!(
        serde_json::to_value(Cores(0.5)).unwrap(),
        serde_json::json!(0.5)
    );
    assert_eq!(
        serde_json::to_value(RequestLimit::new(Cores(1.75), Cores(4.0))).unwrap(),
        serde_json::json!({"request": 1.75, "limit": 4})
    );
}
