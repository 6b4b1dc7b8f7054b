//! Helm values as synth artifacts: typed values (anything serializable) for one release of a
//! pinned chart, written as a values file and recorded with the chart in manifest.json.

use serde::Serialize;
use serde_json::Value as Json;

use crate::assembly::{Artifact, ArtifactKind};
use crate::body;
use crate::error::{Error, Result};
use crate::expr::Ast;

/// A chart at a pinned version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChartRef {
    /// Repository URL (`https://charts.bitnami.com/bitnami`) or OCI reference
    /// (`oci://registry-1.docker.io/bitnamicharts`).
    pub repository: String,
    /// Chart name.
    pub name: String,
    /// Exact chart version (no ranges: values are written for one version).
    pub version: String,
}

impl ChartRef {
    /// A chart reference.
    pub fn new(
        repository: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            repository: repository.into(),
            name: name.into(),
            version: version.into(),
        }
    }

    fn validate(&self, path: &str) -> Result<()> {
        let pinned = !self.version.is_empty()
            && self
                .version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
            && self
                .version
                .starts_with(|c: char| c.is_ascii_digit() || c == 'v');
        if !pinned {
            return Err(Error::invalid(
                path,
                format!(
                    "chart {} version {:?} is not an exact version; pin one such as \"1.2.3\"",
                    self.name, self.version
                ),
            ));
        }
        if !(self.repository.starts_with("https://")
            || self.repository.starts_with("oci://")
            || self.repository.starts_with("http://"))
        {
            return Err(Error::invalid(
                path,
                format!(
                    "chart repository {:?} must be an https:// or oci:// URL",
                    self.repository
                ),
            ));
        }
        Ok(())
    }
}

/// Values for one release of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct HelmRelease {
    name: String,
    chart: ChartRef,
    namespace: Option<String>,
    values: std::result::Result<Ast, String>,
    rendered: Json,
}

impl HelmRelease {
    /// Release `name` of `chart`, with empty values.
    pub fn new(name: impl Into<String>, chart: ChartRef) -> Self {
        Self {
            name: name.into(),
            chart,
            namespace: None,
            values: Ok(Ast::Object(Vec::new())),
            rendered: Json::Object(Default::default()),
        }
    }

    /// Target namespace of the release.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The values (typed values struct, or JSON for the escape hatch).
    pub fn values<T: Serialize + ?Sized>(mut self, values: &T) -> Self {
        self.values = body::to_body("", "Helm values", values).map_err(|e| e.to_string());
        self
    }

    /// Check and evaluate the values; `path` names the release in errors.
    pub(crate) fn resolve(mut self, path: &str) -> Result<Self> {
        crate::path::validate_dns_label("Helm release name", &self.name)
            .map_err(|e| Error::invalid(path, e.to_string()))?;
        self.chart.validate(path)?;
        self.check_header_fields(path)?;
        let ast = self
            .values
            .as_ref()
            .map_err(|message| Error::invalid(path, message.clone()))?;
        if !matches!(ast, Ast::Object(_)) {
            return Err(Error::invalid(
                path,
                "Helm values must be a map at the top level",
            ));
        }
        let label = format!("Helm values of release {}", self.name);
        self.rendered = body::to_static_json(path, &label, ast)?;
        Ok(self)
    }

    /// The fields written into the values file's comment header: a namespace is a
    /// DNS-1123 label, and no chart field may hold whitespace or control characters (a
    /// line break would end the comment and add YAML of its own to the values).
    fn check_header_fields(&self, path: &str) -> Result<()> {
        if let Some(namespace) = &self.namespace {
            if !crate::kubernetes::is_dns_label(namespace) {
                return Err(Error::invalid(
                    path,
                    format!(
                        "Helm release {}: namespace {namespace:?} is not a DNS-1123 label \
                         (1 to 63 lowercase letters, digits or '-', starting and ending with \
                         a letter or digit)",
                        self.name
                    ),
                ));
            }
        }
        for (field, value) in [
            ("chart name", &self.chart.name),
            ("chart repository", &self.chart.repository),
        ] {
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::invalid(
                    path,
                    format!(
                        "Helm release {}: {field} {value:?} must be non-empty, without \
                         whitespace or control characters",
                        self.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Release name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The chart.
    pub fn chart(&self) -> &ChartRef {
        &self.chart
    }

    /// Target namespace.
    pub fn target_namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The evaluated values.
    pub fn rendered_values(&self) -> &Json {
        &self.rendered
    }

    /// The evaluated values, mutable (for aspects).
    pub fn rendered_values_mut(&mut self) -> &mut Json {
        &mut self.rendered
    }

    /// The values file `helm/<stack>/<release>.values.yaml`, whose header names the chart
    /// (the `k8scheck:` line lets the external checker validate it against that chart).
    pub(crate) fn values_artifact(&self, stack_id: &str, path: &str) -> Result<Artifact> {
        let chart = &self.chart;
        let namespace = self
            .namespace
            .as_ref()
            .map(|ns| format!(" (namespace {ns})"))
            .unwrap_or_default();
        let mut text = format!(
            "# Generated by girder from stack {stack_id}; do not edit.\n\
             # Helm values of release {}{namespace}: chart {} {} from {}\n\
             # k8scheck: chart={} version={}\n",
            self.name, chart.name, chart.version, chart.repository, chart.name, chart.version,
        );
        text.push_str(&crate::yaml::to_yaml(path, &self.rendered)?);
        Ok(Artifact {
            path: format!("helm/{stack_id}/{}.values.yaml", self.name),
            kind: ArtifactKind::HelmValues,
            bytes: text.into_bytes(),
            chart: Some(chart.clone()),
        })
    }
}
