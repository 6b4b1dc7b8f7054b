#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! AuditTrail and AccessAnalyzer added to a stack: the trail, its bucket, key, log group,
//! log role and alarms, the policies' grants (`PolicyDocument::access`), and the errors
//! they refuse with, matched by variant.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_iam::{Access, Condition};
use girder_observability::{
    AccessAnalyzer, AuditAlarm, AuditTrail, AuditTrailHandle, DEFAULT_LOG_RETENTION_DAYS,
    MAX_TRAIL_NAME_LEN, ObservabilityError,
};
use serde_json::json;

const TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:piksel-security";

/// A stack with the aws provider; `f` adds to its scope `security`.
fn stack_with<T>(
    f: impl FnOnce(&mut Scope<'_>) -> girder_core::Result<T>,
) -> girder_core::Result<(Stack, T)> {
    let mut stack = Stack::new("account", "dev", Backend::local())?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(aws::Provider::new().region("eu-central-1").into())?;
    let out = {
        let mut scope = stack.scope("security")?;
        f(&mut scope)?
    };
    Ok((stack, out))
}

fn trail(builder: AuditTrail) -> (Template, AuditTrailHandle) {
    let (stack, handle) = stack_with(|scope| builder.add(scope, "audit")).unwrap();
    (Template::from_stack(stack).unwrap(), handle)
}

fn error_of<T: std::fmt::Debug>(result: girder_core::Result<T>) -> (String, ObservabilityError) {
    let err = result.expect_err("refused");
    let e = err
        .construct_error::<ObservabilityError>()
        .unwrap_or_else(|| panic!("not an ObservabilityError: {err}"))
        .clone();
    (err.to_string(), e)
}

/// The one statement's conditions under which `access` allows.
fn only_conditions(access: Access) -> Vec<Condition> {
    match access {
        Access::AllowedWhen(mut conditions) if conditions.len() == 1 => conditions.remove(0),
        other => panic!("expected one conditional statement, got {other:?}"),
    }
}

fn has(conditions: &[Condition], operator: &str, key: &str, value: &Value<String>) -> bool {
    conditions
        .iter()
        .any(|c| c.operator() == operator && c.key() == key && c.values() == [value.clone()])
}

#[test]
fn trail_logs_management_events_of_every_region_with_validation() {
    let (t, _) = trail(AuditTrail::new("piksel-dev"));
    t.resource_count_is("aws_cloudtrail", 1);
    t.has_resource_properties(
        "aws_cloudtrail",
        &json!({
            "name": "piksel-dev",
            "is_multi_region_trail": true,
            "include_global_service_events": true,
            "enable_log_file_validation": true,
            "enable_logging": true,
            "kms_key_id": "${aws_kms_key.security_audit_key.arn}",
            "cloud_watch_logs_group_arn":
                "${format(\"%s:*\", aws_cloudwatch_log_group.security_audit_logs.arn)}",
            "cloud_watch_logs_role_arn": "${aws_iam_role.security_audit_log_role.arn}",
            "event_selector": [{"include_management_events": true, "read_write_type": "All"}],
        }),
    );
    let trail = t.resource("aws_cloudtrail", "security_audit_trail");
    assert_eq!(
        trail["s3_bucket_name"],
        t.resource("aws_s3_bucket", "security_audit_bucket")["bucket"]
    );
    // CloudTrail checks it may write at creation: the bucket policy and the log role's
    // policy come first.
    let depends_on = trail["depends_on"].as_array().unwrap();
    for address in [
        "aws_s3_bucket_policy.security_audit_bucket_tls_only",
        "aws_iam_role_policy.security_audit_log_role_logs",
    ] {
        assert!(depends_on.iter().any(|d| d == address), "{depends_on:?}");
    }
}

#[test]
fn bucket_is_kms_encrypted_retained_and_expires_log_files() {
    let (t, _) = trail(AuditTrail::new("piksel-dev"));
    let bucket = t.resource("aws_s3_bucket", "security_audit_bucket");
    assert_eq!(bucket["lifecycle"]["prevent_destroy"], true);
    assert_eq!(bucket["force_destroy"], false);
    t.has_resource_properties(
        "aws_s3_bucket_server_side_encryption_configuration",
        &json!({"rule": [{
            "bucket_key_enabled": true,
            "apply_server_side_encryption_by_default": [{
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": "${aws_kms_key.security_audit_key.arn}",
            }],
        }]}),
    );
    let lifecycle = t.resource(
        "aws_s3_bucket_lifecycle_configuration",
        "security_audit_bucket_lifecycle",
    );
    let expire = lifecycle["rule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "expire-AWSLogs")
        .unwrap();
    assert_eq!(expire["filter"][0]["prefix"], "AWSLogs/");
    assert_eq!(expire["expiration"][0]["days"], 365);

    let (t, _) = trail(AuditTrail::new("piksel-prod").retention_days(2557));
    let lifecycle = t.resource(
        "aws_s3_bucket_lifecycle_configuration",
        "security_audit_bucket_lifecycle",
    );
    assert_eq!(lifecycle["rule"][1]["expiration"][0]["days"], 2557);
}

#[test]
fn bucket_policy_lets_cloudtrail_write_for_this_trail_only_with_owner_control() {
    let (_, handle) = trail(AuditTrail::new("piksel-dev"));
    let policy = handle.bucket_policy();
    let trail_arn = handle.arn().value();

    let write = only_conditions(policy.access("s3:PutObject", &handle.log_files_arn().value()));
    assert!(has(&write, "StringEquals", "aws:SourceArn", &trail_arn));
    assert!(has(
        &write,
        "StringEquals",
        "s3:x-amz-acl",
        &Value::Literal("bucket-owner-full-control".into())
    ));
    assert_eq!(write.len(), 2);

    let bucket_arn = policy
        .statements()
        .iter()
        .find(|s| s.actions() == ["s3:GetBucketAcl"])
        .unwrap()
        .resources()[0]
        .clone();
    let acl = only_conditions(policy.access("s3:GetBucketAcl", &bucket_arn));
    assert_eq!(acl.len(), 1);
    assert!(has(&acl, "StringEquals", "aws:SourceArn", &trail_arn));

    // Nothing else: no reads, no deletes, nothing outside AWSLogs/<account>/.
    assert_eq!(
        policy.allowed_actions(),
        ["s3:GetBucketAcl", "s3:PutObject"]
    );
    assert_eq!(
        policy.access("s3:DeleteObject", &handle.log_files_arn().value()),
        Access::Denied
    );
    assert_eq!(policy.access("s3:PutObject", &bucket_arn), Access::Denied);
    for statement in policy.statements() {
        assert_eq!(
            statement.principals(),
            [(
                "Service".to_owned(),
                vec![Value::Literal("cloudtrail.amazonaws.com".into())]
            )]
        );
    }
}

#[test]
fn key_policy_lets_cloudtrail_encrypt_and_the_account_decrypt_log_files() {
    let (t, handle) = trail(AuditTrail::new("piksel-dev"));
    let key = t.resource("aws_kms_key", "security_audit_key");
    assert_eq!(key["enable_key_rotation"], true);
    assert_eq!(key["deletion_window_in_days"], 30);
    let policy = handle.key_policy();
    let key_itself = Value::Literal("*".to_owned());
    let trail_arn = handle.arn().value();
    let context = "kms:EncryptionContext:aws:cloudtrail:arn";

    // A key policy's statements are told apart by principal, which `access` does not
    // weigh: each action is allowed only under conditions, by one statement per service.
    let statements = |action: &str| match policy.access(action, &key_itself) {
        Access::AllowedWhen(statements) => statements,
        other => panic!("{action}: expected conditional statements, got {other:?}"),
    };
    let logs_group = |conditions: &[Condition]| {
        conditions.len() == 1
            && conditions[0].operator() == "ArnEquals"
            && conditions[0].key() == "kms:EncryptionContext:aws:logs:arn"
    };
    let has_key = |conditions: &[Condition], operator: &str, key: &str| {
        conditions
            .iter()
            .any(|c| c.operator() == operator && c.key() == key)
    };

    // CloudTrail generates data keys for this trail's files only; CloudWatch Logs for
    // the group only.
    let encrypt = statements("kms:GenerateDataKey");
    assert_eq!(encrypt.len(), 2, "{encrypt:?}");
    assert!(
        encrypt
            .iter()
            .any(|c| has(c, "StringEquals", "aws:SourceArn", &trail_arn)
                && has_key(c, "StringLike", context))
    );
    assert!(encrypt.iter().any(|c| logs_group(c)));

    // The account decrypts files CloudTrail encrypted (and CloudWatch Logs reads its group).
    let decrypt = statements("kms:Decrypt");
    assert_eq!(decrypt.len(), 2, "{decrypt:?}");
    assert!(
        decrypt
            .iter()
            .any(|c| has_key(c, "StringEquals", "kms:CallerAccount")
                && has_key(c, "StringLike", context))
    );
    assert!(decrypt.iter().any(|c| logs_group(c)));

    // Plain encryption is CloudWatch Logs', bound to that group.
    let logs = statements("kms:Encrypt");
    assert_eq!(logs.len(), 1);
    assert!(logs_group(&logs[0]));

    // The account administers the key (so Terraform can update its policy) but does not
    // encrypt or decrypt with it unconditionally.
    assert_eq!(
        policy.access("kms:PutKeyPolicy", &key_itself),
        Access::Allowed
    );
    assert_eq!(
        policy.access("kms:ScheduleKeyDeletion", &key_itself),
        Access::Allowed
    );
    for action in [
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:Encrypt",
        "kms:ReEncryptFrom",
    ] {
        assert_ne!(
            policy.access(action, &key_itself),
            Access::Allowed,
            "{action}"
        );
    }
}

#[test]
fn log_role_writes_only_its_log_group() {
    let (t, handle) = trail(AuditTrail::new("piksel-dev"));
    let policy = handle.log_policy();
    let streams = handle.log_streams_arn().value();
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        assert_eq!(policy.access(action, &streams), Access::Allowed, "{action}");
    }
    assert_eq!(
        policy.allowed_actions(),
        ["logs:CreateLogStream", "logs:PutLogEvents"]
    );
    for action in [
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:GetLogEvents",
    ] {
        assert_eq!(policy.access(action, &streams), Access::Denied, "{action}");
    }
    let other = Value::Literal(
        "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/eks/piksel-dev/cluster:*".into(),
    );
    assert_eq!(policy.access("logs:PutLogEvents", &other), Access::Denied);

    // That policy is the role's, which CloudTrail assumes.
    let role = t.resource("aws_iam_role", "security_audit_log_role");
    let trust: serde_json::Value =
        serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "cloudtrail.amazonaws.com"
    );
    assert_eq!(
        t.resource("aws_iam_role_policy", "security_audit_log_role_logs")["role"],
        "${aws_iam_role.security_audit_log_role.name}"
    );
    t.resource_count_is("aws_iam_role_policy", 1);
    t.resource_count_is("aws_iam_role_policy_attachment", 0);
}

