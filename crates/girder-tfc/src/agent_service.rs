//! Terraform Cloud agents on ECS Fargate in a VPC's private subnets: the runners of the
//! workspaces whose Terraform must reach private endpoints (an EKS cluster's API, a
//! database), with no inbound rule and no AWS credentials of their own.
//!
//! - Each task runs one agent in single-run mode (`TFC_AGENT_SINGLE`): the agent exits
//!   after one run and ECS starts a clean one, so no run sees another's files.
//! - The agents' token comes from an SSM SecureString parameter (written where the pool
//!   is made), injected by ECS: it is in no task definition and no environment
//!   variable Terraform writes.
//! - The tasks have no task role. A run's AWS credentials are the workspace's dynamic
//!   credentials, which Terraform Cloud hands the agent per run and phase.
//! - Outbound HTTPS only: Terraform Cloud, the provider registry, the VCS host and AWS's
//!   APIs (through the VPC's NAT), and private endpoints in the VPC.

use girder_aws::aws;
use girder_core::construct::Construct;
use girder_core::expr::fns;
use girder_core::vocabulary::{AwsLocation, Ipv4Cidr, LogRetention, SsmPath};
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::{PolicyDocument, Role, RoleHandle, Statement, Trust};
use girder_network::{
    Connectable, Connections, Port, SecurityGroup, SecurityGroupHandle, VpcHandle,
};
use serde::Serialize;

use crate::error::TfcError;

/// CPU units of each agent task (1 vCPU); memory is [`TFC_AGENT_SERVICE_MEMORY`].
pub const TFC_AGENT_SERVICE_CPU: u16 = 1024;
/// MiB of each agent task: Terraform with the AWS, Helm and Kubernetes providers.
const TFC_AGENT_SERVICE_MEMORY: u16 = 2048;
/// The container's name in the task definition.
const CONTAINER: &str = "tfc-agent";

/// A service of Terraform Cloud agents to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct TfcAgentService {
    vpc: VpcHandle,
    name: String,
    image: String,
    token_parameter: SsmPath,
    agents: u8,
    log_retention_days: u16,
}

/// The agents in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct TfcAgentServiceHandle {
    service: aws::EcsServiceHandle,
    security_group: SecurityGroupHandle,
    execution_role: RoleHandle,
    log_group: aws::CloudwatchLogGroupHandle,
    name: String,
}

impl TfcAgentService {
    /// Agents named `name` (the ECS cluster, service, task family and log group
    /// `/ecs/<name>`) in `vpc`'s private subnets, running container `image` (the
    /// `hashicorp/tfc-agent` image or one built on it, pinned by tag or digest), their
    /// token from SSM parameter `token_parameter` (`/team/env/tfc-agent-token`). One agent
    /// by default; logs kept 365 days.
    pub fn new(
        vpc: &VpcHandle,
        name: impl Into<String>,
        image: impl Into<String>,
        token_parameter: SsmPath,
    ) -> Self {
        Self {
            vpc: vpc.clone(),
            name: name.into(),
            image: image.into(),
            token_parameter,
            agents: 1,
            log_retention_days: 365,
        }
    }

    /// Run `count` agents (1 to 10): as many runs of the pool's workspaces at once.
    pub fn agents(mut self, count: u8) -> Self {
        self.agents = count;
        self
    }

    /// Keep the agents' logs `days` (a retention CloudWatch accepts).
    pub fn log_retention(mut self, days: u16) -> Self {
        self.log_retention_days = days;
        self
    }

