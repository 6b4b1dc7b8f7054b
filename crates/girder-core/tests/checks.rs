//! `Stack::acknowledge_check`: a scanner finding accepted with a reason, written next to
//! what it covers in checkov's own syntax.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::prelude::*;
use serde_json::{Value as Json, json};

fn config_map(name: &str) -> Json {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}})
}

fn synth(stack: girder_core::Stack) -> Assembly {
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth().unwrap()
}

#[test]
fn terraform_blocks_and_kubernetes_objects_below_the_path_carry_the_reason() {
    let mut stack = common::aws_stack("net", "dev", Backend::local());
    let mut network = stack.scope("network").unwrap();
    network.add("vpc", common::vpc("10.0.0.0/16")).unwrap();
    network
        .add_kube_object("app", &config_map("before"))
        .unwrap();
    stack
        .root()
        .add("other", common::vpc("10.1.0.0/16"))
        .unwrap();
    stack
        .acknowledge_check(
            "network",
            "CKV2_AWS_11",
            "flow logs are the network stack's job",
        )
        .unwrap();
    stack
        .acknowledge_check("network", "CKV_K8S_43", "pinned by tag in this example")
        .unwrap();
    stack
        .scope("network")
        .unwrap()
        .add_kube_object("app", &config_map("after"))
        .unwrap();
    let assembly = synth(stack);

    let tf: Json = serde_json::from_slice(
        &assembly
            .artifact("terraform/net-dev/main.tf.json")
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(
        tf["resource"]["aws_vpc"]["network_vpc"]["//"],
        json!([
            "checkov:skip=CKV2_AWS_11:flow logs are the network stack's job",
            "checkov:skip=CKV_K8S_43:pinned by tag in this example"
        ])
    );
    assert!(
        tf["resource"]["aws_vpc"]["other"].get("//").is_none(),
        "outside the path"
    );

    for name in ["before", "after"] {
        let path = format!("kubernetes/net-dev/app/configmap-{name}.yaml");
        let text = assembly.artifact(&path).unwrap().text().to_owned();
        assert!(
            text.contains("checkov.io/skip1: CKV2_AWS_11=flow logs are the network stack's job\n")
                && text.contains("checkov.io/skip2: CKV_K8S_43=pinned by tag in this example\n"),
            "{path}:\n{text}"
        );
    }
}

#[test]
fn a_reason_checkov_cannot_read_back_is_refused() {
    let mut stack = common::aws_stack("net", "dev", Backend::local());
    for (check, reason) in [
        ("CKV_AWS_1", " "),
        ("CKV_AWS_1", "a=b"),
        ("AWS_1", "r"),
        ("CKV_AWS_1", "a\tb"),
    ] {
        let err = stack
            .acknowledge_check("network", check, reason)
            .unwrap_err()
            .to_string();
        assert!(err.contains("net-dev"), "{err}");
    }
}

#[test]
fn one_kubernetes_object_is_acknowledged_by_kind_namespace_and_name() {
    let mut stack = common::aws_stack("net", "dev", Backend::local());
    stack
        .acknowledge_kube_check(
            "ConfigMap",
            Some("default"),
            "one",
            "CKV_K8S_21",
            "kept in default",
        )
        .unwrap();
    let mut scope = stack.scope("cluster").unwrap();
    scope.add_kube_object("app", &config_map("one")).unwrap();
    scope.add_kube_object("app", &config_map("two")).unwrap();
    let assembly = synth(stack);
    let text = |name: &str| {
        let path = format!("kubernetes/net-dev/app/configmap-{name}.yaml");
        assembly.artifact(&path).unwrap().text().to_owned()
    };
    assert!(
        text("one").contains("checkov.io/skip1: CKV_K8S_21=kept in default\n"),
        "{}",
        text("one")
    );
    assert!(!text("two").contains("checkov.io"), "{}", text("two"));
    let tf = assembly
        .artifact("terraform/net-dev/main.tf.json")
        .unwrap()
        .text();
    assert!(!tf.contains("checkov:skip"), "{tf}");
}
