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
    /// The K3s release (`v1.33.5+k3s1`).
    pub k3s_version: String,
    /// The bucket manifests are synced from at boot, if any.
    pub manifests_bucket: Option<String>,
    /// The key prefix in it.
    pub manifests_prefix: String,
    /// The CloudWatch log group the agent ships to.
    pub log_group: String,
    /// Keep the Traefik ingress controller K3s ships (otherwise disabled).
    pub bundled_traefik: bool,
    /// The `ecr-credential-provider` release (`v1.34.0`) the kubelet pulls private ECR
    /// images with, if the node pulls from ECR.
    pub ecr_credential_provider: Option<String>,
    /// How many times each read and download at boot is tried (at least 1).
    pub boot_attempts: u16,
    /// Seconds between two tries.
    pub boot_retry_seconds: u16,
    /// Seconds K3s may take to start before the boot fails.
    pub start_timeout_seconds: u16,
}

/// `vMAJOR.MINOR.PATCH`, as cloud-provider-aws names its releases (`v1.34.0`).
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
            "a K3s release such as v1.33.5+k3s1",
        )?;
        if let Some(version) = &self.ecr_credential_provider {
            check(
                "ecr-credential-provider version",
                version,
                is_plain_release(version),
                "a cloud-provider-aws release such as v1.34.0",
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
        check(
            "log group",
            &self.log_group,
            (1..=512).contains(&self.log_group.len())
                && self.log_group.chars().all(|c| word(c, "/_.-#")),
            "a CloudWatch log group name: letters, digits, '/', '_', '.', '-' and '#'",
        )
    }
}

/// `vMAJOR.MINOR.PATCH[-rcN]+k3sN`, as K3s names its releases (`v1.33.5+k3s1`).
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

/// Render the cloud-init document after [`CloudInit::validate`]. Strict: a value the
/// template names but `values` lacks is an error, and nothing is HTML-escaped (the values
/// were checked to need no escaping).
pub fn render_cloud_init(values: &CloudInit) -> Result<String, K3sError> {
    values.validate()?;
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(handlebars::no_escape);
    registry
        .register_template_string("cloud-init", TEMPLATE)
        .map_err(|e| K3sError::Template(e.to_string()))?;
    registry
        .render("cloud-init", values)
        .map_err(|e| K3sError::Template(e.to_string()))
}
