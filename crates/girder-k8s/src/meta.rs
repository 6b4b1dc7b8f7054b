//! ObjectMeta for the objects the constructs write.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

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
