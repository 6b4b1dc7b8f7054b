//! What girder-k3s refuses, as values tests can match.

use girder_core::vocabulary::{LogRetentionError, SsmPathError};

/// Why a K3s node or its cloud-init was refused. Wrapped into
/// [`girder_core::Error::Construct`] with the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum K3sError {
    /// No instance type.
    #[error("name at least one instance type (m7i-flex.large)")]
    NoInstanceTypes,
    /// Not `family.size`.
    #[error("{0:?} is not an EC2 instance type (family.size, m7i-flex.large)")]
    InstanceType(String),
    /// A root volume EBS refuses.
    #[error("root volume {0} GiB: use 8 to 16384")]
    RootVolume(u16),
    /// A node name that is not script-safe.
    #[error("node name {0:?}: 1-40 letters, digits and '-', starting with a letter or digit")]
    NodeName(String),
    /// Not a K3s release.
    #[error(
        "K3s version {0:?}: pin a release such as v1.36.4+k3s1 (vMAJOR.MINOR.PATCH[-rcN]+k3sN)"
    )]
    K3sVersion(String),
    /// A K3s release of a Kubernetes minor past its end of life: no more fixes.
    #[error(
        "K3s version {version:?}: Kubernetes 1.{minor} reached end of life on {end_of_life}; pin a release of 1.{oldest_supported} or later"
    )]
    K3sEndOfLife {
        /// The version asked for.
        version: String,
        /// Its Kubernetes minor.
        minor: u16,
        /// When that minor's upstream support ended.
        end_of_life: &'static str,
        /// The oldest minor still supported.
        oldest_supported: u16,
    },
    /// A manifests bucket whose name is computed at apply: cloud-init needs it literally.
    #[error(
        "the manifests bucket's name is computed at apply; the node's cloud-init needs a literal name"
    )]
    ManifestsBucketComputed,
    /// A manifests bucket name that is not script-safe.
    #[error(
        "manifests bucket {0:?} is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')"
    )]
    ManifestsBucketName(String),
    /// A log retention CloudWatch does not offer.
    #[error("node log retention {0}")]
    LogRetention(#[from] LogRetentionError),
    /// A settings path SSM refuses.
    #[error(transparent)]
    SsmPath(#[from] SsmPathError),
    /// A cloud-init value that could break out of the script or the YAML.
    #[error("cloud-init {what} {value:?}: {allowed}")]
    CloudInitValue {
        /// Which value.
        what: &'static str,
        /// The value.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The template failed to render.
    #[error("cloud-init template: {0}")]
    Template(String),
    /// The issuer bucket's name has apply-time parts.
    #[error("the issuer bucket's name {0:?} must be known at synth (K3s's flags name it)")]
    IssuerBucketComputed(String),
    /// A workload role asked of a node without a published service-account issuer.
    #[error("workload role {0:?}: the node has no pod identity (call K3sNode::pod_identity)")]
    NoPodIdentity(String),
    /// A workload role no service account may assume.
    #[error("workload role {0:?}: name at least one service account")]
    NoServiceAccounts(String),
    /// A namespace or service-account name Kubernetes refuses.
    #[error(
        "workload role service account {0:?}: a namespace (DNS label) and a service account name (DNS subdomain)"
    )]
    ServiceAccountName(String),
    /// A role ARN a pod's environment names that is not an IAM role's.
    #[error("{what} role ARN {arn:?}: arn:<partition>:iam::<12-digit account>:role/<name>")]
    RoleArn {
        /// Whose role.
        what: &'static str,
        /// The ARN given.
        arn: String,
    },
    /// Not an AWS region's name.
    #[error("region {0:?}: an AWS region such as us-east-1")]
    Region(String),
    /// The EC2 role came without an instance profile.
    #[error("an EC2 role must come with an instance profile")]
    NoInstanceProfile,
    /// Traefik's NodePort outside the range the API server allots NodePorts from.
    #[error("Traefik NodePort {port} is outside the NodePort range {low}-{high}")]
    NodePortOutOfRange {
        /// The port asked for.
        port: u16,
        /// Lowest NodePort.
        low: u16,
        /// Highest NodePort.
        high: u16,
    },
}
