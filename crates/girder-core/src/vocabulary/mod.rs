//! The words every girder crate uses for the same idea, each written once: a stated
//! [`Reason`], DNS-1123 names ([`dns`]), a CloudWatch [`LogRetention`], an SSM
//! parameter [`SsmPath`], an [`Arn`] (with its [`Partition`], never a literal `aws`), an
//! [`Ipv4Cidr`] and the [`Exposure`] rule of internet-facing endpoints. L2 crates check
//! their inputs with these, so one rule has one definition and one set of tests.

mod arn;
mod cidr;
pub mod dns;
mod exposure;
mod log_retention;
mod reason;
mod ssm_path;

pub use arn::{Arn, AwsLocation, AwsLocationError, Partition};
pub use cidr::{Ipv4Cidr, Ipv4CidrError};
pub use exposure::{Exposure, ExposureError};
pub use log_retention::{CLOUDWATCH_RETENTION_DAYS, LogRetention, LogRetentionError};
pub use reason::{IntoReason, Reason, ReasonError};
pub use ssm_path::{MAX_SSM_PATH_LEN, SsmPath, SsmPathError};
