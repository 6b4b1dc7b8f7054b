//! The K3s node: spot Auto Scaling group, launch template, role, security group, logs.

use girder_aws::aws;
use girder_aws::aws::autoscaling_group as asg;
use girder_aws::aws::launch_template as lt;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::{Reference, fns};
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::{Arn, AwsLocation, SsmPath, SsmPathError};
use girder_core::{Error, Expr, LogRetention, Result, Scope};
use girder_iam::{Condition, PolicyDocument, Role, RoleHandle, Statement, Trust};
use girder_network::{
    AlbHandle, Connectable, Connections, Port, SecurityGroup, SecurityGroupHandle, VpcHandle,
};
use girder_rds::{PostgresParameters, PostgresUserHandle};
use girder_storage::{Bucket, BucketHandle, BucketName, RepositoryHandle};
use serde_json::json;

use crate::cloud_init::{
    CloudInit, DatabaseUser, NamespaceLogs, PodIdentityBoot, check_supported, is_k3s_release,
    is_script_safe_bucket_name, render_cloud_init,
};
use crate::error::K3sError;

/// AWS's public parameter naming the current Amazon Linux 2023 x86_64 AMI.
const AL2023_AMI_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// The key prefix manifests are synced from.
const MANIFESTS_PREFIX: &str = "manifests/";

/// Each read and download at boot is tried this often, [`BOOT_RETRY_SECONDS`] apart:
/// about 5 minutes in all. Terraform creates the node after the database and its
/// settings, so this covers eventual consistency (a new role, a NAT route), not a
/// database still being created.
const BOOT_ATTEMPTS: u16 = 20;

/// Seconds between two tries at boot.
const BOOT_RETRY_SECONDS: u16 = 15;

/// Seconds K3s may take to start (reach its datastore, come up) before the boot fails.
const START_TIMEOUT_SECONDS: u16 = 600;

/// Seconds a launching instance may take to boot to a Ready Node (the reads' retries,
/// the K3s download and start) before its launch hook abandons it.
const LAUNCH_TIMEOUT_SECONDS: u16 = 1200;

/// The cluster token's parameter under the node's settings prefix.
const TOKEN_PARAMETER: &str = "k3s/token";

/// The `ecr-credential-provider` release (kubernetes/cloud-provider-aws) the kubelet pulls
/// private ECR images with: the newest one published as a binary on artifacts.k8s.io,
/// where the node downloads it. Releases from v1.30.0 on exist only as source there
/// (kubernetes/cloud-provider-aws#1324, still open): pinning one (v1.34.0, as girder did
/// before) gives a 404 at every boot, so K3s never starts and the group replaces the
/// instance forever. The kubelet credential provider API this release speaks
/// (`credentialprovider.kubelet.k8s.io/v1`) is stable since Kubernetes 1.26 and served by
/// every supported kubelet; the plugin's only job is `ecr:GetAuthorizationToken`.
pub const ECR_CREDENTIAL_PROVIDER: &str = "v1.29.0";

/// The audience of the service-account tokens workloads exchange with STS (as EKS).
pub const WORKLOAD_AUDIENCE: &str = "sts.amazonaws.com";

/// The keys of the issuer's two public documents in its bucket: the OIDC discovery
/// document and the JWKS it points at.
pub const ISSUER_DOCUMENTS: [&str; 2] = [".well-known/openid-configuration", "keys.json"];

/// The script the node's SSM document runs: the manifests sync, and nothing else.
const SYNC_SCRIPT: &str = "/usr/local/sbin/girder-k3s-sync-manifests";

/// A K3s node to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct K3sNode {
    vpc: VpcHandle,
    datastore: PostgresParameters,
    name: String,
    instance_types: Vec<String>,
    root_volume_gib: u16,
    ssm_prefix: SsmPath,
    k3s_version: String,
    datastore_database: String,
    manifests_bucket: Option<BucketHandle>,
    target_group_arns: Vec<Expr<String>>,
    log_retention_days: u16,
    bundled_traefik: bool,
    repositories: Vec<RepositoryHandle>,
    waits_for: Vec<Reference>,
    single_zone: bool,
    datastore_user: Option<PostgresUserHandle>,
    database_users: Vec<PostgresUserHandle>,
    namespace_logs: Vec<(String, String, Expr<String>)>,
    pod_identity: Option<(BucketName, String)>,
}

