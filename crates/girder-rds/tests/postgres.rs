#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The PostgreSQL construct's defaults, access, SSM publishing and errors, and tfcheck.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_network::{SecurityGroup, Vpc};
use girder_rds::Postgres;
use serde_json::json;

fn stack() -> Stack {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let nodes = SecurityGroup::new("pixtools-dev-node", "K3s node")
        .add(&mut scope, "node", vpc.id())
        .unwrap();
    let db = Postgres::new("pixtools-dev", 16, "db.t4g.micro")
        .database("pixtools", "pixtools_admin")
        .add(&mut scope, "database", &vpc)
        .unwrap();
    db.allow_from(&mut scope, &nodes, "K3s node to PostgreSQL")
        .unwrap();
    db.publish_to_ssm(&mut scope, "database-settings", "/pixtools/dev/db")
        .unwrap();
    stack
}

#[test]
fn the_instance_is_private_encrypted_managed_and_protected() {
    let t = Template::from_stack(stack()).unwrap();
    let db = t.resource("aws_db_instance", "database");
    for (key, value) in [
        ("engine", json!("postgres")),
        ("engine_version", json!("16")),
        ("instance_class", json!("db.t4g.micro")),
        ("allocated_storage", json!(20)),
        ("storage_type", json!("gp3")),
        ("storage_encrypted", json!(true)),
        ("multi_az", json!(false)),
        ("publicly_accessible", json!(false)),
        ("manage_master_user_password", json!(true)),
        ("deletion_protection", json!(true)),
        ("backup_retention_period", json!(7)),
    ] {
        assert_eq!(db[key], value, "{key}");
    }
    assert!(db.get("password").is_none(), "no password anywhere");
    assert_eq!(
        db["vpc_security_group_ids"],
        json!(["${aws_security_group.database_security_group.id}"])
    );
    t.has_resource_properties(
        "aws_db_parameter_group",
        &json!({"family": "postgres16", "parameter": [{"name": "rds.force_ssl", "value": "1"}, {"name": "log_min_duration_statement", "value": "1000"}]}),
    );
    t.has_resource_properties(
        "aws_vpc_security_group_ingress_rule",
        &json!({"from_port": 5432, "to_port": 5432, "referenced_security_group_id": "${aws_security_group.node.id}"}),
    );
}

#[test]
fn connection_settings_go_to_ssm() {
    let t = Template::from_stack(stack()).unwrap();
    t.resource_count_is("aws_ssm_parameter", 5);
    assert_eq!(
        t.resource("aws_ssm_parameter", "database_settings_host")["value"],
        "${aws_db_instance.database.address}"
    );
    assert_eq!(
        t.resource("aws_ssm_parameter", "database_settings_host")["name"],
        "/pixtools/dev/db/host"
    );
    assert_eq!(
        t.resource("aws_ssm_parameter", "database_settings_master_secret_arn")["value"],
        "${aws_db_instance.database.master_user_secret[0].secret_arn}"
    );
}

#[test]
fn bad_settings_are_refused() {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let cases = [
        (
            Postgres::new("Pixtools", 16, "db.t4g.micro"),
            "DB identifier \"Pixtools\"",
        ),
        (
            Postgres::new("pixtools", 9, "db.t4g.micro"),
            "PostgreSQL 9 is not a version",
        ),
        (
            Postgres::new("pixtools", 16, "t4g.micro"),
            "must be a db.* class",
        ),
        (
            Postgres::new("pixtools", 16, "db.t4g.micro").storage(10, 10),
            "at least 20",
        ),
        (
            Postgres::new("pixtools", 16, "db.t4g.micro").backup_retention(0),
            "0 days of backups",
        ),
        (
            Postgres::new("pixtools", 16, "db.t4g.micro").database("my-db", "admin"),
            "database \"my-db\"",
        ),
    ];
    for (i, (postgres, expected)) in cases.into_iter().enumerate() {
        let err = postgres
            .add(&mut scope, &format!("db{i}"), &vpc)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
}

#[test]
fn tfcheck_accepts_the_database() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let mut app = App::new();
    app.add_stack(stack()).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-rds");
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
fn ssm_prefixes_follow_the_parameter_name_rules() {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let db = Postgres::new("pixtools-dev", 16, "db.t4g.micro")
        .add(&mut scope, "database", &vpc)
        .unwrap();
    // Only the leading and trailing '/' were checked: a space or an empty segment made
    // parameter names SSM refuses at apply.
    for (i, bad) in [
        "pixtools/db",
        "/pixtools/db/",
        "/pix tools/db",
        "/pixtools//db",
    ]
    .into_iter()
    .enumerate()
    {
        let err = db
            .publish_to_ssm(&mut scope, &format!("settings{i}"), bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("SSM prefix {bad:?} must start with '/'")),
            "{err}"
        );
    }
    db.publish_to_ssm(&mut scope, "settings", "/pixtools/dev/db")
        .unwrap();
}
