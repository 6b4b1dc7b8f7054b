//! The node's cloud-init, rendered from `templates/cloud-init.yaml.hbs`.

use girder_core::vocabulary::SsmPath;
use handlebars::Handlebars;
use serde::Serialize;

use crate::error::K3sError;

const TEMPLATE: &str = include_str!("../templates/cloud-init.yaml.hbs");

/// What the cloud-init template needs: names only, no secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CloudInit {
    /// The node's name.
    pub name: String,
    /// The SSM parameter holding the cluster token (`/pixtools/dev/k3s/token`).
    pub token_parameter: String,
    /// The SSM parameters of the datastore: host, port, user and the ARN of the secret
    /// holding the password (girder-rds's `PostgresParameters`).
    pub db_host_parameter: String,
    /// See `db_host_parameter`.
    pub db_port_parameter: String,
    /// See `db_host_parameter`.
    pub db_username_parameter: String,
    /// See `db_host_parameter`.
    pub db_secret_parameter: String,
    /// The datastore database (`k3s_state`).
    pub datastore_database: String,
    /// The K3s release (`v1.36.4+k3s1`).
    pub k3s_version: String,
    /// The bucket manifests are synced from at boot, if any.
    pub manifests_bucket: Option<String>,
    /// The key prefix in it.
    pub manifests_prefix: String,
    /// The CloudWatch log group the agent ships to.
    pub log_group: String,
    /// Keep the Traefik ingress controller K3s ships (otherwise disabled).
    pub bundled_traefik: bool,
    /// The `ecr-credential-provider` release (`v1.29.0`) the kubelet pulls private ECR
    /// images with, if the node pulls from ECR.
    pub ecr_credential_provider: Option<String>,
    /// How many times each read and download at boot is tried (at least 1).
    pub boot_attempts: u16,
    /// Seconds between two tries.
    pub boot_retry_seconds: u16,
    /// Seconds K3s may take to start before the boot fails.
    pub start_timeout_seconds: u16,
    /// Database users of their own the node creates (or updates) at boot with the master
    /// password ([`database_users_sql`]); empty: none.
    pub database_users: Vec<DatabaseUser>,
    /// The one of `database_users` K3s connects as (its database is
    /// `datastore_database`); `None`: the master user.
    pub datastore_user: Option<String>,
    /// Namespaces whose containers' logs go to a log group of their own (the app's),
    /// not the node's.
    pub namespace_logs: Vec<NamespaceLogs>,
    /// The service-account issuer K3s signs tokens as, and the bucket the node publishes
    /// its discovery documents to; `None`: K3s's in-cluster issuer only.
    pub pod_identity: Option<PodIdentityBoot>,
}

/// K3s's service-account issuer, published: `issuer` is
/// `https://<bucket>.s3.<region>.amazonaws.com`, where the node writes
/// `.well-known/openid-configuration` and `keys.json` at boot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodIdentityBoot {
    /// The issuer URL (no trailing `/`).
    pub issuer: String,
    /// The bucket holding the two documents.
    pub bucket: String,
}

/// A database user the node creates at boot: role `name`, owner of database `database`,
/// its password read from Secrets Manager secret `secret` (a name or ARN known at synth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DatabaseUser {
    /// The role.
    pub name: String,
    /// The database it owns.
    pub database: String,
    /// The secret holding its password (JSON with a `password` key, as RDS writes).
    pub secret: String,
}

/// The containers of Kubernetes namespace `namespace` log to CloudWatch group
/// `log_group`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamespaceLogs {
    /// The namespace.
    pub namespace: String,
    /// The log group.
    pub log_group: String,
}