/// A K3s node in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct K3sNodeHandle {
    name: String,
    role: RoleHandle,
    policy: PolicyDocument,
    security_group: SecurityGroupHandle,
    group: aws::AutoscalingGroupHandle,
    log_group: aws::CloudwatchLogGroupHandle,
    sync_document: Option<aws::SsmDocumentHandle>,
    issuer: Option<Issuer>,
    /// The node's partition, region and account (computed at apply).
    here: AwsLocation,
}

/// The node's published service-account issuer.
#[derive(Clone, Debug, PartialEq)]
struct Issuer {
    /// `<bucket>.s3.<region>.amazonaws.com`: the URL without `https://`, the prefix of
    /// the provider's condition keys.
    host: String,
    provider_arn: Expr<String>,
    bucket: BucketHandle,
}

impl K3sNode {
    /// Node `name` in the private subnets of `vpc` (created after their routes out exist),
    /// its datastore the PostgreSQL whose
    /// settings `datastore` names (what `PostgresHandle::publish_to_ssm` returned), on
    /// spot `instance_types` (the first is preferred; the others are fallbacks), reading
    /// its settings under SSM `ssm_prefix` (the datastore's and the token,
    /// [`K3sNode::token_parameter`]), K3s release `k3s_version`.
    pub fn new<S: Into<String>>(
        vpc: &VpcHandle,
        datastore: &PostgresParameters,
        name: impl Into<String>,
        instance_types: impl IntoIterator<Item = S>,
        ssm_prefix: &SsmPath,
        k3s_version: impl Into<String>,
    ) -> Self {
        Self {
            vpc: vpc.clone(),
            datastore: datastore.clone(),
            name: name.into(),
            instance_types: instance_types.into_iter().map(Into::into).collect(),
            root_volume_gib: 40,
            ssm_prefix: ssm_prefix.clone(),
            k3s_version: k3s_version.into(),
            datastore_database: "k3s_state".into(),
            manifests_bucket: None,
            target_group_arns: Vec::new(),
            log_retention_days: 14,
            bundled_traefik: false,
            repositories: Vec::new(),
            // The boot downloads K3s and reads S3 and SSM: the private subnets' routes
            // out (NAT, the S3 endpoint) must exist before the node does.
            waits_for: vpc.dependencies(),
            single_zone: false,
            datastore_user: None,
            database_users: Vec::new(),
            namespace_logs: Vec::new(),
            pod_identity: None,
        }
    }

    /// Per-workload AWS identity, as EKS's IRSA but without a webhook: K3s signs
    /// service-account tokens as issuer `https://<bucket>.s3.<region>.amazonaws.com`; the
    /// node creates bucket `bucket` (its name known at synth, without '.'), publishes
    /// the issuer's discovery document and JWKS there at boot (built from K3s's
    /// service-account key; the node role may write those two objects only, and anyone
    /// may read exactly them), and an IAM OIDC provider for the issuer with client id
    /// [`WORKLOAD_AUDIENCE`]. Then [`K3sNodeHandle::workload_role`] makes roles that
    /// pods of named service accounts assume with a projected token (girder-k8s's
    /// `Workload::aws_role`): pods get AWS credentials without reaching IMDS (whose hop
    /// limit keeps them from the node role).
    pub fn pod_identity(mut self, bucket: BucketName, region: impl Into<String>) -> Self {
        self.pod_identity = Some((bucket, region.into()));
        self
    }

    /// K3s connects to its datastore as `user` (to the database it owns), not as the
    /// master user, whose password RDS rotates: the node creates the user at boot
    /// ([`crate::database_users_sql`]) with the master password, read for that step
    /// only. Without it K3s uses the master user, and loses its datastore at the first
    /// restart after a rotation.
    pub fn datastore_user(mut self, user: &PostgresUserHandle) -> Self {
        self.datastore_database = user.database().to_owned();
        self.datastore_user = Some(user.clone());
        self
    }

    /// Create database user `user` at boot too (an app's: the app reads its password
    /// from the user's secret, which the node role may read).
    pub fn database_user(mut self, user: &PostgresUserHandle) -> Self {
        self.database_users.push(user.clone());
        self
    }

