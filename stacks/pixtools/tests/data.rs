#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! PixTools' data and logs, as an operator would check them: K3s and the app on database
//! users of their own (the master's weekly rotation changes neither), the node reading
//! exactly those secrets, the app rolled when its password changes, every log group kept
//! 14 days, RDS's created before the instance, the app's containers in the app's group.

use girder_core::App;
use girder_core::assertions::Template;
use serde_json::Value as Json;

fn template(stack: &str) -> Template {
    let mut app = App::new();
    girder_stack_pixtools::build(&mut app).unwrap();
    let assembly = app.synth().unwrap();
    Template::from_assembly(&assembly, stack).unwrap()
}

fn user_data(t: &Template) -> String {
    let templates = t.resources("aws_launch_template");
    templates[0].1["user_data"].as_str().unwrap().to_owned()
}

#[test]
fn k3s_and_the_app_use_their_own_database_users() {
    let t = template("pixtools-dev");
    // The app's URL names its own user; the password comes from that user's secret.
    let url = t
        .resources("aws_ssm_parameter")
        .into_iter()
        .find(|(_, p)| p["name"] == "/pixtools/dev/database_url")
        .unwrap()
        .1;
    assert!(
        url["value"]
            .as_str()
            .unwrap()
            // The app's async driver; TLS through PGSSLMODE, which both of its drivers
            // read (asyncpg refuses `sslmode` in the URL, libpq refuses `ssl`).
            .starts_with("${format(\"postgresql+asyncpg://pixtools@%s:%s/pixtools\""),
        "{url}"
    );
    let runtime = t.kube_object("ExternalSecret", "pixtools-runtime");
    assert_eq!(
        runtime["spec"]["dataFrom"][0]["extract"]["key"],
        "pixtools-dev/users/pixtools"
    );
    // K3s's datastore endpoint names K3s's user and database.
    let boot = user_data(&t);
    assert!(boot.contains("DB_USER=k3s_state"), "{boot}");
    assert!(boot.contains("/k3s_state?sslmode=require"), "{boot}");
    // Each password is Terraform's, in a secret of its own.
    for (user, secret) in [
        ("k3s_state", "data_k3s_user_secret"),
        ("pixtools", "data_app_user_secret"),
    ] {
        let s = t.resource("aws_secretsmanager_secret", secret);
        assert_eq!(s["name"], format!("pixtools-dev/users/{user}"));
    }
}

#[test]
fn the_node_role_reads_exactly_the_master_and_the_users_secrets() {
    let t = template("pixtools-dev");
    let policies: Vec<String> = t
        .resources("aws_iam_role_policy")
        .into_iter()
        .map(|(_, p)| p["policy"].as_str().unwrap().to_owned())
        .collect();
    // No listing of every secret in the account (the master was found by tag).
    assert!(
        policies.iter().all(|p| !p.contains("ListSecrets")),
        "{policies:?}"
    );
    // The node role's (it creates the users at boot) and External Secrets' (the app's
    // password, for the app's Secret); no other role reads a password.
    let reads: Vec<&String> = policies
        .iter()
        .filter(|p| p.contains("secretsmanager:GetSecretValue"))
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    let (node, others): (Vec<&String>, Vec<&String>) =
        reads.into_iter().partition(|p| p.contains("ReadSettings"));
    assert!(
        others[0].contains("\"Resource\" = aws_secretsmanager_secret.data_app_user_secret.arn")
    );
    assert!(!others[0].contains("master_user_secret"));
    let reads = node;
    assert_eq!(reads[0].matches("secretsmanager:GetSecretValue").count(), 1);
    assert!(reads[0].contains(
        "\"Resource\" = [aws_db_instance.data_database.master_user_secret[0].secret_arn, \
         aws_secretsmanager_secret.data_k3s_user_secret.arn, \
         aws_secretsmanager_secret.data_app_user_secret.arn]"
    ));
}

#[test]
fn a_changed_app_password_reaches_the_pods_without_a_manual_restart() {
    let t = template("pixtools-dev");
    let runtime = t.kube_object("ExternalSecret", "pixtools-runtime");
    assert_eq!(runtime["spec"]["refreshInterval"], "5m");
    for name in ["api", "worker-standard", "worker-ml"] {
        let deployment = t.kube_object("Deployment", name);
        assert_eq!(
            deployment["metadata"]["annotations"]["secret.reloader.stakater.com/reload"],
            "pixtools-runtime",
            "{name}"
        );
    }
    // The servers' own copies of the passwords: the broker loads its user from the
    // definitions at boot, Redis its password from redis.conf at start. A changed
    // password restarts them too, or the clients' new password is refused.
    for (kind, name, secret) in [
        ("StatefulSet", "rabbitmq", "rabbitmq-definitions"),
        ("Deployment", "redis", "redis-auth"),
    ] {
        let workload = t.kube_object(kind, name);
        assert_eq!(
            workload["metadata"]["annotations"]["secret.reloader.stakater.com/reload"], secret,
            "{name}"
        );
    }
    let reloader = t.kube_object("HelmChart", "reloader");
    assert_eq!(reloader["spec"]["targetNamespace"], "pixtools");
    let values: Json =
        serde_norway::from_str(reloader["spec"]["valuesContent"].as_str().unwrap()).unwrap();
    // It watches the app's namespace only.
    assert_eq!(values["reloader"]["watchGlobally"], false);
}

#[test]
fn every_log_group_keeps_14_days_and_rds_waits_for_its_groups() {
    for stack in ["pixtools-dev", "pixtools-prod"] {
        let t = template(stack);
        let groups = t.resources("aws_cloudwatch_log_group");
        for (name, group) in &groups {
            assert_eq!(group["retention_in_days"], 14, "{name}");
        }
        let names: Vec<&str> = groups
            .iter()
            .map(|(_, g)| g["name"].as_str().unwrap())
            .collect();
        let env = stack.trim_start_matches("pixtools-");
        for expected in [
            format!("/aws/rds/instance/pixtools-{env}/postgresql"),
            format!("/aws/rds/instance/pixtools-{env}/upgrade"),
            format!("/pixtools/{env}/app"),
        ] {
            assert!(names.contains(&expected.as_str()), "{names:?}");
        }
        let instance = t.resource("aws_db_instance", "data_database");
        let depends_on = instance["depends_on"].as_array().unwrap();
        for group in [
            "data_database_postgresql_logs",
            "data_database_upgrade_logs",
        ] {
            assert!(
                depends_on.contains(&Json::String(format!("aws_cloudwatch_log_group.{group}"))),
                "{depends_on:?}"
            );
        }
        // The app's containers go to the app's group, each file a stream of its own.
        let boot = user_data(&t);
        let app_files = format!(
            r#"{{\"file_path\":\"/var/log/containers/*_pixtools_*.log\",\"log_group_name\":\"/pixtools/{env}/app\",\"log_stream_name\":\"{{instance_id}}\",\"publish_multi_logs\":true,\"from_beginning\":true}}"#
        );
        assert!(boot.contains(&app_files), "{boot}");
        assert!(boot.contains("publish_multi_logs"), "{boot}");
    }
}
