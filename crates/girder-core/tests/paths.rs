//! Every file girder writes stays inside the output, and no two artifacts share a file:
//! identity fields that become file names are checked where the object is created, and
//! colliding file names are told apart or refused, never overwritten.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeSet;

use girder_core::prelude::*;
use girder_core::{Error, Stack};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

const ESCAPE: &str = "x/../../../../../PWNED";

fn stack_with_namespaces(namespaces: &[&str]) -> Stack {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    for ns in namespaces {
        stack
            .external_kube_object("Namespace", None, ns, "made by the platform stack")
            .unwrap();
    }
    stack
}

fn raw(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Json {
    let mut object = json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": { "name": name },
        "data": { "k": "v" },
    });
    if let Some(ns) = namespace {
        object["metadata"]["namespace"] = json!(ns);
    }
    object
}

/// A typed custom resource, as girder-k8s's `Object<S>` serializes one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypedCustomResource {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: Json,
}

fn assert_refused(result: girder_core::Result<()>, value: &str, allowed: &str) {
    let err = result.unwrap_err().to_string();
    assert!(
        err.starts_with("shop-dev:web"),
        "names the construct: {err}"
    );
    assert!(
        err.contains(&format!("{value:?}")),
        "names the value: {err}"
    );
    assert!(err.contains(allowed), "says what is allowed: {err}");
}

#[test]
fn identity_fields_that_would_name_other_directories_are_refused_where_added() {
    let mut stack = stack_with_namespaces(&["shop"]);
    let mut scope = stack.scope("web").unwrap();
    // Raw JSON: name, namespace, kind, apiVersion.
    assert_refused(
        scope.add_kube_object("web", &raw("v1", "ConfigMap", Some("shop"), ESCAPE)),
        ESCAPE,
        "DNS-1123 subdomain",
    );
    assert_refused(
        scope.add_kube_object("web", &raw("v1", "ConfigMap", Some("../../x"), "ok")),
        "../../x",
        "DNS-1123 label",
    );
    assert_refused(
        scope.add_kube_object("web", &raw("v1", "../../Map", Some("shop"), "ok")),
        "../../Map",
        "letters and digits",
    );
    assert_refused(
        scope.add_kube_object("web", &raw("../../v1", "ConfigMap", None, "ok")),
        "../../v1",
        "<group>/<version>",
    );
    for bad in [
        "",
        ".",
        "..",
        "/abs",
        "Upper",
        "a\\b",
        "a\0b",
        &"a".repeat(254),
    ] {
        let result = scope.add_kube_object("web", &raw("v1", "ConfigMap", Some("shop"), bad));
        assert!(result.is_err(), "name {bad:?} accepted");
    }
    // A k8s-openapi type.
    let typed = ConfigMap {
        metadata: ObjectMeta {
            name: Some(ESCAPE.into()),
            namespace: Some("shop".into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    };
    assert_refused(
        scope.add_kube_object("web", &typed),
        ESCAPE,
        "DNS-1123 subdomain",
    );
    // A typed custom resource.
    let custom = TypedCustomResource {
        api_version: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        metadata: ObjectMeta {
            name: Some(ESCAPE.into()),
            namespace: Some("shop".into()),
            ..ObjectMeta::default()
        },
        spec: json!({}),
    };
    assert_refused(
        scope.add_kube_object("web", &custom),
        ESCAPE,
        "DNS-1123 subdomain",
    );
    // A GitOps object, by name and by namespace.
    let err = stack
        .add_gitops_object("clusters", &custom)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("shop-dev:gitops/clusters") && err.contains(ESCAPE),
        "{err}"
    );
    let err = stack
        .add_gitops_object(
            "clusters",
            &raw("v1", "ConfigMap", Some("../../../x"), "ok"),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"../../../x\""), "{err}");

    // Nothing refused reached the assembly; what is written stays below out/.
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let dir = tempfile::tempdir().unwrap();
    assembly.write(&dir.path().join("out")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".out.girder-lock", "out"]);
}

#[test]
fn other_path_components_are_checked_too() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("web").unwrap();
    let cm = raw("v1", "ConfigMap", None, "ok");
    for app in ["..", "a/b", "../x", "", "A"] {
        assert!(scope.add_kube_object(app, &cm).is_err(), "app {app:?}");
    }
    for release in ["..", "a/b", "../../x", ""] {
        let chart = ChartRef::new("https://charts.example.com", "web", "1.2.3");
        let result = scope.add_helm_release(HelmRelease::new(release, chart));
        assert!(result.is_err(), "release {release:?}");
    }
    for dir in ["..", "a//b", "../x", "/abs", "a/", ""] {
        assert!(stack.add_gitops_object(dir, &cm).is_err(), "dir {dir:?}");
    }
    for (name, env) in [("..", "dev"), ("a/b", "dev"), ("shop", "../x")] {
        assert!(Stack::new(name, env, Backend::local()).is_err());
    }
}

