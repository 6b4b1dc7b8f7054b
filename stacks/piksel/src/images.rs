//! Kubernetes app `images` of `piksel-eks-<env>`: Flux image update automation for the
//! services' images (issue 13; seed 4.4.1 "Image updates automation"), in
//! `flux-system`, and the image reflector's AWS role in Terraform.
//!
//! - An ImageRepository per ECR repository ([`REPOSITORIES`]: `piksel-core`,
//!   `piksel-jupyter`), listed every 5 minutes with provider `aws`: the
//!   image-reflector-controller logs in to ECR with its own EKS Pod Identity role
//!   (`piksel-<env>-flux-image-reflector`), which may read those two repositories' tags
//!   and images and get a registry login, nothing else.
//! - An ImagePolicy per repository, by environment, as seed 001's pipelines deploy:
//!   dev follows main's builds (CI's `sha-<commit>-<unix time>` tags, the newest by
//!   time: a commit hash has no order, so the build's time rides in the tag after the
//!   `sha-` prefix the registry's lifecycle rule reads); staging follows releases and
//!   their candidates (`v1.2.0-rc.1`, semver `>=0.1.0-0`); prod follows releases only
//!   (`>=0.1.0`).
//! - One ImageUpdateAutomation committing the policies' newest tags to the manifests
//!   under `./out/kubernetes/piksel-eks-<env>` that carry a `# {"$imagepolicy": ...}`
//!   marker, through Flux's GitRepository `flux-system`
//!   (its GitHub App needs contents: write). dev and staging push to `main`; prod pushes
//!   to branch `flux/image-updates-prod`, a pull request a person approves (seed 001:
//!   manual approval gates before production).
//!
//! No manifest carries a marker yet (the services are the next issue's), so the
//! automation commits nothing. Before one does, the services' tags must live where
//! girder reads them at synth (a file Flux commits to and girder does not generate),
//! or each synth would revert Flux's commit (review 3's M3): the next issue decides it.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_eks::{EksClusterHandle, PodIdentityRoleHandle};
use girder_iam::Statement;
use girder_k8s::crds::NameRef;
use girder_k8s::crds::flux::GitPush;
use girder_k8s::crds::flux::{
    FilterTags, GitAuthor, GitCheckout, GitCommit, GitRef, GitUpdate, ImageOrder, ImagePolicy,
    ImagePolicySpec, ImageRepository, ImageRepositorySpec, ImageUpdateAutomation,
    ImageUpdateAutomationSpec, SourceRef, UpdateStrategy,
};

use crate::config::{Environment, REGION};
use crate::flux::FLUX_NAMESPACE;
use crate::infra::{BUILD_TAG_PREFIX, REPOSITORIES};

/// The Kubernetes app.
pub(crate) const APP: &str = "images";
/// The image reflector's ServiceAccount (the flux2 chart's).
pub const REFLECTOR_SERVICE_ACCOUNT: &str = "image-reflector-controller";
/// Flux's GitRepository of piksel-kubernetes.
const GIT_REPOSITORY: &str = girder_k8s::FLUX_SOURCE;
/// What the reflector calls: the tags and manifests of the two repositories.
pub const REFLECTOR_ACTIONS: [&str; 3] =
    ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:ListImages"];

/// Add the reflector's role (Terraform) and app `images` under `scope`.
pub(crate) fn add(
    scope: &mut Scope<'_>,
    env: &Environment,
    cluster: &EksClusterHandle,
) -> Result<PodIdentityRoleHandle> {
    let mut root = scope.child("image-automation")?;
    let location = env.location()?;
    let repositories: Vec<_> = REPOSITORIES
        .iter()
        .map(|name| location.arn("ecr", format!("repository/{name}")))
        .collect();
    let role = cluster.pod_identity_role(
        &mut root,
        "reflector-identity",
        format!("piksel-{}-flux-image-reflector", env.name),
        FLUX_NAMESPACE,
        REFLECTOR_SERVICE_ACCOUNT,
        [
            Statement::allow(REFLECTOR_ACTIONS)
                .sid("ReadServiceImages")
                .on(repositories),
            Statement::allow(["ecr:GetAuthorizationToken"])
                .sid("RegistryLogin")
                .on(["*"])
                .wildcard_because(
                    "ecr:GetAuthorizationToken has no resource-level permissions; what a login may read is the statement above",
                ),
        ],
    )?;

    let app = &mut root.child(APP)?.with_kube_app(APP)?;
    let registry = format!("{}.dkr.ecr.{REGION}.amazonaws.com", env.account_id);
    for name in REPOSITORIES {
        let _ = ImageRepository::new(
            FLUX_NAMESPACE,
            name,
            ImageRepositorySpec {
                image: format!("{registry}/{name}"),
                interval: "5m".into(),
                provider: Some("aws".into()),
                ..ImageRepositorySpec::default()
            },
        )
        .add(app, &format!("{name}-repository"))?;
        let (filter, policy) = policy(env);
        let _ = ImagePolicy::new(
            FLUX_NAMESPACE,
            name,
            ImagePolicySpec {
                image_repository_ref: NameRef::new(name),
                filter_tags: Some(filter),
                policy,
                ..ImagePolicySpec::default()
            },
        )
        .add(app, &format!("{name}-policy"))?;
    }
    let push = env
        .production
        .then(|| format!("flux/image-updates-{}", env.name));
    let _ = ImageUpdateAutomation::new(
        FLUX_NAMESPACE,
        "piksel-images",
        ImageUpdateAutomationSpec {
            interval: "30m".into(),
            source_ref: SourceRef::new("GitRepository", GIT_REPOSITORY, None),
            git: Some(GitUpdate {
                checkout: Some(GitCheckout {
                    reference: GitRef {
                        branch: Some("main".into()),
                        ..GitRef::default()
                    },
                }),
                commit: GitCommit {
                    author: GitAuthor {
                        name: "fluxcdbot".into(),
                        email: "fluxcdbot@users.noreply.github.com".into(),
                    },
                    message_template: Some(format!(
                        "{}: update images\n\n{{{{ range .Changed.Changes }}}}{{{{ .OldValue }}}} -> {{{{ .NewValue }}}}\n{{{{ end }}}}",
                        env.name
                    )),
                },
                push: push.map(|branch| GitPush {
                    branch: Some(branch),
                }),
            }),
            update: Some(UpdateStrategy::setters(format!(
                "./{}/kubernetes/{}-{}",
                crate::gitops::OUTPUT,
                crate::eks::NAME,
                env.name
            ))),
            ..ImageUpdateAutomationSpec::default()
        },
    )
    .add(app, "automation")?;
    Ok(role)
}

/// Which tags an environment follows, and how they are ordered.
fn policy(env: &Environment) -> (FilterTags, ImageOrder) {
    match env.name {
        "dev" => (
            FilterTags {
                pattern: format!(
                    "^{BUILD_TAG_PREFIX}(?P<sha>[0-9a-f]{{7,40}})-(?P<ts>[0-9]{{10}})$"
                ),
                extract: Some("$ts".into()),
            },
            ImageOrder::Numerical {
                order: "asc".into(),
            },
        ),
        _ => (
            FilterTags {
                pattern: r"^v(?P<version>[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)$".into(),
                extract: Some("$version".into()),
            },
            ImageOrder::Semver {
                range: if env.production {
                    ">=0.1.0"
                } else {
                    ">=0.1.0-0"
                }
                .into(),
            },
        ),
    }
}
