//! GitOps layouts that deliver a stack's synthesized manifests from Git.
//!
//! - Flux ([`GitOps::flux`]): the repository layout of Flux's documentation.
//!   `gitops/<stack>/clusters/<env>/` holds the sync of the repository (the
//!   `flux-system` GitRepository and Kustomization that `flux bootstrap` writes) and one
//!   Kustomization per Kubernetes app, pointing at `kubernetes/<stack>/<app>`.
//!   Infrastructure apps come first: every other app `dependsOn` them. Kustomizations
//!   prune, wait, and can substitute `${VARS}` from a ConfigMap after build (values
//!   Terraform publishes at apply time). When something else installs the sync objects
//!   (Terraform's `flux2-sync` Helm release), [`FluxSync::InstalledElsewhere`] leaves
//!   `flux-system/` out, so Flux and that installer do not both own them.
//! - Argo CD ([`GitOps::argo_cd`]): app of apps. `gitops/<stack>/argocd/root/` holds the
//!   root Application (apply it once: `kubectl apply -k`), which syncs
//!   `gitops/<stack>/argocd/apps/`: an AppProject and one Application per Kubernetes app.
//!   Infrastructure apps sync in an earlier wave.
//!
//! Call it after every Kubernetes object of the stack is added: it lists the stack's apps.

use std::collections::BTreeMap;

use girder_core::{Result, Stack};
use serde_json::json;

use crate::crds::argocd::{
    AppProject, AppProjectSpec, Application, ApplicationSource, ApplicationSpec, Destination,
    SyncPolicy,
};
use crate::crds::flux::{
    GitRepository, GitRepositorySpec, Kustomization, KustomizationSpec, PostBuild, SourceRef,
    SubstituteFrom,
};
use crate::crds::{Extra, NameRef};
use crate::error::K8sError;

/// Where Flux runs.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// The name of Flux's own GitRepository (and root Kustomization), as `flux bootstrap`
/// names them: every app Kustomization of the layout takes it as its source, so an
/// installer of the sync objects elsewhere ([`FluxSync::InstalledElsewhere`]) must name
/// them so (the `flux2-sync` chart names them after its release).
pub const FLUX_SOURCE: &str = "flux-system";
/// Where Argo CD runs.
pub const ARGOCD_NAMESPACE: &str = "argocd";

/// Who writes Flux's own sync objects (the `flux-system` GitRepository and the
/// Kustomization that applies `clusters/<env>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FluxSync {
    /// The layout writes them in `clusters/<env>/flux-system/`, as `flux bootstrap`
    /// does: the directory keeps applying its own sync.
    #[default]
    Written,
    /// They are installed elsewhere (for example by Terraform, with fluxcd-community's
    /// `flux2-sync` chart): the layout writes no `flux-system/` directory, so two owners
    /// never fight over the same objects. That installer must point its Kustomization at
    /// `<output>/gitops/<stack>/clusters/<env>`.
    InstalledElsewhere,
}

/// The Git repository the synthesized output is committed to, and how to deliver it.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitOps {
    repository: String,
    branch: String,
    output: String,
    infrastructure: Vec<String>,
    substitute_from: Option<String>,
    sync: FluxSync,
    after: BTreeMap<String, Vec<String>>,
}

impl GitOps {
    /// Deliver from `repository` (`https://github.com/acme/platform`) at `branch`, where
    /// the synthesized `out/` directory is committed at the repository root.
    pub fn new(repository: impl Into<String>, branch: impl Into<String>) -> Self {
        Self {
            repository: repository.into(),
            branch: branch.into(),
            output: "out".into(),
            infrastructure: Vec::new(),
            substitute_from: None,
            sync: FluxSync::Written,
            after: BTreeMap::new(),
        }
    }

    /// Where the synthesized output sits in the repository (`out`, `deploy/out`).
    pub fn output_path(mut self, path: impl Into<String>) -> Self {
        self.output = path
            .into()
            .trim_matches('/')
            .trim_start_matches("./")
            .to_owned();
        self
    }

