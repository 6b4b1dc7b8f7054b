//! YAML rendering for Kubernetes manifests and Helm values (serde_norway, the maintained
//! serde_yaml successor). Key order is the order of the JSON object, so output is stable.

use crate::error::{Error, Result};

/// Render `value` as a YAML document (no leading `---`).
pub(crate) fn to_yaml(path: &str, value: &serde_json::Value) -> Result<String> {
    serde_norway::to_string(value).map_err(|e| Error::Serialize {
        path: path.to_owned(),
        what: "YAML".into(),
        message: e.to_string(),
    })
}
