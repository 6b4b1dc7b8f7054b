//! The inputs of each environment. Values marked "replace" are placeholders a team sets
//! to its own (the account ids, the administrators' role, the developers' addresses,
//! the security alarms' PagerDuty integration and mailbox);
//! where the seeds leave a value open, the choice is terraform-aws-modules' or AWS's
//! guidance, named where it is made.

use girder_aws::aws;
use girder_core::prelude::*;
use girder_core::vocabulary::{AwsLocation, Ipv4Cidr, Partition};
use girder_core::{Error, Result, Stack};
use girder_network::Nat;

/// The region. The seeds name none; us-west-2 holds the Earth-observation open data
/// Piksel indexes and reads (the Sentinel-2 and Landsat collections of the AWS Open Data
/// registry), so reads cross no region and cost no transfer.
pub const REGION: &str = "us-west-2";

/// The partition of [`REGION`].
pub(crate) const PARTITION: Partition = Partition::Aws;

/// The Terraform Cloud organization (seed 000, issue 1.1).
pub const ORGANIZATION: &str = "piksel";

/// One environment: one AWS account (the seed's "AWS account structure": an account per
/// environment, so a dev mistake cannot reach prod's data; see the README tour).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// `dev`, `staging` or `prod`.
    pub name: &'static str,
    /// The AWS account (replace).
    pub account_id: &'static str,
    /// The VPC's block: distinct per environment, so they can be peered later.
    pub vpc_cidr: Ipv4Cidr,
    /// NAT: one gateway (dev, staging: cost) or one per zone (prod: a zone's loss does
    /// not cut the others' egress), as terraform-aws-modules/vpc offers both.
    pub nat: Nat,
    /// Production: multi-AZ database, longer backups, two of each system node.
    pub production: bool,
    /// Terraform Cloud applies a merged change without a person (dev only: staging and
    /// prod need an approval, seed 001).
    pub auto_apply: bool,
    /// The ODC index database's instance class.
    pub database_class: &'static str,
    /// The addresses the cluster's public endpoint admits (replace), besides the VPC.
    pub operator_cidrs: Vec<Ipv4Cidr>,
    /// Where the critical security alarms page the on-call (replace): PagerDuty's
    /// CloudWatch integration URL, an HTTPS subscription of the security topic (seed 001:
    /// "critical alerts: PagerDuty").
    pub security_pagerduty_url: &'static str,
    /// Who receives the security record by e-mail (replace): every alarm and Access
    /// Analyzer finding, and the periodic permissions report's readers (seed 001:
    /// "status updates: email").
    pub security_report_email: &'static str,
}

impl Environment {
    /// Where the environment's stacks deploy.
    pub fn location(&self) -> Result<AwsLocation> {
        AwsLocation::stated(PARTITION, REGION, self.account_id)
            .map_err(|e| Error::construct(format!("piksel-{}", self.name), e))
    }
}

/// A stack `name` of `env`'s account, its state in Terraform Cloud: the aws provider
/// pinned to the account and region, the project's tags on everything.
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
        ("Project", "piksel"),
        ("Environment", env.name),
        ("ManagedBy", "girder"),
    ]));
    Ok(stack)
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

/// PagerDuty's CloudWatch integration URL for the platform's security service (replace
/// the key with the integration's own).
const PAGERDUTY_SECURITY: &str =
    "https://events.pagerduty.com/integration/ReplaceWithIntegrationKey/enqueue";

/// The platform team's security mailbox (replace; RFC 2606's `.example` until then).
const SECURITY_REPORTS: &str = "platform-security@piksel.example";

/// dev, staging, prod: the seed's order of promotion.
pub fn environments() -> Vec<Environment> {
    vec![
        Environment {
            name: "dev",
            account_id: "333333333333",
            vpc_cidr: cidr([10, 10, 0, 0], 16),
            nat: Nat::Single,
            production: false,
            auto_apply: true,
            database_class: "db.t4g.medium",
            operator_cidrs: vec![OFFICE],
            security_pagerduty_url: PAGERDUTY_SECURITY,
            security_report_email: SECURITY_REPORTS,
        },
        Environment {
            name: "staging",
            account_id: "444444444444",
            vpc_cidr: cidr([10, 20, 0, 0], 16),
            nat: Nat::Single,
            production: false,
            auto_apply: false,
            database_class: "db.t4g.medium",
            operator_cidrs: vec![OFFICE],
            security_pagerduty_url: PAGERDUTY_SECURITY,
            security_report_email: SECURITY_REPORTS,
        },
        Environment {
            name: "prod",
            account_id: "555555555555",
            vpc_cidr: cidr([10, 30, 0, 0], 16),
            nat: Nat::PerAz,
            production: true,
            auto_apply: false,
            database_class: "db.m7g.large",
            operator_cidrs: vec![OFFICE],
            security_pagerduty_url: PAGERDUTY_SECURITY,
            security_report_email: SECURITY_REPORTS,
        },
    ]
}
