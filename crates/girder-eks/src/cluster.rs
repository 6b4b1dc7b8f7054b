//! The EKS cluster: control plane, its role, KMS key, log group and security group.

use girder_aws::aws;
use girder_aws::aws::eks_cluster as eks;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::{AwsLocation, Exposure, IntoReason, Ipv4Cidr, Reason, ReasonError};
use girder_core::{Error, Expr, LogRetention, Result, Scope};
use girder_iam::{PolicyDocument, Role, RoleHandle, Statement, Trust};
use girder_network::{Connectable, Connections, SecurityGroup, SecurityGroupHandle, VpcHandle};

use crate::error::EksError;
use crate::version::KubernetesVersion;

/// Every control-plane log type EKS offers: all of them are sent to CloudWatch.
pub const CONTROL_PLANE_LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

/// An EKS cluster to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct EksCluster {
    vpc: VpcHandle,
    name: String,
    version: KubernetesVersion,
    key_arn: Option<Expr<String>>,
    key_deletion_window_days: u8,
    public_cidrs: Option<Vec<Ipv4Cidr>>,
    public_reason: Option<std::result::Result<Reason, ReasonError>>,
    log_retention_days: u16,
    deletion_protection: bool,
    service_cidr: Ipv4Cidr,
}

/// EKS's own choice for a VPC in 10.0.0.0/8, stated so the `kubernetes` Service's
/// address is known at synth (network policies name it).
const DEFAULT_SERVICE_CIDR: Ipv4Cidr = match Ipv4Cidr::checked([172, 20, 0, 0], 16) {
    Some(cidr) => cidr,
    None => Ipv4Cidr::everything(),
};

/// An EKS cluster in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct EksClusterHandle {
    name: String,
    version: KubernetesVersion,
    cluster: aws::EksClusterHandle,
    vpc: VpcHandle,
    role: RoleHandle,
    key_arn: Expr<String>,
    security_group: SecurityGroupHandle,
    log_group: aws::CloudwatchLogGroupHandle,
    here: AwsLocation,
    partition: Expr<String>,
    account: Expr<String>,
    service_cidr: Ipv4Cidr,
}

impl EksCluster {
    /// Cluster `name` of Kubernetes `version`, its control plane's network interfaces in
    /// the private subnets of `vpc`. Defaults: Secrets encrypted with a new KMS key
    /// (rotation on, 30-day deletion window, alias `alias/eks/<name>`), access entries
    /// only (no aws-auth ConfigMap, no admin for whoever creates it), private endpoint
    /// only, all five control-plane log types to `/aws/eks/<name>/cluster` kept 90 days
    /// (terraform-aws-modules/eks's retention), standard support only (no silent
    /// extended support).
    pub fn new(vpc: &VpcHandle, name: impl Into<String>, version: KubernetesVersion) -> Self {
        Self {
            vpc: vpc.clone(),
            name: name.into(),
            version,
            key_arn: None,
            key_deletion_window_days: 30,
            public_cidrs: None,
            public_reason: None,
            log_retention_days: 90,
            deletion_protection: false,
            service_cidr: DEFAULT_SERVICE_CIDR,
        }
    }

    /// Services get their cluster IPs from `cidr` (default 172.20.0.0/16, EKS's choice
    /// for a VPC in 10.0.0.0/8): a /12 to /24 of the private ranges, outside the VPC,
    /// fixed at creation (a change replaces the cluster).
    pub fn service_cidr(mut self, cidr: Ipv4Cidr) -> Self {
        self.service_cidr = cidr;
        self
    }

    /// Refuse to delete the cluster (EKS's deletion protection) until this is removed:
    /// for production.
    pub fn deletion_protection(mut self) -> Self {
        self.deletion_protection = true;
        self
    }

    /// Encrypt Secrets with the KMS key `arn` instead of a key of the cluster's own (the
    /// cluster role is granted its use).
    pub fn encryption_key(mut self, arn: impl Into<Expr<String>>) -> Self {
        self.key_arn = Some(arn.into());
        self
    }

    /// Days KMS waits before deleting the cluster's own key, 7 to 30 (default 30).
    pub fn key_deletion_window(mut self, days: u8) -> Self {
        self.key_deletion_window_days = days;
        self
    }

    /// Open the public endpoint to `cidrs` only (the private endpoint stays on). A block
    /// admitting everyone (`0.0.0.0/0`) is refused unless
    /// [`EksCluster::public_endpoint_open`] says why.
    pub fn public_endpoint(mut self, cidrs: impl IntoIterator<Item = Ipv4Cidr>) -> Self {
        self.public_cidrs = Some(cidrs.into_iter().collect());
        self
    }

    /// Open the public endpoint to every address, for `reason`.
    pub fn public_endpoint_open(mut self, reason: impl IntoReason) -> Self {
        self.public_cidrs.get_or_insert_with(Vec::new);
        self.public_reason = Some(reason.into_reason());
        self
    }

