//! S3 buckets with safe defaults and least-privilege grants.

use girder_aws::aws;
use girder_aws::aws::s3_bucket_lifecycle_configuration as lifecycle;
use girder_aws::aws::s3_bucket_object_lock_configuration as object_lock;
use girder_aws::aws::s3_bucket_ownership_controls as ownership;
use girder_aws::aws::s3_bucket_server_side_encryption_configuration as sse;
use girder_aws::aws::s3_bucket_versioning as versioning;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::{Reference, fns};
use girder_core::terraform::{Dependency, IntoResourceSpec};
use girder_core::vocabulary::Arn;
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::{Condition, PolicyDocument, RoleHandle, Statement};

use crate::error::StorageError;
use crate::name::BucketName;

/// How objects are encrypted at rest.
#[derive(Clone, Debug, PartialEq)]
pub enum Encryption {
    /// SSE-S3 (AES-256 with S3-managed keys).
    S3Managed,
    /// SSE-KMS with this key, with S3 bucket keys to cut KMS requests.
    Kms(Expr<String>),
}

/// How S3 Object Lock protects a bucket's object versions during their retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectLockMode {
    /// Nobody deletes or overwrites a version, or shortens its retention, unless they hold
    /// `s3:BypassGovernanceRetention` and ask for it: a guard a break-glass role can lift.
    Governance,
    /// Nobody, the root user included, deletes a version or shortens its retention until
    /// it ends: the mode for records that must outlive a compromised account.
    Compliance,
}

impl ObjectLockMode {
    /// S3's name, `GOVERNANCE` or `COMPLIANCE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Governance => "GOVERNANCE",
            Self::Compliance => "COMPLIANCE",
        }
    }
}

/// The most days of a default Object Lock retention girder accepts (100 years, as AWS
/// Backup's vault lock).
pub const OBJECT_LOCK_MAXIMUM_DAYS: u16 = 36_500;

/// S3 Object Lock on a bucket: enabled when the bucket is created (`object_lock_enabled`,
/// which S3 needs at creation) with a default retention every new object version gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjectLock {
    mode: ObjectLockMode,
    days: u16,
}

impl ObjectLock {
    /// Governance mode, each version kept `days` (1 to [`OBJECT_LOCK_MAXIMUM_DAYS`]).
    pub fn governance(days: u16) -> Self {
        Self {
            mode: ObjectLockMode::Governance,
            days,
        }
    }

    /// Compliance mode, each version kept `days` (1 to [`OBJECT_LOCK_MAXIMUM_DAYS`]).
    pub fn compliance(days: u16) -> Self {
        Self {
            mode: ObjectLockMode::Compliance,
            days,
        }
    }

    /// The mode.
    pub fn mode(&self) -> ObjectLockMode {
        self.mode
    }

    /// The default retention, in days.
    pub fn days(&self) -> u16 {
        self.days
    }
}

/// An S3 bucket to create.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct Bucket {
    name: BucketName,
    encryption: Encryption,
    versioned: bool,
    expirations: Vec<(String, u16)>,
    force_destroy: bool,
    prevent_destroy: bool,
    policy_statements: Vec<Statement>,
    public_keys: Vec<String>,
    object_lock: Option<ObjectLock>,
}

/// A bucket in the stack: its name (known at synth when the name is a literal), its ARN,
/// and the policy statements that read or write it.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct BucketHandle {
    bucket: aws::S3BucketHandle,
    policy: aws::S3BucketPolicyHandle,
    name: Value<String>,
    kms_key: Option<Expr<String>>,
    policy_document: PolicyDocument,
}

impl Bucket {
    /// Bucket `name`: private, SSE-S3, versioned, TLS only.
    pub fn new(name: BucketName) -> Self {
        Self {
            name,
            encryption: Encryption::S3Managed,
            versioned: true,
            expirations: Vec::new(),
            force_destroy: false,
            prevent_destroy: false,
            policy_statements: Vec::new(),
            public_keys: Vec::new(),
            object_lock: None,
        }
    }

    /// Lock object versions with S3 Object Lock: `object_lock_enabled` on the bucket (S3
    /// allows it at creation, so adding it to an existing bucket replaces the bucket) and
    /// `aws_s3_bucket_object_lock_configuration` with `lock` as every new version's default
    /// retention. The bucket must stay versioned, and no [`Bucket::expire_prefix`] may be
    /// shorter than the lock (S3 would keep the locked versions anyway; a shorter expiry
    /// only says something the bucket does not do). Noncurrent versions then expire
    /// `lock.days()` after they are replaced, not a day after.
    pub fn object_lock(mut self, lock: ObjectLock) -> Self {
        self.object_lock = Some(lock);
        self
    }

