//! Kubernetes objects as synth artifacts: any serializable object with `apiVersion`, `kind`
//! and `metadata.name` (k8s-openapi types, girder's CRD types, or raw JSON), grouped into
//! apps. Each app is written as one YAML file per object plus a `kustomization.yaml`.

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

/// A Kubernetes object ready to be written. Values only known after `terraform apply`
/// were rejected when it was created.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeObject {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    body: Json,
}

impl KubeObject {
    /// Check and convert a serializable object. `path` names it in errors.
    pub(crate) fn new<T: Serialize + ?Sized>(path: &str, object: &T) -> Result<Self> {
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
        Ok(Self {
            api_version,
            kind,
            namespace,
            name,
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

    /// `(group, kind, namespace, name)`: what makes two objects the same object.
    pub(crate) fn identity(&self) -> (String, String, String, String) {
        (
            self.group().to_owned(),
            self.kind.clone(),
            self.namespace.clone().unwrap_or_default(),
            self.name.clone(),
        )
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
