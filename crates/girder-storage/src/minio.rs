//! In-cluster object storage: a MinIO operator `Tenant` (`minio.min.io/v2`) with pools
//! checked for an erasure set, buckets with lifecycle expiry and per-user policies, and a
//! Job running the MinIO client (`mc`) that applies them, re-runnable.
//!
//! - **Erasure coding.** MinIO stripes each object over an erasure set of 2 to 16 drives
//!   of a pool; girder asks for sets of 4 to 16 (parity 2 or more survives the loss of a
//!   server of the seed's four) and refuses a pool whose drives (servers x volumes per
//!   server) no such set size divides. The standard storage class's parity is stated
//!   (`MINIO_STORAGE_CLASS_STANDARD=EC:n`), by default MinIO's own for the set size.
//! - **Buckets.** Listed in the Tenant's `buckets` (the operator creates them with the
//!   tenant) and made again by the Job with `mc mb --ignore-existing`, so a bucket added
//!   later exists too.
//! - **Lifecycle.** `mc ilm rule import` of the bucket's whole lifecycle configuration
//!   (one expiry rule), which replaces what was there: re-running converges, where
//!   `mc ilm rule add --expire-days` would add a rule per run. A bucket without expiry
//!   has its rules removed.
//! - **Policies.** `<bucket>-read` / `<bucket>-write` made with `mc admin policy create`
//!   (which replaces a policy of the same name) and attached to the named users with
//!   `mc admin policy attach` (an attachment already in effect is not an error).
//! - **Credentials** only from Secrets made outside girder's output (External Secrets,
//!   Sealed Secrets): the tenant's configuration Secret (`config.env` exporting
//!   `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD`), which the Job sources, and each user's
//!   Secret (`CONSOLE_ACCESS_KEY` / `CONSOLE_SECRET_KEY`, the operator's shape), from which
//!   the Job reads the access key only.
//! - **TLS** as the operator does it: `requestAutoCert` (a certificate signed through the
//!   Kubernetes CSR API for the tenant's Services); the Job trusts the cluster's CA from
//!   ConfigMap `kube-root-ca.crt` and talks to `https://minio.<namespace>.svc`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use girder_core::construct::Construct;
use girder_core::{Error, Result, Scope};
use girder_k8s::crds::{Extra, Object, ObjectRef, Spec};
use girder_k8s::{
    ConfigMap, ConfigMapHandle, Container, Env, Job, NamespaceHandle, Resources, Volume, Workload,
};
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::StorageError;

/// MinIO's server image the tenant chart 7.1.1 pins.
pub const MINIO_IMAGE: &str = "quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z";
/// The MinIO client image the setup Job runs.
pub const MC_IMAGE: &str = "quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z";
/// The uid (and gid) MinIO's pods and the Job run as.
pub const MINIO_UID: u32 = 1000;
/// The smallest and largest erasure set girder accepts.
pub const ERASURE_SET_DRIVES: (u32, u32) = (4, 16);

/// `Tenant` (`minio.min.io/v2`).
pub type Tenant = Object<TenantSpec>;

/// The spec of a MinIO Tenant.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// The MinIO image.
    pub image: Option<String>,
    /// Server pools.
    pub pools: Vec<TenantPool>,
    /// The Secret holding `config.env` (root credentials, settings).
    pub configuration: Option<LocalRef>,
    /// A certificate from the Kubernetes CSR API for the tenant's Services.
    pub request_auto_cert: Option<bool>,
    /// Buckets the operator creates with the tenant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<TenantBucket>,
    /// Users the operator creates, one Secret each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<LocalRef>,
    /// MinIO's environment (`MINIO_STORAGE_CLASS_STANDARD`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<Json>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for TenantSpec {
    const API_VERSION: &'static str = "minio.min.io/v2";
    const KIND: &'static str = "Tenant";
}

/// A reference by name (`configuration`, `users[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LocalRef {
    /// The Secret.
    pub name: String,
}

/// `spec.buckets[]`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantBucket {
    /// Name.
    pub name: String,
    /// Object locking (only at creation).
    pub object_lock: Option<bool>,
}

