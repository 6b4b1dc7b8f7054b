//! AWS Backup: a plan with a vault of its own, rules by frequency, and what it protects.

use girder_aws::aws;
use girder_aws::aws::backup_plan as plan;
use girder_aws::aws::backup_selection as selection;
use girder_core::construct::Construct;
use girder_core::terraform::IntoResourceSpec;
use girder_core::{Error, Expr, Result, Scope, Value};
use girder_iam::{Role, RoleHandle, Trust};

use crate::error::StorageError;

/// The AWS managed policies of the role AWS Backup takes to back up and to restore
/// (with their IAM path): AWS's own least privilege for every resource type it supports.
pub const BACKUP_SERVICE_ROLE_POLICIES: [&str; 2] = [
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
];

/// The fewest days AWS keeps a recovery point in cold storage: a rule that moves points
/// to cold storage must keep them at least this long after the move.
pub const COLD_STORAGE_MINIMUM_DAYS: u32 = 90;

/// The most days a vault lock may require or allow (AWS's limit, 100 years).
pub const VAULT_LOCK_MAXIMUM_DAYS: u32 = 36_500;

/// The fewest days of a compliance lock's grace time (AWS's minimum), during which it
/// can still be removed; after it, nobody can, the root user included.
pub const VAULT_LOCK_MINIMUM_GRACE_DAYS: u32 = 3;

/// How often a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frequency {
    Daily,
    Weekly,
    Monthly,
}

impl Frequency {
    fn name(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }
}

/// One rule of a [`BackupPlan`]: when it runs (a cron schedule in UTC), how long its
/// recovery points are kept, and when they move to cold storage.
///
/// Jobs start within the start window (60 minutes by default, AWS's minimum) and are
/// cancelled if not done within the completion window (24 hours by default).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct BackupRule {
    frequency: Frequency,
    retention_days: u32,
    hour: u8,
    minute: u8,
    start_window_minutes: u32,
    completion_window_minutes: u32,
    cold_storage_after_days: Option<u32>,
}

impl BackupRule {
    fn with(frequency: Frequency, retention_days: u32, hour: u8) -> Self {
        Self {
            frequency,
            retention_days,
            hour,
            minute: 0,
            start_window_minutes: 60,
            completion_window_minutes: 24 * 60,
            cold_storage_after_days: None,
        }
    }

    /// Every day at 03:00 UTC (rule `daily`), kept `retention_days`.
    pub fn daily(retention_days: u32) -> Self {
        Self::with(Frequency::Daily, retention_days, 3)
    }

    /// Every Sunday at 04:00 UTC (rule `weekly`), kept `retention_days`.
    pub fn weekly(retention_days: u32) -> Self {
        Self::with(Frequency::Weekly, retention_days, 4)
    }

    /// On the first of every month at 05:00 UTC (rule `monthly`), kept `retention_days`.
    pub fn monthly(retention_days: u32) -> Self {
        Self::with(Frequency::Monthly, retention_days, 5)
    }

    /// Run at `hour`:`minute` UTC instead (0-23, 0-59).
    pub fn at(mut self, hour: u8, minute: u8) -> Self {
        self.hour = hour;
        self.minute = minute;
        self
    }

    /// Start within `start_minutes` (60 or more) and complete within `completion_minutes`
    /// (at least 60 more than the start window) of the scheduled time.
    pub fn windows(mut self, start_minutes: u32, completion_minutes: u32) -> Self {
        self.start_window_minutes = start_minutes;
        self.completion_window_minutes = completion_minutes;
        self
    }

    /// Move recovery points to cold storage `days` after creation. AWS keeps a point at
    /// least 90 days in cold storage, so the retention must be at least `days + 90`; it
    /// moves only the resource types that support it (EBS, EFS, ...: the rule opts in for
    /// supported resources only), RDS snapshots stay warm.
    pub fn cold_storage_after(mut self, days: u32) -> Self {
        self.cold_storage_after_days = Some(days);
        self
    }