    /// Days the control-plane logs are kept: a period CloudWatch offers
    /// ([`LogRetention`]), default 90.
    pub fn log_retention(mut self, days: u16) -> Self {
        self.log_retention_days = days;
        self
    }

    fn check(&self) -> std::result::Result<(), EksError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 100
            && self.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(EksError::ClusterName(self.name.clone()));
        }
        if !(7..=30).contains(&self.key_deletion_window_days) {
            return Err(EksError::KeyDeletionWindow(self.key_deletion_window_days));
        }
        let private = [
            Ipv4Cidr::checked([10, 0, 0, 0], 8),
            Ipv4Cidr::checked([172, 16, 0, 0], 12),
            Ipv4Cidr::checked([192, 168, 0, 0], 16),
        ];
        let cidr = self.service_cidr;
        let in_private = private.iter().flatten().any(|range| range.contains(&cidr));
        if !(12..=24).contains(&cidr.prefix()) || !in_private || cidr.overlaps(&self.vpc.cidr()) {
            return Err(EksError::ServiceCidr {
                cidr: cidr.to_string(),
                vpc: self.vpc.cidr().to_string(),
            });
        }
        Ok(())
    }
}

impl Construct for EksCluster {
    type Handle = EksClusterHandle;

    /// Add the cluster as construct `id`: its KMS key and alias, role, log group (created
    /// before the cluster, so EKS does not make one without retention), security group
    /// and the cluster.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<EksClusterHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let refuse = |e: EksError| Error::construct(&at, e);
        self.check().map_err(refuse)?;
        let log_retention =
            LogRetention::days(self.log_retention_days).map_err(|e| refuse(e.into()))?;
        let exposure = match (&self.public_cidrs, self.public_reason) {
            (None, _) => None,
            (Some(cidrs), reason) => {
                let reason = reason.transpose().map_err(|e| refuse(e.into()))?;
                Some(
                    Exposure::internet_facing(cidrs, reason.as_ref())
                        .map_err(|e| refuse(e.into()))?,
                )
            }
        };

        let identity = scope.add("account", aws::DataCallerIdentity::new())?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let region = scope.add("region", aws::DataRegion::new())?;
        let key_arn = match self.key_arn {
            Some(arn) => arn,
            None => {
                let key = scope.add(
                    "key",
                    aws::KmsKey::new()
                        .description(format!("EKS cluster {} Secrets", self.name))
                        .enable_key_rotation(true)
                        .deletion_window_in_days(self.key_deletion_window_days),
                )?;
                scope.add(
                    "key-alias",
                    aws::KmsAlias::new(key.key_id()).name(format!("alias/eks/{}", self.name)),
                )?;
                key.arn()
            }
        };

        // The control plane's role: EKS's managed policy, and the use of the Secrets key
        // (terraform-aws-modules/eks's encryption policy).
        let encryption = PolicyDocument::new().statement(
            Statement::allow([
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ListGrants",
                "kms:DescribeKey",
            ])
            .sid("SecretsEnvelopeEncryption")
            .on([key_arn.clone()]),
        );
        let role = Role::new(
            format!("{}-cluster", self.name),
            Trust::service("eks.amazonaws.com"),
        )
        .description(format!("EKS cluster {} control plane", self.name))
        .aws_managed_policy(partition.partition(), "AmazonEKSClusterPolicy")
        .policy("encryption", encryption)
        .add(&mut scope, "role")?;

        let log_group = scope.add(
            "logs",
            aws::CloudwatchLogGroup::new()
                .name(format!("/aws/eks/{}/cluster", self.name))
                .retention_in_days(log_retention.retention_in_days()),
        )?;

        // Beside the security group EKS makes (which its nodes and control plane share),
        // one girder manages: on the control plane's interfaces and on every node group's
        // instances, so rules given through the handle's connections reach both.
        let security_group = SecurityGroup::new(
            &self.vpc,
            format!("{}-cluster", self.name),
            format!("EKS cluster {} control plane and nodes", self.name),
        )
        .add(&mut scope, "security-group")?;
        security_group.allow_all_egress(&mut scope, "egress")?;

