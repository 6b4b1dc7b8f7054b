//! K3s's Helm controller (`helm.cattle.io/v1`): a `HelmChart` in `kube-system` installs a
//! chart; a `HelmChartConfig` of the same name overrides the values of a chart K3s ships
//! (Traefik, CoreDNS). K3s applies both from its auto-deploy directory
//! (`/var/lib/rancher/k3s/server/manifests`), so a cluster without Flux or Argo CD can
//! still install charts from plain manifests.
//!
//! Upstream publishes no JSON schema for these kinds; k8scheck applies structural checks
//! only. The values themselves are also written as a values file, which is checked
//! against the chart's schema.

use serde::Serialize;

use super::{Extra, Object, Spec};

/// `HelmChart`.
pub type HelmChart = Object<HelmChartSpec>;
/// `HelmChartConfig`.
pub type HelmChartConfig = Object<HelmChartConfigSpec>;

/// The namespace K3s's Helm controller watches for these objects.
pub const CONTROLLER_NAMESPACE: &str = "kube-system";

/// The spec of a HelmChart.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartSpec {
    /// The chart name, or a full `oci://` reference (then `repo` is unset).
    pub chart: String,
    /// The chart repository URL (HTTP repositories).
    pub repo: Option<String>,
    /// The exact chart version.
    pub version: String,
    /// Where the release goes.
    pub target_namespace: String,
    /// Create `target_namespace` if missing.
    pub create_namespace: Option<bool>,
    /// The values, as a YAML document.
    pub values_content: Option<String>,
    /// Other fields (`timeout`, `failurePolicy`, `authSecret`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for HelmChartSpec {
    const API_VERSION: &'static str = "helm.cattle.io/v1";
    const KIND: &'static str = "HelmChart";
}

/// The spec of a HelmChartConfig: values merged over a packaged chart's.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartConfigSpec {
    /// The values, as a YAML document.
    pub values_content: String,
    /// Other fields (`failurePolicy`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for HelmChartConfigSpec {
    const API_VERSION: &'static str = "helm.cattle.io/v1";
    const KIND: &'static str = "HelmChartConfig";
}
