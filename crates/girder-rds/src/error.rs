//! What girder-rds refuses, as values tests can match.

use girder_core::vocabulary::{LogRetentionError, SsmPathError};

/// Why a PostgreSQL instance or its published settings were refused. Wrapped into
/// [`girder_core::Error::Construct`] with the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RdsError {
    /// An instance identifier RDS refuses.
    #[error(
        "DB identifier {0:?}: 1-63 lowercase letters, digits and single '-', starting with a letter"
    )]
    Identifier(String),
    /// A major version RDS does not offer.
    #[error("PostgreSQL {0} is not a version RDS offers (12-17)")]
    MajorVersion(u8),
    /// Not a `db.*` class.
    #[error("instance class {0:?} must be a db.* class (db.t4g.micro)")]
    InstanceClass(String),
    /// Storage under 20 GiB or a ceiling below it.
    #[error(
        "gp3 storage {gib} GiB growing to {max_gib} GiB: at least 20, and the ceiling not below it"
    )]
    Storage {
        /// Allocated.
        gib: u16,
        /// Autoscaling ceiling.
        max_gib: u16,
    },
    /// Backups kept outside 1 to 35 days.
    #[error("{0} days of backups: use 1 to 35")]
    BackupRetention(u8),
    /// A secret recovery window Secrets Manager refuses.
    #[error("a recovery window of {0} days: 0 (deleted at once) or 7 to 30")]
    RecoveryWindow(u8),
    /// A database or user name PostgreSQL refuses.
    #[error("{what} {name:?}: letters, digits and '_', starting with a letter")]
    Name {
        /// `database` or `username`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A log retention CloudWatch does not offer.
    #[error(transparent)]
    LogRetention(#[from] LogRetentionError),
    /// A database user named like the master user, or twice.
    #[error(
        "database user {0:?} is the master user or already defined: give each user its own name"
    )]
    UserName(String),
    /// A parameter path SSM refuses.
    #[error(transparent)]
    SsmPath(#[from] SsmPathError),
}
