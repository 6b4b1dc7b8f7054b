//! What girder-network refuses, as values tests can match.

use girder_core::vocabulary::{ExposureError, Ipv4Cidr, LogRetentionError, ReasonError};

use crate::cidr::CidrError;

/// Why a network construct was refused. Wrapped into [`girder_core::Error::Construct`]
/// with the construct path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// A VPC block AWS refuses, or subnets that do not fit.
    #[error("VPC {vpc}: {source}")]
    Cidr {
        /// The VPC's name.
        vpc: String,
        /// What is wrong with the blocks.
        source: CidrError,
    },
    /// Subnets that do not fit in the VPC.
    #[error("{kind} subnets of VPC {vpc} ({cidr}): {source}")]
    Subnets {
        /// `public` or `private`.
        kind: &'static str,
        /// The VPC's name.
        vpc: String,
        /// Its block.
        cidr: Ipv4Cidr,
        /// Why the plan failed.
        source: CidrError,
    },
    /// Not 1 to 6 availability zones.
    #[error("{0} availability zones: use 1 to 6")]
    AvailabilityZones(u8),
    /// A retention CloudWatch does not offer.
    #[error("{what} retention {source}")]
    LogRetention {
        /// Which logs.
        what: &'static str,
        /// The refused period.
        source: LogRetentionError,
    },
    /// Not a port range.
    #[error("port {from}-{to} is not a port range (1-65535, from <= to)")]
    PortRange {
        /// First port.
        from: u16,
        /// Last port.
        to: u16,
    },
    /// A rule naming no peer.
    #[error("an allowlist for {port} is empty; name the client CIDRs")]
    EmptyAllowlist {
        /// The port (`tcp-443`).
        port: String,
    },
    /// `allow_default_port_from` on groups that serve no default port.
    #[error("these security groups have no default port; name the port with `allow_from`")]
    NoDefaultPort,
    /// A security group without a description.
    #[error("a security group needs a description of what it protects")]
    NoDescription,
    /// A bad reason or rule description.
    #[error("{what}: {source}")]
    Reason {
        /// Where the reason was given.
        what: String,
        /// What is wrong with it.
        source: ReasonError,
    },
    /// A zone name that is not a domain.
    #[error(
        "{0:?} is not a domain name (lowercase labels of 1-63 letters, digits and '-', at least two)"
    )]
    DomainName(String),
    /// A load balancer name AWS refuses.
    #[error(
        "load balancer name {0:?}: 1-32 letters, digits and '-', not starting or ending with '-'"
    )]
    LoadBalancerName(String),
    /// Target port 0.
    #[error("the target port 0 is not a port (1-65535)")]
    TargetPort,
    /// An access log prefix ELB refuses.
    #[error(
        "access log prefix {0:?}: letters, digits, '-', '_', '.' and inner '/', not containing AWSLogs"
    )]
    AccessLogPrefix(String),
    /// CORS without methods.
    #[error("CORS needs at least one method")]
    CorsNoMethods,
    /// A method CORS does not allow.
    #[error("CORS method {0:?} is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")]
    CorsMethod(String),
    /// Not a header name.
    #[error("CORS header {0:?} is not a header name (letters, digits, '-'; no '*')")]
    CorsHeader(String),
    /// A preflight cache longer than browsers keep.
    #[error("CORS max age {0} s is over the 86400 s browsers honour")]
    CorsMaxAge(u32),
    /// An internet-facing ALB open to nobody, or to everyone without a reason.
    #[error("internet-facing ALB {alb}: {source}")]
    Exposure {
        /// The load balancer.
        alb: String,
        /// What the exposure rule refused.
        source: ExposureError,
    },
}
