//! How Flux picks up what girder synthesizes for `piksel-eks-<env>` (issue 13: Flux
//! "syncing the repository layout the seed names").
//!
//! The repository piksel-kubernetes IS girder's synthesized output: CI commits `out/` at
//! its root. The seed's layout maps onto it so:
//!
//! - `/clusters/<env>` is `out/gitops/piksel-eks-<env>/clusters/<env>`: one Flux
//!   Kustomization per Kubernetes app of the stack (the infrastructure apps first, the
//!   others `dependsOn` them). Terraform's `flux2-sync` release (`flux.rs`) points its
//!   Kustomization there, and owns the `flux-system` GitRepository and Kustomization:
//!   the layout writes no `flux-system/` of its own ([`FluxSync::InstalledElsewhere`]),
//!   so Helm and Flux never fight over them.
//! - `/workloads` is `out/kubernetes/piksel-eks-<env>/<app>`: each app's manifests.
//! - `helm-charts/values` is `out/helm/piksel-eks-<env>/`: each release's values file
//!   (the HelmReleases carry the same values inline).
//!
//! Values Terraform learns only at apply reach the manifests through Flux's post-build
//! substitution: ConfigMap `piksel-eks-<env>-terraform-outputs` in `flux-system`,
//! written by this stack's Terraform with the kubernetes provider (configured as the
//! helm provider of `flux.rs`: the cluster's endpoint and CA, `aws eks get-token` as
//! the phase's role). It is written after the add-ons' pod identity associations, and every app's
//! Kustomization needs it: no app pod starts before its AWS role is associated.

use girder_aws::kubernetes;
use girder_core::construct::Dependable;
use girder_core::expr::Reference;
use girder_core::expr::fns;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::{Expr, Result, Stack};
use girder_eks::EksClusterHandle;
use girder_k8s::{FluxSync, GitOps};

use crate::config::Environment;
use crate::flux::FLUX_NAMESPACE;

/// Where the synthesized output sits in piksel-kubernetes.
pub(crate) const OUTPUT: &str = "out";
/// The Kubernetes group of the EKS workspace's plan role (its access entry): it may
/// read the ConfigMaps of flux-system (the Helm releases, the outputs ConfigMap) and the
/// Role that says so, nothing else.
pub(crate) const PLAN_GROUP: &str = "piksel-terraform-plan";

/// The branch Flux follows (the `flux2-sync` GitRepository's).
pub(crate) const BRANCH: &str = "main";

/// The layout of the stack's manifests in piksel-kubernetes.
pub(crate) fn layout(env: &Environment) -> GitOps {
    GitOps::new(crate::flux::REPOSITORY, BRANCH)
        .output_path(OUTPUT)
        // The add-ons (the operators' CRDs, the storage classes) and the namespaces first;
        // then each app after what its objects need.
        .infrastructure([crate::addons::APP, crate::platform::APP])
        // ExternalSecrets need the store.
        .app_after(
            crate::monitoring::OBSERVABILITY_APP,
            [crate::addons::SECRET_STORES_APP],
        )
        .app_after(
            crate::notifications::APP,
            [crate::addons::SECRET_STORES_APP],
        )
        // The index's ExternalSecrets need the store.
        .app_after(crate::odc::APP, [crate::addons::SECRET_STORES_APP])
        // The servers read the index with Secret odc-reader, which odc-index writes.
        .app_after(
            crate::jupyter::APP,
            [crate::addons::SECRET_STORES_APP, crate::odc::APP],
        )
        // PrometheusRules need kube-prometheus-stack's CRDs; Flux's Alertmanager provider
        // needs Alertmanager.
        .app_after(
            crate::monitoring::MONITORING_APP,
            [crate::monitoring::OBSERVABILITY_APP],
        )
        .app_after(
            crate::notifications::APP,
            [crate::monitoring::OBSERVABILITY_APP],
        )
        // The ODC services read the index once its init Job has made the schemas and added
        // the products (datacube-ows's configuration names them); their Secrets are
        // ExternalSecrets of the store; their monitors and rules need the Prometheus
        // operator's CRDs.
        .app_after(
            crate::ows::APP,
            [
                crate::odc::APP,
                crate::addons::SECRET_STORES_APP,
                crate::monitoring::OBSERVABILITY_APP,
            ],
        )
        .substitute_from_config_map(outputs_config_map(env))
        .flux_sync(FluxSync::InstalledElsewhere)
}

/// The ConfigMap of Terraform's outputs (`piksel-eks-<env>-terraform-outputs`).
pub(crate) fn outputs_config_map(env: &Environment) -> String {
    format!("{}-{}-terraform-outputs", crate::eks::NAME, env.name)
}

