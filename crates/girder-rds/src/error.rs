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
    /// A CloudNativePG cluster of no instance, or of more than CNPG's practical ceiling.
    #[error("{0} PostgreSQL instances: use 1 (no replica) to 9")]
    Instances(u8),
    /// A `max_connections` PostgreSQL refuses or that leaves nothing for clients.
    #[error("max_connections {0}: use 10 to 10000 (PostgreSQL keeps 3 for superusers)")]
    MaxConnections(u32),
    /// A PgBouncer pool that opens more server connections than PostgreSQL accepts.
    #[error(
        "PgBouncer: {instances} pooler instance(s) x default_pool_size {pool_size} = {total} \
         server connections, above PostgreSQL's max_connections {max_connections} less 3 \
         reserved for superusers: lower the pool or raise max_connections"
    )]
    PoolAboveMaxConnections {
        /// Pooler instances.
        instances: u8,
        /// `default_pool_size`.
        pool_size: u32,
        /// Their product.
        total: u32,
        /// PostgreSQL's `max_connections`.
        max_connections: u32,
    },
    /// A PgBouncer setting of zero.
    #[error("PgBouncer {setting} {value}: must be at least 1")]
    PoolSetting {
        /// `default_pool_size`, `max_client_conn` or `instances`.
        setting: &'static str,
        /// The value.
        value: u32,
    },
    /// A PostgreSQL parameter girder sets through a typed method.
    #[error("PostgreSQL parameter {0:?} is typed: use the cluster's own method for it")]
    TypedParameter(String),
    /// A storage size of zero.
    #[error("storage of {0} GiB: at least 1")]
    StorageSize(u32),
    /// A statement of an initialization script that fails or changes something when run
    /// twice.
    #[error(
        "script {script:?}: {statement:?} is not idempotent: write CREATE ... IF NOT EXISTS, \
         CREATE OR REPLACE, or wrap it in a DO block that checks first (roles)"
    )]
    NotIdempotent {
        /// The script's name.
        script: String,
        /// The statement's first line.
        statement: String,
    },
    /// A script name that is not a plain file name, or given twice.
    #[error("script name {0:?}: letters, digits, '-' and '_', each name once")]
    ScriptName(String),
    /// A hypertable or continuous aggregate asked of a cluster that does not run TimescaleDB.
    #[error("{0:?} needs TimescaleDB: call `.timescale(image)` on the cluster first")]
    TimescaleNotEnabled(String),
    /// An interval of zero.
    #[error("{what} of {object:?} is zero: intervals must be positive")]
    NonPositiveInterval {
        /// The setting (`chunk interval`, `retention`, ...).
        what: &'static str,
        /// The hypertable or view.
        object: String,
    },
    /// Retention that drops chunks before (or as soon as) they would be compressed.
    #[error(
        "hypertable {table:?}: retention {retention} is not longer than compression after \
         {compress_after}: chunks would be dropped before they are compressed"
    )]
    RetentionWithinCompression {
        /// The table.
        table: String,
        /// Its retention.
        retention: String,
        /// Its compression window.
        compress_after: String,
    },
    /// A segment-by or time column that is not a column of the table.
    #[error("hypertable {table:?}: {column:?} is not one of its columns ({columns})")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column named.
        column: String,
        /// Its columns.
        columns: String,
    },
    /// A continuous aggregate whose refresh window cannot hold two buckets (TimescaleDB
    /// refuses the policy).
    #[error(
        "continuous aggregate {view:?}: refresh window {start} to {end} must cover at least \
         two buckets of {bucket}"
    )]
    RefreshWindow {
        /// The view.
        view: String,
        /// `start_offset`.
        start: String,
        /// `end_offset`.
        end: String,
        /// The bucket width.
        bucket: String,
    },
    /// A continuous aggregate of a table the cluster has no hypertable for.
    #[error(
        "continuous aggregate {view:?} reads {table:?}, which is not a hypertable of the cluster"
    )]
    UnknownHypertable {
        /// The view.
        view: String,
        /// The table.
        table: String,
    },
    /// A continuous aggregate refreshed from further back than its hypertable keeps data.
    #[error(
        "continuous aggregate {view:?}: refresh from {start} back reaches past the \
         hypertable's retention {retention}, so refreshes would empty its older buckets: \
         start the refresh within the retention"
    )]
    RefreshBeyondRetention {
        /// The view.
        view: String,
        /// `start_offset`.
        start: String,
        /// The hypertable's retention.
        retention: String,
    },
}