/// The SQL the node runs at boot as the master user (psql, `ON_ERROR_STOP`), for each
/// user: the role if missing, then its attributes and password (from the environment
/// variable `GIRDER_DB_PASSWORD_<name>`, read by psql, never on a command line): login,
/// no superuser, no CREATEDB, no CREATEROLE, no replication, no RLS bypass; the master
/// made a member (PostgreSQL 16 lets a role create a database for another only if it
/// may SET ROLE to it); the database if missing, owned by the user; the database closed
/// to PUBLIC, so no other user (the other users included) may connect; then, in that
/// database, the tables the master user created in schema `public` (with their
/// sequences) given to the user, so a datastore or app schema made as the master before
/// keeps working. Every statement may run again: a replacement node, a reboot.
pub fn database_users_sql(users: &[DatabaseUser]) -> String {
    let mut sql = String::from(
        "-- Database users of their own, written by girder: run as the master user at boot.\n",
    );
    for DatabaseUser { name, database, .. } in users {
        sql.push_str(&format!(
            "\\getenv girder_password GIRDER_DB_PASSWORD_{name}\n\
             SELECT 'CREATE ROLE {name}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}')\\gexec\n\
             ALTER ROLE {name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'girder_password';\n\
             \\unset girder_password\n\
             GRANT {name} TO CURRENT_USER;\n\
             SELECT 'CREATE DATABASE {database} OWNER {name}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec\n\
             ALTER DATABASE {database} OWNER TO {name};\n\
             REVOKE ALL ON DATABASE {database} FROM PUBLIC;\n\
             \\connect {database}\n\
             SELECT format('ALTER TABLE %I.%I OWNER TO {name}', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user\\gexec\n"
        ));
    }
    sql
}

/// The CloudWatch agent's configuration: cloud-init's output, then every container's
/// log file as a stream of its own (`publish_multi_logs`: a wildcard alone would ship
/// only the newest file; the stream is `<instance id>_<path>`), read from its first line
/// (`from_beginning`: a file appearing after the agent started, a new pod's, would be
/// read from its end and lose the pod's first lines), the containers of each namespace in `namespace_logs` to that
/// namespace's group, all others to the node's group.
pub fn agent_config(values: &CloudInit) -> String {
    let mut files = vec![serde_json::json!({
        "file_path": "/var/log/cloud-init-output.log",
        "log_group_name": values.log_group,
        "log_stream_name": "{instance_id}/cloud-init",
    })];
    // Kubelet names the files <pod>_<namespace>_<container>-<id>.log.
    for logs in &values.namespace_logs {
        files.push(serde_json::json!({
            "file_path": format!("/var/log/containers/*_{}_*.log", logs.namespace),
            "log_group_name": logs.log_group,
            "log_stream_name": "{instance_id}",
            "publish_multi_logs": true,
            "from_beginning": true,
        }));
    }
    let mut others = serde_json::json!({
        "file_path": "/var/log/containers/*.log",
        "log_group_name": values.log_group,
        "log_stream_name": "{instance_id}",
        "publish_multi_logs": true,
        "from_beginning": true,
    });
    if !values.namespace_logs.is_empty() {
        let namespaces: Vec<&str> = values
            .namespace_logs
            .iter()
            .map(|logs| logs.namespace.as_str())
            .collect();
        others["blacklist"] = format!("^[^_]+_({})_", namespaces.join("|")).into();
    }
    files.push(others);
    serde_json::json!({"logs": {"logs_collected": {"files": {"collect_list": files}}}}).to_string()
}

/// What the template is rendered with: the values and what is computed from them.
#[derive(Serialize)]
struct Rendered<'a> {
    #[serde(flatten)]
    values: &'a CloudInit,
    database_users_sql: String,
    database_users_minutes: u16,
    datastore_secret: Option<String>,
    agent_config: String,
    rollout_timeout_seconds: u16,
    launch_hook: &'static str,
}

/// Minutes between two runs of the database users' script after boot: how long a
/// password changed in its secret takes to reach PostgreSQL.
pub const DATABASE_USERS_MINUTES: u16 = 5;

/// The Auto Scaling group's launch lifecycle hook: a new instance stays `Pending:Wait`
/// until its boot completes the hook (its Node Ready), or is abandoned (terminated) when
/// the boot fails or the hook's heartbeat runs out.
pub const LAUNCH_HOOK: &str = "girder-k3s-launch";

/// Seconds a deploy's sync (`girder-k3s-sync-manifests --wait`) waits for each
/// Deployment, StatefulSet and DaemonSet to finish rolling out before it fails.
pub const ROLLOUT_TIMEOUT_SECONDS: u16 = 300;

