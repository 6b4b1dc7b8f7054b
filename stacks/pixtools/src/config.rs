//! The inputs of each environment. Values marked "replace" are placeholders a team sets
//! to its own (account ids, the allowlisted CIDR, the alert address), and the image
//! digests are what CD last deployed; everything else is the seed's.

/// One environment: one AWS account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// `dev` or `prod`.
    pub name: &'static str,
    /// The AWS account (replace).
    pub account_id: &'static str,
    /// The only clients the ALB admits: "your public IP/CIDR" (replace).
    pub allowed_ingress_cidr: Ipv4Cidr,
    /// Where alarms and budget alerts go (replace).
    pub alert_email: &'static str,
    /// The repository GitHub Actions deploys from (replace).
    pub github_repository: &'static str,
    /// Production: deletion protection on the database, longer backups, deploys only
    /// from the approved `prod` GitHub environment.
    pub production: bool,
    /// The ALB refuses deletion. On in both environments: the ALB's DNS name is the
    /// API's only address and the one CORS origin, and recreating the ALB changes it.
    /// Tearing an environment down takes setting this to false and applying first.
    pub alb_deletion_protection: bool,
    /// Queue depth that alarms after 10 minutes.
    pub queue_depth_threshold: u32,
    /// The `pixtools-api` image to run, by digest (`sha256:<64 hex>`): the deployable
    /// artifact. CD sets the digest it pushed; a rollback sets the previous one.
    pub api_image_digest: &'static str,
    /// The `pixtools-worker` image to run, by digest.
    pub worker_image_digest: &'static str,
}

use girder_aws::aws;
use girder_core::prelude::*;
use girder_core::vocabulary::{AwsLocation, Ipv4Cidr, Partition};
use girder_core::{Error, Result, Stack};

impl Environment {
    /// Where the environment's stacks deploy: the seed's partition and region, the
    /// environment's account. Constructs told it give ARNs known at synth.
    pub fn location(&self) -> Result<AwsLocation> {
        AwsLocation::stated(PARTITION, REGION, self.account_id)
            .map_err(|e| Error::construct(format!("pixtools-{}", self.name), e))
    }
}

/// A stack of `env`'s account: the aws provider pinned to the account and region, and the
/// project's default tags on everything.
pub(crate) fn aws_stack(name: &str, env: &Environment, backend: Backend) -> Result<Stack> {
    let mut stack = Stack::new(name, env.name, backend)?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(
        aws::Provider::new()
            .region(REGION)
            .allowed_account_ids([env.account_id])
            .into(),
    )?;
    stack.add_aspect(DefaultTags::new([
        ("Project", "pixtools"),
        ("Environment", env.name),
        ("ManagedBy", "girder"),
    ]));
    Ok(stack)
}

/// The seed's region.
pub const REGION: &str = "us-east-1";

/// The partition of [`REGION`].
pub(crate) const PARTITION: Partition = Partition::Aws;

/// A documentation address (RFC 5737) until a team puts its own.
const OFFICE: Ipv4Cidr = cidr([203, 0, 113, 10], 32);

/// A CIDR constant, checked when the crate compiles (a block with host bits set does not
/// build).
#[allow(clippy::panic)] // evaluated at compile time only: a bad constant fails the build
pub(crate) const fn cidr(network: [u8; 4], prefix: u8) -> Ipv4Cidr {
    match Ipv4Cidr::checked(network, prefix) {
        Some(cidr) => cidr,
        None => panic!("not a CIDR block: host bits set or prefix over 32"),
    }
}

/// dev, then prod.
pub fn environments() -> Vec<Environment> {
    let office = OFFICE;
    vec![
        Environment {
            name: "dev",
            account_id: "111111111111",
            allowed_ingress_cidr: office,
            alert_email: "alerts@pixtools.example",
            github_repository: "pixtools/pixtools",
            production: false,
            alb_deletion_protection: true,
            queue_depth_threshold: 100,
            api_image_digest: "sha256:2b5d2a8e1f0c4c7e9a3b6d8f0e1a2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c",
            worker_image_digest: "sha256:7f3c1e9b5a2d4f6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5f7",
        },
        Environment {
            name: "prod",
            account_id: "222222222222",
            allowed_ingress_cidr: office,
            alert_email: "alerts@pixtools.example",
            github_repository: "pixtools/pixtools",
            production: true,
            alb_deletion_protection: true,
            queue_depth_threshold: 100,
            api_image_digest: "sha256:2b5d2a8e1f0c4c7e9a3b6d8f0e1a2c3b4d5e6f708192a3b4c5d6e7f8091a2b3c",
            worker_image_digest: "sha256:7f3c1e9b5a2d4f6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5f7",
        },
    ]
}
