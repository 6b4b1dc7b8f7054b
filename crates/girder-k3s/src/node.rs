//! The K3s node: spot Auto Scaling group, launch template, role, security group, logs.

use girder_aws::aws;
use girder_aws::aws::autoscaling_group as asg;
use girder_aws::aws::launch_template as lt;
use girder_core::expr::fns;
use girder_core::{Error, Expr, LogRetention, Result, Scope, SsmPath};
use girder_iam::{Condition, PolicyDocument, Role, RoleHandle, Statement, Trust};
use girder_network::{SecurityGroup, SecurityGroupHandle, VpcHandle};

use crate::cloud_init::{CloudInit, is_k3s_release, is_script_safe_bucket_name, render_cloud_init};

/// AWS's public parameter naming the current Amazon Linux 2023 x86_64 AMI.
const AL2023_AMI_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// A K3s node to create.
#[derive(Clone, Debug, PartialEq)]
pub struct K3sNode {
    name: String,
    instance_types: Vec<String>,
    root_volume_gib: u16,
    ssm_prefix: String,
    k3s_version: String,
    datastore_database: String,
    manifests_bucket: Option<(String, Expr<String>)>,
    target_group_arns: Vec<Expr<String>>,
    log_retention_days: u16,
    bundled_traefik: bool,
}

/// A K3s node in the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct K3sNodeHandle {
    role: RoleHandle,
    security_group: SecurityGroupHandle,
    group: aws::AutoscalingGroupHandle,
    log_group: aws::CloudwatchLogGroupHandle,
}