/// `spec.pools[]`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantPool {
    /// Name.
    pub name: String,
    /// MinIO servers (pods).
    pub servers: u16,
    /// Drives (PVCs) per server.
    pub volumes_per_server: u16,
    /// The PVC of each drive.
    pub volume_claim_template: Json,
    /// Each server's requests and limits.
    pub resources: Option<Json>,
    /// The pod's security context.
    pub security_context: Option<Json>,
    /// The container's security context.
    pub container_security_context: Option<Json>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A pool before it is added: servers, drives per server, each drive's size and class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinioPool {
    name: String,
    servers: u16,
    volumes_per_server: u16,
    size_gib: u32,
    storage_class: String,
}

impl MinioPool {
    /// Pool `name` of `servers` servers with `volumes_per_server` drives of `size_gib`
    /// GiB of `storage_class` each.
    pub fn new(
        name: impl Into<String>,
        servers: u16,
        volumes_per_server: u16,
        size_gib: u32,
        storage_class: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            servers,
            volumes_per_server,
            size_gib,
            storage_class: storage_class.into(),
        }
    }

    /// Servers x volumes per server.
    pub fn drives(&self) -> u32 {
        u32::from(self.servers) * u32::from(self.volumes_per_server)
    }

    /// The largest erasure set of 4 to 16 drives that divides the pool's drives, or the
    /// refusal.
    pub fn erasure_set(&self) -> std::result::Result<u32, StorageError> {
        let drives = self.drives();
        let (low, high) = ERASURE_SET_DRIVES;
        (low..=high)
            .rev()
            .find(|size| drives >= *size && drives.is_multiple_of(*size))
            .ok_or_else(|| StorageError::ErasureSet {
                pool: self.name.clone(),
                servers: self.servers,
                volumes_per_server: self.volumes_per_server,
                drives,
            })
    }

    fn render(&self) -> TenantPool {
        TenantPool {
            name: self.name.clone(),
            servers: self.servers,
            volumes_per_server: self.volumes_per_server,
            volume_claim_template: json!({
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": self.storage_class,
                    "resources": {"requests": {"storage": format!("{}Gi", self.size_gib)}},
                },
            }),
            resources: Some(json!({
                "requests": {"cpu": "1", "memory": "4Gi"},
                "limits": {"cpu": "2", "memory": "8Gi"},
            })),
            security_context: Some(json!({
                "runAsUser": MINIO_UID,
                "runAsGroup": MINIO_UID,
                "fsGroup": MINIO_UID,
                "fsGroupChangePolicy": "OnRootMismatch",
                "runAsNonRoot": true,
            })),
            container_security_context: Some(json!({
                "runAsUser": MINIO_UID,
                "runAsGroup": MINIO_UID,
                "runAsNonRoot": true,
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            })),
            extra: Extra::new(),
        }
    }
}

/// A service user of the tenant: its name in girder and the Secret holding its
/// `CONSOLE_ACCESS_KEY` and `CONSOLE_SECRET_KEY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinioUser {
    name: String,
    secret: String,
}

impl MinioUser {
    /// User `name` whose keys are in Secret `secret`.
    pub fn new(name: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            secret: secret.into(),
        }
    }
}

/// A bucket of the tenant: lifecycle expiry and which users may read or write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinioBucket {
    name: String,
    expire_days: Option<u32>,
    readers: Vec<String>,
    writers: Vec<String>,
}