#[test]
fn log_group_is_encrypted_and_kept_the_retention_given() {
    let (t, handle) = trail(AuditTrail::new("piksel-dev"));
    assert_eq!(handle.log_group_name(), "/aws/cloudtrail/piksel-dev");
    t.has_resource_properties(
        "aws_cloudwatch_log_group",
        &json!({
            "name": "/aws/cloudtrail/piksel-dev",
            "retention_in_days": DEFAULT_LOG_RETENTION_DAYS,
            "kms_key_id": "${aws_kms_key.security_audit_key.arn}",
        }),
    );
    let (t, _) = trail(AuditTrail::new("piksel-dev").log_retention_days(365));
    t.has_resource_properties(
        "aws_cloudwatch_log_group",
        &json!({"retention_in_days": 365}),
    );
}

#[test]
fn each_cis_alarm_counts_its_filter_over_five_minutes_and_notifies_the_topic() {
    let (t, handle) = trail(AuditTrail::new("piksel-dev").alert_to(TOPIC));
    t.resource_count_is("aws_cloudwatch_log_metric_filter", AuditAlarm::ALL.len());
    t.resource_count_is("aws_cloudwatch_metric_alarm", AuditAlarm::ALL.len());
    assert_eq!(handle.alarms().len(), AuditAlarm::ALL.len());
    for alarm in AuditAlarm::ALL {
        let id = alarm.id().replace('-', "_");
        let filter = t.resource(
            "aws_cloudwatch_log_metric_filter",
            &format!("security_audit_{id}_filter"),
        );
        assert_eq!(filter["pattern"], alarm.filter_pattern(), "{alarm:?}");
        assert_eq!(
            filter["log_group_name"],
            "${aws_cloudwatch_log_group.security_audit_logs.name}"
        );
        assert_eq!(
            filter["metric_transformation"],
            json!([{
                "name": alarm.metric_name(),
                "namespace": "CloudTrailMetrics/piksel-dev",
                "value": "1",
            }])
        );
        let metric_alarm = t.resource(
            "aws_cloudwatch_metric_alarm",
            &format!("security_audit_{id}"),
        );
        for (key, value) in [
            ("alarm_name", json!(format!("piksel-dev-{}", alarm.id()))),
            ("namespace", json!("CloudTrailMetrics/piksel-dev")),
            ("metric_name", json!(alarm.metric_name())),
            ("statistic", json!("Sum")),
            (
                "comparison_operator",
                json!("GreaterThanOrEqualToThreshold"),
            ),
            ("threshold", json!(1)),
            ("period", json!(300)),
            ("evaluation_periods", json!(1)),
            ("treat_missing_data", json!("notBreaching")),
            ("alarm_actions", json!([TOPIC])),
            ("ok_actions", json!([TOPIC])),
        ] {
            assert_eq!(metric_alarm[key], value, "{alarm:?} {key}");
        }
    }
}

