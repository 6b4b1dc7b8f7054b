#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The PostgreSQL construct's defaults, access, ARN, SSM publishing and errors, and tfcheck.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::construct::Dependable;
use girder_core::prelude::*;
use girder_core::vocabulary::{AwsLocation, MAX_SSM_PATH_LEN, Partition, SsmPath, SsmPathError};
use girder_network::{Connectable, SecurityGroup, Vpc};
use girder_rds::{POSTGRES_PORT, Postgres, PostgresParameters, RdsError};
use serde_json::json;

fn ssm(path: &str) -> SsmPath {
    SsmPath::new(path).unwrap()
}

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
    let nodes = SecurityGroup::new(&vpc, "pixtools-dev-node", "K3s node")
        .add(&mut scope, "node")
        .unwrap();
    let db = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .database("pixtools", "pixtools_admin")
        .add(&mut scope, "database")
        .unwrap();
    db.connections()
        .allow_default_port_from(&mut scope, &nodes, "K3s node to PostgreSQL")
        .unwrap();
    let published = db
        .publish_to_ssm(&mut scope, "database-settings", &ssm("/pixtools/dev/db"))
        .unwrap();
    assert_eq!(published.host().as_str(), "/pixtools/dev/db/host");
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
    // Replaced before it is destroyed, so named by a prefix: a fixed name would make the
    // replacement collide with the group it replaces.
    let (_, group) = t.resources("aws_db_parameter_group")[0];
    assert!(group.get("name").is_none(), "{group}");
    assert!(
        group["name_prefix"]
            .as_str()
            .unwrap()
            .ends_with("-postgres16-")
    );
    assert_eq!(group["lifecycle"]["create_before_destroy"], true);
    // The default port rule, named by port and peer.
    let rule = t.resource(
        "aws_vpc_security_group_ingress_rule",
        "ingress_tcp_5432_from_node",
    );
    assert_eq!(rule["from_port"], POSTGRES_PORT);
    assert_eq!(rule["to_port"], POSTGRES_PORT);
    assert_eq!(
        rule["referenced_security_group_id"],
        "${aws_security_group.node.id}"
    );
    assert_eq!(
        rule["security_group_id"],
        "${aws_security_group.database_security_group.id}"
    );
    assert_eq!(rule["description"], "K3s node to PostgreSQL");
}

#[test]
fn connection_settings_go_to_ssm_under_the_names_defined_once() {
    let t = Template::from_stack(stack()).unwrap();
    t.resource_count_is("aws_ssm_parameter", 5);
    let published = PostgresParameters::under(&ssm("/pixtools/dev/db")).unwrap();
    for (key, path) in published.all() {
        let id = format!("database_settings_{}", key.replace('-', "_"));
        assert_eq!(
            t.resource("aws_ssm_parameter", &id)["name"],
            path.as_str(),
            "{key}"
        );
    }
    assert_eq!(
        t.resource("aws_ssm_parameter", "database_settings_host")["value"],
        "${aws_db_instance.database.address}"
    );
    assert_eq!(
        t.resource("aws_ssm_parameter", "database_settings_master_secret_arn")["value"],
        "${aws_db_instance.database.master_user_secret[0].secret_arn}"
    );
}

