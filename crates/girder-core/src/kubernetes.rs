//! Kubernetes objects as synth artifacts: any serializable object with `apiVersion`, `kind`
//! and `metadata.name` (k8s-openapi types, girder's CRD types, or raw JSON), grouped into
//! apps. Each app is written as one YAML file per object plus a `kustomization.yaml`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::body;
use crate::error::{Error, Result};
use crate::expr::Ast;
use crate::static_json::StaticJson as Json;
pub(crate) use crate::vocabulary::dns::{is_dns_label, is_dns_subdomain};

/// Longest `metadata.name` Kubernetes accepts (a DNS-1123 subdomain).
pub const MAX_NAME_LEN: usize = 253;

/// Longest `metadata.namespace` (a DNS-1123 label) and longest `kind` girder accepts.
pub const MAX_LABEL_LEN: usize = 63;

/// Whether a kind's objects live in a namespace (kube-core's `NamespaceResourceScope` /
/// `ClusterResourceScope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KubeScope {
    /// In a namespace (`default` when `metadata.namespace` is unset).
    Namespaced,
    /// Cluster-wide: `metadata.namespace` is ignored.
    Cluster,
}

/// An object another object makes in the cluster, in the maker's namespace: the Secret an
/// ExternalSecret writes, the Secret a cert-manager Certificate issues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvidedObject {
    /// `Secret`, `ConfigMap`, ...
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The keys of its data when the maker's body shows them (`None`: unknown, so key
    /// references to it are not checked).
    pub keys: Option<BTreeSet<String>>,
}

impl ProvidedObject {
    /// Object `kind`/`name` with unknown keys.
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            name: name.into(),
            keys: None,
        }
    }

    /// The same object, its data keys known.
    pub fn with_keys<K: Into<String>>(mut self, keys: impl IntoIterator<Item = K>) -> Self {
        self.keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }
}

/// What girder's synth-time checks know about a kind, implemented by the types that own the
/// knowledge (girder-k8s's CRD types; an operator crate's own): girder-core knows only the
/// API server's built-in kinds ([`BuiltInKind`]) and reads everything else through this.
/// Objects added with [`crate::Scope::add_typed_kube_object`] carry their kind's answers.
pub trait KubeKind {
    /// Whether objects of this kind are namespaced.
    fn kube_scope(&self) -> KubeScope {
        KubeScope::Namespaced
    }

    /// Objects an instance makes in its namespace, read from its rendered `body`.
    fn provides(&self, body: &Json) -> Vec<ProvidedObject> {
        let _ = body;
        Vec::new()
    }
}

/// The dynamic path: a raw object (JSON, or any serializable value) of a kind girder has no
/// type for, with its kind's answers stated (kube-core's `DynamicObject` with its
/// `ApiResource`). Add it with [`crate::Scope::add_typed_kube_object`].
///
/// ```
/// use girder_core::kubernetes::{ProvidedObject, RawObject};
/// use girder_core::prelude::*;
/// use serde_json::json;
///
/// # fn main() -> girder_core::Result<()> {
/// let mut stack = Stack::new("shop", "dev", Backend::local())?;
/// let vault = RawObject::new(json!({
///     "apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
///     "metadata": { "name": "db", "namespace": "shop" },
///     "spec": { "destination": { "name": "db", "create": true } },
/// }))
/// .makes(ProvidedObject::new("Secret", "db"));
/// stack.scope("k8s")?.add_typed_kube_object("shop", &vault)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RawObject<T> {
    object: T,
    scope: KubeScope,
    makes: Vec<ProvidedObject>,
}

impl<T: Serialize> RawObject<T> {
    /// A namespaced object that makes nothing.
    pub fn new(object: T) -> Self {
        Self {
            object,
            scope: KubeScope::Namespaced,
            makes: Vec::new(),
        }
    }

    /// Its kind is cluster-scoped.
    pub fn cluster_scoped(mut self) -> Self {
        self.scope = KubeScope::Cluster;
        self
    }

    /// Its operator makes `object` in the object's namespace.
    pub fn makes(mut self, object: ProvidedObject) -> Self {
        self.makes.push(object);
        self
    }
}

impl<T: Serialize> Serialize for RawObject<T> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.object.serialize(serializer)
    }
}

impl<T> KubeKind for RawObject<T> {
    fn kube_scope(&self) -> KubeScope {
        self.scope
    }

    fn provides(&self, _body: &Json) -> Vec<ProvidedObject> {
        self.makes.clone()
    }
}

