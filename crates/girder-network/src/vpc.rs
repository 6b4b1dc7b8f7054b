//! A VPC across availability zones, with the subnets, routing, NAT, endpoint and flow logs
//! a workload network needs. Names and defaults follow terraform-aws-modules/vpc.

use girder_aws::aws;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::expr::fns;
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::Ipv4Cidr;
use girder_core::{Error, Expr, LogRetention, Result, Scope};
use girder_iam::{PolicyDocument, Role, Statement, Trust};

use crate::cidr::{SubnetPlanner, check_vpc};
use crate::error::NetworkError;

/// How private subnets reach the internet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Nat {
    /// No NAT: private subnets reach only the VPC and its endpoints.
    None,
    /// One NAT gateway for all zones: cheapest; a zone outage cuts egress.
    #[default]
    Single,
    /// One NAT gateway per zone: no cross-zone dependency.
    PerAz,
}

/// VPC flow logs to CloudWatch Logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLogs {
    /// Days to keep them: one of the periods CloudWatch offers ([`LogRetention`]),
    /// checked when the VPC is added.
    pub retention_days: u16,
}

/// A VPC to create.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Vpc {
    name: String,
    cidr: Ipv4Cidr,
    az_count: u8,
    public_prefix: u8,
    private_prefix: u8,
    nat: Nat,
    s3_endpoint: bool,
    flow_logs: Option<FlowLogs>,
}

/// A VPC in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct VpcHandle {
    vpc: aws::VpcHandle,
    cidr: Ipv4Cidr,
    public_subnets: Vec<(Ipv4Cidr, aws::SubnetHandle)>,
    private_subnets: Vec<(Ipv4Cidr, aws::SubnetHandle)>,
    private_route_tables: Vec<aws::RouteTableHandle>,
    /// What traffic out of the private subnets needs: their route-table associations,
    /// the routes to the NAT gateways and the S3 endpoint.
    private_egress: Vec<Reference>,
}

impl Vpc {
    /// VPC `name` over `cidr` (a /16 to /28 block, as AWS allows; checked when added):
    /// 2 zones, a /24 public and a /24 private subnet per zone,
    /// one NAT gateway, an S3 gateway endpoint, flow logs kept 14 days.
    pub fn new(name: impl Into<String>, cidr: Ipv4Cidr) -> Self {
        Self {
            name: name.into(),
            cidr,
            az_count: 2,
            public_prefix: 24,
            private_prefix: 24,
            nat: Nat::Single,
            s3_endpoint: true,
            flow_logs: Some(FlowLogs { retention_days: 14 }),
        }
    }

    /// Spread over this many availability zones (1-6).
    pub fn availability_zones(mut self, count: u8) -> Self {
        self.az_count = count;
        self
    }

    /// Subnet sizes (prefix lengths) of public and private subnets.
    pub fn subnet_prefixes(mut self, public: u8, private: u8) -> Self {
        self.public_prefix = public;
        self.private_prefix = private;
        self
    }

    /// NAT for private subnets.
    pub fn nat(mut self, nat: Nat) -> Self {
        self.nat = nat;
        self
    }

    /// No S3 gateway endpoint (S3 traffic then goes through NAT).
    pub fn without_s3_endpoint(mut self) -> Self {
        self.s3_endpoint = false;
        self
    }

    /// Flow logs, or none.
    pub fn flow_logs(mut self, flow_logs: Option<FlowLogs>) -> Self {
        self.flow_logs = flow_logs;
        self
    }
}

impl Construct for Vpc {
    type Handle = VpcHandle;

