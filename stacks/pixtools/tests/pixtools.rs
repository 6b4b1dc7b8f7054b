#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The seed's values, asserted on the synthesized stacks (the snapshots under snapshots/
//! pin every byte; these say what each value is for).

use girder_core::App;
use girder_core::assertions::Template;
use serde_json::{Value as Json, json};

fn template(stack: &str) -> Template {
    let mut app = App::new();
    girder_stack_pixtools::build(&mut app).unwrap();
    let assembly = app.synth().unwrap();
    Template::from_assembly(&assembly, stack).unwrap()
}

#[test]
fn remote_state_bucket_and_lock_table() {
    let state = template("pixtools-state-dev");
    state.has_resource_properties("aws_s3_bucket", &json!({"bucket": "pixtools-tfstate-111111111111-us-east-1", "lifecycle": {"prevent_destroy": true}}));
    state.has_resource_properties(
        "aws_dynamodb_table",
        &json!({"name": "pixtools-tf-locks", "hash_key": "LockID"}),
    );
    let main = template("pixtools-dev");
    assert_eq!(
        main.terraform()["terraform"]["backend"]["s3"],
        json!({"bucket": "pixtools-tfstate-111111111111-us-east-1", "key": "pixtools/dev/terraform.tfstate", "region": "us-east-1", "encrypt": true, "dynamodb_table": "pixtools-tf-locks"})
    );
}

#[test]
fn architecture_freeze_values() {
    let t = template("pixtools-dev");
    t.has_resource_properties("aws_vpc", &json!({"cidr_block": "10.40.0.0/16"}));
    t.resource_count_is("aws_subnet", 4);
    t.resource_count_is("aws_lb", 1);
    let group = t.resource("aws_autoscaling_group", "compute_k3s_group");
    assert_eq!(
        (
            group["min_size"].clone(),
            group["max_size"].clone(),
            group["desired_capacity"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    let policy = &group["mixed_instances_policy"][0];
    assert_eq!(
        policy["instances_distribution"][0]["on_demand_base_capacity"],
        0
    );
    assert_eq!(
        policy["instances_distribution"][0]["on_demand_percentage_above_base_capacity"],
        0
    );
    let types: Vec<&str> = policy["launch_template"][0]["override"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["instance_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["m7i-flex.large", "c7i-flex.large", "m6i.large"]);
    let template = t.resource("aws_launch_template", "compute_k3s_launch_template");
    assert_eq!(
        template["block_device_mappings"][0]["ebs"][0]["volume_size"],
        40
    );
    assert_eq!(
        template["block_device_mappings"][0]["ebs"][0]["volume_type"],
        "gp3"
    );
    assert!(template["image_id"].as_str().unwrap().contains("al2023"));
    t.has_resource_properties(
        "aws_db_instance",
        &json!({"engine": "postgres", "engine_version": "16", "instance_class": "db.t4g.micro", "allocated_storage": 20, "storage_type": "gp3", "multi_az": false}),
    );
    for name in ["pixtools-api", "pixtools-worker"] {
        t.has_resource_properties(
            "aws_ecr_repository",
            &json!({"name": name, "image_tag_mutability": "IMMUTABLE"}),
        );
    }
    t.has_resource_properties(
        "aws_s3_bucket",
        &json!({"bucket": "pixtools-images-111111111111-us-east-1"}),
    );
    t.has_resource_properties(
        "aws_s3_bucket",
        &json!({"bucket": "pixtools-manifests-111111111111-us-east-1"}),
    );
    let rules = t.resource(
        "aws_s3_bucket_lifecycle_configuration",
        "storage_images_lifecycle",
    )["rule"]
        .clone();
    for prefix in ["raw/", "processed/", "archives/"] {
        assert!(
            rules
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["filter"][0]["prefix"] == prefix && r["expiration"][0]["days"] == 1),
            "{prefix} expires after 1 day"
        );
    }
    t.has_resource_properties(
        "aws_vpc_security_group_ingress_rule",
        &json!({"cidr_ipv4": "203.0.113.10/32", "from_port": 80}),
    );
}

#[test]
fn ssm_contract_logs_alarms_and_budget() {
    let t = template("pixtools-dev");
    let names: Vec<String> = t
        .resources("aws_ssm_parameter")
        .iter()
        .map(|(_, r)| r["name"].as_str().unwrap().to_owned())
        .collect();
    for key in [
        "database_url",
        "redis_url",
        "rabbitmq_url",
        "aws_s3_bucket",
        "webhook_cb_fail_threshold",
        "webhook_cb_reset_timeout",
    ] {
        assert!(
            names.contains(&format!("/pixtools/dev/{key}")),
            "{key} missing from {names:?}"
        );
    }
    for (_, group) in t.resources("aws_cloudwatch_log_group") {
        assert_eq!(group["retention_in_days"], 14, "{group}");
    }
    let alarms: Vec<(String, Json)> = t
        .resources("aws_cloudwatch_metric_alarm")
        .iter()
        .map(|(_, a)| (a["metric_name"].as_str().unwrap().to_owned(), (*a).clone()))
        .collect();
    let find = |metric: &str| {
        alarms
            .iter()
            .find(|(m, _)| m == metric)
            .map(|(_, a)| a.clone())
            .unwrap()
    };
    assert_eq!(find("HealthyHostCount")["evaluation_periods"], 5);
    assert_eq!(find("QueueDepth")["evaluation_periods"], 10);
    assert_eq!(find("WorkerCount")["threshold"], 1);
    let cpu = find("CPUUtilization");
    assert_eq!(
        (
            cpu["threshold"].clone(),
            cpu["period"].clone(),
            cpu["evaluation_periods"].clone()
        ),
        (json!(80), json!(300), json!(2))
    );
    t.has_resource_properties(
        "aws_budgets_budget",
        &json!({"limit_amount": "20", "limit_unit": "USD", "time_unit": "MONTHLY"}),
    );
    t.resource_count_is("aws_sns_topic_subscription", 1);
}

#[test]
fn prod_is_the_same_shape_with_production_settings() {
    let dev = template("pixtools-dev");
    let prod = template("pixtools-prod");
    assert_eq!(
        dev.resources("aws_db_instance")[0].1["deletion_protection"],
        false
    );
    assert_eq!(
        prod.resources("aws_db_instance")[0].1["deletion_protection"],
        true
    );
    assert_eq!(
        prod.resources("aws_db_instance")[0].1["backup_retention_period"],
        14
    );
    let trust = |t: &Template| {
        t.resource("aws_iam_role", "deploy_role")["assume_role_policy"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(trust(&dev).contains("repo:pixtools/pixtools:ref:refs/heads/main"));
    assert!(trust(&prod).contains("repo:pixtools/pixtools:environment:prod"));
    let count = |t: &Template| {
        t.terraform()["resource"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_object().unwrap().len())
            .sum::<usize>()
    };
    assert_eq!(count(&dev), count(&prod), "same shape");
}
