//! In-cluster PostgreSQL through the CloudNativePG operator (`postgresql.cnpg.io/v1`):
//! a [`PostgresCluster`] is a CNPG `Cluster` (one primary, streaming replicas, failover by
//! the operator), an optional PgBouncer `Pooler` in front of its primary, and the
//! initialization scripts as a ConfigMap that a Job applies with `psql -v ON_ERROR_STOP=1`
//! as the application's owner, re-runnable because every statement is written to be.
//!
//! Why a Job and not CNPG's `postInitApplicationSQLRefs`: CNPG runs those once, when the
//! cluster is first created (`initdb`), and never again; a script changed later would
//! never reach the database. The Job is named after a hash of its scripts and image, so a
//! change makes a new Job, and the scripts are checked at synth for statements that would
//! fail or change something on a second run. Only what needs the superuser and is itself
//! idempotent goes into `postInitApplicationSQL`: `CREATE EXTENSION IF NOT EXISTS
//! timescaledb` on a TimescaleDB cluster, since the superuser stays disabled.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::construct::Construct;
use girder_core::kubernetes::ProvidedObject;
use girder_core::{Error, Result, Scope, StaticJson};
use girder_k8s::crds::{Extra, NameRef, Object, ObjectRef, Spec};
use girder_k8s::{ConfigMap, Container, Env, Job, NamespaceHandle, Resources, Volume, Workload};
use serde::Serialize;
use serde_json::Value as Json;

use crate::RdsError;
use crate::timescale::{ContinuousAggregate, Hypertable};

/// CNPG's PostgreSQL image girder pins by default (PostgreSQL 17, the operator's own
/// build with psql).
pub const DEFAULT_IMAGE: &str = "ghcr.io/cloudnative-pg/postgresql:17.5";
/// The uid (and gid) PostgreSQL runs as in CNPG's images.
pub const CNPG_POSTGRES_UID: u32 = 26;
/// The keys of the `<cluster>-app` Secret CNPG writes for the application owner.
pub const APP_SECRET_KEYS: [&str; 11] = [
    "dbname",
    "fqdn-jdbc-uri",
    "fqdn-uri",
    "host",
    "jdbc-uri",
    "password",
    "pgpass",
    "port",
    "uri",
    "user",
    "username",
];
/// What PostgreSQL keeps of `max_connections` for superusers
/// (`superuser_reserved_connections`' default).
pub const SUPERUSER_RESERVED_CONNECTIONS: u32 = 3;

/// `Cluster` (`postgresql.cnpg.io/v1`).
pub type CnpgCluster = Object<ClusterSpec>;
/// `Pooler` (`postgresql.cnpg.io/v1`).
pub type CnpgPooler = Object<PoolerSpec>;

/// The spec of a CNPG Cluster.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Instances: one primary, the rest streaming replicas.
    pub instances: u8,
    /// The PostgreSQL image.
    pub image_name: Option<String>,
    /// The uid PostgreSQL runs as (images other than CNPG's).
    #[serde(rename = "postgresUID")]
    pub postgres_uid: Option<u32>,
    /// Its gid.
    #[serde(rename = "postgresGID")]
    pub postgres_gid: Option<u32>,
    /// Whether CNPG makes a `<cluster>-superuser` Secret and lets `postgres` log in.
    pub enable_superuser_access: Option<bool>,
    /// The data volume of each instance.
    pub storage: Option<ClusterStorage>,
    /// postgresql.conf and preloaded libraries.
    pub postgresql: Option<PostgresConfiguration>,
    /// Requests and limits of each instance.
    pub resources: Option<Json>,
    /// Metrics.
    pub monitoring: Option<ClusterMonitoring>,
    /// How the cluster is created.
    pub bootstrap: Option<Bootstrap>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for ClusterSpec {
    const API_VERSION: &'static str = "postgresql.cnpg.io/v1";
    const KIND: &'static str = "Cluster";

    /// The CA Secret `<cluster>-ca` CNPG makes for its server certificates, and the
    /// application owner's Secret `<cluster>-app` (CNPG's keys) unless
    /// `bootstrap.initdb.secret` names one of the user's.
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let Some(name) = body.pointer("/metadata/name").and_then(StaticJson::as_str) else {
            return Vec::new();
        };
        let ca = ProvidedObject {
            kind: "Secret".into(),
            name: format!("{name}-ca"),
            keys: Some(["ca.crt".to_owned(), "ca.key".to_owned()].into()),
        };
        if body.pointer("/spec/bootstrap/initdb/secret").is_some() {
            return vec![ca];
        }
        vec![
            ca,
            ProvidedObject {
                kind: "Secret".into(),
                name: format!("{name}-app"),
                keys: Some(APP_SECRET_KEYS.iter().map(|k| (*k).to_owned()).collect()),
            },
        ]
    }
}

