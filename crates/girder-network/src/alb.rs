//! An Application Load Balancer with its security group, one target group and an HTTP
//! listener, open only to an allowlist unless told otherwise with a reason.

use girder_aws::aws;
use girder_aws::aws::lb_listener as listener;
use girder_aws::aws::lb_target_group as target_group;
use girder_core::expr::fns;
use girder_core::terraform::IntoResourceSpec;
use girder_core::vocabulary::{Reason, ReasonError};
use girder_core::{Error, Expr, Result, Scope};
use girder_iam::Statement;

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
#[derive(Clone, Debug, PartialEq)]
pub struct Alb {
    name: String,
    internet_facing: bool,
    allowed: Vec<Ipv4Cidr>,
    open_reason: Option<String>,
    targets: Targets,
    deletion_protection: bool,
    cors: Option<Cors>,
    hardened_headers: bool,
    access_logs: Option<AccessLogs>,
}

/// Where an ALB writes its access logs: an S3 bucket encrypted with SSE-S3 (the only
/// encryption log delivery supports) and a key prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessLogs {
    bucket: Expr<String>,
    prefix: String,
    after: Option<aws::S3BucketPolicyHandle>,
}

impl AccessLogs {
    /// Logs into `bucket` under `prefix` (no leading or trailing `/`).
    pub fn new(bucket: impl Into<Expr<String>>, prefix: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefix: prefix.into(),
            after: None,
        }
    }

    /// Create the load balancer after this bucket policy: AWS checks that it may write
    /// when logging is turned on.
    pub fn after_policy(mut self, policy: &aws::S3BucketPolicyHandle) -> Self {
        self.after = Some(policy.clone());
        self
    }

    /// The bucket policy statement letting Elastic Load Balancing in the stack's region
    /// write the logs (its regional account, read from the `aws_elb_service_account`
    /// data source added as construct `id`). Give it to the bucket with
    /// `Bucket::policy_statement`.
    pub fn delivery_statement(&self, scope: &mut Scope<'_>, id: &str) -> Result<Statement> {
        self.check(&scope.location())?;
        let delivery = scope.add(id, aws::DataElbServiceAccount::new())?;
        Ok(Statement::allow(["s3:PutObject"])
            .sid("AlbAccessLogDelivery")
            .principal("AWS", [delivery.arn()])
            .on([fns::format(
                format!("arn:aws:s3:::%s/{}/AWSLogs/*", self.prefix),
                [self.bucket.clone().any()],
            )]))
    }

    fn check(&self, at: &str) -> Result<()> {
        let ok = !self.prefix.is_empty()
            && !self.prefix.starts_with('/')
            && !self.prefix.ends_with('/')
            && !self.prefix.contains("AWSLogs")
            && self
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                at,
                format!(
                    "access log prefix {:?}: letters, digits, '-', '_', '.' and inner '/', not containing AWSLogs",
                    self.prefix
                ),
            ))
        }
    }
}

/// CORS response headers the listener adds, allowing one origin: the ALB's own
/// address. Browsers then refuse every other site's scripts the API's responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    methods: Vec<String>,
    headers: Vec<String>,
    max_age_seconds: u32,
}

