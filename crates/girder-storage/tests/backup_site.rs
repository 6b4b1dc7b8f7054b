#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! AWS Backup plans and the static website: resources, policies, refusals, tfcheck.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_iam::{Access, Condition, Effect, GithubOidcProvider, Trust};
use girder_storage::{
    BackupPlan, BackupRule, BucketName, CACHING_OPTIMIZED_POLICY_ID, PriceClass, StaticSite,
    StaticSiteHandle, StorageError,
};
use serde_json::{Value as Json, json};

const DB_ARN: &str = "arn:aws:rds:us-west-2:123456789012:db:piksel-prod-odc";

fn stack() -> Stack {
    let mut stack = Stack::new("storage", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-west-2").into())
        .unwrap();
    stack
}

/// Piksel's production backups: the ODC index database and the cluster's volumes.
fn backups(stack: &mut Stack) {
    let mut scope = stack.root();
    let _ = BackupPlan::new("piksel-prod")
        .rule(BackupRule::daily(35))
        .rule(BackupRule::weekly(90))
        .rule(BackupRule::monthly(365).cold_storage_after(30))
        .protect(DB_ARN)
        .protect_tagged("ebs.csi.aws.com/cluster", "true")
        .add(&mut scope, "backup")
        .unwrap();
}

/// Piksel's website with its deployer for `piksel/piksel-website` main.
fn site(stack: &mut Stack, site: StaticSite) -> StaticSiteHandle {
    let mut scope = stack.root();
    let github = GithubOidcProvider.add(&mut scope, "github").unwrap();
    site.deployer(
        "piksel-website-deployer",
        Trust::github_actions_branch(github.arn(), "piksel/piksel-website", "main"),
    )
    .add(&mut scope, "website")
    .unwrap()
}

fn error(plan: BackupPlan) -> StorageError {
    let mut stack = stack();
    let err = plan.add(&mut stack.root(), "backup").unwrap_err();
    assert!(err.to_string().starts_with("storage-dev:backup: "), "{err}");
    err.construct_error::<StorageError>().unwrap().clone()
}

fn valid() -> BackupPlan {
    BackupPlan::new("piksel-dev").protect(DB_ARN)
}

#[test]
fn a_plan_backs_up_into_its_own_encrypted_vault_on_utc_schedules() {
    let mut stack = stack();
    backups(&mut stack);
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_kms_key",
        &json!({"enable_key_rotation": true, "deletion_window_in_days": 30}),
    );
    t.has_resource_properties(
        "aws_kms_alias",
        &json!({"name": "alias/backup/piksel-prod"}),
    );
    t.has_resource_properties(
        "aws_backup_vault",
        &json!({"name": "piksel-prod", "kms_key_arn": "${aws_kms_key.backup_key.arn}"}),
    );
    assert!(
        t.resource("aws_backup_vault", "backup_vault")
            .get("force_destroy")
            .is_none()
    );
    t.resource_count_is("aws_backup_vault_lock_configuration", 0);
    let plan = t.resource("aws_backup_plan", "backup");
    assert_eq!(plan["name"], "piksel-prod");
    let rules = plan["rule"].as_array().unwrap();
    let summary: Vec<(&str, &str, &Json)> = rules
        .iter()
        .map(|r| {
            (
                r["rule_name"].as_str().unwrap(),
                r["schedule"].as_str().unwrap(),
                &r["lifecycle"][0]["delete_after"],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("daily", "cron(0 3 * * ? *)", &json!(35)),
            ("weekly", "cron(0 4 ? * SUN *)", &json!(90)),
            ("monthly", "cron(0 5 1 * ? *)", &json!(365)),
        ]
    );
    for rule in rules {
        assert_eq!(
            rule["target_vault_name"],
            "${aws_backup_vault.backup_vault.name}"
        );
        assert_eq!(rule["schedule_expression_timezone"], "Etc/UTC");
        assert_eq!(rule["start_window"], 60);
        assert_eq!(rule["completion_window"], 1440);
    }
    assert!(rules[0]["lifecycle"][0].get("cold_storage_after").is_none());
    assert_eq!(
        rules[2]["lifecycle"][0],
        json!({"delete_after": 365, "cold_storage_after": 30, "opt_in_to_archive_for_supported_resources": true})
    );
}

#[test]
fn the_service_role_has_aws_backup_and_restore_policies_and_selections_wait_for_it() {
    let mut stack = stack();
    backups(&mut stack);
    let t = Template::from_stack(stack).unwrap();
    let role = t.resource("aws_iam_role", "backup_role");
    assert_eq!(role["name"], "piksel-prod-backup");
    let trust: Json = serde_json::from_str(role["assume_role_policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"],
        json!({"Service": "backup.amazonaws.com"})
    );
    let arns: Vec<&str> = t
        .resources("aws_iam_role_policy_attachment")
        .into_iter()
        .map(|(_, a)| a["policy_arn"].as_str().unwrap())
        .collect();
    assert_eq!(
        arns,
        [
            "${format(\"arn:%s:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup\", data.aws_partition.backup_partition.partition)}",
            "${format(\"arn:%s:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores\", data.aws_partition.backup_partition.partition)}",
        ]
    );
    t.resource_count_is("aws_iam_instance_profile", 0);
    let resources = t.resource("aws_backup_selection", "backup_resources");
    assert_eq!(resources["resources"], json!([DB_ARN]));
    assert_eq!(resources["iam_role_arn"], "${aws_iam_role.backup_role.arn}");
    assert_eq!(resources["plan_id"], "${aws_backup_plan.backup.id}");
    let waits = resources["depends_on"].as_array().unwrap();
    assert!(
        waits.contains(&json!(
            "aws_iam_role_policy_attachment.backup_role_awsbackupservicerolepolicyforrestores"
        )),
        "{waits:?}"
    );
    let tagged = t.resource("aws_backup_selection", "backup_tagged");
    assert_eq!(
        tagged["selection_tag"],
        json!([{"key": "ebs.csi.aws.com/cluster", "type": "STRINGEQUALS", "value": "true"}])
    );
    assert!(tagged.get("resources").is_none());
}

#[test]
fn a_compliance_lock_is_made_only_when_asked_and_bounds_the_rules() {
    let mut stack = stack();
    let _ = valid()
        .rule(BackupRule::daily(35))
        .compliance_lock(7, 400, 3)
        .add(&mut stack.root(), "backup")
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_backup_vault_lock_configuration",
        &json!({"backup_vault_name": "${aws_backup_vault.backup_vault.name}", "min_retention_days": 7, "max_retention_days": 400, "changeable_for_days": 3}),
    );
    assert_eq!(
        error(
            valid()
                .rule(BackupRule::daily(5))
                .compliance_lock(7, 400, 3)
        ),
        StorageError::RetentionOutsideLock {
            rule: "daily",
            days: 5,
            min_days: 7,
            max_days: 400
        }
    );
    for (min, max, grace) in [(0, 10, 3), (20, 10, 3), (1, 36_501, 3), (1, 10, 2)] {
        assert_eq!(
            error(
                valid()
                    .rule(BackupRule::daily(5))
                    .compliance_lock(min, max, grace)
            ),
            StorageError::VaultLock {
                min_days: min,
                max_days: max,
                changeable_for_days: grace
            }
        );
    }
}

