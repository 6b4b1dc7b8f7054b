//! Argo CD (`argoproj.io/v1alpha1`): Applications and AppProjects.

use serde::Serialize;
use serde_json::Value as Json;

use super::{Extra, Object, Spec};

/// `Application`.
pub type Application = Object<ApplicationSpec>;
/// `AppProject`.
pub type AppProject = Object<AppProjectSpec>;

/// The spec of an Application.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// The AppProject (`default`).
    pub project: String,
    /// What to deploy.
    pub source: ApplicationSource,
    /// Where to deploy it.
    pub destination: Destination,
    /// How to sync.
    pub sync_policy: Option<SyncPolicy>,
    /// Other fields (`ignoreDifferences`, `sources`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ApplicationSpec {
    const API_VERSION: &'static str = "argoproj.io/v1alpha1";
    const KIND: &'static str = "Application";
}

/// `source`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSource {
    /// Git repository or Helm repository URL.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Directory in a Git repository.
    pub path: Option<String>,
    /// Branch, tag or commit (Git), or chart version (Helm).
    pub target_revision: Option<String>,
    /// Chart name (Helm repositories).
    pub chart: Option<String>,
    /// Helm settings.
    pub helm: Option<HelmSource>,
    /// Other fields (`directory`, `kustomize`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `source.helm`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmSource {
    /// Release name.
    pub release_name: Option<String>,
    /// Values as an object.
    pub values_object: Option<Json>,
}

/// `destination`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Destination {
    /// API server URL (`https://kubernetes.default.svc`).
    pub server: Option<String>,
    /// Target namespace.
    pub namespace: Option<String>,
}

impl Destination {
    /// The cluster Argo CD runs in, namespace `namespace`.
    pub fn in_cluster(namespace: impl Into<String>) -> Self {
        Self {
            server: Some("https://kubernetes.default.svc".into()),
            namespace: Some(namespace.into()),
        }
    }
}

/// `syncPolicy`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Sync automatically.
    pub automated: Option<Automated>,
    /// `CreateNamespace=true`, `ServerSideApply=true`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sync_options: Vec<String>,
}

/// `syncPolicy.automated`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    /// Delete what left the source.
    pub prune: bool,
    /// Undo drift.
    pub self_heal: bool,
}

impl SyncPolicy {
    /// Automated sync with prune and self-heal.
    pub fn automated() -> Self {
        Self {
            automated: Some(Automated {
                prune: true,
                self_heal: true,
            }),
            sync_options: Vec::new(),
        }
    }
}

/// The spec of an AppProject.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    /// What it is for.
    pub description: Option<String>,
    /// Repositories its Applications may use.
    pub source_repos: Vec<String>,
    /// Clusters and namespaces they may deploy to.
    pub destinations: Vec<Destination>,
    /// Cluster-scoped kinds they may manage (`{"group": "", "kind": "Namespace"}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster_resource_whitelist: Vec<Json>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for AppProjectSpec {
    const API_VERSION: &'static str = "argoproj.io/v1alpha1";
    const KIND: &'static str = "AppProject";
}
