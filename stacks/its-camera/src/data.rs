//! ITS Camera AI's data services (seed 003's Teams 1 and 3), Kubernetes apps
//! `data-operators` (CloudNativePG 0.29.0 and the MinIO operator 7.1.1, delivered with the
//! infrastructure: their CRDs first) and `data`, from girder-rds's and girder-storage's
//! in-cluster constructs:
//!
//! - **PostgreSQL** `postgresql` in `its-databases` (user data, camera configurations,
//!   incidents): CloudNativePG, the maintained operator preferred over a hand-written
//!   StatefulSet, 3 instances (a primary and two streaming replicas; CloudNativePG
//!   promotes a replica when the primary is lost), 100Gi gp3 each, `max_connections`
//!   200; PgBouncer (`postgresql-pooler`, transaction pooling) with the seed's 200 client
//!   connections per instance; the schema and the application's roles as idempotent SQL a
//!   Job applies ([`SCHEMA_SQL`]).
//! - **TimescaleDB** `timescaledb` in `its-databases` (metrics): CloudNativePG on a
//!   TimescaleDB image, hypertables `camera_metrics` (30 days' retention, chunks
//!   compressed after 7 days) and `vehicle_detections` (7 days, compressed after 1),
//!   hourly continuous aggregates of both.
//! - **MinIO** `minio` in `its-storage`: the operator's Tenant, 4 servers x 500Gi, erasure
//!   coded (one set of 4 drives, parity 2: any two drives may be lost), buckets
//!   `its-video` (30 days), `its-models` (kept) and `its-logs` (90 days), each granting
//!   the services that use it: the camera ingest writes video, the inference reads models
//!   and writes video, the API reads video, the log shipper writes logs.
//!
//! The credentials CloudNativePG writes (`<cluster>-app`, `<cluster>-ca`) and MinIO's root
//! and users' keys (which an operator makes until Vault provides them) are declared
//! external: made outside the bundle.

use girder_core::construct::Construct;
use girder_core::helm::ChartRef;
use girder_core::{Result, Stack};
use girder_k8s::Release;
use girder_rds::timescale::{ContinuousAggregate, Hypertable, Interval};
use girder_rds::{PgBouncer, PostgresCluster};
use girder_storage::{MinioBucket, MinioTenant, MinioUser};
use serde_json::json;

use crate::config::Environment;

/// The apps.
pub(crate) const OPERATORS_APP: &str = "data-operators";
pub(crate) const APP: &str = "data";
const DATABASES: &str = "its-databases";
const STORAGE: &str = "its-storage";

/// The TimescaleDB image (TimescaleDB's HA image with the community policies;
/// replace with the digest of the release the team verifies).
const TIMESCALE_IMAGE: &str = "timescale/timescaledb-ha:pg17.5-ts2.21.0";
/// Its postgres user.
const TIMESCALE_UID: u32 = 1000;

