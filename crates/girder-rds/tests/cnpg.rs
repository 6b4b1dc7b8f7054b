#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! CloudNativePG clusters, PgBouncer poolers, init Jobs and TimescaleDB hypertables: the
//! seed's defaults on the objects, every refusal as its variant, the SQL's idempotent
//! forms, and k8scheck --strict-refs over the objects (when ../shared is beside the clone).

use std::path::{Path, PathBuf};

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_rds::timescale::{ContinuousAggregate, Hypertable, Interval};
use girder_rds::{PgBouncer, PoolMode, PostgresCluster, PostgresClusterHandle, RdsError};
use serde_json::json;

const NS: &str = "its-data";
const TIMESCALE_IMAGE: &str = "timescale/timescaledb-ha:pg17.5-ts2.21.0";

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

fn postgres() -> PostgresCluster {
    PostgresCluster::new(NS, "its-postgres")
        .database("its", "its_app")
        .pooler(PgBouncer::new())
        .init_sql(
            "schema",
            "CREATE SCHEMA IF NOT EXISTS its;\n\
             CREATE TABLE IF NOT EXISTS its.cameras (id TEXT PRIMARY KEY, location TEXT);\n\
             CREATE INDEX IF NOT EXISTS cameras_location ON its.cameras (location);\n\
             CREATE OR REPLACE VIEW its.camera_names AS SELECT id FROM its.cameras;\n",
        )
}

fn timescale() -> PostgresCluster {
    let metrics = camera_metrics();
    let detections = vehicle_detections();
    PostgresCluster::new(NS, "its-timescale")
        .timescale(TIMESCALE_IMAGE, 1000)
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
}

fn stack_with(
    clusters: Vec<PostgresCluster>,
) -> girder_core::Result<(Stack, Vec<PostgresClusterHandle>)> {
    let mut stack = Stack::new("data", "dev", Backend::local())?;
    let mut handles = Vec::new();
    {
        let mut scope = stack.scope("k8s")?.with_kube_app("data")?;
        girder_k8s::Namespace::new(NS).add(&mut scope, "namespace")?;
        for (i, cluster) in clusters.into_iter().enumerate() {
            handles.push(cluster.add(&mut scope, &format!("db{i}"))?);
        }
    }
    Ok((stack, handles))
}

fn synth(clusters: Vec<PostgresCluster>) -> (Assembly, Template) {
    let (stack, _) = stack_with(clusters).unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let template = Template::from_assembly(&assembly, "data-dev").unwrap();
    (assembly, template)
}

fn refusal(cluster: PostgresCluster) -> RdsError {
    let err = stack_with(vec![cluster]).unwrap_err();
    err.construct_error::<RdsError>()
        .unwrap_or_else(|| panic!("not an RdsError: {err}"))
        .clone()
}