/// `vMAJOR.MINOR.PATCH`, as cloud-provider-aws names its releases (`v1.29.0`).
pub(crate) fn is_plain_release(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let numbers: Vec<&str> = rest.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

impl CloudInit {
    /// Every value is written into a root shell script and a YAML document, unescaped: each
    /// must be made only of characters that cannot end a quoted word, start a command
    /// substitution or a new YAML line. Returns which value is not, and what is allowed.
    pub fn validate(&self) -> Result<(), K3sError> {
        let word = |c: char, extra: &str| c.is_ascii_alphanumeric() || extra.contains(c);
        let check = |what: &'static str, value: &str, ok: bool, allowed: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(K3sError::CloudInitValue {
                    what,
                    value: value.to_owned(),
                    allowed,
                })
            }
        };
        check(
            "node name",
            &self.name,
            (1..=40).contains(&self.name.len()) && self.name.chars().all(|c| word(c, "-")),
            "1 to 40 letters, digits and '-'",
        )?;
        for (what, path) in [
            ("token parameter", &self.token_parameter),
            ("datastore host parameter", &self.db_host_parameter),
            ("datastore port parameter", &self.db_port_parameter),
            ("datastore username parameter", &self.db_username_parameter),
            ("datastore secret parameter", &self.db_secret_parameter),
        ] {
            check(
                what,
                path,
                SsmPath::new(path.as_str()).is_ok(),
                "an SSM path such as /pixtools/dev/db/host: letters, digits, '/', '_', '.' and '-'",
            )?;
        }
        check(
            "datastore database",
            &self.datastore_database,
            (1..=63).contains(&self.datastore_database.len())
                && self
                    .datastore_database
                    .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && self
                    .datastore_database
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "a PostgreSQL name: lowercase letters, digits and '_'",
        )?;
        let version_ok = is_k3s_release(&self.k3s_version);
        check(
            "K3s version",
            &self.k3s_version,
            version_ok,
            "a K3s release such as v1.36.4+k3s1",
        )?;
        if let Some(version) = &self.ecr_credential_provider {
            check(
                "ecr-credential-provider version",
                version,
                is_plain_release(version),
                "a cloud-provider-aws release such as v1.29.0",
            )?;
        }
        check(
            "boot attempts",
            &self.boot_attempts.to_string(),
            self.boot_attempts >= 1,
            "at least 1",
        )?;
        check(
            "K3s start timeout",
            &self.start_timeout_seconds.to_string(),
            self.start_timeout_seconds >= 1,
            "at least 1 second",
        )?;
        if let Some(bucket) = &self.manifests_bucket {
            check(
                "manifests bucket",
                bucket,
                is_script_safe_bucket_name(bucket),
                "an S3 bucket name: lowercase letters, digits, '.' and '-'",
            )?;
        }
        check(
            "manifests prefix",
            &self.manifests_prefix,
            self.manifests_prefix.len() <= 1024
                && self.manifests_prefix.chars().all(|c| word(c, "/_.-")),
            "an S3 key prefix of letters, digits, '/', '_', '.' and '-'",
        )?;
        let log_group_ok = |group: &str| {
            (1..=512).contains(&group.len()) && group.chars().all(|c| word(c, "/_.-#"))
        };
        check(
            "log group",
            &self.log_group,
            log_group_ok(&self.log_group),
            "a CloudWatch log group name: letters, digits, '/', '_', '.', '-' and '#'",
        )?;
        for logs in &self.namespace_logs {
            check(
                "log group",
                &logs.log_group,
                log_group_ok(&logs.log_group),
                "a CloudWatch log group name: letters, digits, '/', '_', '.', '-' and '#'",
            )?;
            check(
                "namespace",
                &logs.namespace,
                (1..=63).contains(&logs.namespace.len())
                    && logs
                        .namespace
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "a Kubernetes namespace: lowercase letters, digits and '-'",
            )?;
        }
        let postgres_name = |name: &str| {
            (1..=63).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        for user in &self.database_users {
            check(
                "database user",
                &user.name,
                postgres_name(&user.name),
                "a PostgreSQL name: lowercase letters, digits and '_', starting with a letter",
            )?;
            check(
                "database",
                &user.database,
                postgres_name(&user.database),
                "a PostgreSQL name: lowercase letters, digits and '_', starting with a letter",
            )?;
            check(
                "database user secret",
                &user.secret,
                (1..=2048).contains(&user.secret.len())
                    && user.secret.chars().all(|c| word(c, "/_.-:!+=@")),
                "a Secrets Manager secret name or ARN: letters, digits and '/_.-:!+=@'",
            )?;
        }
        if let Some(identity) = &self.pod_identity {
            check(
                "issuer bucket",
                &identity.bucket,
                is_script_safe_bucket_name(&identity.bucket) && !identity.bucket.contains('.'),
                "an S3 bucket name without '.': lowercase letters, digits and '-'",
            )?;
            check(
                "service-account issuer",
                &identity.issuer,
                identity
                    .issuer
                    .strip_prefix("https://")
                    .is_some_and(|rest| {
                        !rest.is_empty()
                            && rest.chars().all(|c| word(c, ".-/"))
                            && !rest.ends_with('/')
                    }),
                "an https URL of letters, digits, '.', '-' and '/', without a trailing '/'",
            )?;
        }
        if let Some(user) = &self.datastore_user {
            check(
                "datastore user",
                user,
                self.database_users
                    .iter()
                    .any(|u| &u.name == user && u.database == self.datastore_database),
                "one of the database users, owner of the datastore database",
            )?;
        }
        Ok(())
    }
}

