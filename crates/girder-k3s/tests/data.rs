#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! What goes wrong with the data and the deploys, modelled: K3s losing its datastore
//! when RDS rotates the master password, deploys that never delete what left the bucket
//! or apply objects before their CRDs, container logs of which only the newest file is
//! shipped.

mod common;

use common::{file, run, scratch, stubs, write_files};
use girder_aws::aws;
use girder_core::Value;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::{Arn, SsmPath};
use girder_iam::{Access, PolicyDocument};
use girder_k3s::{
    CloudInit, DatabaseUser, ECR_CREDENTIAL_PROVIDER, K3sNode, NamespaceLogs, agent_config,
    database_users_sql, render_cloud_init,
};
use girder_network::Vpc;
use girder_rds::Postgres;
use girder_storage::{Bucket, BucketName};
use serde_json::Value as Json;

fn users() -> Vec<DatabaseUser> {
    vec![
        DatabaseUser {
            name: "k3s_state".into(),
            database: "k3s_state".into(),
            secret: "pixtools-dev/users/k3s_state".into(),
        },
        DatabaseUser {
            name: "pixtools".into(),
            database: "pixtools".into(),
            secret: "pixtools-dev/users/pixtools".into(),
        },
    ]
}

fn cloud_init() -> CloudInit {
    CloudInit {
        name: "pixtools-dev".into(),
        token_parameter: "/pixtools/dev/k3s/token".into(),
        db_host_parameter: "/pixtools/dev/db/host".into(),
        db_port_parameter: "/pixtools/dev/db/port".into(),
        db_username_parameter: "/pixtools/dev/db/username".into(),
        db_secret_parameter: "/pixtools/dev/db/master-secret-arn".into(),
        datastore_database: "k3s_state".into(),
        k3s_version: "v1.36.4+k3s1".into(),
        manifests_bucket: Some("pixtools-manifests-111111111111-us-east-1".into()),
        manifests_prefix: "manifests/".into(),
        log_group: "/pixtools-dev/k3s".into(),
        bundled_traefik: true,
        ecr_credential_provider: Some(ECR_CREDENTIAL_PROVIDER.into()),
        boot_attempts: 4,
        boot_retry_seconds: 15,
        start_timeout_seconds: 600,
        database_users: users(),
        datastore_user: Some("k3s_state".into()),
        namespace_logs: vec![NamespaceLogs {
            namespace: "pixtools".into(),
            log_group: "/pixtools/dev/app".into(),
        }],
        pod_identity: None,
    }
}

/// Every SQL statement of the users' script, one per line.
fn statements(sql: &str) -> Vec<&str> {
    sql.lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
        .collect()
}

#[test]
fn the_boot_sql_is_idempotent_and_grants_nothing_more() {
    let sql = database_users_sql(&users());
    for statement in statements(&sql) {
        // Creations only when missing; the rest may run again as they are.
        let allowed = statement.starts_with("\\getenv girder_password GIRDER_DB_PASSWORD_")
            || statement == "\\unset girder_password"
            || (statement.starts_with("SELECT 'CREATE ")
                && statement.contains("WHERE NOT EXISTS")
                && statement.ends_with("\\gexec"))
            || statement.starts_with("ALTER ROLE ")
            || statement.starts_with("ALTER DATABASE ")
            || statement.starts_with("REVOKE ALL ON DATABASE ")
            || statement.starts_with("GRANT ")
            || statement.starts_with("\\connect ")
            || (statement.starts_with("SELECT format('ALTER TABLE %I.%I OWNER TO ")
                && statement.ends_with(
                    "FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user\\gexec"
                ));
        assert!(allowed, "{statement}");
    }
    for user in ["k3s_state", "pixtools"] {
        let mine: Vec<&str> = statements(&sql)
            .into_iter()
            .filter(|s| s.contains(user))
            .collect();
        assert!(mine.contains(&&*format!(
            "SELECT 'CREATE ROLE {user}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}')\\gexec"
        )), "{mine:?}");
        // Least privilege, stated on every boot (a role changed by hand is put back).
        assert!(mine.contains(&&*format!(
            "ALTER ROLE {user} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'girder_password';"
        )), "{mine:?}");
        // It owns its database and no one else may connect to it.
        assert!(mine.contains(&&*format!("SELECT 'CREATE DATABASE {user} OWNER {user}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{user}')\\gexec")), "{mine:?}");
        assert!(mine.contains(&&*format!("ALTER DATABASE {user} OWNER TO {user};")));
        assert!(mine.contains(&&*format!("REVOKE ALL ON DATABASE {user} FROM PUBLIC;")));
        // What the master made in it before (a datastore, an app schema) becomes the
        // user's: its own database only.
        let connect = mine
            .iter()
            .position(|s| *s == format!("\\connect {user}"))
            .unwrap();
        assert!(mine[connect + 1].contains(&format!("OWNER TO {user}', schemaname, tablename)")));
    }
    // The only grant makes the master a member of the users (to give them their
    // databases); the users are granted nothing.
    let grants: Vec<&str> = statements(&sql)
        .into_iter()
        .filter(|s| s.starts_with("GRANT "))
        .collect();
    assert_eq!(
        grants,
        [
            "GRANT k3s_state TO CURRENT_USER;",
            "GRANT pixtools TO CURRENT_USER;"
        ]
    );
    // No password in the file: psql reads it from the environment.
    assert!(!sql.contains("PASSWORD '"), "{sql}");
}

