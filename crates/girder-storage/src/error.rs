//! What girder-storage refuses, as values tests can match.

/// Why a bucket or repository was refused. Wrapped into [`girder_core::Error::Construct`]
/// with the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A bucket name that can be shorter than 3 or longer than 63 characters.
    #[error(
        "bucket name {name} can be {longest} characters; S3 allows 3 to 63 (shorten the prefix)"
    )]
    NameLength {
        /// The name, apply-time parts shown as `<apply-time>`.
        name: String,
        /// Its length, apply-time parts at their longest.
        longest: usize,
    },
    /// A part with characters S3 refuses, or a bad first or last character.
    #[error(
        "bucket name {name}: {part:?} may hold only lowercase letters, digits, '-' and '.', and start and end with a letter or digit"
    )]
    NameCharacters {
        /// The name.
        name: String,
        /// The part at fault.
        part: String,
    },
    /// `..`, `.-` or `-.`.
    #[error(
        "bucket name {name}: {pair:?} is not allowed: S3 names are dot-separated labels that start and end with a letter or digit"
    )]
    NamePair {
        /// The name.
        name: String,
        /// The pair found.
        pair: &'static str,
    },
    /// A name formatted as an IPv4 address.
    #[error("bucket name {name}: S3 refuses names formatted as an IP address")]
    NameIpAddress {
        /// The name.
        name: String,
    },
    /// A prefix S3 reserves.
    #[error("bucket name {name}: S3 reserves the prefix {prefix:?}")]
    NameReservedPrefix {
        /// The name.
        name: String,
        /// The reserved prefix.
        prefix: &'static str,
    },
    /// A suffix S3 reserves.
    #[error("bucket name {name}: S3 reserves the suffix {suffix:?} for {purpose}")]
    NameReservedSuffix {
        /// The name.
        name: String,
        /// The reserved suffix.
        suffix: &'static str,
        /// What S3 reserves it for.
        purpose: &'static str,
    },
    /// An expiration of 0 days.
    #[error("objects under {0:?} cannot expire after 0 days (1 or more)")]
    ExpireAfterZeroDays(String),
    /// A key prefix starting with `/`.
    #[error("prefix {0:?}: S3 keys do not start with '/'")]
    PrefixStartsWithSlash(String),
    /// An ECR repository name ECR refuses.
    #[error(
        "ECR repository name {0:?}: 2-256 lowercase letters, digits, '-', '_', '.', '/', starting with a letter or digit"
    )]
    RepositoryName(String),
    /// A public object key that is empty, starts with `/` or holds a wildcard.
    #[error(
        "public object key {0:?}: an exact S3 key (not empty, not starting with '/', no '*' or '?')"
    )]
    PublicKey(String),
    /// A lifecycle policy keeping no image.
    #[error("keep at least one image")]
    KeepNoImages,
    /// A backup plan or vault name AWS Backup refuses.
    #[error(
        "backup plan name {0:?}: 2-50 letters, digits, '-' and '_' (the vault is named after it)"
    )]
    BackupName(String),
    /// A backup plan without rules.
    #[error("a backup plan needs at least one rule: BackupRule::daily / weekly / monthly")]
    NoBackupRules,
    /// Two rules of one frequency.
    #[error("backup rule {0} is given twice; one rule per frequency")]
    DuplicateBackupRule(&'static str),
    /// A backup plan protecting nothing.
    #[error(
        "the backup plan protects nothing: name resources with `.protect(arn)` or tags with `.protect_tagged(key, value)`"
    )]
    NothingToBackUp,
    /// A retention of 0 days.
    #[error("backup rule {rule}: recovery points kept {days} days; keep them 1 day or more")]
    BackupRetention {
        /// The rule.
        rule: &'static str,
        /// The retention given.
        days: u32,
    },
    /// A time of day that does not exist.
    #[error(
        "backup rule {rule}: {hour}:{minute:02} is not a time of day (hour 0-23, minute 0-59, UTC)"
    )]
    BackupTime {
        /// The rule.
        rule: &'static str,
        /// The hour given.
        hour: u8,
        /// The minute given.
        minute: u8,
    },
    /// Start and completion windows AWS Backup refuses.
    #[error(
        "backup rule {rule}: start window {start_minutes} min, completion window {completion_minutes} min; the start window is 60 minutes or more and the completion window at least 60 minutes longer"
    )]
    BackupWindow {
        /// The rule.
        rule: &'static str,
        /// The start window given.
        start_minutes: u32,
        /// The completion window given.
        completion_minutes: u32,
    },
    /// A cold storage transition AWS refuses.
    #[error(
        "backup rule {rule}: cold storage after {cold_after_days} days with a retention of {retention_days} days; move after 1 day or more and keep points at least 90 days in cold storage (retention >= transition + 90)"
    )]
    ColdStorage {
        /// The rule.
        rule: &'static str,
        /// The transition given.
        cold_after_days: u32,
        /// The retention given.
        retention_days: u32,
    },
    /// A vault lock AWS refuses.
    #[error(
        "vault lock: minimum {min_days} days, maximum {max_days} days, changeable for {changeable_for_days} days; the minimum is 1 or more and at most the maximum, the maximum at most 36500, the grace time 3 days or more"
    )]
    VaultLock {
        /// The minimum retention given.
        min_days: u32,
        /// The maximum retention given.
        max_days: u32,
        /// The grace time given.
        changeable_for_days: u32,
    },
    /// A rule whose retention the vault lock would refuse (its jobs would fail).
    #[error(
        "backup rule {rule}: recovery points kept {days} days, outside the vault lock's {min_days} to {max_days} days"
    )]
    RetentionOutsideLock {
        /// The rule.
        rule: &'static str,
        /// Its retention.
        days: u32,
        /// The lock's minimum.
        min_days: u32,
        /// The lock's maximum.
        max_days: u32,
    },
    /// An Object Lock retention outside 1 to 36500 days.
    #[error("object lock retention of {0} days: 1 to 36500 days")]
    ObjectLockDays(u16),
    /// Object Lock on a bucket without versioning.
    #[error("object lock needs a versioned bucket: drop `.unversioned()`")]
    ObjectLockUnversioned,
    /// A lifecycle expiry shorter than the bucket's Object Lock retention.
    #[error(
        "objects under {prefix:?} expire after {days} days, shorter than the object lock's {lock_days} days: expire them after the lock or later"
    )]
    ExpiryShorterThanLock {
        /// The prefix of the expiry.
        prefix: String,
        /// Its days.
        days: u16,
        /// The lock's retention.
        lock_days: u16,
    },
    /// Aliases without a certificate that covers them.
    #[error(
        "the site's aliases {0:?} need an ACM certificate (in us-east-1) that covers them: `.certificate(arn)`"
    )]
    AliasesWithoutCertificate(Vec<String>),
    /// An image reference that is not a private ECR image pinned by tag and digest.
    #[error("image {image:?}: {why}")]
    EcrImage {
        /// The reference.
        image: String,
        /// What is wrong, and what is allowed.
        why: &'static str,
    },
    /// A MinIO pool whose drives (servers x volumes per server) no erasure set of 4 to
    /// 16 drives divides.
    #[error(
        "MinIO pool {pool:?}: {servers} server(s) x {volumes_per_server} volume(s) = {drives} \
         drives, which no erasure set of 4 to 16 drives divides: use 4 to 16 drives, or a \
         multiple of a set size in that range"
    )]
    ErasureSet {
        /// The pool.
        pool: String,
        /// Its servers.
        servers: u16,
        /// Volumes per server.
        volumes_per_server: u16,
        /// Their product.
        drives: u32,
    },
    /// A MinIO tenant without pools, a pool of zero size, or a pool named twice.
    #[error("MinIO pool {pool:?}: {why}")]
    MinioPool {
        /// The pool.
        pool: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Parity MinIO refuses for the pool's erasure set.
    #[error(
        "MinIO parity EC:{parity} for erasure sets of {set_size} drives: use 2 to {max} \
         (at most half the set)"
    )]
    Parity {
        /// The parity asked.
        parity: u8,
        /// The set size.
        set_size: u32,
        /// The highest allowed.
        max: u32,
    },
    /// A MinIO bucket name S3's rules refuse, or a bucket given twice.
    #[error("MinIO bucket {0:?}: 3-63 lowercase letters, digits, '-' and '.', each bucket once")]
    MinioBucketName(String),
    /// A bucket policy naming a service user the tenant does not define.
    #[error("MinIO bucket {bucket:?} grants {user:?}, which is not a user of the tenant ({users})")]
    UnknownMinioUser {
        /// The bucket.
        bucket: String,
        /// The user.
        user: String,
        /// The tenant's users.
        users: String,
    },
    /// A lifecycle expiry of zero days.
    #[error("MinIO bucket {0:?}: expiry after 0 days; give at least 1 or none")]
    MinioExpiry(String),
}