    /// Add the VPC and everything in it as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<VpcHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let refuse = |e: NetworkError| Error::construct(&at, e);
        check_vpc(&self.cidr).map_err(|source| {
            refuse(NetworkError::Cidr {
                vpc: self.name.clone(),
                source,
            })
        })?;
        if !(1..=6).contains(&self.az_count) {
            return Err(refuse(NetworkError::AvailabilityZones(self.az_count)));
        }
        let flow_log_retention = match self.flow_logs {
            Some(logs) => Some(LogRetention::days(logs.retention_days).map_err(|source| {
                refuse(NetworkError::LogRetention {
                    what: "flow log",
                    source,
                })
            })?),
            None => None,
        };
        // Plan every subnet before creating anything: overlaps and overflows are errors
        // that name the blocks.
        let mut planner = SubnetPlanner::new(self.cidr);
        let mut plan = |prefix: u8, kind: &'static str| -> Result<Vec<Ipv4Cidr>> {
            (0..self.az_count)
                .map(|_| {
                    planner.allocate(prefix).map_err(|source| {
                        refuse(NetworkError::Subnets {
                            kind,
                            vpc: self.name.clone(),
                            cidr: self.cidr,
                            source,
                        })
                    })
                })
                .collect()
        };
        let public_blocks = plan(self.public_prefix, "public")?;
        let private_blocks = plan(self.private_prefix, "private")?;

        let zones = scope.add(
            "zones",
            aws::DataAvailabilityZones::new().state("available"),
        )?;
        let vpc = scope.add_default(
            aws::Vpc::new()
                .cidr_block(self.cidr.to_string())
                .enable_dns_support(true)
                .enable_dns_hostnames(true)
                .tags([("Name", self.name.as_str())]),
        )?;
        // The VPC's default security group admits and sends nothing (CIS AWS 5.4): every
        // rule girder writes is on a group of its own, and a resource launched without
        // one is cut off instead of open to the VPC.
        scope.add(
            "default-security-group",
            aws::DefaultSecurityGroup::new()
                .vpc_id(vpc.id())
                .tags([("Name", format!("{}-default", self.name))]),
        )?;
        let igw = scope.add(
            "internet-gateway",
            aws::InternetGateway::new()
                .vpc_id(vpc.id())
                .tags([("Name", self.name.as_str())]),
        )?;
        let public_table = scope.add(
            "public",
            aws::RouteTable::new(vpc.id()).tags([("Name", format!("{}-public", self.name))]),
        )?;
        scope.add(
            "public-internet",
            aws::Route::new(public_table.id())
                .destination_cidr_block("0.0.0.0/0")
                .gateway_id(igw.id()),
        )?;

        let letter = |i: usize| char::from(b'a' + u8::try_from(i).unwrap_or(0));
        let mut public_subnets = Vec::new();
        for (i, block) in public_blocks.iter().enumerate() {
            let suffix = letter(i);
            let subnet = scope.add(
                &format!("public-{suffix}"),
                aws::Subnet::new(vpc.id())
                    .cidr_block(block.to_string())
                    .availability_zone(fns::element(zones.names(), i))
                    .map_public_ip_on_launch(false)
                    .tags([
                        ("Name", format!("{}-public-{suffix}", self.name)),
                        // Where the AWS Load Balancer Controller puts internet-facing ALBs.
                        ("kubernetes.io/role/elb", "1".to_owned()),
                    ]),
            )?;
            scope.add(
                &format!("public-{suffix}-association"),
                aws::RouteTableAssociation::new(public_table.id()).subnet_id(subnet.id()),
            )?;
            public_subnets.push((*block, subnet));
        }

        let mut nat_gateways = Vec::new();
        let nat_count = match self.nat {
            Nat::None => 0,
            Nat::Single => 1,
            Nat::PerAz => usize::from(self.az_count),
        };
        for (i, (_, subnet)) in public_subnets.iter().enumerate().take(nat_count) {
            let suffix = letter(i);
            let eip = scope.add(
                &format!("nat-{suffix}-ip"),
                aws::Eip::new()
                    .domain("vpc")
                    .tags([("Name", format!("{}-nat-{suffix}", self.name))]),
            )?;
            let nat = scope.add(
                &format!("nat-{suffix}"),
                aws::NatGateway::new()
                    .allocation_id(eip.id())
                    .subnet_id(subnet.id())
                    .tags([("Name", format!("{}-nat-{suffix}", self.name))])
                    .into_spec()
                    .depends_on(&igw),
            )?;
            nat_gateways.push(nat);
        }

        // One private route table, or one per zone when each zone has its own NAT.
        let per_zone = self.nat == Nat::PerAz;
        let table_count = if per_zone {
            usize::from(self.az_count)
        } else {
            1
        };
        let mut private_route_tables: Vec<aws::RouteTableHandle> = Vec::new();
        let mut private_egress: Vec<Reference> = Vec::new();
        for i in 0..table_count {
            let (table_id, name) = if per_zone {
                (
                    format!("private-{}-routes", letter(i)),
                    format!("{}-private-{}", self.name, letter(i)),
                )
            } else {
                ("private".to_owned(), format!("{}-private", self.name))
            };
            let table = scope.add(
                &table_id,
                aws::RouteTable::new(vpc.id()).tags([("Name", name)]),
            )?;
            let nat = if per_zone {
                nat_gateways.get(i)
            } else {
                nat_gateways.first()
            };
            if let Some(nat) = nat {
                let route = scope.add(
                    &format!("{table_id}-nat"),
                    aws::Route::new(table.id())
                        .destination_cidr_block("0.0.0.0/0")
                        .nat_gateway_id(nat.id()),
                )?;
                private_egress.push(route.dependency());
            }
            private_route_tables.push(table);
        }

        let mut private_subnets = Vec::new();
        for (i, block) in private_blocks.iter().enumerate() {
            let suffix = letter(i);
            let subnet = scope.add(
                &format!("private-{suffix}"),
                aws::Subnet::new(vpc.id())
                    .cidr_block(block.to_string())
                    .availability_zone(fns::element(zones.names(), i))
                    .tags([
                        ("Name", format!("{}-private-{suffix}", self.name)),
                        // Where the AWS Load Balancer Controller puts internal ALBs.
                        ("kubernetes.io/role/internal-elb", "1".to_owned()),
                    ]),
            )?;
            let table = &private_route_tables[if per_zone { i } else { 0 }];
            let association = scope.add(
                &format!("private-{suffix}-association"),
                aws::RouteTableAssociation::new(table.id()).subnet_id(subnet.id()),
            )?;
            private_egress.push(association.dependency());
            private_subnets.push((*block, subnet));
        }

        if self.s3_endpoint {
            let region = scope.add("region", aws::DataRegion::new())?;
            let mut tables: Vec<Expr<String>> = vec![public_table.id()];
            tables.extend(private_route_tables.iter().map(|t| t.id()));
            let endpoint = scope.add(
                "s3-endpoint",
                aws::VpcEndpoint::new(vpc.id())
                    .service_name(fns::format("com.amazonaws.%s.s3", [region.region().any()]))
                    .vpc_endpoint_type("Gateway")
                    .route_table_ids(tables)
                    .tags([("Name", format!("{}-s3", self.name))]),
            )?;
            private_egress.push(endpoint.dependency());
        }

        if let Some(retention) = flow_log_retention {
            let group = scope.add(
                "flow-logs",
                aws::CloudwatchLogGroup::new()
                    .name(format!("/aws/vpc/{}/flow-logs", self.name))
                    .retention_in_days(retention.retention_in_days()),
            )?;
            let role = Role::new(
                format!("{}-flow-logs", self.name),
                Trust::service("vpc-flow-logs.amazonaws.com"),
            )
            .description(format!("Writes the flow logs of VPC {}", self.name))
            .policy(
                "write-flow-logs",
                PolicyDocument::new().statement(
                    Statement::allow([
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ])
                    .on([group.arn(), fns::format("%s:*", [group.arn().any()])]),
                ),
            )
            .add(&mut scope, "flow-logs-role")?;
            scope.add(
                "flow-log",
                aws::FlowLog::new()
                    .vpc_id(vpc.id())
                    .traffic_type("ALL")
                    .log_destination_type("cloud-watch-logs")
                    .log_destination(group.arn())
                    .iam_role_arn(role.arn())
                    .max_aggregation_interval(60)
                    .tags([("Name", format!("{}-flow-logs", self.name))]),
            )?;
        }

        Ok(VpcHandle {
            vpc,
            cidr: self.cidr,
            public_subnets,
            private_subnets,
            private_route_tables,
            private_egress,
        })
    }
}

