//! The AWS side of the cluster controllers that call AWS: each a pod identity role
//! ([`EksClusterHandle::pod_identity_role`]) for the controller's service account, with
//! a policy limited to what this cluster's controller touches.
//!
//! - [`EksClusterHandle::load_balancer_controller_role`]: the AWS Load Balancer
//!   Controller (load balancers, target groups and security groups it tags as its own).
//! - [`EksClusterHandle::cluster_autoscaler_role`]: the Cluster Autoscaler, which may
//!   resize only the Auto Scaling groups of the node groups it is given.
//! - [`EksClusterHandle::external_dns_role`]: external-dns, which may change records of
//!   one Route53 hosted zone only.
//! - [`EksClusterHandle::secrets_reader_role`]: the External Secrets operator, reading
//!   Secrets Manager secrets under one name prefix only.

use girder_core::vocabulary::Arn;
use girder_core::{Error, Result, Scope, Value};
use girder_iam::{Condition, Statement};

use crate::cluster::EksClusterHandle;
use crate::error::EksError;
use crate::node_group::NodeGroupHandle;
use crate::pod_identity::PodIdentityRoleHandle;

/// The tag the Load Balancer Controller puts, with its cluster's name, on every load
/// balancer, target group and security group it makes.
pub const LOAD_BALANCER_TAG: &str = "elbv2.k8s.aws/cluster";

/// Read-only calls of the controller with no resource-level permissions.
const LOAD_BALANCER_READS: [&str; 29] = [
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeTags",
    "ec2:DescribeCoipPools",
    "ec2:DescribeIpamPools",
    "ec2:DescribeRouteTables",
    "ec2:GetCoipPoolUsage",
    "ec2:GetSecurityGroupsForVpc",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTrustStores",
    "elasticloadbalancing:DescribeCapacityReservation",
];

/// Changes to load balancers and target groups the controller tagged as its own.
const LOAD_BALANCER_CHANGES: [&str; 11] = [
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyCapacityReservation",
    "elasticloadbalancing:ModifyIpPools",
];

/// What the Cluster Autoscaler reads to find and size its groups (none of it takes a
/// resource ARN).
const AUTOSCALER_READS: [&str; 9] = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
];

/// The Cluster Autoscaler's auto-discovery tag for `cluster` (EKS puts it, with value
/// `owned`, on the Auto Scaling group of every managed node group).
pub fn autoscaler_cluster_tag(cluster: &str) -> String {
    format!("k8s.io/cluster-autoscaler/{cluster}")
}

