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

/// Render the cloud-init document. Strict: a value the template names but `values` lacks
/// is an error, and nothing is HTML-escaped.
pub fn render_cloud_init(values: &CloudInit) -> Result<String, String> {
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