/// The application's schema and roles (TASK-DB-003), idempotent.
pub(crate) const SCHEMA_SQL: &str = "\
CREATE SCHEMA IF NOT EXISTS its;
CREATE TABLE IF NOT EXISTS its.users (id BIGSERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS its.cameras (id TEXT PRIMARY KEY, name TEXT NOT NULL, stream_url TEXT NOT NULL, location TEXT, enabled BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE IF NOT EXISTS its.incidents (id BIGSERIAL PRIMARY KEY, camera_id TEXT NOT NULL REFERENCES its.cameras (id), kind TEXT NOT NULL, detected_at TIMESTAMPTZ NOT NULL, resolved_at TIMESTAMPTZ);
CREATE INDEX IF NOT EXISTS incidents_camera_time ON its.incidents (camera_id, detected_at);
";

fn camera_metrics() -> Hypertable {
    Hypertable::new("camera_metrics", "time", Interval::days(30))
        .column("camera_id", "TEXT NOT NULL")
        .column("fps", "DOUBLE PRECISION")
        .column("latency_ms", "DOUBLE PRECISION")
        .compress_after(Interval::days(7))
        .segment_by(["camera_id"])
}

fn vehicle_detections() -> Hypertable {
    Hypertable::new("vehicle_detections", "time", Interval::days(7))
        .column("camera_id", "TEXT NOT NULL")
        .column("vehicle_class", "TEXT NOT NULL")
        .column("confidence", "REAL")
        .chunk_interval(Interval::hours(6))
        .compress_after(Interval::days(1))
        .segment_by(["camera_id"])
}

/// Add the data apps to `stack`.
pub(crate) fn add(stack: &mut Stack, env: &Environment) -> Result<()> {
    let users = [
        ("camera-ingest", "minio-camera-ingest"),
        ("inference", "minio-inference"),
        ("api", "minio-api"),
        ("log-shipper", "minio-log-shipper"),
    ];
    for (cluster, what) in [
        ("postgresql", "app"),
        ("postgresql", "ca"),
        ("timescaledb", "app"),
        ("timescaledb", "ca"),
    ] {
        stack.external_kube_object(
            "Secret",
            Some(DATABASES),
            &format!("{cluster}-{what}"),
            &format!("made by CloudNativePG from Cluster {DATABASES}/{cluster}"),
        )?;
    }
    for secret in users
        .iter()
        .map(|(_, secret)| *secret)
        .chain(["minio-env-configuration"])
    {
        stack.external_kube_object(
            "Secret",
            Some(STORAGE),
            secret,
            "MinIO keys an operator makes (kubectl create secret) until Vault provides them",
        )?;
    }
    let mut root = stack.root();
    {
        let app = &mut root.child(OPERATORS_APP)?.with_kube_app(OPERATORS_APP)?;
        let _ = Release::new(
            "cloudnative-pg",
            DATABASES,
            ChartRef::new(
                "https://cloudnative-pg.github.io/charts",
                "cloudnative-pg",
                "0.29.0",
            ),
            &json!({"resources": {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": {"memory": "400Mi"}}}),
        )
        .delivery(crate::messaging::argo(env))
        .add(app, "cloudnative-pg")?;
        let _ = Release::new(
            "minio-operator",
            STORAGE,
            ChartRef::new("https://operator.min.io", "operator", "7.1.1"),
            &json!({}),
        )
        .delivery(crate::messaging::argo(env))
        .add(app, "minio-operator")?;
    }
    let app = &mut root.child(APP)?.with_kube_app(APP)?;
    let postgres = PostgresCluster::new(DATABASES, "postgresql")
        .database("its", "its_app")
        .pooler(PgBouncer::new().max_client_conn(200))
        .init_sql("schema", SCHEMA_SQL)
        .add(app, "postgresql")?;
    let metrics = camera_metrics();
    let detections = vehicle_detections();
    let timescale = PostgresCluster::new(DATABASES, "timescaledb")
        .instances(if env.production { 2 } else { 1 })
        .timescale(TIMESCALE_IMAGE, TIMESCALE_UID)
        .database("metrics", "metrics_app")
        .continuous_aggregate(
            ContinuousAggregate::new("camera_metrics_hourly", &metrics, Interval::hours(1))
                .group_by(["camera_id"])
                .aggregate("avg(fps) AS avg_fps")
                .aggregate("max(latency_ms) AS max_latency_ms"),
        )
        .continuous_aggregate(
            ContinuousAggregate::new("vehicle_detections_hourly", &detections, Interval::hours(1))
                .group_by(["camera_id", "vehicle_class"])
                .aggregate("count(*) AS detections"),
        )
        .hypertable(metrics)
        .hypertable(detections)
        .add(app, "timescaledb")?;
    let mut tenant = MinioTenant::new(STORAGE, "minio").configuration("minio-env-configuration");
    for (user, secret) in users {
        tenant = tenant.user(MinioUser::new(user, secret));
    }
    let minio = tenant
        .bucket(
            MinioBucket::new("its-video")
                .expire_days(30)
                .read_write(["camera-ingest", "inference"])
                .read(["api"]),
        )
        .bucket(MinioBucket::new("its-models").read(["inference"]))
        .bucket(
            MinioBucket::new("its-logs")
                .expire_days(90)
                .read_write(["log-shipper"]),
        )
        .add(app, "minio")?;
    drop(root);
    // The setup Jobs' checkov findings, with their reasons.
    let mut jobs: Vec<(String, &str)> = [&postgres, &timescale]
        .iter()
        .filter_map(|cluster| cluster.init_job().map(|job| (job.to_owned(), DATABASES)))
        .collect();
    jobs.push((minio.setup_job().to_owned(), STORAGE));
    for (job, namespace) in jobs {
        let user = if namespace == STORAGE {
            "mc's 1000"
        } else {
            "CloudNativePG's postgres 26, TimescaleDB's 1000"
        };
        crate::findings::acknowledge_setup_job(stack, namespace, &job, user)?;
    }
    Ok(())
}
