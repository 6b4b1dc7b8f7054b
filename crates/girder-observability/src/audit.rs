//! IAM activity monitoring for an AWS account: [`AuditTrail`] (a CloudTrail trail to an
//! encrypted, retained bucket and log group, with alarms on the changes the CIS AWS
//! Foundations Benchmark (section 4) and AWS Security Hub (`CloudWatch.x`) ask to be
//! alerted on) and [`AccessAnalyzer`] (IAM Access Analyzer for the account).
//!
//! The periodic permissions report is read from what both create: see
//! [`AuditTrail`]'s "Periodic permissions report".

use girder_aws::aws;
use girder_aws::aws::cloudtrail as trail;
use girder_aws::aws::cloudwatch_log_metric_filter as filter;
use girder_core::construct::{Construct, Dependable};
use girder_core::expr::fns;
use girder_core::terraform::IntoResourceSpec;
use girder_core::vocabulary::{Arn, AwsLocation, LogRetention};
use girder_core::{Result, Scope, Value};
use girder_iam::{Condition, PolicyDocument, Role, RoleHandle, Statement, Trust};
use girder_storage::{Bucket, BucketHandle, BucketName, Encryption, ObjectLock};

use crate::cloudwatch::TreatMissingData;
use crate::cloudwatch::{Comparison, MetricAlarm, MetricAlarmHandle, Period, Statistic};
use crate::error::ObservabilityError;
use crate::key::{KEY_POLICY_RESOURCE, account_administers_key, add_key};

/// The longest trail name: its bucket is `<name>-audit-<account>-<region>`, at most 63
/// characters with a 12-digit account and the longest region (14).
pub const MAX_TRAIL_NAME_LEN: usize = 29;
/// How long the bucket keeps log files by default, in days.
pub const DEFAULT_RETENTION_DAYS: u16 = 365;
/// How long the log group keeps events by default, in days.
pub const DEFAULT_LOG_RETENTION_DAYS: u16 = 90;
/// The CloudWatch namespace of the trail's metrics: `CloudTrailMetrics/<trail name>`.
pub const METRIC_NAMESPACE_PREFIX: &str = "CloudTrailMetrics";

const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
/// One alarm of the trail: a metric filter on its log group and an alarm on the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAlarm {
    /// Changes to IAM policies (CIS 4.4, Security Hub CloudWatch.4).
    IamPolicyChanges,
    /// Changes to security groups (CIS 4.10, CloudWatch.10).
    SecurityGroupChanges,
    /// Changes to network ACLs (CIS 4.11, CloudWatch.11).
    NetworkAclChanges,
    /// Use of the root user (CIS 4.3, CloudWatch.1).
    RootUsage,
    /// Console sign-in without MFA (CIS 4.2, CloudWatch.3).
    ConsoleSignInWithoutMfa,
    /// Changes to CloudTrail's configuration (CIS 4.5, CloudWatch.5).
    CloudTrailChanges,
    /// Disabling or scheduled deletion of customer managed KMS keys (CIS 4.7,
    /// CloudWatch.7).
    KmsKeyDisabledOrDeleted,
}

impl AuditAlarm {
    /// Every alarm, in the order the trail adds them.
    pub const ALL: [AuditAlarm; 7] = [
        AuditAlarm::IamPolicyChanges,
        AuditAlarm::SecurityGroupChanges,
        AuditAlarm::NetworkAclChanges,
        AuditAlarm::RootUsage,
        AuditAlarm::ConsoleSignInWithoutMfa,
        AuditAlarm::CloudTrailChanges,
        AuditAlarm::KmsKeyDisabledOrDeleted,
    ];

