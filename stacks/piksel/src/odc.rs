//! The Open Data Cube on Piksel (issue 14, seed 000's phase 3 and seed 001's
//! piksel-core): the index on the platform's PostgreSQL, its users, its initialisation
//! and its indexing, as app `odc-index` of `piksel-eks-<env>` in namespace `odc`.
//!
//! - **Users.** `piksel-infra-<env>` makes three PostgreSQL users of the index
//!   ([`IndexUsers`], girder-rds's `PostgresHandle::user`: Terraform's password in a
//!   Secrets Manager secret of each user's own, `piksel-<env>-odc/users/<user>`):
//!   `odc_indexer` (ODC's `odc_manage`: adds products and datasets), `odc_reader`
//!   (`odc_user`: reads, for the services and the notebooks) and `odc_explorer`
//!   (`odc_user` and `CREATE` on the database: Explorer writes its summaries to a schema
//!   of its own). External Secrets copies each into a Secret (`odc-indexer`, `odc-reader`,
//!   `odc-explorer` in `odc`; `odc-reader` in `jupyterhub`), keys `postgres-username`
//!   and `postgres-password`, as the datacube charts read them.
//! - **Initialisation.** Job `odc-init-<hash>` runs [`INIT_SCRIPT`] with the piksel-core
//!   image: as the master user (RDS's own secret, read by the Job's pod identity role
//!   and by nothing in the cluster: no Secret holds it), `datacube system init` (the
//!   PostGIS extension, ODC's schema and roles; a no-op when they exist), datacube-ows's
//!   schema (`datacube-ows-update --schema`, read by `odc_reader`, written by
//!   `odc_indexer`), then each user made or its password set from its secret, and its
//!   ODC role granted; then, as `odc_indexer`, `datacube product add` of every product of
//!   ConfigMap `odc-products` (girder-odc's typed eo3 definitions, checked before synth),
//!   or `datacube product update` of one that exists (safe changes only: an unsafe one
//!   fails the Job, for a person to decide). Every step is safe to re-run. The Job's
//!   name carries a hash of its script, products and image, so a change is a new Job
//!   (a Job's pods cannot change) and Flux prunes the old one; a finished Job is deleted
//!   after a day and Flux makes it again, which re-applies the passwords: replacing a
//!   user's `random_password` in the infra stack takes effect within a day (or at once:
//!   `kubectl -n odc delete job -l app.kubernetes.io/component=init`), and the services
//!   take the new one when they restart.
//! - **Indexing.** A CronJob per product ([`indexing`]): Sentinel-2 L2A, Landsat 8 and
//!   Landsat 9 from their STAC APIs (Element 84's Earth Search, USGS's LandsatLook, one
//!   platform each; the last [`INDEX_DAYS`] days over [`AREA_OF_INTEREST`], daily,
//!   staggered), the geomedian's and WOfS's outputs from the environment's data bucket
//!   (`s3-to-dc`, weekly), each as `odc_indexer`, with service account `odc-indexer`,
//!   whose pod identity role reads those two products' prefixes of the data bucket and
//!   nothing else (the STAC indexing reads metadata over HTTPS, no bucket).
//! - **The image** ([`CORE_IMAGE`]): piksel-core from the environment's ECR, by digest
//!   (`images.rs`); its contract is [`CoreImage`].

use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::{Error, Result, Scope, Stack};
use girder_eks::EksClusterHandle;
use girder_iam::Statement;
use girder_k8s::crds::external_secrets::{
    ExternalSecret, ExternalSecretSpec, RemoteRef, SecretData, StoreRef,
};
use girder_k8s::prelude::*;
use girder_k8s::{ConfigMap, Env, NamespaceHandle, Resources, ServiceAccount, Volume};
use girder_odc::{Product, catalogue};
use girder_rds::{PostgresHandle, PostgresUserHandle};
use girder_storage::BucketHandle;

use crate::config::{Environment, REGION};
use crate::eks::POOL_LABEL;
use crate::platform::{JUPYTERHUB_NAMESPACE, ODC_NAMESPACE};

