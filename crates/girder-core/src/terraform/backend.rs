//! Where a stack keeps its state: Terraform Cloud, an S3 bucket, or a local file. The
//! backend also decides how other stacks read this stack's outputs.

use serde_json::{Value as Json, json};

/// A stack's state backend.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Backend {
    /// Terraform Cloud / Enterprise (`terraform { cloud { ... } }`); other stacks read its
    /// outputs with the `tfe_outputs` data source.
    Cloud(CloudBackend),
    /// An S3 bucket (`backend "s3"`); other stacks read it with `terraform_remote_state`.
    S3(S3Backend),
    /// A local state file, for experiments and tests.
    Local(LocalBackend),
}

/// Terraform Cloud settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudBackend {
    /// Organization name.
    pub organization: String,
    /// Workspace name; defaults to the stack id (`<stack>-<env>`).
    pub workspace: Option<String>,
    /// Terraform Cloud project holding the workspace.
    pub project: Option<String>,
    /// Hostname for Terraform Enterprise; Terraform Cloud when unset.
    pub hostname: Option<String>,
}

/// S3 backend settings. Encryption is always on.
#[derive(Clone, Debug, PartialEq)]
pub struct S3Backend {
    /// State bucket.
    pub bucket: String,
    /// Object key; defaults to `<stack>/<env>/terraform.tfstate`.
    pub key: Option<String>,
    /// Bucket region.
    pub region: String,
    /// DynamoDB lock table; when unset, S3 native locking (`use_lockfile`) is used.
    pub dynamodb_table: Option<String>,
    /// KMS key for state encryption; SSE-S3 when unset.
    pub kms_key_id: Option<String>,
}

/// Local backend settings.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalBackend {
    /// State file path relative to the stack's working directory.
    pub path: String,
}

impl Backend {
    /// Terraform Cloud in `organization`, workspace named after the stack.
    pub fn cloud(organization: impl Into<String>) -> Self {
        Backend::Cloud(CloudBackend {
            organization: organization.into(),
            workspace: None,
            project: None,
            hostname: None,
        })
    }

    /// S3 state in `bucket` (in `region`), key derived from the stack, native locking.
    pub fn s3(bucket: impl Into<String>, region: impl Into<String>) -> Self {
        Backend::S3(S3Backend {
            bucket: bucket.into(),
            key: None,
            region: region.into(),
            dynamodb_table: None,
            kms_key_id: None,
        })
    }

    /// Local state in `terraform.tfstate`.
    pub fn local() -> Self {
        Backend::Local(LocalBackend {
            path: "terraform.tfstate".into(),
        })
    }

    /// A short name for messages and the manifest.
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Cloud(_) => "cloud",
            Backend::S3(_) => "s3",
            Backend::Local(_) => "local",
        }
    }

    /// The Terraform Cloud workspace of a stack using this backend.
    pub(crate) fn workspace_name(&self, stack_id: &str) -> Option<String> {
        match self {
            Backend::Cloud(c) => Some(c.workspace.clone().unwrap_or_else(|| stack_id.to_owned())),
            _ => None,
        }
    }

    pub(crate) fn s3_key(s3: &S3Backend, stack_name: &str, env: &str) -> String {
        s3.key
            .clone()
            .unwrap_or_else(|| format!("{stack_name}/{env}/terraform.tfstate"))
    }

    /// The `(key, value)` to put into the `terraform` block.
    pub(crate) fn terraform_block(
        &self,
        stack_id: &str,
        stack_name: &str,
        env: &str,
    ) -> (String, Json) {
        match self {
            Backend::Cloud(c) => {
                let mut workspaces = serde_json::Map::new();
                workspaces.insert("name".into(), json!(self.workspace_name(stack_id)));
                if let Some(project) = &c.project {
                    workspaces.insert("project".into(), json!(project));
                }
                let mut cloud = serde_json::Map::new();
                cloud.insert("organization".into(), json!(c.organization));
                if let Some(host) = &c.hostname {
                    cloud.insert("hostname".into(), json!(host));
                }
                cloud.insert("workspaces".into(), Json::Object(workspaces));
                ("cloud".into(), Json::Object(cloud))
            }
            Backend::S3(s3) => {
                let mut config = serde_json::Map::new();
                config.insert("bucket".into(), json!(s3.bucket));
                config.insert("key".into(), json!(Self::s3_key(s3, stack_name, env)));
                config.insert("region".into(), json!(s3.region));
                config.insert("encrypt".into(), json!(true));
                if let Some(kms) = &s3.kms_key_id {
                    config.insert("kms_key_id".into(), json!(kms));
                }
                match &s3.dynamodb_table {
                    Some(table) => config.insert("dynamodb_table".into(), json!(table)),
                    None => config.insert("use_lockfile".into(), json!(true)),
                };
                ("backend".into(), json!({ "s3": config }))
            }
            Backend::Local(local) => ("backend".into(), json!({ "local": { "path": local.path } })),
        }
    }

    /// A manifest.json summary.
    pub(crate) fn summary(&self, stack_id: &str, stack_name: &str, env: &str) -> Json {
        match self {
            Backend::Cloud(c) => json!({
                "type": "cloud",
                "organization": c.organization,
                "workspace": self.workspace_name(stack_id),
            }),
            Backend::S3(s3) => json!({
                "type": "s3",
                "bucket": s3.bucket,
                "key": Self::s3_key(s3, stack_name, env),
                "region": s3.region,
            }),
            Backend::Local(l) => json!({ "type": "local", "path": l.path }),
        }
    }
}
