//! Kubernetes objects as synth artifacts: any serializable object with `apiVersion`, `kind`
//! and `metadata.name` (k8s-openapi types, girder's CRD types, or raw JSON), grouped into
//! apps. Each app is written as one YAML file per object plus a `kustomization.yaml`.

use serde::Serialize;
use serde_json::Value as Json;

use crate::body;
use crate::error::{Error, Result};

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
        // A label for messages, read before evaluation (which may fail and must name it).
        let preview = body::to_terraform_json(&ast);
        let label = format!(
            "Kubernetes object {} {}",
            text(&preview, "kind").unwrap_or_else(|| "?".into()),
            preview
                .get("metadata")
                .and_then(|m| text(m, "name"))
                .unwrap_or_else(|| "?".into())
        );
        let body = body::to_static_json(path, &label, &ast)?;
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

    /// The whole object as JSON.
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
