//! girder-network: the network a system runs in.
//!
//! - [`Ipv4Cidr`] and [`SubnetPlanner`]: CIDR blocks as a type (host bits zero, prefix
//!   0-32) and a planner that hands out aligned blocks inside a VPC and cannot overlap.
//! - [`Vpc`]: a VPC across N availability zones with public and private subnets planned
//!   from its CIDR, an internet gateway, NAT (none, one, or one per zone), route tables,
//!   an S3 gateway endpoint and flow logs to CloudWatch, with terraform-aws-modules'
//!   names and defaults.
//! - [`SecurityGroup`]: a group without inline rules, and typed rules through intent
//!   methods (`allow_from(&other, Port::tcp(5432))`).
//! - [`PrivateZone`]: a Route53 zone that resolves only inside the VPC.
//! - [`Alb`]: an Application Load Balancer, its security group (an allowlist; an empty
//!   one on an internet-facing ALB is refused), a target group and an HTTP listener.

mod alb;
mod cidr;
mod dns;
mod security_group;
mod vpc;

pub use alb::{AccessLogs, Alb, AlbHandle, Cors, Targets};
pub use cidr::{CidrError, Ipv4Cidr, SubnetPlanner};
pub use dns::{PrivateZone, PrivateZoneHandle};
pub use security_group::{Port, SecurityGroup, SecurityGroupHandle};
pub use vpc::{FlowLogs, Nat, Vpc, VpcHandle};