#[test]
fn cluster_defaults_are_the_seeds() {
    let (_, template) = synth(vec![postgres()]);
    let cluster = template.kube_object("Cluster", "its-postgres");
    assert_eq!(cluster["apiVersion"], "postgresql.cnpg.io/v1");
    let spec = &cluster["spec"];
    // 3 instances: CNPG's primary and two streaming replicas.
    assert_eq!(spec["instances"], 3);
    assert_eq!(
        spec["storage"],
        json!({"size": "100Gi", "storageClass": "gp3"})
    );
    assert_eq!(spec["postgresql"]["parameters"]["max_connections"], "200");
    assert_eq!(spec["enableSuperuserAccess"], false);
    assert_eq!(spec["monitoring"]["enablePodMonitor"], true);
    assert_eq!(
        spec["resources"],
        json!({"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}})
    );
    assert_eq!(
        spec["bootstrap"]["initdb"],
        json!({"database": "its", "owner": "its_app"})
    );
    assert_eq!(spec["imageName"], girder_rds::cnpg::DEFAULT_IMAGE);
    assert!(spec.get("postgresUID").is_none());
}

#[test]
fn pooler_is_pgbouncer_in_front_of_the_primary() {
    let (_, template) = synth(vec![postgres()]);
    let pooler = template.kube_object("Pooler", "its-postgres-pooler-rw");
    assert_eq!(
        pooler["spec"],
        json!({
            "cluster": {"name": "its-postgres"},
            "instances": 2,
            "type": "rw",
            "pgbouncer": {
                "poolMode": "transaction",
                "parameters": {"default_pool_size": "20", "max_client_conn": "200"},
            },
            "monitoring": {"enablePodMonitor": true},
        })
    );
}

#[test]
fn handle_names_the_pooler_host_and_the_app_secret() {
    let (_, handles) = stack_with(vec![postgres(), PostgresCluster::new(NS, "plain")]).unwrap();
    assert_eq!(handles[0].host(), "its-postgres-pooler-rw");
    assert_eq!(handles[0].app_secret(), "its-postgres-app");
    assert!(
        handles[0]
            .init_job()
            .unwrap()
            .starts_with("its-postgres-init-")
    );
    assert_eq!(handles[1].host(), "plain-rw");
    assert!(handles[1].pooler().is_none());
    assert!(handles[1].init_job().is_none());
}

#[test]
fn init_job_applies_the_scripts_with_on_error_stop_as_the_owner() {
    let (_, template) = synth(vec![postgres()]);
    let job_name = template
        .kube_objects()
        .iter()
        .filter(|o| o["kind"] == "Job")
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .next()
        .unwrap();
    assert!(job_name.starts_with("its-postgres-init-"));
    let job = template.kube_object("Job", &job_name);
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let command = container["command"][2].as_str().unwrap();
    assert!(command.contains("psql -v ON_ERROR_STOP=1 -f"), "{command}");
    let env = container["env"].as_array().unwrap();
    let from_secret = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| e["valueFrom"]["secretKeyRef"].clone())
            .unwrap()
    };
    assert_eq!(
        from_secret("PGPASSWORD"),
        json!({"name": "its-postgres-app", "key": "password"})
    );
    assert_eq!(
        from_secret("PGUSER"),
        json!({"name": "its-postgres-app", "key": "username"})
    );
    assert_eq!(container["securityContext"]["runAsUser"], 26);
    // TLS verified against CNPG's own CA.
    let value = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
            .unwrap()
    };
    assert_eq!(value("PGSSLMODE"), "verify-full");
    assert_eq!(value("PGSSLROOTCERT"), "/cnpg-ca/ca.crt");
    assert_eq!(value("PGHOST"), "its-postgres-rw");
    assert!(
        job["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "cnpg-ca", "secret": {"secretName": "its-postgres-ca"}}))
    );
    let config = template.kube_object("ConfigMap", "its-postgres-init-sql");
    assert!(
        config["data"]["01-schema.sql"]
            .as_str()
            .unwrap()
            .starts_with("CREATE SCHEMA IF NOT EXISTS its;")
    );
}

#[test]
fn init_job_name_follows_the_scripts() {
    let name = |sql: &str| {
        let (_, handles) =
            stack_with(vec![PostgresCluster::new(NS, "pg").init_sql("schema", sql)]).unwrap();
        handles[0].init_job().unwrap().to_owned()
    };
    let a = name("CREATE SCHEMA IF NOT EXISTS a;");
    assert_eq!(a, name("CREATE SCHEMA IF NOT EXISTS a;"));
    assert_ne!(a, name("CREATE SCHEMA IF NOT EXISTS b;"));
}

#[test]
fn timescale_cluster_preloads_the_library_and_creates_the_extension() {
    let (_, template) = synth(vec![timescale()]);
    let spec = &template.kube_object("Cluster", "its-timescale")["spec"];
    assert_eq!(spec["imageName"], TIMESCALE_IMAGE);
    assert_eq!(
        spec["postgresql"]["shared_preload_libraries"],
        json!(["timescaledb"])
    );
    assert_eq!(spec["postgresUID"], 1000);
    assert_eq!(spec["postgresGID"], 1000);
    assert_eq!(
        spec["bootstrap"]["initdb"]["postInitApplicationSQL"],
        json!(["CREATE EXTENSION IF NOT EXISTS timescaledb"])
    );
    let config = template.kube_object("ConfigMap", "its-timescale-init-sql");
    let data = config["data"].as_object().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["01-hypertables.sql", "02-continuous-aggregates.sql"]
    );
}