    /// The construct id (and alarm and filter name suffix): `iam-policy-changes`.
    pub fn id(self) -> &'static str {
        match self {
            AuditAlarm::IamPolicyChanges => "iam-policy-changes",
            AuditAlarm::SecurityGroupChanges => "security-group-changes",
            AuditAlarm::NetworkAclChanges => "nacl-changes",
            AuditAlarm::RootUsage => "root-usage",
            AuditAlarm::ConsoleSignInWithoutMfa => "console-signin-without-mfa",
            AuditAlarm::CloudTrailChanges => "cloudtrail-changes",
            AuditAlarm::KmsKeyDisabledOrDeleted => "kms-key-disabled-or-deleted",
        }
    }

    /// The metric the filter counts into.
    pub fn metric_name(self) -> &'static str {
        match self {
            AuditAlarm::IamPolicyChanges => "IamPolicyChanges",
            AuditAlarm::SecurityGroupChanges => "SecurityGroupChanges",
            AuditAlarm::NetworkAclChanges => "NetworkAclChanges",
            AuditAlarm::RootUsage => "RootAccountUsage",
            AuditAlarm::ConsoleSignInWithoutMfa => "ConsoleSignInWithoutMfa",
            AuditAlarm::CloudTrailChanges => "CloudTrailChanges",
            AuditAlarm::KmsKeyDisabledOrDeleted => "KmsKeyDisabledOrDeleted",
        }
    }

    /// The benchmark controls it answers.
    pub fn controls(self) -> &'static str {
        match self {
            AuditAlarm::IamPolicyChanges => "CIS 4.4, CloudWatch.4",
            AuditAlarm::SecurityGroupChanges => "CIS 4.10, CloudWatch.10",
            AuditAlarm::NetworkAclChanges => "CIS 4.11, CloudWatch.11",
            AuditAlarm::RootUsage => "CIS 4.3, CloudWatch.1",
            AuditAlarm::ConsoleSignInWithoutMfa => "CIS 4.2, CloudWatch.3",
            AuditAlarm::CloudTrailChanges => "CIS 4.5, CloudWatch.5",
            AuditAlarm::KmsKeyDisabledOrDeleted => "CIS 4.7, CloudWatch.7",
        }
    }

    /// What the alarm means (its description).
    pub fn summary(self) -> &'static str {
        match self {
            AuditAlarm::IamPolicyChanges => "An IAM policy was created, changed or detached",
            AuditAlarm::SecurityGroupChanges => "A security group or its rules changed",
            AuditAlarm::NetworkAclChanges => "A network ACL or its entries changed",
            AuditAlarm::RootUsage => "The root user made a request",
            AuditAlarm::ConsoleSignInWithoutMfa => {
                "An IAM user signed in to the console without MFA"
            }
            AuditAlarm::CloudTrailChanges => {
                "A CloudTrail trail was created, changed, stopped or deleted"
            }
            AuditAlarm::KmsKeyDisabledOrDeleted => {
                "A customer managed KMS key was disabled or scheduled for deletion"
            }
        }
    }

    /// The CloudWatch Logs filter pattern, as the benchmark gives it.
    pub fn filter_pattern(self) -> &'static str {
        match self {
            AuditAlarm::IamPolicyChanges => concat!(
                "{($.eventSource=iam.amazonaws.com) && (($.eventName=DeleteGroupPolicy) || ",
                "($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ",
                "($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ",
                "($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ",
                "($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ",
                "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ",
                "($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ",
                "($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ",
                "($.eventName=DetachGroupPolicy))}"
            ),
            AuditAlarm::SecurityGroupChanges => concat!(
                "{($.eventName=AuthorizeSecurityGroupIngress) || ",
                "($.eventName=AuthorizeSecurityGroupEgress) || ",
                "($.eventName=RevokeSecurityGroupIngress) || ",
                "($.eventName=RevokeSecurityGroupEgress) || ",
                "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}"
            ),
            AuditAlarm::NetworkAclChanges => concat!(
                "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ",
                "($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ",
                "($.eventName=ReplaceNetworkAclEntry) || ",
                "($.eventName=ReplaceNetworkAclAssociation)}"
            ),
            AuditAlarm::RootUsage => concat!(
                "{$.userIdentity.type=\"Root\" && $.userIdentity.invokedBy NOT EXISTS && ",
                "$.eventType!=\"AwsServiceEvent\"}"
            ),
            AuditAlarm::ConsoleSignInWithoutMfa => concat!(
                "{($.eventName=\"ConsoleLogin\") && ($.additionalEventData.MFAUsed!=\"Yes\") && ",
                "($.userIdentity.type=\"IAMUser\") && ",
                "($.responseElements.ConsoleLogin=\"Success\")}"
            ),
            AuditAlarm::CloudTrailChanges => concat!(
                "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ",
                "($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ",
                "($.eventName=StopLogging)}"
            ),
            AuditAlarm::KmsKeyDisabledOrDeleted => concat!(
                "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ",
                "($.eventName=ScheduleKeyDeletion))}"
            ),
        }
    }
}

