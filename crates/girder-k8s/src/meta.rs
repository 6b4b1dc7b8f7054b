//! ObjectMeta for the objects the constructs write.

use std::collections::BTreeMap;

use girder_core::kubernetes_rules;
use girder_core::{Result, Scope};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

/// Check an object's labels and annotations (keys, values, size) where a construct
/// creates it, so the error names the construct: `Deployment shop/api: label ...`.
pub(crate) fn check_meta(at: &str, kind: &str, meta: &ObjectMeta) -> Result<()> {
    let checked = meta
        .labels
        .as_ref()
        .map_or(Ok(()), kubernetes_rules::label_map)
        .and_then(|()| {
            meta.annotations
                .as_ref()
                .map_or(Ok(()), kubernetes_rules::annotation_map)
        });
    checked.map_err(|why| {
        let name = meta.name.as_deref().unwrap_or_default();
        let what = match &meta.namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        };
        crate::validate::metadata(at, &what, why)
    })
}

/// Add a k8s-openapi object to the scope's Kubernetes app ([`Scope::with_kube_app`])
/// after checking its metadata: every girder-k8s construct adds its objects through here.
pub(crate) fn add_object<K>(scope: &mut Scope<'_>, object: &K) -> Result<()>
where
    K: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize,
{
    check_meta(&scope.location(), K::KIND, object.metadata())?;
    scope.add_app_object(object)
}

/// Add a custom resource to the scope's Kubernetes app after checking its metadata.
pub(crate) fn add_custom<S: crate::crds::Spec>(
    scope: &mut Scope<'_>,
    object: &crate::crds::Object<S>,
) -> Result<()> {
    check_meta(&scope.location(), S::KIND, &object.metadata)?;
    scope.add_typed_app_object(object)
}

/// Metadata with a name, an optional namespace, labels and annotations.
pub(crate) fn object_meta(
    namespace: Option<&str>,
    name: &str,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        labels: (!labels.is_empty()).then_some(labels),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..ObjectMeta::default()
    }
}

/// `matchLabels` selector.
pub(crate) fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    }
}

/// `app.kubernetes.io/managed-by: girder` plus `name`, for objects that are not workloads.
pub(crate) fn plain_labels(name: &str) -> BTreeMap<String, String> {
    crate::AppLabels::new(name).all()
}
