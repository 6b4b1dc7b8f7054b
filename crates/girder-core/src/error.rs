//! The one error type of girder-core. Every variant names where the problem is (a construct
//! path, a stack, an artifact), the offending value, and what would have been allowed, so a
//! stack author can fix the program from the message alone.

use crate::diagnostics::Diagnostic;

/// Result alias used across girder-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or synthesizing an app.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A construct id, stack name, environment name or Terraform name is malformed.
    #[error("{path}: invalid {what} {value:?}: {allowed}")]
    InvalidName {
        /// Construct path (or stack) where the name was given.
        path: String,
        /// What kind of name it is ("construct id", "stack name", ...).
        what: &'static str,
        /// The rejected value.
        value: String,
        /// What is allowed instead.
        allowed: &'static str,
    },

    /// Two constructs map to the same Terraform address or name.
    #[error(
        "{path}: {address} is already defined by {existing}; two constructs may not share \
         a Terraform address (rename one of the construct ids)"
    )]
    DuplicateAddress {
        /// Path of the construct being created.
        path: String,
        /// The Terraform address both would use.
        address: String,
        /// Path of the construct that holds it already.
        existing: String,
    },

    /// A value could not be turned into Terraform / Kubernetes / Helm data.
    #[error("{path}: cannot serialize {what}: {message}")]
    Serialize {
        /// Where the value was given.
        path: String,
        /// What was being serialized.
        what: String,
        /// The serializer's message.
        message: String,
    },

    /// A value is invalid for the place it is used in.
    #[error("{path}: {message}")]
    Invalid {
        /// Where the value was given.
        path: String,
        /// What is wrong and what is allowed.
        message: String,
    },

    /// A Terraform value only known after apply was written into a static artifact.
    #[error(
        "{path}: {artifact} contains the Terraform expression `{expression}` at `{field}`, \
         which is only known after `terraform apply` and cannot be written into a static \
         manifest. Publish it from the stack at run time instead: write it to SSM Parameter \
         Store and read it in the cluster with an ExternalSecret, or put it in a ConfigMap \
         used for Flux post-build substitution"
    )]
    UnknownAtSynth {
        /// Construct path of the Kubernetes object or Helm release.
        path: String,
        /// The artifact ("Kubernetes object Deployment shop/web", "Helm values of release x").
        artifact: String,
        /// JSON path inside the artifact.
        field: String,
        /// The expression as Terraform would see it.
        expression: String,
    },

    /// A Terraform resource refers to something in a way Terraform cannot express.
    #[error("{path}: reference to {target} is not allowed here: {reason}")]
    BadReference {
        /// Where the reference was used.
        path: String,
        /// What it refers to.
        target: String,
        /// Why it is not allowed and what to do instead.
        reason: String,
    },

    /// Stacks depend on each other in a cycle.
    #[error(
        "stacks depend on each other in a cycle: {}; \
         move the shared resources into a stack both can read",
        cycle.join(" -> ")
    )]
    StackCycle {
        /// The stacks of the cycle, first repeated at the end.
        cycle: Vec<String>,
    },

    /// An expression refers to a stack that is not part of the app.
    #[error(
        "stack {consumer}: refers to {target} of stack {producer}, which is not part of \
         this app; add stack {producer} to the app"
    )]
    UnknownStack {
        /// Stack holding the reference.
        consumer: String,
        /// Stack the reference points into.
        producer: String,
        /// The referenced address.
        target: String,
    },

    /// Two stacks (or two apps, helm releases ...) share one name.
    #[error("{path}: {what} {name:?} is defined twice")]
    Duplicate {
        /// Where the second one was added.
        path: String,
        /// What kind of thing it is.
        what: &'static str,
        /// The duplicated name.
        name: String,
    },

    /// Kubernetes objects of a stack reference objects that are not there.
    #[error("Kubernetes objects reference what is not there ({} problem(s)):\n  {}", .0.len(), .0.join("\n  "))]
    KubernetesReferences(Vec<String>),

    /// Aspects reported problems that are not acknowledged.
    #[error("synth stopped on {} problem(s):\n{}", .0.len(), list_diagnostics(.0))]
    Diagnostics(Vec<Diagnostic>),

    /// Writing the synthesized output failed.
    /// An L2 construct refused its input: `source` is the crate's own typed error
    /// (`girder_network::NetworkError`, ...), so tests and callers match its variants
    /// with [`Error::construct_error`] instead of message text.
    #[error("{path}: {source}")]
    Construct {
        path: String,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    #[error("{path}: {message}: {source}")]
    Io {
        /// File or directory concerned.
        path: String,
        /// What girder was doing.
        message: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
}

fn list_diagnostics(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// Wrap an L2 crate's typed error with the construct path it arose at.
    pub fn construct(
        path: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Construct {
            path: path.to_string(),
            source: Box::new(source),
        }
    }

    /// The L2 crate's typed error inside an [`Error::Construct`], if it is an `E`.
    pub fn construct_error<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Construct { source, .. } => source.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// An [`Error::Invalid`]: `path` names the construct, `message` the bad value and what
    /// is allowed.
    pub fn invalid(path: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn io(
        path: &std::path::Path,
        message: &'static str,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            path: path.display().to_string(),
            message,
            source,
        }
    }
}