/// `aws` answering as SSM and Secrets Manager would: each user's secret, the master's.
const AWS: &str = r#"echo "aws $*" >> "$STUB_LOG"
case "$*" in
  *users/k3s_state*) echo '{"username": "k3s_state", "password": "k3spw"}' ;;
  *users/pixtools*) echo '{"username": "pixtools", "password": "apppw"}' ;;
  *secretsmanager*) echo '{"password": "master"}' ;;
  *db/username*) echo pixtools_admin ;;
  *db/host*) echo db.internal ;;
  *db/port*) echo 5432 ;;
  *db/master-secret-arn*) echo 'arn:aws:secretsmanager:us-east-1:111111111111:secret:rds!db-1' ;;
  *) echo value ;;
esac"#;

#[test]
fn the_users_script_runs_the_sql_as_the_master_with_each_users_password() {
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    // The SQL file is the one database_users_sql renders.
    assert_eq!(
        file(&files, "/usr/local/share/girder-k3s/database-users.sql").trim_end(),
        database_users_sql(&users()).trim_end()
    );
    let script = file(&files, "/usr/local/sbin/girder-k3s-database-users");
    let dir = scratch("db-users");
    stubs(
        &dir,
        &[
            ("curl", "echo value"),
            ("aws", AWS),
            (
                "psql",
                r#"echo "psql host=$PGHOST port=$PGPORT db=$PGDATABASE user=$PGUSER password=$PGPASSWORD sslmode=$PGSSLMODE k3s=$GIRDER_DB_PASSWORD_k3s_state app=$GIRDER_DB_PASSWORD_pixtools $*" >> "$STUB_LOG""#,
            ),
            ("sleep", "true"),
        ],
    );
    let (ok, log) = run(&dir, &script);
    assert!(ok, "{log}");
    let psql: Vec<&str> = log.lines().filter(|l| l.starts_with("psql")).collect();
    assert_eq!(
        psql,
        [
            "psql host=db.internal port=5432 db=postgres user=pixtools_admin password=master \
          sslmode=require k3s=k3spw app=apppw \
          -X -q -v ON_ERROR_STOP=1 -f /usr/local/share/girder-k3s/database-users.sql"
        ]
    );
    // A timer runs it again, so a changed password reaches PostgreSQL without a reboot.
    let timer = file(
        &files,
        "/etc/systemd/system/girder-k3s-database-users.timer",
    );
    assert!(timer.contains("OnUnitActiveSec=5min"), "{timer}");
    let document: Json =
        serde_norway::from_str(&render_cloud_init(&cloud_init()).unwrap()).unwrap();
    assert!(
        document["runcmd"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!([
                "systemctl",
                "enable",
                "--now",
                "girder-k3s-database-users.timer"
            ]))
    );
}

