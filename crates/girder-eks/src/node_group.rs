//! Managed node groups: EC2 nodes EKS launches, updates and drains.

use std::collections::BTreeMap;

use girder_aws::aws;
use girder_aws::aws::eks_node_group as ng;
use girder_aws::aws::launch_template as lt;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::{Reference, fns};
use girder_core::kubernetes_rules;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::{Error, Expr, Result, Scope};
use girder_iam::{Role, RoleHandle, Trust};

use crate::cluster::EksClusterHandle;
use crate::error::EksError;

/// The AWS managed policies a node's role gets: joining the cluster, and pulling images
/// from ECR (pull only). Not `AmazonEKS_CNI_Policy`: the VPC CNI add-on has its own role
/// ([`crate::Addon::vpc_cni`]), so no pod reaching the node's credentials could change
/// the network.
pub const NODE_MANAGED_POLICIES: [&str; 2] = [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
];

/// How many nodes a group runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingConfig {
    /// Fewest nodes.
    pub min: u16,
    /// Most nodes.
    pub max: u16,
    /// Nodes at creation (an autoscaler changes it later; EKS keeps it between min and
    /// max).
    pub desired: u16,
}

/// On-demand or spot instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CapacityType {
    /// On-demand (the default).
    #[default]
    OnDemand,
    /// Spot: cheaper, reclaimed with two minutes' notice (EKS drains the node).
    Spot,
}

impl CapacityType {
    fn as_str(self) -> &'static str {
        match self {
            CapacityType::OnDemand => "ON_DEMAND",
            CapacityType::Spot => "SPOT",
        }
    }
}

/// What a taint does to pods that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaintEffect {
    /// Not scheduled there.
    NoSchedule,
    /// Scheduled there only when nowhere else fits.
    PreferNoSchedule,
    /// Not scheduled, and evicted if running.
    NoExecute,
}

impl TaintEffect {
    fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NO_SCHEDULE",
            TaintEffect::PreferNoSchedule => "PREFER_NO_SCHEDULE",
            TaintEffect::NoExecute => "NO_EXECUTE",
        }
    }

    /// As Kubernetes spells it (`NoSchedule`).
    fn kubernetes(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// A node taint: key, value (may be empty) and effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    key: String,
    value: String,
    effect: TaintEffect,
}

impl Taint {
    /// Taint `key=value:effect`.
    pub fn new(key: impl Into<String>, value: impl Into<String>, effect: TaintEffect) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            effect,
        }
    }
}

/// The prefix of the Cluster Autoscaler's node-template tags on an Auto Scaling group.
pub const AUTOSCALER_NODE_TEMPLATE: &str = "k8s.io/cluster-autoscaler/node-template/";

/// A managed node group to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct NodeGroup {
    cluster: EksClusterHandle,
    name: String,
    instance_types: Vec<String>,
    scaling: ScalingConfig,
    capacity: CapacityType,
    labels: BTreeMap<String, String>,
    taints: Vec<Taint>,
    subnets: Option<Vec<Expr<String>>>,
    root_volume_gib: u16,
    max_unavailable_percentage: u8,
    ami_type: String,
    waits_for: Vec<Reference>,
    autoscaler_node_template: bool,
}

/// A node group in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct NodeGroupHandle {
    group: aws::EksNodeGroupHandle,
    role: RoleHandle,
    launch_template: aws::LaunchTemplateHandle,
}

