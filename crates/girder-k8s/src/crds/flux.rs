//! Flux: sources (`source.toolkit.fluxcd.io/v1`), Kustomizations
//! (`kustomize.toolkit.fluxcd.io/v1`), HelmReleases (`helm.toolkit.fluxcd.io/v2`),
//! notification Providers and Alerts (`notification.toolkit.fluxcd.io/v1beta3`) and image
//! update automation (`image.toolkit.fluxcd.io/v1`).

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
    /// Changes to the chart's rendered manifests before they are applied (what a chart's
    /// values cannot set: a security context the chart does not template).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_renderers: Vec<PostRenderer>,
    /// Other fields (`valuesFrom`, `driftDetection`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of a HelmRelease's `postRenderers`: kustomize over the rendered chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PostRenderer {
    /// `kustomize`.
    pub kustomize: KustomizePostRenderer,
}

/// `postRenderers[].kustomize`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KustomizePostRenderer {
    /// Patches, applied in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<KustomizePatch>,
}

/// One kustomize patch: a strategic-merge patch or a JSON 6902 list of operations (as
/// YAML or JSON text), on the objects `target` selects.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KustomizePatch {
    /// The patch's text.
    pub patch: String,
    /// The objects it applies to.
    pub target: Option<PatchTarget>,
}

/// What a kustomize patch applies to.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchTarget {
    /// API group (empty for the core group).
    pub group: Option<String>,
    /// API version.
    pub version: Option<String>,
    /// Kind (`Deployment`).
    pub kind: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Object namespace.
    pub namespace: Option<String>,
    /// Label selector (`app=web`).
    pub label_selector: Option<String>,
}

impl KustomizePatch {
    /// JSON 6902 operations `operations` on `kind` `name` (of API group `group`, empty for
    /// the core group): written as the JSON list kustomize reads.
    pub fn json6902(group: &str, kind: &str, name: &str, operations: &Json) -> Self {
        Self {
            patch: operations.to_string(),
            target: Some(PatchTarget {
                group: Some(group.to_owned()),
                kind: Some(kind.to_owned()),
                name: Some(name.to_owned()),
                ..PatchTarget::default()
            }),
        }
    }
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

/// `Provider` (`notification.toolkit.fluxcd.io/v1beta3`): where the notification
/// controller sends events.
pub type NotificationProvider = Object<ProviderSpec>;
/// `Alert` (`notification.toolkit.fluxcd.io/v1beta3`): which events go to a Provider.
pub type NotificationAlert = Object<AlertSpec>;
/// `ImageRepository` (`image.toolkit.fluxcd.io/v1`): a registry repository whose tags the
/// image reflector lists.
pub type ImageRepository = Object<ImageRepositorySpec>;
/// `ImagePolicy` (`image.toolkit.fluxcd.io/v1`): which of a repository's tags is the
/// newest.
pub type ImagePolicy = Object<ImagePolicySpec>;
/// `ImageUpdateAutomation` (`image.toolkit.fluxcd.io/v1`): commit the policies' newest
/// tags to the manifests that mark them.
pub type ImageUpdateAutomation = Object<ImageUpdateAutomationSpec>;

/// The spec of a notification Provider.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// `slack`, `pagerduty`, `alertmanager`, `generic`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// The endpoint (a webhook URL or an in-cluster address); a Secret's `address` key
    /// overrides it.
    pub address: Option<String>,
    /// The destination channel (Slack's channel name).
    pub channel: Option<String>,
    /// The name events are posted under.
    pub username: Option<String>,
    /// The Secret with the credentials (`address`, `token`, ...): never a literal.
    pub secret_ref: Option<NameRef>,
    /// Other fields (`timeout`, `certSecretRef`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ProviderSpec {
    const API_VERSION: &'static str = "notification.toolkit.fluxcd.io/v1beta3";
    const KIND: &'static str = "Provider";
}

/// The spec of a notification Alert.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// The Provider (same namespace).
    pub provider_ref: NameRef,
    /// `info` (every event) or `error` (errors only).
    pub event_severity: Option<String>,
    /// The objects whose events are sent.
    pub event_sources: Vec<EventSource>,
    /// Metadata added to every event (labels of an Alertmanager alert).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub event_metadata: BTreeMap<String, String>,
    /// Regular expressions: events whose message matches one are dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusion_list: Vec<String>,
    /// Other fields (`inclusionList`, `suspend`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for AlertSpec {
    const API_VERSION: &'static str = "notification.toolkit.fluxcd.io/v1beta3";
    const KIND: &'static str = "Alert";
}