#[test]
fn k3s_connects_as_its_own_user_and_never_reads_the_master_password() {
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    let bootstrap = file(&files, "/usr/local/sbin/girder-k3s-bootstrap")
        .replace("/usr/local/sbin/girder-k3s-sync-manifests", "true")
        .replace(
            "/usr/local/sbin/girder-k3s-database-users",
            "database-users",
        );
    let dir = scratch("k3s-user");
    stubs(
        &dir,
        &[
            ("curl", "echo value"),
            ("aws", AWS),
            ("database-users", r#"echo "database-users" >> "$STUB_LOG""#),
            ("sleep", "true"),
            (
                "env",
                r#"echo "install endpoint=$K3S_DATASTORE_ENDPOINT $*" >> "$STUB_LOG""#,
            ),
            ("chmod", "true"),
            ("mkdir", "true"),
            ("timeout", "true"),
            ("kubectl", "true"),
            ("systemctl", "true"),
        ],
    );
    let (ok, log) = run(&dir, &bootstrap);
    assert!(ok, "{log}");
    let lines: Vec<&str> = log.lines().collect();
    let users = lines.iter().position(|l| *l == "database-users").unwrap();
    let install = lines.iter().position(|l| l.starts_with("install")).unwrap();
    // The users exist before K3s connects as its own.
    assert!(users < install, "{log}");
    assert!(
        lines[install].starts_with(
            "install endpoint=postgres://k3s_state:k3spw@db.internal:5432/k3s_state?sslmode=require "
        ),
        "{log}"
    );
    // The bootstrap reads K3s's secret, not the master's (the script alone does).
    let secrets: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains("secretsmanager"))
        .copied()
        .collect();
    assert_eq!(secrets.len(), 1, "{log}");
    assert!(
        secrets[0].contains("--secret-id pixtools-dev/users/k3s_state"),
        "{log}"
    );
    assert!(!log.contains("master-secret-arn"), "{log}");
}

/// The node beside its database, with K3s's and the app's users.
fn node_policy() -> (Template, PolicyDocument, Vec<Value<String>>, Value<String>) {
    let mut stack = Stack::new("compute", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .require_provider(girder_aws::random::requirement())
        .unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let database = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .add(&mut scope, "database")
        .unwrap();
    let published = database
        .publish_to_ssm(
            &mut scope,
            "settings",
            &SsmPath::new("/pixtools/dev/db").unwrap(),
        )
        .unwrap();
    let k3s = database
        .user(&mut scope, "k3s-user", "k3s_state", "k3s_state")
        .unwrap();
    let app = database
        .user(&mut scope, "app-user", "pixtools", "pixtools")
        .unwrap();
    let app_logs = scope
        .add(
            "app-logs",
            aws::CloudwatchLogGroup::new().name("/pixtools/dev/app"),
        )
        .unwrap();
    let manifests = Bucket::new(BucketName::literal(
        "pixtools-manifests-111111111111-us-east-1",
    ))
    .add(&mut scope, "manifests")
    .unwrap();
    let node = K3sNode::new(
        &vpc,
        &published,
        "pixtools-dev",
        ["m7i-flex.large"],
        &SsmPath::new("/pixtools/dev").unwrap(),
        "v1.36.4+k3s1",
    )
    .datastore_user(&k3s)
    .database_user(&app)
    .namespace_logs("pixtools", &app_logs, "/pixtools/dev/app")
    .manifests_from(&manifests)
    .add(&mut scope, "k3s")
    .unwrap();
    let policy = node.policy().clone();
    let secrets = vec![
        Arn::attribute(k3s.master_secret_arn()).value(),
        Arn::attribute(k3s.secret_arn()).value(),
        Arn::attribute(app.secret_arn()).value(),
    ];
    let app_logs = Arn::attribute(app_logs.arn()).join(":*").value();
    (
        Template::from_stack(stack).unwrap(),
        policy,
        secrets,
        app_logs,
    )
}

#[test]
fn the_node_role_reads_exactly_the_master_secret_and_the_users_secrets() {
    let (t, policy, secrets, app_logs) = node_policy();
    for secret in &secrets {
        assert!(
            matches!(
                policy.access("secretsmanager:GetSecretValue", secret),
                Access::Allowed
            ),
            "{secret:?}"
        );
    }
    for other in [
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:rds!db-other",
        "arn:aws:secretsmanager:us-east-1:111111111111:secret:pixtools-dev/users/other",
    ] {
        assert!(
            matches!(
                policy.access(
                    "secretsmanager:GetSecretValue",
                    &Value::Literal(other.into())
                ),
                Access::Denied
            ),
            "{other}"
        );
    }
    // Each user's password is generated by Terraform (sensitive) into its own secret,
    // named at synth.
    let names: Vec<String> = t
        .resources("aws_secretsmanager_secret")
        .iter()
        .map(|(_, p)| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"pixtools-dev/users/k3s_state".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"pixtools-dev/users/pixtools".to_owned()),
        "{names:?}"
    );
    assert_eq!(t.resources("random_password").len(), 2);
    // The group waits for the users' secrets (the boot reads them).
    let group = t.resource("aws_autoscaling_group", "k3s_group");
    let depends_on = group["depends_on"].as_array().unwrap();
    for secret in [
        ".k3s_user_secret",
        "k3s_user_secret_version",
        "app_user_secret_version",
    ] {
        assert!(
            depends_on
                .iter()
                .any(|d| d.as_str().unwrap().ends_with(secret)),
            "{secret}: {depends_on:?}"
        );
    }
    // The agent may write to the app's group.
    assert!(matches!(
        policy.access("logs:PutLogEvents", &app_logs),
        Access::Allowed
    ));
}

