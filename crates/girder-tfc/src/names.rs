//! The names and paths Terraform Cloud accepts, checked before plan.

use crate::error::TfcError;

fn word_chars(name: &str, space: bool) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || (space && c == ' '))
}

pub(crate) fn organization(name: &str) -> Result<(), TfcError> {
    if name.is_empty() || name.len() > 90 || !word_chars(name, false) {
        return Err(TfcError::OrganizationName(name.to_owned()));
    }
    Ok(())
}

pub(crate) fn project(name: &str) -> Result<(), TfcError> {
    let len = name.chars().count();
    if !(3..=40).contains(&len)
        || !word_chars(name, true)
        || name.starts_with(' ')
        || name.ends_with(' ')
    {
        return Err(TfcError::ProjectName(name.to_owned()));
    }
    Ok(())
}

pub(crate) fn workspace(name: &str) -> Result<(), TfcError> {
    if name.is_empty() || name.len() > 90 || !word_chars(name, false) {
        return Err(TfcError::WorkspaceName(name.to_owned()));
    }
    Ok(())
}

pub(crate) fn policy(name: &str) -> Result<(), TfcError> {
    if name.is_empty() || name.len() > 90 || !word_chars(name, false) {
        return Err(TfcError::PolicyName(name.to_owned()));
    }
    Ok(())
}

pub(crate) fn repository(identifier: &str) -> Result<(), TfcError> {
    let part = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match identifier.split_once('/') {
        Some((owner, name)) if part(owner) && part(name) => Ok(()),
        _ => Err(TfcError::Repository(identifier.to_owned())),
    }
}

/// A path inside the repository: relative, no `..`, `.`-only or empty components, no
/// backslash (Windows separators would let `..\` through), no NUL or control characters.
pub(crate) fn repository_path(what: &'static str, path: &str) -> Result<(), TfcError> {
    let outside = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .trim_end_matches('/')
            .split('/')
            .any(|c| c.is_empty() || c == "..");
    if outside {
        return Err(TfcError::PathOutsideRepository {
            what,
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// One exact Terraform release, `MAJOR.MINOR.PATCH`.
pub(crate) fn terraform_version(version: &str) -> Result<(), TfcError> {
    let parts: Vec<&str> = version.split('.').collect();
    let exact = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !exact {
        return Err(TfcError::TerraformVersion(version.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_inside_the_repository_pass() {
        for path in ["infra", "infra/dev/", "modules/**/*.tf", "a/./b", "x..y"] {
            repository_path("trigger pattern", path).unwrap();
        }
    }

    #[test]
    fn paths_outside_the_repository_fail() {
        for path in [
            "",
            "/infra",
            "../x",
            "infra/../../x",
            "a//b",
            "a\\..\\b",
            "a\nb",
        ] {
            assert!(
                matches!(
                    repository_path("trigger pattern", path),
                    Err(TfcError::PathOutsideRepository { .. })
                ),
                "{path:?}"
            );
        }
    }

    #[test]
    fn versions_must_be_exact() {
        terraform_version("1.11.4").unwrap();
        for v in ["1.11", "~> 1.11.0", "latest", "1.11.x", "1..4"] {
            assert_eq!(
                terraform_version(v),
                Err(TfcError::TerraformVersion(v.to_owned()))
            );
        }
    }
}
