//! infra/iam.tf: GitHub Actions deploys through OIDC: dev from main, prod only from the
//! approved `prod` environment.

use girder_core::construct::Construct;
use girder_core::vocabulary::AwsLocation;
use girder_core::{Error, Result, Scope};
use girder_iam::{GithubOidcProvider, PolicyDocument, Role, Statement, Trust};

use super::compute::Compute;
use super::storage::Storage;
use crate::config::Environment;

/// Where CI publishes the manifests the node syncs.
const MANIFESTS_PREFIX: &str = "manifests/";

/// The deploy role of the node group `name`: push images, publish manifests, run the
/// node's manifests sync (its own SSM document, on its own instances; no shell).
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    location: &AwsLocation,
    storage: &Storage,
    compute: &Compute,
) -> Result<()> {
    let mut deploy = root.child("deploy")?;
    let Some(sync) = compute.node.deploy_statements(location) else {
        return Err(Error::invalid(
            deploy.location(),
            "the node has no manifests sync to run: give it `manifests_from`",
        ));
    };
    let provider = GithubOidcProvider.add(&mut deploy, "github")?;
    let trust = if env.production {
        Trust::github_actions_environment(provider.arn(), env.github_repository, "prod")
    } else {
        Trust::github_actions_branch(provider.arn(), env.github_repository, "main")
    };
    let manifests = &storage.manifests;
    let mut policy = PolicyDocument::new()
        .statement(
            Statement::allow(["ecr:GetAuthorizationToken"])
                .sid("EcrLogin")
                .on(["*"])
                .wildcard_because("ecr:GetAuthorizationToken has no resource-level permissions"),
        )
        .statement(
            Statement::allow([
                "ecr:BatchCheckLayerAvailability",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
                "ecr:BatchGetImage",
                // Before a release or a rollback names a digest in release.json, CD
                // checks the repository has it (a digest it does not have is an
                // ImagePullBackOff on the node).
                "ecr:DescribeImages",
            ])
            .sid("PushImages")
            .on([
                storage.api_repository.arn(),
                storage.worker_repository.arn(),
            ]),
        );
    // Publishing is the bucket's own write statements for the prefix (an encrypting
    // statement too if the bucket had a KMS key), syncing its list statement.
    let sids = ["PublishManifests", "EncryptManifests"];
    for (statement, sid) in manifests
        .write_statements(MANIFESTS_PREFIX)
        .into_iter()
        .zip(sids)
    {
        policy = policy.statement(statement.sid(sid));
    }
    let mut policy = policy.statement(
        manifests
            .list_statement(MANIFESTS_PREFIX)
            .sid("SyncManifests"),
    );
    // Deploying is the node's own statements: its sync document, on its instances.
    for statement in sync {
        policy = policy.statement(statement);
    }
    let _role = Role::new(format!("{name}-deploy"), trust)
        .description(format!("GitHub Actions deploys of PixTools {}", env.name))
        .max_session(3600)
        .policy("deploy", policy)
        .add(&mut deploy, "role")?;
    Ok(())
}