#[test]
fn every_container_log_file_is_a_stream_of_its_own_and_the_apps_go_to_the_app_group() {
    let config: Json = serde_json::from_str(&agent_config(&cloud_init())).unwrap();
    let files = config["logs"]["logs_collected"]["files"]["collect_list"]
        .as_array()
        .unwrap();
    let containers: Vec<&Json> = files
        .iter()
        .filter(|f| {
            f["file_path"]
                .as_str()
                .unwrap()
                .starts_with("/var/log/containers/")
        })
        .collect();
    // A wildcard ships only its newest file unless each file is published on its own.
    for entry in &containers {
        assert_eq!(entry["publish_multi_logs"], true, "{entry}");
        // A new pod's file, found after the agent started, is read from its first line.
        assert_eq!(entry["from_beginning"], true, "{entry}");
    }
    let app = containers
        .iter()
        .find(|f| f["log_group_name"] == "/pixtools/dev/app")
        .unwrap();
    assert_eq!(app["file_path"], "/var/log/containers/*_pixtools_*.log");
    let node = containers
        .iter()
        .find(|f| f["log_group_name"] == "/pixtools-dev/k3s")
        .unwrap();
    assert_eq!(node["file_path"], "/var/log/containers/*.log");
    // The app's files are not shipped twice.
    let skip = regex_lite_match(node["blacklist"].as_str().unwrap());
    assert!(skip("api-5d9c_pixtools_api-0123.log"));
    assert!(!skip("traefik-1_kube-system_traefik-0123.log"));
    // The rendered cloud-init carries this configuration.
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    let written: Json = serde_json::from_str(&file(
        &files,
        "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json",
    ))
    .unwrap();
    assert_eq!(written, config);
}

/// The one shape of blacklist the agent config uses, `^[^_]+_(a|b)_`, as a predicate.
fn regex_lite_match(pattern: &str) -> impl Fn(&str) -> bool {
    let inner = pattern
        .strip_prefix("^[^_]+_(")
        .and_then(|p| p.strip_suffix(")_"))
        .unwrap()
        .split('|')
        .map(str::to_owned)
        .collect::<Vec<_>>();
    move |name: &str| {
        name.split_once('_').is_some_and(|(pod, rest)| {
            !pod.is_empty() && inner.iter().any(|ns| rest.starts_with(&format!("{ns}_")))
        })
    }
}

