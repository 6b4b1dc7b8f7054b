#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The datacube-ows and datacube-explorer charts' values, checked before synth.

use girder_k8s::charts::ChartResources;
use girder_odc::charts::{Database, ExplorerValues, OdcService, OwsValues};
use girder_odc::{Layer, OdcError, OwsConfig, ResourceProblem, Style, catalogue};
use serde_json::{Value, json};

const IMAGE: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/piksel-core:v1.2.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn database(secret: &str) -> Database {
    Database {
        host: "${ODC_DB_HOST}".into(),
        port: 5432,
        database: "odc".into(),
        secret: secret.into(),
    }
}

fn config() -> OwsConfig {
    OwsConfig::new("Piksel", ["https://ows.dev.piksel.internal"]).folder(
        "Sentinel-2",
        [Layer::new(
            "s2_l2a",
            "Sentinel-2",
            &catalogue::sentinel2_l2a(),
            "EPSG:32633",
            (10.0, -10.0),
        )
        .band("red")
        .band("green")
        .band("blue")
        .band("nir")
        .style(Style::rgb(
            "true_colour",
            "True colour",
            ["red", "green", "blue"],
            (0.0, 3000.0),
        ))
        .style(Style::normalised_difference(
            "ndvi",
            "NDVI",
            ("nir", "red"),
            "RdYlGn",
            (0.0, 1.0),
        ))],
    )
}

fn service() -> OdcService {
    OdcService::new("ows", IMAGE, database("odc-reader"))
        .replicas(2, 6)
        .on_nodes("piksel.io/pool", "workloads")
        .ingress(
            "alb",
            "ows.dev.piksel.internal",
            [("alb.ingress.kubernetes.io/scheme", "internal")],
        )
}

fn values(service: &OdcService) -> Result<Value, OdcError> {
    OwsValues::new(service, &config(), "ows-config", "dev")
        .map(|v| serde_json::to_value(v).unwrap())
}

