//! Typed custom resources of the operators girder's systems run: Flux, the Prometheus
//! operator, cert-manager, Argo CD, External Secrets, Sealed Secrets, Traefik and K3s's
//! Helm controller.
//!
//! Each kind is an [`Object`] of its spec type (`ExternalSecret = Object<ExternalSecretSpec>`).
//! Specs type the fields girder's constructs and stacks set; every spec (and the larger
//! nested structs) has an `extra` map, flattened into it, for any other field of the CRD:
//! the typed escape hatch. The upstream CRD schemas in ../shared/schemas/crds check the
//! output (k8scheck); they are not copied here.

pub mod argocd;
pub mod cert_manager;
pub mod external_secrets;
pub mod flux;
pub mod k3s;
pub mod prometheus;
pub mod sealed_secrets;
pub mod traefik;

use std::collections::BTreeMap;

use girder_core::Scope;
use girder_core::construct::Construct;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use girder_core::StaticJson;
use girder_core::kubernetes::{KubeKind, KubeScope, ProvidedObject};

/// Fields of a CRD that the typed struct does not name, merged into it.
pub type Extra = BTreeMap<String, Json>;

/// The spec of a custom resource kind, and what girder's synth-time checks need to know
/// of the kind (its [`KubeKind`] answers, carried by every [`Object`] of it).
pub trait Spec: Serialize {
    /// `group/version`.
    const API_VERSION: &'static str;
    /// `Kind`.
    const KIND: &'static str;
    /// Whether objects of the kind are namespaced.
    const SCOPE: KubeScope = KubeScope::Namespaced;

    /// The objects the kind's operator makes from an instance, read from its rendered
    /// `body` (so fields set through `extra` count).
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let _ = body;
        Vec::new()
    }
}

impl<S: Spec> KubeKind for Object<S> {
    fn kube_scope(&self) -> KubeScope {
        S::SCOPE
    }

    fn provides(&self, body: &StaticJson) -> Vec<ProvidedObject> {
        S::provides(body)
    }
}

/// The text at `pointer` of a rendered body.
pub(crate) fn text_at<'a>(body: &'a StaticJson, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer).and_then(StaticJson::as_str)
}

/// The keys of the maps at `pointers` of a rendered body.
pub(crate) fn keys_at(body: &StaticJson, pointers: &[&str]) -> std::collections::BTreeSet<String> {
    pointers
        .iter()
        .filter_map(|p| body.pointer(p).and_then(StaticJson::as_object))
        .flat_map(|m| m.keys().map(|k| k.as_str().to_owned()))
        .collect()
}

/// A custom resource: metadata and a typed spec. Added like any construct
/// (`ExternalSecret::new(..).add(scope, "database")`), into the scope's Kubernetes app.
#[must_use = "an object is written only when `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Object<S> {
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: S,
}

impl<S: Spec> Object<S> {
    /// A namespaced object, labelled `app.kubernetes.io/name` and `managed-by: girder`.
    pub fn new(namespace: &str, name: &str, spec: S) -> Self {
        Self {
            metadata: crate::meta::object_meta(
                Some(namespace),
                name,
                crate::meta::plain_labels(name),
                BTreeMap::new(),
            ),
            spec,
        }
    }

    /// A cluster-scoped object (ClusterIssuer, ClusterSecretStore).
    pub fn cluster(name: &str, spec: S) -> Self {
        Self {
            metadata: crate::meta::object_meta(
                None,
                name,
                crate::meta::plain_labels(name),
                BTreeMap::new(),
            ),
            spec,
        }
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }
}

impl<S: Spec> Construct for Object<S> {
    type Handle = ObjectRef;

    /// Add the object as construct `id`, into the scope's Kubernetes app, after checking
    /// its metadata.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> girder_core::Result<ObjectRef> {
        let scope = &mut scope.construct_child(id)?;
        crate::meta::add_custom(scope, &self)?;
        Ok(ObjectRef {
            kind: S::KIND,
            namespace: self.metadata.namespace,
            name: self.metadata.name.unwrap_or_default(),
        })
    }
}

/// A custom resource in the stack: its kind, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    kind: &'static str,
    namespace: Option<String>,
    name: String,
}

impl ObjectRef {
    /// `kind`.
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// `metadata.namespace` (`None` for a cluster-scoped object).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<S: Spec> Serialize for Object<S> {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("apiVersion", S::API_VERSION)?;
        map.serialize_entry("kind", S::KIND)?;
        map.serialize_entry("metadata", &self.metadata)?;
        map.serialize_entry("spec", &self.spec)?;
        map.end()
    }
}

/// A reference to an object by name (`secretRef`, `serviceAccountRef`).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NameRef {
    /// `name`.
    pub name: String,
    /// `namespace` (where the field allows another namespace).
    pub namespace: Option<String>,
}

impl NameRef {
    /// A reference to `name` in the same namespace.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: None,
        }
    }
}