    /// Let anyone read the object at exactly `key` (`s3:GetObject` for principal `*` in
    /// the bucket policy, on that key only): documents meant for the public, such as an
    /// OIDC issuer's discovery documents. The public access block then lets that policy
    /// through (`block_public_policy` and `restrict_public_buckets` off; ACLs stay
    /// blocked and ignored, and ownership stays enforced), which scanners report
    /// (checkov CKV_AWS_54/56, CKV2_AWS_6): acknowledge them with the reason.
    pub fn public_object(mut self, key: impl Into<String>) -> Self {
        self.public_keys.push(key.into());
        self
    }

    /// Add `statement` to the bucket policy (after the TLS-only deny): a service that
    /// writes into the bucket, such as load balancer access logs. A bucket has one policy,
    /// so every grant to another principal goes through here.
    pub fn policy_statement(mut self, statement: Statement) -> Self {
        self.policy_statements.push(statement);
        self
    }

    /// Encrypt with this.
    pub fn encryption(mut self, encryption: Encryption) -> Self {
        self.encryption = encryption;
        self
    }

    /// No versioning (scratch data whose old versions are worthless).
    pub fn unversioned(mut self) -> Self {
        self.versioned = false;
        self
    }

    /// Expire objects under `prefix` (`raw/`) `days` after creation (noncurrent versions
    /// too, a day after they are replaced).
    pub fn expire_prefix(mut self, prefix: impl Into<String>, days: u16) -> Self {
        self.expirations.push((prefix.into(), days));
        self
    }

    /// Let `terraform destroy` delete a bucket that still holds objects (dev only).
    pub fn force_destroy(mut self) -> Self {
        self.force_destroy = true;
        self
    }

    /// Refuse plans that destroy the bucket (`lifecycle.prevent_destroy`): state,
    /// backups, anything that cannot be recreated.
    pub fn prevent_destroy(mut self) -> Self {
        self.prevent_destroy = true;
        self
    }
}

impl Construct for Bucket {
    type Handle = BucketHandle;

    /// Add the bucket and its configuration resources as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<BucketHandle> {
        let mut scope = scope.construct_child(id)?;
        self.add_parts(&mut scope)?.finish(&mut scope, Vec::new())
    }
}

/// A bucket whose resources exist but whose policy is not written yet: a construct
/// whose policy names a resource made from the bucket (a CloudFront distribution whose
/// origin is the bucket) finishes it once that resource exists.
pub(crate) struct PendingBucket {
    bucket: aws::S3BucketHandle,
    access_block: aws::S3BucketPublicAccessBlockHandle,
    name: Value<String>,
    encryption: Encryption,
    policy_statements: Vec<Statement>,
    public_keys: Vec<String>,
    at: String,
}

