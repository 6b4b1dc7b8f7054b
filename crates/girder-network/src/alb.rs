//! An Application Load Balancer with its security group, one target group and an HTTP
//! listener, open only to an allowlist unless told otherwise with a reason.

use girder_aws::aws;
use girder_aws::aws::lb_listener as listener;
use girder_aws::aws::lb_target_group as target_group;
use girder_core::{Error, Expr, Result, Scope};

use crate::cidr::Ipv4Cidr;
use crate::security_group::{Port, SecurityGroup, SecurityGroupHandle};
use crate::vpc::VpcHandle;

/// Where the ALB sends requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    name: String,
    port: u16,
    instance_targets: bool,
    health_check_path: String,
}

impl Targets {
    /// EC2 instances (an Auto Scaling group) listening on `port` (a NodePort).
    pub fn instances(name: impl Into<String>, port: u16) -> Self {
        Self {
            name: name.into(),
            port,
            instance_targets: true,
            health_check_path: "/".into(),
        }
    }

    /// Pod or instance IPs listening on `port`.
    pub fn ips(name: impl Into<String>, port: u16) -> Self {
        Self {
            name: name.into(),
            port,
            instance_targets: false,
            health_check_path: "/".into(),
        }
    }

    /// The path health checks request (200 expected).
    pub fn health_check(mut self, path: impl Into<String>) -> Self {
        self.health_check_path = path.into();
        self
    }
}

/// An ALB to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alb {
    name: String,
    internet_facing: bool,
    allowed: Vec<Ipv4Cidr>,
    open_reason: Option<String>,
    targets: Targets,
    deletion_protection: bool,
}

/// An ALB in the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct AlbHandle {
    lb: aws::LbHandle,
    target_group: aws::LbTargetGroupHandle,
    security_group: SecurityGroupHandle,
    target_port: u16,
}

impl Alb {
    /// An internet-facing ALB `name` (at most 32 characters) in front of `targets`.
    /// Who may connect is set with [`Alb::allow`]; an empty allowlist is refused unless
    /// [`Alb::open_to_internet`] says why.
    pub fn internet_facing(name: impl Into<String>, targets: Targets) -> Self {
        Self {
            name: name.into(),
            internet_facing: true,
            allowed: Vec::new(),
            open_reason: None,
            targets,
            deletion_protection: false,
        }
    }

    /// An internal ALB, reachable from inside the VPC (its CIDR is allowed).
    pub fn internal(name: impl Into<String>, targets: Targets) -> Self {
        Self {
            internet_facing: false,
            ..Self::internet_facing(name, targets)
        }
    }

    /// Allow these client CIDRs on port 80.
    pub fn allow(mut self, cidrs: impl IntoIterator<Item = Ipv4Cidr>) -> Self {
        self.allowed.extend(cidrs);
        self
    }

    /// Accept every address, on purpose.
    pub fn open_to_internet(mut self, reason: impl Into<String>) -> Self {
        self.open_reason = Some(reason.into());
        self
    }

    /// Refuse `terraform destroy` of the load balancer.
    pub fn deletion_protection(mut self) -> Self {
        self.deletion_protection = true;
        self
    }

