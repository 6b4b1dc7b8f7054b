//! Helm releases: typed values for a pinned chart, always written as a values file
//! (`helm/<stack>/<release>.values.yaml`), and optionally delivered by Flux (a
//! HelmRepository and a HelmRelease with the values inline), by Argo CD (an Application
//! with `helm.valuesObject`) or by K3s's Helm controller (a HelmChart with the values as
//! `valuesContent`).

use girder_core::construct::Construct;
use girder_core::helm::{ChartRef, HelmRelease as ValuesFile};
use girder_core::{Result, Scope};
use serde::Serialize;
use serde_json::Value as Json;

use crate::crds::argocd::{
    Application, ApplicationSource, ApplicationSpec, Destination, HelmSource, SyncPolicy,
};
use crate::crds::flux::{
    HelmChartSpec, HelmChartTemplate, HelmReleaseSpec, HelmRepository, HelmRepositorySpec,
    PostRenderer, SourceRef,
};
use crate::crds::k3s;
use crate::crds::{Extra, NameRef};
use crate::error::K8sError;
use crate::validate;

/// Typed values of one chart at one version: the chart they were written for comes with
/// them, so values and chart version cannot drift apart.
pub trait ChartValues: Serialize {
    /// The chart and the exact version the fields match.
    fn chart() -> ChartRef;

    /// The chart's rules on these values beyond their types (a request within its limit,
    /// a positive culling period): [`Release::typed`] reports a refusal when the release
    /// is added, with its construct path.
    fn check(&self) -> std::result::Result<(), K8sError> {
        Ok(())
    }
}

/// How the release reaches the cluster besides its values file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Delivery {
    /// Only the values file (`helm upgrade --install -f`, or a pipeline).
    #[default]
    ValuesFile,
    /// A Flux HelmRepository and HelmRelease in the release's namespace.
    Flux,
    /// An Argo CD Application in `argo_namespace`, in AppProject `project`.
    ArgoCd {
        /// Where Argo CD runs (`argocd`).
        argo_namespace: String,
        /// The AppProject.
        project: String,
    },
    /// A K3s `HelmChart` in `kube-system`, applied from K3s's auto-deploy directory: no
    /// GitOps controller needed.
    K3s,
}

/// One release of a chart.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    name: String,
    namespace: String,
    chart: ChartRef,
    /// The values, or why they did not serialize (reported when added, with the path).
    values: std::result::Result<Json, String>,
    /// What the values' own rules refused (reported when added, with the path).
    refused: Option<K8sError>,
    create_namespace: bool,
    depends_on: Vec<String>,
    delivery: Delivery,
    post_renderers: Vec<PostRenderer>,
}

/// A Helm release in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseHandle {
    name: String,
    namespace: String,
}

impl ReleaseHandle {
    /// The release name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace it installs into.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
}

impl Release {
    /// Release `name` of `chart` into `namespace` with `values` (any serializable value;
    /// prefer [`Release::typed`]).
    pub fn new<V: Serialize + ?Sized>(
        name: &str,
        namespace: &str,
        chart: ChartRef,
        values: &V,
    ) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
            chart,
            values: serde_json::to_value(values).map_err(|e| e.to_string()),
            refused: None,
            create_namespace: false,
            depends_on: Vec::new(),
            delivery: Delivery::ValuesFile,
            post_renderers: Vec::new(),
        }
    }

    /// Release `name` of the chart `values` are typed for.
    pub fn typed<V: ChartValues>(name: &str, namespace: &str, values: &V) -> Self {
        let mut release = Self::new(name, namespace, V::chart(), values);
        release.refused = values.check().err();
        release
    }

    /// Let the delivery create the namespace (Flux `install.createNamespace`, Argo CD
    /// `CreateNamespace=true`, K3s `createNamespace`).
    pub fn create_namespace(mut self) -> Self {
        self.create_namespace = true;
        self
    }

    /// Flux: install after `release` (a HelmRelease of the same namespace).
    pub fn depends_on(mut self, release: &ReleaseHandle) -> Self {
        self.depends_on.push(release.name.clone());
        self
    }

    /// How the release reaches the cluster besides its values file (default: only the
    /// values file).
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Flux: change the chart's rendered manifests with `renderer` before they are
    /// applied (a HelmRelease's `postRenderers`), for what the chart's values cannot set.
    /// Only [`Delivery::Flux`] has post-renderers: another delivery would install the
    /// chart without them, so it is refused ([`K8sError::PostRendererNeedsFlux`]).
    pub fn post_renderer(mut self, renderer: PostRenderer) -> Self {
        self.post_renderers.push(renderer);
        self
    }
}

impl Construct for Release {
    type Handle = ReleaseHandle;

    /// Write the values file and, per its [`Delivery`], the objects that install it (into
    /// the scope's Kubernetes app), as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<ReleaseHandle> {
        let scope = &mut scope.construct_child(id)?;
        let handle = ReleaseHandle {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        };
        self.write(scope)?;
        Ok(handle)
    }
}

