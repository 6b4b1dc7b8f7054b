//! An Application Load Balancer with its security group, one target group and an HTTP
//! listener, open only to an allowlist unless told otherwise with a reason.

use girder_aws::aws;
use girder_aws::aws::lb_listener as listener;
use girder_aws::aws::lb_target_group as target_group;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::{Reference, fns};
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::{Arn, Exposure, IntoReason, Ipv4Cidr, Reason, ReasonError};
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::Statement;

use crate::connections::{Connectable, Connections};
use crate::error::NetworkError;
use crate::security_group::{Port, SecurityGroup, SecurityGroupHandle};
use crate::vpc::VpcHandle;

/// Where the ALB sends requests.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
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
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Alb {
    vpc: VpcHandle,
    name: String,
    internet_facing: bool,
    allowed: Vec<Ipv4Cidr>,
    open_reason: Option<std::result::Result<Reason, ReasonError>>,
    targets: Targets,
    deletion_protection: bool,
    cors: Option<Cors>,
    hardened_headers: bool,
    access_logs: Option<AccessLogs>,
}

/// Where an ALB writes its access logs: an S3 bucket encrypted with SSE-S3 (the only
/// encryption log delivery supports) and a key prefix.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AccessLogs {
    bucket: Value<String>,
    bucket_arn: Arn,
    prefix: String,
    after: Vec<Reference>,
}

impl AccessLogs {
    /// Logs into bucket `bucket` (its name) of `partition` (a stated
    /// [`girder_core::vocabulary::Partition`] or the `aws_partition` data source) under
    /// `prefix` (no leading or trailing `/`). The bucket is named, not passed as a handle:
    /// its policy needs [`AccessLogs::delivery_statement`] before it exists.
    pub fn new(
        partition: impl Into<Value<String>>,
        bucket: impl Into<Value<String>>,
        prefix: impl Into<String>,
    ) -> Self {
        let bucket = bucket.into();
        Self {
            bucket_arn: Arn::new(partition, "s3", "", "", bucket.clone()),
            bucket,
            prefix: prefix.into(),
            after: Vec::new(),
        }
    }

    /// Create the load balancer after `bucket` (a bucket handle: the bucket and its
    /// policy): AWS checks that it may write when logging is turned on.
    pub fn after(mut self, bucket: &impl Dependable) -> Self {
        for reference in bucket.dependencies() {
            if !self.after.contains(&reference) {
                self.after.push(reference);
            }
        }
        self
    }

    /// The bucket policy statement letting Elastic Load Balancing in the stack's region
    /// write the logs (its regional account, read from the `aws_elb_service_account`
    /// data source added as construct `id`). Give it to the bucket with
    /// `Bucket::policy_statement`.
    pub fn delivery_statement(&self, scope: &mut Scope<'_>, id: &str) -> Result<Statement> {
        self.check()
            .map_err(|e| Error::construct(scope.location(), e))?;
        let delivery = scope.add(id, aws::DataElbServiceAccount::new())?;
        Ok(Statement::allow(["s3:PutObject"])
            .sid("AlbAccessLogDelivery")
            .principal("AWS", [delivery.arn()])
            .on([self
                .bucket_arn
                .clone()
                .join(format!("/{}/AWSLogs/*", self.prefix))]))
    }

    fn check(&self) -> std::result::Result<(), NetworkError> {
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
            Err(NetworkError::AccessLogPrefix(self.prefix.clone()))
        }
    }
}

/// CORS response headers the listener adds, allowing one origin: the ALB's own
/// address. Browsers then refuse every other site's scripts the API's responses.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
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

    fn check(&self) -> std::result::Result<(), NetworkError> {
        if self.methods.is_empty() {
            return Err(NetworkError::CorsNoMethods);
        }
        if let Some(bad) = self
            .methods
            .iter()
            .find(|m| !CORS_METHODS.contains(&m.as_str()))
        {
            return Err(NetworkError::CorsMethod(bad.clone()));
        }
        let token = |h: &String| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
        };
        if let Some(bad) = self.headers.iter().find(|h| !token(h) || h.as_str() == "*") {
            return Err(NetworkError::CorsHeader(bad.clone()));
        }
        if self.max_age_seconds > 86_400 {
            return Err(NetworkError::CorsMaxAge(self.max_age_seconds));
        }
        Ok(())
    }
}