#[test]
fn hypertable_sql_is_idempotent() {
    let sql = camera_metrics().sql();
    assert_eq!(
        sql,
        "CREATE TABLE IF NOT EXISTS camera_metrics (\n  time TIMESTAMPTZ NOT NULL,\n  \
         camera_id TEXT NOT NULL,\n  fps DOUBLE PRECISION,\n  latency_ms DOUBLE PRECISION\n);\n\
         SELECT create_hypertable('camera_metrics', 'time', chunk_time_interval => \
         INTERVAL '1 days', if_not_exists => TRUE);\n\
         DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables \
         WHERE hypertable_name = 'camera_metrics' AND compression_enabled) THEN\n    \
         ALTER TABLE camera_metrics SET (timescaledb.compress, timescaledb.compress_orderby = \
         'time DESC', timescaledb.compress_segmentby = 'camera_id');\n  END IF;\nEND\n$$;\n\
         SELECT add_compression_policy('camera_metrics', INTERVAL '7 days', if_not_exists => true);\n\
         SELECT add_retention_policy('camera_metrics', INTERVAL '30 days', if_not_exists => true);\n"
    );
    let detections = vehicle_detections().sql();
    assert!(detections.contains("chunk_time_interval => INTERVAL '6 hours'"));
    assert!(detections.contains(
        "add_retention_policy('vehicle_detections', INTERVAL '7 days', if_not_exists => true)"
    ));
    assert!(detections.contains(
        "add_compression_policy('vehicle_detections', INTERVAL '1 days', if_not_exists => true)"
    ));
    // Without compression: no ALTER, no compression policy.
    let plain = Hypertable::new("t", "time", Interval::days(3)).sql();
    assert!(!plain.contains("compress"));
}

#[test]
fn continuous_aggregate_sql_is_idempotent() {
    let view = ContinuousAggregate::new(
        "camera_metrics_hourly",
        &camera_metrics(),
        Interval::hours(1),
    )
    .group_by(["camera_id"])
    .aggregate("avg(fps) AS avg_fps");
    assert_eq!(
        view.sql(),
        "CREATE MATERIALIZED VIEW IF NOT EXISTS camera_metrics_hourly\n\
         WITH (timescaledb.continuous) AS\n\
         SELECT time_bucket(INTERVAL '1 hours', time) AS bucket, camera_id, avg(fps) AS avg_fps\n\
         FROM camera_metrics\nGROUP BY bucket, camera_id\nWITH NO DATA;\n\
         SELECT add_continuous_aggregate_policy('camera_metrics_hourly', start_offset => \
         INTERVAL '3 days', end_offset => INTERVAL '1 hours', schedule_interval => \
         INTERVAL '1 hours', if_not_exists => true);\n"
    );
}

#[test]
fn a_pool_above_max_connections_is_refused() {
    // 2 pooler pods x 100 = 200 server connections, above 200 - 3 reserved.
    let err = refusal(postgres().pooler(PgBouncer::new().default_pool_size(100)));
    assert_eq!(
        err,
        RdsError::PoolAboveMaxConnections {
            instances: 2,
            pool_size: 100,
            total: 200,
            max_connections: 200,
        }
    );
    // Raising max_connections makes room.
    assert!(
        stack_with(vec![
            postgres().max_connections(300).pooler(
                PgBouncer::new()
                    .default_pool_size(100)
                    .pool_mode(PoolMode::Session)
            ),
        ])
        .is_ok()
    );
}

#[test]
fn pooler_settings_of_zero_are_refused() {
    assert_eq!(
        refusal(postgres().pooler(PgBouncer::new().max_client_conn(0))),
        RdsError::PoolSetting {
            setting: "max_client_conn",
            value: 0
        }
    );
}

#[test]
fn cluster_settings_out_of_range_are_refused() {
    assert_eq!(refusal(postgres().instances(0)), RdsError::Instances(0));
    assert_eq!(
        refusal(postgres().max_connections(5)),
        RdsError::MaxConnections(5)
    );
    assert_eq!(
        refusal(postgres().storage(0, "gp3")),
        RdsError::StorageSize(0)
    );
    assert_eq!(
        refusal(postgres().parameter("max_connections", "500")),
        RdsError::TypedParameter("max_connections".into())
    );
    assert!(matches!(
        refusal(postgres().database("Its", "its_app")),
        RdsError::Name {
            what: "database",
            ..
        }
    ));
}

#[test]
fn scripts_that_are_not_idempotent_are_refused() {
    for (sql, statement) in [
        ("CREATE TABLE t (id int);", "CREATE TABLE t (id int);"),
        ("create index i on t (id);", "create index i on t (id);"),
        ("CREATE VIEW v AS SELECT 1;", "CREATE VIEW v AS SELECT 1;"),
        ("CREATE ROLE reader;", "CREATE ROLE reader;"),
    ] {
        assert_eq!(
            refusal(PostgresCluster::new(NS, "pg").init_sql("bad", sql)),
            RdsError::NotIdempotent {
                script: "bad".into(),
                statement: statement.into()
            }
        );
    }
    // A role made inside a DO block that checks first is accepted.
    let role = "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reader') THEN\n    \
                CREATE ROLE reader;\n  END IF;\nEND\n$$;\n";
    assert!(stack_with(vec![PostgresCluster::new(NS, "pg").init_sql("roles", role)]).is_ok());
    assert_eq!(
        refusal(
            PostgresCluster::new(NS, "pg")
                .init_sql("a", "SELECT 1;")
                .init_sql("a", "SELECT 2;")
        ),
        RdsError::ScriptName("a".into())
    );
}