impl NodeGroup {
    /// Node group `name` of `cluster`, on `instance_types` (one family size for
    /// on-demand; several for spot), sized by `scaling`. Defaults: the cluster VPC's
    /// private subnets, on-demand, Amazon Linux 2023 (`AL2023_x86_64_STANDARD`) of the
    /// cluster's minor, a 20 GiB encrypted gp3 root volume (EKS's default size), IMDSv2
    /// required with hop limit 1 (no pod reaches the node role), updates replacing at
    /// most 33 % of the nodes at a time (terraform-aws-modules/eks's default).
    pub fn new<S: Into<String>>(
        cluster: &EksClusterHandle,
        name: impl Into<String>,
        instance_types: impl IntoIterator<Item = S>,
        scaling: ScalingConfig,
    ) -> Self {
        Self {
            cluster: cluster.clone(),
            name: name.into(),
            instance_types: instance_types.into_iter().map(Into::into).collect(),
            scaling,
            capacity: CapacityType::OnDemand,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            subnets: None,
            root_volume_gib: 20,
            max_unavailable_percentage: 33,
            ami_type: "AL2023_x86_64_STANDARD".into(),
            waits_for: Vec::new(),
            autoscaler_node_template: false,
        }
    }

    /// Create the nodes only after `what`: the add-ons their pods' networking needs
    /// (the VPC CNI, kube-proxy and the Pod Identity Agent, whose DaemonSets need no
    /// node to be created), so a new node does not start with EKS's self-managed CNI,
    /// which would sign as the node role (terraform-aws-modules/eks's `before_compute`).
    pub fn after(mut self, what: &impl Dependable) -> Self {
        for reference in what.dependencies() {
            if !self.waits_for.contains(&reference) {
                self.waits_for.push(reference);
            }
        }
        self
    }

    /// On-demand or spot.
    pub fn capacity(mut self, capacity: CapacityType) -> Self {
        self.capacity = capacity;
        self
    }

    /// Kubernetes label `key=value` on every node.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Taint every node with `taint`.
    pub fn taint(mut self, taint: Taint) -> Self {
        self.taints.push(taint);
        self
    }

    /// Launch in `subnets` (ids from the cluster VPC's handle) instead of all its private
    /// subnets. A subnet of another VPC, or an id the VPC's handle does not give, is
    /// refused ([`EksError::SubnetOutsideVpc`]).
    pub fn subnets(mut self, subnets: impl IntoIterator<Item = Expr<String>>) -> Self {
        self.subnets = Some(subnets.into_iter().collect());
        self
    }

    /// Root volume size (gp3, encrypted), GiB.
    pub fn root_volume(mut self, gib: u16) -> Self {
        self.root_volume_gib = gib;
        self
    }

    /// Replace at most `percent` % of the nodes at a time on an update.
    pub fn max_unavailable_percentage(mut self, percent: u8) -> Self {
        self.max_unavailable_percentage = percent;
        self
    }

    /// EKS's AMI type (`AL2023_ARM_64_STANDARD` for Graviton, `BOTTLEROCKET_x86_64`).
    pub fn ami_type(mut self, ami_type: impl Into<String>) -> Self {
        self.ami_type = ami_type.into();
        self
    }

    /// Tag the group's Auto Scaling group with the Cluster Autoscaler's node-template
    /// tags (`k8s.io/cluster-autoscaler/node-template/label/<key>` = value and
    /// `.../taint/<key>` = `value:Effect` for each label and taint), so the autoscaler
    /// knows what a node of the group would carry while the group is at zero nodes.
    /// (EKS itself tags a managed group's Auto Scaling group for auto-discovery:
    /// `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>`.)
    pub fn autoscaler_node_template(mut self) -> Self {
        self.autoscaler_node_template = true;
        self
    }

