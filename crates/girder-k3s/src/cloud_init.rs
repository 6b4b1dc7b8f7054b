//! The node's cloud-init, rendered from `templates/cloud-init.yaml.hbs`.

use handlebars::Handlebars;
use serde::Serialize;

const TEMPLATE: &str = include_str!("../templates/cloud-init.yaml.hbs");

/// What the cloud-init template needs: names only, no secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CloudInit {
    /// The node's name.
    pub name: String,
    /// Where the node's settings live in SSM (`/pixtools/dev`): `db/host`, `db/port`,
    /// `db/username`, `db/master-secret-arn`, `k3s/token`.
    pub ssm_prefix: String,
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
}

impl CloudInit {
    /// Every value is written into a root shell script and a YAML document, unescaped: each
    /// must be made only of characters that cannot end a quoted word, start a command
    /// substitution or a new YAML line. Returns which value is not, and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        let word = |c: char, extra: &str| c.is_ascii_alphanumeric() || extra.contains(c);
        let check = |what: &str, value: &str, ok: bool, allowed: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("cloud-init {what} {value:?}: {allowed}"))
            }
        };
        check(
            "node name",
            &self.name,
            (1..=40).contains(&self.name.len()) && self.name.chars().all(|c| word(c, "-")),
            "1 to 40 letters, digits and '-'",
        )?;
        check(
            "SSM prefix",
            &self.ssm_prefix,
            girder_core::SsmPath::new(self.ssm_prefix.as_str()).is_ok(),
            "a path such as /pixtools/dev: letters, digits, '/', '_', '.' and '-'",
        )?;
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
        let version_ok = self
            .k3s_version
            .strip_prefix('v')
            .and_then(|v| v.split_once("+k3s"))
            .is_some_and(|(release, build)| {
                // A release candidate (`v1.34.1-rc2+k3s1`) has a pre-release suffix.
                let (release, pre) = release.split_once('-').unwrap_or((release, "rc0"));
                !pre.is_empty()
                    && pre
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && release.split('.').count() == 3
                    && release
                        .split('.')
                        .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                    && !build.is_empty()
                    && build.chars().all(|c| c.is_ascii_digit())
            });
        check(
            "K3s version",
            &self.k3s_version,
            version_ok,
            "a K3s release such as v1.33.5+k3s1",
        )?;
        if let Some(bucket) = &self.manifests_bucket {
            check(
                "manifests bucket",
                bucket,
                (3..=63).contains(&bucket.len())
                    && bucket.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
                    }),
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

/// Render the cloud-init document after [`CloudInit::validate`]. Strict: a value the
/// template names but `values` lacks is an error, and nothing is HTML-escaped (the values
/// were checked to need no escaping).
pub fn render_cloud_init(values: &CloudInit) -> Result<String, String> {
    values.validate()?;
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(handlebars::no_escape);
    registry
        .register_template_string("cloud-init", TEMPLATE)
        .map_err(|e| format!("cloud-init template: {e}"))?;
    registry
        .render("cloud-init", values)
        .map_err(|e| format!("cloud-init template: {e}"))
}