impl EksClusterHandle {
    /// The AWS Load Balancer Controller's role `<cluster>-load-balancer-controller`, for
    /// service account `service_account` of `namespace` (construct `id` of `scope`): the
    /// controller's published policy, narrowed to this cluster. It reads the VPC, load
    /// balancers and certificates (calls with no resource-level permissions); it creates
    /// load balancers, target groups and security groups only tagged
    /// `elbv2.k8s.aws/cluster=<cluster>`, and changes, retags or deletes only what
    /// carries that tag with this cluster's name; it opens security groups of the
    /// region's account to its load balancers, registers targets, and manages the
    /// listeners and rules of load balancers. Errors as
    /// [`EksClusterHandle::pod_identity_role`].
    pub fn load_balancer_controller_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<PodIdentityRoleHandle> {
        let cluster = self.name().to_owned();
        let request_tag = format!("aws:RequestTag/{LOAD_BALANCER_TAG}");
        let resource_tag = format!("aws:ResourceTag/{LOAD_BALANCER_TAG}");
        let tagged_for_this_cluster = |key: &str| Condition::string_equals(key, cluster.as_str());
        let untouched = |key: &str| Condition::new("Null", key, ["true"]);
        let here = self.location();
        let load_balancers = [
            here.arn("elasticloadbalancing", "loadbalancer/net/*/*"),
            here.arn("elasticloadbalancing", "loadbalancer/app/*/*"),
        ];
        let target_groups = here.arn("elasticloadbalancing", "targetgroup/*/*");
        let balancing: Vec<Arn> = load_balancers
            .iter()
            .cloned()
            .chain([target_groups.clone()])
            .collect();
        let listeners = [
            here.arn("elasticloadbalancing", "listener/net/*/*/*"),
            here.arn("elasticloadbalancing", "listener/app/*/*/*"),
            here.arn("elasticloadbalancing", "listener-rule/net/*/*/*"),
            here.arn("elasticloadbalancing", "listener-rule/app/*/*/*"),
        ];
        let security_groups = here.arn("ec2", "security-group/*");
        let statements = [
            Statement::allow(["iam:CreateServiceLinkedRole"])
                .sid("ElbServiceLinkedRole")
                .on(["*"])
                .when(Condition::string_equals(
                    "iam:AWSServiceName",
                    "elasticloadbalancing.amazonaws.com",
                ))
                .wildcard_because("the service-linked role's ARN is IAM's to make"),
            Statement::allow(LOAD_BALANCER_READS)
                .sid("Discover")
                .on(["*"])
                .wildcard_because("EC2 and ELB describe calls have no resource-level permissions"),
            Statement::allow([
                "acm:ListCertificates",
                "acm:DescribeCertificate",
                "iam:ListServerCertificates",
                "iam:GetServerCertificate",
                "cognito-idp:DescribeUserPoolClient",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:AssociateWebACL",
                "wafv2:DisassociateWebACL",
                "shield:GetSubscriptionState",
                "shield:DescribeProtection",
                "shield:CreateProtection",
                "shield:DeleteProtection",
            ])
            .sid("CertificatesAndProtection")
            .on(["*"])
            .wildcard_because(
                "the certificates, web ACLs and protections an Ingress names are not known here",
            ),
            Statement::allow(["ec2:CreateSecurityGroup"])
                .sid("CreateSecurityGroups")
                .on([here.arn("ec2", "vpc/*"), security_groups.clone()]),
            Statement::allow(["ec2:CreateTags"])
                .sid("TagItsNewSecurityGroups")
                .on([security_groups.clone()])
                .when(Condition::string_equals(
                    "ec2:CreateAction",
                    "CreateSecurityGroup",
                ))
                .when(tagged_for_this_cluster(&request_tag)),
            Statement::allow(["ec2:CreateTags", "ec2:DeleteTags"])
                .sid("RetagItsSecurityGroups")
                .on([security_groups.clone()])
                .when(untouched(&request_tag))
                .when(tagged_for_this_cluster(&resource_tag)),
            Statement::allow(["ec2:DeleteSecurityGroup"])
                .sid("DeleteItsSecurityGroups")
                .on([security_groups.clone()])
                .when(tagged_for_this_cluster(&resource_tag)),
            // Its own groups, and the nodes' (the cluster's), which it opens to its load
            // balancers: those carry no tag of its.
            Statement::allow([
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
            ])
            .sid("OpenSecurityGroupsToLoadBalancers")
            .on([security_groups]),
            Statement::allow([
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
            ])
            .sid("CreateTaggedLoadBalancers")
            .on(balancing.iter().cloned())
            .when(tagged_for_this_cluster(&request_tag)),
            Statement::allow(["elasticloadbalancing:AddTags"])
                .sid("TagWhatItCreates")
                .on(balancing.iter().cloned())
                .when(Condition::new(
                    "StringEquals",
                    "elasticloadbalancing:CreateAction",
                    ["CreateTargetGroup", "CreateLoadBalancer"],
                ))
                .when(tagged_for_this_cluster(&request_tag)),
            Statement::allow([
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ])
            .sid("RetagItsLoadBalancers")
            .on(balancing.iter().cloned())
            .when(untouched(&request_tag))
            .when(tagged_for_this_cluster(&resource_tag)),
            Statement::allow(LOAD_BALANCER_CHANGES)
                .sid("ChangeItsLoadBalancers")
                .on(balancing.iter().cloned())
                .when(tagged_for_this_cluster(&resource_tag)),
            Statement::allow([
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ])
            .sid("Targets")
            .on([target_groups]),
            Statement::allow([
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
                "elasticloadbalancing:SetWebAcl",
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ])
            .sid("ListenersAndRules")
            .on(listeners.into_iter().chain(load_balancers)),
        ];
        self.pod_identity_role(
            scope,
            id,
            format!("{}-load-balancer-controller", self.name()),
            namespace,
            service_account,
            statements,
        )
    }