    fn check(&self) -> std::result::Result<Vec<Expr<String>>, EksError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 63
            && self.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(EksError::NodeGroupName(self.name.clone()));
        }
        if self.instance_types.is_empty() {
            return Err(EksError::NoInstanceTypes(self.name.clone()));
        }
        for instance_type in &self.instance_types {
            if !is_instance_type(instance_type) {
                return Err(EksError::InstanceType(instance_type.clone()));
            }
        }
        let ScalingConfig { min, max, desired } = self.scaling;
        if max == 0 || min > desired || desired > max {
            return Err(EksError::Scaling { min, desired, max });
        }
        if !(20..=16_384).contains(&self.root_volume_gib) {
            return Err(EksError::RootVolume(self.root_volume_gib));
        }
        if !(1..=100).contains(&self.max_unavailable_percentage) {
            return Err(EksError::MaxUnavailable(self.max_unavailable_percentage));
        }
        for (key, value) in &self.labels {
            kubernetes_rules::label_key(key)
                .and_then(|()| kubernetes_rules::label_value(key, value))
                .map_err(|problem| EksError::NodeLabel {
                    what: "label",
                    value: format!("{key}={value}"),
                    problem,
                })?;
        }
        for taint in &self.taints {
            kubernetes_rules::label_key(&taint.key)
                .and_then(|()| kubernetes_rules::label_value(&taint.key, &taint.value))
                .map_err(|problem| EksError::NodeLabel {
                    what: "taint",
                    value: format!("{}={}", taint.key, taint.value),
                    problem,
                })?;
        }
        let vpc = self.cluster.vpc();
        let Some(subnets) = &self.subnets else {
            return Ok(vpc.private_subnet_ids());
        };
        if subnets.is_empty() {
            return Err(EksError::NoSubnets(self.name.clone()));
        }
        let known: Vec<Expr<String>> = vpc
            .private_subnet_ids()
            .into_iter()
            .chain(vpc.public_subnet_ids())
            .collect();
        for subnet in subnets {
            if !known.contains(subnet) {
                return Err(EksError::SubnetOutsideVpc {
                    subnet: subnet.to_terraform_string(),
                    vpc: vpc.id().to_terraform_string(),
                });
            }
        }
        Ok(subnets.clone())
    }
}

/// `family.size` (`m7i.large`, `c7g.2xlarge`).
fn is_instance_type(text: &str) -> bool {
    let Some((family, size)) = text.split_once('.') else {
        return false;
    };
    let part = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    part(family) && part(size) && family.starts_with(|c: char| c.is_ascii_lowercase())
}

impl Construct for NodeGroup {
    type Handle = NodeGroupHandle;

    /// Add the group as construct `id`: its role, launch template and node group.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<NodeGroupHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let subnets = self.check().map_err(|e| Error::construct(&at, e))?;
        let cluster = &self.cluster;
        let full_name = format!("{}-{}", cluster.name(), self.name);

        let mut role = Role::new(format!("{full_name}-node"), Trust::ec2())
            .description(format!(
                "EKS node group {} of {}",
                self.name,
                cluster.name()
            ))
            .without_instance_profile();
        for policy in NODE_MANAGED_POLICIES {
            role = role.aws_managed_policy(cluster.partition().clone(), policy);
        }
        let role = role.add(&mut scope, "role")?;

        let template = scope.add(
            "launch-template",
            aws::LaunchTemplate::new()
                .name_prefix(format!("{full_name}-"))
                .description(format!("EKS node group {full_name}"))
                // EKS's own group and girder's: the control plane reaches the kubelet,
                // and rules given through the cluster's connections reach the nodes.
                .vpc_security_group_ids([
                    cluster.primary_security_group_id(),
                    cluster.security_group().id(),
                ])
                .metadata_options(
                    lt::MetadataOptions::new()
                        .http_endpoint("enabled")
                        .http_tokens("required")
                        // 1 hop: the kubelet and the node's agents reach IMDS; pods,
                        // one hop further, cannot take the node role's credentials
                        // (they get their own through pod identity).
                        .http_put_response_hop_limit(1),
                )
                .block_device_mappings(
                    lt::BlockDeviceMappings::new().device_name("/dev/xvda").ebs(
                        lt::BlockDeviceMappingsEbs::new()
                            .volume_size(self.root_volume_gib)
                            .volume_type("gp3")
                            .encrypted("true")
                            .delete_on_termination("true"),
                    ),
                )
                .update_default_version(true)
                .tag_specifications(
                    lt::TagSpecifications::new()
                        .resource_type("instance")
                        .tags([("Name", full_name.as_str())]),
                ),
        )?;

