//! The construct contract's core pieces: the scope's Kubernetes app and `Dependable`.

use girder_core::construct::Dependable;
use girder_core::prelude::*;
use serde_json::json;

fn config_map(name: &str) -> serde_json::Value {
    json!({ "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": name, "namespace": "shop" }, "data": { "k": "v" } })
}

#[test]
fn a_child_scope_writes_into_the_app_its_parent_set() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut k8s = stack.scope("k8s").unwrap().with_kube_app("web").unwrap();
    assert_eq!(k8s.kube_app(), Some("web"));
    let mut api = k8s.child("api").unwrap();
    assert_eq!(api.kube_app(), Some("web"));
    api.add_app_object(&config_map("api")).unwrap();
    let mut jobs = k8s.child("jobs").unwrap().with_kube_app("batch").unwrap();
    jobs.add_app_object(&config_map("jobs")).unwrap();
    let apps: Vec<String> = stack.kube_apps().into_iter().map(|(app, _)| app).collect();
    assert_eq!(apps, ["web", "batch"]);
}

#[test]
fn a_scope_without_an_app_names_itself_and_the_fix() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("k8s").unwrap();
    let err = scope
        .child("api")
        .unwrap()
        .add_app_object(&config_map("api"))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("shop-dev:k8s/api"), "{text}");
    assert!(text.contains("with_kube_app"), "{text}");
}

#[test]
fn an_app_name_is_a_dns_label() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    for bad in ["../etc", "Web", "", "a/b"] {
        let scope = stack.scope("k8s").unwrap();
        assert!(scope.with_kube_app(bad).is_err(), "{bad:?} accepted");
    }
}

/// A handle naming two blocks, as an L2 bucket with its policy does.
struct Pair(ResourceHandle, ResourceHandle);

impl Dependable for Pair {
    fn dependencies(&self) -> Vec<girder_core::expr::Reference> {
        let mut all = self.0.dependencies();
        all.extend(self.1.dependencies());
        all
    }
}

#[test]
fn depends_on_all_names_every_block_once() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    stack
        .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0"))
        .unwrap();
    let mut root = stack.root();
    let bucket = root
        .add(
            "bucket",
            ResourceSpec::resource("aws_s3_bucket", &json!({ "bucket": "b" })),
        )
        .unwrap();
    let policy = root
        .add(
            "policy",
            ResourceSpec::resource("aws_s3_bucket_policy", &json!({ "bucket": "b" })),
        )
        .unwrap();
    let pair = Pair(bucket.clone(), policy);
    root.add(
        "writer",
        ResourceSpec::resource("aws_s3_object", &json!({ "key": "k" }))
            .depends_on(&bucket)
            .depends_on_all(&pair),
    )
    .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(
        &assembly
            .artifact("terraform/shop-dev/main.tf.json")
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(
        doc["resource"]["aws_s3_object"]["writer"]["depends_on"],
        json!(["aws_s3_bucket.bucket", "aws_s3_bucket_policy.policy"])
    );
}

#[derive(Debug, PartialEq, thiserror::Error)]
enum ToyError {
    #[error("bucket name {0:?} has upper-case letters; use a-z, 0-9 and '-'")]
    UpperCase(String),
}

#[test]
fn an_l2_error_keeps_its_path_and_its_variant() {
    let err = girder_core::Error::construct("shop-dev:assets", ToyError::UpperCase("Bad".into()));
    assert_eq!(
        err.construct_error::<ToyError>(),
        Some(&ToyError::UpperCase("Bad".into()))
    );
    assert!(
        err.to_string()
            .starts_with("shop-dev:assets: bucket name \"Bad\""),
        "{err}"
    );
    assert!(
        girder_core::Error::invalid("x", "y")
            .construct_error::<ToyError>()
            .is_none()
    );
}

#[test]
fn two_constructs_with_one_id_in_a_scope_are_refused_even_without_a_clash() {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut k8s = stack.scope("k8s").unwrap().with_kube_app("web").unwrap();
    k8s.construct_child("config")
        .unwrap()
        .add_app_object(&config_map("a"))
        .unwrap();
    // Another object, no clash in the output: still the same construct id.
    let err = k8s.construct_child("config").err().unwrap();
    assert!(
        matches!(&err, girder_core::Error::Duplicate { what: "construct id", name, .. } if name == "config"),
        "{err}"
    );
    // Plain child scopes stay reusable (a stack opens `k8s` from several modules).
    k8s.child("shared").unwrap();
    k8s.child("shared").unwrap();
    k8s.construct_child("other").unwrap();
}
