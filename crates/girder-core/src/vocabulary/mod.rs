//! The words every girder crate uses for the same idea, each written once: a stated
//! [`Reason`], DNS-1123 names ([`dns`]), a CloudWatch [`LogRetention`] and an SSM
//! parameter [`SsmPath`]. L2 crates check their inputs with these, so one rule has one
//! definition and one set of tests.

pub mod dns;
mod log_retention;
mod reason;
mod ssm_path;

pub use log_retention::{CLOUDWATCH_RETENTION_DAYS, LogRetention, LogRetentionError};
pub use reason::{Reason, ReasonError};
pub use ssm_path::{MAX_SSM_PATH_LEN, SsmPath, SsmPathError};
