#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Bucket and repository defaults, grants, errors, and tfcheck over the output.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_iam::{Role, Trust};
use girder_storage::{
    Bucket, BucketName, Encryption, OBJECT_LOCK_MAXIMUM_DAYS, ObjectLock, Repository,
    RepositoryHandle, StorageError,
};
use serde_json::{Value as Json, json};

fn stack() -> Stack {
    let mut stack = Stack::new("storage", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    stack
}

/// The PixTools images bucket, a node role with access, and the two repositories.
fn pixtools(stack: &mut Stack) {
    let mut scope = stack.root();
    let images = Bucket::new(BucketName::with_account_and_region(
        "pixtools-images",
        "123456789012",
        "us-east-1",
    ))
    .expire_prefix("raw/", 1)
    .expire_prefix("processed/", 1)
    .expire_prefix("archives/", 1)
    .add(&mut scope, "images")
    .unwrap();
    let role = Role::new("pixtools-dev-node", Trust::ec2())
        .add(&mut scope, "node")
        .unwrap();
    images
        .grant_read_write(&mut scope, "node-images", &role, "")
        .unwrap();
    let repository = Repository::new("pixtools-api")
        .add(&mut scope, "api-repository")
        .unwrap();
    assert_eq!(
        repository.arn().expr().to_terraform_string(),
        "${aws_ecr_repository.api_repository.arn}"
    );
}

#[test]
fn buckets_are_private_encrypted_versioned_and_tls_only() {
    let mut stack = stack();
    pixtools(&mut stack);
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_s3_bucket",
        &json!({"bucket": "pixtools-images-123456789012-us-east-1", "force_destroy": false}),
    );
    t.has_resource_properties(
        "aws_s3_bucket_public_access_block",
        &json!({"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}),
    );
    t.has_resource_properties(
        "aws_s3_bucket_ownership_controls",
        &json!({"rule": [{"object_ownership": "BucketOwnerEnforced"}]}),
    );
    t.has_resource_properties(
        "aws_s3_bucket_server_side_encryption_configuration",
        &json!({"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]}),
    );
    t.has_resource_properties(
        "aws_s3_bucket_versioning",
        &json!({"versioning_configuration": [{"status": "Enabled"}]}),
    );
    let rules = &t.resource("aws_s3_bucket_lifecycle_configuration", "images_lifecycle")["rule"];
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "abort-incomplete-uploads",
            "expire-raw",
            "expire-processed",
            "expire-archives"
        ]
    );
    assert_eq!(rules[1]["filter"], json!([{"prefix": "raw/"}]));
    assert_eq!(rules[1]["expiration"], json!([{"days": 1}]));
    let policy = t.resource("aws_s3_bucket_policy", "images_tls_only")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("${jsonencode("), "{policy}");
    assert!(
        policy.contains("aws:SecureTransport") && policy.contains("Deny"),
        "{policy}"
    );
}

#[test]
fn grants_are_object_level_and_scoped_to_the_bucket() {
    let mut stack = stack();
    pixtools(&mut stack);
    let t = Template::from_stack(stack).unwrap();
    let grant = t.resource("aws_iam_role_policy", "node_images");
    assert_eq!(grant["role"], "${aws_iam_role.node.name}");
    let policy = grant["policy"].as_str().unwrap();
    for action in [
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
    ] {
        assert!(policy.contains(action), "{action} missing from {policy}");
    }
    assert!(!policy.contains("\"s3:*\""), "{policy}");
    assert!(policy.contains("aws_s3_bucket.images.arn"), "{policy}");
}

#[test]
fn repositories_are_immutable_scanned_and_pruned() {
    let mut stack = stack();
    pixtools(&mut stack);
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_ecr_repository",
        &json!({"name": "pixtools-api", "image_tag_mutability": "IMMUTABLE", "image_scanning_configuration": [{"scan_on_push": true}]}),
    );
    let policy: Json = serde_json::from_str(
        t.resource("aws_ecr_lifecycle_policy", "api_repository_lifecycle")["policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(policy["rules"][1]["selection"]["countNumber"], 30);
}

#[test]
fn a_repository_can_expire_only_its_builds_and_keep_every_release() {
    let mut stack = stack();
    let mut scope = stack.scope("registry").unwrap();
    let _core = Repository::new("piksel-core")
        .expire_only_builds_tagged(["sha-"])
        .add(&mut scope, "core")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    let policy: Json = serde_json::from_str(
        t.resource("aws_ecr_lifecycle_policy", "registry_core_lifecycle")["policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    // The count rule selects the builds' tags only: a `v1.2.0` image is in no rule
    // (tagged, so not the untagged rule), so it never expires.
    let count = &policy["rules"][1]["selection"];
    assert_eq!(count["tagStatus"], "tagged");
    assert_eq!(count["tagPrefixList"], json!(["sha-"]));
    assert_eq!(count["countNumber"], 30);
    assert_eq!(policy["rules"][0]["selection"]["tagStatus"], "untagged");
    assert_eq!(policy["rules"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_names_and_rules_are_refused_with_the_path() {
    let mut stack = stack();
    let mut scope = stack.scope("data").unwrap();
    let err = Bucket::new(BucketName::with_account_and_region(
        "pixtools-images-for-the-processing-pipeline",
        "123456789012",
        "us-east-1",
    ))
    .add(&mut scope, "images")
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("storage-dev:data/images: bucket name"),
        "{err}"
    );
    assert!(matches!(
        err.construct_error::<StorageError>(),
        Some(StorageError::NameLength { longest: 66, .. })
    ));
    let err = Bucket::new(BucketName::literal("ok-name"))
        .expire_prefix("raw/", 0)
        .add(&mut scope, "a")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::ExpireAfterZeroDays("raw/".into()))
    );
    let err = Bucket::new(BucketName::literal("ok-name"))
        .expire_prefix("/raw/", 1)
        .add(&mut scope, "b")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::PrefixStartsWithSlash("/raw/".into()))
    );
    let err = Repository::new("PixTools")
        .add(&mut scope, "repo")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::RepositoryName("PixTools".into()))
    );
    let err = Repository::new("pixtools")
        .keep_images(0)
        .add(&mut scope, "repo-keeping-nothing")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::KeepNoImages)
    );
}

