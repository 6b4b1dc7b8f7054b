//! Findings reported by aspects and checks before synth: an error stops synth unless the
//! stack acknowledges it with a reason; the reason is kept in the output.

use std::fmt;

use serde::Serialize;

use crate::path::ConstructPath;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, does not stop synth.
    Warning,
    /// Stops synth unless acknowledged.
    Error,
}

/// One finding, tied to a construct.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// Stack id and construct path (`network-dev:network/vpc`).
    pub path: String,
    /// Stable rule id, used to acknowledge it (`encryption-at-rest`).
    pub rule: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{severity}[{}] {}: {}",
            self.rule, self.path, self.message
        )
    }
}

/// A stack's decision to accept a finding, with the reason written into the output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    /// Findings at this path or below it are covered.
    pub path: String,
    /// The rule acknowledged.
    pub rule: String,
    /// Why it is acceptable here.
    pub reason: String,
}

/// Collects findings while aspects run.
#[derive(Debug)]
pub struct Diagnostics {
    stack: String,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn new(stack: &str) -> Self {
        Self {
            stack: stack.to_owned(),
            items: Vec::new(),
        }
    }

    /// Report an error at `path`.
    pub fn error(&mut self, path: &ConstructPath, rule: &str, message: impl Into<String>) {
        self.push(Severity::Error, path, rule, message.into());
    }

    /// Report a warning at `path`.
    pub fn warning(&mut self, path: &ConstructPath, rule: &str, message: impl Into<String>) {
        self.push(Severity::Warning, path, rule, message.into());
    }

    fn push(&mut self, severity: Severity, path: &ConstructPath, rule: &str, message: String) {
        self.items.push(Diagnostic {
            severity,
            path: format!("{}:{path}", self.stack),
            rule: rule.to_owned(),
            message,
        });
    }

    pub(crate) fn into_items(self) -> Vec<Diagnostic> {
        self.items
    }
}

/// True when `ack` covers `diagnostic` (same rule, path at or below the acknowledged one).
pub(crate) fn covers(stack: &str, ack: &Acknowledgement, diagnostic: &Diagnostic) -> bool {
    if ack.rule != diagnostic.rule {
        return false;
    }
    let Some(path) = diagnostic
        .path
        .strip_prefix(stack)
        .and_then(|p| p.strip_prefix(':'))
    else {
        return false;
    };
    ack.path == "/" || path == ack.path || path.starts_with(&format!("{}/", ack.path))
}