    /// The Cluster Autoscaler's role `<cluster>-cluster-autoscaler`, for service account
    /// `service_account` of `namespace` (construct `id` of `scope`): it resizes and
    /// removes instances of the Auto Scaling groups of `node_groups` only (their ARNs,
    /// and only while they carry this cluster's auto-discovery tag), reads those node
    /// groups (`eks:DescribeNodegroup`: their labels and taints when a group is at zero),
    /// and makes the discovery reads that take no ARN. Errors: no node group
    /// ([`EksError::NoNodeGroups`]), and those of
    /// [`EksClusterHandle::pod_identity_role`].
    pub fn cluster_autoscaler_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        namespace: &str,
        service_account: &str,
        node_groups: &[&NodeGroupHandle],
    ) -> Result<PodIdentityRoleHandle> {
        if node_groups.is_empty() {
            return Err(Error::construct(
                format!("{}/{id}", scope.location()),
                EksError::NoNodeGroups,
            ));
        }
        let groups: Vec<Arn> = node_groups
            .iter()
            .map(|group| {
                self.location()
                    .arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/")
                    .join(group.autoscaling_group_name())
            })
            .collect();
        let statements = [
            Statement::allow([
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ])
            .sid("ScaleTheClustersNodeGroups")
            .on(groups)
            .when(Condition::string_equals(
                &format!("aws:ResourceTag/{}", autoscaler_cluster_tag(self.name())),
                "owned",
            )),
            Statement::allow(["eks:DescribeNodegroup"])
                .sid("ReadTheClustersNodeGroups")
                .on(node_groups.iter().map(|group| group.arn())),
            Statement::allow(AUTOSCALER_READS)
                .sid("Discover")
                .on(["*"])
                .wildcard_because(
                    "the Auto Scaling and EC2 describe calls have no resource-level permissions",
                ),
        ];
        self.pod_identity_role(
            scope,
            id,
            format!("{}-cluster-autoscaler", self.name()),
            namespace,
            service_account,
            statements,
        )
    }

    /// external-dns's role `<cluster>-external-dns`, for service account
    /// `service_account` of `namespace` (construct `id` of `scope`): it changes and lists
    /// the records of hosted zone `zone_id` only, and lists the hosted zones (a call with
    /// no resource-level permissions) to find it. Errors as
    /// [`EksClusterHandle::pod_identity_role`].
    pub fn external_dns_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        namespace: &str,
        service_account: &str,
        zone_id: impl Into<Value<String>>,
    ) -> Result<PodIdentityRoleHandle> {
        let zone = Arn::new(self.partition().clone(), "route53", "", "", "hostedzone/")
            .join(zone_id.into());
        let statements = [
            Statement::allow([
                "route53:ChangeResourceRecordSets",
                "route53:ListResourceRecordSets",
                "route53:ListTagsForResource",
            ])
            .sid("RecordsOfTheZone")
            .on([zone]),
            Statement::allow(["route53:ListHostedZones"])
                .sid("FindTheZone")
                .on(["*"])
                .wildcard_because("route53:ListHostedZones has no resource-level permissions"),
        ];
        self.pod_identity_role(
            scope,
            id,
            format!("{}-external-dns", self.name()),
            namespace,
            service_account,
            statements,
        )
    }

    /// The External Secrets operator's role `<cluster>-external-secrets`, for service
    /// account `service_account` of `namespace` (construct `id` of `scope`): it reads
    /// (`GetSecretValue`, `DescribeSecret`, `ListSecretVersionIds`,
    /// `GetResourcePolicy`) the Secrets Manager secrets of the cluster's region and
    /// account whose names start with one of `prefixes` (`piksel/dev/`) only. Errors: no
    /// prefix, an empty one or one with a wildcard ([`EksError::SecretPrefix`]), and
    /// those of [`EksClusterHandle::pod_identity_role`].
    pub fn secrets_reader_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        namespace: &str,
        service_account: &str,
        prefixes: &[&str],
    ) -> Result<PodIdentityRoleHandle> {
        if prefixes.is_empty() {
            return Err(Error::construct(
                format!("{}/{id}", scope.location()),
                EksError::SecretPrefix(String::new()),
            ));
        }
        if let Some(bad) = prefixes
            .iter()
            .find(|prefix| prefix.is_empty() || prefix.contains(['*', '?']))
        {
            return Err(Error::construct(
                format!("{}/{id}", scope.location()),
                EksError::SecretPrefix((*bad).to_owned()),
            ));
        }
        let secrets = prefixes.iter().map(|prefix| {
            self.location()
                .arn("secretsmanager", format!("secret:{prefix}*"))
        });
        let statements = [Statement::allow([
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
            "secretsmanager:ListSecretVersionIds",
            "secretsmanager:GetResourcePolicy",
        ])
        .sid("ReadTheEnvironmentsSecrets")
        .on(secrets)];
        self.pod_identity_role(
            scope,
            id,
            format!("{}-external-secrets", self.name()),
            namespace,
            service_account,
            statements,
        )
    }
}