    /// Ship the logs of the containers in Kubernetes namespace `namespace` to log group
    /// `log_group` (its name, known at synth: the agent's configuration names it), not
    /// the node's; the node role may write to that group.
    pub fn namespace_logs(
        mut self,
        namespace: impl Into<String>,
        log_group: &aws::CloudwatchLogGroupHandle,
        log_group_name: impl Into<String>,
    ) -> Self {
        self.namespace_logs
            .push((namespace.into(), log_group_name.into(), log_group.arn()));
        self
    }

    /// Let K3s pull images from `repository` (private ECR): the node role may log in to
    /// the registry and pull this repository's images (its pull statement), and the
    /// kubelet gets its credentials from `ecr-credential-provider`
    /// ([`ECR_CREDENTIAL_PROVIDER`]). Call once per repository; the node may pull from
    /// those and no other.
    pub fn pulls_from(mut self, repository: &RepositoryHandle) -> Self {
        self.repositories.push(repository.clone());
        self
    }

    /// Launch the node in the VPC's first private subnet only, so every replacement
    /// comes up in the zone of the EBS volumes the cluster created (an EBS volume
    /// attaches only to an instance in its own zone). The price: spot capacity is
    /// sought in that zone only (across all the instance types).
    pub fn single_zone(mut self) -> Self {
        self.single_zone = true;
        self
    }

    /// Create the node only after `what` exists: something its boot reads besides the
    /// datastore's settings (which it always waits for), such as the cluster token's
    /// parameter.
    pub fn after(mut self, what: &impl Dependable) -> Self {
        for reference in what.dependencies() {
            if !self.waits_for.contains(&reference) {
                self.waits_for.push(reference);
            }
        }
        self
    }

    /// The SSM parameter a node with settings under `ssm_prefix` reads its cluster token
    /// from (`<prefix>/k3s/token`): the stack writes the token there.
    pub fn token_parameter(ssm_prefix: &SsmPath) -> std::result::Result<SsmPath, SsmPathError> {
        ssm_prefix.join(TOKEN_PARAMETER)
    }

    /// Root volume size (gp3), GiB.
    pub fn root_volume(mut self, gib: u16) -> Self {
        self.root_volume_gib = gib;
        self
    }

    /// Sync manifests from `bucket` (its `manifests/` prefix) at boot and on every
    /// deploy; the node may read that prefix (the bucket's read statements). The bucket's
    /// name must be known at synth: cloud-init names it.
    pub fn manifests_from(mut self, bucket: &BucketHandle) -> Self {
        self.manifests_bucket = Some(bucket.clone());
        self
    }

    /// Register instances with the target group of `alb`.
    pub fn target_of(mut self, alb: &AlbHandle) -> Self {
        self.target_group_arns.push(alb.target_group_arn());
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
}

impl Construct for K3sNode {
    type Handle = K3sNodeHandle;

    /// Add the node as construct `id`, in the VPC's private subnets.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<K3sNodeHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let refuse = |e: K3sError| Error::construct(&at, e);
        self.check().map_err(refuse)?;
        let log_retention =
            LogRetention::days(self.log_retention_days).map_err(|e| refuse(e.into()))?;
        let token_parameter =
            K3sNode::token_parameter(&self.ssm_prefix).map_err(|e| refuse(e.into()))?;
        let manifests_bucket = match &self.manifests_bucket {
            Some(bucket) => {
                let name = bucket
                    .known_name()
                    .ok_or_else(|| refuse(K3sError::ManifestsBucketComputed))?;
                if !is_script_safe_bucket_name(name) {
                    return Err(refuse(K3sError::ManifestsBucketName(name.to_owned())));
                }
                Some((bucket, name.to_owned()))
            }
            None => None,
        };
        let vpc = &self.vpc;
        let identity = scope.add("account", aws::DataCallerIdentity::new())?;
        let region = scope.add("region", aws::DataRegion::new())?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let here = AwsLocation::computed(
            partition.partition(),
            region.region(),
            identity.account_id(),
        );
        let log_group_name = format!("/{}/k3s", self.name);
        let log_group = scope.add(
            "logs",
            aws::CloudwatchLogGroup::new()
                .name(&log_group_name)
                .retention_in_days(log_retention.retention_in_days()),
        )?;

