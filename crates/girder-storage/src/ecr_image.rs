//! An image in an ECR repository, pinned by digest: what a workload that must run exactly
//! the reviewed build names.

use std::fmt;

use crate::error::StorageError;

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>@sha256:<64 hex>`: an
/// image of a private ECR registry, its tag kept for the reader and its digest for the
/// runtime (the digest wins when both are given, so a re-pushed tag changes nothing).
///
/// ```
/// use girder_storage::EcrImage;
///
/// let image = EcrImage::parse(
///     "333333333333.dkr.ecr.us-west-2.amazonaws.com/piksel-core:v1.2.0@sha256:\
///      0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
/// )
/// .unwrap();
/// assert_eq!(image.account(), "333333333333");
/// assert_eq!(image.repository(), "piksel-core");
/// assert_eq!(image.tag(), "v1.2.0");
/// assert!(EcrImage::parse("piksel-core:latest").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EcrImage {
    account: String,
    region: String,
    repository: String,
    tag: String,
    digest: String,
}

/// The registry host's suffix in the commercial partition.
const REGISTRY_SUFFIX: &str = ".amazonaws.com";

impl EcrImage {
    /// Read a full reference, refusing anything but a private ECR image with a tag and a
    /// sha256 digest.
    pub fn parse(reference: &str) -> Result<Self, StorageError> {
        let refuse = |why: &'static str| StorageError::EcrImage {
            image: reference.to_owned(),
            why,
        };
        let (name, digest) = reference.split_once('@').ok_or(refuse(
            "no digest: pin the image as `...:<tag>@sha256:<64 hex digits>`",
        ))?;
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or(refuse("the digest is not `sha256:`"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(refuse("a sha256 digest is 64 lowercase hex digits"));
        }
        let (host, path) = name.split_once('/').ok_or(refuse(
            "no registry: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`",
        ))?;
        let (account, rest) = host.split_once(".dkr.ecr.").ok_or(refuse(
            "not an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`)",
        ))?;
        let region = rest.strip_suffix(REGISTRY_SUFFIX).ok_or(refuse(
            "not an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`)",
        ))?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse("the registry's account is not 12 digits"));
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(refuse("the registry's region is not a region name"));
        }
        let (repository, tag) = path.rsplit_once(':').ok_or(refuse(
            "no tag: keep the tag beside the digest, for the reader",
        ))?;
        if !crate::ecr::is_repository_name(repository) {
            return Err(refuse(
                "the repository is not an ECR repository name (2-256 of a-z, 0-9, '-', '_', '.', '/')",
            ));
        }
        if !is_tag(tag) {
            return Err(refuse(
                "the tag is not 1-128 of A-Z, a-z, 0-9, '_', '.', '-' (not starting with '.' or '-')",
            ));
        }
        if tag == "latest" {
            return Err(refuse("`latest` is not a version"));
        }
        Ok(Self {
            account: account.to_owned(),
            region: region.to_owned(),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            digest: digest.to_owned(),
        })
    }

    /// The registry's account.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The registry's region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The registry host (`<account>.dkr.ecr.<region>.amazonaws.com`).
    pub fn registry(&self) -> String {
        format!("{}.dkr.ecr.{}{REGISTRY_SUFFIX}", self.account, self.region)
    }

    /// The repository (`piksel-core`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag (`v1.2.0`).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The digest (`sha256:...`).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// `<tag>@<digest>`: what charts that join `repository:tag` themselves take as the
    /// tag, so the digest still pins the image.
    pub fn tag_and_digest(&self) -> String {
        format!("{}@{}", self.tag, self.digest)
    }
}

impl fmt::Display for EcrImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}:{}@{}",
            self.registry(),
            self.repository,
            self.tag,
            self.digest
        )
    }
}

/// An OCI tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}
