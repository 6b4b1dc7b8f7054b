//! infra/main.tf: VPC, subnets, routes, NAT, IGW.

use girder_core::construct::Construct;
use girder_core::vocabulary::Ipv4Cidr;
use girder_core::{Result, Scope};
use girder_network::{Nat, Vpc, VpcHandle};

/// The network's handles.
pub(super) struct Network {
    pub vpc: VpcHandle,
}

/// The VPC `name` on `cidr`, one NAT gateway.
pub(super) fn add(root: &mut Scope<'_>, name: &str, cidr: Ipv4Cidr) -> Result<Network> {
    let vpc = Vpc::new(name, cidr).nat(Nat::Single).add(root, "network")?;
    Ok(Network { vpc })
}
