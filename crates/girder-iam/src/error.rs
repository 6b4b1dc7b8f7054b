//! What girder-iam refuses, as values tests can match.

use girder_core::vocabulary::ReasonError;

/// Why a policy or role was refused. Wrapped into [`girder_core::Error::Construct`] with
/// the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IamError {
    /// An IAM path IAM refuses.
    #[error(
        "IAM path {0:?}: `/`, then segments of letters, digits and `+=,.@_-` each ended by \
         `/`, at most 512 characters"
    )]
    RolePath(String),
    /// A document without statements.
    #[error("the policy document has no statements")]
    NoStatements,
    /// A statement without actions.
    #[error("{statement} has no actions")]
    NoActions {
        /// The statement's sid or position.
        statement: String,
    },
    /// An Allow naming no resource (and no principal).
    #[error("{statement} ({actions}) names no resources; grant on the ARNs it needs")]
    NoResources {
        /// The statement's sid or position.
        statement: String,
        /// Its actions, joined.
        actions: String,
    },
    /// A wildcard action or resource without a reason.
    #[error(
        "{statement} allows {wildcards}: least privilege wants the exact actions and ARNs; \\
         if the service offers nothing narrower, say why with `.wildcard_because(reason)`"
    )]
    Wildcard {
        /// The statement's sid or position.
        statement: String,
        /// The wildcards found, joined.
        wildcards: String,
    },
    /// A bad reason given to `.wildcard_because(reason)`.
    #[error("{statement}: the reason given to `.wildcard_because(reason)`: {source}")]
    Reason {
        /// The statement's sid or position.
        statement: String,
        /// What is wrong with the reason.
        source: ReasonError,
    },
    /// A statement that cannot become policy JSON.
    #[error("{0}")]
    Serialize(String),
    /// A permissions boundary whose ceiling allows nothing (no action given).
    #[error(
        "the boundary's ceiling names no actions: list the services its roles use (`ec2:*`) or their actions"
    )]
    NoCeiling,
    /// A permissions boundary whose ceiling allows every action (`*`), so it caps nothing.
    #[error(
        "the boundary's ceiling allows `*`, which caps nothing: list the services its roles use (`ec2:*`) or their actions"
    )]
    CeilingIsEverything,
    /// A protection given to a permissions boundary that allows instead of denying.
    #[error(
        "{statement} is an Allow: a boundary's protections are Denies (the ceiling is the only Allow)"
    )]
    ProtectionAllows {
        /// The statement's sid or position.
        statement: String,
    },
    /// A maximum session outside 1 to 12 hours.
    #[error("the maximum session is 3600 to 43200 seconds (1 to 12 hours), not {0}")]
    MaxSession(u32),
}
