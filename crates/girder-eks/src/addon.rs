//! EKS managed add-ons, pinned, each version checked against the cluster's minor; the
//! add-ons that call AWS get a pod identity role of their own.

use girder_aws::aws;
use girder_aws::aws::eks_addon as ea;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::{Error, Result, Scope};
use girder_iam::{Condition, PolicyDocument};

use crate::cluster::EksClusterHandle;
use crate::error::EksError;
use crate::pod_identity::PodIdentityRoleHandle;

/// Add-on versions girder knows to support a range of Kubernetes minors:
/// `(version, oldest minor, newest minor)`, as `aws eks describe-addon-versions
/// --addon-name <name>` reports them (its `compatibilities`). A pinned version must be
/// listed for the cluster's minor; add a line when you pin a new one, after checking it
/// with that command (girder cannot reach AWS's API when it builds).
pub type AddonVersionTable = &'static [(&'static str, u16, u16)];

/// The Amazon VPC CNI's versions.
pub const VPC_CNI_VERSIONS: AddonVersionTable = &[
    ("v1.20.4-eksbuild.2", 29, 34),
    ("v1.20.5-eksbuild.1", 30, 35),
    ("v1.21.1-eksbuild.1", 31, 37),
];

/// CoreDNS's versions.
pub const COREDNS_VERSIONS: AddonVersionTable = &[
    ("v1.11.4-eksbuild.24", 29, 33),
    ("v1.12.4-eksbuild.1", 33, 35),
    ("v1.13.1-eksbuild.1", 35, 37),
];

/// The EKS Pod Identity Agent's versions.
pub const POD_IDENTITY_AGENT_VERSIONS: AddonVersionTable = &[
    ("v1.3.8-eksbuild.2", 29, 35),
    ("v1.3.10-eksbuild.1", 31, 37),
];

/// The EBS CSI driver's versions.
pub const EBS_CSI_DRIVER_VERSIONS: AddonVersionTable = &[
    ("v1.48.0-eksbuild.2", 29, 35),
    ("v1.53.0-eksbuild.1", 31, 37),
];

/// The namespace every managed add-on here runs in.
pub const ADDON_NAMESPACE: &str = "kube-system";

/// The VPC CNI's service account (its `aws-node` DaemonSet).
pub const VPC_CNI_SERVICE_ACCOUNT: &str = "aws-node";

/// The EBS CSI controller's service account.
pub const EBS_CSI_SERVICE_ACCOUNT: &str = "ebs-csi-controller-sa";

/// Which add-on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    VpcCni,
    CoreDns,
    KubeProxy,
    PodIdentityAgent,
    EbsCsiDriver,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::VpcCni => "vpc-cni",
            Kind::CoreDns => "coredns",
            Kind::KubeProxy => "kube-proxy",
            Kind::PodIdentityAgent => "eks-pod-identity-agent",
            Kind::EbsCsiDriver => "aws-ebs-csi-driver",
        }
    }
}

/// The VPC CNI's configuration that turns its network policy agent on (the add-on's
/// configuration schema takes the flag as a string).
const NETWORK_POLICY_CONFIGURATION: &str = r#"{"enableNetworkPolicy":"true"}"#;

/// A managed add-on to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Addon {
    cluster: EksClusterHandle,
    kind: Kind,
    version: String,
    waits_for: Vec<Reference>,
    network_policies: bool,
}

/// An add-on in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AddonHandle {
    addon: aws::EksAddonHandle,
    role: Option<PodIdentityRoleHandle>,
}

impl Addon {
    fn of(cluster: &EksClusterHandle, kind: Kind, version: impl Into<String>) -> Self {
        Self {
            cluster: cluster.clone(),
            kind,
            version: version.into(),
            waits_for: Vec::new(),
            network_policies: false,
        }
    }

