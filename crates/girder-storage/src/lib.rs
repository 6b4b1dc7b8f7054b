//! girder-storage: where a system keeps objects and images.
//!
//! - [`BucketName`]: S3 bucket names checked before plan against every general purpose
//!   naming rule (3-63 characters of lowercase letters, digits, '-' and '.'; no IP
//!   addresses, reserved prefixes or suffixes), including names built from the account
//!   and region.
//! - [`Bucket`]: an S3 bucket with the split-out configuration resources and safe
//!   defaults: public access blocked, bucket owner enforced, SSE (S3-managed or KMS),
//!   versioning, TLS-only policy, lifecycle rules by prefix; `grant_read` / `grant_read_write`
//!   give a role exactly the object actions it needs; S3 Object Lock ([`ObjectLock`],
//!   governance or compliance) for records that must outlive the principals they record.
//! - [`Repository`]: an ECR repository with immutable tags, scan on push and a lifecycle
//!   policy; [`EcrImage`]: an image of a private ECR registry pinned by tag and digest.
//! - [`BackupPlan`]: AWS Backup with a KMS-encrypted vault of its own (a compliance lock
//!   only when asked), daily / weekly / monthly [`BackupRule`]s in UTC with retention and
//!   cold storage checked against AWS's limits, resources protected by ARN or tag, and
//!   the service role with AWS's backup and restore policies.
//! - [`StaticSite`]: a private bucket behind CloudFront with an origin access control
//!   (SigV4, always), HTTPS only, TLS 1.2 with a certificate, and a deployer role that may
//!   sync the bucket and invalidate the distribution, nothing else.
//! - [`MinioTenant`] (`minio.rs`): in-cluster object storage, a MinIO operator Tenant
//!   whose pools must form an erasure set of 4 to 16 drives, with [`MinioBucket`]s (lifecycle
//!   expiry, read / write policies for named [`MinioUser`]s) applied by an `mc` Job.
//! - [`ebs_csi_statements`]: the EBS CSI driver's documented actions, scoped to the volumes
//!   and snapshots it tags and to the cluster's instances (K3s and EKS share them).
//!
//! Builders implement [`girder_core::construct::Construct`]; handles expose names and
//! ARNs ([`girder_core::vocabulary::Arn`]) and the policy statements other constructs
//! grant with. Refusals are [`StorageError`]s inside [`girder_core::Error::Construct`].

mod backup;
mod bucket;
mod ebs_csi;
mod ecr;
mod ecr_image;
mod error;
pub mod minio;
mod name;
mod static_site;

pub use backup::{
    BACKUP_SERVICE_ROLE_POLICIES, BackupPlan, BackupPlanHandle, BackupRule,
    COLD_STORAGE_MINIMUM_DAYS, VAULT_LOCK_MAXIMUM_DAYS, VAULT_LOCK_MINIMUM_GRACE_DAYS,
};
pub use bucket::{
    Bucket, BucketHandle, Encryption, OBJECT_LOCK_MAXIMUM_DAYS, ObjectLock, ObjectLockMode,
};
pub use ebs_csi::{EBS_CSI_CLUSTER_TAG, EBS_CSI_DRIVER_ACTIONS, ebs_csi_statements};
pub use ecr::{PUSH_ACTIONS, Repository, RepositoryHandle};
pub use ecr_image::EcrImage;
pub use error::StorageError;
pub use minio::{MinioBucket, MinioPool, MinioTenant, MinioTenantHandle, MinioUser};
pub use name::BucketName;
pub use static_site::{
    CACHING_OPTIMIZED_POLICY_ID, HSTS_MAX_AGE_SECONDS, PriceClass, StaticSite, StaticSiteHandle,
};
