//! A stated reason: why an acknowledgement, a wildcard, an internet-facing listener or a
//! security exception is acceptable. Reasons are written into comments, annotations and
//! manifest.json, so one is a single line of text that says something.

use std::fmt;

/// Why a [`Reason`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReasonError {
    /// Empty or only whitespace.
    #[error("a reason must say something; it is empty")]
    Empty,
    /// A newline, tab or other control character (it would break the comment or
    /// annotation the reason is written into).
    #[error("a reason is one line of text; it contains the control character {0:?}")]
    ControlCharacter(char),
}

/// A non-empty, single-line reason without control characters. Kept as given (not
/// trimmed), since it is written into the output as it was stated.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reason(String);

impl Reason {
    /// Check `text`: not empty or whitespace, no control characters (newlines included).
    pub fn new(text: impl Into<String>) -> Result<Self, ReasonError> {
        let text = text.into();
        if text.trim().is_empty() {
            return Err(ReasonError::Empty);
        }
        if let Some(bad) = text.chars().find(|c| c.is_control()) {
            return Err(ReasonError::ControlCharacter(bad));
        }
        Ok(Self(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<&str> for Reason {
    type Error = ReasonError;
    fn try_from(text: &str) -> Result<Self, ReasonError> {
        Self::new(text)
    }
}

impl TryFrom<String> for Reason {
    type Error = ReasonError;
    fn try_from(text: String) -> Result<Self, ReasonError> {
        Self::new(text)
    }
}

impl TryFrom<&String> for Reason {
    type Error = ReasonError;
    fn try_from(text: &String) -> Result<Self, ReasonError> {
        Self::new(text.as_str())
    }
}

/// What a construct accepts where it asks for a reason: text (checked when the construct
/// is added, so the error names its path) or a [`Reason`] already checked.
pub trait IntoReason {
    /// Check the text.
    fn into_reason(self) -> Result<Reason, ReasonError>;
}

impl IntoReason for Reason {
    fn into_reason(self) -> Result<Reason, ReasonError> {
        Ok(self)
    }
}

impl IntoReason for &Reason {
    fn into_reason(self) -> Result<Reason, ReasonError> {
        Ok(self.clone())
    }
}

impl IntoReason for &str {
    fn into_reason(self) -> Result<Reason, ReasonError> {
        Reason::new(self)
    }
}

impl IntoReason for String {
    fn into_reason(self) -> Result<Reason, ReasonError> {
        Reason::new(self)
    }
}

impl IntoReason for &String {
    fn into_reason(self) -> Result<Reason, ReasonError> {
        Reason::new(self.as_str())
    }
}

impl AsRef<str> for Reason {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> Self {
        reason.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_reasons_are_kept_as_given() {
        for good in [
            "seed parity",
            " leading space kept",
            "ümlauts and = signs: ok",
        ] {
            let reason = Reason::new(good).unwrap();
            assert_eq!(reason.as_str(), good);
            assert_eq!(reason.to_string(), good);
            assert_eq!(Reason::try_from(good).unwrap(), reason);
            assert_eq!(Reason::try_from(good.to_owned()).unwrap(), reason);
            assert_eq!(good.into_reason().unwrap(), reason);
            assert_eq!((&reason).into_reason().unwrap(), reason);
        }
    }

    #[test]
    fn empty_and_multi_line_reasons_are_refused() {
        for empty in ["", " ", "\t \n"] {
            assert_eq!(Reason::new(empty), Err(ReasonError::Empty), "{empty:?}");
            assert_eq!(empty.into_reason(), Err(ReasonError::Empty), "{empty:?}");
        }
        for (bad, c) in [
            ("two\nlines", '\n'),
            ("carriage\rreturn", '\r'),
            ("tab\there", '\t'),
            ("nul\0", '\0'),
            ("del\u{7f}", '\u{7f}'),
        ] {
            assert_eq!(
                Reason::new(bad),
                Err(ReasonError::ControlCharacter(c)),
                "{bad:?}"
            );
        }
        assert!(
            ReasonError::ControlCharacter('\n')
                .to_string()
                .contains("one line")
        );
    }
}