#[test]
fn bad_names_retention_schedules_windows_and_cold_storage_are_refused() {
    assert_eq!(
        error(
            BackupPlan::new("piksel prod")
                .rule(BackupRule::daily(7))
                .protect(DB_ARN)
        ),
        StorageError::BackupName("piksel prod".into())
    );
    assert_eq!(error(valid()), StorageError::NoBackupRules);
    assert_eq!(
        error(BackupPlan::new("piksel-dev").rule(BackupRule::daily(7))),
        StorageError::NothingToBackUp
    );
    assert_eq!(
        error(
            valid()
                .rule(BackupRule::daily(7))
                .rule(BackupRule::daily(14))
        ),
        StorageError::DuplicateBackupRule("daily")
    );
    assert_eq!(
        error(valid().rule(BackupRule::weekly(0))),
        StorageError::BackupRetention {
            rule: "weekly",
            days: 0
        }
    );
    assert_eq!(
        error(valid().rule(BackupRule::daily(7).at(24, 0))),
        StorageError::BackupTime {
            rule: "daily",
            hour: 24,
            minute: 0
        }
    );
    assert_eq!(
        error(valid().rule(BackupRule::daily(7).at(1, 60))),
        StorageError::BackupTime {
            rule: "daily",
            hour: 1,
            minute: 60
        }
    );
    for (start, completion) in [(30, 600), (120, 150)] {
        assert_eq!(
            error(valid().rule(BackupRule::monthly(30).windows(start, completion))),
            StorageError::BackupWindow {
                rule: "monthly",
                start_minutes: start,
                completion_minutes: completion
            }
        );
    }
    for (cold, retention) in [(30, 119), (0, 365)] {
        assert_eq!(
            error(valid().rule(BackupRule::monthly(retention).cold_storage_after(cold))),
            StorageError::ColdStorage {
                rule: "monthly",
                cold_after_days: cold,
                retention_days: retention
            }
        );
    }
}

