//! girder-eks: Amazon EKS with safe defaults.
//!
//! - [`EksCluster`]: the control plane in a VPC's private subnets, of a
//!   [`KubernetesVersion`] in EKS's standard support; Secrets envelope-encrypted with a
//!   KMS key (rotation on, an alias) or a given one; authentication through access
//!   entries only (no aws-auth ConfigMap, no implicit admin for the creator); the private
//!   endpoint, and a public one only for stated CIDRs (everyone only with a reason); all
//!   five control-plane log types to `/aws/eks/<name>/cluster` with a retention; a
//!   security group of girder's on the control plane and the nodes (`Connectable`).
//! - [`NodeGroup`]: a managed node group with its role (`AmazonEKSWorkerNodePolicy` and
//!   ECR pull only, [`NODE_MANAGED_POLICIES`]), a launch template (IMDSv2, hop limit 1,
//!   encrypted gp3 root), labels, typed taints, on-demand or spot, rolling updates, and
//!   subnets checked to be the cluster VPC's.
//! - [`AccessEntry`]: an IAM role or user with an EKS access policy, cluster-wide or in
//!   namespaces.
//! - [`EksClusterHandle::pod_identity_role`]: EKS Pod Identity, a role for one service
//!   account, trusted by `pods.eks.amazonaws.com` on behalf of this cluster only.
//! - Controller roles ([`EksClusterHandle::load_balancer_controller_role`],
//!   [`EksClusterHandle::cluster_autoscaler_role`], [`EksClusterHandle::external_dns_role`],
//!   [`EksClusterHandle::secrets_reader_role`]): pod identity roles with policies limited
//!   to this cluster's load balancers, its node groups, one hosted zone, one secret prefix.
//! - [`Addon`]: managed add-ons (VPC CNI, CoreDNS, kube-proxy, Pod Identity Agent, EBS
//!   CSI driver), pinned versions checked against the cluster's minor; the VPC CNI and
//!   the EBS CSI driver with pod identity roles of their own.
//!
//! Builders implement [`girder_core::construct::Construct`]; handles are `Dependable`.
//! Refusals are [`EksError`]s inside [`girder_core::Error::Construct`].
//!
//! ```
//! use girder_core::prelude::*;
//! use girder_eks::{
//!     AccessEntry, AccessPolicy, AccessScope, Addon, EksCluster, KubernetesVersion, NodeGroup,
//!     ScalingConfig,
//! };
//! use girder_network::Vpc;
//!
//! # fn main() -> girder_core::Result<()> {
//! let mut stack = Stack::new("platform", "dev", Backend::local())?;
//! stack.require_provider(girder_aws::aws::requirement())?;
//! let mut scope = stack.root();
//! let vpc = Vpc::new("platform-dev", "10.50.0.0/16".parse().expect("a CIDR"))
//!     .add(&mut scope, "network")?;
//! let version = KubernetesVersion::new(36).map_err(|e| girder_core::Error::construct("platform", e))?;
//! let cluster = EksCluster::new(&vpc, "platform-dev", version)
//!     .public_endpoint(["203.0.113.0/24".parse().expect("a CIDR")])
//!     .add(&mut scope, "eks")?;
//! let agent = Addon::pod_identity_agent(&cluster, "v1.3.10-eksbuild.1").add(&mut scope, "agent")?;
//! let cni = Addon::vpc_cni(&cluster, "v1.21.1-eksbuild.1").add(&mut scope, "vpc-cni")?;
//! let proxy = Addon::kube_proxy(&cluster, "v1.36.2-eksbuild.3").add(&mut scope, "kube-proxy")?;
//! let nodes = NodeGroup::new(
//!     &cluster,
//!     "system",
//!     ["m7i.large"],
//!     ScalingConfig { min: 2, max: 3, desired: 2 },
//! )
//! .after(&agent)
//! .after(&cni)
//! .after(&proxy)
//! .add(&mut scope, "system")?;
//! let _dns = Addon::coredns(&cluster, "v1.13.1-eksbuild.1")
//!     .after(&nodes)
//!     .add(&mut scope, "coredns")?;
//! let _admins = AccessEntry::new(
//!     &cluster,
//!     "arn:aws:iam::111111111111:role/platform-admins",
//!     AccessPolicy::ClusterAdmin,
//!     AccessScope::Cluster,
//! )
//! .add(&mut scope, "admins")?;
//! # Ok(())
//! # }
//! ```

mod access;
mod addon;
mod cluster;
mod controllers;
mod error;
mod node_group;
mod pod_identity;
mod version;

pub use access::{AccessEntry, AccessEntryHandle, AccessPolicy, AccessScope, Principal};
pub use addon::{
    ADDON_NAMESPACE, Addon, AddonHandle, AddonVersionTable, COREDNS_VERSIONS,
    EBS_CSI_DRIVER_VERSIONS, EBS_CSI_SERVICE_ACCOUNT, POD_IDENTITY_AGENT_VERSIONS,
    VPC_CNI_SERVICE_ACCOUNT, VPC_CNI_VERSIONS,
};
pub use cluster::{CONTROL_PLANE_LOG_TYPES, EksCluster, EksClusterHandle};
pub use controllers::{LOAD_BALANCER_TAG, autoscaler_cluster_tag};
pub use error::EksError;
pub use node_group::{
    AUTOSCALER_NODE_TEMPLATE, CapacityType, NODE_MANAGED_POLICIES, NodeGroup, NodeGroupHandle,
    ScalingConfig, Taint, TaintEffect,
};
pub use pod_identity::PodIdentityRoleHandle;
pub use version::{EKS_STANDARD_SUPPORT, EKS_STANDARD_SUPPORT_ENDED, KubernetesVersion};
