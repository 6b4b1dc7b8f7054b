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
//! - One ImageUpdateAutomation committing each policy's newest image, by tag and digest
//!   (`digestReflectionPolicy: IfNotPresent`: ECR's tags are immutable, so a tag's digest
//!   never changes), to the environment's pins file `stacks/piksel/images/<env>/images.yaml`,
//!   whose lines carry the `# {"$imagepolicy": ...}` markers, through Flux's GitRepository
//!   `flux-system` (piksel-kubernetes, which holds girder's workspace and its `out/`; its
//!   GitHub App needs contents: write). dev and staging push to `main`; prod pushes to branch
//!   `flux/image-updates-prod`, a pull request a person approves (seed 001: manual approval
//!   gates before production).
//!
//! girder reads the pins file at synth ([`pinned`]) and never writes it, so a synth never
//! reverts Flux's commit (review 3's M3): after Flux commits a new pin, CI's synth renders
//! it into the manifests. Every workload of the platform's images names them by digest
//! (the container definition contract of issue 14: the images come from the
//! environment's ECR, by digest, checked by [`girder_storage::EcrImage`]).

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

use girder_core::Error;
use girder_storage::EcrImage;

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

/// Where the pins files live in the repository, one directory per environment (what
/// the automation's `update.path` names).
pub(crate) const PINS_DIRECTORY: &str = "stacks/piksel/images";

/// The pins file of `env` (read when the stack compiles: a new pin is a new build).
fn pins_file(env: &Environment) -> Option<&'static str> {
    match env.name {
        "dev" => Some(include_str!("../images/dev/images.yaml")),
        "staging" => Some(include_str!("../images/staging/images.yaml")),
        "prod" => Some(include_str!("../images/prod/images.yaml")),
        _ => None,
    }
}

/// The image of `repository` (one of [`REPOSITORIES`]) that `env` runs, from its pins
/// file: an image of the environment's own registry, pinned by digest.
pub fn pinned(env: &Environment, repository: &str) -> Result<EcrImage> {
    let at = format!(
        "{}-{}:images ({PINS_DIRECTORY}/{}/images.yaml)",
        crate::eks::NAME,
        env.name,
        env.name
    );
    let file = pins_file(env).ok_or_else(|| {
        Error::invalid(&at, format!("no pins file for environment {:?}", env.name))
    })?;
    parse_pins(file, env, repository).map_err(|why| Error::invalid(&at, why))
}

/// Read `repository`'s pin out of `file`: a mapping of exactly [`REPOSITORIES`] to images
/// of `env`'s registry in [`REGION`].
fn parse_pins(
    file: &str,
    env: &Environment,
    repository: &str,
) -> std::result::Result<EcrImage, String> {
    let pins: std::collections::BTreeMap<String, String> = serde_norway::from_str(file)
        .map_err(|e| format!("not a mapping of repository to image: {e}"))?;
    let mut names: Vec<&str> = pins.keys().map(String::as_str).collect();
    let mut expected = REPOSITORIES.to_vec();
    names.sort_unstable();
    expected.sort_unstable();
    if names != expected {
        return Err(format!(
            "pins {names:?}: the file pins exactly the platform's repositories {expected:?}"
        ));
    }
    let reference = pins
        .get(repository)
        .ok_or_else(|| format!("{repository:?} is not one of {REPOSITORIES:?}"))?;
    let image = EcrImage::parse(reference).map_err(|e| e.to_string())?;
    if image.account() != env.account_id
        || image.region() != REGION
        || image.repository() != repository
    {
        return Err(format!(
            "{repository}: {reference:?} is not in {}'s registry: {}.dkr.ecr.{REGION}.amazonaws.com/{repository}",
            env.name, env.account_id
        ));
    }
    Ok(image)
}

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
                // The tag's digest, read once: ECR's tags are immutable.
                extra: [("digestReflectionPolicy".to_owned(), "IfNotPresent".into())]
                    .into_iter()
                    .collect(),
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
                "./{PINS_DIRECTORY}/{}",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environments;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn every_environment_pins_each_platform_image_from_its_own_registry() {
        for env in environments() {
            for repository in REPOSITORIES {
                let image = pinned(&env, repository).unwrap();
                assert_eq!(image.account(), env.account_id);
                assert_eq!(image.repository(), repository);
            }
        }
    }

    #[test]
    fn a_pin_of_another_registry_a_missing_pin_or_an_unpinned_image_is_refused() {
        let env = &environments()[0];
        let image = |account: &str, repository: &str| {
            format!("{account}.dkr.ecr.{REGION}.amazonaws.com/{repository}:v1@{DIGEST}")
        };
        let both = |core: String, jupyter: String| {
            format!("piksel-core: {core}\npiksel-jupyter: {jupyter}\n")
        };
        let good = both(
            image(env.account_id, "piksel-core"),
            image(env.account_id, "piksel-jupyter"),
        );
        assert!(parse_pins(&good, env, "piksel-core").is_ok());
        let refused = [
            // prod's registry in dev's file.
            both(
                image("555555555555", "piksel-core"),
                image(env.account_id, "piksel-jupyter"),
            ),
            // The Jupyter image where the core image belongs.
            both(
                image(env.account_id, "piksel-jupyter"),
                image(env.account_id, "piksel-jupyter"),
            ),
            // A repository missing, one too many.
            format!("piksel-core: {}\n", image(env.account_id, "piksel-core")),
            format!(
                "{good}piksel-extra: {}\n",
                image(env.account_id, "piksel-extra")
            ),
            // By tag only.
            both(
                format!(
                    "{}.dkr.ecr.{REGION}.amazonaws.com/piksel-core:v1",
                    env.account_id
                ),
                image(env.account_id, "piksel-jupyter"),
            ),
            "not: [a, mapping".to_owned(),
        ];
        for file in refused {
            assert!(parse_pins(&file, env, "piksel-core").is_err(), "{file}");
        }
    }
}