        let issuer = match &self.pod_identity {
            Some((bucket_name, issuer_region)) => {
                let mut bucket = Bucket::new(bucket_name.clone());
                for key in ISSUER_DOCUMENTS {
                    bucket = bucket.public_object(key);
                }
                let bucket = bucket.add(&mut scope, "issuer")?;
                let Some(name) = bucket.known_name() else {
                    return Err(refuse(K3sError::IssuerBucketComputed(format!(
                        "{:?}",
                        bucket.name()
                    ))));
                };
                let host = format!("{name}.s3.{issuer_region}.amazonaws.com");
                let boot = PodIdentityBoot {
                    issuer: format!("https://{host}"),
                    bucket: name.to_owned(),
                };
                let provider = scope.add(
                    "issuer-provider",
                    aws::IamOpenidConnectProvider::new([WORKLOAD_AUDIENCE], boot.issuer.clone()),
                )?;
                Some((
                    Issuer {
                        host,
                        provider_arn: provider.arn(),
                        bucket,
                    },
                    boot,
                ))
            }
            None => None,
        };
        // Exactly the parameters the boot reads: the datastore's four and the token. The
        // rest of the prefix (the apps' settings and passwords) is for the roles of the
        // pods that use them.
        let parameters: Vec<Arn> = [
            self.datastore.host(),
            self.datastore.port(),
            self.datastore.username(),
            self.datastore.master_secret_arn(),
            &token_parameter,
        ]
        .into_iter()
        .map(|path| here.arn("ssm", format!("parameter{path}")))
        .collect();
        // The datastore's user first, then the others, each once.
        let mut users: Vec<PostgresUserHandle> = self.datastore_user.iter().cloned().collect();
        for user in &self.database_users {
            if !users.iter().any(|u| u.name() == user.name()) {
                users.push(user.clone());
            }
        }
        let mut policy = PolicyDocument::new()
            .statement(
                Statement::allow(["ssm:GetParameter", "ssm:GetParameters"])
                    .sid("ReadSettings")
                    .on(parameters),
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
            .statement(if users.is_empty() {
                Statement::allow(["secretsmanager:GetSecretValue"])
                    .sid("ReadDatastorePassword")
                    .on([here.arn("secretsmanager", "secret:rds!*")])
            } else {
                // The master secret (to create the users at boot) and each user's own:
                // exactly those.
                let mut read = Statement::allow(["secretsmanager:GetSecretValue"])
                    .sid("ReadDatabasePasswords")
                    .on([Arn::attribute(users[0].master_secret_arn())]);
                for user in &users {
                    read = read.on([Arn::attribute(user.secret_arn())]);
                }
                read
            })
            .statement({
                let mut ship = Statement::allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"])
                    .sid("ShipLogs")
                    .on([Arn::attribute(log_group.arn()), Arn::attribute(log_group.arn()).join(":*")]);
                for (_, _, arn) in &self.namespace_logs {
                    ship = ship.on([Arn::attribute(arn.clone()), Arn::attribute(arn.clone()).join(":*")]);
                }
                ship
            });
        // A boot completes its launch (or abandons it) and reports the instance Unhealthy
        // when it fails, to its own group only.
        policy = policy.statement(
            Statement::allow([
                "autoscaling:CompleteLifecycleAction",
                "autoscaling:SetInstanceHealth",
            ])
            .sid("ReportBoot")
            .on([here.arn(
                "autoscaling",
                format!("autoScalingGroup:*:autoScalingGroupName/{}", self.name),
            )]),
        );
        if !self.repositories.is_empty() {
            // Pull exactly the repositories asked for: their own pull statements (one
            // statement naming each), and the registry login, which has no resource.
            let mut pull = Statement::allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
                .sid("PullImages");
            for repository in &self.repositories {
                pull = pull.on([repository.arn()]);
            }
            policy = policy
                .statement(RepositoryHandle::login_statement().sid("RegistryLogin"))
                .statement(pull);
        }
        if let Some((issuer, _)) = &issuer {
            // The issuer's two documents, and nothing else in its bucket.
            let mut publish = Statement::allow(["s3:PutObject"]).sid("PublishIssuer");
            for key in ISSUER_DOCUMENTS {
                publish = publish.on([issuer.bucket.arn().join(format!("/{key}"))]);
            }
            policy = policy.statement(publish);
        }
        if let Some((bucket, _)) = &manifests_bucket {
            // The bucket's own read statements for the prefix the node syncs.
            let sids = ["ListManifests", "ReadManifests", "DecryptManifests"];
            for (statement, sid) in bucket
                .read_statements(MANIFESTS_PREFIX)
                .into_iter()
                .zip(sids)
            {
                policy = policy.statement(statement.sid(sid));
            }
        }
        // Session Manager instead of SSH, and the sync document's Run Command: the SSM
        // Agent's actions, without AmazonSSMManagedInstanceCore's GetParameter on *.
        for statement in girder_iam::session_manager_statements() {
            policy = policy.statement(statement);
        }
        let role = Role::new(format!("{}-node", self.name), Trust::ec2())
            .description(format!("K3s node {}", self.name))
            .policy("node", policy.clone())
            .add(&mut scope, "role")?;
        let Some(profile) = role.instance_profile_name() else {
            return Err(refuse(K3sError::NoInstanceProfile));
        };

        let security_group = SecurityGroup::new(
            vpc,
            format!("{}-node", self.name),
            format!("K3s node {}", self.name),
        )
        .add(&mut scope, "security-group")?;
        security_group.allow_all_egress(&mut scope, "egress")?;
        // A replacement node (capacity rebalance, instance refresh) joins while the old
        // one still runs pods: the two K3s servers reach each other's supervisor and API,
        // kubelet and flannel VXLAN, and nothing else reaches those ports.
        for (port, what) in [
            (
                Port::tcp(6443),
                "K3s supervisor and API between the group's nodes",
            ),
            (
                Port::tcp(10250),
                "kubelet between the group's nodes (logs, exec, metrics)",
            ),
            (Port::udp(8472), "flannel VXLAN between the group's nodes"),
        ] {
            security_group
                .connections()
                .allow_from(&mut scope, &security_group, port, what)?;
        }

        let cloud_init = render_cloud_init(&CloudInit {
            name: self.name.clone(),
            token_parameter: token_parameter.to_string(),
            db_host_parameter: self.datastore.host().to_string(),
            db_port_parameter: self.datastore.port().to_string(),
            db_username_parameter: self.datastore.username().to_string(),
            db_secret_parameter: self.datastore.master_secret_arn().to_string(),
            datastore_database: self.datastore_database.clone(),
            k3s_version: self.k3s_version.clone(),
            manifests_bucket: manifests_bucket.as_ref().map(|(_, name)| name.clone()),
            manifests_prefix: MANIFESTS_PREFIX.into(),
            log_group: log_group_name,
            bundled_traefik: self.bundled_traefik,
            ecr_credential_provider: (!self.repositories.is_empty())
                .then(|| ECR_CREDENTIAL_PROVIDER.to_owned()),
            boot_attempts: BOOT_ATTEMPTS,
            boot_retry_seconds: BOOT_RETRY_SECONDS,
            start_timeout_seconds: START_TIMEOUT_SECONDS,
            database_users: users
                .iter()
                .map(|user| DatabaseUser {
                    name: user.name().to_owned(),
                    database: user.database().to_owned(),
                    secret: user.secret_name().to_owned(),
                })
                .collect(),
            datastore_user: self.datastore_user.as_ref().map(|u| u.name().to_owned()),
            namespace_logs: self
                .namespace_logs
                .iter()
                .map(|(namespace, log_group, _)| NamespaceLogs {
                    namespace: namespace.clone(),
                    log_group: log_group.clone(),
                })
                .collect(),
            pod_identity: issuer.as_ref().map(|(_, boot)| boot.clone()),
        })
        .map_err(refuse)?;

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
                        // 1 hop: processes on the node (K3s, the kubelet's ECR
                        // credential provider, the agents) reach IMDS; pods, one hop
                        // further behind the CNI bridge, cannot take the node role's
                        // credentials. A pod that needs the node role must run in the
                        // host's network namespace.
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
                // The version the template's last change made, not `$Latest`: every
                // change to the template changes this argument, which starts the
                // instance refresh (terraform-aws-modules/autoscaling does the same).
                .version(fns::tostring(template.latest_version())),
        );
        for o in overrides {
            launch = launch.override_(o);
        }
        let mut subnets = vpc.private_subnet_ids();
        if self.single_zone {
            subnets.truncate(1);
        }
        let mut group = aws::AutoscalingGroup::new(1, 1)
            .name(&self.name)
            .desired_capacity(1)
            .vpc_zone_identifier(subnets)
            .capacity_rebalance(true)
            .health_check_type("EC2")
            .health_check_grace_period(300)
            // A new instance waits, Pending, until its boot says its Node is Ready: an
            // instance refresh and a capacity rebalance count it healthy only then, so the
            // old node is never removed before the new one serves. A boot that fails or
            // does not finish in time is abandoned (terminated and replaced).
            .initial_lifecycle_hook(
                asg::InitialLifecycleHook::new(
                    "autoscaling:EC2_INSTANCE_LAUNCHING",
                    crate::cloud_init::LAUNCH_HOOK,
                )
                .default_result("ABANDON")
                .heartbeat_timeout(LAUNCH_TIMEOUT_SECONDS),
            )
            // Terraform waits for the first node as long as the hook may.
            .wait_for_capacity_timeout(format!("{}m", LAUNCH_TIMEOUT_SECONDS / 60 + 5))
            .mixed_instances_policy(
                asg::MixedInstancesPolicy::new(launch).instances_distribution(
                    asg::MixedInstancesPolicyInstancesDistribution::new()
                        .on_demand_base_capacity(0)
                        .on_demand_percentage_above_base_capacity(0)
                        .spot_allocation_strategy("price-capacity-optimized"),
                ),
            )
            // Launch before terminate: the replacement boots and joins (one group of
            // one, so for a while two), then the old node goes, its pods stopped by the
            // kubelet's graceful shutdown. Never a moment with no node, as a refresh at
            // min 0 % would give on every template change.
            .instance_refresh(
                asg::InstanceRefresh::new("Rolling").preferences(
                    asg::InstanceRefreshPreferences::new()
                        .min_healthy_percentage(100)
                        .max_healthy_percentage(200)
                        // The hook already waited for the Node; a minute for the pods.
                        .instance_warmup("60")
                        // A template whose boot fails never replaces the working node:
                        // the refresh rolls back to the previous version.
                        .auto_rollback(true),
                ),
            )
            .tag(asg::Tag::new("Name", true, &self.name));
        if !self.target_group_arns.is_empty() {
            group = group.target_group_arns(self.target_group_arns.clone());
        }
        // The node boots in a minute and at once reads the datastore's settings and
        // password, the cluster token and what its role allows: it is created after
        // them (RDS takes 5-15 minutes), never beside them.
        let group = scope.add(
            "group",
            group
                .into_spec()
                .depends_on_all(&self.datastore)
                .depends_on_all(&role)
                .depends_on_all(
                    &users
                        .iter()
                        .flat_map(Dependable::dependencies)
                        .collect::<Vec<_>>(),
                )
                .depends_on_all(&self.waits_for)
                // The boot writes the issuer's documents into its bucket.
                .depends_on_all(
                    &issuer
                        .iter()
                        .flat_map(|(issuer, _)| issuer.bucket.dependencies())
                        .collect::<Vec<_>>(),
                ),
        )?;
        let sync_document = match &manifests_bucket {
            Some(_) => Some(
                scope.add(
                    "sync-document",
                    aws::SsmDocument::new(
                        sync_document_content(&self.name),
                        "Command",
                        format!("{}-sync-manifests", self.name),
                    )
                    .document_format("JSON"),
                )?,
            ),
            None => None,
        };
        Ok(K3sNodeHandle {
            name: self.name.clone(),
            role,
            policy,
            security_group,
            group,
            log_group,
            sync_document,
            issuer: issuer.map(|(issuer, _)| issuer),
            here,
        })
    }
}