/// The Kubernetes app.
pub(crate) const APP: &str = "odc-index";

/// The ConfigMap of the product definitions.
pub(crate) const PRODUCTS: &str = "odc-products";

/// The index's database (girder-rds's initial database of the instance, infra.rs).
pub(crate) const DATABASE: &str = "odc";
/// PostgreSQL's port.
pub(crate) const DATABASE_PORT: u16 = 5432;

/// The indexing jobs' user: adds products and datasets (ODC's `odc_manage`).
pub(crate) const INDEXER_USER: &str = "odc_indexer";
/// The services' and notebooks' user: reads (ODC's `odc_user`).
pub(crate) const READER_USER: &str = "odc_reader";
/// Explorer's user: reads, and writes its summaries to a schema of its own.
pub(crate) const EXPLORER_USER: &str = "odc_explorer";

/// The Secrets the users' credentials reach the pods as (keys [`USERNAME_KEY`],
/// [`PASSWORD_KEY`]).
pub(crate) const INDEXER_SECRET: &str = "odc-indexer";
/// The read-only user's Secret (in `odc` and `jupyterhub`).
pub(crate) const READER_SECRET: &str = "odc-reader";
/// Explorer's Secret.
pub(crate) const EXPLORER_SECRET: &str = "odc-explorer";
/// The user name's key in those Secrets (the datacube charts' `database.existingSecret`).
pub(crate) const USERNAME_KEY: &str = "postgres-username";
/// The password's key.
pub(crate) const PASSWORD_KEY: &str = "postgres-password";

/// Flux substitution variables (keys of the Terraform outputs ConfigMap, `gitops.rs`):
/// the index's host name, known at apply.
pub(crate) const DB_HOST_VAR: &str = "ODC_DB_HOST";
/// The ARN of RDS's master secret (RDS names it at apply).
pub(crate) const MASTER_SECRET_VAR: &str = "ODC_MASTER_SECRET_ARN";

/// The ECR repository of the ODC image.
pub(crate) const CORE_IMAGE: &str = "piksel-core";

/// What girder relies on in the piksel-core image (seed 001's piksel-core `docker/`, "ODC
/// Dockerfile"; its CI pushes it to the environment's ECR): the contract its Dockerfile
/// keeps.
pub struct CoreImage;

impl CoreImage {
    /// The user and group it runs as (non-root, above the host's users: Pod Security
    /// `restricted`).
    pub const UID: u32 = 10001;
    /// The group.
    pub const GID: u32 = 10001;
    /// The commands on its `PATH`: datacube-core 1.9 (the postgis index driver), the
    /// indexing tools of odc-apps-dc-tools, datacube-ows 1.9 and datacube-explorer with
    /// gunicorn, and Python 3 with boto3 and psycopg2.
    pub const COMMANDS: [&'static str; 7] = [
        "datacube",
        "stac-to-dc",
        "s3-to-dc",
        "datacube-ows-update",
        "cubedash-gen",
        "gunicorn",
        "python3",
    ];
    /// The Amazon RDS certificate bundle, so every PostgreSQL connection verifies the
    /// server (`PGSSLMODE=verify-full`; RDS requires TLS: `rds.force_ssl`).
    pub const RDS_CA_BUNDLE: &'static str = "/etc/ssl/certs/rds-global-bundle.pem";
}

/// Where the credentials of a Secret of [`USERNAME_KEY`] and [`PASSWORD_KEY`] are
/// mounted in the indexing pods (files, not environment variables).
pub(crate) const CREDENTIALS_DIRECTORY: &str = "/odc/credentials";

