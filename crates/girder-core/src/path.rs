//! Construct ids and paths. A path (`network/private-subnet-a`) names a construct inside a
//! stack; it is the source of the construct's Terraform address, so its rules are part of
//! girder's compatibility promise.

use std::fmt;

use crate::error::{Error, Result};

/// Longest construct id accepted. Terraform has no identifier limit, but addresses built
/// from very long ids are unreadable in plans.
pub const MAX_ID_LEN: usize = 64;

/// The path of a construct inside its stack: the ids of its ancestors and itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConstructPath {
    segments: Vec<String>,
}

impl ConstructPath {
    /// The root of a stack (the empty path).
    pub fn root() -> Self {
        Self::default()
    }

    /// Parse a `/`-separated path, validating every id.
    pub fn parse(path: &str) -> Result<Self> {
        let mut out = Self::root();
        if path.is_empty() {
            return Ok(out);
        }
        for id in path.split('/') {
            out = out.child(id)?;
        }
        Ok(out)
    }

    /// The path of a child construct with the given id.
    pub fn child(&self, id: &str) -> Result<Self> {
        validate_id(self, id)?;
        let mut segments = self.segments.clone();
        segments.push(id.to_owned());
        Ok(Self { segments })
    }

    /// The ids from the stack root down to this construct.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// True for the stack root.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// True when `self` equals `prefix` or lies below it.
    pub fn starts_with(&self, prefix: &ConstructPath) -> bool {
        self.segments.starts_with(&prefix.segments)
    }
}

impl fmt::Display for ConstructPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        f.write_str(&self.segments.join("/"))
    }
}

/// A construct id: 1 to 64 characters, no `/`, no control characters, and at least one
/// ASCII letter or digit (so that it contributes something to the Terraform address).
fn validate_id(parent: &ConstructPath, id: &str) -> Result<()> {
    let reason = if id.is_empty() {
        Some("must not be empty")
    } else if id.chars().count() > MAX_ID_LEN {
        Some("must be at most 64 characters")
    } else if id.contains('/') {
        Some("must not contain '/', which separates path segments")
    } else if id.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else if !id.chars().any(|c| c.is_ascii_alphanumeric()) {
        Some("must contain at least one ASCII letter or digit")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(allowed) => Err(Error::InvalidName {
            path: parent.to_string(),
            what: "construct id",
            value: id.to_owned(),
            allowed,
        }),
    }
}

/// Validate a stack or environment name: a DNS-1123 label (lowercase letters, digits and
/// `-`, starting with a letter, at most 40 characters) because it becomes a directory name,
/// a Terraform Cloud workspace name and part of Kubernetes labels.
pub(crate) fn validate_dns_label(what: &'static str, value: &str) -> Result<()> {
    let ok = crate::vocabulary::dns::is_short_label_starting_with_letter(value, 40);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            path: "app".into(),
            what,
            value: value.to_owned(),
            allowed: "1 to 40 lowercase letters, digits or '-', starting with a letter and \
                      not ending with '-'",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_with_slashes() {
        let p = ConstructPath::parse("network/private-subnet-a").unwrap();
        assert_eq!(p.to_string(), "network/private-subnet-a");
        assert_eq!(p.segments().len(), 2);
        assert_eq!(ConstructPath::root().to_string(), "/");
    }

    #[test]
    fn bad_ids_are_errors_naming_the_parent() {
        let parent = ConstructPath::parse("network").unwrap();
        for bad in ["", "a/b", "---", "tab\tid", &"x".repeat(65)] {
            let err = parent.child(bad).unwrap_err().to_string();
            assert!(err.starts_with("network: invalid construct id"), "{err}");
        }
    }

    #[test]
    fn dns_labels() {
        assert!(validate_dns_label("stack name", "pixtools").is_ok());
        assert!(validate_dns_label("stack name", "its-camera2").is_ok());
        for bad in ["", "Pix", "1abc", "a_b", "abc-", &"a".repeat(41)] {
            assert!(validate_dns_label("stack name", bad).is_err(), "{bad}");
        }
    }
}