/// A multi-region CloudTrail trail of the account's management events (read and write,
/// global services included, log file validation on) to a bucket of its own (SSE-KMS with
/// the trail's key, TLS only, versioned, `prevent_destroy`, log files expired after
/// [`AuditTrail::retention_days`]) and to a log group (encrypted with the same key, kept
/// [`AuditTrail::log_retention_days`]), with a metric filter and an alarm per
/// [`AuditAlarm`].
///
/// Resources under construct `id`: `account`, `partition`, `region` (data sources), `key`
/// and `key-alias`, `bucket` (a girder-storage [`Bucket`]), `logs`, `log-role` (the role
/// CloudTrail assumes to write the group: `logs:CreateLogStream` and `logs:PutLogEvents`
/// on that group's streams only), `trail`, and per alarm `<alarm id>-filter` and
/// `<alarm id>` (a [`MetricAlarm`]: Sum >= 1 over 300 s, missing data not breaching).
///
/// # Periodic permissions report
///
/// Nothing here schedules it (girder synthesizes no CI); a scheduled CI job (weekly, say)
/// with a read-only role (`iam:GenerateCredentialReport`, `iam:GetCredentialReport`,
/// `access-analyzer:ListFindings`, `logs:FilterLogEvents` on the trail's group) builds it
/// from what this trail and an [`AccessAnalyzer`] create:
///
/// 1. who can sign in and how: `aws iam generate-credential-report`, then
///    `aws iam get-credential-report` (every user's password and access-key age and last
///    use, MFA);
/// 2. what is shared outside the account: `aws accessanalyzer list-findings
///    --analyzer-arn <AccessAnalyzerHandle::arn> --filter '{"status":{"eq":["ACTIVE"]}}'`;
/// 3. who changed IAM since the last report: `aws logs filter-log-events
///    --log-group-name <AuditTrailHandle::log_group_name> --start-time <last report>
///    --filter-pattern '<AuditAlarm::IamPolicyChanges.filter_pattern()>'`.
///
/// The alarms are the push side of the same record: a change to IAM, security groups,
/// network ACLs, the trail or a key, root use, and console sign-in without MFA reach the
/// topics given to [`AuditTrail::alert_to`] within five minutes.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug)]
pub struct AuditTrail {
    name: String,
    retention_days: u16,
    log_retention_days: u16,
    key_deletion_window_days: u8,
    topics: Vec<Value<String>>,
    object_lock: Option<ObjectLock>,
}

/// The trail in the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct AuditTrailHandle {
    trail: aws::CloudtrailHandle,
    trail_arn: Arn,
    log_files_arn: Arn,
    bucket: BucketHandle,
    key: aws::KmsKeyHandle,
    log_group: aws::CloudwatchLogGroupHandle,
    log_group_name: String,
    log_role: RoleHandle,
    alarms: Vec<(AuditAlarm, MetricAlarmHandle)>,
    key_policy: PolicyDocument,
    bucket_policy: PolicyDocument,
    log_policy: PolicyDocument,
}

