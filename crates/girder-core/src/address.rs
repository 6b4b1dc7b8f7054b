//! From construct paths to Terraform names. The mapping is a compatibility promise: a
//! resource keeps its address as long as its path does not change, so state is never moved
//! by a refactoring that keeps paths.
//!
//! Rule: the ids of the path are joined with `_`; ASCII letters are lowercased; every run of
//! characters other than `a-z`, `0-9` is replaced by a single `_`; leading and trailing `_`
//! are dropped; a name that would start with a digit gets a leading `_`.
//! `network/private-subnet-a` becomes `network_private_subnet_a`.
//!
//! Distinct paths can map to one name (`a-b` and `a_b`); the stack detects that when the
//! second construct is created and reports both paths, never renaming silently.

use crate::path::ConstructPath;

/// The Terraform name for a construct path (see the module docs for the rule).
/// Never empty: construct ids are required to hold at least one letter or digit.
pub fn terraform_name(path: &ConstructPath) -> String {
    sanitize(path.segments().iter().map(String::as_str))
}

/// Sanitize arbitrary text segments into a Terraform identifier with the same rule.
/// Returns `_` for input without any ASCII letter or digit.
pub fn sanitize<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut pending_sep = false;
    for segment in segments {
        for c in segment.chars() {
            if c.is_ascii_alphanumeric() {
                if pending_sep && !out.is_empty() {
                    out.push('_');
                }
                pending_sep = false;
                out.push(c.to_ascii_lowercase());
            } else {
                pending_sep = true;
            }
        }
        pending_sep = true;
    }
    if out.is_empty() {
        return "_".to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// True when `name` is a Terraform identifier as girder writes them (a subset of what
/// Terraform accepts: no hyphens, no uppercase).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// True when `name` is accepted by Terraform as a block label or attribute name
/// (letters, digits, `_`, `-`, not starting with a digit or `-`).
pub fn is_terraform_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(p: &str) -> String {
        terraform_name(&ConstructPath::parse(p).unwrap())
    }

    #[test]
    fn readable_names() {
        assert_eq!(name("network/private-subnet-a"), "network_private_subnet_a");
        assert_eq!(name("Network/VPC"), "network_vpc");
        assert_eq!(name("db/--primary--"), "db_primary");
        assert_eq!(name("1st/zone"), "_1st_zone");
        assert_eq!(name("café/bar"), "caf_bar");
    }

    #[test]
    fn identifier_check() {
        assert!(is_identifier("network_vpc"));
        assert!(is_identifier("_1st"));
        assert!(!is_identifier("1st"));
        assert!(!is_identifier("a-b"));
        assert!(!is_identifier(""));
        assert!(is_terraform_identifier("a-b"));
    }
}