/// The environment every ODC process of the platform connects with, but the
/// credentials: the index's address (`DB_*`, the host through Flux's substitution),
/// datacube 1.9's postgis driver, libpq's TLS settings and the region.
pub(crate) fn connection_env() -> Vec<Env> {
    vec![
        Env::value("DB_HOSTNAME", format!("${{{DB_HOST_VAR}}}")),
        Env::value("DB_PORT", DATABASE_PORT.to_string()),
        Env::value("DB_DATABASE", DATABASE),
        Env::value("ODC_DEFAULT_INDEX_DRIVER", "postgis"),
        Env::value("PGSSLMODE", "verify-full"),
        Env::value("PGSSLROOTCERT", CoreImage::RDS_CA_BUNDLE),
        Env::value("AWS_REGION", REGION),
        Env::value("AWS_DEFAULT_REGION", REGION),
    ]
}

/// The shell line that sets datacube's `ODC_DEFAULT_DB_URL` from the mounted
/// credentials ([`CREDENTIALS_DIRECTORY`]) and [`connection_env`]'s address (Kubernetes
/// expands `$(DB_HOSTNAME)`; the shell reads the files). The passwords are letters and
/// digits (girder-rds): they need no escaping in the URL.
pub(crate) fn connect_line() -> String {
    format!(
        "export ODC_DEFAULT_DB_URL=\"postgresql://$(cat {CREDENTIALS_DIRECTORY}/{USERNAME_KEY}):$(cat {CREDENTIALS_DIRECTORY}/{PASSWORD_KEY})@$(DB_HOSTNAME):$(DB_PORT)/$(DB_DATABASE)\""
    )
}

/// The products the index holds: the surface reflectance Piksel's analyses read
/// (Sentinel-2 L2A, Landsat 8 and 9) and what the geomedian and WOfS analyses write
/// (seed 000's 5.3; the coastline workflow writes vectors, not an ODC product).
pub fn products() -> Vec<Product> {
    sources().into_iter().map(|(product, ..)| product).collect()
}

/// The index's users (made by `piksel-infra-<env>`; the init Job creates them in
/// PostgreSQL).
#[derive(Clone, Debug, PartialEq)]
pub struct IndexUsers {
    /// `odc_indexer`.
    pub indexer: PostgresUserHandle,
    /// `odc_reader`.
    pub reader: PostgresUserHandle,
    /// `odc_explorer`.
    pub explorer: PostgresUserHandle,
}

