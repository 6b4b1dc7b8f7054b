//! ECR repositories: immutable tags, scan on push, expiring old images.

use girder_aws::aws;
use girder_aws::aws::ecr_repository as ecr;
use girder_core::construct::Construct;
use girder_core::vocabulary::Arn;
use girder_core::{Error, Expr, Result, Scope};
use girder_iam::Statement;
use serde_json::json;

use crate::error::StorageError;

/// What pulling an image from a repository needs (the actions of AWS's
/// `AmazonEC2ContainerRegistryPullOnly` policy, less the registry login).
const PULL_ACTIONS: [&str; 2] = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/// What pushing an image needs (`docker push`: the layer upload and the manifest), and
/// reading back what is there (a release checks its tag is not taken: tags are immutable).
pub const PUSH_ACTIONS: [&str; 7] = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
];

/// An ECR repository to create.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Repository {
    name: String,
    keep_images: u16,
    untagged_days: u16,
    build_prefixes: Vec<String>,
}

/// A repository in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct RepositoryHandle {
    repository: aws::EcrRepositoryHandle,
}

impl Repository {
    /// Repository `name` (`pixtools-api`): tags immutable (a tag is one image forever),
    /// scanned on push, keeping the newest 30 images and expiring untagged ones after 7 days.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            keep_images: 30,
            untagged_days: 7,
            build_prefixes: Vec::new(),
        }
    }

    /// Count (and expire beyond [`Repository::keep_images`]) only the images whose tag
    /// starts with one of `prefixes` (CI's builds: `sha-`), so a release's tag (`v1.2.0`),
    /// which production may still run, never expires.
    pub fn expire_only_builds_tagged<S: Into<String>>(
        mut self,
        prefixes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.build_prefixes = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Keep the newest `count` images.
    pub fn keep_images(mut self, count: u16) -> Self {
        self.keep_images = count;
        self
    }
}

impl Construct for Repository {
    type Handle = RepositoryHandle;

    /// Add it as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<RepositoryHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        if !is_repository_name(&self.name) {
            return Err(Error::construct(
                at,
                StorageError::RepositoryName(self.name),
            ));
        }
        if self.keep_images == 0 {
            return Err(Error::construct(at, StorageError::KeepNoImages));
        }
        let repository = scope.add_default(
            aws::EcrRepository::new(&self.name)
                .image_tag_mutability("IMMUTABLE")
                .image_scanning_configuration(ecr::ImageScanningConfiguration::new(true))
                .encryption_configuration(
                    ecr::EncryptionConfiguration::new().encryption_type("AES256"),
                ),
        )?;
        let policy = json!({"rules": [
            {
                "rulePriority": 1,
                "description": format!("Expire untagged images after {} days", self.untagged_days),
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": self.untagged_days},
                "action": {"type": "expire"}
            },
            if self.build_prefixes.is_empty() {
                json!({
                    "rulePriority": 2,
                    "description": format!("Keep the newest {} images", self.keep_images),
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": self.keep_images},
                    "action": {"type": "expire"}
                })
            } else {
                json!({
                    "rulePriority": 2,
                    "description": format!(
                        "Keep the newest {} builds (tags {}); other tags never expire",
                        self.keep_images,
                        self.build_prefixes.join(", ")
                    ),
                    "selection": {"tagStatus": "tagged", "tagPrefixList": self.build_prefixes, "countType": "imageCountMoreThan", "countNumber": self.keep_images},
                    "action": {"type": "expire"}
                })
            }
        ]});
        scope.add(
            "lifecycle",
            aws::EcrLifecyclePolicy::new(policy.to_string(), repository.name()),
        )?;
        Ok(RepositoryHandle { repository })
    }
}

impl RepositoryHandle {
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    pub fn url(&self) -> Expr<String> {
        self.repository.repository_url()
    }

    /// The repository ARN.
    pub fn arn(&self) -> Arn {
        Arn::attribute(self.repository.arn())
    }

    /// The statement that lets a principal pull this repository's images (what
    /// containerd asks for: the image manifest and the layers' download addresses), on
    /// this repository only. The registry login it also needs,
    /// [`RepositoryHandle::login_statement`], is not tied to a repository.
    pub fn pull_statement(&self) -> Statement {
        Statement::allow(PULL_ACTIONS).on([self.arn()])
    }

    /// The statement that lets a principal push images to this repository (CI), and
    /// read back what it holds ([`PUSH_ACTIONS`]), on this repository only; no delete,
    /// no policy or lifecycle change. It needs [`RepositoryHandle::login_statement`] too.
    pub fn push_statement(&self) -> Statement {
        Statement::allow(PUSH_ACTIONS).on([self.arn()])
    }

    /// The statement that lets a principal log in to the account's registry
    /// (`ecr:GetAuthorizationToken`, which has no resource-level permissions: its `*` is
    /// stated). A login reads nothing by itself; what it may pull is what the
    /// [`RepositoryHandle::pull_statement`]s grant.
    pub fn login_statement() -> Statement {
        Statement::allow(["ecr:GetAuthorizationToken"])
            .on(["*"])
            .wildcard_because("ecr:GetAuthorizationToken has no resource-level permissions; the repositories a login may pull are the pull statements'")
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::EcrRepositoryHandle {
        &self.repository
    }
}

/// 2-256 lowercase letters, digits, '-', '_', '.', '/', starting with a letter or digit.
pub(crate) fn is_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | '/')
        })
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
}