impl Bucket {
    /// Everything but the bucket policy, in the bucket's own scope.
    pub(crate) fn add_parts(self, scope: &mut Scope<'_>) -> Result<PendingBucket> {
        let at = scope.location();
        let refuse = |e: StorageError| Error::construct(&at, e);
        let name = self.name.resolve().map_err(refuse)?;
        for (prefix, days) in &self.expirations {
            if *days == 0 {
                return Err(refuse(StorageError::ExpireAfterZeroDays(prefix.clone())));
            }
            if prefix.starts_with('/') {
                return Err(refuse(StorageError::PrefixStartsWithSlash(prefix.clone())));
            }
        }
        for key in &self.public_keys {
            if key.is_empty() || key.starts_with('/') || key.contains(['*', '?']) {
                return Err(refuse(StorageError::PublicKey(key.clone())));
            }
        }
        if let Some(lock) = self.object_lock {
            if !(1..=OBJECT_LOCK_MAXIMUM_DAYS).contains(&lock.days) {
                return Err(refuse(StorageError::ObjectLockDays(lock.days)));
            }
            if !self.versioned {
                return Err(refuse(StorageError::ObjectLockUnversioned));
            }
            if let Some((prefix, days)) = self.expirations.iter().find(|(_, d)| *d < lock.days) {
                return Err(refuse(StorageError::ExpiryShorterThanLock {
                    prefix: prefix.clone(),
                    days: *days,
                    lock_days: lock.days,
                }));
            }
        }
        let public = !self.public_keys.is_empty();
        let mut bucket_spec = aws::S3Bucket::new()
            .bucket(name.clone())
            .force_destroy(self.force_destroy);
        if self.object_lock.is_some() {
            bucket_spec = bucket_spec.object_lock_enabled(true);
        }
        let mut spec = bucket_spec.into_spec();
        if self.prevent_destroy {
            spec = spec.prevent_destroy();
        }
        let bucket = scope.add_default(spec)?;
        let access_block = scope.add(
            "public-access-block",
            aws::S3BucketPublicAccessBlock::new(bucket.id())
                .block_public_acls(true)
                // A policy naming public keys must get through; nothing else is public.
                .block_public_policy(!public)
                .ignore_public_acls(true)
                .restrict_public_buckets(!public),
        )?;
        scope.add(
            "ownership",
            aws::S3BucketOwnershipControls::new(
                bucket.id(),
                ownership::Rule::new("BucketOwnerEnforced"),
            ),
        )?;
        let default = match &self.encryption {
            Encryption::S3Managed => sse::RuleApplyServerSideEncryptionByDefault::new("AES256"),
            Encryption::Kms(key) => {
                sse::RuleApplyServerSideEncryptionByDefault::new("aws:kms").kms_master_key_id(key)
            }
        };
        scope.add(
            "encryption",
            aws::S3BucketServerSideEncryptionConfiguration::new(
                bucket.id(),
                [sse::Rule::new()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(matches!(self.encryption, Encryption::Kms(_)))],
            ),
        )?;
        if self.versioned {
            let versioning = scope.add(
                "versioning",
                aws::S3BucketVersioning::new(
                    bucket.id(),
                    versioning::VersioningConfiguration::new("Enabled"),
                ),
            )?;
            if let Some(lock) = self.object_lock {
                scope.add(
                    "object-lock",
                    aws::S3BucketObjectLockConfiguration::new(bucket.id())
                        .rule(object_lock::Rule::new(
                            object_lock::RuleDefaultRetention::new()
                                .mode(lock.mode.as_str())
                                .days(lock.days),
                        ))
                        .into_spec()
                        // S3 locks versions: versioning is on first.
                        .depends_on(&versioning),
                )?;
            }
        }
        let noncurrent_days = self.object_lock.map_or(1, |lock| lock.days);
        let mut rules = aws::S3BucketLifecycleConfiguration::new(bucket.id()).rule(
            lifecycle::Rule::new("abort-incomplete-uploads", "Enabled")
                .filter(lifecycle::RuleFilter::new().prefix(""))
                .abort_incomplete_multipart_upload(
                    lifecycle::RuleAbortIncompleteMultipartUpload::new().days_after_initiation(7),
                ),
        );
        for (prefix, days) in &self.expirations {
            let rule_id = format!("expire-{}", prefix.trim_end_matches('/').replace('/', "-"));
            rules = rules.rule(
                lifecycle::Rule::new(rule_id, "Enabled")
                    .filter(lifecycle::RuleFilter::new().prefix(prefix))
                    .expiration(lifecycle::RuleExpiration::new().days(*days))
                    .noncurrent_version_expiration(
                        lifecycle::RuleNoncurrentVersionExpiration::new(noncurrent_days),
                    ),
            );
        }
        scope.add("lifecycle", rules)?;
        Ok(PendingBucket {
            bucket,
            access_block,
            name,
            encryption: self.encryption,
            policy_statements: self.policy_statements,
            public_keys: self.public_keys,
            at,
        })
    }
}

impl PendingBucket {
    /// The generated bucket.
    pub(crate) fn resource(&self) -> &aws::S3BucketHandle {
        &self.bucket
    }

    /// The bucket ARN.
    pub(crate) fn arn(&self) -> Arn {
        Arn::attribute(self.bucket.arn())
    }

    /// The bucket name.
    pub(crate) fn name(&self) -> &Value<String> {
        &self.name
    }

    /// Write the bucket policy (TLS only, the builder's statements, `extra`, the public
    /// keys) into `scope`, the bucket's own scope, and give the handle.
    pub(crate) fn finish(
        self,
        scope: &mut Scope<'_>,
        extra: Vec<Statement>,
    ) -> Result<BucketHandle> {
        let Self {
            bucket,
            access_block,
            name,
            encryption,
            policy_statements,
            public_keys,
            at,
        } = self;
        let public = !public_keys.is_empty();
        let mut policy = PolicyDocument::new().statement(
            Statement::deny(["s3:*"])
                .sid("DenyInsecureTransport")
                .principal("AWS", ["*"])
                .on([bucket.arn(), fns::format("%s/*", [bucket.arn().any()])])
                .when(Condition::bool("aws:SecureTransport", false)),
        );
        for statement in policy_statements.into_iter().chain(extra) {
            policy = policy.statement(statement);
        }
        if public {
            let mut read = Statement::allow(["s3:GetObject"])
                .sid("PublicObjects")
                .principal("AWS", ["*"]);
            for key in &public_keys {
                read = read.on([Arn::attribute(bucket.arn()).join(format!("/{key}"))]);
            }
            policy = policy.statement(read);
        }
        // A new bucket starts with every Block Public Access setting on: a policy with a
        // public statement, put before the block is relaxed, is refused (403). Such a
        // policy waits for the block.
        let policy_document = policy;
        let policy_spec =
            aws::S3BucketPolicy::new(bucket.id(), policy_document.render(&at)?).into_spec();
        let policy = scope.add(
            "tls-only",
            if public {
                policy_spec.depends_on(&access_block)
            } else {
                policy_spec
            },
        )?;
        let kms_key = match encryption {
            Encryption::Kms(key) => Some(key),
            Encryption::S3Managed => None,
        };
        Ok(BucketHandle {
            bucket,
            policy,
            name,
            kms_key,
            policy_document,
        })
    }
}