/// Seconds the sync document may run: the copy, the two applies, and the rollouts it
/// waits for.
const SYNC_DOCUMENT_TIMEOUT_SECONDS: u16 = 3600;

/// The node's SSM Command document: runs the manifests sync, waiting for the rollouts
/// (`--wait`), and takes no parameter, so whoever may send it can run that script and
/// nothing else. The command fails when a rollout does not finish.
fn sync_document_content(name: &str) -> String {
    json!({
        "schemaVersion": "2.2",
        "description": format!("Sync the Kubernetes manifests of K3s node {name} from S3 and wait for the rollouts (written by girder)"),
        "mainSteps": [{
            "action": "aws:runShellScript",
            "name": "syncManifests",
            "inputs": {
                "runCommand": [format!("{SYNC_SCRIPT} --wait")],
                "timeoutSeconds": SYNC_DOCUMENT_TIMEOUT_SECONDS.to_string(),
            },
        }],
    })
    .to_string()
}

impl K3sNode {
    fn check(&self) -> std::result::Result<(), K3sError> {
        if self.instance_types.is_empty() {
            return Err(K3sError::NoInstanceTypes);
        }
        for t in &self.instance_types {
            let ok = t
                .split_once('.')
                .is_some_and(|(family, size)| !family.is_empty() && !size.is_empty())
                && t.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')
                });
            if !ok {
                return Err(K3sError::InstanceType(t.clone()));
            }
        }
        if !(8..=16_384).contains(&self.root_volume_gib) {
            return Err(K3sError::RootVolume(self.root_volume_gib));
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
            return Err(K3sError::NodeName(self.name.clone()));
        }
        if !is_k3s_release(&self.k3s_version) {
            return Err(K3sError::K3sVersion(self.k3s_version.clone()));
        }
        check_supported(&self.k3s_version)
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

    /// The node role's inline policy, as written: ask it what the node may do
    /// ([`PolicyDocument::access`]).
    pub fn policy(&self) -> &PolicyDocument {
        &self.policy
    }

    /// The ARN of the node's SSM Command document, which runs the manifests sync and
    /// nothing else (nodes with [`K3sNode::manifests_from`]).
    pub fn sync_document_arn(&self) -> Option<Arn> {
        self.sync_document
            .as_ref()
            .map(|document| Arn::attribute(document.arn()))
    }

    /// The statements that let a deployer (CI) run the manifests sync on this node and
    /// nothing else: `ssm:SendCommand` with the node's own document (no condition: a
    /// document carries no instance tag), and on instances of the node's Auto Scaling
    /// group only (the tag AWS puts on them, which no one else can set), and reading the
    /// commands' outcome (`ssm:GetCommandInvocation`: the sync fails when a rollout does
    /// not finish). `None` without [`K3sNode::manifests_from`].
    pub fn deploy_statements(&self, location: &AwsLocation) -> Option<Vec<Statement>> {
        let document = self.sync_document_arn()?;
        Some(vec![
            Statement::allow(["ssm:SendCommand"])
                .sid("RunManifestsSync")
                .on([document]),
            Statement::allow(["ssm:SendCommand"])
                .sid("OnTheNodeOnly")
                .on([location.arn("ec2", "instance/*")])
                .when(Condition::string_equals(
                    "ssm:resourceTag/aws:autoscaling:groupName",
                    self.name.clone(),
                )),
            // The deploy's outcome: whether the sync (and the rollouts it waits for)
            // succeeded, and its output.
            Statement::allow(["ssm:GetCommandInvocation", "ssm:ListCommandInvocations"])
                .sid("ReadTheOutcome")
                .on(["*"])
                .wildcard_because(
                    "SSM's command invocation reads support no resource-level permissions",
                ),
        ])
    }
}