        let mut vpc_config = eks::VpcConfig::new(self.vpc.private_subnet_ids())
            .endpoint_private_access(true)
            .endpoint_public_access(exposure.is_some())
            .security_group_ids([security_group.id()]);
        if let Some(exposure) = &exposure {
            let blocks: Vec<String> = exposure.blocks().iter().map(ToString::to_string).collect();
            vpc_config = vpc_config.public_access_cidrs(blocks);
        }
        let mut cluster = aws::EksCluster::new(&self.name, role.arn(), vpc_config);
        if self.deletion_protection {
            cluster = cluster.deletion_protection(true);
        }
        let cluster = scope.add(
            "cluster",
            cluster
                .version(self.version.to_string())
                .enabled_cluster_log_types(CONTROL_PLANE_LOG_TYPES)
                .access_config(
                    eks::AccessConfig::new()
                        .authentication_mode("API")
                        .bootstrap_cluster_creator_admin_permissions(false),
                )
                .encryption_config(eks::EncryptionConfig::new(
                    ["secrets"],
                    eks::EncryptionConfigProvider::new(key_arn.clone()),
                ))
                .upgrade_policy(eks::UpgradePolicy::new().support_type("STANDARD"))
                .kubernetes_network_config(
                    eks::KubernetesNetworkConfig::new()
                        .service_ipv4_cidr(self.service_cidr.to_string()),
                )
                .into_spec()
                // The role may act (its policies attached) and the log group exists
                // with its retention before the control plane starts logging.
                .depends_on_all(&role)
                .depends_on(&log_group),
        )?;
        Ok(EksClusterHandle {
            name: self.name,
            version: self.version,
            cluster,
            vpc: self.vpc,
            role,
            key_arn,
            security_group,
            log_group,
            here: AwsLocation::computed(
                partition.partition(),
                region.region(),
                identity.account_id(),
            ),
            partition: partition.partition(),
            account: identity.account_id(),
            service_cidr: self.service_cidr,
        })
    }
}

impl EksClusterHandle {
    /// The range Services take their cluster IPs from.
    pub fn service_cidr(&self) -> Ipv4Cidr {
        self.service_cidr
    }

    /// The `kubernetes` Service's address (the range's first host): what pods reach the
    /// API server at, before the CNI translates it to the control plane's addresses.
    pub fn kubernetes_service_ip(&self) -> std::net::Ipv4Addr {
        let first = u32::from(self.service_cidr.first());
        std::net::Ipv4Addr::from(first.saturating_add(1))
    }

    /// The cluster's name, known at synth.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster's name as an expression (dependants wait for the cluster).
    pub fn name_expr(&self) -> Expr<String> {
        self.cluster.name()
    }

    /// The cluster's Kubernetes minor.
    pub fn version(&self) -> KubernetesVersion {
        self.version
    }

    /// The cluster's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.cluster.arn()
    }

    /// What a person's role needs in AWS to reach the cluster through its access entry,
    /// and nothing else: `aws eks update-kubeconfig` reads this cluster's endpoint and CA
    /// (`eks:DescribeCluster` on it) and lists the clusters (`eks:ListClusters`, which has
    /// no resource-level permissions).
    pub fn find_cluster_policy(&self) -> PolicyDocument {
        PolicyDocument::new()
            .statement(
                Statement::allow(["eks:DescribeCluster"])
                    .sid("DescribeThisCluster")
                    .on([self.arn()]),
            )
            .statement(
                Statement::allow(["eks:ListClusters"])
                    .sid("ListClusters")
                    .on(["*"])
                    .wildcard_because("eks:ListClusters has no resource-level permissions"),
            )
    }

    /// The API server's endpoint.
    pub fn endpoint(&self) -> Expr<String> {
        self.cluster.endpoint()
    }

    /// The cluster's OIDC issuer URL (for IRSA).
    pub fn oidc_issuer(&self) -> Expr<String> {
        self.cluster.identity().first().oidc().first().issuer()
    }

    /// The security group EKS made for the cluster (its nodes and control plane).
    pub fn primary_security_group_id(&self) -> Expr<String> {
        self.cluster
            .vpc_config()
            .first()
            .cluster_security_group_id()
    }

    /// The security group girder made for the control plane and the nodes: admit the
    /// cluster to a database or a load balancer to the nodes with its connections.
    pub fn security_group(&self) -> &SecurityGroupHandle {
        &self.security_group
    }

    /// The VPC the cluster is in.
    pub fn vpc(&self) -> &VpcHandle {
        &self.vpc
    }

    /// The control plane's role.
    pub fn role(&self) -> &RoleHandle {
        &self.role
    }

    /// The ARN of the KMS key encrypting Secrets.
    pub fn key_arn(&self) -> &Expr<String> {
        &self.key_arn
    }

    /// The control-plane log group's name.
    pub fn log_group_name(&self) -> Expr<String> {
        self.log_group.name()
    }

    /// The generated cluster resource.
    pub fn resource(&self) -> &aws::EksClusterHandle {
        &self.cluster
    }

    /// The partition the cluster is in (the `aws_partition` data source).
    pub fn partition(&self) -> &Expr<String> {
        &self.partition
    }

    /// The cluster's partition, region and account (data sources, known at apply).
    pub fn location(&self) -> &AwsLocation {
        &self.here
    }

    /// The account the cluster is in (the `aws_caller_identity` data source).
    pub fn account(&self) -> &Expr<String> {
        &self.account
    }
}

impl Connectable for EksClusterHandle {
    /// The security group girder made for the control plane and the nodes.
    fn connections(&self) -> &Connections {
        self.security_group.connections()
    }
}

impl Dependable for EksClusterHandle {
    /// The cluster (and so its role, key and log group).
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.cluster.dependency()]
    }
}