impl AuditTrail {
    /// Trail `name` (3 to [`MAX_TRAIL_NAME_LEN`] lowercase letters, digits and single
    /// hyphens, starting with a letter): its bucket is `<name>-audit-<account>-<region>`,
    /// its log group `/aws/cloudtrail/<name>`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            retention_days: DEFAULT_RETENTION_DAYS,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            key_deletion_window_days: 30,
            topics: Vec::new(),
            object_lock: None,
        }
    }

    /// Create the bucket with S3 Object Lock, `lock` the default retention of every log
    /// file (governance: only a principal allowed `s3:BypassGovernanceRetention` may
    /// delete one early; compliance: nobody may). The lock may not be longer than
    /// [`AuditTrail::retention_days`], and replaced versions are kept as long as the lock
    /// (girder-storage's [`Bucket::object_lock`]).
    pub fn object_lock(mut self, lock: ObjectLock) -> Self {
        self.object_lock = Some(lock);
        self
    }

    /// Expire log files from the bucket `days` after they are written (default 365).
    pub fn retention_days(mut self, days: u16) -> Self {
        self.retention_days = days;
        self
    }

    /// Keep the log group's events `days` (a CloudWatch Logs period; default 90).
    pub fn log_retention_days(mut self, days: u16) -> Self {
        self.log_retention_days = days;
        self
    }

    /// Days KMS waits before deleting the trail's key once scheduled (7 to 30, default 30).
    pub fn key_deletion_window_days(mut self, days: u8) -> Self {
        self.key_deletion_window_days = days;
        self
    }

    /// Send the alarms (on ALARM and on OK) to SNS topic `arn`; may be given more than once.
    pub fn alert_to(mut self, arn: impl Into<Value<String>>) -> Self {
        self.topics.push(arn.into());
        self
    }

    fn check(&self) -> std::result::Result<LogRetention, ObservabilityError> {
        check_trail_name(&self.name)?;
        if self.retention_days == 0 {
            return Err(ObservabilityError::Retention {
                what: "bucket retention".into(),
                days: self.retention_days,
                allowed: "at least 1 day".into(),
            });
        }
        if !(7..=30).contains(&self.key_deletion_window_days) {
            return Err(ObservabilityError::Retention {
                what: "key deletion window".into(),
                days: self.key_deletion_window_days.into(),
                allowed: "7 to 30 days".into(),
            });
        }
        LogRetention::days(self.log_retention_days).map_err(|e| ObservabilityError::Retention {
            what: "log retention".into(),
            days: e.0,
            allowed: format!(
                "a CloudWatch Logs period: {:?}",
                girder_core::vocabulary::CLOUDWATCH_RETENTION_DAYS
            ),
        })
    }
}

/// Lowercase letters, digits and single hyphens, from a letter to a letter or digit.
fn check_trail_name(name: &str) -> std::result::Result<(), ObservabilityError> {
    let ok = (3..=MAX_TRAIL_NAME_LEN).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(ObservabilityError::Name {
            what: "audit trail".into(),
            value: name.into(),
            allowed: format!(
                "3 to {MAX_TRAIL_NAME_LEN} lowercase letters, digits and single hyphens, \
                 from a letter to a letter or digit"
            ),
        })
    }
}

impl Construct for AuditTrail {
    type Handle = AuditTrailHandle;

    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<AuditTrailHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let log_retention = self.check().map_err(|e| e.at(&at))?;
        let name = self.name;

        let identity = scope.add("account", aws::DataCallerIdentity::new())?;
        let partition = scope.add("partition", aws::DataPartition::new())?;
        let region = scope.add("region", aws::DataRegion::new())?;
        let here = AwsLocation::computed(
            partition.partition(),
            region.region(),
            identity.account_id(),
        );
        let account = here.account().clone();
        // Computed rather than read from the trail: the key and bucket policies name it,
        // and the trail needs both first.
        let trail_arn = here.arn("cloudtrail", format!("trail/{name}"));
        let any_trail_of_account = Arn::new(
            here.partition().clone(),
            "cloudtrail",
            "*",
            account.clone(),
            "trail/*",
        );
        let log_group_name = format!("/aws/cloudtrail/{name}");
        let log_group_arn = here.arn("logs", format!("log-group:{log_group_name}"));
        let account_root = Arn::new(here.partition().clone(), "iam", "", account.clone(), "root");
        let from_this_trail = || Condition::string_equals("aws:SourceArn", trail_arn.clone());
        let cloudtrail_context = || {
            Condition::string_like(
                "kms:EncryptionContext:aws:cloudtrail:arn",
                [any_trail_of_account.clone()],
            )
        };