impl K3sNodeHandle {
    /// The issuer K3s signs service-account tokens as
    /// (`https://<bucket>.s3.<region>.amazonaws.com`), with [`K3sNode::pod_identity`].
    pub fn issuer(&self) -> Option<String> {
        self.issuer
            .as_ref()
            .map(|issuer| format!("https://{}", issuer.host))
    }

    /// The ARN of the issuer's IAM OIDC provider, with [`K3sNode::pod_identity`].
    pub fn issuer_provider_arn(&self) -> Option<Expr<String>> {
        self.issuer
            .as_ref()
            .map(|issuer| issuer.provider_arn.clone())
    }

    /// IAM role `name`, construct `id` of `scope`, that the pods of `service_accounts`
    /// in Kubernetes namespace `namespace` assume with their projected service-account
    /// token (audience [`WORKLOAD_AUDIENCE`]; girder-k8s's `Workload::aws_role`), and
    /// no one else: its trust names the node's issuer provider, the audience and exactly
    /// `system:serviceaccount:<namespace>:<name>` of each. Its inline policy `workload`
    /// holds `statements`. Errors: the node has no [`K3sNode::pod_identity`]; no service
    /// account; a name Kubernetes refuses.
    pub fn workload_role<S: AsRef<str>>(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        name: impl Into<String>,
        namespace: &str,
        service_accounts: impl IntoIterator<Item = S>,
        statements: impl IntoIterator<Item = Statement>,
    ) -> Result<RoleHandle> {
        let name = name.into();
        let at = format!("{}/{id}", scope.location());
        let refuse = |e: K3sError| Error::construct(&at, e);
        let trust = self
            .workload_trust(&name, namespace, service_accounts)
            .map_err(refuse)?;
        let mut policy = PolicyDocument::new();
        for statement in statements {
            policy = policy.statement(statement);
        }
        let mut role = Role::new(name.clone(), trust).description(format!(
            "pods of service accounts in {namespace} on K3s node {}",
            self.name
        ));
        if !policy.is_empty() {
            role = role.policy("workload", policy);
        }
        role.add(scope, id)
    }