/// The kubernetes provider (signing in as flux.rs's helm provider does), namespace
/// flux-system, and the plan role's read access there (group [`PLAN_GROUP`]: a Role of
/// ConfigMap reads, bound to it), all before Flux's install: a first apply stopped
/// after Flux would otherwise leave every later plan refused (review 4's m4). `after`
/// are the cluster's access entries. Returns what Flux's install waits for.
pub(crate) fn cluster_access(
    stack: &mut Stack,
    cluster: &EksClusterHandle,
    after: &[&dyn Dependable],
) -> Result<Vec<Reference>> {
    stack.require_provider(kubernetes::requirement())?;
    let ca = cluster.resource().certificate_authority().first().data();
    stack.add_provider(
        kubernetes::Provider::new()
            .host(cluster.endpoint())
            // As flux.rs's helm provider: EKS gives the CA base64-encoded; the offline
            // stand-in provider of CI's plan-and-apply does not.
            .cluster_ca_certificate(fns::try_(fns::base64decode(ca.clone()), [ca]))
            .exec(
                kubernetes::provider::Exec::new(crate::flux::EXEC_API_VERSION, "aws")
                    .args(crate::flux::get_token(cluster)),
            )
            .into(),
    )?;
    let waits: Vec<_> = after.iter().flat_map(|d| d.dependencies()).collect();
    let mut root = stack.root();
    let mut scope = root.child("gitops")?;
    let namespace = scope.add(
        "flux-namespace",
        kubernetes::NamespaceV1::new(
            kubernetes::namespace_v1::Metadata::new()
                .name(FLUX_NAMESPACE)
                .labels([("app.kubernetes.io/managed-by", "terraform")]),
        )
        .into_spec()
        .depends_on_all(&waits),
    )?;
    // What the plan role reads when it refreshes this stack's cluster objects.
    let meta = |name: &str| {
        kubernetes::role_v1::Metadata::new()
            .name(name)
            .namespace(namespace.metadata().first().name())
            .labels([("app.kubernetes.io/managed-by", "terraform")])
    };
    let role = scope.add(
        "plan-reader",
        kubernetes::RoleV1::new(
            meta("terraform-plan-reader"),
            [
                kubernetes::role_v1::Rule::new([""], ["configmaps"], ["get", "list", "watch"]),
                kubernetes::role_v1::Rule::new(
                    ["rbac.authorization.k8s.io"],
                    ["roles", "rolebindings"],
                    ["get"],
                )
                .resource_names(["terraform-plan-reader"]),
                kubernetes::role_v1::Rule::new([""], ["namespaces"], ["get"])
                    .resource_names([FLUX_NAMESPACE]),
            ],
        ),
    )?;
    let binding = scope.add(
        "plan-reader-binding",
        kubernetes::RoleBindingV1::new(
            kubernetes::role_binding_v1::Metadata::new()
                .name("terraform-plan-reader")
                .namespace(namespace.metadata().first().name())
                .labels([("app.kubernetes.io/managed-by", "terraform")]),
            kubernetes::role_binding_v1::RoleRef::new(
                "rbac.authorization.k8s.io",
                "Role",
                role.metadata().first().name(),
            ),
            [
                kubernetes::role_binding_v1::Subject::new("Group", PLAN_GROUP)
                    .api_group("rbac.authorization.k8s.io"),
            ],
        ),
    )?;
    Ok(vec![
        namespace.dependency(),
        role.dependency(),
        binding.dependency(),
    ])
}

/// Write the Terraform outputs ConfigMap (`values`, after `after`: the Flux controllers
/// and the add-ons' roles), then the Flux layout of every Kubernetes app of `stack`.
/// Call it after every app is added: it lists them. Returns the ConfigMap, which Flux's
/// sync waits for.
pub(crate) fn add(
    stack: &mut Stack,
    env: &Environment,
    values: &[(&str, Expr<String>)],
    after: &[&dyn Dependable],
) -> Result<Vec<Reference>> {
    let waits: Vec<_> = after.iter().flat_map(|d| d.dependencies()).collect();
    let mut root = stack.root();
    let mut scope = root.child("gitops")?;
    let outputs = scope.add(
        "terraform-outputs",
        kubernetes::ConfigMapV1::new(
            kubernetes::config_map_v1::Metadata::new()
                .name(outputs_config_map(env))
                .namespace(FLUX_NAMESPACE)
                .labels([("app.kubernetes.io/managed-by", "terraform")]),
        )
        .data(
            values
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone()))
                .collect::<Vec<_>>(),
        )
        .into_spec()
        .depends_on_all(&waits),
    )?;
    drop(scope);
    drop(root);
    layout(env).flux(stack)?;
    Ok(vec![outputs.dependency()])
}