#[test]
fn alarm_patterns_are_the_benchmarks() {
    // The events each pattern must name (CIS AWS Foundations 4.x / Security Hub).
    let names = |alarm: AuditAlarm, events: &[&str]| {
        for event in events {
            assert!(
                alarm
                    .filter_pattern()
                    .contains(&format!("$.eventName={event})")),
                "{alarm:?} {event}"
            );
        }
    };
    names(
        AuditAlarm::IamPolicyChanges,
        &[
            "PutRolePolicy",
            "AttachRolePolicy",
            "CreatePolicyVersion",
            "DetachGroupPolicy",
        ],
    );
    names(
        AuditAlarm::SecurityGroupChanges,
        &[
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "DeleteSecurityGroup",
        ],
    );
    names(
        AuditAlarm::NetworkAclChanges,
        &["CreateNetworkAclEntry", "ReplaceNetworkAclAssociation"],
    );
    names(
        AuditAlarm::CloudTrailChanges,
        &["StopLogging", "DeleteTrail"],
    );
    names(
        AuditAlarm::KmsKeyDisabledOrDeleted,
        &["DisableKey", "ScheduleKeyDeletion"],
    );
    assert!(
        AuditAlarm::RootUsage
            .filter_pattern()
            .contains("$.userIdentity.type=\"Root\"")
    );
    assert!(
        AuditAlarm::ConsoleSignInWithoutMfa
            .filter_pattern()
            .contains("$.additionalEventData.MFAUsed!=\"Yes\"")
    );
}

