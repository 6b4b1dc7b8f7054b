//! Findings of security scanners that run over the synthesized output (checkov), accepted
//! by a stack with a reason. The acknowledgement is written next to what it covers, in the
//! scanner's own syntax, so the reason travels with the artifact and a reviewer reads it
//! where the finding is:
//!
//! - Terraform: every resource and data block at or below the acknowledged construct path
//!   gets a `"//"` comment (Terraform ignores the property) holding one
//!   `checkov:skip=<CHECK>:<reason>` line per check, checkov's suppression syntax.
//! - Kubernetes: every object at or below the path (or the one object named) gets an
//!   annotation `checkov.io/skip<n>: <CHECK>=<reason>`, which checkov's Kubernetes runner
//!   honours.
//!
//! checkov 3.3.30's `terraform_json` runner does not read suppressions at all (it passes no
//! skipped checks to its registry), so `.ci/checkov` applies the `checkov:skip=` comments to
//! its results the way checkov's HCL runner does: a finding is acknowledged when a
//! `checkov:skip=<CHECK>:<reason>` line lies inside the block checkov reports.

use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::kubernetes::KubeObject;
use crate::path::ConstructPath;
use crate::static_json::{Object, StaticJson};
use crate::vocabulary::{Reason, ReasonError};

/// Annotation key prefix checkov's Kubernetes runner reads suppressions from.
const ANNOTATION_PREFIX: &str = "checkov.io/skip";

/// What an acknowledgement covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckTarget {
    /// Every Terraform block and Kubernetes object at this construct path or below it.
    Path(ConstructPath),
    /// One Kubernetes object, by kind, namespace and name (constructs such as girder-k8s
    /// workloads put several objects at one construct path).
    KubeObject {
        /// `kind`.
        kind: String,
        /// `metadata.namespace` (`None` for cluster-scoped objects).
        namespace: Option<String>,
        /// `metadata.name`.
        name: String,
    },
}

/// A stack's decision to accept one scanner check on what a [`CheckTarget`] names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckAcknowledgement {
    /// What is covered.
    pub target: CheckTarget,
    /// The scanner's check id (`CKV_AWS_144`, `CKV2_AWS_28`, `CKV_K8S_43`).
    pub check: String,
    /// Why the finding is acceptable here; written into the output.
    pub reason: String,
}

impl CheckAcknowledgement {
    /// Check the id and the reason; `at` names the stack path in errors.
    pub(crate) fn new(at: &str, target: CheckTarget, check: &str, reason: &str) -> Result<Self> {
        let valid_id = check.starts_with("CKV")
            && check
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !valid_id {
            return Err(Error::invalid(
                at,
                format!(
                    "{check:?} is not a checkov check id; ids look like CKV_AWS_144, \
                     CKV2_AWS_28 or CKV_K8S_43"
                ),
            ));
        }
        // checkov reads a suppression up to the end of the line (a `Reason` is one line),
        // and splits the annotation value `<CHECK>=<reason>` at every `=`.
        let one_line = |bad: char| {
            Error::invalid(
                at,
                format!(
                    "the reason for {check} contains {bad:?}; checkov reads a reason as one \
                     line without `=`"
                ),
            )
        };
        let reason = Reason::new(reason.trim()).map_err(|e| match e {
            ReasonError::ControlCharacter(bad) => one_line(bad),
            _ => Error::invalid(
                at,
                format!("acknowledging {check} needs a reason; it is written into the output"),
            ),
        })?;
        if reason.as_str().contains('=') {
            return Err(one_line('='));
        }
        Ok(Self {
            target,
            check: check.to_owned(),
            reason: reason.into_string(),
        })
    }

    /// Whether a Terraform block at `path` is covered.
    fn covers_block(&self, path: &ConstructPath) -> bool {
        matches!(&self.target, CheckTarget::Path(p) if path.starts_with(p))
    }