    /// VPC CNI only: enforce Kubernetes NetworkPolicies (the CNI's network policy agent,
    /// `enableNetworkPolicy`). Without it EKS accepts NetworkPolicy objects and enforces
    /// none: a default-deny policy denies nothing.
    pub fn enforce_network_policies(mut self) -> Self {
        self.network_policies = true;
        self
    }

    /// The Amazon VPC CNI at `version` ([`VPC_CNI_VERSIONS`]), signing as a pod identity
    /// role of its own with `AmazonEKS_CNI_Policy` (service account
    /// `kube-system/aws-node`): the node role does not get that policy. Create node
    /// groups after it ([`crate::NodeGroup::after`]), and after the Pod Identity Agent.
    pub fn vpc_cni(cluster: &EksClusterHandle, version: impl Into<String>) -> Self {
        Self::of(cluster, Kind::VpcCni, version)
    }

    /// CoreDNS at `version` ([`COREDNS_VERSIONS`]). Its pods need nodes: order it
    /// [`Addon::after`] a node group.
    pub fn coredns(cluster: &EksClusterHandle, version: impl Into<String>) -> Self {
        Self::of(cluster, Kind::CoreDns, version)
    }

    /// kube-proxy at `version`: EKS builds it per minor, so
    /// `v1.<cluster minor>.<patch>-eksbuild.<n>` only.
    pub fn kube_proxy(cluster: &EksClusterHandle, version: impl Into<String>) -> Self {
        Self::of(cluster, Kind::KubeProxy, version)
    }

    /// The EKS Pod Identity Agent at `version` ([`POD_IDENTITY_AGENT_VERSIONS`]): what
    /// gives pods their pod identity roles' credentials.
    pub fn pod_identity_agent(cluster: &EksClusterHandle, version: impl Into<String>) -> Self {
        Self::of(cluster, Kind::PodIdentityAgent, version)
    }

    /// The EBS CSI driver at `version` ([`EBS_CSI_DRIVER_VERSIONS`]), its controller
    /// signing as a pod identity role of its own holding the driver's documented actions
    /// (girder-storage's `ebs_csi_statements`), on the volumes and snapshots it tags and
    /// the instances of this cluster (`aws:ResourceTag/eks:cluster-name`) only.
    pub fn ebs_csi_driver(cluster: &EksClusterHandle, version: impl Into<String>) -> Self {
        Self::of(cluster, Kind::EbsCsiDriver, version)
    }

    /// Create the add-on after `what` (a node group, for add-ons whose pods must run
    /// before EKS reports them active).
    pub fn after(mut self, what: &impl Dependable) -> Self {
        for reference in what.dependencies() {
            if !self.waits_for.contains(&reference) {
                self.waits_for.push(reference);
            }
        }
        self
    }

    fn check(&self) -> std::result::Result<(), EksError> {
        let addon = self.kind.name();
        if self.network_policies && !matches!(self.kind, Kind::VpcCni) {
            return Err(EksError::AddonOption {
                addon,
                option: "network policy enforcement",
                allowed: Kind::VpcCni.name(),
            });
        }
        let Some(numbers) = parse_version(&self.version) else {
            return Err(EksError::AddonVersionFormat {
                addon,
                version: self.version.clone(),
            });
        };
        let minor = self.cluster.version().minor();
        let (supported, known) = match self.kind {
            Kind::KubeProxy => (
                numbers.0 == 1 && numbers.1 == u32::from(minor),
                vec![format!("v1.{minor}.<patch>-eksbuild.<n>")],
            ),
            kind => {
                let table = match kind {
                    Kind::VpcCni => VPC_CNI_VERSIONS,
                    Kind::CoreDns => COREDNS_VERSIONS,
                    Kind::PodIdentityAgent => POD_IDENTITY_AGENT_VERSIONS,
                    Kind::EbsCsiDriver | Kind::KubeProxy => EBS_CSI_DRIVER_VERSIONS,
                };
                let fits = |&&(_, low, high): &&(&str, u16, u16)| (low..=high).contains(&minor);
                (
                    table
                        .iter()
                        .filter(fits)
                        .any(|(version, _, _)| *version == self.version),
                    table
                        .iter()
                        .filter(fits)
                        .map(|(version, _, _)| (*version).to_owned())
                        .collect(),
                )
            }
        };
        if supported {
            Ok(())
        } else {
            Err(EksError::AddonVersionMismatch {
                addon,
                version: self.version.clone(),
                cluster_minor: minor,
                known,
            })
        }
    }
}