#[test]
fn a_rule_can_run_at_another_time_with_other_windows() {
    let rule = BackupRule::weekly(60).at(22, 30).windows(120, 600);
    assert_eq!(rule.schedule(), "cron(30 22 ? * SUN *)");
    let mut stack = stack();
    let _ = valid()
        .rule(rule)
        .rule(BackupRule::monthly(120).cold_storage_after(30))
        .add(&mut stack.root(), "backup")
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let rules = &t.resource("aws_backup_plan", "backup")["rule"];
    assert_eq!(rules[0]["start_window"], 120);
    assert_eq!(rules[0]["completion_window"], 600);
    assert_eq!(rules[1]["lifecycle"][0]["cold_storage_after"], 30);
}

fn website() -> StaticSite {
    StaticSite::new(BucketName::with_account_and_region(
        "piksel-website",
        "123456789012",
        "us-west-2",
    ))
}

#[test]
fn the_site_bucket_is_private_and_lets_in_only_its_distribution() {
    let mut stack = stack();
    let handle = site(&mut stack, website());
    let policy = handle.bucket().policy_document();
    let objects = handle.bucket().objects_arn("").value();
    let from_the_distribution = vec![vec![Condition::string_equals(
        "aws:SourceArn",
        handle.distribution_arn(),
    )]];
    assert_eq!(
        policy.access("s3:GetObject", &objects),
        Access::AllowedWhen(from_the_distribution)
    );
    for action in ["s3:PutObject", "s3:DeleteObject", "s3:GetObjectAcl"] {
        assert_eq!(policy.access(action, &objects), Access::Denied, "{action}");
    }
    assert_eq!(
        policy.access("s3:ListBucket", &handle.bucket().arn().value()),
        Access::Denied
    );
    // The one Allow is for CloudFront's service principal, nobody else.
    let allows: Vec<_> = policy
        .statements()
        .iter()
        .filter(|s| s.effect() == Effect::Allow)
        .collect();
    assert_eq!(allows.len(), 1);
    assert_eq!(
        allows[0].principals(),
        [(
            "Service".to_owned(),
            vec![Value::Literal("cloudfront.amazonaws.com".to_owned())]
        )]
    );
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_s3_bucket_public_access_block",
        &json!({"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}),
    );
    let written = t.resource("aws_s3_bucket_policy", "website_bucket_tls_only")["policy"]
        .as_str()
        .unwrap();
    assert!(
        written.contains("aws_cloudfront_distribution.website.arn"),
        "{written}"
    );
    assert!(written.contains("DenyInsecureTransport"), "{written}");
}

#[test]
fn the_distribution_signs_requests_redirects_to_https_caches_and_adds_security_headers() {
    let mut stack = stack();
    let _ = site(&mut stack, website());
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_cloudfront_origin_access_control",
        &json!({"name": "piksel-website-123456789012-us-west-2", "origin_access_control_origin_type": "s3", "signing_behavior": "always", "signing_protocol": "sigv4"}),
    );
    let distribution = t.resource("aws_cloudfront_distribution", "website");
    let expected = json!({
        "enabled": true,
        "default_root_object": "index.html",
        "http_version": "http2and3",
        "is_ipv6_enabled": true,
        "price_class": "PriceClass_100",
        "origin": [{
            "domain_name": "${aws_s3_bucket.website_bucket.bucket_regional_domain_name}",
            "origin_id": "bucket",
            "origin_access_control_id": "${aws_cloudfront_origin_access_control.website_origin_access.id}"
        }],
        "default_cache_behavior": [{
            "allowed_methods": ["GET", "HEAD"],
            "cached_methods": ["GET", "HEAD"],
            "target_origin_id": "bucket",
            "viewer_protocol_policy": "redirect-to-https",
            "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID,
            "response_headers_policy_id": "${aws_cloudfront_response_headers_policy.website_response_headers.id}",
            "compress": true
        }],
        "restrictions": [{"geo_restriction": [{"restriction_type": "none"}]}],
        "viewer_certificate": [{"cloudfront_default_certificate": true}]
    });
    assert!(
        girder_core::assertions::matches_subset(distribution, &expected),
        "{distribution:#}"
    );
    assert!(distribution.get("aliases").is_none());
    t.has_resource_properties(
        "aws_cloudfront_response_headers_policy",
        &json!({
            "name": "storage-dev-website",
            "security_headers_config": [{
                "strict_transport_security": [{"access_control_max_age_sec": 63_072_000, "include_subdomains": true, "preload": true, "override": true}],
                "content_type_options": [{"override": true}],
                "frame_options": [{"frame_option": "DENY", "override": true}],
                "referrer_policy": [{"referrer_policy": "strict-origin-when-cross-origin", "override": true}],
                "xss_protection": [{"protection": false, "override": true}]
            }]
        }),
    );
    assert!(distribution.get("logging_config").is_none());
}