impl Release {
    fn write(self, scope: &mut Scope<'_>) -> Result<()> {
        let at = scope.location();
        validate::dns_label(&at, "release name", &self.name)?;
        validate::dns_label(&at, "release namespace", &self.namespace)?;
        if let Some(refused) = self.refused {
            return Err(refused.at(&at));
        }
        let values = self.values.map_err(|e| {
            K8sError::ValuesDoNotSerialize {
                release: self.name.clone(),
                message: e,
            }
            .at(&at)
        })?;
        if !self.post_renderers.is_empty() && self.delivery != Delivery::Flux {
            return Err(K8sError::PostRendererNeedsFlux {
                release: self.name.clone(),
            }
            .at(&at));
        }
        scope.add_helm_release(
            ValuesFile::new(&self.name, self.chart.clone())
                .namespace(&self.namespace)
                .values(&values),
        )?;
        match self.delivery {
            Delivery::ValuesFile => Ok(()),
            Delivery::Flux => {
                let repository_name = repository_name(&self.chart);
                let repository = HelmRepository::new(
                    &self.namespace,
                    &repository_name,
                    HelmRepositorySpec::new(&self.chart.repository),
                );
                let mut install = serde_json::json!({"remediation": {"retries": 3}});
                if self.create_namespace {
                    install["createNamespace"] = Json::Bool(true);
                }
                let release = crate::crds::flux::HelmRelease::new(
                    &self.namespace,
                    &self.name,
                    HelmReleaseSpec {
                        interval: "30m".into(),
                        chart: Some(HelmChartTemplate {
                            spec: HelmChartSpec {
                                chart: self.chart.name.clone(),
                                version: self.chart.version.clone(),
                                source_ref: SourceRef::new(
                                    "HelmRepository",
                                    &repository_name,
                                    None,
                                ),
                                interval: "12h".into(),
                            },
                        }),
                        install: Some(install),
                        upgrade: Some(
                            serde_json::json!({"remediation": {"retries": 3, "remediateLastFailure": true}}),
                        ),
                        values: Some(values),
                        depends_on: self.depends_on.iter().map(NameRef::new).collect(),
                        post_renderers: self.post_renderers.clone(),
                        ..HelmReleaseSpec::default()
                    },
                );
                // Several releases may share a repository: add it once.
                let already = scope.stack().kube_object_exists(
                    "source.toolkit.fluxcd.io",
                    "HelmRepository",
                    Some(&self.namespace),
                    &repository_name,
                );
                if !already {
                    crate::meta::add_custom(scope, &repository)?;
                }
                crate::meta::add_custom(scope, &release)
            }
            Delivery::ArgoCd {
                argo_namespace,
                project,
            } => {
                scope.stack().external_kube_object(
                    "Namespace",
                    None,
                    &argo_namespace,
                    "Argo CD's namespace, made by installing Argo CD",
                )?;
                let oci = self.chart.repository.strip_prefix("oci://");
                let application = Application::new(
                    &argo_namespace,
                    &self.name,
                    ApplicationSpec {
                        project,
                        source: ApplicationSource {
                            // Argo CD takes OCI Helm repositories without the scheme.
                            repo_url: oci.unwrap_or(&self.chart.repository).to_owned(),
                            chart: Some(self.chart.name.clone()),
                            target_revision: Some(self.chart.version.clone()),
                            helm: Some(HelmSource {
                                release_name: Some(self.name.clone()),
                                values_object: Some(values),
                            }),
                            ..ApplicationSource::default()
                        },
                        destination: Destination::in_cluster(&self.namespace),
                        sync_policy: Some(SyncPolicy {
                            sync_options: if self.create_namespace {
                                vec!["CreateNamespace=true".into()]
                            } else {
                                Vec::new()
                            },
                            ..SyncPolicy::automated()
                        }),
                        extra: Extra::new(),
                    },
                );
                crate::meta::add_custom(scope, &application)
            }
            Delivery::K3s => {
                let values_content = girder_core::yaml::to_yaml(&at, &values)?;
                let (chart, repo) = if self.chart.repository.starts_with("oci://") {
                    (
                        format!(
                            "{}/{}",
                            self.chart.repository.trim_end_matches('/'),
                            self.chart.name
                        ),
                        None,
                    )
                } else {
                    (self.chart.name.clone(), Some(self.chart.repository.clone()))
                };
                let chart = k3s::HelmChart::new(
                    k3s::CONTROLLER_NAMESPACE,
                    &self.name,
                    k3s::HelmChartSpec {
                        chart,
                        repo,
                        version: self.chart.version.clone(),
                        target_namespace: self.namespace.clone(),
                        create_namespace: self.create_namespace.then_some(true),
                        values_content: Some(values_content),
                        extra: Extra::new(),
                    },
                );
                crate::meta::add_custom(scope, &chart)
            }
        }
    }
}

/// A HelmRepository name from the repository URL's last path segment or host
/// (`oci://registry-1.docker.io/bitnamicharts` -> `bitnamicharts`).
fn repository_name(chart: &ChartRef) -> String {
    let trimmed = chart
        .repository
        .trim_end_matches('/')
        .split("://")
        .nth(1)
        .unwrap_or(&chart.repository);
    let segment = trimmed.rsplit('/').next().unwrap_or(trimmed);
    let mut name: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        name = chart.name.clone();
    }
    name.truncate(63);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_labels() {
        let chart = |repo: &str| ChartRef::new(repo, "redis", "1.0.0");
        assert_eq!(
            repository_name(&chart("oci://registry-1.docker.io/bitnamicharts")),
            "bitnamicharts"
        );
        assert_eq!(
            repository_name(&chart("https://charts.jetstack.io")),
            "charts-jetstack-io"
        );
        assert_eq!(
            repository_name(&chart("https://aws.github.io/eks-charts/")),
            "eks-charts"
        );
    }
}