fn synth(stack: Stack) -> girder_core::Result<Assembly> {
    let mut app = App::new();
    app.add_stack(stack)?;
    app.synth()
}

fn kustomization_resources(assembly: &Assembly, dir: &str) -> Vec<String> {
    let text = assembly
        .artifact(&format!("{dir}/kustomization.yaml"))
        .unwrap()
        .text();
    let (_, list) = text.split_once("resources:\n").unwrap();
    list.lines()
        .map(|l| l.trim_start_matches("- ").to_owned())
        .collect()
}

/// Every object of the directory is in its own file, listed once, with the right sha256.
fn assert_one_file_each(assembly: &Assembly, dir: &str, expected: &[&str]) {
    let listed = kustomization_resources(assembly, dir);
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "listed twice: {listed:?}");
    let mut sorted = listed.clone();
    sorted.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(sorted, want);
    let manifest = assembly.manifest();
    let entries = manifest["stacks"][0]["artifacts"].as_array().unwrap();
    for file in &listed {
        let path = format!("{dir}/{file}");
        let artifact = assembly.artifact(&path).unwrap();
        let recorded: Vec<&Json> = entries.iter().filter(|e| e["path"] == path).collect();
        assert_eq!(recorded.len(), 1, "{path} recorded once");
        let sha: String = Sha256::digest(&artifact.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(recorded[0]["sha256"], sha, "{path}");
    }
}

#[test]
fn a_namespaced_name_that_equals_a_plain_name_gets_its_own_file() {
    let mut stack = stack_with_namespaces(&["a", "b", "c"]);
    let mut scope = stack.scope("web").unwrap();
    for (ns, name) in [("a", "x"), ("b", "x"), ("c", "a-x")] {
        scope
            .add_kube_object("cfg", &raw("v1", "ConfigMap", Some(ns), name))
            .unwrap();
    }
    let assembly = synth(stack).unwrap();
    assert_one_file_each(
        &assembly,
        "kubernetes/shop-dev/cfg",
        &[
            "configmap-a-x.yaml",
            "configmap-b-x.yaml",
            "configmap-c-a-x.yaml",
        ],
    );
    let a_x = assembly
        .artifact("kubernetes/shop-dev/cfg/configmap-a-x.yaml")
        .unwrap()
        .text();
    assert!(a_x.contains("namespace: a\n") && a_x.contains("name: x\n"));

    // The same set in another order gives the same files.
    let mut stack = stack_with_namespaces(&["a", "b", "c"]);
    let mut scope = stack.scope("web").unwrap();
    for (ns, name) in [("c", "a-x"), ("b", "x"), ("a", "x")] {
        scope
            .add_kube_object("cfg", &raw("v1", "ConfigMap", Some(ns), name))
            .unwrap();
    }
    let again = synth(stack).unwrap();
    let a_x_again = again
        .artifact("kubernetes/shop-dev/cfg/configmap-a-x.yaml")
        .unwrap()
        .text();
    assert_eq!(a_x, a_x_again);
}

#[test]
fn one_kind_and_name_in_two_api_groups_gets_two_files() {
    let mut stack = stack_with_namespaces(&["shop"]);
    let mut scope = stack.scope("web").unwrap();
    for api_version in ["apps/v1", "extensions/v1beta1"] {
        scope
            .add_kube_object("web", &raw(api_version, "Deployment", Some("shop"), "web"))
            .unwrap();
    }
    scope
        .add_kube_object("web", &raw("v1", "ConfigMap", Some("shop"), "web"))
        .unwrap();
    let assembly = synth(stack).unwrap();
    assert_one_file_each(
        &assembly,
        "kubernetes/shop-dev/web",
        &[
            "deployment.apps-shop-web.yaml",
            "deployment.extensions-shop-web.yaml",
            // Not colliding: keeps its short name.
            "configmap-web.yaml",
        ],
    );
}

