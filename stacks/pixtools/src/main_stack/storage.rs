//! infra/ecr.tf and infra/s3.tf: the image repositories, the app's images bucket (assets
//! and results expire after a day) and the manifests bucket the node bootstraps from.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_storage::{Bucket, BucketHandle, BucketName, Repository, RepositoryHandle};

use crate::config::{Environment, REGION};

/// The repositories' and buckets' handles.
pub(super) struct Storage {
    pub api_repository: RepositoryHandle,
    pub worker_repository: RepositoryHandle,
    pub images: BucketHandle,
    pub manifests: BucketHandle,
}

/// ECR under `registry`, the buckets under `storage`.
pub(super) fn add(root: &mut Scope<'_>, env: &Environment) -> Result<Storage> {
    let mut registry = root.child("registry")?;
    let api_repository = Repository::new("pixtools-api").add(&mut registry, "api")?;
    let worker_repository = Repository::new("pixtools-worker").add(&mut registry, "worker")?;

    let mut storage = root.child("storage")?;
    let images = Bucket::new(BucketName::with_account_and_region(
        "pixtools-images",
        env.account_id,
        REGION,
    ))
    .expire_prefix("raw/", 1)
    .expire_prefix("processed/", 1)
    .expire_prefix("archives/", 1)
    .add(&mut storage, "images")?;
    let manifests = Bucket::new(BucketName::with_account_and_region(
        "pixtools-manifests",
        env.account_id,
        REGION,
    ))
    .add(&mut storage, "manifests")?;
    Ok(Storage {
        api_repository,
        worker_repository,
        images,
        manifests,
    })
}