    /// These Kubernetes apps are infrastructure: delivered first, the others depend on them.
    pub fn infrastructure<S: Into<String>>(mut self, apps: impl IntoIterator<Item = S>) -> Self {
        self.infrastructure.extend(apps.into_iter().map(Into::into));
        self
    }

    /// Flux: substitute `${VAR}` in every app's manifests from the keys of ConfigMap
    /// `name` in `flux-system` (values known only after `terraform apply`).
    pub fn substitute_from_config_map(mut self, name: impl Into<String>) -> Self {
        self.substitute_from = Some(name.into());
        self
    }

    /// Flux: deliver app `app` only once the apps `after` are ready (their
    /// Kustomizations in its `dependsOn`, besides the infrastructure apps a non-infrastructure
    /// app waits for): for objects of CRDs that another app's charts install. Unknown apps
    /// ([`K8sError::UnknownOrderedApp`]) and apps that end up waiting on each other
    /// ([`K8sError::DeliveryCycle`]) are refused. Argo CD's layout orders by wave only
    /// and does not use it.
    pub fn app_after<S: Into<String>>(
        mut self,
        app: impl Into<String>,
        after: impl IntoIterator<Item = S>,
    ) -> Self {
        let entry = self.after.entry(app.into()).or_default();
        for before in after {
            let before = before.into();
            if !entry.contains(&before) {
                entry.push(before);
            }
        }
        self
    }

    /// Flux: who writes the sync objects (default [`FluxSync::Written`]).
    pub fn flux_sync(mut self, sync: FluxSync) -> Self {
        self.sync = sync;
        self
    }

    /// Where the Flux layout of `stack` sits in the repository, as Flux's Kustomization
    /// `path` names it (`./out/gitops/<stack>/clusters/<env>`): what an installer of
    /// [`FluxSync::InstalledElsewhere`] points its sync at.
    pub fn flux_cluster_path(&self, stack: &Stack) -> String {
        let dir = format!("clusters/{}", stack.environment());
        self.repo_path(&["gitops", stack.id(), &dir])
    }

    fn apps(&self, stack: &Stack) -> Result<Vec<(String, bool)>> {
        // Flux and Argo CD both read https:// and ssh:// repositories; plain http:// would
        // fetch what is deployed without integrity.
        let host = self
            .repository
            .strip_prefix("https://")
            .or_else(|| self.repository.strip_prefix("ssh://"))
            .map(|rest| rest.split('/').next().unwrap_or_default());
        if host.is_none_or(str::is_empty) || self.repository.chars().any(char::is_whitespace) {
            return Err(K8sError::GitOpsRepository {
                repository: self.repository.clone(),
            }
            .at(stack.id()));
        }
        let apps: Vec<String> = stack.kube_apps().into_iter().map(|(app, _)| app).collect();
        if apps.is_empty() {
            return Err(K8sError::NoAppsToDeliver.at(stack.id()));
        }
        for infra in &self.infrastructure {
            if !apps.contains(infra) {
                return Err(K8sError::UnknownInfrastructureApp {
                    app: infra.clone(),
                    apps,
                }
                .at(stack.id()));
            }
        }
        for (app, after) in &self.after {
            for named in std::iter::once(app).chain(after) {
                if !apps.contains(named) {
                    return Err(K8sError::UnknownOrderedApp {
                        app: named.clone(),
                        apps,
                    }
                    .at(stack.id()));
                }
            }
        }
        self.check_order(&apps).map_err(|e| e.at(stack.id()))?;
        let mut ordered: Vec<(String, bool)> = apps
            .into_iter()
            .map(|app| {
                let infra = self.infrastructure.contains(&app);
                (app, infra)
            })
            .collect();
        ordered.sort_by_key(|(_, infra)| !*infra);
        Ok(ordered)
    }