/// The API server's own kinds as girder-core knows them: the cluster-scoped ones by group
/// and kind, every other kind namespaced, none making other objects. Raw objects
/// ([`crate::Scope::add_kube_object`]) are read this way.
#[derive(Clone, Copy, Debug)]
pub struct BuiltInKind<'a> {
    /// API group (`""` for core).
    pub group: &'a str,
    /// Kind.
    pub kind: &'a str,
}

/// The cluster-scoped kinds of Kubernetes itself, by API group.
const BUILT_IN_CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "PersistentVolume"),
    ("", "Node"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("apiregistration.k8s.io", "APIService"),
    ("node.k8s.io", "RuntimeClass"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

impl KubeKind for BuiltInKind<'_> {
    fn kube_scope(&self) -> KubeScope {
        if BUILT_IN_CLUSTER_SCOPED.contains(&(self.group, self.kind)) {
            KubeScope::Cluster
        } else {
            KubeScope::Namespaced
        }
    }
}

/// A Kubernetes object ready to be written. Values only known after `terraform apply`
/// were rejected when it was created.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeObject {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    scope: KubeScope,
    provides: Vec<ProvidedObject>,
    body: Json,
}

impl KubeObject {
    /// Check and convert a serializable object. `path` names it in errors.
    pub(crate) fn new<T: Serialize + ?Sized>(path: &str, object: &T) -> Result<Self> {
        Self::with_kind(path, object, None)
    }

    /// [`KubeObject::new`] for an object whose kind brings its own [`KubeKind`] answers
    /// (`None`: a raw object, read as a [`BuiltInKind`]).
    pub(crate) fn with_kind<T: Serialize + ?Sized>(
        path: &str,
        object: &T,
        kind_info: Option<&dyn KubeKind>,
    ) -> Result<Self> {
        let ast = body::to_body(path, "Kubernetes object", object)?;
        let text = |json: &Json, key: &str| json.get(key).and_then(Json::as_str).map(str::to_owned);
        // A label for messages, read from the tree before evaluation (which may fail and
        // must name the object).
        let ast_text = |node: Option<&Ast>| match node {
            Some(Ast::String(s)) => s.clone(),
            Some(other) => other.to_json_string(),
            None => "?".into(),
        };
        let label = format!(
            "Kubernetes object {} {}",
            ast_text(body::get(&ast, "kind")),
            ast_text(body::get(&ast, "metadata").and_then(|m| body::get(m, "name")))
        );
        let body = body::into_static_tree(path, &label, ast)?;
        let (Some(api_version), Some(kind)) = (text(&body, "apiVersion"), text(&body, "kind"))
        else {
            return Err(Error::invalid(
                path,
                "a Kubernetes object needs string `apiVersion` and `kind` fields \
                 (k8s-openapi types and girder CRD types have them)",
            ));
        };
        let metadata = body.get("metadata");
        let Some(name) = metadata
            .and_then(|m| text(m, "name"))
            .filter(|n| !n.is_empty())
        else {
            return Err(Error::invalid(
                path,
                format!("{kind} has no metadata.name; every object girder writes is named"),
            ));
        };
        let namespace = metadata.and_then(|m| text(m, "namespace"));
        validate_identity(path, &api_version, &kind, namespace.as_deref(), &name)?;
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let built_in = BuiltInKind { group, kind: &kind };
        let kind_info = kind_info.unwrap_or(&built_in);
        let scope = kind_info.kube_scope();
        let provides = kind_info.provides(&body);
        Ok(Self {
            api_version,
            kind,
            namespace,
            name,
            scope,
            provides,
            body,
        })
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// API group (`apps`, `""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(group, _)| group)
            .unwrap_or("")
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the object is namespaced, as its kind says.
    pub fn kube_scope(&self) -> KubeScope {
        self.scope
    }

    /// The objects it makes in its namespace, as its kind says.
    pub fn provides(&self) -> &[ProvidedObject] {
        &self.provides
    }

    /// The whole object, in girder's compact JSON ([`Json::to_serde_json`] copies it
    /// into a `serde_json::Value`).
    pub fn body(&self) -> &Json {
        &self.body
    }

    /// The object, mutable (for aspects: labels, annotations). Identity fields are not
    /// re-read: change them by creating a new object.
    pub fn body_mut(&mut self) -> &mut Json {
        &mut self.body
    }

    /// `Kind namespace/name` for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// Objects that must exist before the others (applied first, listed first).
    pub(crate) fn apply_rank(&self) -> u8 {
        match self.kind.as_str() {
            "Namespace" => 0,
            "CustomResourceDefinition" => 1,
            _ => 2,
        }
    }
}

/// Check the fields that identify an object, which also become its file name
/// (`<kind>-<namespace>-<name>.yaml`): nothing in them may name another directory.
/// Kubernetes' own rules are used, so whatever passes is an object the API server accepts:
/// `metadata.name` a DNS-1123 subdomain, `metadata.namespace` a DNS-1123 label, `kind` an
/// identifier (`ConfigMap`), `apiVersion` `v1` or `<group>/<version>` with a DNS-1123
/// subdomain group.
/// A name by Kubernetes' path segment rules (RBAC objects), limited to printable ASCII
/// without `\\` so it stays one safe path component once written as a file name.
fn is_path_segment_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '%' | '\\'))
}

