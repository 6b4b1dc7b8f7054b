//! An SSM Parameter Store path prefix (`/pixtools/dev/db`): where one half of a system
//! writes parameters and the other reads them.

use std::fmt;

/// The longest parameter name SSM accepts.
pub const MAX_SSM_PATH_LEN: usize = 1011;

/// Why an [`SsmPath`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "SSM path {0:?} must start with '/' and not end with one, its segments letters, digits, \
     '_', '.' and '-' (at most 1011 characters)"
)]
pub struct SsmPathError(pub String);

/// A hierarchical SSM parameter path: `/` then one or more non-empty segments of ASCII
/// letters, digits, `_`, `.` and `-` separated by single `/`, no trailing `/`, at most
/// 1011 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SsmPath(String);

impl SsmPath {
    /// Check `path`.
    pub fn new(path: impl Into<String>) -> Result<Self, SsmPathError> {
        let path = path.into();
        let ok = path.len() <= MAX_SSM_PATH_LEN
            && path.strip_prefix('/').is_some_and(|rest| {
                rest.split('/').all(|segment| {
                    !segment.is_empty()
                        && segment
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                })
            });
        if ok {
            Ok(Self(path))
        } else {
            Err(SsmPathError(path))
        }
    }

    /// The path one level down: `/pixtools/dev` joined with `db` is `/pixtools/dev/db`
    /// (`segment` may hold several segments, `db/host`).
    pub fn join(&self, segment: &str) -> Result<Self, SsmPathError> {
        Self::new(format!("{}/{segment}", self.0))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for SsmPath {
    type Error = SsmPathError;
    fn try_from(path: &str) -> Result<Self, SsmPathError> {
        Self::new(path)
    }
}

impl TryFrom<String> for SsmPath {
    type Error = SsmPathError;
    fn try_from(path: String) -> Result<Self, SsmPathError> {
        Self::new(path)
    }
}

impl AsRef<str> for SsmPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SsmPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_paths_are_checked_too() {
        let base = SsmPath::new("/pixtools/dev").unwrap();
        assert_eq!(base.join("db").unwrap().as_str(), "/pixtools/dev/db");
        assert_eq!(
            base.join("db/host").unwrap().as_str(),
            "/pixtools/dev/db/host"
        );
        for bad in ["", "db/", "/db", "d b"] {
            assert_eq!(
                base.join(bad),
                Err(SsmPathError(format!("/pixtools/dev/{bad}"))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn paths() {
        for good in ["/pixtools", "/pixtools/dev/db", "/a_b/c.d/E-1"] {
            assert_eq!(SsmPath::new(good).unwrap().as_str(), good);
        }
        let too_long = format!("/{}", "a".repeat(MAX_SSM_PATH_LEN));
        for bad in [
            "",
            "/",
            "pixtools/dev",
            "/pixtools/",
            "/pix//dev",
            "/pix tools",
            "/pix%s",
            "/pix\n",
            too_long.as_str(),
        ] {
            assert_eq!(
                SsmPath::new(bad),
                Err(SsmPathError(bad.to_owned())),
                "{bad:?}"
            );
        }
    }
}