    /// What `app` waits for: the apps it is delivered after, and (not being
    /// infrastructure) every infrastructure app.
    fn waits_for(&self, app: &str) -> Vec<String> {
        let mut waits: Vec<String> = if self.infrastructure.iter().any(|i| i == app) {
            Vec::new()
        } else {
            self.infrastructure.clone()
        };
        for before in self.after.get(app).into_iter().flatten() {
            if !waits.contains(before) {
                waits.push(before.clone());
            }
        }
        waits
    }

    /// Refuse apps that wait on each other (a depth-first walk of `waits_for`).
    fn check_order(&self, apps: &[String]) -> std::result::Result<(), K8sError> {
        fn visit(
            gitops: &GitOps,
            app: &str,
            path: &mut Vec<String>,
            done: &mut Vec<String>,
        ) -> std::result::Result<(), K8sError> {
            if let Some(start) = path.iter().position(|a| a == app) {
                let mut cycle = path[start..].to_vec();
                cycle.push(app.to_owned());
                return Err(K8sError::DeliveryCycle { apps: cycle });
            }
            if done.iter().any(|a| a == app) {
                return Ok(());
            }
            path.push(app.to_owned());
            for next in gitops.waits_for(app) {
                visit(gitops, &next, path, done)?;
            }
            path.pop();
            done.push(app.to_owned());
            Ok(())
        }
        let mut done = Vec::new();
        for app in apps {
            visit(self, app, &mut Vec::new(), &mut done)?;
        }
        Ok(())
    }

    fn repo_path(&self, parts: &[&str]) -> String {
        let mut path = format!("./{}", self.output);
        for part in parts {
            path.push('/');
            path.push_str(part);
        }
        path
    }

    /// Write the Flux layout into the stack's `gitops/<stack>/clusters/<env>/`.
    pub fn flux(self, stack: &mut Stack) -> Result<()> {
        let apps = self.apps(stack)?;
        let id = stack.id().to_owned();
        let dir = format!("clusters/{}", stack.environment());
        let source = SourceRef::new("GitRepository", FLUX_SOURCE, None);
        // What `flux bootstrap` writes in gotk-sync.yaml: the repository and the
        // Kustomization that applies this directory.
        if self.sync == FluxSync::InstalledElsewhere {
            // The apps' Kustomizations name it as their source.
            stack.external_kube_object(
                "GitRepository",
                Some(FLUX_NAMESPACE),
                FLUX_NAMESPACE,
                "Flux's own sync, installed outside the GitOps layout (FluxSync::InstalledElsewhere)",
            )?;
        }
        if self.sync == FluxSync::Written {
            let path = self.flux_cluster_path(stack);
            stack.add_gitops_object(
                &format!("{dir}/flux-system"),
                &GitRepository::new(
                    FLUX_NAMESPACE,
                    FLUX_NAMESPACE,
                    GitRepositorySpec {
                        secret_ref: Some(NameRef::new(FLUX_NAMESPACE)),
                        ..GitRepositorySpec::branch(&self.repository, &self.branch)
                    },
                ),
            )?;
            stack.add_gitops_object(
                &format!("{dir}/flux-system"),
                &Kustomization::new(
                    FLUX_NAMESPACE,
                    FLUX_NAMESPACE,
                    KustomizationSpec {
                        interval: "10m".into(),
                        path,
                        prune: true,
                        source_ref: source.clone(),
                        ..KustomizationSpec::default()
                    },
                ),
            )?;
        }
        let infrastructure: Vec<NameRef> = apps
            .iter()
            .filter(|(_, infra)| *infra)
            .map(|(app, _)| NameRef::new(kustomization_name(&id, app)))
            .collect();
        for (app, infra) in &apps {
            let mut depends_on = if *infra {
                Vec::new()
            } else {
                infrastructure.clone()
            };
            for before in self.after.get(app).into_iter().flatten() {
                let before = NameRef::new(kustomization_name(&id, before));
                if !depends_on.contains(&before) {
                    depends_on.push(before);
                }
            }
            let post_build = self.substitute_from.as_ref().map(|name| PostBuild {
                substitute: BTreeMap::new(),
                substitute_from: vec![SubstituteFrom {
                    kind: "ConfigMap".into(),
                    name: name.clone(),
                    optional: None,
                }],
            });
            let spec = KustomizationSpec {
                interval: "10m".into(),
                path: self.repo_path(&["kubernetes", &id, app]),
                prune: true,
                wait: Some(true),
                timeout: Some("5m".into()),
                source_ref: source.clone(),
                depends_on,
                post_build,
                ..KustomizationSpec::default()
            };
            stack.add_gitops_object(
                &dir,
                &Kustomization::new(FLUX_NAMESPACE, &kustomization_name(&id, app), spec),
            )?;
        }
        Ok(())
    }

