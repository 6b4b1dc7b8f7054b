//! `piksel-infra-<env>` (the seed's piksel-infra, one Terraform Cloud workspace per
//! environment): the network the cluster runs in, internal DNS, the image registries,
//! the buckets and the Open Data Cube index database.

use girder_core::construct::Construct;
use girder_core::vocabulary::SsmPath;
use girder_core::{Error, Result, Stack};
use girder_network::{PrivateZone, PrivateZoneHandle, Vpc, VpcHandle};
use girder_rds::{Postgres, PostgresHandle};
use girder_storage::{Bucket, BucketHandle, BucketName, Repository, RepositoryHandle};

use crate::config::{Environment, REGION, aws_stack};

/// The stack's name (`piksel-infra-<env>`).
pub(crate) const NAME: &str = "piksel-infra";

/// The images CI pushes (seed 001: the core services' ODC image and the Jupyter image),
/// by repository name.
pub const REPOSITORIES: [&str; 2] = ["piksel-core", "piksel-jupyter"];

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
}

/// Stack `piksel-infra-<env>` and the handles the others read.
pub(crate) fn stack(env: &Environment) -> Result<(Stack, Infra)> {
    let mut stack = aws_stack(NAME, env)?;
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
            repositories.push(Repository::new(repository).add(&mut registry, repository)?);
        }
    }

    let bucket = |base: &str| BucketName::with_account_and_region(base, env.account_id, REGION);
    let (data, notebooks) = {
        let mut storage = root.child("storage")?;
        (
            Bucket::new(bucket("piksel-data")).add(&mut storage, "data")?,
            Bucket::new(bucket("piksel-notebooks")).add(&mut storage, "notebooks")?,
        )
    };

    // The ODC index (seed 2.3.7). PostgreSQL 16 ships PostGIS 3.4 on RDS (the ODC
    // postgis driver's extension); multi-AZ and 14 days of backups in production.
    let mut data_scope = root.child("database")?;
    let mut postgres = Postgres::new(&vpc, format!("{name}-odc"), 16, env.database_class)
        .database("odc", "odc_admin")
        .storage(50, 500)
        .multi_az(env.production)
        .backup_retention(if env.production { 14 } else { 7 })
        .located_in(&location);
    if !env.production {
        // Non-production databases can be torn down; prod keeps deletion protection.
        postgres = postgres.without_deletion_protection();
    }
    let database = postgres.add(&mut data_scope, "odc")?;
    let prefix = SsmPath::new(format!("/piksel/{}/odc-db", env.name))
        .map_err(|e| Error::construct(data_scope.location(), e))?;
    let _published = database.publish_to_ssm(&mut data_scope, "settings", &prefix)?;
    drop(data_scope);
    drop(root);
    crate::findings::infra(&mut stack, env)?;
    Ok((
        stack,
        Infra {
            vpc,
            zone,
            repositories,
            data,
            notebooks,
            database,
        },
    ))
}
