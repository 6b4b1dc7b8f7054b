//! The Open Data Cube on Piksel (issue 14, seed 000's phase 3 and seed 001's
//! piksel-core): the index on the platform's PostgreSQL, its users, its initialisation
//! and its indexing, as app `odc-index` of `piksel-eks-<env>` in namespace `odc`.
//!
//! - **Users.** `piksel-infra-<env>` makes three PostgreSQL users of the index
//!   ([`IndexUsers`], girder-rds's `PostgresHandle::user`: Terraform's password in a
//!   Secrets Manager secret of each user's own, `piksel-<env>-odc/users/<user>`):
//!   `odc_indexer` (ODC's `odc_manage`, with what indexing writes: adds products and
//!   datasets), `odc_reader` (`odc_user`: reads, for the services and the notebooks)
//!   and `odc_explorer` (`odc_user` and `CREATE` on the database: Explorer writes its
//!   summaries to a schema of its own). External Secrets copies each into a Secret
//!   (`odc-indexer`, `odc-reader`, `odc-explorer` in `odc`; `odc-reader` in
//!   `jupyterhub`), keys `postgres-username` and `postgres-password`, as the datacube
//!   charts read them.
//! - **Initialisation.** Job `odc-init-<hash>` runs [`INIT_SCRIPT`] with the piksel-core
//!   image, as the master user (RDS's own secret, read by the Job's pod identity role
//!   and by nothing in the cluster: no Secret holds it): `datacube system init` (the
//!   PostGIS extension, ODC's schema and roles; a no-op when they exist), the default
//!   metadata types and spatial index when a stopped first run left them out, the
//!   grants indexing needs, each user made or its password set from its secret (as a
//!   SCRAM verifier) and given exactly its ODC role; then, as `odc_indexer`, `datacube
//!   product add` of every product of ConfigMap `odc-products` (girder-odc's typed eo3
//!   definitions, checked before synth), or `datacube product update` of one that
//!   exists (safe changes only: an unsafe one fails the Job, for a person to decide);
//!   last, datacube-ows's schema (`datacube-ows-update --schema`) read by the readers
//!   and refreshed by the indexer. Every step is safe to re-run; the Job stops after 30
//!   minutes. The Job's name carries a hash of its script, users, products and image,
//!   so a change is a new Job (a Job's pods cannot change) and Flux prunes the old one;
//!   a finished Job is deleted after a day and Flux makes it again, which re-applies
//!   the passwords.
//! - **Rotating a user's password**: replace its `random_password` in the infra stack
//!   (`terraform apply -replace=...`), wait for External Secrets' hourly refresh (or
//!   annotate the ExternalSecret `force-sync`), then `kubectl -n odc delete job -l
//!   app.kubernetes.io/component=init` (Flux makes it again at once and it sets the new
//!   password), then restart the services that hold the old one (`kubectl -n odc
//!   rollout restart deployment`, and the hub's notebook servers). Until the Job has
//!   run, pods that mount the new password cannot connect.
//! - **Indexing.** A CronJob per product ([`indexing`]): Sentinel-2 L2A, Landsat 8 and
//!   Landsat 9 from Element 84's Earth Search, one platform each, over
//!   [`AREA_OF_INTEREST`], the last 7 (Sentinel-2) or 30 (Landsat, published weeks
//!   after acquisition) days, daily, staggered; the geomedian's and WOfS's outputs from
//!   the environment's data bucket (`s3-to-dc`, weekly, a no-op until the analysis has
//!   written some), each as `odc_indexer` (credentials mounted as files), with service
//!   account `odc-indexer`, whose pod identity role reads those two products' prefixes
//!   of the data bucket and nothing else (the STAC indexing reads metadata over HTTPS,
//!   no bucket). A run stops after 2 hours.
//! - **The image** ([`CORE_IMAGE`]): piksel-core from the environment's ECR, by digest
//!   (`images.rs`); its contract is [`CoreImage`]. Until CI's first build the pins hold
//!   the zero digest: the Job and CronJobs cannot pull, and Flux reports the app not
//!   ready (expected before the first build).

use girder_core::construct::{Construct, Dependable};
use girder_core::expr::Reference;
use girder_core::{Error, Result, Scope, Stack};
use girder_eks::EksClusterHandle;
use girder_iam::Statement;
use girder_k8s::crds::external_secrets::{ExternalSecret, ExternalSecretSpec, StoreRef};
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