#[test]
fn a_certificate_brings_tls_1_2_sni_aliases_and_options() {
    let mut stack = stack();
    let certificate = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
    let _ = site(
        &mut stack,
        website()
            .certificate(certificate)
            .alias("www.piksel.example")
            .price_class(PriceClass::All)
            .access_logs("piksel-logs.s3.amazonaws.com", "website/")
            .web_acl("arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/1"),
    );
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_cloudfront_distribution",
        &json!({
            "aliases": ["www.piksel.example"],
            "price_class": "PriceClass_All",
            "web_acl_id": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/1",
            "logging_config": [{"bucket": "piksel-logs.s3.amazonaws.com", "prefix": "website/", "include_cookies": false}],
            "viewer_certificate": [{"acm_certificate_arn": certificate, "ssl_support_method": "sni-only", "minimum_protocol_version": "TLSv1.2_2021"}]
        }),
    );
    let mut stack = self::stack();
    let err = website()
        .alias("www.piksel.example")
        .add(&mut stack.root(), "website")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::AliasesWithoutCertificate(vec![
            "www.piksel.example".into()
        ]))
    );
}

#[test]
fn the_deployer_may_sync_the_bucket_and_invalidate_the_distribution_and_nothing_else() {
    let mut stack = stack();
    let handle = site(&mut stack, website());
    let policy = handle.deployer_policy();
    let bucket = handle.bucket().arn().value();
    let objects = handle.bucket().objects_arn("").value();
    let distribution: Value<String> = handle.distribution_arn().into();
    assert_eq!(policy.access("s3:ListBucket", &bucket), Access::Allowed);
    for action in ["s3:PutObject", "s3:DeleteObject"] {
        assert_eq!(policy.access(action, &objects), Access::Allowed, "{action}");
    }
    // Invalidate, and wait for it (`aws cloudfront wait invalidation-completed`).
    for action in [
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
    ] {
        assert_eq!(
            policy.access(action, &distribution),
            Access::Allowed,
            "{action}"
        );
    }
    // Not reading, not other buckets, not other distributions, not changing the site.
    assert_eq!(policy.access("s3:GetObject", &objects), Access::Denied);
    assert_eq!(policy.access("s3:DeleteBucket", &bucket), Access::Denied);
    assert_eq!(policy.access("s3:PutBucketPolicy", &bucket), Access::Denied);
    for other in [
        "arn:aws:s3:::piksel-data-123456789012-us-west-2",
        "arn:aws:s3:::piksel-data-123456789012-us-west-2/index.html",
    ] {
        let other = Value::Literal(other.to_owned());
        for action in ["s3:ListBucket", "s3:GetObject", "s3:PutObject"] {
            assert_eq!(policy.access(action, &other), Access::Denied, "{action}");
        }
    }
    let other = Value::Literal("arn:aws:cloudfront::123456789012:distribution/EOTHER".to_owned());
    assert_eq!(
        policy.access("cloudfront:CreateInvalidation", &other),
        Access::Denied
    );
    assert_eq!(
        policy.access("cloudfront:UpdateDistribution", &distribution),
        Access::Denied
    );
    assert_eq!(
        policy.allowed_actions(),
        [
            "s3:ListBucket",
            "s3:PutObject",
            "s3:DeleteObject",
            "cloudfront:CreateInvalidation",
            "cloudfront:GetInvalidation"
        ]
    );
    assert!(handle.deployer().is_some());
    let t = Template::from_stack(stack).unwrap();
    let role = t.resource("aws_iam_role", "website_deployer");
    assert_eq!(role["name"], "piksel-website-deployer");
    // The trust names the provider (an expression), so it is a jsonencode.
    let trust = role["assume_role_policy"].as_str().unwrap();
    assert!(
        trust.contains("\"token.actions.githubusercontent.com:sub\" = \"repo:piksel/piksel-website:ref:refs/heads/main\""),
        "{trust}"
    );
    let inline = t.resource("aws_iam_role_policy", "website_deployer_deploy");
    assert_eq!(inline["role"], "${aws_iam_role.website_deployer.name}");
    let text = inline["policy"].as_str().unwrap();
    assert!(
        text.contains("aws_cloudfront_distribution.website.arn"),
        "{text}"
    );
    assert!(!text.contains("\"*\""), "{text}");
}

#[test]
fn tfcheck_accepts_the_backups_and_the_site() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let mut stack = stack();
    backups(&mut stack);
    let _ = site(
        &mut stack,
        website()
            .certificate("arn:aws:acm:us-east-1:123456789012:certificate/abc")
            .alias("www.piksel.example"),
    );
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-storage-backup-site");
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