impl IndexUsers {
    /// Their construct ids under the infra's `database` scope.
    pub(crate) const IDS: [&'static str; 3] = ["indexer", "reader", "explorer"];

    /// Make the three users of `database` under `scope`.
    pub(crate) fn add(scope: &mut Scope<'_>, database: &PostgresHandle) -> Result<Self> {
        let [indexer, reader, explorer] = Self::IDS;
        Ok(Self {
            indexer: database.user(scope, indexer, INDEXER_USER, DATABASE)?,
            reader: database.user(scope, reader, READER_USER, DATABASE)?,
            explorer: database.user(scope, explorer, EXPLORER_USER, DATABASE)?,
        })
    }

    /// Each user, its Secret in the cluster, the ODC role it is granted, and whether it
    /// may create a schema (Explorer's).
    fn grants(&self) -> [(&PostgresUserHandle, &'static str, &'static str, bool); 3] {
        [
            (&self.indexer, INDEXER_SECRET, "odc_manage", false),
            (&self.reader, READER_SECRET, "odc_user", false),
            (&self.explorer, EXPLORER_SECRET, "odc_user", true),
        ]
    }

    /// The prefix of their secrets' names (what the External Secrets role reads besides
    /// `piksel/<env>/`).
    pub(crate) fn secret_prefix(&self) -> String {
        let name = self.indexer.secret_name();
        name.rsplit_once('/')
            .map_or_else(|| name.to_owned(), |(prefix, _)| format!("{prefix}/"))
    }
}

/// Where the indexing reads, in `[west, south, east, north]` degrees (replace: the
/// seeds name no area; Java, a placeholder of the size a first deployment indexes).
pub(crate) const AREA_OF_INTEREST: [f64; 4] = [105.0, -9.0, 116.0, -5.5];

/// How far back each run indexes: a run that failed is caught up by the next.
pub(crate) const INDEX_DAYS: u16 = 3;

/// One indexing CronJob.
pub(crate) struct Indexing {
    /// The CronJob's name (`odc-index-<id>`).
    pub(crate) id: &'static str,
    /// The product it indexes.
    pub(crate) product: String,
    /// Its schedule (UTC).
    pub(crate) schedule: &'static str,
    /// The command (`sh -c`).
    pub(crate) script: String,
}

/// Where a product's datasets are found.
enum Source {
    /// A STAC API's collection, the items of one platform (`query` on
    /// `platform`) when the collection holds several.
    Stac {
        catalog: &'static str,
        collection: &'static str,
        platform: Option<&'static str>,
    },
    /// Piksel's own analyses: STAC documents beside the outputs, under
    /// `s3://<data bucket>/<product>/`.
    DataBucket,
}

/// Each product of [`products`], where it is indexed from and when (UTC, staggered).
fn sources() -> Vec<(Product, &'static str, &'static str, Source)> {
    const EARTH_SEARCH: &str = "https://earth-search.aws.element84.com/v1/";
    const LANDSATLOOK: &str = "https://landsatlook.usgs.gov/stac-server/";
    vec![
        (
            catalogue::sentinel2_l2a(),
            "sentinel2",
            "15 2 * * *",
            Source::Stac {
                catalog: EARTH_SEARCH,
                collection: "sentinel-2-l2a",
                platform: None,
            },
        ),
        (
            catalogue::landsat8_c2l2_sr(),
            "landsat8",
            "45 2 * * *",
            Source::Stac {
                catalog: LANDSATLOOK,
                collection: "landsat-c2l2-sr",
                platform: Some("LANDSAT_8"),
            },
        ),
        (
            catalogue::landsat9_c2l2_sr(),
            "landsat9",
            "15 3 * * *",
            Source::Stac {
                catalog: LANDSATLOOK,
                collection: "landsat-c2l2-sr",
                platform: Some("LANDSAT_9"),
            },
        ),
        // The analyses seed 000 names (5.3): what they write, weekly.
        (
            catalogue::sentinel2_geomedian_annual(),
            "geomedian",
            "30 4 * * 0",
            Source::DataBucket,
        ),
        (
            catalogue::wofs_landsat(),
            "wofs",
            "0 5 * * 0",
            Source::DataBucket,
        ),
    ]
}

/// The indexing of each product of [`products`]: every product has one.
pub(crate) fn indexing(data: &BucketHandle) -> Result<Vec<Indexing>> {
    let [west, south, east, north] = AREA_OF_INTEREST;
    let bbox = format!("{west},{south},{east},{north}");
    let since = format!("$(date -u -d '-{INDEX_DAYS} days' +%Y-%m-%d)");
    let bucket = data.known_name().ok_or_else(|| {
        Error::invalid(
            APP,
            "the data bucket's name is not known at synth: the analyses' indexing names it",
        )
    })?;
    Ok(sources()
        .into_iter()
        .map(|(product, id, schedule, source)| {
            let name = product.name();
            // `--rename-product` names the product of every item the search returns: the
            // search returns that product's items only.
            let script = match source {
                Source::Stac {
                    catalog,
                    collection,
                    platform,
                } => {
                    let options = platform.map_or_else(String::new, |platform| {
                        format!(" --options='query={{\"platform\":{{\"eq\":\"{platform}\"}}}}'")
                    });
                    format!(
                        "exec stac-to-dc --catalog-href={catalog} --collections={collection} --bbox={bbox} \
                         --datetime=\"{since}/..\"{options} --rename-product={name} --update-if-exists"
                    )
                }
                Source::DataBucket => format!(
                    "exec s3-to-dc --stac --update-if-exists 's3://{bucket}/{name}/**/*.stac-item.json' {name}"
                ),
            };
            Indexing {
                id,
                product: name.to_owned(),
                schedule,
                script,
            }
        })
        .collect())
}

/// The init script (see the module doc). It reads its inputs from the environment:
/// `ODC_MASTER_SECRET_ARN`, `ODC_USERS` (a JSON list of `{"secret", "role", "schema"}`),
/// `ODC_INDEXER_SECRET`, `ODC_PRODUCTS` (a directory of `*.odc-product.yaml`), and
/// `DB_HOSTNAME`, `DB_PORT`, `DB_DATABASE`.
pub(crate) const INIT_SCRIPT: &str = r#""""Initialise Piksel's Open Data Cube index; every step is safe to re-run."""
import glob
import json
import os
import subprocess

import boto3
import psycopg2
from psycopg2 import sql

HOST = os.environ["DB_HOSTNAME"]
PORT = os.environ["DB_PORT"]
DATABASE = os.environ["DB_DATABASE"]
SECRETS = boto3.client("secretsmanager")


def log(message, **fields):
    print(json.dumps({"msg": message, **fields}), flush=True)


def credentials(secret_id):
    value = json.loads(SECRETS.get_secret_value(SecretId=secret_id)["SecretString"])
    return value["username"], value["password"]


def run(command, user):
    """Run a datacube command as `user` (a user name and password)."""
    name, password = user
    env = dict(os.environ)
    env["ODC_DEFAULT_DB_URL"] = "postgresql://%s:%s@%s:%s/%s" % (name, password, HOST, PORT, DATABASE)
    env["ODC_DEFAULT_INDEX_DRIVER"] = "postgis"
    log("run", command=command[:3], user=name)
    return subprocess.run(command, env=env, check=False).returncode


def must(command, user):
    code = run(command, user)
    if code != 0:
        raise SystemExit("%s failed with %d" % (" ".join(command[:3]), code))


admin = credentials(os.environ["ODC_MASTER_SECRET_ARN"])
# The PostGIS extension, ODC's schema and its roles (odc_user < odc_ingest < odc_manage
# < odc_admin) and the default metadata types (eo3 among them): what exists is kept.
must(["datacube", "system", "init"], admin)

users = json.loads(os.environ["ODC_USERS"])
connection = psycopg2.connect(
    host=HOST, port=PORT, dbname=DATABASE, user=admin[0], password=admin[1]
)
with connection, connection.cursor() as cursor:
    for user in users:
        name, password = credentials(user["secret"])
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(
            sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(name)),
            (password,),
        )
        cursor.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(user["role"]), sql.Identifier(name))
        )
        if user["schema"]:
            cursor.execute(
                sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(name)
                )
            )
        log("user", name=name, action=verb.lower(), role=user["role"])