#[test]
fn retention_not_longer_than_compression_is_refused() {
    let table = Hypertable::new("vehicle_detections", "time", Interval::days(7))
        .compress_after(Interval::days(7));
    let err = refusal(timescale().hypertable(table.clone()));
    assert_eq!(
        err,
        RdsError::RetentionWithinCompression {
            table: "vehicle_detections".into(),
            retention: "7 days".into(),
            compress_after: "7 days".into(),
        }
    );
    assert_eq!(table.check(), Err(err));
    // Shorter, across units: 1 day of retention, compressed after 36 hours.
    assert!(matches!(
        Hypertable::new("t", "time", Interval::days(1))
            .compress_after(Interval::hours(36))
            .check(),
        Err(RdsError::RetentionWithinCompression { .. })
    ));
}

#[test]
fn zero_intervals_are_refused() {
    assert_eq!(
        Hypertable::new("t", "time", Interval::days(0)).check(),
        Err(RdsError::NonPositiveInterval {
            what: "retention",
            object: "t".into()
        })
    );
    assert_eq!(
        Hypertable::new("t", "time", Interval::days(3))
            .chunk_interval(Interval::hours(0))
            .check(),
        Err(RdsError::NonPositiveInterval {
            what: "chunk interval",
            object: "t".into()
        })
    );
    assert_eq!(
        ContinuousAggregate::new("v", &camera_metrics(), Interval::hours(0)).check(),
        Err(RdsError::NonPositiveInterval {
            what: "bucket",
            object: "v".into()
        })
    );
}

#[test]
fn hypertable_and_aggregate_mistakes_are_refused() {
    assert!(matches!(
        camera_metrics().segment_by(["lane"]).check(),
        Err(RdsError::UnknownColumn { column, .. }) if column == "lane"
    ));
    assert_eq!(
        refusal(PostgresCluster::new(NS, "pg").hypertable(camera_metrics())),
        RdsError::TimescaleNotEnabled("camera_metrics".into())
    );
    let other = Hypertable::new("other", "time", Interval::days(10));
    assert_eq!(
        refusal(timescale().continuous_aggregate(ContinuousAggregate::new(
            "other_daily",
            &other,
            Interval::hours(1)
        ))),
        RdsError::UnknownHypertable {
            view: "other_daily".into(),
            table: "other".into()
        }
    );
    // A refresh window of one bucket: TimescaleDB wants two.
    assert!(matches!(
        ContinuousAggregate::new("v", &camera_metrics(), Interval::days(1))
            .refresh(Interval::days(2), Interval::days(1), Interval::hours(1))
            .check(),
        Err(RdsError::RefreshWindow { .. })
    ));
    // Refreshing from further back than the 7 days of detections kept.
    assert_eq!(
        ContinuousAggregate::new("v", &vehicle_detections(), Interval::hours(1))
            .refresh(Interval::days(7), Interval::hours(1), Interval::hours(1))
            .check(),
        Err(RdsError::RefreshBeyondRetention {
            view: "v".into(),
            start: "7 days".into(),
            retention: "7 days".into()
        })
    );
}

#[test]
fn k8scheck_accepts_the_clusters() {
    let k8scheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/k8scheck/k8scheck");
    if !k8scheck.exists() {
        eprintln!("skipped: ../shared/tools/k8scheck is not beside this clone");
        return;
    }
    let (assembly, _) = synth(vec![postgres(), timescale()]);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-rds-cnpg");
    let _ = std::fs::remove_dir_all(&out);
    assembly.write(&out).unwrap();
    // CNPG writes `<cluster>-app` and `<cluster>-ca`; k8scheck does not know the
    // operator, girder's own reference check does (the Cluster kind provides them).
    let mut command = std::process::Command::new(k8scheck);
    command.arg("--strict-refs");
    for cluster in ["its-postgres", "its-timescale"] {
        for secret in ["app", "ca"] {
            command
                .arg("--external")
                .arg(format!("Secret/{NS}/{cluster}-{secret}"));
        }
    }
    let output = command.arg(out.join("kubernetes")).output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "k8scheck:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains(" 0 problems"), "{report}");
}