impl Dependable for BucketHandle {
    /// The bucket policy (which refers to the bucket, so the bucket comes first): a
    /// service writing into the bucket waits for the statement that lets it.
    fn dependencies(&self) -> Vec<Reference> {
        vec![self.policy.dependency()]
    }
}

impl BucketHandle {
    /// The bucket name: a literal when [`BucketName`] had no apply-time parts.
    pub fn name(&self) -> &Value<String> {
        &self.name
    }

    /// The bucket name, if it is known at synth.
    pub fn known_name(&self) -> Option<&str> {
        match &self.name {
            Value::Literal(name) => Some(name),
            Value::Expr(_) => None,
        }
    }

    /// The bucket ARN (the bucket's `arn` attribute, so a policy naming it is created
    /// after the bucket).
    pub fn arn(&self) -> Arn {
        Arn::attribute(self.bucket.arn())
    }

    /// The generated resource.
    pub fn resource(&self) -> &aws::S3BucketHandle {
        &self.bucket
    }

    /// The bucket policy as written (TLS-only deny first), for reviews and tests that
    /// ask what it lets in ([`PolicyDocument::access`]).
    pub fn policy_document(&self) -> &PolicyDocument {
        &self.policy_document
    }

    /// The ARN of the objects under `prefix`.
    pub fn objects_arn(&self, prefix: &str) -> Arn {
        self.arn().join(format!("/{prefix}*"))
    }

    /// The statement that lets a principal list the keys under `prefix` (`s3:ListBucket`
    /// with an `s3:prefix` condition).
    pub fn list_statement(&self, prefix: &str) -> Statement {
        let list = Statement::allow(["s3:ListBucket"]).on([self.arn()]);
        if prefix.is_empty() {
            // The whole bucket: no `s3:prefix` condition, which a list without a prefix
            // (`aws s3 ls s3://bucket`) would fail, the key being absent from it.
            return list;
        }
        list.when(Condition::string_like("s3:prefix", [format!("{prefix}*")]))
    }

    /// The statements that let a principal read objects under `prefix` (`""` for all):
    /// list them, get them, and decrypt them with the bucket's KMS key if it has one.
    pub fn read_statements(&self, prefix: &str) -> Vec<Statement> {
        let mut statements = vec![
            self.list_statement(prefix),
            Statement::allow(["s3:GetObject"]).on([self.objects_arn(prefix)]),
        ];
        if let Some(key) = &self.kms_key {
            statements.push(Statement::allow(["kms:Decrypt"]).on([key.clone()]));
        }
        statements
    }

    /// The statements that let a principal write and delete objects under `prefix`.
    pub fn write_statements(&self, prefix: &str) -> Vec<Statement> {
        let mut statements = vec![
            Statement::allow(["s3:PutObject", "s3:DeleteObject"]).on([self.objects_arn(prefix)]),
        ];
        if let Some(key) = &self.kms_key {
            statements
                .push(Statement::allow(["kms:Encrypt", "kms:GenerateDataKey"]).on([key.clone()]));
        }
        statements
    }

    /// Let `role` read objects under `prefix`: an inline policy on the role (construct `id`).
    pub fn grant_read(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        role: &RoleHandle,
        prefix: &str,
    ) -> Result<()> {
        self.grant(scope, id, role, self.read_statements(prefix))
    }

    /// Let `role` read, write and delete objects under `prefix`.
    pub fn grant_read_write(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        role: &RoleHandle,
        prefix: &str,
    ) -> Result<()> {
        let mut statements = self.read_statements(prefix);
        statements.extend(self.write_statements(prefix));
        self.grant(scope, id, role, statements)
    }

    fn grant(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        role: &RoleHandle,
        statements: Vec<Statement>,
    ) -> Result<()> {
        let at = format!("{}/{id}", scope.location());
        let document = statements
            .into_iter()
            .fold(PolicyDocument::new(), PolicyDocument::statement);
        scope.add(
            id,
            aws::IamRolePolicy::new(document.render(&at)?, role.name()).name(id),
        )?;
        Ok(())
    }
}