/// `spec.storage`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStorage {
    /// `100Gi`.
    pub size: String,
    /// The StorageClass.
    pub storage_class: Option<String>,
}

/// `spec.postgresql`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PostgresConfiguration {
    /// postgresql.conf settings.
    pub parameters: BTreeMap<String, String>,
    /// Libraries loaded at start (`timescaledb`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_preload_libraries: Vec<String>,
}

/// `spec.monitoring`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMonitoring {
    /// A PodMonitor for the instances' metrics exporter.
    pub enable_pod_monitor: bool,
}

/// `spec.bootstrap`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bootstrap {
    /// A new database.
    pub initdb: InitDb,
}

/// `spec.bootstrap.initdb`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitDb {
    /// The application database.
    pub database: String,
    /// Its owner (CNPG writes its password to `<cluster>-app`).
    pub owner: String,
    /// SQL run once as the superuser in the application database after `initdb`.
    #[serde(
        rename = "postInitApplicationSQL",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub post_init_application_sql: Vec<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The spec of a CNPG Pooler.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolerSpec {
    /// The cluster pooled.
    pub cluster: NameRef,
    /// PgBouncer pods.
    pub instances: u8,
    /// `rw` (the primary) or `ro` (the replicas).
    #[serde(rename = "type")]
    pub kind: String,
    /// PgBouncer's settings.
    pub pgbouncer: PgBouncerSpec,
    /// Metrics.
    pub monitoring: Option<ClusterMonitoring>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for PoolerSpec {
    const API_VERSION: &'static str = "postgresql.cnpg.io/v1";
    const KIND: &'static str = "Pooler";
}

/// `spec.pgbouncer`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PgBouncerSpec {
    /// `session` or `transaction`.
    pub pool_mode: String,
    /// pgbouncer.ini settings.
    pub parameters: BTreeMap<String, String>,
}

/// PgBouncer's pool mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// A server connection per client session.
    Session,
    /// A server connection per transaction (the default here: most connections for
    /// the fewest server processes).
    Transaction,
}

impl PoolMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Transaction => "transaction",
        }
    }
}

/// A PgBouncer pooler in front of the primary (`<cluster>-pooler-rw`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgBouncer {
    instances: u8,
    pool_mode: PoolMode,
    default_pool_size: u32,
    max_client_conn: u32,
}

impl Default for PgBouncer {
    /// Two pods, transaction pooling, 200 client connections each, 20 server connections
    /// per database and user.
    fn default() -> Self {
        Self {
            instances: 2,
            pool_mode: PoolMode::Transaction,
            default_pool_size: 20,
            max_client_conn: 200,
        }
    }
}

impl PgBouncer {
    /// The defaults (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// PgBouncer pods.
    pub fn instances(mut self, instances: u8) -> Self {
        self.instances = instances;
        self
    }

    /// The pool mode.
    pub fn pool_mode(mut self, mode: PoolMode) -> Self {
        self.pool_mode = mode;
        self
    }

    /// Server connections per database and user, per pod.
    pub fn default_pool_size(mut self, size: u32) -> Self {
        self.default_pool_size = size;
        self
    }

    /// Client connections each pod accepts.
    pub fn max_client_conn(mut self, connections: u32) -> Self {
        self.max_client_conn = connections;
        self
    }

    fn check(&self, max_connections: u32) -> std::result::Result<(), RdsError> {
        for (setting, value) in [
            ("instances", u32::from(self.instances)),
            ("default_pool_size", self.default_pool_size),
            ("max_client_conn", self.max_client_conn),
        ] {
            if value == 0 {
                return Err(RdsError::PoolSetting { setting, value });
            }
        }
        let total = u32::from(self.instances).saturating_mul(self.default_pool_size);
        if total > max_connections.saturating_sub(SUPERUSER_RESERVED_CONNECTIONS) {
            return Err(RdsError::PoolAboveMaxConnections {
                instances: self.instances,
                pool_size: self.default_pool_size,
                total,
                max_connections,
            });
        }
        Ok(())
    }
}

