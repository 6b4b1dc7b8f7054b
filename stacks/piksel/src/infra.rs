//! `piksel-infra-<env>` (the seed's piksel-infra, one Terraform Cloud workspace per
//! environment): the network the cluster runs in, internal DNS, the image registries,
//! the buckets and the Open Data Cube index database.

use girder_core::construct::Construct;
use girder_core::vocabulary::SsmPath;
use girder_core::{Error, Result, Stack};
use girder_iam::{GithubOidcProvider, PolicyDocument, Role, Trust};
use girder_network::{PrivateZone, PrivateZoneHandle, Vpc, VpcHandle};
use girder_rds::{Postgres, PostgresHandle};
use girder_storage::{Bucket, BucketHandle, BucketName, Repository, RepositoryHandle};

use crate::config::{Environment, REGION, aws_stack};

/// The stack's name (`piksel-infra-<env>`).
pub(crate) const NAME: &str = "piksel-infra";

/// The images CI pushes (seed 001: the core services' ODC image and the Jupyter image),
/// by repository name.
pub const REPOSITORIES: [&str; 2] = ["piksel-core", "piksel-jupyter"];

/// The GitHub repositories whose workflows push the images (seed 001: piksel-core builds
/// the ODC image, piksel-jupyter the Jupyter one), and the refs they push from: main
/// (dev builds, tagged by commit: tags are immutable, so never `:latest`) and release
/// tags; production's registries take releases only (an unreleased build never reaches
/// prod's registry).
const IMAGE_REPOSITORIES: [&str; 2] = ["piksel/piksel-core", "piksel/piksel-jupyter"];
const IMAGE_REFS: [&str; 2] = ["refs/heads/main", "refs/tags/v*"];
const RELEASE_REFS: [&str; 1] = ["refs/tags/v*"];

/// The tag prefix of CI's builds of main (a release's tag is its version).
pub const BUILD_TAG_PREFIX: &str = "sha-";

