#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Synth refuses a Kubernetes bundle whose objects reference what is not there, and says
//! which object, which reference and how to fix it.

use girder_core::StaticJson;
use girder_core::kubernetes::{KubeKind, ProvidedObject};
use girder_core::prelude::*;
use serde_json::{Value as Json, json};

/// A custom resource of a fake operator, `example.com/v1 SecretMaker`, whose operator makes
/// the Secrets listed in its `spec.makes` (with their keys when listed). girder-core has
/// never heard of it: what it makes reaches the checks only through its [`KubeKind`], as
/// girder-k8s's ExternalSecret, SealedSecret and Certificate types do.
struct SecretMaker(Json);

impl serde::Serialize for SecretMaker {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl KubeKind for SecretMaker {
    fn provides(&self, body: &StaticJson) -> Vec<ProvidedObject> {
        let made = body.pointer("/spec/makes").and_then(StaticJson::as_array);
        made.into_iter()
            .flatten()
            .map(|m| {
                let secret = ProvidedObject::new("Secret", m["name"].as_str().unwrap());
                match m["keys"].as_array() {
                    Some(keys) => secret.with_keys(keys.iter().map(|k| k.as_str().unwrap())),
                    None => secret,
                }
            })
            .collect()
    }
}

/// A SecretMaker `name` making Secret `secret` (its keys, when known).
fn maker(name: &str, secret: &str, keys: Option<&[&str]>) -> Json {
    let made = match keys {
        Some(keys) => json!({"name": secret, "keys": keys}),
        None => json!({"name": secret}),
    };
    json!({"apiVersion": "example.com/v1", "kind": "SecretMaker",
           "metadata": {"name": name, "namespace": "shop"}, "spec": {"makes": [made]}})
}

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
        if object["kind"] == "SecretMaker" {
            scope
                .add_typed_kube_object("shop", &SecretMaker(object.clone()))
                .unwrap();
        } else {
            scope.add_kube_object("shop", object).unwrap();
        }
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
        maker("db-from-ssm", "db", None),
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

fn reader(env: Json, volumes: Json) -> Json {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "reader", "namespace": "shop"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "r", "image": "r:1", "env": env}],
            "volumes": volumes
        }}}
    })
}

fn with_data(kind: &str, name: &str, field: &str, keys: &[&str]) -> Json {
    let data: serde_json::Map<String, Json> =
        keys.iter().map(|k| ((*k).to_owned(), json!("x"))).collect();
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "shop"},
           field: data})
}

#[test]
fn keys_read_from_config_maps_and_secrets_must_exist() {
    let env = json!([
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LOG_LEVEL"}}},
        {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "nope", "optional": true}}},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api-token", "key": "token"}}},
        {"name": "CA", "valueFrom": {"configMapKeyRef": {"name": "kube-root-ca.crt", "key": "ca.crt"}}},
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
        {"name": "SEALED", "valueFrom": {"secretKeyRef": {"name": "sealed", "key": "password"}}},
        {"name": "MADE", "valueFrom": {"secretKeyRef": {"name": "templated", "key": "anything"}}},
    ]);
    let volumes = json!([
        {"name": "cfg", "configMap": {"name": "settings", "items": [{"key": "app.yaml", "path": "app.yaml"}]}},
        {"name": "tok", "secret": {"secretName": "api-token", "items": [{"key": "token", "path": "t"}]}},
        {"name": "all", "projected": {"sources": [{"configMap": {"name": "settings", "items": [{"key": "LOG_LEVEL", "path": "l"}]}}]}},
    ]);
    let objects = |settings: &[&str], token_field: &str| {
        vec![
            namespace("shop"),
            reader(env.clone(), volumes.clone()),
            with_data("ConfigMap", "settings", "data", settings),
            with_data("Secret", "api-token", token_field, &["token"]),
            maker("db", "db", Some(&["url"])),
            maker("sealed", "sealed", Some(&["password"])),
            // Keys unknown at synth: any key may be read.
            maker("templated", "templated", None),
        ]
    };
    synth(&objects(&["LOG_LEVEL", "app.yaml"], "data"), &[]).unwrap();
    synth(&objects(&["LOG_LEVEL", "app.yaml"], "stringData"), &[]).unwrap();

    let err = synth(&objects(&["LOG_LEVL"], "data"), &[])
        .unwrap_err()
        .to_string();
    for expected in [
        "shop-dev:k8s: Job shop/reader: container 'r' env LEVEL references key \"LOG_LEVEL\" of ConfigMap shop/settings, which has no such key (keys: LOG_LEVL); add the key or mark the reference `optional: true`",
        "volume 'cfg' references key \"app.yaml\" of ConfigMap shop/settings",
        "projected volume 'all' references key \"LOG_LEVEL\" of ConfigMap shop/settings",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in {err}");
    }
    assert!(
        !err.contains("\"nope\""),
        "optional references are not checked: {err}"
    );
    assert!(!err.contains("Secret"), "{err}");

    // A Secret, or a Secret an operator makes, without the key.
    let mut objects = objects(&["LOG_LEVEL", "app.yaml"], "data");
    objects[3] = with_data("Secret", "api-token", "data", &["other"]);
    objects[4] = maker("db", "db", Some(&["uri"]));
    let err = synth(&objects, &[]).unwrap_err().to_string();
    for expected in [
        "container 'r' env TOKEN references key \"token\" of Secret shop/api-token, which has no such key (keys: other)",
        "volume 'tok' references key \"token\" of Secret shop/api-token",
        "container 'r' env DB references key \"url\" of Secret shop/db, which has no such key (keys: uri)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in {err}");
    }
}