    /// Write the Argo CD app of apps into the stack's `gitops/<stack>/argocd/`.
    pub fn argo_cd(self, stack: &mut Stack) -> Result<()> {
        let apps = self.apps(stack)?;
        let id = stack.id().to_owned();
        let namespaces: BTreeMap<String, String> = stack
            .kube_apps()
            .into_iter()
            .map(|(app, objects)| (app, main_namespace(&objects)))
            .collect();
        let project = AppProject::new(
            ARGOCD_NAMESPACE,
            &id,
            AppProjectSpec {
                description: Some(format!("Stack {id}, synthesized by girder")),
                source_repos: vec![self.repository.clone()],
                destinations: vec![Destination::in_cluster("*")],
                cluster_resource_whitelist: vec![json!({"group": "*", "kind": "*"})],
                extra: Extra::new(),
            },
        );
        stack.add_gitops_object("argocd/apps", &project)?;
        for (app, infra) in &apps {
            let mut application = Application::new(
                ARGOCD_NAMESPACE,
                &format!("{id}-{app}"),
                ApplicationSpec {
                    project: id.clone(),
                    source: ApplicationSource {
                        repo_url: self.repository.clone(),
                        path: Some(
                            self.repo_path(&["kubernetes", &id, app])
                                .trim_start_matches("./")
                                .to_owned(),
                        ),
                        target_revision: Some(self.branch.clone()),
                        ..ApplicationSource::default()
                    },
                    destination: Destination::in_cluster(
                        namespaces
                            .get(app)
                            .cloned()
                            .unwrap_or_else(|| "default".into()),
                    ),
                    sync_policy: Some(SyncPolicy::automated()),
                    extra: Extra::new(),
                },
            );
            let wave = if *infra { "-1" } else { "0" };
            application
                .metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert("argocd.argoproj.io/sync-wave".into(), wave.into());
            stack.add_gitops_object("argocd/apps", &application)?;
        }
        let root = Application::new(
            ARGOCD_NAMESPACE,
            &id,
            ApplicationSpec {
                project: "default".into(),
                source: ApplicationSource {
                    repo_url: self.repository.clone(),
                    path: Some(
                        self.repo_path(&["gitops", &id, "argocd", "apps"])
                            .trim_start_matches("./")
                            .to_owned(),
                    ),
                    target_revision: Some(self.branch.clone()),
                    ..ApplicationSource::default()
                },
                destination: Destination::in_cluster(ARGOCD_NAMESPACE),
                sync_policy: Some(SyncPolicy::automated()),
                extra: Extra::new(),
            },
        );
        stack.add_gitops_object("argocd/root", &root)
    }
}

/// The Flux Kustomization of one app: `<stack>-<app>`.
fn kustomization_name(stack_id: &str, app: &str) -> String {
    format!("{stack_id}-{app}")
}

/// The namespace most of an app's namespaced objects are in (`default` when none).
fn main_namespace(objects: &[girder_core::KubeObjectId]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for object in objects {
        let ns = if object.kind == "Namespace" {
            Some(object.name.as_str())
        } else {
            object.namespace.as_deref()
        };
        if let Some(ns) = ns {
            *counts.entry(ns).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(ns, count)| (*count, std::cmp::Reverse(*ns)))
        .map(|(ns, _)| ns.to_owned())
        .unwrap_or_else(|| "default".into())
}
