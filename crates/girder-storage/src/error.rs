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
}