connection.close()

# datacube-ows's schema and views: read by ODC's readers, refreshed by its managers.
must(["datacube-ows-update", "--schema", "--read-role", "odc_user", "--write-role", "odc_manage"], admin)

indexer = credentials(os.environ["ODC_INDEXER_SECRET"])
for path in sorted(glob.glob(os.path.join(os.environ["ODC_PRODUCTS"], "*.odc-product.yaml"))):
    if run(["datacube", "product", "add", path], indexer) != 0:
        # It exists: apply the safe changes only (an unsafe one fails the Job).
        must(["datacube", "product", "update", path], indexer)
    log("product", file=os.path.basename(path))
log("done")
"#;

/// A short, stable hash (FNV-1a, 32 bits, hex) of `parts`: the init Job's name suffix.
fn short_hash(parts: &[&str]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    format!("{hash:08x}")
}

/// The ExternalSecret copying `user`'s secret into Secret `name` of `namespace`.
fn credentials_secret(
    scope: &mut Scope<'_>,
    id: &str,
    namespace: &str,
    name: &str,
    user: &PostgresUserHandle,
) -> Result<()> {
    let mut spec = ExternalSecretSpec::new(
        StoreRef::cluster(crate::addons::SECRET_STORE),
        name,
        Vec::<(String, String)>::new(),
    );
    spec.data = [(USERNAME_KEY, "username"), (PASSWORD_KEY, "password")]
        .into_iter()
        .map(|(key, property)| SecretData {
            secret_key: key.to_owned(),
            remote_ref: RemoteRef {
                key: user.secret_name().to_owned(),
                property: Some(property.to_owned()),
            },
        })
        .collect();
    let _ = ExternalSecret::new(namespace, name, spec).add(scope, id)?;
    Ok(())
}