        // The key: the account administers it (its IAM policies decide who), CloudTrail
        // encrypts this trail's files, CloudWatch Logs encrypts the group, and principals of
        // the account decrypt CloudTrail's files (AWS's documented CloudTrail key policy).
        let key_policy = PolicyDocument::new()
            .statement(account_administers_key(&account_root))
            .statement(
                Statement::allow(["kms:GenerateDataKey*"])
                    .sid("CloudTrailEncryptsLogs")
                    .principal("Service", [CLOUDTRAIL])
                    .on(["*"])
                    .when(from_this_trail())
                    .when(cloudtrail_context())
                    .wildcard_because(KEY_POLICY_RESOURCE),
            )
            .statement(
                Statement::allow(["kms:DescribeKey"])
                    .sid("CloudTrailDescribesKey")
                    .principal("Service", [CLOUDTRAIL])
                    .on(["*"])
                    .when(from_this_trail())
                    .wildcard_because(KEY_POLICY_RESOURCE),
            )
            .statement(
                Statement::allow(["kms:Decrypt", "kms:ReEncryptFrom"])
                    .sid("AccountDecryptsLogs")
                    .principal("AWS", [account_root.clone()])
                    .on(["*"])
                    .when(Condition::string_equals(
                        "kms:CallerAccount",
                        account.clone(),
                    ))
                    .when(cloudtrail_context())
                    .wildcard_because(KEY_POLICY_RESOURCE),
            )
            .statement(
                Statement::allow([
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ])
                .sid("CloudWatchLogsEncryptsGroup")
                .principal(
                    "Service",
                    [fns::format(
                        "logs.%s.amazonaws.com",
                        [region.region().any()],
                    )],
                )
                .on(["*"])
                .when(Condition::new(
                    "ArnEquals",
                    "kms:EncryptionContext:aws:logs:arn",
                    [log_group_arn.clone()],
                ))
                .wildcard_because(KEY_POLICY_RESOURCE),
            );
        let key = add_key(
            &mut scope,
            &at,
            format!("CloudTrail trail {name}: log files and log group"),
            self.key_deletion_window_days,
            &key_policy,
            format!("alias/cloudtrail/{name}"),
        )?;

        // The bucket: CloudTrail checks its ACL and writes this account's files, for this
        // trail only, handing the objects to the bucket owner.
        let bucket_name = BucketName::with_account_and_region(
            format!("{name}-audit"),
            account.clone(),
            here.region().clone(),
        );
        let bucket_arn = Arn::new(
            here.partition().clone(),
            "s3",
            "",
            "",
            bucket_name
                .resolve()
                .map_err(|e| girder_core::Error::construct(format!("{at}/bucket"), e))?,
        );
        let log_files = bucket_arn
            .clone()
            .join("/AWSLogs/")
            .join(account.clone())
            .join("/*");
        let bucket_policy = PolicyDocument::new()
            .statement(
                Statement::allow(["s3:GetBucketAcl"])
                    .sid("CloudTrailAclCheck")
                    .principal("Service", [CLOUDTRAIL])
                    .on([bucket_arn])
                    .when(from_this_trail()),
            )
            .statement(
                Statement::allow(["s3:PutObject"])
                    .sid("CloudTrailWrite")
                    .principal("Service", [CLOUDTRAIL])
                    .on([log_files.clone()])
                    .when(Condition::string_equals(
                        "s3:x-amz-acl",
                        "bucket-owner-full-control",
                    ))
                    .when(from_this_trail()),
            );
        let mut bucket = bucket_policy
            .statements()
            .iter()
            .cloned()
            .fold(Bucket::new(bucket_name), Bucket::policy_statement)
            .encryption(Encryption::Kms(key.arn()))
            .expire_prefix("AWSLogs/", self.retention_days)
            .prevent_destroy();
        if let Some(lock) = self.object_lock {
            bucket = bucket.object_lock(lock);
        }
        let bucket = bucket.add(&mut scope, "bucket")?;

