//! girder-network: the network a system runs in.
//!
//! - [`Ipv4Cidr`] (girder-core's, re-exported) and [`SubnetPlanner`]: CIDR blocks as a
//!   type (host bits zero, prefix 0-32) and a planner that hands out aligned blocks inside
//!   a VPC and cannot overlap.
//! - [`Vpc`]: a VPC across N availability zones with public and private subnets planned
//!   from its CIDR, an internet gateway, NAT (none, one, or one per zone), route tables,
//!   an S3 gateway endpoint and flow logs to CloudWatch, with terraform-aws-modules'
//!   names and defaults.
//! - [`SecurityGroup`]: a group without inline rules. Every construct with security
//!   groups (groups, PostgreSQL, K3s nodes, load balancers) is [`Connectable`]: its
//!   [`Connections`] take rules one way, `allow_from(&peer, Port::tcp(5432), reason)`,
//!   where a peer is anything connectable or a CIDR block (AWS CDK's
//!   `connections.allowFrom`).
//! - [`PrivateZone`]: a Route53 zone that resolves only inside the VPC.
//! - [`Alb`]: an Application Load Balancer, its security group (an allowlist; an empty
//!   one on an internet-facing ALB is refused), a target group and an HTTP listener.
//!
//! Every builder implements [`girder_core::construct::Construct`]; refusals are
//! [`NetworkError`]s inside [`girder_core::Error::Construct`].
//!
//! ```
//! use girder_core::prelude::*;
//! use girder_network::{Alb, Connectable, Port, SecurityGroup, Targets, Vpc};
//!
//! # fn main() -> girder_core::Result<()> {
//! let mut stack = Stack::new("shop", "dev", Backend::local())?;
//! let mut root = stack.root();
//! // Added one way: builder, `add(scope, id)`, a handle back.
//! let vpc = Vpc::new("shop", "10.0.0.0/16".parse().unwrap()).add(&mut root, "network")?;
//! // Dependencies are handles given to the builder.
//! let nodes = SecurityGroup::new(&vpc, "shop-nodes", "App nodes").add(&mut root, "nodes")?;
//! let alb = Alb::internet_facing(&vpc, "shop", Targets::instances("shop-web", 30080))
//!     .allow(["203.0.113.0/24".parse().unwrap()])
//!     .add(&mut root, "alb")?;
//! // Connected one way: a peer is anything connectable, or CIDR blocks.
//! nodes
//!     .connections()
//!     .allow_from(&mut root, &alb, Port::tcp(30080), "From the ALB")?;
//! let office: girder_network::Ipv4Cidr = "198.51.100.7/32".parse().unwrap();
//! nodes
//!     .connections()
//!     .allow_from(&mut root, &office, Port::tcp(22), "Office SSH")?;
//! # Ok(())
//! # }
//! ```
//!
//! A builder dropped before `add` creates nothing, and the compiler says so:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! use girder_network::{Nat, Vpc};
//! let cidr = "10.0.0.0/16".parse().unwrap();
//! Vpc::new("app", cidr).nat(Nat::Single);
//! ```

mod alb;
mod cidr;
mod connections;
mod dns;
mod error;
mod security_group;
mod vpc;

pub use alb::{AccessLogs, Alb, AlbHandle, Cors, Targets};
pub use cidr::{CidrError, SubnetPlanner, check_subnet, check_vpc};
pub use connections::{Connectable, Connections, Peer, PeerSource};
pub use dns::{PrivateZone, PrivateZoneHandle};
pub use error::NetworkError;
pub use girder_core::vocabulary::Ipv4Cidr;
pub use security_group::{Port, SecurityGroup, SecurityGroupHandle};
pub use vpc::{FlowLogs, Nat, Vpc, VpcHandle};