    /// Whether `object`, added at `path`, is covered.
    pub(crate) fn covers_object(&self, path: &ConstructPath, object: &KubeObject) -> bool {
        match &self.target {
            CheckTarget::Path(p) => path.starts_with(p),
            CheckTarget::KubeObject {
                kind,
                namespace,
                name,
            } => {
                object.kind() == kind
                    && object.namespace() == namespace.as_deref()
                    && object.name() == name
            }
        }
    }
}

/// The `"//"` comment for a Terraform block at `path`: one `checkov:skip=` line per check
/// acknowledged there, or `None`.
pub(crate) fn terraform_comment(
    acks: &[CheckAcknowledgement],
    path: &ConstructPath,
) -> Option<Json> {
    let lines: Vec<Json> = acks
        .iter()
        .filter(|a| a.covers_block(path))
        .map(|a| Json::String(format!("checkov:skip={}:{}", a.check, a.reason)))
        .collect();
    (!lines.is_empty()).then_some(Json::Array(lines))
}

/// Write the acknowledgements covering `object` (added at `path`) into its annotations.
pub(crate) fn annotate(
    acks: &[CheckAcknowledgement],
    path: &ConstructPath,
    object: &mut KubeObject,
) {
    for ack in acks {
        if ack.covers_object(path, object) {
            annotate_one(object, ack);
        }
    }
}

/// Write one acknowledgement into `object`'s annotations, unless it is there already.
pub(crate) fn annotate_one(object: &mut KubeObject, ack: &CheckAcknowledgement) {
    let value = format!("{}={}", ack.check, ack.reason);
    let Some(metadata) = object
        .body_mut()
        .get_mut("metadata")
        .and_then(StaticJson::as_object_mut)
    else {
        return;
    };
    let annotations =
        metadata.entry_or_insert_with("annotations", || StaticJson::Object(Object::new()));
    let Some(annotations) = annotations.as_object_mut() else {
        return;
    };
    if annotations.values().any(|v| v.as_str() == Some(&value)) {
        return;
    }
    let key = (1..)
        .map(|n| format!("{ANNOTATION_PREFIX}{n}"))
        .find(|k| !annotations.contains_key(k))
        .unwrap_or_else(|| ANNOTATION_PREFIX.to_owned());
    annotations.insert(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ack(path: &str, check: &str, reason: &str) -> CheckAcknowledgement {
        let path = if path == "/" {
            ConstructPath::root()
        } else {
            ConstructPath::parse(path).unwrap()
        };
        CheckAcknowledgement::new("s:/", CheckTarget::Path(path), check, reason).unwrap()
    }

    #[test]
    fn ids_and_reasons_are_checked() {
        let root = ConstructPath::root();
        for (check, reason, expected) in [
            ("CKV_AWS_1", "", "needs a reason"),
            ("ckv_aws_1", "r", "not a checkov check id"),
            ("CKV_AWS_1:x", "r", "not a checkov check id"),
            ("CKV_AWS_1", "a=b", "without `=`"),
            ("CKV_AWS_1", "a\nb", "one line"),
        ] {
            let err =
                CheckAcknowledgement::new("s:/", CheckTarget::Path(root.clone()), check, reason)
                    .unwrap_err()
                    .to_string();
            assert!(err.contains(expected), "{check} {reason:?}: {err}");
        }
    }

    #[test]
    fn terraform_blocks_below_the_path_get_one_line_per_check() {
        let acks = [
            ack("storage", "CKV_AWS_144", "one region"),
            ack("data", "CKV_AWS_157", "single-AZ"),
        ];
        let bucket = ConstructPath::parse("storage/images").unwrap();
        assert_eq!(
            terraform_comment(&acks, &bucket),
            Some(json!(["checkov:skip=CKV_AWS_144:one region"]))
        );
        assert_eq!(
            terraform_comment(&acks, &ConstructPath::parse("storagex").unwrap()),
            None
        );
        let all = [ack("/", "CKV_AWS_1", "r")];
        assert!(terraform_comment(&all, &bucket).is_some());
    }
}