        let log_group = scope.add(
            "logs",
            aws::CloudwatchLogGroup::new()
                .name(&log_group_name)
                .retention_in_days(log_retention.retention_in_days())
                .kms_key_id(key.arn()),
        )?;
        let streams = Arn::attribute(log_group.arn()).join(":*");
        let log_policy = PolicyDocument::new().statement(
            Statement::allow(["logs:CreateLogStream", "logs:PutLogEvents"])
                .sid("CloudTrailWritesGroup")
                .on([streams.clone()]),
        );
        let log_role = Role::new(
            format!("{name}-cloudtrail-logs"),
            Trust::service(CLOUDTRAIL),
        )
        .description(format!("CloudTrail trail {name} writes its log group"))
        .policy("logs", log_policy.clone())
        .add(&mut scope, "log-role")?;

        let trail = scope.add(
            "trail",
            aws::Cloudtrail::new(&name, bucket.name().clone())
                .is_multi_region_trail(true)
                .include_global_service_events(true)
                .enable_log_file_validation(true)
                .enable_logging(true)
                .kms_key_id(key.arn())
                .cloud_watch_logs_group_arn(streams)
                .cloud_watch_logs_role_arn(log_role.arn())
                .event_selector(
                    trail::EventSelector::new()
                        .include_management_events(true)
                        .read_write_type("All"),
                )
                .into_spec()
                // CloudTrail checks at creation that it may write the bucket and the
                // group, and encrypt with the key.
                .depends_on_all(&bucket)
                .depends_on_all(&log_role),
        )?;

        let namespace = format!("{METRIC_NAMESPACE_PREFIX}/{name}");
        let period = Period::seconds(300).map_err(|e| e.at(&at))?;
        let mut alarms = Vec::new();
        for alarm in AuditAlarm::ALL {
            scope.add(
                &format!("{}-filter", alarm.id()),
                aws::CloudwatchLogMetricFilter::new(
                    log_group.name(),
                    format!("{name}-{}", alarm.id()),
                    alarm.filter_pattern(),
                    filter::MetricTransformation::new(alarm.metric_name(), &namespace, "1"),
                ),
            )?;
            let mut metric_alarm = MetricAlarm::new(
                format!("{name}-{}", alarm.id()),
                &namespace,
                alarm.metric_name(),
                Statistic::Sum,
                Comparison::GreaterThanOrEqual,
                1.0,
                period,
                1,
            )
            .treat_missing_data(TreatMissingData::NotBreaching)
            .description(format!("{} ({})", alarm.summary(), alarm.controls()));
            for topic in &self.topics {
                metric_alarm = metric_alarm.notify(topic.clone());
            }
            alarms.push((alarm, metric_alarm.add(&mut scope, alarm.id())?));
        }

        Ok(AuditTrailHandle {
            trail,
            trail_arn,
            log_files_arn: log_files,
            bucket,
            key,
            log_group,
            log_group_name,
            log_role,
            alarms,
            key_policy,
            bucket_policy,
            log_policy,
        })
    }
}

impl AuditTrailHandle {
    /// The trail's ARN, computed from its name, region and account (known before the
    /// trail exists, as the policies that name it must be).
    pub fn arn(&self) -> &Arn {
        &self.trail_arn
    }

    /// The ARN of the account's log files in the bucket, `<bucket arn>/AWSLogs/<account>/*`
    /// (what CloudTrail may write; what a reader of the logs reads).
    pub fn log_files_arn(&self) -> &Arn {
        &self.log_files_arn
    }

    /// The generated trail.
    pub fn trail(&self) -> &aws::CloudtrailHandle {
        &self.trail
    }

    /// The bucket of the log files.
    pub fn bucket(&self) -> &BucketHandle {
        &self.bucket
    }

    /// The key of the log files and the log group.
    pub fn key(&self) -> &aws::KmsKeyHandle {
        &self.key
    }

    /// The log group.
    pub fn log_group(&self) -> &aws::CloudwatchLogGroupHandle {
        &self.log_group
    }

    /// The log group's name, `/aws/cloudtrail/<name>`.
    pub fn log_group_name(&self) -> &str {
        &self.log_group_name
    }

