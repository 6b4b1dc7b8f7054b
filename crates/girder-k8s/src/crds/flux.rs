//! Flux: sources (`source.toolkit.fluxcd.io/v1`), Kustomizations
//! (`kustomize.toolkit.fluxcd.io/v1`) and HelmReleases (`helm.toolkit.fluxcd.io/v2`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use super::{Extra, NameRef, Object, Spec};

/// `GitRepository`.
pub type GitRepository = Object<GitRepositorySpec>;
/// `HelmRepository`.
pub type HelmRepository = Object<HelmRepositorySpec>;
/// `OCIRepository`.
pub type OciRepository = Object<OciRepositorySpec>;
/// `Kustomization` (Flux's, not kustomize's file).
pub type Kustomization = Object<KustomizationSpec>;
/// `HelmRelease`.
pub type HelmRelease = Object<HelmReleaseSpec>;

/// The spec of a GitRepository.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    /// How often to fetch (`1m`).
    pub interval: String,
    /// `https://` or `ssh://` URL.
    pub url: String,
    /// What to check out.
    #[serde(rename = "ref")]
    pub reference: Option<GitRef>,
    /// Credentials.
    pub secret_ref: Option<NameRef>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for GitRepositorySpec {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "GitRepository";
}

/// `ref` of a GitRepository.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GitRef {
    /// A branch.
    pub branch: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// A semver range over tags.
    pub semver: Option<String>,
    /// A commit.
    pub commit: Option<String>,
}

impl GitRepositorySpec {
    /// `url` at `branch`, fetched every minute.
    pub fn branch(url: impl Into<String>, branch: impl Into<String>) -> Self {
        Self {
            interval: "1m".into(),
            url: url.into(),
            reference: Some(GitRef {
                branch: Some(branch.into()),
                ..GitRef::default()
            }),
            ..Self::default()
        }
    }
}

/// The spec of a HelmRepository.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositorySpec {
    /// How often to fetch the index (`1h`).
    pub interval: String,
    /// Repository URL (`https://charts.bitnami.com/bitnami`, `oci://registry/path`).
    pub url: String,
    /// `oci` for OCI registries; absent for HTTP repositories.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Credentials.
    pub secret_ref: Option<NameRef>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for HelmRepositorySpec {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "HelmRepository";
}

impl HelmRepositorySpec {
    /// A repository at `url`; `oci://` URLs get `type: oci`.
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            interval: "1h".into(),
            type_: url.starts_with("oci://").then(|| "oci".to_owned()),
            url,
            ..Self::default()
        }
    }
}

/// The spec of an OCIRepository.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OciRepositorySpec {
    /// How often to fetch (`5m`).
    pub interval: String,
    /// `oci://` URL of the artifact.
    pub url: String,
    /// Which artifact.
    #[serde(rename = "ref")]
    pub reference: Option<OciRef>,
    /// Other fields (`layerSelector`, `provider`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for OciRepositorySpec {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "OCIRepository";
}

/// `ref` of an OCIRepository.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OciRef {
    /// A tag.
    pub tag: Option<String>,
    /// A semver range over tags.
    pub semver: Option<String>,
    /// A digest (`sha256:...`).
    pub digest: Option<String>,
}

/// A source a Kustomization or HelmRelease reads (`sourceRef`, `chartRef`).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceRef {
    /// `GitRepository`, `OCIRepository`, `HelmRepository`, `Bucket`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace (when not the referrer's).
    pub namespace: Option<String>,
}

impl SourceRef {
    /// A reference to a source object.
    pub fn new(kind: &str, name: impl Into<String>, namespace: Option<&str>) -> Self {
        Self {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(str::to_owned),
        }
    }
}

/// The spec of a Flux Kustomization.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    /// How often to reconcile (`10m`).
    pub interval: String,
    /// Directory in the source (`./kubernetes/shop-dev`).
    pub path: String,
    /// Delete what was removed from the source.
    pub prune: bool,
    /// Wait for the applied objects to become ready.
    pub wait: Option<bool>,
    /// Timeout of apply and wait (`5m`).
    pub timeout: Option<String>,
    /// Where the manifests come from.
    pub source_ref: SourceRef,
    /// Kustomizations applied (and ready) first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<NameRef>,
    /// Variable substitution after kustomize build.
    pub post_build: Option<PostBuild>,
    /// Put every object in this namespace.
    pub target_namespace: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for KustomizationSpec {
    const API_VERSION: &'static str = "kustomize.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "Kustomization";
}

/// `postBuild`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// Literal variables.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub substitute: BTreeMap<String, String>,
    /// ConfigMaps / Secrets whose keys are variables (values Terraform wrote at apply).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub substitute_from: Vec<SubstituteFrom>,
}

/// One entry of `postBuild.substituteFrom`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SubstituteFrom {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Tolerate its absence.
    pub optional: Option<bool>,
}

/// The spec of a Flux HelmRelease.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseSpec {
    /// How often to reconcile (`30m`).
    pub interval: String,
    /// The chart, from a HelmRepository.
    pub chart: Option<HelmChartTemplate>,
    /// The chart, from an OCIRepository.
    pub chart_ref: Option<SourceRef>,
    /// Release name (defaults to the object's name).
    pub release_name: Option<String>,
    /// Namespace the chart installs into.
    pub target_namespace: Option<String>,
    /// Install settings.
    pub install: Option<Json>,
    /// Upgrade settings.
    pub upgrade: Option<Json>,
    /// Inline values.
    pub values: Option<Json>,
    /// HelmReleases installed first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<NameRef>,
    /// Other fields (`valuesFrom`, `driftDetection`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for HelmReleaseSpec {
    const API_VERSION: &'static str = "helm.toolkit.fluxcd.io/v2";
    const KIND: &'static str = "HelmRelease";
}

/// `chart`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HelmChartTemplate {
    /// `chart.spec`.
    pub spec: HelmChartSpec,
}

/// `chart.spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartSpec {
    /// Chart name.
    pub chart: String,
    /// Exact version.
    pub version: String,
    /// The HelmRepository.
    pub source_ref: SourceRef,
    /// How often to check the chart (`12h`).
    pub interval: String,
}