/// The master user: ODC's `odc_admin` role (see [`INIT_SCRIPT`]).
pub(crate) const ADMIN_USER: &str = "odc_admin";

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
    /// The commands on its `PATH`: datacube-core 1.9 (the postgis index driver, with the
    /// upstream grants [`INIT_SCRIPT`] completes), the indexing tools of
    /// odc-apps-dc-tools, datacube-ows 1.9 and datacube-explorer with gunicorn, Python 3
    /// with boto3 and psycopg2 (2.8 or later: SCRAM verifiers), and GNU `date`.
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

/// The volume of the credentials [`as_index_user`] mounts: add
/// `Volume::secret(CREDENTIALS_VOLUME, <the user's Secret>)` to the pod.
pub(crate) const CREDENTIALS_VOLUME: &str = "credentials";

/// `container` running shell line `script` as an index user: [`connection_env`], the
/// user's credentials read from files ([`CREDENTIALS_VOLUME`] at
/// [`CREDENTIALS_DIRECTORY`], never environment variables) into datacube's URL first.
pub(crate) fn as_index_user(container: Container, script: &str) -> Container {
    let line = format!("{}; {script}", connect_line());
    connection_env()
        .into_iter()
        .fold(container, Container::env)
        .command(["/bin/sh", "-c", line.as_str()])
        .mount_read_only(CREDENTIALS_VOLUME, CREDENTIALS_DIRECTORY)
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
    /// A STAC API's collection, the items of one platform (`query` on `platform`) when
    /// the collection holds several, searched over the last `days` days of acquisition:
    /// what the provider publishes late is still caught (Landsat's Level-2 takes up to
    /// weeks), and `--update-if-exists` makes a re-seen item cheap.
    Stac {
        catalog: &'static str,
        collection: &'static str,
        platform: Option<&'static str>,
        days: u16,
    },
    /// Piksel's own analyses: STAC documents beside the outputs, under
    /// `s3://<data bucket>/<product>/`. Each item carries its product's
    /// `metadata.properties` (`eo:platform`, `odc:product_family`): s3-to-dc matches a
    /// document to the product by them.
    DataBucket,
}

/// Element 84's Earth Search: Sentinel-2 L2A as COGs, Landsat Collection 2 Level-2 with
/// the requester-pays `usgs-landsat` objects as its assets' hrefs (LandsatLook's
/// `https://landsatlook.usgs.gov/data/` hrefs need a USGS login: review 5's M2).
const EARTH_SEARCH: &str = "https://earth-search.aws.element84.com/v1/";