/// Kubernetes minors past their upstream end of life (kubernetes.io/releases: each minor
/// is patched for about 14 months), newest last: a node of one of these, or older, is
/// refused, since no fix reaches it any more. Add a line when a minor's support ends.
pub const KUBERNETES_END_OF_LIFE: [(u16, &str); 4] = [
    (31, "2025-10-28"),
    (32, "2026-02-28"),
    (33, "2026-06-28"),
    (34, "2026-10-27"),
];

/// Refuse a release of a minor in [`KUBERNETES_END_OF_LIFE`] or older (`version` is a
/// release: [`is_k3s_release`]).
pub(crate) fn check_supported(version: &str) -> Result<(), K3sError> {
    let minor = version
        .strip_prefix("v1.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u16>().ok());
    let Some(minor) = minor else {
        return Err(K3sError::K3sVersion(version.to_owned()));
    };
    let Some(&(newest_ended, newest_date)) = KUBERNETES_END_OF_LIFE.last() else {
        return Ok(());
    };
    if minor > newest_ended {
        return Ok(());
    }
    let end_of_life = KUBERNETES_END_OF_LIFE
        .iter()
        .find(|(ended, _)| *ended == minor)
        .map_or(newest_date, |(_, date)| *date);
    Err(K3sError::K3sEndOfLife {
        version: version.to_owned(),
        minor,
        end_of_life,
        oldest_supported: newest_ended + 1,
    })
}

/// `vMAJOR.MINOR.PATCH[-rcN]+k3sN`, as K3s names its releases (`v1.36.4+k3s1`).
pub(crate) fn is_k3s_release(version: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let Some((release, build)) = rest.split_once('+') else {
        return false;
    };
    let (core, rc) = match release.split_once('-') {
        Some((core, rc)) => (core, Some(rc)),
        None => (release, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers.iter().all(|n| digits(n))
        && rc.is_none_or(|rc| rc.strip_prefix("rc").is_some_and(digits))
        && build.strip_prefix("k3s").is_some_and(digits)
}

/// 3 to 63 lowercase letters, digits, `.` and `-`: an S3 bucket name's characters, none of
/// which can end a quoted word in the script.
pub(crate) fn is_script_safe_bucket_name(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
}

/// The template, parsed once per process: its parser computes token positions in time
/// that grows with the template's length, so parsing it for every node was most of a
/// PixTools synth.
static REGISTRY: std::sync::LazyLock<Result<Handlebars<'static>, String>> =
    std::sync::LazyLock::new(|| {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry
            .register_template_string("cloud-init", TEMPLATE)
            .map_err(|e| e.to_string())?;
        Ok(registry)
    });

/// Render the cloud-init document after [`CloudInit::validate`]. Strict: a value the
/// template names but `values` lacks is an error, and nothing is HTML-escaped (the values
/// were checked to need no escaping).
pub fn render_cloud_init(values: &CloudInit) -> Result<String, K3sError> {
    values.validate()?;
    let registry = REGISTRY
        .as_ref()
        .map_err(|e| K3sError::Template(e.clone()))?;
    let rendered = Rendered {
        values,
        // Indented into the YAML block scalar it is written in.
        database_users_sql: database_users_sql(&values.database_users)
            .trim_end()
            .replace('\n', "\n      "),
        database_users_minutes: DATABASE_USERS_MINUTES,
        datastore_secret: values.datastore_user.as_ref().and_then(|name| {
            values
                .database_users
                .iter()
                .find(|u| &u.name == name)
                .map(|u| u.secret.clone())
        }),
        agent_config: agent_config(values),
        rollout_timeout_seconds: ROLLOUT_TIMEOUT_SECONDS,
        launch_hook: LAUNCH_HOOK,
    };
    registry
        .render("cloud-init", &rendered)
        .map_err(|e| K3sError::Template(e.to_string()))
}