#[test]
fn alarms_without_a_topic_have_no_actions() {
    let (t, _) = trail(AuditTrail::new("piksel-dev"));
    for (_, alarm) in t.resources("aws_cloudwatch_metric_alarm") {
        assert!(alarm.get("alarm_actions").is_none());
    }
}

#[test]
fn bad_trail_names_are_refused() {
    for name in [
        "ab",
        "Piksel",
        "piksel_dev",
        "piksel-",
        "pik--sel",
        &"a".repeat(MAX_TRAIL_NAME_LEN + 1),
    ] {
        let (path, e) = error_of(stack_with(|scope| {
            AuditTrail::new(name).add(scope, "audit")
        }));
        assert!(path.contains("security/audit"), "{path}");
        assert!(
            matches!(&e, ObservabilityError::Name { value, .. } if value == name),
            "{name}: {e:?}"
        );
    }
}

#[test]
fn retentions_outside_what_aws_offers_are_refused() {
    for (builder, what, days) in [
        (
            AuditTrail::new("piksel-dev").retention_days(0),
            "bucket retention",
            0,
        ),
        (
            AuditTrail::new("piksel-dev").log_retention_days(100),
            "log retention",
            100,
        ),
        (
            AuditTrail::new("piksel-dev").log_retention_days(0),
            "log retention",
            0,
        ),
        (
            AuditTrail::new("piksel-dev").key_deletion_window_days(5),
            "key deletion window",
            5,
        ),
        (
            AuditTrail::new("piksel-dev").key_deletion_window_days(31),
            "key deletion window",
            31,
        ),
    ] {
        let (_, e) = error_of(stack_with(|scope| builder.add(scope, "audit")));
        assert!(
            matches!(&e, ObservabilityError::Retention { what: w, days: d, .. } if w == what && *d == days),
            "{what} {days}: {e:?}"
        );
    }
}

