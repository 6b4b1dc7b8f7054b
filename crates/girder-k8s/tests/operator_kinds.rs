#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! What girder-k8s's custom resource types tell girder-core's synth-time checks about their
//! kinds (`KubeKind`): which are cluster-scoped and which objects their operators make.
//! girder-core holds none of this knowledge itself.

use std::collections::BTreeSet;

use girder_core::StaticJson;
use girder_core::kubernetes::{KubeKind, KubeScope, ProvidedObject};
use girder_core::prelude::*;
use girder_k8s::crds::cert_manager::{
    Certificate, CertificateSpec, ClusterIssuer, ClusterIssuerSpec, IssuerRef, IssuerSpec,
};
use girder_k8s::crds::external_secrets::{
    ClusterSecretStore, ClusterSecretStoreSpec, DataFrom, ExternalSecret, ExternalSecretSpec,
    StoreRef,
};
use girder_k8s::crds::sealed_secrets::{SealedSecret, SealedSecretSpec};
use serde_json::json;

fn made<T: serde::Serialize + KubeKind>(object: &T) -> Vec<ProvidedObject> {
    object.provides(&StaticJson::from(serde_json::to_value(object).unwrap()))
}

fn keys(keys: &[&str]) -> Option<BTreeSet<String>> {
    Some(keys.iter().map(|k| (*k).to_owned()).collect())
}

fn external_secret() -> ExternalSecret {
    ExternalSecret::new(
        "shop",
        "db-from-ssm",
        ExternalSecretSpec::new(StoreRef::cluster("ssm"), "db", [("url", "/shop/db/url")]),
    )
}

#[test]
fn an_external_secret_makes_its_target_with_exactly_its_data_keys() {
    assert_eq!(
        made(&external_secret()),
        [ProvidedObject {
            kind: "Secret".into(),
            name: "db".into(),
            keys: keys(&["url"]),
        }]
    );
    assert_eq!(external_secret().kube_scope(), KubeScope::Namespaced);
}

#[test]
fn a_templated_or_expanded_external_secret_has_keys_unknown_at_synth() {
    let mut templated = external_secret();
    templated.spec.target.extra.insert(
        "template".into(),
        json!({"data": {"anything": "{{ .url }}"}}),
    );
    assert_eq!(made(&templated)[0].keys, None);

    let mut expanded = external_secret();
    expanded.spec.data_from.push(DataFrom::extract("/shop/db"));
    assert_eq!(made(&expanded)[0].keys, None);
}

#[test]
fn a_sealed_secret_makes_a_secret_named_like_it_with_its_encrypted_keys() {
    let sealed = SealedSecret::new(
        "shop",
        "sealed",
        SealedSecretSpec {
            encrypted_data: [("password".to_owned(), "AgB...".to_owned())].into(),
            ..SealedSecretSpec::default()
        },
    );
    assert_eq!(
        made(&sealed),
        [ProvidedObject::new("Secret", "sealed").with_keys(["password"])]
    );
}

#[test]
fn a_certificate_makes_its_secret_and_cluster_kinds_are_cluster_scoped() {
    let certificate = Certificate::new(
        "shop",
        "web",
        CertificateSpec {
            secret_name: "web-tls".into(),
            dns_names: vec!["shop.example.com".into()],
            issuer_ref: IssuerRef {
                name: "letsencrypt".into(),
                kind: "ClusterIssuer".into(),
                group: "cert-manager.io".into(),
            },
            ..CertificateSpec::default()
        },
    );
    assert_eq!(
        made(&certificate),
        [ProvidedObject::new("Secret", "web-tls")]
    );
    let issuer = ClusterIssuer::cluster("letsencrypt", ClusterIssuerSpec(IssuerSpec::default()));
    assert_eq!(issuer.kube_scope(), KubeScope::Cluster);
    let store = ClusterSecretStore::cluster("ssm", ClusterSecretStoreSpec::default());
    assert_eq!(store.kube_scope(), KubeScope::Cluster);
}

/// A Deployment reading key `key` of Secret `db`.
fn reader(key: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "api:1",
                    "env": [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": key}}}]}]}
            }
        }
    })
}

fn synth(key: &str) -> girder_core::Result<Assembly> {
    let mut stack = Stack::new("shop", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("k8s").unwrap();
    scope
        .add_kube_object(
            "shop",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        )
        .unwrap();
    scope.add_kube_object("shop", &reader(key)).unwrap();
    scope
        .add_typed_kube_object("shop", &external_secret())
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth()
}

#[test]
fn synth_checks_pod_references_against_what_the_external_secret_makes() {
    synth("url").unwrap();
    let err = synth("password").unwrap_err().to_string();
    assert!(
        err.contains(
            "references key \"password\" of Secret shop/db, which has no such key (keys: url)"
        ),
        "{err}"
    );
}
