//! The inputs of each environment. Values marked "replace" are placeholders a team sets
//! to its own (the account ids, the operators' addresses).

use girder_aws::aws;
use girder_core::prelude::*;
use girder_core::vocabulary::Ipv4Cidr;
use girder_core::{Result, Stack};
use girder_network::Nat;

/// The region. The seed names none; us-east-1 offers the T4 (g4dn) instances the GPU
/// pool needs in every zone.
pub const REGION: &str = "us-east-1";

/// The Terraform Cloud organization the stacks' state lives in (replace: the seed names
/// no state backend; Terraform Cloud keeps state, locks and the plan history girder's
/// other systems use).
pub const ORGANIZATION: &str = "its-camera";

/// One environment: one AWS account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// `dev` or `prod`.
    pub name: &'static str,
    /// The AWS account (replace).
    pub account_id: &'static str,
    /// The VPC's block.
    pub vpc_cidr: Ipv4Cidr,
    /// One NAT gateway (dev: cost) or one per zone (prod).
    pub nat: Nat,
    /// Production: the seed's full cluster, deletion protection.
    pub production: bool,
    /// General-purpose workers: instance type and count.
    pub workers: (&'static str, u16),
    /// GPU workers (NVIDIA T4): instance type and count.
    pub gpu_workers: (&'static str, u16),
    /// The addresses the cluster's public endpoint admits (replace).
    pub operator_cidrs: Vec<Ipv4Cidr>,
}

/// A CIDR constant, checked when the crate compiles.
#[allow(clippy::panic)] // evaluated at compile time only: a bad constant fails the build
const fn cidr(network: [u8; 4], prefix: u8) -> Ipv4Cidr {
    match Ipv4Cidr::checked(network, prefix) {
        Some(cidr) => cidr,
        None => panic!("not a CIDR block: host bits set or prefix over 32"),
    }
}

/// A documentation address (RFC 5737) until a team puts its own.
const OFFICE: Ipv4Cidr = cidr([198, 51, 100, 0], 24);

/// dev and prod. Prod is the seed's cluster: 6 worker nodes, 48 vCPU, 192 GiB, 2 NVIDIA
/// T4 (4 m7i.2xlarge, 8 vCPU / 32 GiB each, and 2 g4dn.2xlarge, 8 vCPU / 32 GiB and one
/// T4 each). Dev is a third of it with one GPU.
pub fn environments() -> Vec<Environment> {
    vec![
        Environment {
            name: "dev",
            account_id: "666666666666",
            vpc_cidr: cidr([10, 50, 0, 0], 16),
            nat: Nat::Single,
            production: false,
            workers: ("m7i.2xlarge", 2),
            gpu_workers: ("g4dn.2xlarge", 1),
            operator_cidrs: vec![OFFICE],
        },
        Environment {
            name: "prod",
            account_id: "777777777777",
            vpc_cidr: cidr([10, 60, 0, 0], 16),
            nat: Nat::PerAz,
            production: true,
            workers: ("m7i.2xlarge", 4),
            gpu_workers: ("g4dn.2xlarge", 2),
            operator_cidrs: vec![OFFICE],
        },
    ]
}

/// A stack `name` of `env`'s account: the aws provider pinned to the account and region,
/// the system's tags on everything, state in Terraform Cloud.
pub(crate) fn aws_stack(name: &str, env: &Environment) -> Result<Stack> {
    let mut stack = Stack::new(name, env.name, Backend::cloud(ORGANIZATION))?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(
        aws::Provider::new()
            .region(REGION)
            .allowed_account_ids([env.account_id])
            .into(),
    )?;
    stack.add_aspect(DefaultTags::new([
        ("Project", "its-camera-ai"),
        ("Environment", env.name),
        ("ManagedBy", "girder"),
    ]));
    Ok(stack)
}