fn validate_identity(
    path: &str,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<()> {
    let kind_ok = kind.len() <= MAX_LABEL_LEN
        && kind.starts_with(|c: char| c.is_ascii_alphabetic())
        && kind.chars().all(|c| c.is_ascii_alphanumeric());
    if !kind_ok {
        return Err(Error::invalid(
            path,
            format!(
                "Kubernetes kind {kind:?} is not allowed: a kind is 1 to {MAX_LABEL_LEN} ASCII \
                 letters and digits starting with a letter (`ConfigMap`)"
            ),
        ));
    }
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (Some(group), version),
        None => (None, api_version),
    };
    let api_version_ok =
        group.is_none_or(is_dns_subdomain) && is_dns_label(version) && version.starts_with('v');
    if !api_version_ok {
        return Err(Error::invalid(
            path,
            format!(
                "{kind}: apiVersion {api_version:?} is not allowed: it is `<version>` (`v1`) \
                 or `<group>/<version>` (`apps/v1`), the group a DNS-1123 subdomain and the \
                 version a lowercase DNS-1123 label starting with `v`"
            ),
        ));
    }
    // RBAC and API priority objects are named by path segment rules (upstream's own
    // `system:metrics-server`); every other kind by DNS-1123 subdomain rules.
    let path_segment_names = matches!(
        group,
        Some("rbac.authorization.k8s.io" | "flowcontrol.apiserver.k8s.io")
    );
    if path_segment_names {
        if !is_path_segment_name(name) {
            return Err(Error::invalid(
                path,
                format!(
                    "{kind}: metadata.name {name:?} is not allowed: it must be 1 to \
                     {MAX_NAME_LEN} printable ASCII characters other than '/', '%' and '\\', \
                     and not `.` or `..`"
                ),
            ));
        }
    } else if !is_dns_subdomain(name) {
        return Err(Error::invalid(
            path,
            format!(
                "{kind}: metadata.name {name:?} is not allowed: it must be a DNS-1123 \
                 subdomain (1 to {MAX_NAME_LEN} lowercase letters, digits, '-' or '.', \
                 starting and ending with a letter or digit)"
            ),
        ));
    }
    match namespace {
        Some(namespace) if !is_dns_label(namespace) => Err(Error::invalid(
            path,
            format!(
                "{kind} {name}: metadata.namespace {namespace:?} is not allowed: it must be a \
                 DNS-1123 label (1 to {MAX_LABEL_LEN} lowercase letters, digits or '-', \
                 starting and ending with a letter or digit)"
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_rules() {
        let ok = |v, k, ns, n| validate_identity("s:p", v, k, ns, n).is_ok();
        assert!(ok("v1", "ConfigMap", Some("shop"), "web.config"));
        assert!(ok("apps/v1", "Deployment", None, "web"));
        assert!(ok(
            "helm.cattle.io/v1",
            "HelmChart",
            Some("kube-system"),
            "x"
        ));
        assert!(!ok("v1", "Config/Map", None, "x"));
        assert!(!ok("v1", "../x", None, "x"));
        assert!(!ok("v1", "", None, "x"));
        assert!(!ok("v1", "1Map", None, "x"));
        assert!(!ok("../v1", "ConfigMap", None, "x"));
        assert!(!ok("a/b/v1", "ConfigMap", None, "x"));
        assert!(!ok("apps/", "ConfigMap", None, "x"));
        assert!(!ok("", "ConfigMap", None, "x"));
        assert!(!ok("v1", "ConfigMap", Some("../.."), "x"));
        assert!(!ok("v1", "ConfigMap", Some("a.b"), "x"));
        assert!(!ok("v1", "ConfigMap", None, "x/../../PWNED"));
    }
}