#[test]
fn access_analyzer_analyzes_the_account() {
    let (stack, _) =
        stack_with(|scope| AccessAnalyzer::account("piksel-dev").add(scope, "analyzer")).unwrap();
    let t = Template::from_stack(stack).unwrap();
    t.resource_count_is("aws_accessanalyzer_analyzer", 1);
    assert_eq!(
        t.resource("aws_accessanalyzer_analyzer", "security_analyzer"),
        &json!({"analyzer_name": "piksel-dev", "type": "ACCOUNT"})
    );
    for bad in ["", "1st", "piksel dev"] {
        let (_, e) = error_of(stack_with(|scope| {
            AccessAnalyzer::account(bad).add(scope, "analyzer")
        }));
        assert!(matches!(e, ObservabilityError::Name { .. }), "{bad}");
    }
}

#[test]
fn tfcheck_accepts_an_audit_trail() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let (stack, _) = stack_with(|scope| {
        let _ = AuditTrail::new("piksel-dev")
            .alert_to(TOPIC)
            .add(scope, "audit")?;
        AccessAnalyzer::account("piksel-dev").add(scope, "analyzer")
    })
    .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-observability-audit");
    app.synth().unwrap().write(&out).unwrap();
    let output = std::process::Command::new(tfcheck)
        .arg(out.join("terraform"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && report.contains(" 0 problems"),
        "{report}"
    );
}

#[test]
fn the_trail_bucket_can_be_object_locked_no_longer_than_it_keeps_the_files() {
    let (t, _) = trail(
        AuditTrail::new("piksel-prod").object_lock(girder_storage::ObjectLock::compliance(365)),
    );
    assert_eq!(
        t.resource("aws_s3_bucket", "security_audit_bucket")["object_lock_enabled"],
        true
    );
    let lock = t.resource(
        "aws_s3_bucket_object_lock_configuration",
        "security_audit_bucket_object_lock",
    );
    assert_eq!(
        lock["rule"],
        json!([{"default_retention": [{"mode": "COMPLIANCE", "days": 365}]}])
    );
    // Without it, no lock.
    let (plain, _) = trail(AuditTrail::new("piksel-dev"));
    plain.resource_count_is("aws_s3_bucket_object_lock_configuration", 0);
    // A lock longer than the files are kept is refused (by the bucket).
    let result = stack_with(|scope| {
        AuditTrail::new("piksel-dev")
            .retention_days(90)
            .object_lock(girder_storage::ObjectLock::governance(365))
            .add(scope, "audit")
    });
    let err = result.expect_err("refused");
    assert!(
        matches!(
            err.construct_error::<girder_storage::StorageError>(),
            Some(girder_storage::StorageError::ExpiryShorterThanLock {
                days: 90,
                lock_days: 365,
                ..
            })
        ),
        "{err}"
    );
}