#[test]
fn labels_and_annotations_of_every_object_follow_the_api_rules() {
    let long = "a".repeat(64);
    let objects = vec![
        namespace("shop"),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "shop",
                            "labels": {"app.kubernetes.io/part-of": long},
                            "annotations": {"bad key": "x"}}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "d", "namespace": "shop", "labels": {"Example.com/x": "y"}}}),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {
                "selector": {"matchLabels": {"app": "api-"}},
                "template": {
                    "metadata": {"labels": {"app": "api-"}},
                    "spec": {"nodeSelector": {"disk": "fast ssd"},
                             "containers": [{"name": "api", "image": "api:1"}]}
                }
            }
        }),
    ];
    let err = synth(&objects, &[]).unwrap_err().to_string();
    for expected in [
        "shop-dev:k8s: ConfigMap shop/c: /metadata/labels: label app.kubernetes.io/part-of value \"aaaa",
        "(64 characters): a label value is empty or at most 63",
        "ConfigMap shop/c: /metadata/annotations: annotation key \"bad key\"",
        "ConfigMap shop/d: /metadata/labels: label key \"Example.com/x\": the prefix \"Example.com\" is not a DNS subdomain",
        "Deployment shop/api: /spec/template/metadata/labels: label app value \"api-\"",
        "Deployment shop/api: /spec/selector/matchLabels: label app value \"api-\"",
        "Deployment shop/api: /spec/template/spec/nodeSelector: label disk value \"fast ssd\"",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in {err}");
    }
}

#[test]
fn custom_resources_with_template_fields_are_not_read_as_pod_templates() {
    // An Argo CD ApplicationSet templates its labels; they are not pod labels.
    let mut stack = girder_core::Stack::new("ops", "dev", Backend::local()).unwrap();
    stack
        .external_kube_object("Namespace", None, "argocd", "made by installing Argo CD")
        .unwrap();
    stack
        .scope("apps")
        .unwrap()
        .add_kube_object(
            "apps",
            &json!({ "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                     "metadata": { "name": "envs", "namespace": "argocd" },
                     "spec": { "template": { "metadata": { "name": "{{.name}}",
                               "labels": { "env": "{{.values.env}}" } }, "spec": {} } } }),
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth().unwrap();
}

#[test]
fn core_holds_no_operator_knowledge_a_raw_custom_resource_makes_nothing() {
    // The ExternalSecret's Secret counts only when its kind says so (girder-k8s's typed
    // ExternalSecret does); raw JSON of that kind is just an object.
    let mut objects = complete();
    objects[5] = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                        "metadata": {"name": "db", "namespace": "shop"},
                        "spec": {"target": {"name": "db"}}});
    let err = synth(&objects, &[]).unwrap_err().to_string();
    assert!(err.contains("references Secret shop/db"), "{err}");
}

#[test]
fn a_cluster_scoped_kind_needs_no_namespace_and_the_dynamic_path_states_it() {
    use girder_core::kubernetes::RawObject;
    let issuer = json!({"apiVersion": "example.com/v1", "kind": "ClusterThing",
                        "metadata": {"name": "x", "namespace": "nowhere"}});
    let run = |cluster: bool| {
        let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
        let raw = RawObject::new(issuer.clone());
        let raw = if cluster { raw.cluster_scoped() } else { raw };
        stack
            .scope("k8s")
            .unwrap()
            .add_typed_kube_object("shop", &raw)
            .unwrap();
        let mut app = App::new();
        app.add_stack(stack).unwrap();
        app.synth().map(|_| ())
    };
    run(true).unwrap();
    let err = run(false).unwrap_err().to_string();
    assert!(err.contains("nowhere"), "{err}");
}