    /// The EBS CSI driver controller's role `name` (construct `id` of `scope`): a
    /// [`K3sNodeHandle::workload_role`] of `kube-system/ebs-csi-controller-sa`
    /// ([`crate::EBS_CSI_CONTROLLER_SERVICE_ACCOUNT`]) holding exactly the driver's
    /// documented actions ([`crate::EBS_CSI_DRIVER_ACTIONS`]), on this account and
    /// region, on the volumes and snapshots the driver tags
    /// ([`crate::EBS_CSI_CLUSTER_TAG`]) and the instances of this node's group wherever
    /// EC2 allows a condition. Install the driver with [`crate::EbsCsiDriver`], and keep
    /// the node in one zone ([`K3sNode::single_zone`]) so a replacement can attach the
    /// volumes. Errors: as [`K3sNodeHandle::workload_role`].
    pub fn ebs_csi_controller_role(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        name: impl Into<String>,
    ) -> Result<RoleHandle> {
        self.workload_role(
            scope,
            id,
            name,
            crate::EBS_CSI_NAMESPACE,
            [crate::EBS_CSI_CONTROLLER_SERVICE_ACCOUNT],
            crate::ebs::ebs_csi_statements(&self.here, &self.name),
        )
    }

    /// The trust of [`K3sNodeHandle::workload_role`] `name`: the node's issuer provider,
    /// audience [`WORKLOAD_AUDIENCE`], and exactly the subjects of `service_accounts` in
    /// `namespace`.
    pub fn workload_trust<S: AsRef<str>>(
        &self,
        name: &str,
        namespace: &str,
        service_accounts: impl IntoIterator<Item = S>,
    ) -> std::result::Result<Trust, K3sError> {
        let Some(issuer) = &self.issuer else {
            return Err(K3sError::NoPodIdentity(name.to_owned()));
        };
        let mut subjects = Vec::new();
        for account in service_accounts {
            let account = account.as_ref();
            if !girder_core::vocabulary::dns::is_dns_label(namespace)
                || !girder_core::vocabulary::dns::is_dns_subdomain(account)
            {
                return Err(K3sError::ServiceAccountName(format!(
                    "{namespace}/{account}"
                )));
            }
            let subject = format!("system:serviceaccount:{namespace}:{account}");
            if !subjects.contains(&subject) {
                subjects.push(subject);
            }
        }
        if subjects.is_empty() {
            return Err(K3sError::NoServiceAccounts(name.to_owned()));
        }
        Ok(Trust::web_identity(
            issuer.provider_arn.clone(),
            &issuer.host,
            WORKLOAD_AUDIENCE,
            subjects,
        ))
    }
}

impl Connectable for K3sNodeHandle {
    /// The node's security group: admit the ALB on the node port with it, admit it to
    /// the database.
    fn connections(&self) -> &Connections {
        self.security_group.connections()
    }
}

impl Dependable for K3sNodeHandle {
    /// The Auto Scaling group (and so its launch template and role).
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.group.dependency()]
    }
}