#[test]
fn the_arn_is_known_at_synth_when_the_location_is() {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let here = AwsLocation::stated(Partition::Aws, "us-east-1", "111111111111").unwrap();
    let located = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .located_in(&here)
        .add(&mut scope, "located")
        .unwrap();
    assert_eq!(
        located.arn().known(),
        Some("arn:aws:rds:us-east-1:111111111111:db:pixtools-dev")
    );
    assert_eq!(located.identifier(), "pixtools-dev");
    let unlocated = Postgres::new(&vpc, "other", 16, "db.t4g.micro")
        .add(&mut scope, "other")
        .unwrap();
    assert_eq!(unlocated.arn().known(), None);
    assert_eq!(
        unlocated.arn().expr().to_terraform_string(),
        "${aws_db_instance.other.arn}"
    );
    // Dependants wait for the instance and its parameter group.
    let waits: Vec<String> = unlocated
        .dependencies()
        .iter()
        .map(|r| r.target.to_string())
        .collect();
    assert_eq!(
        waits,
        [
            "aws_db_instance.other",
            "aws_db_parameter_group.other_parameters"
        ]
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
            Postgres::new(&vpc, "Pixtools", 16, "db.t4g.micro"),
            RdsError::Identifier("Pixtools".into()),
        ),
        (
            Postgres::new(&vpc, "pixtools", 9, "db.t4g.micro"),
            RdsError::MajorVersion(9),
        ),
        (
            Postgres::new(&vpc, "pixtools", 16, "t4g.micro"),
            RdsError::InstanceClass("t4g.micro".into()),
        ),
        (
            Postgres::new(&vpc, "pixtools", 16, "db.t4g.micro").storage(10, 10),
            RdsError::Storage {
                gib: 10,
                max_gib: 10,
            },
        ),
        (
            Postgres::new(&vpc, "pixtools", 16, "db.t4g.micro").backup_retention(0),
            RdsError::BackupRetention(0),
        ),
        (
            Postgres::new(&vpc, "pixtools", 16, "db.t4g.micro").user_secrets_recovery_window(3),
            RdsError::RecoveryWindow(3),
        ),
        (
            Postgres::new(&vpc, "pixtools", 16, "db.t4g.micro").database("my-db", "admin"),
            RdsError::Name {
                what: "database",
                name: "my-db".into(),
            },
        ),
    ];
    for (i, (postgres, expected)) in cases.into_iter().enumerate() {
        let err = postgres.add(&mut scope, &format!("db{i}")).unwrap_err();
        assert_eq!(err.construct_error::<RdsError>(), Some(&expected), "{err}");
        assert!(
            err.to_string().starts_with(&format!("data-dev:db{i}: ")),
            "{err}"
        );
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
    let db = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .add(&mut scope, "database")
        .unwrap();
    // A prefix is an `SsmPath`: a space or an empty segment cannot even be stated.
    for bad in [
        "pixtools/db",
        "/pixtools/db/",
        "/pix tools/db",
        "/pixtools//db",
    ] {
        assert_eq!(SsmPath::new(bad), Err(SsmPathError(bad.to_owned())));
    }
    // A prefix whose parameters would be too long for SSM is refused with the path.
    let long = ssm(&format!("/{}", "a".repeat(MAX_SSM_PATH_LEN - 5)));
    let err = db.publish_to_ssm(&mut scope, "long", &long).unwrap_err();
    assert!(
        matches!(
            err.construct_error::<RdsError>(),
            Some(RdsError::SsmPath(_))
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("data-dev:long: "), "{err}");
    let _published = db
        .publish_to_ssm(&mut scope, "settings", &ssm("/pixtools/dev/db"))
        .unwrap();
}

#[test]
fn published_settings_are_something_a_reader_can_wait_for() {
    // A node reading the settings at boot must be created after the instance exists and
    // the parameters are written, not beside them.
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let db = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .add(&mut scope, "database")
        .unwrap();
    let published = db
        .publish_to_ssm(&mut scope, "settings", &ssm("/pixtools/dev/db"))
        .unwrap();
    let waits: Vec<String> = published
        .dependencies()
        .iter()
        .map(|r| r.target.to_string())
        .collect();
    assert_eq!(
        waits,
        [
            "aws_db_instance.database",
            "aws_db_parameter_group.database_parameters",
            "aws_ssm_parameter.settings_host",
            "aws_ssm_parameter.settings_port",
            "aws_ssm_parameter.settings_database",
            "aws_ssm_parameter.settings_username",
            "aws_ssm_parameter.settings_master_secret_arn",
        ]
    );
    // Named from elsewhere (another stack's reader), there is nothing here to wait for.
    let named = PostgresParameters::under(&ssm("/pixtools/dev/db")).unwrap();
    assert!(named.dependencies().is_empty());
    assert_eq!(named.host(), published.host());
}

/// An instance and what else the test adds, as a template.
fn with(add: impl FnOnce(&mut Scope<'_>, &girder_rds::PostgresHandle)) -> Template {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .require_provider(girder_aws::random::requirement())
        .unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let db = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .database("pixtools", "pixtools_admin")
        .add(&mut scope, "database")
        .unwrap();
    add(&mut scope, &db);
    drop(scope);
    Template::from_stack(stack).unwrap()
}

#[test]
fn the_exported_logs_groups_exist_with_retention_before_the_instance() {
    let t = with(|_, _| {});
    let db = t.resource("aws_db_instance", "database");
    assert_eq!(
        db["enabled_cloudwatch_logs_exports"],
        json!(["postgresql", "upgrade"])
    );
    for log in girder_rds::EXPORTED_LOGS {
        let group = t.resource("aws_cloudwatch_log_group", &format!("database_{log}_logs"));
        // The group RDS would otherwise create itself, with no retention.
        assert_eq!(
            group["name"],
            format!("/aws/rds/instance/pixtools-dev/{log}")
        );
        assert_eq!(group["retention_in_days"], 14);
        assert!(
            db["depends_on"]
                .as_array()
                .unwrap()
                .contains(&json!(format!(
                    "aws_cloudwatch_log_group.database_{log}_logs"
                ))),
            "{db}"
        );
    }
}

#[test]
fn a_log_retention_cloudwatch_does_not_offer_is_refused() {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let err = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .log_retention(15)
        .add(&mut scope, "database")
        .unwrap_err();
    assert!(
        matches!(
            err.construct_error::<RdsError>(),
            Some(RdsError::LogRetention(_))
        ),
        "{err}"
    );
}

#[test]
fn a_user_has_a_generated_password_in_a_secret_of_its_own() {
    let mut handle = None;
    let t = with(|scope, db| {
        handle = Some((
            db.user(scope, "app-user", "pixtools", "pixtools").unwrap(),
            db.master_secret_arn(),
        ));
    });
    let (user, master) = handle.unwrap();
    assert_eq!(user.secret_name(), "pixtools-dev/users/pixtools");
    assert_eq!(
        t.resource("aws_secretsmanager_secret", "app_user_secret")["name"],
        "pixtools-dev/users/pixtools"
    );
    let password = t.resource("random_password", "app_user_password");
    assert_eq!(password["special"], false);
    let version = t.resource(
        "aws_secretsmanager_secret_version",
        "app_user_secret_version",
    );
    assert_eq!(
        version["secret_string"],
        "${format(\"{\\\"username\\\":\\\"pixtools\\\",\\\"password\\\":\\\"%s\\\"}\", random_password.app_user_password.result)}"
    );
    // Whoever creates the user reads the master secret: the handle names it.
    assert_eq!(user.master_secret_arn(), master);
    // A reader at boot waits for the secret and its value.
    assert_eq!(user.dependencies().len(), 2);
    // Secrets Manager's own recovery window unless stated.
    assert!(
        t.resource("aws_secretsmanager_secret", "app_user_secret")
            .get("recovery_window_in_days")
            .is_none()
    );
}

#[test]
fn the_users_secrets_take_the_stated_recovery_window() {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .require_provider(girder_aws::random::requirement())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let db = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .user_secrets_recovery_window(0)
        .add(&mut scope, "database")
        .unwrap();
    let _user = db
        .user(&mut scope, "app-user", "pixtools", "pixtools")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("aws_secretsmanager_secret", "app_user_secret")["recovery_window_in_days"],
        0
    );
}

#[test]
fn a_user_named_like_the_master_or_not_a_plain_name_is_refused() {
    for (name, expected) in [
        (
            "pixtools_admin",
            RdsError::UserName("pixtools_admin".into()),
        ),
        (
            "App-User",
            RdsError::Name {
                what: "username",
                name: "App-User".into(),
            },
        ),
    ] {
        let mut err = None;
        let _ = with(|scope, db| {
            err = Some(db.user(scope, "user", name, "pixtools").unwrap_err());
        });
        let err = err.unwrap();
        assert_eq!(err.construct_error::<RdsError>(), Some(&expected), "{err}");
    }
}