/// `vMAJOR.MINOR.PATCH-eksbuild.N`: (major, minor).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (release, build) = text.strip_prefix('v')?.split_once("-eksbuild.")?;
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    number(build)?;
    let parts: Vec<&str> = release.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        return None;
    };
    number(patch)?;
    Some((number(major)?, number(minor)?))
}

impl Construct for Addon {
    type Handle = AddonHandle;

    /// Add the add-on as construct `id` (and its pod identity role, `role`).
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<AddonHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let cluster = &self.cluster;
        let name = self.kind.name();
        let role = match self.kind {
            Kind::VpcCni => Some((
                cluster.pod_role(
                    &mut scope,
                    "role",
                    format!("{}-vpc-cni", cluster.name()),
                    "the VPC CNI (kube-system/aws-node)",
                    [],
                    vec!["AmazonEKS_CNI_Policy"],
                )?,
                VPC_CNI_SERVICE_ACCOUNT,
            )),
            Kind::EbsCsiDriver => Some((
                cluster.pod_role(
                    &mut scope,
                    "role",
                    format!("{}-ebs-csi", cluster.name()),
                    "the EBS CSI controller (kube-system/ebs-csi-controller-sa)",
                    girder_storage::ebs_csi_statements(
                        cluster.location(),
                        Condition::string_equals(
                            "aws:ResourceTag/eks:cluster-name",
                            cluster.name().to_owned(),
                        ),
                    ),
                    Vec::new(),
                )?,
                EBS_CSI_SERVICE_ACCOUNT,
            )),
            Kind::CoreDns | Kind::KubeProxy | Kind::PodIdentityAgent => None,
        };
        let mut addon = aws::EksAddon::new(name, cluster.name_expr())
            .addon_version(&self.version)
            // EKS's add-on replaces whatever the cluster runs under that name (EKS's
            // self-managed bootstrap copies) at creation and on every update: the
            // configuration is girder's, not edits made in the cluster.
            .resolve_conflicts_on_create("OVERWRITE")
            .resolve_conflicts_on_update("OVERWRITE");
        if self.network_policies {
            addon = addon.configuration_values(NETWORK_POLICY_CONFIGURATION);
        }
        if let Some((role, service_account)) = &role {
            addon = addon.pod_identity_association(ea::PodIdentityAssociation::new(
                role.arn(),
                *service_account,
            ));
        }
        let mut spec = addon.into_spec();
        if let Some((role, _)) = &role {
            spec = spec.depends_on_all(role);
        }
        spec = spec.depends_on_all(&self.waits_for);
        let addon = scope.add("addon", spec)?;
        Ok(AddonHandle {
            addon,
            role: role.map(|(role, _)| role),
        })
    }
}

impl AddonHandle {
    /// The add-on's pod identity role (the VPC CNI's and the EBS CSI driver's).
    pub fn role(&self) -> Option<&PodIdentityRoleHandle> {
        self.role.as_ref()
    }

    /// The inline policy of the add-on's role, as written (empty for an add-on without
    /// a role, or whose role holds AWS managed policies only).
    pub fn policy(&self) -> PolicyDocument {
        self.role
            .as_ref()
            .map_or_else(PolicyDocument::new, |role| role.policy().clone())
    }

    /// The generated add-on resource.
    pub fn resource(&self) -> &aws::EksAddonHandle {
        &self.addon
    }
}

impl Dependable for AddonHandle {
    /// The add-on (and so its role).
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.addon.dependency()]
    }
}