    /// The rule's name (`daily`, `weekly`, `monthly`).
    pub fn name(&self) -> &'static str {
        self.frequency.name()
    }

    /// How long its recovery points are kept.
    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    /// The schedule, AWS's six-field cron in UTC (`cron(0 3 * * ? *)`).
    pub fn schedule(&self) -> String {
        let (m, h) = (self.minute, self.hour);
        match self.frequency {
            Frequency::Daily => format!("cron({m} {h} * * ? *)"),
            Frequency::Weekly => format!("cron({m} {h} ? * SUN *)"),
            Frequency::Monthly => format!("cron({m} {h} 1 * ? *)"),
        }
    }

    fn check(&self, lock: Option<&VaultLock>) -> std::result::Result<(), StorageError> {
        let rule = self.name();
        if self.hour > 23 || self.minute > 59 {
            return Err(StorageError::BackupTime {
                rule,
                hour: self.hour,
                minute: self.minute,
            });
        }
        if self.retention_days == 0 {
            return Err(StorageError::BackupRetention {
                rule,
                days: self.retention_days,
            });
        }
        if self.start_window_minutes < 60
            || self.completion_window_minutes < self.start_window_minutes.saturating_add(60)
        {
            return Err(StorageError::BackupWindow {
                rule,
                start_minutes: self.start_window_minutes,
                completion_minutes: self.completion_window_minutes,
            });
        }
        if let Some(cold) = self.cold_storage_after_days {
            if cold == 0 || self.retention_days < cold.saturating_add(COLD_STORAGE_MINIMUM_DAYS) {
                return Err(StorageError::ColdStorage {
                    rule,
                    cold_after_days: cold,
                    retention_days: self.retention_days,
                });
            }
        }
        if let Some(lock) = lock {
            if !(lock.min_days..=lock.max_days).contains(&self.retention_days) {
                return Err(StorageError::RetentionOutsideLock {
                    rule,
                    days: self.retention_days,
                    min_days: lock.min_days,
                    max_days: lock.max_days,
                });
            }
        }
        Ok(())
    }

    fn to_rule(&self, vault: Expr<String>) -> plan::Rule {
        let mut lifecycle = plan::RuleLifecycle::new().delete_after(self.retention_days);
        if let Some(cold) = self.cold_storage_after_days {
            lifecycle = lifecycle
                .cold_storage_after(cold)
                .opt_in_to_archive_for_supported_resources(true);
        }
        plan::Rule::new(self.name(), vault)
            .schedule(self.schedule())
            .schedule_expression_timezone("Etc/UTC")
            .start_window(self.start_window_minutes)
            .completion_window(self.completion_window_minutes)
            .lifecycle(lifecycle)
    }
}

/// A vault lock in compliance mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct VaultLock {
    min_days: u32,
    max_days: u32,
    changeable_for_days: u32,
}

/// An AWS Backup plan to create: its own vault (encrypted with a KMS key of its own,
/// rotated), its rules, the resources it protects, and the role AWS Backup takes.
///
/// checkov 3.3.30 reports CKV2_AWS_64 on the key: its policy is KMS's default (the
/// account's IAM policies decide who may use it), as girder-eks's Secrets key.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a builder creates nothing until `add` is called"]
pub struct BackupPlan {
    name: String,
    rules: Vec<BackupRule>,
    resources: Vec<Value<String>>,
    tags: Vec<(String, String)>,
    lock: Option<VaultLock>,
    key_deletion_window_days: u8,
}

/// A plan in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct BackupPlanHandle {
    plan: aws::BackupPlanHandle,
    vault: aws::BackupVaultHandle,
    key: aws::KmsKeyHandle,
    role: RoleHandle,
}