#[test]
fn ows_values_mount_the_configuration_and_drop_the_init_container() {
    let v = values(&service()).unwrap();
    assert_eq!(v["owsConfig"]["image"], Value::Null);
    assert_eq!(v["owsConfig"]["configMap"], "ows-config");
    assert_eq!(v["owsConfig"]["ows_cfg"], "/env/config/ows_cfg.json");
    assert_eq!(v["database"]["existingSecret"], "odc-reader");
    assert_eq!(v["database"]["host"], "${ODC_DB_HOST}");
    assert_eq!(
        v["ows"]["image"]["registry"],
        "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    );
    assert_eq!(v["ows"]["image"]["repository"], "piksel-core");
    assert!(
        v["ows"]["image"]["tag"]
            .as_str()
            .unwrap()
            .starts_with("v1.2.0@sha256:")
    );
    assert_eq!(v["minReplicas"], 2);
    assert_eq!(v["maxReplicas"], 6);
    assert_eq!(v["ows"]["hpa"]["autoscaling"], true);
    assert_eq!(v["ows"]["autoscaling"], true);
    assert_eq!(
        v["ows"]["annotations"],
        json!({"iam.amazonaws.com/role": null})
    );
    assert_eq!(v["service"]["type"], "ClusterIP");
    assert_eq!(v["ingress"]["ingressClassName"], "alb");
    assert_eq!(v["ingress"]["hosts"], json!(["ows.dev.piksel.internal"]));
    assert_eq!(v["prometheus"]["enabled"], true);
    assert_eq!(v["ows"]["readinessProbe"]["tcpSocket"]["port"], 8000);
    // No ServiceAccount unless asked.
    assert!(v.get("serviceAccount").is_none());
    let with_account = values(&service().service_account("ows")).unwrap();
    assert_eq!(
        with_account["serviceAccount"],
        json!({"enabled": true, "name": "ows", "annotations": {}})
    );
    // Helm merges probes into the chart's: the handlers not used are deleted.
    assert_eq!(v["ows"]["readinessProbe"]["httpGet"], Value::Null);
    assert!(
        v["ows"]["readinessProbe"]
            .as_object()
            .unwrap()
            .contains_key("httpGet")
    );
}

#[test]
fn both_charts_run_restricted() {
    let ows = values(&service()).unwrap();
    assert_eq!(ows["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        ows["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let container = &ows["ows"]["securityContext"];
    assert_eq!(container["allowPrivilegeEscalation"], false);
    assert_eq!(container["capabilities"]["drop"], json!(["ALL"]));

    let explorer = OdcService::new("explorer", IMAGE, database("odc-explorer")).replicas(1, 3);
    let renderer = serde_json::to_value(ExplorerValues::post_renderer(&explorer)).unwrap();
    let patch = &renderer["kustomize"]["patches"][0];
    assert_eq!(patch["target"]["name"], "explorer-datacube-explorer");
    let operations: Value = serde_json::from_str(patch["patch"].as_str().unwrap()).unwrap();
    let by_path = |path: &str| {
        operations
            .as_array()
            .unwrap()
            .iter()
            .find(|op| op["path"] == path)
            .cloned()
    };
    let pod = by_path("/spec/template/spec/securityContext").unwrap();
    assert_eq!(pod["value"]["runAsNonRoot"], true);
    assert_eq!(pod["value"]["runAsUser"], 1000);
    let container = by_path("/spec/template/spec/containers/0/securityContext").unwrap();
    assert_eq!(container["value"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(by_path("/spec/replicas").unwrap()["op"], "remove");

    // A fixed replica count stays the chart's.
    let fixed = OdcService::new("explorer", IMAGE, database("odc-explorer")).replicas(2, 2);
    let renderer = serde_json::to_value(ExplorerValues::post_renderer(&fixed)).unwrap();
    let text = renderer["kustomize"]["patches"][0]["patch"]
        .as_str()
        .unwrap();
    assert!(!text.contains("/spec/replicas"));
}

#[test]
fn explorer_values_read_the_database_and_serve_metrics() {
    let explorer = OdcService::new("explorer", IMAGE, database("odc-explorer"));
    let v = serde_json::to_value(ExplorerValues::new(&explorer).unwrap()).unwrap();
    assert_eq!(v["database"]["existingSecret"], "odc-explorer");
    assert_eq!(
        v["additionalEnvironmentVars"]["PROMETHEUS_MULTIPROC_DIR"],
        "/dev/shm"
    );
    assert_eq!(v["readinessProbe"]["httpGet"]["path"], "/stac");
    assert_eq!(v["startupProbe"]["failureThreshold"], 30);
    assert_eq!(v["service"]["type"], "ClusterIP");
}

#[test]
fn an_image_not_pinned_by_digest_is_refused() {
    for reference in [
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/piksel-core:v1.2.0",
        "piksel-core:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "registry/piksel-core:v1@sha256:short",
    ] {
        let service = OdcService::new("ows", reference, database("odc-reader"));
        assert_eq!(
            values(&service).unwrap_err(),
            OdcError::Image {
                release: "ows".into(),
                reference: reference.into()
            }
        );
    }
}

#[test]
fn replica_bounds_an_autoscaler_cannot_keep_are_refused() {
    for (min, max) in [(3, 2), (0, 2)] {
        assert_eq!(
            values(&service().replicas(min, max)).unwrap_err(),
            OdcError::Replicas {
                release: "ows".into(),
                min,
                max
            }
        );
    }
}

#[test]
fn requests_above_limits_or_missing_are_refused() {
    let above = service().resources(ChartResources::new(("2", "1"), ("1Gi", "2Gi")));
    assert_eq!(
        values(&above).unwrap_err(),
        OdcError::Resources {
            release: "ows".into(),
            resource: "cpu",
            problem: ResourceProblem::RequestAboveLimit {
                request: "2".into(),
                limit: "1".into()
            }
        }
    );
    let memory = service().resources(ChartResources::new(("1", "1"), ("4Gi", "2048Mi")));
    assert!(matches!(
        values(&memory).unwrap_err(),
        OdcError::Resources {
            resource: "memory",
            problem: ResourceProblem::RequestAboveLimit { .. },
            ..
        }
    ));
    let missing = service().resources(ChartResources::default());
    assert!(matches!(
        values(&missing).unwrap_err(),
        OdcError::Resources {
            problem: ResourceProblem::Missing,
            ..
        }
    ));
}

#[test]
fn a_service_without_a_database_secret_is_refused() {
    let service = OdcService::new("ows", IMAGE, database(""));
    assert_eq!(
        values(&service).unwrap_err(),
        OdcError::DatabaseSecret {
            release: "ows".into()
        }
    );
}

#[test]
fn a_normalised_difference_style_renders_datacube_ows_index_function() {
    let json = config().to_json().unwrap();
    let doc: Value = serde_json::from_str(&json).unwrap();
    let ndvi = &doc["layers"][0]["layers"][0]["styling"]["styles"][1];
    assert_eq!(
        ndvi["index_function"]["function"],
        "datacube_ows.band_utils.norm_diff"
    );
    assert_eq!(
        ndvi["index_function"]["kwargs"],
        json!({"band1": "nir", "band2": "red"})
    );
    assert_eq!(ndvi["needed_bands"], json!(["nir", "red"]));
    assert_eq!(ndvi["range"], json!([0.0, 1.0]));
}

#[test]
fn a_normalised_difference_of_a_band_the_layer_does_not_serve_is_refused() {
    let layer = Layer::new(
        "s2",
        "Sentinel-2",
        &catalogue::sentinel2_l2a(),
        "EPSG:32633",
        (10.0, -10.0),
    )
    .band("red")
    .style(Style::normalised_difference(
        "ndvi",
        "NDVI",
        ("nir", "red"),
        "RdYlGn",
        (0.0, 1.0),
    ));
    let error = OwsConfig::new("Piksel", ["https://ows.example"])
        .folder("f", [layer])
        .check()
        .unwrap_err();
    assert!(matches!(error, OdcError::Ows { layer, .. } if layer == "s2"));
}