/// The methods a CORS allowlist may name.
const CORS_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl Cors {
    /// Allow only `http://<the ALB's DNS name>`, methods GET, POST and OPTIONS, request
    /// header `Content-Type`, preflights cached 10 minutes.
    pub fn same_origin() -> Self {
        Self {
            methods: vec!["GET".into(), "POST".into(), "OPTIONS".into()],
            headers: vec!["Content-Type".into()],
            max_age_seconds: 600,
        }
    }

    /// The allowed methods (of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS).
    pub fn methods<S: Into<String>>(mut self, methods: impl IntoIterator<Item = S>) -> Self {
        self.methods = methods.into_iter().map(Into::into).collect();
        self
    }

    /// The allowed request headers.
    pub fn headers<S: Into<String>>(mut self, headers: impl IntoIterator<Item = S>) -> Self {
        self.headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// How long browsers may cache a preflight (at most 86400 s).
    pub fn max_age(mut self, seconds: u32) -> Self {
        self.max_age_seconds = seconds;
        self
    }

    fn check(&self, at: &str) -> Result<()> {
        if self.methods.is_empty() {
            return Err(Error::invalid(at, "CORS needs at least one method"));
        }
        if let Some(bad) = self
            .methods
            .iter()
            .find(|m| !CORS_METHODS.contains(&m.as_str()))
        {
            return Err(Error::invalid(
                at,
                format!(
                    "CORS method {bad:?} is not one of {}",
                    CORS_METHODS.join(", ")
                ),
            ));
        }
        let token = |h: &String| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
        };
        if let Some(bad) = self.headers.iter().find(|h| !token(h) || h.as_str() == "*") {
            return Err(Error::invalid(
                at,
                format!("CORS header {bad:?} is not a header name (letters, digits, '-'; no '*')"),
            ));
        }
        if self.max_age_seconds > 86_400 {
            return Err(Error::invalid(
                at,
                format!(
                    "CORS max age {} s is over the 86400 s browsers honour",
                    self.max_age_seconds
                ),
            ));
        }
        Ok(())
    }
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
            cors: None,
            hardened_headers: false,
            access_logs: None,
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

    /// Write access logs (see [`AccessLogs`]; the bucket must admit the delivery).
    pub fn access_logs(mut self, logs: AccessLogs) -> Self {
        self.access_logs = Some(logs);
        self
    }

    /// Add CORS headers to every response (see [`Cors`]).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Add `X-Content-Type-Options: nosniff` and `X-Frame-Options: DENY` to every
    /// response and drop the `Server` header.
    pub fn hardened_headers(mut self) -> Self {
        self.hardened_headers = true;
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
        if let Some(cors) = &self.cors {
            cors.check(&at)?;
        }
        if let Some(logs) = &self.access_logs {
            logs.check(&at)?;
        }
        let mut allowed = self.allowed.clone();
        if !self.internet_facing {
            allowed.push(vpc.cidr());
        }
        let open = match self.open_reason.as_deref().map(Reason::new) {
            Some(Ok(_)) => true,
            Some(Err(e @ ReasonError::ControlCharacter(_))) => {
                return Err(Error::invalid(
                    &at,
                    format!(
                        "ALB {}: the reason given to `.open_to_internet(reason)`: {e}",
                        self.name
                    ),
                ));
            }
            _ => false,
        };
        if self.internet_facing && allowed.is_empty() && !open {
            return Err(Error::invalid(
                &at,
                format!(
                    "internet-facing ALB {} has an empty allowlist; name the client CIDRs with `.allow(...)` or say why it is public with `.open_to_internet(reason)`",
                    self.name
                ),
            ));
        }
        if let Some(everyone) = self.allowed.iter().find(|c| c.prefix() == 0) {
            if !open {
                return Err(Error::invalid(
                    &at,
                    format!(
                        "ALB {}: the allowlist holds {everyone}, which admits every address; name the client CIDRs, or say why it is public with `.open_to_internet(reason)`",
                        self.name
                    ),
                ));
            }
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
        let mut lb = aws::Lb::new()
            .name(&self.name)
            .load_balancer_type("application")
            .internal(!self.internet_facing)
            .security_groups([security_group.id()])
            .subnets(subnets)
            .drop_invalid_header_fields(true)
            .enable_deletion_protection(self.deletion_protection)
            .tags([("Name", self.name.as_str())]);
        let mut after = None;
        if let Some(logs) = &self.access_logs {
            lb = lb.access_logs(
                aws::lb::AccessLogs::new(logs.bucket.clone())
                    .prefix(&logs.prefix)
                    .enabled(true),
            );
            after = logs.after.clone();
        }
        let mut lb = lb.into_spec();
        if let Some(policy) = &after {
            lb = lb.depends_on(policy);
        }
        let lb = scope.add_default(lb)?;
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
        let mut http = aws::LbListener::new(
            lb.arn(),
            [listener::DefaultAction::new("forward").target_group_arn(target_group.arn())],
        )
        .port(80)
        .protocol("HTTP");
        if let Some(cors) = &self.cors {
            http = http
                .routing_http_response_access_control_allow_origin_header_value(fns::format(
                    "http://%s",
                    [fns::lower(lb.dns_name()).any()],
                ))
                .routing_http_response_access_control_allow_methods_header_value(
                    cors.methods.join(","),
                )
                .routing_http_response_access_control_max_age_header_value(
                    cors.max_age_seconds.to_string(),
                );
            if !cors.headers.is_empty() {
                http = http.routing_http_response_access_control_allow_headers_header_value(
                    cors.headers.join(","),
                );
            }
        }
        if self.hardened_headers {
            http = http
                .routing_http_response_x_content_type_options_header_value("nosniff")
                .routing_http_response_x_frame_options_header_value("DENY")
                .routing_http_response_server_enabled(false);
        }
        scope.add("http", http)?;
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
