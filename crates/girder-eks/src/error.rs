//! What girder-eks refuses, as values tests can match.

use girder_core::vocabulary::{ExposureError, LogRetentionError, ReasonError};

/// Why an EKS cluster, node group, access entry, pod identity or add-on was refused.
/// Wrapped into [`girder_core::Error::Construct`] with the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EksError {
    /// A cluster name EKS refuses.
    #[error(
        "cluster name {0:?}: 1-100 letters, digits, '-' and '_', starting with a letter or digit"
    )]
    ClusterName(String),
    /// Not a Kubernetes minor (`1.35`).
    #[error("Kubernetes version {0:?}: a minor such as 1.35 (MAJOR.MINOR)")]
    KubernetesVersion(String),
    /// A minor past EKS's standard support (extended support costs extra and ends too).
    #[error(
        "Kubernetes 1.{minor}: EKS standard support for it ended on or before {end_of_standard_support}; use 1.{oldest_supported} or later"
    )]
    KubernetesVersionEnded {
        /// The minor asked for.
        minor: u16,
        /// When its standard support ended (for a minor older than the table: the oldest
        /// entry's date, by which it had ended).
        end_of_standard_support: &'static str,
        /// The oldest minor still in standard support.
        oldest_supported: u16,
    },
    /// A minor newer than any girder knows EKS to offer.
    #[error("Kubernetes 1.{minor}: not a version EKS offers yet (newest known: 1.{newest_known})")]
    KubernetesVersionUnknown {
        /// The minor asked for.
        minor: u16,
        /// The newest minor in girder's table.
        newest_known: u16,
    },
    /// A public endpoint open to everyone without a reason, or with nobody allowed.
    #[error("cluster public endpoint: {0}")]
    PublicEndpoint(#[from] ExposureError),
    /// A reason that is not one line of text.
    #[error("reason: {0}")]
    Reason(#[from] ReasonError),
    /// A control-plane log retention CloudWatch does not offer.
    #[error("control-plane log retention {0}")]
    LogRetention(#[from] LogRetentionError),
    /// A KMS key deletion window KMS refuses.
    #[error("KMS key deletion window {0} days: use 7 to 30")]
    KeyDeletionWindow(u8),
    /// A node group name EKS refuses.
    #[error(
        "node group name {0:?}: 1-63 letters, digits, '-' and '_', starting with a letter or digit"
    )]
    NodeGroupName(String),
    /// No instance type.
    #[error("node group {0:?}: name at least one instance type (m7i.large)")]
    NoInstanceTypes(String),
    /// Not `family.size`.
    #[error("{0:?} is not an EC2 instance type (family.size, m7i.large)")]
    InstanceType(String),
    /// Sizes that are not `min <= desired <= max`, `max >= 1`.
    #[error(
        "node group scaling min {min}, desired {desired}, max {max}: need min <= desired <= max and max >= 1"
    )]
    Scaling {
        /// Fewest nodes.
        min: u16,
        /// Nodes wanted now.
        desired: u16,
        /// Most nodes.
        max: u16,
    },
    /// A subnet that is not one of the cluster VPC's.
    #[error(
        "node group subnet {subnet}: not a subnet of the cluster's VPC {vpc} (use the VPC handle's subnet ids)"
    )]
    SubnetOutsideVpc {
        /// The subnet given, as Terraform text.
        subnet: String,
        /// The cluster's VPC id, as Terraform text.
        vpc: String,
    },
    /// A node group given an empty subnet list.
    #[error("node group {0:?}: name at least one subnet")]
    NoSubnets(String),
    /// A root volume EBS refuses.
    #[error("root volume {0} GiB: use 20 to 16384")]
    RootVolume(u16),
    /// A max-unavailable percentage outside 1-100.
    #[error("max unavailable {0} %: use 1 to 100")]
    MaxUnavailable(u8),
    /// A node label or taint Kubernetes refuses.
    #[error("node {what} {value:?}: {problem}")]
    NodeLabel {
        /// Label or taint.
        what: &'static str,
        /// The key and value given.
        value: String,
        /// What Kubernetes requires.
        problem: String,
    },
    /// An access entry principal that is not an IAM role's or user's ARN.
    #[error(
        "access entry principal {0:?}: an IAM role or user ARN (arn:<partition>:iam::<12-digit account>:role/<name> or :user/<name>)"
    )]
    AccessPrincipal(String),
    /// A namespace-scoped access policy without a namespace, or with a bad one.
    #[error(
        "access scope namespaces {0:?}: at least one, each a Kubernetes namespace name (DNS label)"
    )]
    AccessNamespaces(Vec<String>),
    /// A namespace or service-account name Kubernetes refuses.
    #[error(
        "pod identity service account {0:?}: a namespace (DNS label) and a service account name (DNS subdomain)"
    )]
    ServiceAccountName(String),
    /// Kubernetes groups an access entry cannot carry.
    #[error(
        "access entry groups {0:?}: one or more names of letters, digits, '-', '_', '.' and \
         ':', at most 63 characters, none starting with `system:` (EKS's reserved groups)"
    )]
    AccessGroups(Vec<String>),
    /// A Service address range EKS refuses.
    #[error(
        "service CIDR {cidr}: a /12 to /24 of 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, \
         outside the VPC's {vpc}"
    )]
    ServiceCidr {
        /// The range given.
        cidr: String,
        /// The VPC's.
        vpc: String,
    },
    /// An option of one add-on asked of another.
    #[error("add-on {addon}: {option} is an option of {allowed} only")]
    AddonOption {
        /// The add-on.
        addon: &'static str,
        /// The option asked.
        option: &'static str,
        /// The add-on that has it.
        allowed: &'static str,
    },
    /// An add-on version not written as EKS names them.
    #[error("add-on {addon} version {version:?}: vMAJOR.MINOR.PATCH-eksbuild.N")]
    AddonVersionFormat {
        /// The add-on.
        addon: &'static str,
        /// The version given.
        version: String,
    },
    /// An add-on version that does not support the cluster's Kubernetes minor.
    #[error(
        "add-on {addon} {version} does not support Kubernetes 1.{cluster_minor}; versions known to: {known:?}"
    )]
    AddonVersionMismatch {
        /// The add-on.
        addon: &'static str,
        /// The version given.
        version: String,
        /// The cluster's minor.
        cluster_minor: u16,
        /// The versions girder knows to support that minor.
        known: Vec<String>,
    },
    /// A Cluster Autoscaler role with no node group to scale.
    #[error("cluster autoscaler role: name at least one node group it may scale")]
    NoNodeGroups,
    /// A Secrets Manager name prefix that is empty or has a wildcard.
    #[error(
        "secret name prefix {0:?}: a non-empty prefix without '*' or '?' (piksel/dev/); the role reads the secrets whose names start with it"
    )]
    SecretPrefix(String),
}