    fn check(&self) -> std::result::Result<(), TfcError> {
        let name_ok = (1..=255).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(TfcError::AgentServiceName(self.name.clone()));
        }
        // An image reference: no whitespace, no template syntax, pinned (a tag other
        // than `latest`, or a digest).
        let pinned = match self.image.rsplit_once('@') {
            Some((_, digest)) => digest.starts_with("sha256:") && digest.len() == 71,
            None => self
                .image
                .rsplit_once(':')
                .is_some_and(|(_, tag)| !tag.is_empty() && !tag.contains('/') && tag != "latest"),
        };
        if !pinned
            || self.image.is_empty()
            || self.image.contains(char::is_whitespace)
            || self.image.contains("${")
            || self.image.contains("%{")
        {
            return Err(TfcError::AgentImage(self.image.clone()));
        }
        if !(1..=10).contains(&self.agents) {
            return Err(TfcError::AgentCount(self.agents));
        }
        Ok(())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerDefinition {
    name: &'static str,
    image: String,
    essential: bool,
    readonly_root_filesystem: bool,
    environment: Vec<NameValue>,
    secrets: Vec<SecretFrom>,
    log_configuration: LogConfiguration,
    stop_timeout: u16,
}

#[derive(Serialize)]
struct NameValue {
    name: &'static str,
    value: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretFrom {
    name: &'static str,
    value_from: Value<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogConfiguration {
    log_driver: &'static str,
    options: LogOptions,
}

#[derive(Serialize)]
struct LogOptions {
    #[serde(rename = "awslogs-group")]
    group: String,
    #[serde(rename = "awslogs-region")]
    region: Value<String>,
    #[serde(rename = "awslogs-stream-prefix")]
    prefix: &'static str,
}

impl Construct for TfcAgentService {
    type Handle = TfcAgentServiceHandle;

    /// Add the agents as construct `id`: the log group, the task execution role (read
    /// the token parameter, pull images, write the log group), the security group
    /// (outbound HTTPS only), the ECS cluster, task definition and service.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<TfcAgentServiceHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let refuse = |e: TfcError| Error::construct(&at, e);
        self.check().map_err(refuse)?;
        let retention =
            LogRetention::days(self.log_retention_days).map_err(|e| Error::construct(&at, e))?;

        let identity = scope.add("account", aws::DataCallerIdentity::new())?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let region = scope.add("region", aws::DataRegion::new())?;
        let here = AwsLocation::computed(
            partition.partition(),
            region.region(),
            identity.account_id(),
        );

        let log_group_name = format!("/ecs/{}", self.name);
        let log_group = scope.add(
            "logs",
            aws::CloudwatchLogGroup::new()
                .name(&log_group_name)
                .retention_in_days(retention.retention_in_days()),
        )?;
        let parameter_arn = here
            .arn("ssm", format!("parameter{}", self.token_parameter.as_str()))
            .value();
        let execution_role = Role::new(
            format!("{}-execution", self.name),
            Trust::service("ecs-tasks.amazonaws.com"),
        )
        .without_instance_profile()
        .description(format!(
            "ECS: start the Terraform Cloud agents {}",
            self.name
        ))
        .policy(
            "start-agents",
            PolicyDocument::new()
                .statement(
                    Statement::allow(["ssm:GetParameters"])
                        .sid("ReadTheAgentToken")
                        .on([parameter_arn.clone()]),
                )
                .statement(
                    Statement::allow(["ecr:GetAuthorizationToken"])
                        .sid("SignInToTheRegistry")
                        .on(["*"])
                        .wildcard_because("ECR's sign-in has no resource"),
                )
                .statement(
                    Statement::allow([
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ])
                    .sid("PullTheAgentImage")
                    .on([here.arn("ecr", "repository/*").value()])
                    .wildcard_because(
                        "the image is the stack's choice; the account's own registries only",
                    ),
                )
                .statement(
                    Statement::allow(["logs:CreateLogStream", "logs:PutLogEvents"])
                        .sid("WriteTheAgentsLogs")
                        .on([Value::Expr(Expr::interpolate([
                            log_group.arn().any(),
                            Expr::lit(":log-stream:*").any(),
                        ]))]),
                ),
        )
        .add(&mut scope, "execution")?;

        let security_group = SecurityGroup::new(
            &self.vpc,
            self.name.clone(),
            format!("Terraform Cloud agents {}: outbound HTTPS only", self.name),
        )
        .add(&mut scope, "security-group")?;
        security_group.connections().allow_to(
            &mut scope,
            &Ipv4Cidr::everything(),
            Port::tcp(443),
            "Terraform Cloud, the provider registry, the VCS host and AWS APIs (through NAT); private endpoints in the VPC",
        )?;

        let cluster = scope.add(
            "cluster",
            aws::EcsCluster::new(&self.name).setting(aws::ecs_cluster::Setting::new(
                "containerInsights",
                "enabled",
            )),
        )?;
        let definition = ContainerDefinition {
            name: CONTAINER,
            image: self.image.clone(),
            essential: true,
            // The agent writes its working directory and Terraform's plugin cache.
            readonly_root_filesystem: false,
            environment: vec![
                // One run per task: a clean file system for every run.
                NameValue {
                    name: "TFC_AGENT_SINGLE",
                    value: "true",
                },
                // The image is pinned; the agent must not replace itself.
                NameValue {
                    name: "TFC_AGENT_AUTO_UPDATE",
                    value: "disabled",
                },
            ],
            secrets: vec![SecretFrom {
                name: "TFC_AGENT_TOKEN",
                value_from: parameter_arn,
            }],
            log_configuration: LogConfiguration {
                log_driver: "awslogs",
                options: LogOptions {
                    group: log_group_name,
                    region: Value::Expr(region.region()),
                    prefix: "agent",
                },
            },
            // Time for a run in progress to report its end after ECS asks it to stop.
            stop_timeout: 120,
        };
        let definitions = Expr::literal(&[definition]).map_err(|e| Error::construct(&at, e))?;
        let task = scope.add(
            "task",
            aws::EcsTaskDefinition::new(fns::jsonencode(definitions), &self.name)
                .requires_compatibilities(["FARGATE"])
                .network_mode("awsvpc")
                .cpu(TFC_AGENT_SERVICE_CPU.to_string())
                .memory(TFC_AGENT_SERVICE_MEMORY.to_string())
                .execution_role_arn(execution_role.arn())
                .runtime_platform(
                    aws::ecs_task_definition::RuntimePlatform::new()
                        .operating_system_family("LINUX")
                        .cpu_architecture("X86_64"),
                ),
        )?;
        let service = scope.add(
            "service",
            aws::EcsService::new(&self.name)
                .cluster(cluster.arn())
                .task_definition(task.arn())
                .launch_type("FARGATE")
                .platform_version("LATEST")
                .desired_count(u32::from(self.agents))
                .propagate_tags("SERVICE")
                .enable_execute_command(false)
                .network_configuration(
                    aws::ecs_service::NetworkConfiguration::new(self.vpc.private_subnet_ids())
                        .assign_public_ip(false)
                        .security_groups([security_group.id()]),
                )
                .deployment_circuit_breaker(aws::ecs_service::DeploymentCircuitBreaker::new(
                    true, true,
                )),
        )?;
        Ok(TfcAgentServiceHandle {
            service,
            security_group,
            execution_role,
            log_group,
            name: self.name,
        })
    }
}

impl TfcAgentServiceHandle {
    /// The service's name (and its cluster's, task family's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The agents' security group (allow them into a private endpoint's group).
    pub fn security_group(&self) -> &SecurityGroupHandle {
        &self.security_group
    }

    /// The role ECS starts the tasks with (it holds no run's credentials).
    pub fn execution_role(&self) -> &RoleHandle {
        &self.execution_role
    }

    /// The agents' log group.
    pub fn log_group_name(&self) -> Expr<String> {
        self.log_group.name()
    }

    /// The ECS service.
    pub fn resource(&self) -> &aws::EcsServiceHandle {
        &self.service
    }
}

/// The agents connect as their security group: `cluster.connections().allow_from(&agents, ..)`.
impl Connectable for TfcAgentServiceHandle {
    fn connections(&self) -> &Connections {
        self.security_group.connections()
    }
}