        let ScalingConfig { min, max, desired } = self.scaling;
        let mut group = aws::EksNodeGroup::new(
            cluster.name_expr(),
            role.arn(),
            subnets,
            ng::ScalingConfig::new(desired, max, min),
        )
        .node_group_name(&self.name)
        .version(cluster.version().to_string())
        .ami_type(&self.ami_type)
        .capacity_type(self.capacity.as_str())
        .instance_types(self.instance_types.clone())
        .launch_template(
            // The version the template's last change made: every change rolls the nodes.
            ng::LaunchTemplate::new(fns::tostring(template.latest_version())).id(template.id()),
        )
        .update_config(
            ng::UpdateConfig::new().max_unavailable_percentage(self.max_unavailable_percentage),
        );
        if !self.labels.is_empty() {
            group = group.labels(
                self.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>(),
            );
        }
        for taint in &self.taints {
            let mut t = ng::Taint::new(taint.effect.as_str(), &taint.key);
            if !taint.value.is_empty() {
                t = t.value(&taint.value);
            }
            group = group.taint(t);
        }
        // The role's policies are attached before nodes try to join with it (EKS
        // otherwise fails the group after waiting for nodes that cannot register).
        let group = scope.add(
            "group",
            group
                .into_spec()
                .depends_on_all(&role)
                .depends_on_all(&self.waits_for)
                // The desired size is the cluster autoscaler's once the group exists: a
                // later apply must not reset the pool to the size it was created with
                // (terraform-aws-modules/eks ignores it the same way).
                .lifecycle(girder_core::terraform::Lifecycle {
                    ignore_changes: girder_core::terraform::IgnoreChanges::Attributes(vec![
                        "scaling_config[0].desired_size".into(),
                    ]),
                    ..girder_core::terraform::Lifecycle::default()
                }),
        )?;
        if self.autoscaler_node_template {
            let asg = group
                .resources()
                .first()
                .autoscaling_groups()
                .first()
                .name();
            let tags = self
                .labels
                .iter()
                .map(|(key, value)| (format!("label/{key}"), value.clone()))
                .chain(self.taints.iter().map(|taint| {
                    (
                        format!("taint/{}", taint.key),
                        format!("{}:{}", taint.value, taint.effect.kubernetes()),
                    )
                }));
            for (index, (key, value)) in tags.enumerate() {
                scope.add(
                    &format!("node-template-{}", index + 1),
                    aws::AutoscalingGroupTag::new(
                        asg.clone(),
                        aws::autoscaling_group_tag::Tag::new(
                            format!("{AUTOSCALER_NODE_TEMPLATE}{key}"),
                            // The nodes carry the labels and taints through EKS already.
                            false,
                            value,
                        ),
                    ),
                )?;
            }
        }
        Ok(NodeGroupHandle {
            group,
            role,
            launch_template: template,
        })
    }
}

impl NodeGroupHandle {
    /// The nodes' role.
    pub fn role(&self) -> &RoleHandle {
        &self.role
    }

    /// The node group's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.group.arn()
    }

    /// The generated node group resource.
    pub fn resource(&self) -> &aws::EksNodeGroupHandle {
        &self.group
    }

    /// The nodes' launch template.
    pub fn launch_template(&self) -> &aws::LaunchTemplateHandle {
        &self.launch_template
    }

    /// The name of the Auto Scaling group EKS made for the group (known after apply).
    pub fn autoscaling_group_name(&self) -> Expr<String> {
        self.group
            .resources()
            .first()
            .autoscaling_groups()
            .first()
            .name()
    }
}

impl Dependable for NodeGroupHandle {
    /// The node group (and so its role and launch template).
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.group.dependency()]
    }
}