/// A fake cluster for the sync script: `kubectl` keeps each applyset's objects in a
/// file, refuses (dry run or not) an ExternalSecret while its CRD is not established,
/// and the CRD becomes established at the second `kubectl wait` after the HelmChart
/// installing it was applied (the Helm controller takes a while).
const KUBECTL: &str = r#"
state="$STUB_DIR/cluster"; mkdir -p "$state"
args="$*"
case "$1" in
  wait)
    if [ -f "$state/helmchart" ]; then
      n=$(cat "$state/waits" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$state/waits"
      [ "$n" -ge 2 ] && touch "$state/crd-established"
    fi
    echo "kubectl wait" >> "$STUB_LOG"; exit 0 ;;
  rollout)
    file="${@: -1}"
    echo "kubectl rollout status $(basename "$file")" >> "$STUB_LOG"
    # A Deployment whose pods never become ready (an image that cannot be pulled).
    [ -f "$STUB_DIR/broken-rollout" ] && grep -q 'name: api' "$file" && exit 1
    exit 0 ;;
  apply)
    dir="${@: -1}"
    objects=$(cd "$dir" && find . -type f -name '*.yaml' | sort | sed 's|^\./||')
    # As kubectl: with --namespace, an object of another namespace is refused.
    ns=$(echo "$args" | sed -nE 's/.*--namespace ([^ ]+).*/\1/p')
    if [ -n "$ns" ]; then
      for f in $(find "$dir" -type f -name '*.yaml'); do
        own=$(awk '/^  namespace: / { print $2; exit }' "$f")
        if [ -n "$own" ] && [ "$own" != "$ns" ]; then
          echo "kubectl refused: the namespace $own does not match $ns" >> "$STUB_LOG"; exit 1
        fi
      done
    fi
    if grep -rqE '^kind: ExternalSecret$' "$dir" && [ ! -f "$state/crd-established" ]; then
      echo "kubectl refused: no matches for kind ExternalSecret" >> "$STUB_LOG"; exit 1
    fi
    case "$args" in *--dry-run=server*) echo "kubectl dry-run ok" >> "$STUB_LOG"; exit 0 ;; esac
    set=$ns-$(echo "$args" | sed -E 's/.*--applyset=secret\/([^ ]+).*/\1/')
    for old in $(cat "$state/set-$set" 2>/dev/null); do
      echo "$objects" | grep -qx "$old" || echo "kubectl delete $old" >> "$STUB_LOG"
    done
    for o in $objects; do echo "kubectl apply $o" >> "$STUB_LOG"; done
    grep -rqE '^kind: HelmChart$' "$dir" && touch "$state/helmchart"
    echo "$objects" > "$state/set-$set" ;;
esac
"#;

