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

    /// Check the reference: an exact SemVer 2 version (`1.2.3`, `v1.2.3-rc.1+build.5`),
    /// an `https://` or `oci://` repository with a host, a chart name of letters, digits,
    /// '.', '_' and '-'.
    pub fn validate(&self, path: &str) -> Result<()> {
        if !is_semver(&self.version) {
            return Err(Error::invalid(
                path,
                format!(
                    "chart {} version {:?} is not an exact version; pin one such as \"1.2.3\" \
                     (SemVer 2: MAJOR.MINOR.PATCH, optional -prerelease and +build, optional leading v)",
                    self.name, self.version
                ),
            ));
        }
        let host = self
            .repository
            .strip_prefix("https://")
            .or_else(|| self.repository.strip_prefix("oci://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        let host_ok = host.is_some_and(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !host_ok
            || self
                .repository
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::invalid(
                path,
                format!(
                    "chart repository {:?} must be an https:// or oci:// URL with a host",
                    self.repository
                ),
            ));
        }
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !name_ok {
            return Err(Error::invalid(
                path,
                format!(
                    "chart name {:?}: letters, digits, '.', '_' and '-' only",
                    self.name
                ),
            ));
        }
        Ok(())
    }
}

/// An exact Semantic Versioning 2.0.0 version, with an optional leading `v` (as Helm
/// allows): `MAJOR.MINOR.PATCH[-prerelease][+build]`, numbers without leading zeros.
pub fn is_semver(version: &str) -> bool {
    let version = version.strip_prefix('v').unwrap_or(version);
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numeric = |n: &str| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    let identifier =
        |i: &str| !i.is_empty() && i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers.iter().all(|n| numeric(n))
        && pre.is_none_or(|pre| {
            pre.split('.')
                .all(|i| identifier(i) && (!i.chars().all(|c| c.is_ascii_digit()) || numeric(i)))
        })
        && build.is_none_or(|build| build.split('.').all(identifier))
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