impl BackupPlan {
    /// Plan `name` (2-50 letters, digits, '-' and '_'; the vault has the same name, the
    /// KMS key alias `alias/backup/<name>`, the role `<name>-backup`), without rules or
    /// resources yet: add both.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            rules: Vec::new(),
            resources: Vec::new(),
            tags: Vec::new(),
            lock: None,
            key_deletion_window_days: 30,
        }
    }

    /// Add a rule; each frequency at most once.
    pub fn rule(mut self, rule: BackupRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Protect the resource `arn` (an RDS instance's ARN, an EBS volume's).
    pub fn protect(mut self, arn: impl Into<Value<String>>) -> Self {
        self.resources.push(arn.into());
        self
    }

    /// Protect every resource tagged `key` = `value` (volumes made at run time, such as
    /// those the EBS CSI driver creates), of the resource types the region has opted in
    /// to (RDS and EBS are by default).
    pub fn protect_tagged(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Lock the vault in compliance mode: every recovery point is kept at least
    /// `min_days` and at most `max_days`, and nobody, the root user included, can delete
    /// one earlier. The lock can be removed during the first `changeable_for_days` (3 or
    /// more); after that it is **irreversible**, for the vault's lifetime. Each rule's
    /// retention must lie within the bounds.
    pub fn compliance_lock(
        mut self,
        min_days: u32,
        max_days: u32,
        changeable_for_days: u32,
    ) -> Self {
        self.lock = Some(VaultLock {
            min_days,
            max_days,
            changeable_for_days,
        });
        self
    }

    fn check(&self) -> std::result::Result<(), StorageError> {
        let valid_name = (2..=50).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !valid_name {
            return Err(StorageError::BackupName(self.name.clone()));
        }
        if let Some(lock) = &self.lock {
            if lock.min_days == 0
                || lock.min_days > lock.max_days
                || lock.max_days > VAULT_LOCK_MAXIMUM_DAYS
                || lock.changeable_for_days < VAULT_LOCK_MINIMUM_GRACE_DAYS
            {
                return Err(StorageError::VaultLock {
                    min_days: lock.min_days,
                    max_days: lock.max_days,
                    changeable_for_days: lock.changeable_for_days,
                });
            }
        }
        if self.rules.is_empty() {
            return Err(StorageError::NoBackupRules);
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if self.rules[..index]
                .iter()
                .any(|r| r.frequency == rule.frequency)
            {
                return Err(StorageError::DuplicateBackupRule(rule.name()));
            }
            rule.check(self.lock.as_ref())?;
        }
        if self.resources.is_empty() && self.tags.is_empty() {
            return Err(StorageError::NothingToBackUp);
        }
        Ok(())
    }
}

impl Construct for BackupPlan {
    type Handle = BackupPlanHandle;

    /// Add the key, vault (and lock), plan, role and selections as construct `id`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<BackupPlanHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| Error::construct(&at, e))?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let key = scope.add(
            "key",
            aws::KmsKey::new()
                .description(format!("AWS Backup vault {}", self.name))
                .enable_key_rotation(true)
                .deletion_window_in_days(self.key_deletion_window_days),
        )?;
        scope.add(
            "key-alias",
            aws::KmsAlias::new(key.key_id()).name(format!("alias/backup/{}", self.name)),
        )?;
        let vault = scope.add(
            "vault",
            aws::BackupVault::new(&self.name).kms_key_arn(key.arn()),
        )?;
        if let Some(lock) = self.lock {
            scope.add(
                "vault-lock",
                aws::BackupVaultLockConfiguration::new(vault.name())
                    .min_retention_days(lock.min_days)
                    .max_retention_days(lock.max_days)
                    .changeable_for_days(lock.changeable_for_days),
            )?;
        }
        let rules: Vec<plan::Rule> = self
            .rules
            .iter()
            .map(|rule| rule.to_rule(vault.name()))
            .collect();
        let backup_plan = scope.add_default(aws::BackupPlan::new(&self.name, rules))?;
        let mut role = Role::new(
            format!("{}-backup", self.name),
            Trust::service("backup.amazonaws.com"),
        )
        .description(format!("AWS Backup for plan {}", self.name));
        for policy in BACKUP_SERVICE_ROLE_POLICIES {
            role = role.aws_managed_policy(partition.partition(), policy);
        }
        let role = role.add(&mut scope, "role")?;
        if !self.resources.is_empty() {
            scope.add(
                "resources",
                aws::BackupSelection::new(role.arn(), "resources", backup_plan.id())
                    .resources(self.resources)
                    .into_spec()
                    .depends_on_all(&role),
            )?;
        }
        if !self.tags.is_empty() {
            let mut tagged = aws::BackupSelection::new(role.arn(), "tagged", backup_plan.id());
            for (key, value) in self.tags {
                tagged =
                    tagged.selection_tag(selection::SelectionTag::new(key, "STRINGEQUALS", value));
            }
            scope.add("tagged", tagged.into_spec().depends_on_all(&role))?;
        }
        Ok(BackupPlanHandle {
            plan: backup_plan,
            vault,
            key,
            role,
        })
    }
}

impl BackupPlanHandle {
    /// The plan's id.
    pub fn id(&self) -> Expr<String> {
        self.plan.id()
    }

    /// The plan's ARN.
    pub fn arn(&self) -> Expr<String> {
        self.plan.arn()
    }

    /// The vault's name.
    pub fn vault_name(&self) -> Expr<String> {
        self.vault.name()
    }

    /// The vault's ARN.
    pub fn vault_arn(&self) -> Expr<String> {
        self.vault.arn()
    }

    /// The ARN of the KMS key the vault encrypts with.
    pub fn key_arn(&self) -> Expr<String> {
        self.key.arn()
    }

    /// The role AWS Backup takes for this plan's selections.
    pub fn role(&self) -> &RoleHandle {
        &self.role
    }

    /// The generated plan.
    pub fn resource(&self) -> &aws::BackupPlanHandle {
        &self.plan
    }
}
