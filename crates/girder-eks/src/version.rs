//! Kubernetes versions of EKS clusters: a minor in EKS's standard support.

use std::fmt;
use std::str::FromStr;

use crate::error::EksError;

/// Minors whose EKS standard support has ended, with the date it ended (AWS's EKS
/// Kubernetes release calendar: standard support lasts 14 months from the EKS release),
/// oldest first. A cluster of one of these, or older, is refused: extended support costs
/// six times as much per cluster hour and ends too. Move a minor here when its standard
/// support ends.
pub const EKS_STANDARD_SUPPORT_ENDED: [(u16, &str); 12] = [
    (23, "2023-10-11"),
    (24, "2024-01-31"),
    (25, "2024-05-01"),
    (26, "2024-06-11"),
    (27, "2024-07-24"),
    (28, "2024-11-26"),
    (29, "2025-03-23"),
    (30, "2025-07-23"),
    (31, "2025-11-26"),
    (32, "2026-03-23"),
    (33, "2026-07-29"),
    (34, "2026-12-02"),
];

/// Minors in EKS standard support as of 2026-12, oldest first: what
/// [`KubernetesVersion::new`] accepts. Add a minor when EKS releases it.
pub const EKS_STANDARD_SUPPORT: [u16; 3] = [35, 36, 37];

/// A Kubernetes minor (`1.35`) EKS supports in standard support
/// ([`EKS_STANDARD_SUPPORT`]). EKS picks the patch release; node groups follow the
/// cluster's minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubernetesVersion {
    minor: u16,
}

impl KubernetesVersion {
    /// Kubernetes `1.<minor>`. Errors: a minor past standard support
    /// ([`EksError::KubernetesVersionEnded`], with the date it ended) or newer than
    /// girder's table ([`EksError::KubernetesVersionUnknown`]).
    pub fn new(minor: u16) -> Result<Self, EksError> {
        let (Some(&oldest), Some(&newest)) =
            (EKS_STANDARD_SUPPORT.first(), EKS_STANDARD_SUPPORT.last())
        else {
            return Err(EksError::KubernetesVersion(format!("1.{minor}")));
        };
        if minor < oldest {
            let end_of_standard_support = EKS_STANDARD_SUPPORT_ENDED
                .iter()
                .find(|(ended, _)| *ended == minor)
                .or(EKS_STANDARD_SUPPORT_ENDED.first())
                .map_or("2023-10-11", |(_, date)| *date);
            return Err(EksError::KubernetesVersionEnded {
                minor,
                end_of_standard_support,
                oldest_supported: oldest,
            });
        }
        if minor > newest {
            return Err(EksError::KubernetesVersionUnknown {
                minor,
                newest_known: newest,
            });
        }
        Ok(Self { minor })
    }

    /// The minor (35 for 1.35).
    pub fn minor(self) -> u16 {
        self.minor
    }
}

impl fmt::Display for KubernetesVersion {
    /// `1.35`, as EKS's `version` argument takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

impl FromStr for KubernetesVersion {
    type Err = EksError;

    /// `1.35`. Errors: not `1.<minor>` ([`EksError::KubernetesVersion`]), or as
    /// [`KubernetesVersion::new`].
    fn from_str(text: &str) -> Result<Self, EksError> {
        let minor = text
            .strip_prefix("1.")
            .filter(|m| !m.is_empty() && m.len() <= 3 && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse::<u16>().ok())
            .ok_or_else(|| EksError::KubernetesVersion(text.to_owned()))?;
        Self::new(minor)
    }
}