#[test]
fn tfcheck_accepts_the_storage() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let mut stack = stack();
    pixtools(&mut stack);
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-storage");
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
fn the_handle_exposes_name_arn_and_the_statements_that_use_it() {
    let mut stack = stack();
    let mut scope = stack.scope("data").unwrap();
    let known = Bucket::new(BucketName::with_account_and_region(
        "pixtools-manifests",
        "123456789012",
        "us-east-1",
    ))
    .add(&mut scope, "manifests")
    .unwrap();
    assert_eq!(
        known.known_name(),
        Some("pixtools-manifests-123456789012-us-east-1")
    );
    assert_eq!(
        known.arn().expr().to_terraform_string(),
        "${aws_s3_bucket.data_manifests.arn}"
    );
    assert_eq!(
        known.objects_arn("manifests/").expr().to_terraform_string(),
        "${format(\"%s/manifests/*\", aws_s3_bucket.data_manifests.arn)}"
    );
    // A writer ordered after the bucket waits for its policy (which refers to it).
    let waits: Vec<String> = known
        .dependencies()
        .iter()
        .map(|r| r.target.to_string())
        .collect();
    assert_eq!(waits, ["aws_s3_bucket_policy.data_manifests_tls_only"]);
    let computed = Bucket::new(BucketName::with_account_and_region(
        "logs",
        Expr::raw("data.aws_caller_identity.current.account_id").cast::<String>(),
        "us-east-1",
    ))
    .encryption(Encryption::Kms(Expr::lit(
        "arn:aws:kms:us-east-1:123456789012:key/k",
    )))
    .add(&mut scope, "logs")
    .unwrap();
    assert_eq!(computed.known_name(), None);
    // Reading a KMS-encrypted bucket includes decrypting with its key; writing, encrypting.
    assert_eq!(computed.read_statements("raw/").len(), 3);
    assert_eq!(computed.write_statements("raw/").len(), 2);
    assert_eq!(known.read_statements("").len(), 2);
    // Listing the whole bucket carries no `s3:prefix` condition (a list without a prefix
    // lacks the key, so any condition on it would deny); a prefix is enforced.
    let rendered = |prefix: &str| {
        girder_iam::PolicyDocument::new()
            .statement(known.list_statement(prefix))
            .render("test")
            .unwrap()
            .into_expr()
            .unwrap()
            .to_terraform_string()
    };
    assert!(!rendered("").contains("Condition"), "{}", rendered(""));
    assert!(
        rendered("raw/").contains(r#""s3:prefix" = "raw/*""#),
        "{}",
        rendered("raw/")
    );
    assert_eq!(known.write_statements("").len(), 1);
}

#[test]
fn a_repositorys_pull_statement_names_that_repository_only() {
    use girder_iam::{Access, PolicyDocument};
    let mut stack = Stack::new("registry", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let api = Repository::new("pixtools-api")
        .add(&mut scope, "api")
        .unwrap();
    let other = Repository::new("other").add(&mut scope, "other").unwrap();
    let document = PolicyDocument::new()
        .statement(RepositoryHandle::login_statement())
        .statement(api.pull_statement());
    let arn = |r: &RepositoryHandle| -> Value<String> { r.arn().into() };
    for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
        assert_eq!(document.access(action, &arn(&api)), Access::Allowed);
        assert_eq!(document.access(action, &arn(&other)), Access::Denied);
    }
    assert_eq!(document.access("ecr:PutImage", &arn(&api)), Access::Denied);
    assert_eq!(
        document.allowed_actions(),
        [
            "ecr:GetAuthorizationToken",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer"
        ]
    );
    // The login's `*` comes with its reason, so the policy renders.
    assert_eq!(document.wildcard_reasons().len(), 1);
    document.render("registry").unwrap();
}

#[test]
fn public_objects_are_exactly_the_keys_named_and_only_they_open_the_block() {
    let mut stack = stack();
    let mut scope = stack.scope("data").unwrap();
    let _issuer = Bucket::new(BucketName::literal("acme-issuer"))
        .public_object("keys.json")
        .add(&mut scope, "issuer")
        .unwrap();
    let _private = Bucket::new(BucketName::literal("acme-private"))
        .add(&mut scope, "private")
        .unwrap();
    for (i, bad) in ["", "/keys.json", "docs/*", "key?.json"]
        .into_iter()
        .enumerate()
    {
        let err = Bucket::new(BucketName::literal("acme-bad"))
            .public_object(bad)
            .add(&mut scope, &format!("bad-{i}"))
            .unwrap_err();
        assert_eq!(
            err.construct_error::<StorageError>(),
            Some(&StorageError::PublicKey(bad.into()))
        );
    }
    let t = Template::from_stack(stack).unwrap();
    let block = t.resource(
        "aws_s3_bucket_public_access_block",
        "data_issuer_public_access_block",
    );
    assert_eq!(block["block_public_policy"], false);
    assert_eq!(block["restrict_public_buckets"], false);
    assert_eq!(block["block_public_acls"], true);
    assert_eq!(block["ignore_public_acls"], true);
    let private = t.resource(
        "aws_s3_bucket_public_access_block",
        "data_private_public_access_block",
    );
    assert_eq!(private["block_public_policy"], true);
    assert_eq!(private["restrict_public_buckets"], true);
    // A new bucket starts with Block Public Access on: the public policy is put only
    // after the block is relaxed, or S3 refuses it (403) on the first apply. A private
    // bucket's policy need not wait.
    assert_eq!(
        t.resource("aws_s3_bucket_policy", "data_issuer_tls_only")["depends_on"],
        serde_json::json!(["aws_s3_bucket_public_access_block.data_issuer_public_access_block"])
    );
    assert!(
        t.resource("aws_s3_bucket_policy", "data_private_tls_only")
            .get("depends_on")
            .is_none()
    );
    let policy = t.resource("aws_s3_bucket_policy", "data_issuer_tls_only")["policy"]
        .as_str()
        .unwrap();
    assert!(
        policy.ends_with(r#"{"Sid" = "PublicObjects", "Effect" = "Allow", "Principal" = {"AWS" = "*"}, "Action" = "s3:GetObject", "Resource" = format("%s/keys.json", aws_s3_bucket.data_issuer.arn)}]})}"#),
        "{policy}"
    );
}

#[test]
fn an_object_locked_bucket_is_created_with_the_lock_and_keeps_versions_as_long() {
    let mut stack = stack();
    let mut scope = stack.root();
    let _ = Bucket::new(BucketName::literal("piksel-audit"))
        .expire_prefix("AWSLogs/", 365)
        .object_lock(ObjectLock::compliance(365))
        .add(&mut scope, "audit")
        .unwrap();
    let _ = Bucket::new(BucketName::literal("piksel-audit-dev"))
        .expire_prefix("AWSLogs/", 365)
        .object_lock(ObjectLock::governance(30))
        .add(&mut scope, "audit-dev")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    // Object Lock is a property of the bucket at creation.
    assert_eq!(
        t.resource("aws_s3_bucket", "audit")["object_lock_enabled"],
        true
    );
    let lock = t.resource(
        "aws_s3_bucket_object_lock_configuration",
        "audit_object_lock",
    );
    assert_eq!(lock["bucket"], "${aws_s3_bucket.audit.id}");
    assert_eq!(
        lock["rule"],
        json!([{"default_retention": [{"mode": "COMPLIANCE", "days": 365}]}])
    );
    assert_eq!(
        lock["depends_on"],
        json!(["aws_s3_bucket_versioning.audit_versioning"])
    );
    let dev = t.resource(
        "aws_s3_bucket_object_lock_configuration",
        "audit_dev_object_lock",
    );
    assert_eq!(dev["rule"][0]["default_retention"][0]["mode"], "GOVERNANCE");
    assert_eq!(dev["rule"][0]["default_retention"][0]["days"], 30);
    // Replaced versions are kept as long as the lock keeps them, not a day.
    let rules = &t.resource("aws_s3_bucket_lifecycle_configuration", "audit_lifecycle")["rule"];
    let expire = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "expire-AWSLogs")
        .unwrap();
    assert_eq!(
        expire["noncurrent_version_expiration"][0]["noncurrent_days"],
        365
    );
    assert_eq!(expire["expiration"][0]["days"], 365);
    // A bucket without a lock has no lock and keeps the one-day noncurrent expiry.
    let mut plain = self::stack();
    pixtools(&mut plain);
    let plain = Template::from_stack(plain).unwrap();
    plain.resource_count_is("aws_s3_bucket_object_lock_configuration", 0);
    assert!(plain.resource("aws_s3_bucket", "images")["object_lock_enabled"].is_null());
}

#[test]
fn an_object_lock_longer_than_an_expiry_or_without_versioning_is_refused() {
    let mut stack = stack();
    let mut scope = stack.root();
    let err = Bucket::new(BucketName::literal("piksel-audit"))
        .expire_prefix("AWSLogs/", 90)
        .object_lock(ObjectLock::governance(365))
        .add(&mut scope, "short")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::ExpiryShorterThanLock {
            prefix: "AWSLogs/".into(),
            days: 90,
            lock_days: 365
        })
    );
    let err = Bucket::new(BucketName::literal("piksel-audit"))
        .unversioned()
        .object_lock(ObjectLock::compliance(30))
        .add(&mut scope, "unversioned")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<StorageError>(),
        Some(&StorageError::ObjectLockUnversioned)
    );
    for days in [0, OBJECT_LOCK_MAXIMUM_DAYS + 1] {
        let err = Bucket::new(BucketName::literal("piksel-audit"))
            .object_lock(ObjectLock::compliance(days))
            .add(&mut scope, &format!("days-{days}"))
            .unwrap_err();
        assert_eq!(
            err.construct_error::<StorageError>(),
            Some(&StorageError::ObjectLockDays(days))
        );
    }
}