impl MinioBucket {
    /// Bucket `name`, kept forever, no one granted.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            expire_days: None,
            readers: Vec::new(),
            writers: Vec::new(),
        }
    }

    /// Objects expire `days` after they were written.
    pub fn expire_days(mut self, days: u32) -> Self {
        self.expire_days = Some(days);
        self
    }

    /// These users may list and read objects.
    pub fn read<S: Into<String>>(mut self, users: impl IntoIterator<Item = S>) -> Self {
        self.readers.extend(users.into_iter().map(Into::into));
        self
    }

    /// These users may list, read, write and delete objects.
    pub fn read_write<S: Into<String>>(mut self, users: impl IntoIterator<Item = S>) -> Self {
        self.writers.extend(users.into_iter().map(Into::into));
        self
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lifecycle configuration `mc ilm rule import` applies (`None`: no rules).
    pub fn lifecycle(&self) -> Option<Json> {
        self.expire_days.map(|days| {
            json!({"Rules": [{
                "ID": format!("{}-expiry", self.name),
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "Expiration": {"Days": days},
            }]})
        })
    }

    /// The policy `<bucket>-read`: list the bucket, read its objects.
    pub fn read_policy(&self) -> Json {
        self.policy(
            &["s3:GetBucketLocation", "s3:ListBucket"],
            &["s3:GetObject"],
        )
    }

    /// The policy `<bucket>-write`: what `read_policy` allows, and write, delete and
    /// multipart uploads.
    pub fn write_policy(&self) -> Json {
        self.policy(
            &[
                "s3:GetBucketLocation",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
            ],
            &[
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
        )
    }

    fn policy(&self, bucket_actions: &[&str], object_actions: &[&str]) -> Json {
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": bucket_actions,
                    "Resource": [format!("arn:aws:s3:::{}", self.name)],
                },
                {
                    "Effect": "Allow",
                    "Action": object_actions,
                    "Resource": [format!("arn:aws:s3:::{}/*", self.name)],
                },
            ],
        })
    }

    fn check(&self, users: &[MinioUser]) -> std::result::Result<(), StorageError> {
        let n = &self.name;
        let edge =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid = (3..=63).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && edge(n.chars().next())
            && edge(n.chars().last())
            && !n.contains("..");
        if !valid {
            return Err(StorageError::MinioBucketName(n.clone()));
        }
        if self.expire_days == Some(0) {
            return Err(StorageError::MinioExpiry(n.clone()));
        }
        for user in self.readers.iter().chain(&self.writers) {
            if !users.iter().any(|u| &u.name == user) {
                return Err(StorageError::UnknownMinioUser {
                    bucket: n.clone(),
                    user: user.clone(),
                    users: users
                        .iter()
                        .map(|u| u.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }
}

/// A MinIO tenant before it is added.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinioTenant {
    namespace: String,
    name: String,
    image: String,
    mc_image: String,
    pools: Vec<MinioPool>,
    parity: Option<u8>,
    configuration: String,
    users: Vec<MinioUser>,
    buckets: Vec<MinioBucket>,
}

impl MinioTenant {
    /// Tenant `name` in `namespace`: one pool `pool-0` of 4 servers with one 500 GiB
    /// `gp3` drive each (one erasure set of 4, parity EC:2), root credentials in Secret
    /// `<name>-env-configuration`, TLS from the operator, no bucket yet.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            image: MINIO_IMAGE.into(),
            mc_image: MC_IMAGE.into(),
            pools: vec![MinioPool::new("pool-0", 4, 1, 500, "gp3")],
            parity: None,
            configuration: format!("{name}-env-configuration"),
            users: Vec::new(),
            buckets: Vec::new(),
        }
    }

    /// Replace the pools with these.
    pub fn pools(mut self, pools: impl IntoIterator<Item = MinioPool>) -> Self {
        self.pools = pools.into_iter().collect();
        self
    }

    /// The standard storage class's parity (`EC:n`; default MinIO's for the set size).
    pub fn parity(mut self, parity: u8) -> Self {
        self.parity = Some(parity);
        self
    }

    /// The Secret holding `config.env` (default `<name>-env-configuration`).
    pub fn configuration(mut self, secret: impl Into<String>) -> Self {
        self.configuration = secret.into();
        self
    }

    /// The MinIO and `mc` images (pinned).
    pub fn images(mut self, minio: impl Into<String>, mc: impl Into<String>) -> Self {
        self.image = minio.into();
        self.mc_image = mc.into();
        self
    }

    /// A service user.
    pub fn user(mut self, user: MinioUser) -> Self {
        self.users.push(user);
        self
    }

    /// A bucket.
    pub fn bucket(mut self, bucket: MinioBucket) -> Self {
        self.buckets.push(bucket);
        self
    }

    /// The parity the tenant runs with: the one asked, else MinIO's default for the
    /// smallest erasure set of its pools (4-5 drives: 2, 6-7: 3, 8-16: 4).
    fn checked_parity(&self) -> std::result::Result<u8, StorageError> {
        if self.pools.is_empty() {
            return Err(StorageError::MinioPool {
                pool: String::new(),
                why: "a tenant needs at least one pool",
            });
        }
        let mut names = BTreeSet::new();
        let mut smallest = u32::MAX;
        for pool in &self.pools {
            if !names.insert(pool.name.as_str()) {
                return Err(StorageError::MinioPool {
                    pool: pool.name.clone(),
                    why: "named twice",
                });
            }
            if pool.size_gib == 0 {
                return Err(StorageError::MinioPool {
                    pool: pool.name.clone(),
                    why: "drives of 0 GiB",
                });
            }
            smallest = smallest.min(pool.erasure_set()?);
        }
        let max = smallest / 2;
        let parity = self.parity.unwrap_or(match smallest {
            0..=5 => 2,
            6..=7 => 3,
            _ => 4,
        });
        if parity < 2 || u32::from(parity) > max {
            return Err(StorageError::Parity {
                parity,
                set_size: smallest,
                max,
            });
        }
        Ok(parity)
    }

    fn check(&self) -> std::result::Result<u8, StorageError> {
        let parity = self.checked_parity()?;
        let mut names = BTreeSet::new();
        for bucket in &self.buckets {
            bucket.check(&self.users)?;
            if !names.insert(bucket.name.as_str()) {
                return Err(StorageError::MinioBucketName(bucket.name.clone()));
            }
        }
        Ok(parity)
    }

    fn tenant(&self, parity: u8) -> Tenant {
        let mut seen = BTreeSet::new();
        Tenant::new(
            &self.namespace,
            &self.name,
            TenantSpec {
                image: Some(self.image.clone()),
                pools: self.pools.iter().map(MinioPool::render).collect(),
                configuration: Some(LocalRef {
                    name: self.configuration.clone(),
                }),
                request_auto_cert: Some(true),
                buckets: self
                    .buckets
                    .iter()
                    .map(|b| TenantBucket {
                        name: b.name.clone(),
                        object_lock: None,
                    })
                    .collect(),
                users: self
                    .users
                    .iter()
                    .filter(|u| seen.insert(u.secret.clone()))
                    .map(|u| LocalRef {
                        name: u.secret.clone(),
                    })
                    .collect(),
                env: vec![json!({
                    "name": "MINIO_STORAGE_CLASS_STANDARD",
                    "value": format!("EC:{parity}"),
                })],
                extra: Extra::new(),
            },
        )
    }

    /// The files of the setup Job's ConfigMap: `setup.sh`, and per bucket its policies
    /// and lifecycle.
    pub fn setup_files(&self) -> Vec<(String, String)> {
        let mut files = Vec::new();
        let mut script = String::from(
            "#!/bin/sh\n# Applied by girder: buckets, lifecycle and policies of the tenant, safe to re-run.\n\
             set -eu\n\
             mkdir -p \"$MC_CONFIG_DIR/certs/CAs\"\n\
             cp /kube-ca/ca.crt \"$MC_CONFIG_DIR/certs/CAs/kubernetes.crt\"\n\
             . /tenant-config/config.env\n\
             tries=0\n\
             until mc alias set tenant \"$MINIO_ENDPOINT\" \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\" >/dev/null \\\n  \
             && mc admin info tenant >/dev/null; do\n  \
             tries=$((tries + 1)); [ \"$tries\" -lt 60 ] || exit 1; sleep 10\n\
             done\n\
             attach() {\n  \
             out=$(mc admin policy attach tenant \"$1\" --user \"$2\" 2>&1) || case \"$out\" in\n    \
             *\"already in effect\"*) ;;\n    \
             *) echo \"$out\" >&2; exit 1 ;;\n  \
             esac\n\
             }\n",
        );
        for bucket in &self.buckets {
            let b = &bucket.name;
            let _ = writeln!(script, "mc mb --ignore-existing \"tenant/{b}\"");
            match bucket.lifecycle() {
                Some(lifecycle) => {
                    let file = format!("{b}.lifecycle.json");
                    let _ = writeln!(
                        script,
                        "mc ilm rule import \"tenant/{b}\" < \"/setup/{file}\""
                    );
                    files.push((file, format!("{lifecycle:#}\n")));
                }
                None => {
                    let _ = writeln!(
                        script,
                        "if mc ilm rule ls --json \"tenant/{b}\" 2>/dev/null | grep -q '\"ID\"'; then \
                         mc ilm rule rm --all --force \"tenant/{b}\"; fi"
                    );
                }
            }
            for (kind, users, policy) in [
                ("read", &bucket.readers, bucket.read_policy()),
                ("write", &bucket.writers, bucket.write_policy()),
            ] {
                let file = format!("{b}-{kind}.json");
                let _ = writeln!(
                    script,
                    "mc admin policy create tenant \"{b}-{kind}\" \"/setup/{file}\""
                );
                files.push((file, format!("{policy:#}\n")));
                for user in users {
                    let _ = writeln!(
                        script,
                        "attach \"{b}-{kind}\" \"${}\"",
                        access_key_var(user)
                    );
                }
            }
        }
        files.push(("setup.sh".into(), script));
        files.sort();
        files
    }
}

/// The environment variable holding `user`'s access key in the setup Job.
fn access_key_var(user: &str) -> String {
    let upper: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("ACCESS_KEY_{upper}")
}

/// A MinIO tenant in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinioTenantHandle {
    tenant: ObjectRef,
    endpoint: String,
    setup_job: String,
}

