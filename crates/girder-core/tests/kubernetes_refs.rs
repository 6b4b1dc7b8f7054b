#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Synth refuses a Kubernetes bundle whose objects reference what is not there, and says
//! which object, which reference and how to fix it.

use girder_core::prelude::*;
use serde_json::{Value as Json, json};

fn namespace(name: &str) -> Json {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn deployment(env_secret: &str, optional: bool) -> Json {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "serviceAccountName": "api",
                    "containers": [{
                        "name": "api", "image": "api:1",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "env": [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": env_secret, "key": "url", "optional": optional}}}],
                        "envFrom": [{"configMapRef": {"name": "settings"}}]
                    }],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
                }
            }
        }
    })
}

fn named(kind: &str, name: &str) -> Json {
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"}})
}

fn synth(objects: &[Json], externals: &[(&str, &str)]) -> girder_core::Result<Assembly> {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    for (kind, name) in externals {
        stack
            .external_kube_object(kind, Some("shop"), name, "made by the chart")
            .unwrap();
    }
    let mut scope = stack.scope("k8s").unwrap();
    for object in objects {
        scope.add_kube_object("shop", object).unwrap();
    }
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth()
}

fn complete() -> Vec<Json> {
    vec![
        namespace("shop"),
        deployment("db", false),
        named("ServiceAccount", "api"),
        named("ConfigMap", "settings"),
        named("PersistentVolumeClaim", "data"),
        json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
               "metadata": {"name": "db-from-ssm", "namespace": "shop"},
               "spec": {"target": {"name": "db"}}}),
    ]
}

#[test]
fn a_complete_bundle_synthesizes() {
    synth(&complete(), &[]).unwrap();
}

#[test]
fn every_missing_reference_is_reported_with_its_object_and_path() {
    let objects = vec![namespace("shop"), deployment("db", false)];
    let err = synth(&objects, &[]).unwrap_err().to_string();
    for expected in [
        "shop-dev:k8s: Deployment shop/api: container 'api' env DB references Secret shop/db",
        "container 'api' envFrom references ConfigMap shop/settings",
        "volume 'data' references PersistentVolumeClaim shop/data",
        "serviceAccountName references ServiceAccount shop/api",
        "Stack::external_kube_object",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("(4 problem(s))"), "{err}");
}

#[test]
fn optional_references_and_declared_externals_are_accepted() {
    let objects = vec![
        namespace("shop"),
        deployment("db", true),
        named("ServiceAccount", "api"),
    ];
    synth(
        &objects,
        &[("ConfigMap", "settings"), ("PersistentVolumeClaim", "data")],
    )
    .unwrap();
}

#[test]
fn an_object_in_an_unknown_namespace_is_an_error() {
    let err = synth(&[named("ConfigMap", "settings")], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("namespace \"shop\" is not a Namespace of this stack"),
        "{err}"
    );
}

#[test]
fn services_must_select_pods_and_name_their_ports() {
    let mut objects = complete();
    objects.push(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}]}}));
    synth(&objects, &[]).unwrap();

    let mut wrong_port = complete();
    wrong_port.push(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "web"}]}}));
    let err = synth(&wrong_port, &[]).unwrap_err().to_string();
    assert!(
        err.contains("targetPort \"web\" is not a named container port"),
        "{err}"
    );

    let mut no_pods = complete();
    no_pods.push(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}));
    let err = synth(&no_pods, &[]).unwrap_err().to_string();
    assert!(
        err.contains("Service shop/web: selector {\"app\":\"web\"} matches no pod"),
        "{err}"
    );
}

#[test]
fn ingress_backends_must_be_services_with_that_port() {
    let mut objects = complete();
    objects.push(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}]}}));
    let ingress = |service: &str, port: u16| {
        json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": service, "port": {"number": port}}}}]}}]}})
    };
    let mut good = objects.clone();
    good.push(ingress("api", 80));
    synth(&good, &[]).unwrap();
    let mut bad_port = objects.clone();
    bad_port.push(ingress("api", 8080));
    let err = synth(&bad_port, &[]).unwrap_err().to_string();
    assert!(
        err.contains("backend Service shop/api has no port 8080"),
        "{err}"
    );
    let mut bad_name = objects;
    bad_name.push(ingress("apx", 80));
    let err = synth(&bad_name, &[]).unwrap_err().to_string();
    assert!(
        err.contains("backend Service shop/apx is not in this stack"),
        "{err}"
    );
}

#[test]
fn externals_are_recorded_in_the_manifest() {
    let objects = vec![
        namespace("shop"),
        deployment("db", true),
        named("ServiceAccount", "api"),
        named("ConfigMap", "settings"),
    ];
    let assembly = synth(&objects, &[("PersistentVolumeClaim", "data")]).unwrap();
    let manifest = assembly.manifest();
    assert_eq!(
        manifest["stacks"][0]["kubernetes_externals"],
        json!([{"object": "PersistentVolumeClaim/shop/data", "reason": "made by the chart"}])
    );
}