/// Add the index's roles (Terraform) and app `odc-index` to `stack`. Returns the roles'
/// dependencies: their associations must exist before the pods start.
pub(crate) fn add(
    stack: &mut Stack,
    env: &Environment,
    cluster: &EksClusterHandle,
    infra: &crate::infra::Infra,
) -> Result<Vec<Reference>> {
    let users = &infra.index_users;
    let image = crate::images::pinned(env, CORE_IMAGE)?;
    let mut root = stack.root();
    let mut iam = root.child("odc-roles")?;
    // The init Job reads the master secret and the users' secrets; nothing else does
    // (the master password never becomes a Secret of the cluster).
    let mut secrets = vec![girder_core::vocabulary::Arn::attribute(
        infra.database.master_secret_arn(),
    )];
    for (user, _, _, _) in users.grants() {
        secrets.push(girder_core::vocabulary::Arn::attribute(user.secret_arn()));
    }
    let init_role = cluster.pod_identity_role(
        &mut iam,
        "init",
        format!("piksel-{}-odc-init", env.name),
        ODC_NAMESPACE,
        INIT_ACCOUNT,
        [Statement::allow(["secretsmanager:GetSecretValue"])
            .sid("ReadTheIndexCredentials")
            .on(secrets)],
    )?;
    // The indexing reads the analyses' outputs in the data bucket and nothing else: the
    // STAC APIs are read over HTTPS.
    let mut read = Vec::new();
    for (product, _, _, source) in sources() {
        if matches!(source, Source::DataBucket) {
            read.extend(infra.data.read_statements(&format!("{}/", product.name())));
        }
    }
    for (n, statement) in read.iter_mut().enumerate() {
        *statement = statement.clone().sid(format!("ReadTheAnalysesOutputs{n}"));
    }
    let indexer_role = cluster.pod_identity_role(
        &mut iam,
        "indexer",
        format!("piksel-{}-odc-indexer", env.name),
        ODC_NAMESPACE,
        INDEXER_ACCOUNT,
        read,
    )?;
    drop(iam);

    let app = &mut root.child(APP)?.with_kube_app(APP)?;
    let at = app.location();
    let odc = NamespaceHandle::existing(ODC_NAMESPACE);

    // The users' credentials.
    for (user, secret, _, _) in users.grants() {
        credentials_secret(app, secret, ODC_NAMESPACE, secret, user)?;
    }
    credentials_secret(
        app,
        "jupyterhub-reader",
        JUPYTERHUB_NAMESPACE,
        READER_SECRET,
        &users.reader,
    )?;

    // The products.
    let mut config = ConfigMap::new(&odc, PRODUCTS);
    let mut definitions = Vec::new();
    for product in products() {
        let yaml = product.to_yaml().map_err(|e| Error::construct(&at, e))?;
        definitions.push(yaml.clone());
        config = config.entry(format!("{}.odc-product.yaml", product.name()), yaml);
    }
    let products_map = config.add(app, "products")?;
    let script = ConfigMap::new(&odc, "odc-init")
        .entry("odc_init.py", INIT_SCRIPT)
        .add(app, "init-script")?;

    // The init Job.
    let users_json = serde_json::Value::Array(
        users
            .grants()
            .iter()
            .map(|(user, _, role, schema)| {
                serde_json::json!({"secret": user.secret_name(), "role": role, "schema": schema})
            })
            .collect(),
    )
    .to_string();
    let image_ref = image.to_string();
    let mut parts: Vec<&str> = vec![INIT_SCRIPT, &users_json, &image_ref];
    parts.extend(definitions.iter().map(String::as_str));
    let init_account = ServiceAccount::new(&odc, INIT_ACCOUNT).add(app, "init-account")?;
    let mut container = Container::new("init", &image_ref)
        .run_as_user(CoreImage::UID)
        .run_as_group(CoreImage::GID)
        .command(["python3", "/odc/init/odc_init.py"])
        .resources(Resources::new().cpu("250m", "1").memory("512Mi", "1Gi"))
        .mount_read_only("script", "/odc/init")
        .mount_read_only("products", "/odc/products")
        .mount("tmp", "/tmp");
    for env_var in connection_env().into_iter().chain([
        Env::value("ODC_MASTER_SECRET_ARN", format!("${{{MASTER_SECRET_VAR}}}")),
        Env::value("ODC_USERS", users_json.clone()),
        Env::value("ODC_INDEXER_SECRET", users.indexer.secret_name()),
        Env::value("ODC_PRODUCTS", "/odc/products"),
        Env::value("HOME", "/tmp"),
    ]) {
        container = container.env(env_var);
    }
    let _init = Job::new(&odc, &format!("odc-init-{}", short_hash(&parts)))
        .part_of("odc")
        .component("init")
        .container(container)
        .volume(Volume::config_map("script", &script))
        .volume(Volume::config_map("products", &products_map))
        .volume(Volume::empty_dir("tmp"))
        .service_account(&init_account)
        // EKS Pod Identity mounts its own token: the pods never call the Kubernetes API.
        .api_token(false)
        .node_selector(POOL_LABEL, "workloads")
        .backoff_limit(4)
        .add(app, "init")?;

    // The indexing.
    let indexer_account = ServiceAccount::new(&odc, INDEXER_ACCOUNT).add(app, "indexer-account")?;
    for job in indexing(&infra.data)? {
        let script = format!("{}; {}", connect_line(), job.script);
        let mut container = Container::new("index", &image_ref)
            .run_as_user(CoreImage::UID)
            .run_as_group(CoreImage::GID)
            .command(["/bin/sh", "-c", script.as_str()])
            .resources(Resources::new().cpu("250m", "1").memory("512Mi", "2Gi"))
            .mount("tmp", "/tmp")
            .mount_read_only("credentials", CREDENTIALS_DIRECTORY)
            .env(Env::value("HOME", "/tmp"))
            .env(Env::value("ODC_PRODUCT", job.product.as_str()));
        for env_var in connection_env() {
            container = container.env(env_var);
        }
        let _ = CronJob::new(&odc, &format!("odc-index-{}", job.id), job.schedule)
            .part_of("odc")
            .component("indexing")
            .container(container)
            .volume(Volume::empty_dir("tmp"))
            .volume(Volume::secret("credentials", INDEXER_SECRET))
            .service_account(&indexer_account)
            .api_token(false)
            .node_selector(POOL_LABEL, "workloads")
            .backoff_limit(2)
            .add(app, &format!("index-{}", job.id))?;
    }
    drop(root);
    Ok([&init_role, &indexer_role]
        .iter()
        .flat_map(|role| role.dependencies())
        .collect())
}