#[test]
fn file_names_that_stay_ambiguous_are_an_error_naming_both_objects() {
    let mut stack = stack_with_namespaces(&["shop"]);
    let mut scope = stack.scope("web").unwrap();
    scope
        .add_kube_object("cfg", &raw("v1", "ConfigMap", Some("shop"), "x"))
        .unwrap();
    let mut other = stack.scope("other").unwrap();
    // A different kind (Kubernetes kinds are case-sensitive) with the same file name.
    other
        .add_kube_object("cfg", &raw("v1", "Configmap", Some("shop"), "x"))
        .unwrap();
    let err = synth(stack).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.starts_with("shop-dev:other: Configmap shop/x"), "{err}");
    assert!(
        err.contains("ConfigMap shop/x (v1, added at shop-dev:web)"),
        "{err}"
    );
    assert!(
        err.contains("kubernetes/shop-dev/cfg/configmap.core-shop-x.yaml"),
        "{err}"
    );
}

#[test]
fn gitops_directories_disambiguate_the_same_way() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    for (ns, name) in [("a", "x"), ("b", "x"), ("c", "a-x")] {
        stack
            .add_gitops_object("clusters", &raw("v1", "ConfigMap", Some(ns), name))
            .unwrap();
    }
    let assembly = synth(stack).unwrap();
    assert_one_file_each(
        &assembly,
        "gitops/shop-dev/clusters",
        &[
            "configmap-a-x.yaml",
            "configmap-b-x.yaml",
            "configmap-c-a-x.yaml",
        ],
    );
}

#[test]
fn helm_values_headers_cannot_be_broken_out_of() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("web").unwrap();
    let chart = || ChartRef::new("https://charts.example.com", "web", "1.2.3");
    let cases = [
        HelmRelease::new("web", chart()).namespace("x\nimage: evil"),
        HelmRelease::new("web", chart()).namespace("../x"),
        HelmRelease::new(
            "web",
            ChartRef::new("https://charts.example.com\nimage: evil", "web", "1.2.3"),
        ),
        HelmRelease::new(
            "web",
            ChartRef::new("https://charts.example.com", "web\nimage: evil", "1.2.3"),
        ),
    ];
    for release in cases {
        let err = scope.add_helm_release(release).unwrap_err().to_string();
        // Refused where the release is added, naming it and the bad value (the chart
        // checks catch the repository and name first).
        assert!(err.starts_with("shop-dev:web: "), "{err}");
        assert!(err.contains("image: evil") || err.contains("../x"), "{err}");
    }
    scope
        .add_helm_release(HelmRelease::new("web", chart()).namespace("shop"))
        .unwrap();
}

#[test]
fn rbac_names_of_upstream_manifests_are_accepted_and_written_portably() {
    let mut stack = Stack::new("ops", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("metrics").unwrap();
    for (kind, name) in [
        ("ClusterRole", "system:metrics-server"),
        ("ClusterRoleBinding", "metrics-server:system:auth-delegator"),
    ] {
        scope
            .add_kube_object(
                "metrics",
                &json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                         "metadata": { "name": name } }),
            )
            .unwrap();
    }
    // Path-segment names still cannot name another directory, and other kinds keep the
    // DNS rules.
    for (api, kind, name) in [
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "a/b"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", ".."),
        ("v1", "ConfigMap", "system:x"),
    ] {
        let err = scope
            .add_kube_object(
                "metrics",
                &json!({ "apiVersion": api, "kind": kind, "metadata": { "name": name } }),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not allowed"), "{err}");
    }
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    for file in [
        "kubernetes/ops-dev/metrics/clusterrole-system-metrics-server.yaml",
        "kubernetes/ops-dev/metrics/clusterrolebinding-metrics-server-system-auth-delegator.yaml",
    ] {
        let artifact = assembly.artifact(file).unwrap_or_else(|| panic!("{file}"));
        assert!(
            artifact.text().contains("name: system:")
                || artifact.text().contains("name: metrics-server:")
        );
    }
}

#[test]
fn an_object_without_a_namespace_never_collides_with_one_in_a_namespace_named_cluster() {
    let mut stack = Stack::new("ops", "dev", Backend::local()).unwrap();
    stack
        .external_kube_object("Namespace", None, "cluster", "made elsewhere")
        .unwrap();
    let mut scope = stack.scope("a").unwrap();
    for namespace in [None, Some("cluster"), Some("default")] {
        let mut metadata = json!({ "name": "x" });
        if let Some(ns) = namespace {
            metadata["namespace"] = json!(ns);
        }
        scope
            .add_kube_object(
                "a",
                &json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata }),
            )
            .unwrap();
    }
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    for file in [
        "configmap-_cluster-x.yaml",
        "configmap-cluster-x.yaml",
        "configmap-default-x.yaml",
    ] {
        assert!(
            assembly
                .artifact(&format!("kubernetes/ops-dev/a/{file}"))
                .is_some(),
            "{file}"
        );
    }
}
