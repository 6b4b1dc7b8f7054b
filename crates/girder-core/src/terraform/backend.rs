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

    /// Check every setting before it is written into this stack's `terraform` block and
    /// into the `tfe_outputs` / `terraform_remote_state` reads of other stacks. Backend
    /// settings cannot be expressions in Terraform, so a value holding template syntax,
    /// a path leaving the working directory or a malformed name is refused here, with the
    /// stack id in the error.
    pub(crate) fn validate(&self, stack_id: &str) -> crate::Result<()> {
        let check = |what: &'static str, value: &str, ok: bool, allowed: &'static str| {
            if ok && !value.contains("${") && !value.contains("%{") {
                Ok(())
            } else {
                Err(crate::Error::InvalidName {
                    path: format!("{stack_id}:terraform.backend"),
                    what,
                    value: value.to_owned(),
                    allowed,
                })
            }
        };
        let name_chars = |v: &str| {
            !v.is_empty()
                && v.len() <= 90
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let printable_path = |v: &str| {
            !v.is_empty()
                && v.len() <= 1024
                && !v.starts_with('/')
                && v.split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..")
                && v.chars().all(|c| c.is_ascii_graphic() && c != '\\')
        };
        match self {
            Backend::Cloud(c) => {
                check(
                    "Terraform Cloud organization",
                    &c.organization,
                    name_chars(&c.organization),
                    "letters, digits, '-' and '_' (at most 90)",
                )?;
                if let Some(workspace) = &c.workspace {
                    check(
                        "Terraform Cloud workspace",
                        workspace,
                        name_chars(workspace),
                        "letters, digits, '-' and '_' (at most 90)",
                    )?;
                }
                if let Some(project) = &c.project {
                    let ok = (3..=40).contains(&project.chars().count())
                        && project
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'));
                    check(
                        "Terraform Cloud project",
                        project,
                        ok,
                        "3 to 40 letters, digits, spaces, '-' and '_'",
                    )?;
                }
                if let Some(host) = &c.hostname {
                    // Host names are case-insensitive; the DNS rules are girder's one copy.
                    let ok = crate::vocabulary::dns::is_dns_subdomain(&host.to_ascii_lowercase());
                    check(
                        "Terraform Enterprise hostname",
                        host,
                        ok,
                        "a DNS name such as tfe.example.com",
                    )?;
                }
            }
            Backend::S3(s3) => {
                let bucket_ok = (3..=63).contains(&s3.bucket.len())
                    && s3.bucket.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.')
                    })
                    && s3.bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && s3.bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && !s3.bucket.contains("..");
                check(
                    "S3 state bucket",
                    &s3.bucket,
                    bucket_ok,
                    "3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
                )?;
                let region_ok = !s3.region.is_empty()
                    && s3.region.len() <= 32
                    && s3.region.split('-').count() >= 3
                    && s3.region.split('-').all(|p| {
                        !p.is_empty()
                            && p.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    });
                check(
                    "S3 state region",
                    &s3.region,
                    region_ok,
                    "an AWS region such as us-east-1",
                )?;
                if let Some(key) = &s3.key {
                    check(
                        "S3 state key",
                        key,
                        printable_path(key),
                        "a relative object key of printable ASCII without '..' segments",
                    )?;
                }
                if let Some(table) = &s3.dynamodb_table {
                    let ok = (3..=255).contains(&table.len())
                        && table
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                    check(
                        "DynamoDB lock table",
                        table,
                        ok,
                        "3 to 255 letters, digits, '_', '-' and '.'",
                    )?;
                }
                if let Some(kms) = &s3.kms_key_id {
                    let ok = !kms.is_empty()
                        && kms.len() <= 2048
                        && kms.chars().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_')
                        });
                    check("state KMS key", kms, ok, "a KMS key id, alias or ARN")?;
                }
            }
            Backend::Local(local) => {
                check(
                    "local state path",
                    &local.path,
                    printable_path(&local.path),
                    "a relative path of printable ASCII inside the stack's directory (no '..')",
                )?;
            }
        }
        Ok(())
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
