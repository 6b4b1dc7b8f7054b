//! girder-storage: where a system keeps objects and images.
//!
//! - [`BucketName`]: S3 bucket names checked before plan against every general purpose
//!   naming rule (3-63 characters of lowercase letters, digits, '-' and '.'; no IP
//!   addresses, reserved prefixes or suffixes), including names built from the account
//!   and region.
//! - [`Bucket`]: an S3 bucket with the split-out configuration resources and safe
//!   defaults: public access blocked, bucket owner enforced, SSE (S3-managed or KMS),
//!   versioning, TLS-only policy, lifecycle rules by prefix; `grant_read` / `grant_read_write`
//!   give a role exactly the object actions it needs.
//! - [`Repository`]: an ECR repository with immutable tags, scan on push and a lifecycle
//!   policy.
//! - [`ebs_csi_statements`]: the EBS CSI driver's documented actions, scoped to the volumes
//!   and snapshots it tags and to the cluster's instances (K3s and EKS share them).
//!
//! Builders implement [`girder_core::construct::Construct`]; handles expose names and
//! ARNs ([`girder_core::vocabulary::Arn`]) and the policy statements other constructs
//! grant with. Refusals are [`StorageError`]s inside [`girder_core::Error::Construct`].

mod bucket;
mod ebs_csi;
mod ecr;
mod error;
mod name;

pub use bucket::{Bucket, BucketHandle, Encryption};
pub use ebs_csi::{EBS_CSI_CLUSTER_TAG, EBS_CSI_DRIVER_ACTIONS, ebs_csi_statements};
pub use ecr::{PUSH_ACTIONS, Repository, RepositoryHandle};
pub use error::StorageError;
pub use name::BucketName;