    /// The role CloudTrail assumes to write the log group.
    pub fn log_role(&self) -> &RoleHandle {
        &self.log_role
    }

    /// The alarms, in [`AuditAlarm::ALL`] order.
    pub fn alarms(&self) -> &[(AuditAlarm, MetricAlarmHandle)] {
        &self.alarms
    }

    /// The key's policy, for review (`PolicyDocument::access`).
    pub fn key_policy(&self) -> &PolicyDocument {
        &self.key_policy
    }

    /// The statements the trail adds to its bucket's policy (after the bucket's own
    /// TLS-only deny), for review.
    pub fn bucket_policy(&self) -> &PolicyDocument {
        &self.bucket_policy
    }

    /// The log role's policy, for review.
    pub fn log_policy(&self) -> &PolicyDocument {
        &self.log_policy
    }

    /// The ARN of the log group's streams, `<group arn>:*`: what the log role may write.
    pub fn log_streams_arn(&self) -> Arn {
        Arn::attribute(self.log_group.arn()).join(":*")
    }
}

impl Dependable for AuditTrailHandle {
    /// The trail (which waits for its bucket policy and log role).
    fn dependencies(&self) -> Vec<girder_core::expr::Reference> {
        self.trail.dependencies()
    }
}

/// IAM Access Analyzer for the account (`aws_accessanalyzer_analyzer`, type `ACCOUNT`):
/// findings for resources (buckets, keys, roles, queues, secrets) shared outside it. Free;
/// its findings are part of the periodic permissions report (see the module docs).
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug)]
pub struct AccessAnalyzer {
    name: String,
}

/// The analyzer in the stack.
pub type AccessAnalyzerHandle = aws::AccessanalyzerAnalyzerHandle;

impl AccessAnalyzer {
    /// An account analyzer `name` (1-255 letters, digits, `.`, `_`, `-`, from a letter).
    pub fn account(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

impl Construct for AccessAnalyzer {
    type Handle = AccessAnalyzerHandle;

    /// `aws_accessanalyzer_analyzer.<path>`.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<AccessAnalyzerHandle> {
        let mut scope = scope.construct_child(id)?;
        let at = scope.location();
        let ok = (1..=255).contains(&self.name.len())
            && self.name.starts_with(|c: char| c.is_ascii_alphabetic())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(ObservabilityError::Name {
                what: "access analyzer".into(),
                value: self.name,
                allowed: "1 to 255 letters, digits, '.', '_' and '-', from a letter".into(),
            }
            .at(&at));
        }
        scope.add_default(aws::AccessanalyzerAnalyzer::new(self.name).type_("ACCOUNT"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_fit_the_bucket_name() {
        for good in [
            "piksel",
            "piksel-prod",
            "a1b",
            &"a".repeat(MAX_TRAIL_NAME_LEN),
        ] {
            assert_eq!(check_trail_name(good), Ok(()), "{good}");
        }
        for bad in [
            "ab",
            "Piksel",
            "piksel-",
            "1piksel",
            "pik--sel",
            "pik_sel",
            &"a".repeat(MAX_TRAIL_NAME_LEN + 1),
        ] {
            assert!(
                matches!(check_trail_name(bad), Err(ObservabilityError::Name { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_alarm_has_a_distinct_id_and_metric() {
        let mut ids: Vec<_> = AuditAlarm::ALL.iter().map(|a| a.id()).collect();
        let mut metrics: Vec<_> = AuditAlarm::ALL.iter().map(|a| a.metric_name()).collect();
        ids.sort_unstable();
        ids.dedup();
        metrics.sort_unstable();
        metrics.dedup();
        assert_eq!(ids.len(), AuditAlarm::ALL.len());
        assert_eq!(metrics.len(), AuditAlarm::ALL.len());
        for alarm in AuditAlarm::ALL {
            let pattern = alarm.filter_pattern();
            assert!(
                pattern.starts_with('{') && pattern.ends_with('}'),
                "{pattern}"
            );
            assert_eq!(
                pattern.matches('(').count(),
                pattern.matches(')').count(),
                "{pattern}"
            );
        }
    }
}