#[test]
fn the_sync_prunes_what_left_the_bucket_and_applies_objects_after_their_crds() {
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    let sync = file(&files, "/usr/local/sbin/girder-k3s-sync-manifests");
    let dir = scratch("sync");
    let root = dir.join("root");
    // The script's paths, under the scratch directory.
    let sync = sync
        .replace(
            "/var/lib/girder-k3s",
            &root.join("girder").display().to_string(),
        )
        .replace(
            "/var/lib/rancher",
            &root.join("rancher").display().to_string(),
        );
    let bucket = dir.join("bucket");
    let put = |path: &str, text: &str| {
        let path = bucket.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    // As girder writes them: objects of several namespaces, and cluster-scoped ones.
    put(
        "platform/helmchart-external-secrets.yaml",
        "apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata:\n  name: external-secrets\n  namespace: kube-system\n",
    );
    put(
        "config/externalsecret-pixtools-runtime.yaml",
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: pixtools-runtime\n  namespace: pixtools\n",
    );
    put(
        "api/deployment-api.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: pixtools\n",
    );
    put(
        "api/service-old.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: old\n  namespace: pixtools\n",
    );
    put(
        "monitoring/configmap-dashboard.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dashboard\n  namespace: monitoring\n",
    );
    put(
        "platform/storageclass-ebs-gp3.yaml",
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: ebs-gp3\n",
    );
    put("kustomization.yaml", "resources: []\n");
    stubs(
        &dir,
        &[
            ("curl", "echo value"),
            // s3 sync --delete: the local tree becomes the bucket's, kustomizations excluded.
            (
                "aws",
                r#"dest="${@: -1}"; rm -rf "$dest"; mkdir -p "$dest"; cp -r "$STUB_DIR/bucket/." "$dest"; find "$dest" -name '*kustomization.yaml' -delete"#,
            ),
            ("kubectl", KUBECTL),
            ("sleep", r#"echo "sleep" >> "$STUB_LOG""#),
        ],
    );
    let (ok, log) = run(&dir, &sync);
    assert!(ok, "{log}");
    let lines: Vec<&str> = log.lines().collect();
    let at = |what: &str| {
        lines
            .iter()
            .position(|l| *l == what)
            .unwrap_or_else(|| panic!("no {what:?} in {log}"))
    };
    let helmchart = at("kubectl apply platform/helmchart-external-secrets.yaml");
    let external_secret = at("kubectl apply config/externalsecret-pixtools-runtime.yaml");
    // The HelmChart first, then the wait for its CRDs, then the objects needing them.
    assert!(helmchart < external_secret, "{log}");
    let last_wait = lines.iter().rposition(|l| *l == "kubectl wait").unwrap();
    assert!(
        helmchart < last_wait && last_wait < external_secret,
        "{log}"
    );
    assert!(!log.contains("kustomization"), "{log}");
    assert!(!log.contains("delete"), "{log}");
    // Every namespace's objects, and the cluster-scoped one, were applied (kubectl
    // refuses a mixed set under one --namespace).
    for object in [
        "monitoring/configmap-dashboard.yaml",
        "platform/storageclass-ebs-gp3.yaml",
        "api/deployment-api.yaml",
    ] {
        assert!(
            log.lines().any(|l| l == format!("kubectl apply {object}")),
            "{object}: {log}"
        );
    }
    assert!(!log.contains("refused: the namespace"), "{log}");
    // K3s's deploy directory is gone: only kubectl applies.
    assert!(!root.join("rancher/k3s/server/manifests/girder").exists());

    // A deploy that removed a manifest: its file and its object go.
    std::fs::remove_file(bucket.join("api/service-old.yaml")).unwrap();
    let (ok, log) = run(&dir, &sync);
    assert!(ok, "{log}");
    assert!(
        log.lines()
            .any(|l| l == "kubectl delete api/service-old.yaml"),
        "{log}"
    );
    assert_eq!(log.matches("delete").count(), 1, "{log}");
    assert!(!root.join("girder/manifests/api/service-old.yaml").exists());
    assert!(
        root.join("girder/manifests/api/deployment-api.yaml")
            .exists()
    );
}

#[test]
fn a_deploy_waits_for_its_rollouts_and_fails_when_one_does_not_finish() {
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    let sync = file(&files, "/usr/local/sbin/girder-k3s-sync-manifests");
    let dir = scratch("sync-wait");
    let root = dir.join("root");
    let sync = sync
        .replace(
            "/var/lib/girder-k3s",
            &root.join("girder").display().to_string(),
        )
        .replace(
            "/var/lib/rancher",
            &root.join("rancher").display().to_string(),
        );
    let bucket = dir.join("bucket");
    for (path, text) in [
        (
            "api/deployment-api.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n",
        ),
        (
            "rabbitmq/statefulset-rabbitmq.yaml",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: rabbitmq\n",
        ),
        ("api/service-api.yaml", "apiVersion: v1\nkind: Service\n"),
    ] {
        let path = bucket.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    stubs(
        &dir,
        &[
            ("curl", "echo value"),
            (
                "aws",
                r#"dest="${@: -1}"; rm -rf "$dest"; mkdir -p "$dest"; cp -r "$STUB_DIR/bucket/." "$dest""#,
            ),
            ("kubectl", KUBECTL),
            ("sleep", r#"echo "sleep" >> "$STUB_LOG""#),
        ],
    );
    // The deploy (the SSM document's `--wait`): every rollout is waited for, the
    // Service is not (it has none).
    let with_wait =
        |script: &str| script.replacen("#!/bin/bash\n", "#!/bin/bash\nset -- --wait\n", 1);
    let (ok, log) = run(&dir, &with_wait(&sync));
    assert!(ok, "{log}");
    let waited: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("kubectl rollout status"))
        .collect();
    assert_eq!(
        waited,
        [
            "kubectl rollout status deployment-api.yaml",
            "kubectl rollout status statefulset-rabbitmq.yaml"
        ],
        "{log}"
    );
    // A rollout that never finishes fails the deploy (CD sees it, and rolls back), after
    // the others were still waited for.
    std::fs::write(dir.join("broken-rollout"), "").unwrap();
    let (ok, log) = run(&dir, &with_wait(&sync));
    assert!(!ok, "{log}");
    assert!(
        log.contains("kubectl rollout status statefulset-rabbitmq.yaml"),
        "{log}"
    );
    // The boot's sync does not wait: a bad image must not fail the boot (and make the
    // group replace the node in a loop).
    let (ok, log) = run(&dir, &sync);
    assert!(ok, "{log}");
    assert!(!log.contains("rollout"), "{log}");
}