    /// Add it in the VPC's public (internet-facing) or private (internal) subnets as
    /// construct `id`.
    pub fn add(self, scope: &mut Scope<'_>, id: &str, vpc: &VpcHandle) -> Result<AlbHandle> {
        let mut scope = scope.child(id)?;
        let at = scope.location();
        let name_ok = (1..=32).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !self.name.starts_with('-')
            && !self.name.ends_with('-')
            && !self.name.starts_with("internal-");
        if !name_ok {
            return Err(Error::invalid(
                &at,
                format!(
                    "load balancer name {:?}: 1-32 letters, digits and '-', not starting or ending with '-'",
                    self.name
                ),
            ));
        }
        if self.targets.port == 0 {
            return Err(Error::invalid(
                &at,
                "the target port 0 is not a port (1-65535)",
            ));
        }
        let mut allowed = self.allowed.clone();
        if !self.internet_facing {
            allowed.push(vpc.cidr());
        }
        let open = self
            .open_reason
            .as_ref()
            .is_some_and(|r| !r.trim().is_empty());
        if self.internet_facing && allowed.is_empty() && !open {
            return Err(Error::invalid(
                &at,
                format!(
                    "internet-facing ALB {} has an empty allowlist; name the client CIDRs with `.allow(...)` or say why it is public with `.open_to_internet(reason)`",
                    self.name
                ),
            ));
        }
        if open {
            allowed = vec![
                Ipv4Cidr::new([0, 0, 0, 0], 0).map_err(|e| Error::invalid(&at, e.to_string()))?,
            ];
        }
        let security_group = SecurityGroup::new(
            format!("{}-alb", self.name),
            format!("ALB {}: HTTP from its allowlist", self.name),
        )
        .add(&mut scope, "security-group", vpc.id())?;
        security_group.allow_from_cidrs(
            &mut scope,
            &allowed,
            Port::tcp(80),
            "HTTP from the allowlist",
        )?;
        let subnets = if self.internet_facing {
            vpc.public_subnet_ids()
        } else {
            vpc.private_subnet_ids()
        };
        let lb = scope.add_default(
            aws::Lb::new()
                .name(&self.name)
                .load_balancer_type("application")
                .internal(!self.internet_facing)
                .security_groups([security_group.id()])
                .subnets(subnets)
                .drop_invalid_header_fields(true)
                .enable_deletion_protection(self.deletion_protection)
                .tags([("Name", self.name.as_str())]),
        )?;
        let target_group = scope.add(
            "targets",
            aws::LbTargetGroup::new()
                .name(&self.targets.name)
                .port(self.targets.port)
                .protocol("HTTP")
                .target_type(if self.targets.instance_targets {
                    "instance"
                } else {
                    "ip"
                })
                .vpc_id(vpc.id())
                .deregistration_delay("30")
                .health_check(
                    target_group::HealthCheck::new()
                        .path(&self.targets.health_check_path)
                        .matcher("200")
                        .interval(15)
                        .healthy_threshold(2)
                        .unhealthy_threshold(3),
                ),
        )?;
        scope.add(
            "http",
            aws::LbListener::new(
                lb.arn(),
                [listener::DefaultAction::new("forward").target_group_arn(target_group.arn())],
            )
            .port(80)
            .protocol("HTTP"),
        )?;
        Ok(AlbHandle {
            lb,
            target_group,
            security_group,
            target_port: self.targets.port,
        })
    }
}

impl AlbHandle {
    /// The DNS name clients use.
    pub fn dns_name(&self) -> Expr<String> {
        self.lb.dns_name()
    }

    /// The target group's ARN (for an Auto Scaling group's `target_group_arns`).
    pub fn target_group_arn(&self) -> Expr<String> {
        self.target_group.arn()
    }

    /// `app/<name>/<id>`: the dimension of the ALB's CloudWatch metrics.
    pub fn arn_suffix(&self) -> Expr<String> {
        self.lb.arn_suffix()
    }

    /// `targetgroup/<name>/<id>`: the dimension of the target group's metrics.
    pub fn target_group_arn_suffix(&self) -> Expr<String> {
        self.target_group.arn_suffix()
    }

    /// The ALB's security group.
    pub fn security_group(&self) -> &SecurityGroupHandle {
        &self.security_group
    }

    /// Open the path from the ALB to `targets` on the target port, both ways of the rule.
    pub fn allow_to_targets(
        &self,
        scope: &mut Scope<'_>,
        targets: &SecurityGroupHandle,
    ) -> Result<()> {
        let port = Port::tcp(self.target_port);
        targets.allow_from(scope, &self.security_group, port, "From the ALB")?;
        self.security_group
            .allow_to(scope, targets, port, "To the targets")
    }
}