impl K3sNode {
    /// Node `name` on spot `instance_types` (the first is preferred; the others are
    /// fallbacks), settings under SSM `ssm_prefix`, K3s release `k3s_version`.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        instance_types: impl IntoIterator<Item = S>,
        ssm_prefix: impl Into<String>,
        k3s_version: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            instance_types: instance_types.into_iter().map(Into::into).collect(),
            root_volume_gib: 40,
            ssm_prefix: ssm_prefix.into(),
            k3s_version: k3s_version.into(),
            datastore_database: "k3s_state".into(),
            manifests_bucket: None,
            target_group_arns: Vec::new(),
            log_retention_days: 14,
            bundled_traefik: false,
        }
    }

    /// Root volume size (gp3), GiB.
    pub fn root_volume(mut self, gib: u16) -> Self {
        self.root_volume_gib = gib;
        self
    }

    /// Sync manifests from bucket `name` (ARN `arn`) at boot.
    pub fn manifests_from(mut self, name: impl Into<String>, arn: Expr<String>) -> Self {
        self.manifests_bucket = Some((name.into(), arn));
        self
    }

    /// Register instances with this ALB target group.
    pub fn target_group(mut self, arn: Expr<String>) -> Self {
        self.target_group_arns.push(arn);
        self
    }

    /// Keep the Traefik ingress controller K3s ships, configured in the cluster with
    /// [`crate::Traefik`]. Without this the node runs no ingress controller.
    pub fn bundled_traefik(mut self) -> Self {
        self.bundled_traefik = true;
        self
    }

    /// Days the node's logs are kept: one of the periods CloudWatch offers
    /// ([`LogRetention`]), checked when the node is added.
    pub fn log_retention(mut self, days: u16) -> Self {
        self.log_retention_days = days;
        self
    }

    /// Add the node as construct `id`, in the VPC's private subnets.
    pub fn add(self, scope: &mut Scope<'_>, id: &str, vpc: &VpcHandle) -> Result<K3sNodeHandle> {
        let mut scope = scope.child(id)?;
        let at = scope.location();
        self.check(&at)?;
        let log_retention = LogRetention::days(self.log_retention_days)
            .map_err(|e| Error::invalid(&at, format!("node log retention {e}")))?;
        let identity = scope.add("account", aws::DataCallerIdentity::new())?;
        let region = scope.add("region", aws::DataRegion::new())?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let log_group_name = format!("/{}/k3s", self.name);
        let log_group = scope.add(
            "logs",
            aws::CloudwatchLogGroup::new()
                .name(&log_group_name)
                .retention_in_days(log_retention.retention_in_days()),
        )?;

        let parameters = fns::format(
            format!(
                "arn:%s:ssm:%s:%s:parameter{}/*",
                self.ssm_prefix.replace('%', "%%")
            ),
            [
                partition.partition().any(),
                region.region().any(),
                identity.account_id().any(),
            ],
        );
        let mut policy = PolicyDocument::new()
            .statement(
                Statement::allow(["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"])
                    .sid("ReadSettings")
                    .on([parameters]),
            )
            .statement(
                Statement::allow(["kms:Decrypt"])
                    .sid("DecryptSecureStrings")
                    .on(["*"])
                    .when(Condition::string_equals(
                        "kms:ViaService",
                        fns::format("ssm.%s.amazonaws.com", [region.region().any()]),
                    ))
                    .wildcard_because("SecureString parameters use the account's aws/ssm key, whose id is not known here; kms:ViaService limits it to SSM"),
            )
            .statement(
                Statement::allow(["secretsmanager:GetSecretValue"])
                    .sid("ReadDatastorePassword")
                    .on([fns::format(
                        "arn:%s:secretsmanager:%s:%s:secret:rds!*",
                        [partition.partition().any(), region.region().any(), identity.account_id().any()],
                    )]),
            )
            .statement(
                Statement::allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"])
                    .sid("ShipLogs")
                    .on([log_group.arn(), fns::format("%s:*", [log_group.arn().any()])]),
            );
        if let Some((_, arn)) = &self.manifests_bucket {
            policy = policy.statement(
                Statement::allow(["s3:ListBucket"])
                    .sid("ListManifests")
                    .on([arn.clone()]),
            );
            policy = policy.statement(
                Statement::allow(["s3:GetObject"])
                    .sid("ReadManifests")
                    .on([fns::format("%s/*", [arn.clone().any()])]),
            );
        }
        let role = Role::new(format!("{}-node", self.name), Trust::ec2())
            .description(format!("K3s node {}", self.name))
            .managed_policy("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
            .policy("node", policy)
            .add(&mut scope, "role")?;
        let Some(profile) = role.instance_profile_name() else {
            return Err(Error::invalid(
                &at,
                "an EC2 role must come with an instance profile",
            ));
        };

        let security_group = SecurityGroup::new(
            format!("{}-node", self.name),
            format!("K3s node {}", self.name),
        )
        .add(&mut scope, "security-group", vpc.id())?;
        security_group.allow_all_egress(&mut scope, "egress")?;

        let cloud_init = render_cloud_init(&CloudInit {
            name: self.name.clone(),
            ssm_prefix: self.ssm_prefix.clone(),
            datastore_database: self.datastore_database.clone(),
            k3s_version: self.k3s_version.clone(),
            manifests_bucket: self.manifests_bucket.as_ref().map(|(name, _)| name.clone()),
            manifests_prefix: "manifests/".into(),
            log_group: log_group_name,
            bundled_traefik: self.bundled_traefik,
        })
        .map_err(|e| Error::invalid(&at, e))?;

        let template = scope.add(
            "launch-template",
            aws::LaunchTemplate::new()
                .name_prefix(format!("{}-", self.name))
                .image_id(format!("resolve:ssm:{AL2023_AMI_PARAMETER}"))
                .instance_type(&self.instance_types[0])
                .iam_instance_profile(lt::IamInstanceProfile::new().name(profile))
                .vpc_security_group_ids([security_group.id()])
                .metadata_options(
                    lt::MetadataOptions::new()
                        .http_endpoint("enabled")
                        .http_tokens("required")
                        // 2 hops: pods on the node (External Secrets) use the node role
                        // through IMDS.
                        .http_put_response_hop_limit(2),
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
                .user_data(fns::base64encode(girder_core::Expr::lit(cloud_init)))
                .update_default_version(true)
                .tag_specifications(
                    lt::TagSpecifications::new()
                        .resource_type("instance")
                        .tags([("Name", self.name.as_str())]),
                ),
        )?;

        let overrides = self
            .instance_types
            .iter()
            .map(|t| asg::MixedInstancesPolicyLaunchTemplateOverride::new().instance_type(t));
        let mut launch = asg::MixedInstancesPolicyLaunchTemplate::new(
            asg::MixedInstancesPolicyLaunchTemplateLaunchTemplateSpecification::new()
                .launch_template_id(template.id())
                .version("$Latest"),
        );
        for o in overrides {
            launch = launch.override_(o);
        }
        let mut group = aws::AutoscalingGroup::new(1, 1)
            .name(&self.name)
            .desired_capacity(1)
            .vpc_zone_identifier(vpc.private_subnet_ids())
            .capacity_rebalance(true)
            .health_check_type("EC2")
            .health_check_grace_period(300)
            .mixed_instances_policy(
                asg::MixedInstancesPolicy::new(launch).instances_distribution(
                    asg::MixedInstancesPolicyInstancesDistribution::new()
                        .on_demand_base_capacity(0)
                        .on_demand_percentage_above_base_capacity(0)
                        .spot_allocation_strategy("price-capacity-optimized"),
                ),
            )
            .instance_refresh(
                asg::InstanceRefresh::new("Rolling")
                    .preferences(asg::InstanceRefreshPreferences::new().min_healthy_percentage(0)),
            )
            .tag(asg::Tag::new("Name", true, &self.name));
        if !self.target_group_arns.is_empty() {
            group = group.target_group_arns(self.target_group_arns.clone());
        }
        let group = scope.add("group", group)?;
        Ok(K3sNodeHandle {
            role,
            security_group,
            group,
            log_group,
        })
    }

    fn check(&self, at: &str) -> Result<()> {
        if self.instance_types.is_empty() {
            return Err(Error::invalid(
                at,
                "name at least one instance type (m7i-flex.large)",
            ));
        }
        for t in &self.instance_types {
            let ok = t
                .split_once('.')
                .is_some_and(|(family, size)| !family.is_empty() && !size.is_empty())
                && t.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')
                });
            if !ok {
                return Err(Error::invalid(
                    at,
                    format!("{t:?} is not an EC2 instance type (family.size, m7i-flex.large)"),
                ));
            }
        }
        if !(8..=16_384).contains(&self.root_volume_gib) {
            return Err(Error::invalid(
                at,
                format!("root volume {} GiB: use 8 to 16384", self.root_volume_gib),
            ));
        }
        // Every value below is written into the cloud-init shell script: the character
        // sets are what the names allow, and none of them can break out of a quoted word.
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 40
            && self.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !name_ok {
            return Err(Error::invalid(
                at,
                format!(
                    "node name {:?}: 1-40 letters, digits and '-', starting with a letter or digit",
                    self.name
                ),
            ));
        }
        if SsmPath::new(self.ssm_prefix.as_str()).is_err() {
            return Err(Error::invalid(
                at,
                format!(
                    "SSM prefix {:?} must start with '/' and not end with one, its segments \
                     letters, digits, '_', '.' and '-'",
                    self.ssm_prefix
                ),
            ));
        }
        if !is_k3s_release(&self.k3s_version) {
            return Err(Error::invalid(
                at,
                format!(
                    "K3s version {:?}: pin a release such as v1.33.5+k3s1 \
                     (vMAJOR.MINOR.PATCH[-rcN]+k3sN)",
                    self.k3s_version
                ),
            ));
        }
        if let Some((bucket, _)) = &self.manifests_bucket {
            if !is_script_safe_bucket_name(bucket) {
                return Err(Error::invalid(
                    at,
                    format!(
                        "manifests bucket {bucket:?} is not an S3 bucket name (3-63 lowercase \
                         letters, digits, '.' and '-')"
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl K3sNodeHandle {
    /// The node's security group (admit the ALB on the node port with it).
    pub fn security_group(&self) -> &SecurityGroupHandle {
        &self.security_group
    }

    /// The node's role (grant it bucket access).
    pub fn role(&self) -> &RoleHandle {
        &self.role
    }

    /// The Auto Scaling group's name (CloudWatch dimension).
    pub fn group_name(&self) -> Expr<String> {
        self.group.name()
    }

    /// The node's log group.
    pub fn log_group_name(&self) -> Expr<String> {
        self.log_group.name()
    }
}