/// Each product of [`products`], where it is indexed from and when (UTC, staggered).
fn sources() -> Vec<(Product, &'static str, &'static str, Source)> {
    vec![
        (
            catalogue::sentinel2_l2a(),
            "sentinel2",
            "15 2 * * *",
            Source::Stac {
                catalog: EARTH_SEARCH,
                collection: "sentinel-2-l2a",
                platform: None,
                days: 7,
            },
        ),
        (
            catalogue::landsat8_c2l2_sr(),
            "landsat8",
            "45 2 * * *",
            Source::Stac {
                catalog: EARTH_SEARCH,
                collection: "landsat-c2-l2",
                platform: Some("landsat-8"),
                days: 30,
            },
        ),
        (
            catalogue::landsat9_c2l2_sr(),
            "landsat9",
            "15 3 * * *",
            Source::Stac {
                catalog: EARTH_SEARCH,
                collection: "landsat-c2-l2",
                platform: Some("landsat-9"),
                days: 30,
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
                    days,
                } => {
                    let since = format!("$(date -u -d '-{days} days' +%Y-%m-%d)");
                    let options = platform.map_or_else(String::new, |platform| {
                        format!(" --options='query={{\"platform\":{{\"eq\":\"{platform}\"}}}}'")
                    });
                    format!(
                        "exec stac-to-dc --catalog-href={catalog} --collections={collection} --bbox={bbox} \
                         --datetime=\"{since}/..\"{options} --rename-product={name} --update-if-exists"
                    )
                }
                Source::DataBucket => format!(
                    "exec python3 {SCRIPTS_DIRECTORY}/index_outputs.py {bucket} {name}"
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

/// The products Piksel's analyses write to the data bucket, each under a prefix of its
/// name.
pub(crate) fn analysis_products() -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(_, _, _, source)| matches!(source, Source::DataBucket))
        .map(|(product, ..)| product.name().to_owned())
        .collect()
}

/// Reading the analyses' outputs in `data` (list and get, each product's prefix only):
/// the indexing's, and whoever loads their pixels.
pub(crate) fn analyses_read_statements(data: &BucketHandle) -> Vec<Statement> {
    analysis_products()
        .iter()
        .flat_map(|product| data.read_statements(&format!("{product}/")))
        .enumerate()
        .map(|(n, statement)| statement.sid(format!("ReadTheAnalysesOutputs{n}")))
        .collect()
}

/// The open collections the scenes' pixels are read from, in us-west-2: Element 84's
/// Sentinel-2 COGs (public) and USGS's Landsat Collection 2 (requester pays: the
/// readers set `AWS_REQUEST_PAYER=requester`, [`REQUESTER_PAYS_ENV`]).
const OPEN_COLLECTIONS: [&str; 2] = ["sentinel-cogs/*", "usgs-landsat/collection02/*"];

/// What a reader of the products' pixels needs (an environment variable name and value):
/// GDAL and boto3 sign requester-pays reads only when told.
pub(crate) const REQUESTER_PAYS_ENV: (&str, &str) = ("AWS_REQUEST_PAYER", "requester");

/// Reading every indexed product's pixels: the analyses' prefixes of the data bucket
/// and the open collections' objects, nothing else. For whoever loads data: datacube-ows,
/// the notebook servers and the Dask workers.
pub(crate) fn pixel_read_statements(data: &BucketHandle) -> Vec<Statement> {
    let mut statements = analyses_read_statements(data);
    statements.push(
        Statement::allow(["s3:GetObject"])
            .sid("ReadTheOpenCollections")
            .on(OPEN_COLLECTIONS.iter().map(|objects| {
                girder_core::vocabulary::Arn::new(crate::config::PARTITION, "s3", "", "", *objects)
            })),
    );
    statements
}

/// Where the scripts ConfigMap is mounted.
pub(crate) const SCRIPTS_DIRECTORY: &str = "/odc/scripts";

/// The init script (see the module doc). It reads its inputs from the environment:
/// `ODC_MASTER_SECRET_ARN`, `ODC_USERS` (a JSON list of `{"secret", "role", "schema"}`),
/// `ODC_INDEXER_SECRET`, `ODC_PRODUCTS` (a directory of `*.odc-product.yaml`),
/// `DB_HOSTNAME`, `DB_PORT`, `DB_DATABASE`, and `DATACUBE_OWS_CFG` (datacube-ows's
/// configuration, which its schema command loads).
///
/// Written for datacube-core 1.9's postgis driver (review 5): its roles are `odc_user`
/// (reads), `odc_manage` (adds products and datasets) and `odc_admin`, which is the RDS
/// master user itself (infra.rs names the master `odc_admin`: `datacube system init`
/// finds that login role and keeps it, and PostgreSQL 16 lets the master `SET ROLE` to
/// itself only; never grant `odc_admin` to a service user). `odc_manage` as the driver
/// grants it lacks what indexing writes (`INSERT ... ON CONFLICT DO UPDATE` on the
/// search and spatial tables, `UPDATE` of datasets, locations and products): the script
/// grants those.
pub(crate) const INIT_SCRIPT: &str = r#""""Initialise Piksel's Open Data Cube index; every step is safe to re-run."""
import glob
import json
import os
import subprocess
import urllib.parse

import boto3
import psycopg2
from psycopg2 import extensions, sql

HOST = os.environ["DB_HOSTNAME"]
PORT = os.environ["DB_PORT"]
DATABASE = os.environ["DB_DATABASE"]
SECRETS = boto3.client("secretsmanager")
# The ODC roles a user may be given: each user gets one, and loses the others.
ODC_ROLES = ("odc_user", "odc_manage")


def log(message, **fields):
    print(json.dumps({"msg": message, **fields}), flush=True)


def credentials(secret_id):
    value = json.loads(SECRETS.get_secret_value(SecretId=secret_id)["SecretString"])
    return value["username"], value["password"]


def url(user):
    # RDS's master password may hold any printable character but / " @: quoted.
    name, password = user
    return "postgresql://%s:%s@%s:%s/%s" % (
        urllib.parse.quote(name, safe=""),
        urllib.parse.quote(password, safe=""),
        HOST,
        PORT,
        DATABASE,
    )


def run(command, user):
    """Run a datacube command as `user` (a user name and password)."""
    env = dict(os.environ, ODC_DEFAULT_DB_URL=url(user), ODC_DEFAULT_INDEX_DRIVER="postgis")
    log("run", command=command[:3], user=user[0])
    return subprocess.run(command, env=env, check=False).returncode


def must(command, user):
    code = run(command, user)
    if code != 0:
        raise SystemExit("%s failed with %d" % (" ".join(command[:3]), code))


REPAIR = """
import datacube
from datacube.index.abstract import default_metadata_type_docs
from odc.geo import CRS

dc = datacube.Datacube(app="piksel-odc-init")
for doc in default_metadata_type_docs():
    if dc.index.metadata_types.get_by_name(doc["name"]) is None:
        dc.index.metadata_types.add(dc.index.metadata_types.from_doc(doc))
        print("added metadata type", doc["name"], flush=True)
if CRS("EPSG:4326") not in dc.index.spatial_indexes():
    dc.index.create_spatial_index(CRS("EPSG:4326"))
    print("added the EPSG:4326 spatial index", flush=True)
"""

admin = credentials(os.environ["ODC_MASTER_SECRET_ARN"])
# The PostGIS extension, ODC's schema, its roles, and on a new index the default
# metadata types (eo3 among them) and the EPSG:4326 spatial index: what exists is kept.
must(["datacube", "system", "init"], admin)
# A first run stopped after the schema was made leaves those two out: add what is missing.
must(["python3", "-c", REPAIR], admin)

users = json.loads(os.environ["ODC_USERS"])
names = []
connection = psycopg2.connect(host=HOST, port=PORT, dbname=DATABASE, user=admin[0], password=admin[1])
with connection, connection.cursor() as cursor:
    # What indexing writes, beyond the driver's grants to odc_manage.
    cursor.execute(
        "GRANT INSERT, UPDATE ON odc.dataset_search_string, odc.dataset_search_num, "
        "odc.dataset_search_datetime TO odc_manage"
    )
    cursor.execute("GRANT UPDATE ON odc.dataset, odc.location, odc.product TO odc_manage")
    # A dataset seen again moves its location (a DELETE) and may rewrite its lineage.
    cursor.execute("GRANT DELETE ON odc.location TO odc_manage")
    cursor.execute("GRANT UPDATE ON odc.dataset_lineage TO odc_manage")
    cursor.execute("SELECT table_name FROM odc.spatial_indicies")
    for (table,) in cursor.fetchall():
        cursor.execute(
            sql.SQL("GRANT SELECT ON odc.{} TO odc_user").format(sql.Identifier(table))
        )
        cursor.execute(
            sql.SQL("GRANT INSERT, UPDATE ON odc.{} TO odc_manage").format(sql.Identifier(table))
        )
    # Tables the master makes later (a new spatial index) get the same.
    cursor.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA odc GRANT SELECT ON TABLES TO odc_user")
    cursor.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA odc GRANT INSERT, UPDATE ON TABLES TO odc_manage"
    )
    for user in users:
        name, password = credentials(user["secret"])
        names.append(name)
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        # The SCRAM verifier, not the password, reaches the server (and its logs).
        verifier = extensions.encrypt_password(password, name, connection, "scram-sha-256")
        cursor.execute(
            sql.SQL(verb + " ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(name)),
            (verifier,),
        )
        for role in ODC_ROLES:
            statement = "GRANT {} TO {}" if role == user["role"] else "REVOKE {} FROM {}"
            cursor.execute(sql.SQL(statement).format(sql.Identifier(role), sql.Identifier(name)))
        statement = "GRANT CREATE ON DATABASE {} TO {}" if user["schema"] else "REVOKE CREATE ON DATABASE {} FROM {}"
        cursor.execute(sql.SQL(statement).format(sql.Identifier(DATABASE), sql.Identifier(name)))
        log("user", name=name, action=verb.lower(), role=user["role"])
connection.close()

indexer = credentials(os.environ["ODC_INDEXER_SECRET"])
for path in sorted(glob.glob(os.path.join(os.environ["ODC_PRODUCTS"], "*.odc-product.yaml"))):
    if run(["datacube", "product", "add", path], indexer) != 0:
        # It exists: apply the safe changes only (an unsafe one fails the Job).
        must(["datacube", "product", "update", path], indexer)
    log("product", file=os.path.basename(path))

# datacube-ows's schema and views, granted to the login users: the readers read them,
# the indexer refreshes them (ODC's roles cannot be named: the command grants odc_user
# to each role it is given).
readers = [name for user, name in zip(users, names) if user["role"] == "odc_user"]
writers = [name for user, name in zip(users, names) if user["role"] == "odc_manage"]
command = ["datacube-ows-update", "--schema"]
for name in readers:
    command += ["--read-role", name]
for name in writers:
    command += ["--write-role", name]
must(command, admin)
# Its ranges once, as the indexer, so the services' first start finds them (a product
# with nothing indexed yet is skipped); the hourly ows-update keeps them current.
must(["datacube-ows-update"], indexer)
log("done")
"#;

/// The indexing of Piksel's own outputs: `s3-to-dc` of the STAC documents under
/// `s3://<bucket>/<product>/`, once there is one (s3-to-dc fails on an empty listing,
/// and an analysis that has not run yet is not a failure). Arguments: bucket, product.
pub(crate) const INDEX_OUTPUTS_SCRIPT: &str = r#""""Index an analysis's outputs from the data bucket, if it has written any."""
import os
import sys

import boto3

bucket, product = sys.argv[1], sys.argv[2]
listing = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=product + "/", MaxKeys=1)
if not listing.get("KeyCount"):
    print("nothing under s3://%s/%s/ yet" % (bucket, product), flush=True)
    sys.exit(0)
uri = "s3://%s/%s/**/*.stac-item.json" % (bucket, product)
os.execvp("s3-to-dc", ["s3-to-dc", "--stac", "--update-if-exists", uri, product])
"#;

/// The ExternalSecret copying `user`'s secret into Secret `name` of `namespace`.
fn credentials_secret(
    scope: &mut Scope<'_>,
    id: &str,
    namespace: &str,
    name: &str,
    user: &PostgresUserHandle,
) -> Result<()> {
    let spec = ExternalSecretSpec::from_properties(
        StoreRef::cluster(crate::addons::SECRET_STORE),
        name,
        user.secret_name(),
        [(USERNAME_KEY, "username"), (PASSWORD_KEY, "password")],
    );
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
    let read = analyses_read_statements(&infra.data);
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
    // datacube-ows's schema command loads its configuration: the services' own
    // (ows.rs), so the views it makes are those the services read.
    let ows_config = crate::ows::ows_config(env)
        .to_json()
        .map_err(|e| Error::construct(&at, e))?;
    let scripts = ConfigMap::new(&odc, SCRIPTS)
        .entry("odc_init.py", INIT_SCRIPT)
        .entry("index_outputs.py", INDEX_OUTPUTS_SCRIPT)
        .entry(girder_odc::CONFIG_FILE, format!("{ows_config}\n"))
        .add(app, "scripts")?;

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
    let mut parts: Vec<&str> = vec![INIT_SCRIPT, &users_json, &image_ref, &ows_config];
    parts.extend(definitions.iter().map(String::as_str));
    let init_account = ServiceAccount::new(&odc, INIT_ACCOUNT).add(app, "init-account")?;
    let mut container = Container::new("init", &image_ref)
        .run_as_user(CoreImage::UID)
        .run_as_group(CoreImage::GID)
        .command(["python3", &format!("{SCRIPTS_DIRECTORY}/odc_init.py")])
        .resources(Resources::new().cpu("250m", "1").memory("512Mi", "1Gi"))
        .mount_read_only("scripts", SCRIPTS_DIRECTORY)
        .mount_read_only("products", "/odc/products")
        .mount("tmp", "/tmp");
    for env_var in connection_env().into_iter().chain([
        Env::value("ODC_MASTER_SECRET_ARN", format!("${{{MASTER_SECRET_VAR}}}")),
        Env::value("ODC_USERS", users_json.clone()),
        Env::value("ODC_INDEXER_SECRET", users.indexer.secret_name()),
        Env::value("ODC_PRODUCTS", "/odc/products"),
        Env::value(
            "DATACUBE_OWS_CFG",
            format!("{SCRIPTS_DIRECTORY}/{}", girder_odc::CONFIG_FILE),
        ),
        Env::value("HOME", "/tmp"),
    ]) {
        container = container.env(env_var);
    }
    let _init = Job::new(
        &odc,
        &format!("odc-init-{}", girder_k8s::content_hash(&parts)),
    )
    .part_of("odc")
    .component("init")
    .container(container)
    .volume(Volume::config_map("scripts", &scripts))
    .volume(Volume::config_map("products", &products_map))
    .volume(Volume::empty_dir("tmp"))
    .service_account(&init_account)
    // EKS Pod Identity mounts its own token: the pods never call the Kubernetes API.
    .api_token(false)
    .deadline(INIT_DEADLINE_SECONDS)
    .node_selector(POOL_LABEL, "workloads")
    .backoff_limit(4)
    .add(app, "init")?;

    // The indexing.
    let indexer_account = ServiceAccount::new(&odc, INDEXER_ACCOUNT).add(app, "indexer-account")?;
    for job in indexing(&infra.data)? {
        let container = as_index_user(
            Container::new("index", &image_ref)
                .run_as_user(CoreImage::UID)
                .run_as_group(CoreImage::GID)
                .resources(Resources::new().cpu("250m", "1").memory("512Mi", "2Gi"))
                .mount("tmp", "/tmp")
                .mount_read_only("scripts", SCRIPTS_DIRECTORY)
                .env(Env::value("HOME", "/tmp"))
                .env(Env::value("ODC_PRODUCT", job.product.as_str())),
            &job.script,
        );
        let _ = CronJob::new(&odc, &format!("odc-index-{}", job.id), job.schedule)
            .part_of("odc")
            .component("indexing")
            .container(container)
            .volume(Volume::empty_dir("tmp"))
            .volume(Volume::secret(CREDENTIALS_VOLUME, INDEXER_SECRET))
            .volume(Volume::config_map("scripts", &scripts))
            .service_account(&indexer_account)
            .api_token(false)
            .deadline(INDEX_DEADLINE_SECONDS)
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

/// The ConfigMap of the scripts (the init, the analyses' indexing).
pub(crate) const SCRIPTS: &str = "odc-scripts";
/// The init Job stops after 30 minutes (a first run adds the schema and a few products).
const INIT_DEADLINE_SECONDS: u32 = 1800;
/// An indexing run stops after 2 hours: a hung search does not hold the next day's.
const INDEX_DEADLINE_SECONDS: u32 = 7200;

/// The init Job's service account (its pod identity role reads the index's secrets).
pub(crate) const INIT_ACCOUNT: &str = "odc-init";
/// The indexing CronJobs' service account (its role reads the data bucket).
pub(crate) const INDEXER_ACCOUNT: &str = "odc-indexer";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_are_python_that_parses() {
        // CI's machine has Python 3 (README); a user's clone without it skips.
        let dir = std::env::temp_dir().join(format!("piksel-odc-scripts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, script) in [
            ("odc_init.py", INIT_SCRIPT),
            ("index_outputs.py", INDEX_OUTPUTS_SCRIPT),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, script).unwrap();
            let checked = std::process::Command::new("python3")
                .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())"])
                .arg(&path)
                .output();
            match checked {
                Ok(output) => assert!(
                    output.status.success(),
                    "{name}: {}",
                    String::from_utf8_lossy(&output.stderr)
                ),
                Err(e) => eprintln!("skipping: python3 is not here ({e})"),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_init_grants_what_indexing_writes_and_names_login_users_to_ows() {
        // Review 5's B1: the postgis driver's odc_manage cannot upsert the search and
        // spatial tables or update datasets, locations, products.
        for grant in [
            "GRANT INSERT, UPDATE ON odc.dataset_search_string, odc.dataset_search_num",
            "GRANT UPDATE ON odc.dataset, odc.location, odc.product TO odc_manage",
            // Review 6's M1: a dataset seen again moves its location.
            "GRANT DELETE ON odc.location TO odc_manage",
            "GRANT UPDATE ON odc.dataset_lineage TO odc_manage",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA odc GRANT INSERT, UPDATE ON TABLES TO odc_manage",
        ] {
            assert!(INIT_SCRIPT.contains(grant), "{grant}");
        }
        // B2: datacube-ows grants odc_user to each role it is given: never odc_user itself.
        assert!(!INIT_SCRIPT.contains(r#""--read-role", "odc_user""#));
        // M1: the master's password is quoted into the URL.
        assert!(INIT_SCRIPT.contains(r#"urllib.parse.quote(password, safe="")"#));
        // The products are added before the OWS step, which cannot then block them.
        let products = INIT_SCRIPT.find(r#""product", "add""#).unwrap();
        let ows = INIT_SCRIPT.find(r#""datacube-ows-update""#).unwrap();
        assert!(products < ows);
    }

    #[test]
    fn no_script_holds_what_flux_would_substitute() {
        // Flux's post-build substitution replaces every `${NAME}` (and `$NAME`) of the
        // app's manifests, an unknown one with nothing: the scripts hold neither.
        for script in [
            INIT_SCRIPT.to_owned(),
            INDEX_OUTPUTS_SCRIPT.to_owned(),
            connect_line(),
        ] {
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
