//! infra/iam.tf: GitHub Actions deploys through OIDC: dev from main, prod only from the
//! approved `prod` environment.

use girder_core::expr::fns;
use girder_core::{Expr, Result, Scope};
use girder_iam::{Condition, PolicyDocument, Role, Statement, Trust, github_oidc_provider};

use super::storage::Storage;
use crate::config::{Environment, REGION};

/// The deploy role of the node group `name`: push images, publish manifests, run the
/// deploy command on the node.
pub(super) fn add(
    root: &mut Scope<'_>,
    env: &Environment,
    name: &str,
    storage: &Storage,
) -> Result<()> {
    let mut deploy = root.child("deploy")?;
    let provider = github_oidc_provider(&mut deploy, "github")?;
    let trust = if env.production {
        Trust::github_actions_environment(provider.arn(), env.github_repository, "prod")
    } else {
        Trust::github_actions_branch(provider.arn(), env.github_repository, "main")
    };
    let manifests = &storage.manifests;
    let policy = PolicyDocument::new()
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
            ])
            .sid("PushImages")
            .on([
                storage.api_repository.arn(),
                storage.worker_repository.arn(),
            ]),
        )
        .statement(
            Statement::allow(["s3:PutObject", "s3:DeleteObject"])
                .sid("PublishManifests")
                .on([fns::format("%s/manifests/*", [manifests.arn().any()])]),
        )
        .statement(
            Statement::allow(["s3:ListBucket"])
                .sid("SyncManifests")
                .on([manifests.arn()])
                .when(Condition::string_like("s3:prefix", ["manifests/*"])),
        )
        .statement(
            Statement::allow(["ssm:SendCommand"])
                .sid("DeployThroughSsm")
                .on([
                    fns::format(
                        "arn:aws:ssm:%s::document/AWS-RunShellScript",
                        [Expr::lit(REGION).any()],
                    ),
                    Expr::lit(format!(
                        "arn:aws:ec2:{REGION}:{}:instance/*",
                        env.account_id
                    )),
                ])
                .when(Condition::string_equals(
                    "ssm:resourceTag/aws:autoscaling:groupName",
                    name.to_owned(),
                )),
        );
    Role::new(format!("{name}-deploy"), trust)
        .description(format!("GitHub Actions deploys of PixTools {}", env.name))
        .max_session(3600)
        .policy("deploy", policy)
        .add(&mut deploy, "role")?;
    Ok(())
}