impl VpcHandle {
    /// The VPC id.
    pub fn id(&self) -> Expr<String> {
        self.vpc.id()
    }

    /// The VPC's CIDR, known at synth.
    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    /// The generated VPC resource.
    pub fn resource(&self) -> &aws::VpcHandle {
        &self.vpc
    }

    /// Public subnet ids, one per zone.
    pub fn public_subnet_ids(&self) -> Vec<Expr<String>> {
        self.public_subnets.iter().map(|(_, s)| s.id()).collect()
    }

    /// Private subnet ids, one per zone.
    pub fn private_subnet_ids(&self) -> Vec<Expr<String>> {
        self.private_subnets.iter().map(|(_, s)| s.id()).collect()
    }

    /// Public subnet CIDRs, known at synth.
    pub fn public_subnet_cidrs(&self) -> Vec<Ipv4Cidr> {
        self.public_subnets.iter().map(|(c, _)| *c).collect()
    }

    /// Private subnet CIDRs, known at synth.
    pub fn private_subnet_cidrs(&self) -> Vec<Ipv4Cidr> {
        self.private_subnets.iter().map(|(c, _)| *c).collect()
    }

    /// Private route table ids.
    pub fn private_route_table_ids(&self) -> Vec<Expr<String>> {
        self.private_route_tables.iter().map(|t| t.id()).collect()
    }
}

impl Dependable for VpcHandle {
    /// The VPC, its subnets and private route tables, and what traffic out of the private
    /// subnets needs (their associations, the NAT routes, the S3 endpoint): an instance
    /// ordered after the VPC can reach the internet and S3 when it boots.
    fn dependencies(&self) -> Vec<Reference> {
        std::iter::once(self.vpc.dependency())
            .chain(self.public_subnets.iter().map(|(_, s)| s.dependency()))
            .chain(self.private_subnets.iter().map(|(_, s)| s.dependency()))
            .chain(self.private_route_tables.iter().map(Dependency::dependency))
            .chain(self.private_egress.iter().cloned())
            .collect()
    }
}
