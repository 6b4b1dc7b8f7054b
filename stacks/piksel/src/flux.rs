//! Flux on each cluster, installed by Terraform at bootstrap (issue 13: "Flux installed
//! on each cluster by Terraform at bootstrap and then syncing the repository layout the
//! seed names"): the Flux controllers (fluxcd-community's `flux2` chart) and the sync of
//! `clusters/<env>` of piksel-kubernetes (its `flux2-sync` chart: one GitRepository and
//! one Kustomization in `flux-system`). Everything else on the cluster is Flux's from
//! there: the add-ons and the services are directories of that repository.

use girder_aws::helm;
use girder_core::construct::Dependable;
use girder_core::expr::Reference;
use girder_core::expr::fns;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::{Result, Stack, Value};
use girder_eks::EksClusterHandle;
use serde_json::json;

use crate::config::{Environment, REGION};

/// fluxcd-community's chart repository.
const CHARTS: &str = "https://fluxcd-community.github.io/helm-charts";
/// The Flux controllers: chart 2.18.3, Flux 2.8.5 (fluxcd-community/helm-charts, April
/// 2026).
const FLUX_CHART_VERSION: &str = "2.18.3";
/// The sync objects' chart of the same release.
const SYNC_CHART_VERSION: &str = "1.14.5";
/// Where Flux runs.
pub(crate) const FLUX_NAMESPACE: &str = "flux-system";
/// The repository Flux syncs (seed 001: piksel-kubernetes, `/clusters` with Kustomize
/// per environment).
pub(crate) const REPOSITORY: &str = "https://github.com/piksel/piksel-kubernetes";
/// The Secret (in `flux-system`) with the GitHub App's credentials that read it, made
/// once by an operator (`flux create secret githubapp`): a credential no plan holds.
const REPOSITORY_SECRET: &str = "piksel-kubernetes-github-app";

/// The exec plugin's protocol version (`aws eks get-token`'s).
pub(crate) const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// The exec plugin's arguments: `aws eks get-token` for `cluster`, in the platform's
/// region, run by the provider in each phase with that phase's credentials. The helm
/// provider here and the kubernetes provider of `gitops.rs` sign in the same way.
pub(crate) fn get_token(cluster: &EksClusterHandle) -> Vec<Value<String>> {
    vec![
        "eks".into(),
        "get-token".into(),
        "--cluster-name".into(),
        Value::Expr(cluster.name_expr()),
        "--region".into(),
        REGION.into(),
        "--output".into(),
        "json".into(),
    ]
}

/// Configure the stack's helm provider for `cluster` and install Flux after `ready` (the
/// nodes, the add-ons its pods need, and the access entries of this workspace's roles).
///
/// The provider signs in with `aws eks get-token` (the exec plugin of the agent image),
/// run by the provider itself in each phase as that phase's role: the plan role at plan
/// (ConfigMaps of flux-system, where the releases are kept), the apply role at apply
/// (cluster admin). A token from
/// the `aws_eks_cluster_auth` data source would be the plan's, read once at plan and
/// stale (15 minutes) by the time a person approves the apply (review 2's N3).
/// Returns the controllers' release (which makes `flux-system`).
pub(crate) fn add(
    stack: &mut Stack,
    cluster: &EksClusterHandle,
    ready: &[&dyn Dependable],
) -> Result<Vec<Reference>> {
    stack.require_provider(helm::requirement())?;
    let ca = cluster.resource().certificate_authority().first().data();
    stack.add_provider(
        helm::Provider::new()
            // Releases are kept as ConfigMaps, not Secrets: the plan role, which refreshes
            // them, then needs no Secret of flux-system (where the GitHub App key is).
            .helm_driver("configmap")
            .kubernetes(
                helm::provider::Kubernetes::new()
                    .host(cluster.endpoint())
                    // EKS gives the CA base64-encoded. `try` keeps a value that is not
                    // base64 as it is, which a real cluster never gives but the offline
                    // stand-in provider of CI's plan-and-apply does ("fake-data").
                    .cluster_ca_certificate(fns::try_(fns::base64decode(ca.clone()), [ca]))
                    .exec(
                        helm::provider::KubernetesExec::new(EXEC_API_VERSION, "aws")
                            .args(get_token(cluster)),
                    ),
            )
            .into(),
    )?;
    let mut root = stack.root();
    let mut scope = root.child("flux")?;
    let waits: Vec<_> = ready.iter().flat_map(|d| d.dependencies()).collect();
    let controllers = scope.add(
        "controllers",
        helm::Release::new("flux2", "flux2")
            .repository(CHARTS)
            .version(FLUX_CHART_VERSION)
            // The namespace is Terraform's (gitops.rs), made with the plan role's reads.
            .namespace(FLUX_NAMESPACE)
            .atomic(true)
            .values([json!({
                // Image update automation for the services' images (issue 13).
                "imageAutomationController": {"create": true},
                "imageReflectionController": {"create": true},
                "policies": {"create": true},
            })
            .to_string()])
            .into_spec()
            .depends_on_all(&waits),
    )?;
    Ok(vec![controllers.dependency()])
}

/// Install the sync of girder's Flux layout of this stack (`flux2-sync`: the
/// GitRepository of piksel-kubernetes and the Kustomization of the cluster's directory)
/// after `after` (the controllers, and the ConfigMap every app's Kustomization
/// substitutes from: a first sync before it would fail and wait out its interval).
pub(crate) fn sync(stack: &mut Stack, env: &Environment, after: &[&dyn Dependable]) -> Result<()> {
    // girder's Flux layout of this stack (gitops.rs).
    let sync_path = crate::gitops::layout(env).flux_cluster_path(stack);
    let waits: Vec<_> = after.iter().flat_map(|d| d.dependencies()).collect();
    let mut root = stack.root();
    let mut scope = root.child("flux")?;
    let _sync = scope.add(
        "sync",
        // The chart names its GitRepository and Kustomization after the release: the
        // layout's Kustomizations (and the image automation) name `flux-system`.
        helm::Release::new("flux2-sync", girder_k8s::FLUX_SOURCE)
            .repository(CHARTS)
            .version(SYNC_CHART_VERSION)
            .namespace(FLUX_NAMESPACE)
            .values([json!({
                "gitRepository": {"spec": {
                    "url": REPOSITORY,
                    "provider": "github",
                    "secretRef": {"name": REPOSITORY_SECRET},
                    "ref": {"branch": "main"},
                    "interval": "1m",
                }},
                "kustomization": {"spec": {
                    "path": sync_path,
                    "prune": true,
                    "interval": "10m",
                    "timeout": "5m",
                }},
            })
            .to_string()])
            .into_spec()
            .depends_on_all(&waits),
    )?;
    Ok(())
}
