//! The inputs of each environment. Values marked "replace" are placeholders a team sets
//! to its own (account ids, the allowlisted CIDR, the alert address); everything else is
//! the seed's. The image digests are the release: `stacks/pixtools/release.json`, which
//! CD writes (the digests it pushed) and a rollback sets back (the previous digests,
//! the file's last good version), no Rust edited.

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
    /// artifact, from `release.json` ([`RELEASE_FILE`]).
    pub api_image_digest: String,
    /// The `pixtools-worker` image to run, by digest, from `release.json`.
    pub worker_image_digest: String,
}

/// The release: per environment, the digest of each image (`{"dev": {"pixtools-api":
/// "sha256:…", "pixtools-worker": "sha256:…"}, …}`).
pub(crate) const RELEASE_FILE: &str = include_str!("../release.json");

/// The digest `release.json` gives `repository` in environment `env`, or an empty string
/// when it gives none (the image is then refused at synth, naming the container and
/// image; a test checks the file names every digest).
fn released(env: &str, repository: &str) -> String {
    serde_json::from_str::<serde_json::Value>(RELEASE_FILE)
        .ok()
        .and_then(|release| release[env][repository].as_str().map(str::to_owned))
        .unwrap_or_default()
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
            api_image_digest: released("dev", "pixtools-api"),
            worker_image_digest: released("dev", "pixtools-worker"),
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
            api_image_digest: released("prod", "pixtools-api"),
            worker_image_digest: released("prod", "pixtools-worker"),
        },
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

    use super::*;

    #[test]
    fn the_release_names_a_digest_of_each_image_for_every_environment_and_nothing_else() {
        let release: serde_json::Value = serde_json::from_str(RELEASE_FILE).unwrap();
        let environments = environments();
        let names: Vec<&str> = environments.iter().map(|e| e.name).collect();
        let mut listed: Vec<&str> = release
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        listed.sort_unstable();
        let mut expected = names.clone();
        expected.sort_unstable();
        // A typo'd environment would be a release nobody deploys.
        assert_eq!(listed, expected);
        for env in &environments {
            for digest in [&env.api_image_digest, &env.worker_image_digest] {
                let hex = digest
                    .strip_prefix("sha256:")
                    .unwrap_or_else(|| panic!("{}: {digest:?}", env.name));
                assert!(
                    hex.len() == 64
                        && hex
                            .chars()
                            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                    "{}: {digest:?}",
                    env.name
                );
            }
            assert_eq!(
                release[env.name].as_object().unwrap().len(),
                2,
                "{}: only the two images",
                env.name
            );
        }
        // A missing entry gives no digest (refused at synth), never another's.
        assert_eq!(released("staging", "pixtools-api"), "");
        assert_eq!(released("dev", "pixtools-other"), "");
    }
}