/// `piksel-core` as a statement id: `PikselCore`.
fn sid_of(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// What the other stacks of the environment read from this one (girder wires the reads
/// through Terraform Cloud's outputs).
pub struct Infra {
    /// The shared VPC (seed 4.1.1: "Integration with shared VPC/networking").
    pub vpc: VpcHandle,
    /// The internal zone (`<env>.piksel.internal`): external-dns writes records here.
    pub zone: PrivateZoneHandle,
    /// The registries, in [`REPOSITORIES`] order.
    pub repositories: Vec<RepositoryHandle>,
    /// EO data products and indexing outputs.
    pub data: BucketHandle,
    /// Notebooks, versioned (seed 001: "S3 for notebook storage with versioning").
    pub notebooks: BucketHandle,
    /// The ODC index: PostgreSQL with PostGIS.
    pub database: PostgresHandle,
    /// The index's users, each its password in a secret of its own.
    pub index_users: crate::odc::IndexUsers,
}

/// Stack `piksel-infra-<env>` and the handles the others read.
pub(crate) fn stack(env: &Environment) -> Result<(Stack, Infra)> {
    let mut stack = aws_stack(NAME, env)?;
    // The index users' passwords (odc.rs).
    stack.require_provider(girder_aws::random::requirement())?;
    // Every role it makes is bounded by the environment's ceiling (its apply role may
    // make roles only so).
    stack.add_aspect(girder_iam::PermissionsBoundary::new(
        crate::bootstrap::boundary_arn(env),
    ));
    // ... and sits under the stack's IAM path, which only this stack's apply manages.
    stack.add_aspect(
        girder_iam::RolePath::new(crate::bootstrap::role_path(crate::infra::NAME))
            .map_err(|e| Error::construct(format!("{}-{}", crate::infra::NAME, env.name), e))?,
    );
    // Its workspace (and its AWS credentials) come from the bootstrap.
    stack.deploy_after(&format!("{}-{}", crate::bootstrap::NAME, env.name));
    let name = format!("piksel-{}", env.name);
    let location = env.location()?;
    let mut root = stack.root();

    // Three zones (EKS spreads its control plane over them; terraform-aws-modules/eks
    // examples use three), /20 private subnets: VPC CNI gives every pod a VPC address,
    // 4091 per zone. The subnets carry the load balancer discovery tags.
    let vpc = Vpc::new(&name, env.vpc_cidr)
        .availability_zones(3)
        .subnet_prefixes(24, 20)
        .nat(env.nat)
        .add(&mut root.child("network")?, "vpc")?;
    // Internal DNS (seed 2.3.2). The migration to external DNS (2.3.3) is a public zone
    // of the same names beside it; see the README tour.
    let zone = PrivateZone::new(&vpc, format!("{}.piksel.internal", env.name))
        .add(&mut root.child("dns")?, "internal")?;

    let mut repositories = Vec::new();
    {
        let mut registry = root.child("registry")?;
        for repository in REPOSITORIES {
            // CI tags main's builds `sha-<commit>-<unix time>` and releases `v<semver>`: the newest
            // 30 builds are kept, a release never expires (production may run it).
            repositories.push(
                Repository::new(repository)
                    .expire_only_builds_tagged([BUILD_TAG_PREFIX])
                    .add(&mut registry, repository)?,
            );
        }
    }

    // CI pushes images with GitHub's OIDC token, as a role that may push to these two
    // registries and nothing else (seed 001: "GitHub Actions OIDC with AWS for ECR
    // pushes", "Limited IAM roles for ECR operations"): main's builds and release tags.
    let github_arn = {
        let mut ci = root.child("ci")?;
        let github = GithubOidcProvider.add(&mut ci, "github")?;
        let mut push = PolicyDocument::new()
            .statement(RepositoryHandle::login_statement().sid("RegistryLogin"));
        for (repository, name) in repositories.iter().zip(REPOSITORIES) {
            push = push.statement(
                repository
                    .push_statement()
                    .sid(format!("Push{}", sid_of(name))),
            );
        }
        let _role = Role::new(
            format!("{name}-ecr-push"),
            Trust::github_actions_refs(
                github.arn(),
                &IMAGE_REPOSITORIES,
                if env.production {
                    &RELEASE_REFS[..]
                } else {
                    &IMAGE_REFS[..]
                },
            ),
        )
        .description(format!(
            "GitHub Actions pushes to Piksel's registries in {}",
            env.name
        ))
        .max_session(3600)
        .policy("push", push)
        .add(&mut ci, "ecr-push")?;
        github.arn()
    };

    let bucket = |base: &str| BucketName::with_account_and_region(base, env.account_id, REGION);
    let (data, notebooks) = {
        let mut storage = root.child("storage")?;
        (
            Bucket::new(bucket("piksel-data")).add(&mut storage, "data")?,
            Bucket::new(bucket("piksel-notebooks")).add(&mut storage, "notebooks")?,
        )
    };
    // piksel-jupyter's notebook sync, next to the image pushes (jupyter.rs).
    let _notebook_sync = crate::jupyter::notebook_sync_role(
        &mut root.child("ci")?,
        env,
        github_arn.clone(),
        &notebooks,
    )?;

    // The ODC index (seed 2.3.7). PostgreSQL 16 ships PostGIS 3.4 on RDS (the ODC
    // postgis driver's extension); multi-AZ and 14 days of backups in production.
    crate::developer_access::add(&mut root, env, &name, &location, &vpc)?;

    let mut data_scope = root.child("database")?;
    let mut postgres = Postgres::new(&vpc, format!("{name}-odc"), 16, env.database_class)
        // The master is ODC's `odc_admin` role itself: `datacube system init` (postgis
        // driver) keeps that login role, and on PostgreSQL 16 the master may SET ROLE to
        // itself only. Never grant `odc_admin` to a service user (odc.rs).
        .database(crate::odc::DATABASE, crate::odc::ADMIN_USER)
        .storage(50, 500)
        .multi_az(env.production)
        .backup_retention(if env.production { 14 } else { 7 })
        .located_in(&location);
    if !env.production {
        // Non-production databases can be torn down; prod keeps deletion protection. A
        // rebuilt environment makes its users' secrets again at once (review 5's m5).
        postgres = postgres
            .without_deletion_protection()
            .user_secrets_recovery_window(0);
    }
    let database = postgres.add(&mut data_scope, "odc")?;
    // The index's own users (issue 14): the indexing jobs', the services' read-only one,
    // and Explorer's (which writes its summaries). The init Job makes them in PostgreSQL.
    let index_users = crate::odc::IndexUsers::add(&mut data_scope, &database)?;
    let prefix = SsmPath::new(format!("/piksel/{}/odc-db", env.name))
        .map_err(|e| Error::construct(data_scope.location(), e))?;
    let _published = database.publish_to_ssm(&mut data_scope, "settings", &prefix)?;
    drop(data_scope);
    let operations = crate::operations::add(&mut root, env, &name, &database, github_arn)?;
    crate::cluster_secrets::add(&mut root, env)?;
    drop(root);
    crate::operations::outputs(&mut stack, &operations)?;
    crate::findings::infra(&mut stack, env)?;
    crate::cluster_secrets::acknowledge(&mut stack, env)?;
    Ok((
        stack,
        Infra {
            vpc,
            zone,
            repositories,
            data,
            notebooks,
            database,
            index_users,
        },
    ))
}