/// The init Job's service account (its pod identity role reads the index's secrets).
pub(crate) const INIT_ACCOUNT: &str = "odc-init";
/// The indexing CronJobs' service account (its role reads the data bucket).
pub(crate) const INDEXER_ACCOUNT: &str = "odc-indexer";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_hash_changes_with_any_part_and_not_otherwise() {
        let a = short_hash(&["script", "users", "image"]);
        assert_eq!(a, short_hash(&["script", "users", "image"]));
        assert_ne!(a, short_hash(&["script", "users", "image2"]));
        // Parts are separated: moving a byte across a boundary changes the hash.
        assert_ne!(short_hash(&["ab", "c"]), short_hash(&["a", "bc"]));
        assert_eq!(a.len(), 8);
    }

    #[test]
    fn no_script_holds_what_flux_would_substitute() {
        // Flux's post-build substitution replaces every `${NAME}` (and `$NAME`) of the
        // app's manifests, an unknown one with nothing: the scripts hold neither.
        for script in [INIT_SCRIPT.to_owned(), connect_line()] {
            assert!(!script.contains("${"), "{script}");
            let bare = script
                .match_indices('$')
                .filter(|(at, _)| {
                    script[at + 1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                })
                .count();
            assert_eq!(bare, 0, "{script}");
        }
    }
}