/// A CloudNativePG PostgreSQL cluster before it is added.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct PostgresCluster {
    namespace: String,
    name: String,
    instances: u8,
    image: String,
    uid: u32,
    storage_gib: u32,
    storage_class: String,
    max_connections: u32,
    parameters: BTreeMap<String, String>,
    resources: Json,
    pod_monitor: bool,
    database: String,
    owner: String,
    pooler: Option<PgBouncer>,
    scripts: Vec<(String, String)>,
    timescale: bool,
    hypertables: Vec<Hypertable>,
    aggregates: Vec<ContinuousAggregate>,
}

impl PostgresCluster {
    /// Cluster `name` in `namespace`: 3 instances (a primary and two streaming replicas),
    /// 100 GiB of `gp3` each, `max_connections` 200, 1-2 CPU and 4 GiB, a PodMonitor, the
    /// superuser disabled, database `app` owned by `app`, no pooler.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            instances: 3,
            image: DEFAULT_IMAGE.into(),
            uid: CNPG_POSTGRES_UID,
            storage_gib: 100,
            storage_class: "gp3".into(),
            max_connections: 200,
            parameters: BTreeMap::new(),
            resources: instance_resources("1", "2", "4Gi", "4Gi"),
            pod_monitor: true,
            database: "app".into(),
            owner: "app".into(),
            pooler: None,
            scripts: Vec::new(),
            timescale: false,
            hypertables: Vec::new(),
            aggregates: Vec::new(),
        }
    }

    /// Instances (1 to 9).
    pub fn instances(mut self, instances: u8) -> Self {
        self.instances = instances;
        self
    }

    /// The PostgreSQL image (pinned), whose PostgreSQL runs as `uid`.
    pub fn image(mut self, image: impl Into<String>, uid: u32) -> Self {
        self.image = image.into();
        self.uid = uid;
        self
    }

    /// A TimescaleDB image (pinned, with CNPG's instance manager requirements met, such as
    /// `timescale/timescaledb-ha`, uid 1000): `timescaledb` preloaded and its extension
    /// created in the application database at bootstrap. Compression, retention and
    /// continuous aggregate policies are TimescaleDB's community (TSL) features: the image
    /// must ship them (timescaledb-ha does; an Apache-2-only build refuses the policies).
    pub fn timescale(mut self, image: impl Into<String>, uid: u32) -> Self {
        self.image = image.into();
        self.uid = uid;
        self.timescale = true;
        self
    }

    /// Each instance's volume.
    pub fn storage(mut self, gib: u32, class: impl Into<String>) -> Self {
        self.storage_gib = gib;
        self.storage_class = class.into();
        self
    }

    /// `max_connections` of each instance (10 to 10000).
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections;
        self
    }

    /// Another postgresql.conf setting (`max_connections` and `shared_preload_libraries`
    /// are typed and refused here).
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// Each instance's CPU and memory requests and limits (quantities: `500m`, `4Gi`).
    pub fn resources(
        mut self,
        cpu_request: &str,
        cpu_limit: &str,
        memory_request: &str,
        memory_limit: &str,
    ) -> Self {
        self.resources = instance_resources(cpu_request, cpu_limit, memory_request, memory_limit);
        self
    }

    /// No PodMonitor (no Prometheus operator in the cluster).
    pub fn without_pod_monitor(mut self) -> Self {
        self.pod_monitor = false;
        self
    }

    /// The application database and its owner.
    pub fn database(mut self, database: impl Into<String>, owner: impl Into<String>) -> Self {
        self.database = database.into();
        self.owner = owner.into();
        self
    }

    /// A PgBouncer pooler in front of the primary.
    pub fn pooler(mut self, pooler: PgBouncer) -> Self {
        self.pooler = Some(pooler);
        self
    }

    /// An initialization script (applied in the order given, after no other), run as the
    /// owner on every change; every statement must be safe to run again.
    pub fn init_sql(mut self, name: impl Into<String>, sql: impl Into<String>) -> Self {
        self.scripts.push((name.into(), sql.into()));
        self
    }

    /// A hypertable (needs [`PostgresCluster::timescale`]).
    pub fn hypertable(mut self, hypertable: Hypertable) -> Self {
        self.hypertables.push(hypertable);
        self
    }

    /// A continuous aggregate of one of the cluster's hypertables.
    pub fn continuous_aggregate(mut self, aggregate: ContinuousAggregate) -> Self {
        self.aggregates.push(aggregate);
        self
    }

    fn check(&self) -> std::result::Result<(), RdsError> {
        if !(1..=9).contains(&self.instances) {
            return Err(RdsError::Instances(self.instances));
        }
        if !(10..=10_000).contains(&self.max_connections) {
            return Err(RdsError::MaxConnections(self.max_connections));
        }
        if self.storage_gib == 0 {
            return Err(RdsError::StorageSize(self.storage_gib));
        }
        for key in self.parameters.keys() {
            if key == "max_connections" || key == "shared_preload_libraries" {
                return Err(RdsError::TypedParameter(key.clone()));
            }
        }
        check_identifier("database", &self.database)?;
        check_identifier("username", &self.owner)?;
        if let Some(pooler) = &self.pooler {
            pooler.check(self.max_connections)?;
        }
        let mut names = BTreeSet::new();
        for (name, sql) in &self.scripts {
            let plain = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !plain || !names.insert(name.as_str()) {
                return Err(RdsError::ScriptName(name.clone()));
            }
            check_idempotent(name, sql)?;
        }
        let mut tables = BTreeSet::new();
        for table in &self.hypertables {
            if !self.timescale {
                return Err(RdsError::TimescaleNotEnabled(table.table().to_owned()));
            }
            table.check()?;
            tables.insert(table.table());
        }
        for view in &self.aggregates {
            if !self.timescale {
                return Err(RdsError::TimescaleNotEnabled(view.view().to_owned()));
            }
            view.check()?;
            if !tables.contains(view.hypertable()) {
                return Err(RdsError::UnknownHypertable {
                    view: view.view().to_owned(),
                    table: view.hypertable().to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The scripts the init Job applies, in order: the cluster's own, then one for the
    /// hypertables and one for the continuous aggregates.
    pub fn scripts(&self) -> Vec<(String, String)> {
        let mut scripts: Vec<(String, String)> = self
            .scripts
            .iter()
            .enumerate()
            .map(|(i, (name, sql))| (format!("{:02}-{name}.sql", i + 1), sql.clone()))
            .collect();
        let next = scripts.len();
        if !self.hypertables.is_empty() {
            let sql = self
                .hypertables
                .iter()
                .map(Hypertable::sql)
                .collect::<String>();
            scripts.push((format!("{:02}-hypertables.sql", next + 1), sql));
        }
        if !self.aggregates.is_empty() {
            let sql = self
                .aggregates
                .iter()
                .map(ContinuousAggregate::sql)
                .collect::<Vec<_>>()
                .join("");
            scripts.push((
                format!("{:02}-continuous-aggregates.sql", scripts.len() + 1),
                sql,
            ));
        }
        scripts
    }

    fn cluster_object(&self) -> CnpgCluster {
        let mut postgresql = PostgresConfiguration {
            parameters: self.parameters.clone(),
            shared_preload_libraries: Vec::new(),
        };
        postgresql
            .parameters
            .insert("max_connections".into(), self.max_connections.to_string());
        let mut post_init = Vec::new();
        if self.timescale {
            postgresql
                .shared_preload_libraries
                .push("timescaledb".into());
            post_init.push("CREATE EXTENSION IF NOT EXISTS timescaledb".into());
        }
        let custom_uid = self.uid != CNPG_POSTGRES_UID;
        CnpgCluster::new(
            &self.namespace,
            &self.name,
            ClusterSpec {
                instances: self.instances,
                image_name: Some(self.image.clone()),
                postgres_uid: custom_uid.then_some(self.uid),
                postgres_gid: custom_uid.then_some(self.uid),
                enable_superuser_access: Some(false),
                storage: Some(ClusterStorage {
                    size: format!("{}Gi", self.storage_gib),
                    storage_class: Some(self.storage_class.clone()),
                }),
                postgresql: Some(postgresql),
                resources: Some(self.resources.clone()),
                monitoring: Some(ClusterMonitoring {
                    enable_pod_monitor: self.pod_monitor,
                }),
                bootstrap: Some(Bootstrap {
                    initdb: InitDb {
                        database: self.database.clone(),
                        owner: self.owner.clone(),
                        post_init_application_sql: post_init,
                        extra: Extra::new(),
                    },
                }),
                extra: Extra::new(),
            },
        )
    }

    fn pooler_object(&self, pooler: &PgBouncer) -> CnpgPooler {
        CnpgPooler::new(
            &self.namespace,
            &format!("{}-pooler-rw", self.name),
            PoolerSpec {
                cluster: NameRef::new(&self.name),
                instances: pooler.instances,
                kind: "rw".into(),
                pgbouncer: PgBouncerSpec {
                    pool_mode: pooler.pool_mode.as_str().into(),
                    parameters: [
                        (
                            "default_pool_size".to_owned(),
                            pooler.default_pool_size.to_string(),
                        ),
                        (
                            "max_client_conn".to_owned(),
                            pooler.max_client_conn.to_string(),
                        ),
                    ]
                    .into(),
                },
                monitoring: Some(ClusterMonitoring {
                    enable_pod_monitor: self.pod_monitor,
                }),
                extra: Extra::new(),
            },
        )
    }
}

/// A CloudNativePG cluster in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresClusterHandle {
    cluster: ObjectRef,
    pooler: Option<ObjectRef>,
    app_secret: String,
    init_job: Option<String>,
}

impl PostgresClusterHandle {
    /// The Cluster object.
    pub fn cluster(&self) -> &ObjectRef {
        &self.cluster
    }

    /// The Pooler object, when there is one.
    pub fn pooler(&self) -> Option<&ObjectRef> {
        self.pooler.as_ref()
    }

    /// The host clients connect to: the pooler's Service if there is one, else the
    /// primary's (`<cluster>-rw`).
    pub fn host(&self) -> String {
        match &self.pooler {
            Some(pooler) => pooler.name().to_owned(),
            None => format!("{}-rw", self.cluster.name()),
        }
    }

    /// The application owner's Secret CNPG writes (`<cluster>-app`; keys
    /// [`APP_SECRET_KEYS`]).
    pub fn app_secret(&self) -> &str {
        &self.app_secret
    }

    /// The init Job's name (`<cluster>-init-<hash>`), when there are scripts.
    pub fn init_job(&self) -> Option<&str> {
        self.init_job.as_deref()
    }
}

impl Construct for PostgresCluster {
    type Handle = PostgresClusterHandle;

    /// Add the Cluster, its Pooler and its init Job as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<PostgresClusterHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let cluster = self.cluster_object().add(scope, "cluster")?;
        let pooler = match &self.pooler {
            Some(p) => Some(self.pooler_object(p).add(scope, "pooler")?),
            None => None,
        };
        let app_secret = format!("{}-app", self.name);
        let scripts = self.scripts();
        let init_job = if scripts.is_empty() {
            None
        } else {
            Some(self.add_init_job(scope, &scripts, &app_secret)?)
        };
        Ok(PostgresClusterHandle {
            cluster,
            pooler,
            app_secret,
            init_job,
        })
    }
}

/// Where the init Job mounts the scripts.
const SCRIPTS_DIRECTORY: &str = "/init-sql";

impl PostgresCluster {
    fn add_init_job(
        &self,
        scope: &mut Scope<'_>,
        scripts: &[(String, String)],
        app_secret: &str,
    ) -> Result<String> {
        let namespace = NamespaceHandle::existing(&self.namespace);
        let mut config = ConfigMap::new(&namespace, format!("{}-init-sql", self.name));
        for (file, sql) in scripts {
            config = config.entry(file.clone(), sql.clone());
        }
        let config = config.add(scope, "init-sql")?;
        let mut parts: Vec<&str> = vec![&self.image];
        for (file, sql) in scripts {
            parts.push(file);
            parts.push(sql);
        }
        let name = format!("{}-init-{}", self.name, girder_k8s::content_hash(&parts));
        // Each file in order, stopping at the first error; the Job retries the whole
        // sequence, which the checks keep safe.
        let command = format!(
            "set -eu; for f in {SCRIPTS_DIRECTORY}/*.sql; do echo \"applying $f\"; \
             psql -v ON_ERROR_STOP=1 -f \"$f\"; done"
        );
        let container = Container::new("psql", &self.image)
            .run_as_user(self.uid)
            .run_as_group(self.uid)
            .command(["/bin/sh", "-c", &command])
            .resources(
                Resources::new()
                    .cpu("100m", "500m")
                    .memory("128Mi", "256Mi"),
            )
            .mount_read_only("init-sql", SCRIPTS_DIRECTORY)
            .env(Env::value("PGHOST", format!("{}-rw", self.name)))
            .env(Env::secret_key("PGPORT", app_secret, "port"))
            .env(Env::secret_key("PGDATABASE", app_secret, "dbname"))
            .env(Env::secret_key("PGUSER", app_secret, "username"))
            .env(Env::secret_key("PGPASSWORD", app_secret, "password"))
            // CNPG's server certificate names `<cluster>-rw`, signed by `<cluster>-ca`.
            .env(Env::value("PGSSLMODE", "verify-full"))
            .env(Env::value("PGSSLROOTCERT", "/cnpg-ca/ca.crt"))
            .mount_read_only("cnpg-ca", "/cnpg-ca")
            .env(Env::value("PGCONNECT_TIMEOUT", "10"));
        Job::new(&namespace, &name)
            .part_of(&self.name)
            .component("init")
            .container(container)
            .volume(Volume::config_map("init-sql", &config))
            .volume(Volume::secret("cnpg-ca", format!("{}-ca", self.name)))
            .api_token(false)
            // The cluster may still be starting: retry for a while.
            .backoff_limit(10)
            .deadline(1800)
            .add(scope, "init")?;
        Ok(name)
    }
}

fn instance_resources(
    cpu_request: &str,
    cpu_limit: &str,
    memory_request: &str,
    memory_limit: &str,
) -> Json {
    serde_json::json!({
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    })
}

/// A PostgreSQL identifier girder writes unquoted: a lowercase letter, then lowercase
/// letters, digits and `_`, at most 63 bytes.
pub(crate) fn check_identifier(
    what: &'static str,
    name: &str,
) -> std::result::Result<(), RdsError> {
    let mut chars = name.chars();
    let ok = name.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(RdsError::Name {
            what,
            name: name.to_owned(),
        })
    }
}

/// Refuse statements that fail or change something when the script runs again: `CREATE`
/// of a table, index, schema, extension, sequence or materialized view without `IF NOT
/// EXISTS`, of a view, function or procedure without `OR REPLACE`, and `CREATE ROLE` /
/// `CREATE USER` / `CREATE DATABASE` outside a `DO` block (they have no `IF NOT EXISTS`).
/// Statements are read at the start of each line outside dollar-quoted bodies.
fn check_idempotent(script: &str, sql: &str) -> std::result::Result<(), RdsError> {
    let mut in_body = false;
    for line in sql.lines() {
        let upper = line.trim().to_ascii_uppercase();
        let quotes = line.matches("$$").count();
        if !in_body && upper.starts_with("CREATE ") {
            let words: Vec<&str> = upper.split_whitespace().collect();
            let rest = words.get(1..).unwrap_or_default();
            let has = |phrase: &[&str]| rest.windows(phrase.len()).any(|w| w == phrase);
            let needs_if_not_exists = matches!(
                rest.first().copied(),
                Some(
                    "TABLE"
                        | "INDEX"
                        | "UNIQUE"
                        | "SCHEMA"
                        | "EXTENSION"
                        | "SEQUENCE"
                        | "MATERIALIZED"
                )
            );
            let needs_or_replace = matches!(
                rest.first().copied(),
                Some("VIEW" | "FUNCTION" | "PROCEDURE" | "TRIGGER")
            );
            let never = matches!(rest.first().copied(), Some("ROLE" | "USER" | "DATABASE"));
            let bad = never
                || (needs_if_not_exists && !has(&["IF", "NOT", "EXISTS"]))
                || (needs_or_replace && !has(&["OR", "REPLACE"]));
            if bad {
                return Err(RdsError::NotIdempotent {
                    script: script.to_owned(),
                    statement: line.trim().to_owned(),
                });
            }
        }
        if !quotes.is_multiple_of(2) {
            in_body = !in_body;
        }
    }
    Ok(())
}