impl MinioTenantHandle {
    /// The Tenant object.
    pub fn tenant(&self) -> &ObjectRef {
        &self.tenant
    }

    /// The S3 endpoint inside the cluster (`https://minio.<namespace>.svc`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The setup Job's name (`<tenant>-setup-<hash>`).
    pub fn setup_job(&self) -> &str {
        &self.setup_job
    }
}

impl Construct for MinioTenant {
    type Handle = MinioTenantHandle;

    /// Add the Tenant and its setup Job as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<MinioTenantHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let parity = self.check().map_err(|e| Error::construct(&at, e))?;
        let tenant = self.tenant(parity).add(scope, "tenant")?;
        let namespace = NamespaceHandle::existing(&self.namespace);
        let files = self.setup_files();
        let mut config = ConfigMap::new(&namespace, format!("{}-setup", self.name));
        for (file, text) in &files {
            config = config.entry(file.clone(), text.clone());
        }
        let config = config.add(scope, "setup")?;
        let mut parts: Vec<&str> = vec![&self.mc_image];
        let mut user_keys = String::new();
        for user in &self.users {
            let _ = write!(user_keys, "{}={};", user.name, user.secret);
        }
        parts.push(&user_keys);
        for (file, text) in &files {
            parts.push(file);
            parts.push(text);
        }
        let job_name = format!("{}-setup-{}", self.name, girder_k8s::content_hash(&parts));
        let endpoint = format!("https://minio.{}.svc", self.namespace);
        let mut container = Container::new("mc", &self.mc_image)
            .run_as_user(MINIO_UID)
            .run_as_group(MINIO_UID)
            .command(["/bin/sh", "/setup/setup.sh"])
            .resources(Resources::new().cpu("100m", "500m").memory("64Mi", "256Mi"))
            .mount_read_only("setup", "/setup")
            .mount_read_only("tenant-config", "/tenant-config")
            .mount_read_only("kube-ca", "/kube-ca")
            .mount("tmp", "/tmp")
            .env(Env::value("MINIO_ENDPOINT", endpoint.clone()))
            .env(Env::value("MC_CONFIG_DIR", "/tmp/.mc"))
            .env(Env::value("HOME", "/tmp"));
        let mut seen = BTreeSet::new();
        for user in &self.users {
            if seen.insert(user.name.as_str()) {
                container = container.env(Env::secret_key(
                    access_key_var(&user.name),
                    &user.secret,
                    "CONSOLE_ACCESS_KEY",
                ));
            }
        }
        Job::new(&namespace, &job_name)
            .part_of(&self.name)
            .component("setup")
            .container(container)
            .volume(Volume::config_map("setup", &config))
            .volume(Volume::secret("tenant-config", &self.configuration))
            .volume(Volume::config_map(
                "kube-ca",
                &ConfigMapHandle::existing(&namespace, "kube-root-ca.crt"),
            ))
            .volume(Volume::empty_dir("tmp"))
            .api_token(false)
            .backoff_limit(6)
            .deadline(1800)
            .add(scope, "setup-job")?;
        Ok(MinioTenantHandle {
            tenant,
            endpoint,
            setup_job: job_name,
        })
    }
}