/// An ALB in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AlbHandle {
    lb: aws::LbHandle,
    listener: aws::LbListenerHandle,
    target_group: aws::LbTargetGroupHandle,
    security_group: SecurityGroupHandle,
    target_port: u16,
}

impl Alb {
    /// An internet-facing ALB `name` (at most 32 characters) in the public subnets of
    /// `vpc`, in front of `targets`. Who may connect is set with [`Alb::allow`]; an empty
    /// allowlist is refused unless [`Alb::open_to_internet`] says why.
    pub fn internet_facing(vpc: &VpcHandle, name: impl Into<String>, targets: Targets) -> Self {
        Self {
            vpc: vpc.clone(),
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

    /// An internal ALB in the private subnets of `vpc`, reachable from inside it (its
    /// CIDR is allowed).
    pub fn internal(vpc: &VpcHandle, name: impl Into<String>, targets: Targets) -> Self {
        Self {
            internet_facing: false,
            ..Self::internet_facing(vpc, name, targets)
        }
    }

    /// Allow these client CIDRs on port 80.
    pub fn allow(mut self, cidrs: impl IntoIterator<Item = Ipv4Cidr>) -> Self {
        self.allowed.extend(cidrs);
        self
    }

    /// Accept every address, on purpose: `reason` says why (checked when added).
    pub fn open_to_internet(mut self, reason: impl IntoReason) -> Self {
        self.open_reason = Some(reason.into_reason());
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
}

impl Construct for Alb {
    type Handle = AlbHandle;

    /// Add it in the VPC's public (internet-facing) or private (internal) subnets as
    /// construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<AlbHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let refuse = |e: NetworkError| Error::construct(&at, e);
        let vpc = &self.vpc;
        let name_ok = (1..=32).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !self.name.starts_with('-')
            && !self.name.ends_with('-')
            && !self.name.starts_with("internal-");
        if !name_ok {
            return Err(refuse(NetworkError::LoadBalancerName(self.name.clone())));
        }
        if self.targets.port == 0 {
            return Err(refuse(NetworkError::TargetPort));
        }
        if let Some(cors) = &self.cors {
            cors.check().map_err(refuse)?;
        }
        if let Some(logs) = &self.access_logs {
            logs.check().map_err(refuse)?;
        }
        let reason = match &self.open_reason {
            Some(Ok(reason)) => Some(reason),
            Some(Err(source)) => {
                return Err(refuse(NetworkError::Reason {
                    what: format!(
                        "ALB {}: the reason given to `.open_to_internet(reason)`",
                        self.name
                    ),
                    source: source.clone(),
                }));
            }
            None => None,
        };
        // An internal ALB admits its VPC too; the exposure rule is the same for both.
        let mut clients = self.allowed.clone();
        if !self.internet_facing {
            clients.push(vpc.cidr());
        }
        let allowed = Exposure::internet_facing(&clients, reason)
            .map_err(|source| {
                refuse(NetworkError::Exposure {
                    alb: self.name.clone(),
                    source,
                })
            })?
            .blocks();
        let security_group = SecurityGroup::new(
            vpc,
            format!("{}-alb", self.name),
            format!("ALB {}: HTTP from its allowlist", self.name),
        )
        .add(&mut scope, "security-group")?;
        security_group.connections().allow_from(
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
        let mut after = Vec::new();
        if let Some(logs) = &self.access_logs {
            lb = lb.access_logs(
                aws::lb::AccessLogs::new(logs.bucket.clone())
                    .prefix(&logs.prefix)
                    .enabled(true),
            );
            after.clone_from(&logs.after);
        }
        let lb = scope.add_default(lb.into_spec().depends_on_all(&after))?;
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
        let listener = scope.add("http", http)?;
        Ok(AlbHandle {
            listener,
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

    /// Open the path from the ALB to `targets` on the target port: ingress on the
    /// targets' groups, egress on the ALB's.
    pub fn allow_to_targets(
        &self,
        scope: &mut Scope<'_>,
        targets: &impl Connectable,
    ) -> Result<()> {
        let port = Port::tcp(self.target_port);
        targets
            .connections()
            .allow_from(scope, self, port, "From the ALB")?;
        self.connections()
            .allow_to(scope, targets, port, "To the targets")
            .map(drop)
    }
}

impl Connectable for AlbHandle {
    fn connections(&self) -> &Connections {
        self.security_group.connections()
    }
}

impl Dependable for AlbHandle {
    /// The load balancer and its listener: traffic flows once both exist.
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.lb.dependency(), self.listener.dependency()]
    }
}