/// One entry of an Alert's `eventSources`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    /// `Kustomization`, `HelmRelease`, `GitRepository`, ...
    pub kind: String,
    /// The object's name, `*` for every one.
    pub name: String,
    /// Its namespace (the Alert's when absent).
    pub namespace: Option<String>,
}

impl EventSource {
    /// Every object of `kind` in `namespace` (the Alert's when `None`).
    pub fn all(kind: &str, namespace: Option<&str>) -> Self {
        Self {
            kind: kind.into(),
            name: "*".into(),
            namespace: namespace.map(str::to_owned),
        }
    }

    /// Object `name` of `kind` in the Alert's namespace.
    pub fn named(kind: &str, name: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            name: name.into(),
            namespace: None,
        }
    }
}

/// The spec of an ImageRepository.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRepositorySpec {
    /// The image without a tag (`123456789012.dkr.ecr.us-west-2.amazonaws.com/app`).
    pub image: String,
    /// How often to list the tags (`5m`).
    pub interval: String,
    /// `aws`, `azure`, `gcp`: the controller's cloud identity logs in; `generic` (the
    /// default) uses `secretRef`.
    pub provider: Option<String>,
    /// Regular expressions of tags not to list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclusion_list: Vec<String>,
    /// Other fields (`secretRef`, `timeout`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ImageRepositorySpec {
    const API_VERSION: &'static str = "image.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "ImageRepository";
}

/// The spec of an ImagePolicy.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicySpec {
    /// The ImageRepository.
    pub image_repository_ref: NameRef,
    /// Which tags take part, and what of each is ordered.
    pub filter_tags: Option<FilterTags>,
    /// How the tags are ordered.
    pub policy: ImageOrder,
    /// Other fields (`digestReflectionPolicy`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ImagePolicySpec {
    const API_VERSION: &'static str = "image.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "ImagePolicy";
}

/// `filterTags` of an ImagePolicy.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FilterTags {
    /// A regular expression a tag must match.
    pub pattern: String,
    /// What of the match is ordered (`$ts`, a named group).
    pub extract: Option<String>,
}

/// `policy` of an ImagePolicy: exactly one ordering.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ImageOrder {
    /// The highest version in a semver range (`>=1.0.0`).
    Semver {
        /// The range.
        range: String,
    },
    /// The highest (`asc`) or lowest (`desc`) number.
    Numerical {
        /// `asc` or `desc`.
        order: String,
    },
    /// The last (`asc`) or first (`desc`) in alphabetical order.
    Alphabetical {
        /// `asc` or `desc`.
        order: String,
    },
}

impl Default for ImageOrder {
    fn default() -> Self {
        Self::Semver {
            range: ">=0.0.0".into(),
        }
    }
}

/// The spec of an ImageUpdateAutomation.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpdateAutomationSpec {
    /// How often to run (`30m`).
    pub interval: String,
    /// The GitRepository to check out and push to.
    pub source_ref: SourceRef,
    /// Checkout, commit and push settings.
    pub git: Option<GitUpdate>,
    /// Which files are updated.
    pub update: Option<UpdateStrategy>,
    /// Which ImagePolicies count (all in the namespace when absent).
    pub policy_selector: Option<Json>,
    /// Other fields (`suspend`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ImageUpdateAutomationSpec {
    const API_VERSION: &'static str = "image.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "ImageUpdateAutomation";
}

/// `git` of an ImageUpdateAutomation.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GitUpdate {
    /// What to check out (the source's ref when absent).
    pub checkout: Option<GitCheckout>,
    /// The commit's author and message.
    pub commit: GitCommit,
    /// Where to push (the checked-out branch when absent).
    pub push: Option<GitPush>,
}

/// `git.checkout`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GitCheckout {
    /// The ref.
    #[serde(rename = "ref")]
    pub reference: GitRef,
}

/// `git.commit`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GitCommit {
    /// The author.
    pub author: GitAuthor,
    /// A Go template of the message.
    pub message_template: Option<String>,
}

/// `git.commit.author`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GitAuthor {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// `git.push`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GitPush {
    /// The branch pushed to (another than the checkout's: a branch for a pull request).
    pub branch: Option<String>,
}

/// `update`: the setters strategy over a directory.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpdateStrategy {
    /// `Setters`.
    pub strategy: String,
    /// The directory whose `$imagepolicy` markers are updated.
    pub path: String,
}

impl UpdateStrategy {
    /// The markers under `path`.
    pub fn setters(path: impl Into<String>) -> Self {
        Self {
            strategy: "Setters".into(),
            path: path.into(),
        }
    }
}
