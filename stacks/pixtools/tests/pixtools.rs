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
    // CloudWatch alarms only where AWS publishes the metric: queue depth and workers are
    // Prometheus alerts in the cluster, since nothing publishes PixTools/* metrics.
    assert_eq!(alarms.len(), 2, "{alarms:?}");
    for (metric, alarm) in &alarms {
        let namespace = alarm["namespace"].as_str().unwrap();
        assert!(namespace.starts_with("AWS/"), "{metric}: {namespace}");
    }
    let health = find("HealthyHostCount");
    assert_eq!(health["evaluation_periods"], 5);
    // No data from the target group means no healthy target reports.
    assert_eq!(health["treat_missing_data"], "breaching");
    let cpu = find("CPUUtilization");
    assert_eq!(cpu["treat_missing_data"], "missing");
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

fn container(t: &Template, kind: &str, name: &str) -> Json {
    t.kube_object(kind, name)["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn worker_pools_run_their_queue_at_the_seed_concurrency_from_digests() {
    let t = template("pixtools-dev");
    // Five prefork children; one task at a time in the worker's own process (the app's
    // ML pool: `--pool=solo`, a model loaded before a fork is not used in a child).
    for (name, queue, concurrency) in [
        ("worker-standard", "default_queue", "--concurrency=5"),
        ("worker-ml", "ml_inference_queue", "--pool=solo"),
    ] {
        let worker = container(&t, "Deployment", name);
        let args: Vec<&str> = worker["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(
            args.contains(&format!("--queues={queue}").as_str()),
            "{args:?}"
        );
        assert!(args.contains(&concurrency), "{args:?}");
        assert_eq!(
            args.iter()
                .filter(|a| a.starts_with("--concurrency") || a.starts_with("--pool"))
                .count(),
            1,
            "{args:?}"
        );
        assert_eq!(
            worker["image"],
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/pixtools-worker@sha256:7f3c1e9b5a2d4f6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5f7"
        );
        // Settings come only from the ConfigMap and the External Secrets Secret.
        assert_eq!(
            worker["envFrom"],
            json!([{"configMapRef": {"name": "pixtools-config"}}, {"secretRef": {"name": "pixtools-runtime"}}])
        );
    }
    let api = container(&t, "Deployment", "api");
    assert!(
        api["image"]
            .as_str()
            .unwrap()
            .starts_with("111111111111.dkr.ecr.us-east-1.amazonaws.com/pixtools-api@sha256:")
    );
}

#[test]
fn an_image_digest_that_is_not_one_is_refused() {
    let mut env = girder_stack_pixtools::environments().remove(0);
    env.api_image_digest = "latest".into();
    let err = girder_stack_pixtools::build_environment(&mut App::new(), &env).unwrap_err();
    assert!(
        matches!(
            err.construct_error::<girder_k8s::K8sError>(),
            Some(girder_k8s::K8sError::Image { container, image, .. })
                if container == "api" && image.ends_with("pixtools-api@latest")
        ),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("pixtools-dev:cluster/api"),
        "{err}"
    );
}

#[test]
fn rabbitmq_is_durable_persistent_and_dead_letters() {
    let t = template("pixtools-dev");
    let broker = t.kube_object("StatefulSet", "rabbitmq");
    assert_eq!(
        broker["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "8Gi"
    );
    let config = t.kube_object("ConfigMap", "rabbitmq-config");
    assert!(
        config["data"]["10-pixtools.conf"]
            .as_str()
            .unwrap()
            .contains("load_definitions = /etc/rabbitmq/definitions/definitions.json")
    );
    // The definitions are an External Secrets template: render it with a password and
    // read it as RabbitMQ would.
    let definitions = t.kube_object("ExternalSecret", "rabbitmq-definitions");
    let template_text = definitions["spec"]["target"]["template"]["data"]["definitions.json"]
        .as_str()
        .unwrap();
    assert!(template_text.contains("{{ .rabbitmq_password | toJson }}"));
    let rendered: Json = serde_json::from_str(
        &template_text.replace("{{ .rabbitmq_password | toJson }}", "\"s3cret\""),
    )
    .unwrap();
    assert_eq!(rendered["users"][0]["name"], "pixtools");
    for queue in rendered["queues"].as_array().unwrap() {
        assert_eq!(queue["durable"], true, "{queue}");
    }
    let names: Vec<&str> = rendered["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["default_queue", "ml_inference_queue", "dead_letter"]
    );
    // What the work queues dead-letter reaches the dead-letter queue: `dlx` routes
    // `dead_letter` to it (a policy would be overridden by the queues' own arguments).
    assert!(rendered.get("policies").is_none());
    for queue in &rendered["queues"].as_array().unwrap()[..2] {
        let exchange = &queue["arguments"]["x-dead-letter-exchange"];
        let key = &queue["arguments"]["x-dead-letter-routing-key"];
        let bound: Vec<&Json> = rendered["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| &b["source"] == exchange && &b["routing_key"] == key)
            .collect();
        assert_eq!(bound.len(), 1, "{queue}");
        assert_eq!(bound[0]["destination"], "dead_letter");
    }
    // The password is read from SSM, which Terraform fills.
    assert_eq!(
        definitions["spec"]["data"][0]["remoteRef"]["key"],
        "/pixtools/dev/rabbitmq_password"
    );
    t.has_resource_properties(
        "aws_ssm_parameter",
        &json!({"name": "/pixtools/dev/rabbitmq_password", "type": "SecureString"}),
    );
}

#[test]
fn redis_is_an_lru_cache() {
    let t = template("pixtools-dev");
    let redis = container(&t, "Deployment", "redis");
    let args = redis["args"].as_array().unwrap();
    let policy = args.iter().position(|a| a == "--maxmemory-policy").unwrap();
    assert_eq!(args[policy + 1], "allkeys-lru");
}

#[test]
fn redis_requires_a_password_that_every_client_sends() {
    for env in ["dev", "prod"] {
        let t = template(&format!("pixtools-{env}"));
        let parameter = format!("/pixtools/{env}/redis_password");
        // Terraform generates it into SSM, never into a manifest.
        t.has_resource_properties(
            "aws_ssm_parameter",
            &json!({"name": parameter, "type": "SecureString", "value": "${random_password.config_redis_password.result}"}),
        );
        // The server reads `requirepass` from the Secret External Secrets makes.
        let pod = &t.kube_object("Deployment", "redis")["spec"]["template"]["spec"];
        let server = &pod["containers"][0];
        assert_eq!(server["args"][0], "/etc/redis/redis.conf");
        assert!(
            server["volumeMounts"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "auth", "mountPath": "/etc/redis", "readOnly": true})),
            "{server}"
        );
        let volumes = pod["volumes"].as_array().unwrap();
        assert!(volumes.contains(&json!({"name": "auth", "secret": {"secretName": "redis-auth"}})));
        let auth = t.kube_object("ExternalSecret", "redis-auth");
        assert_eq!(auth["spec"]["data"][0]["remoteRef"]["key"], parameter);
        assert_eq!(
            auth["spec"]["secretStoreRef"]["name"],
            "aws-parameter-store"
        );
        let data = &auth["spec"]["target"]["template"]["data"];
        assert_eq!(
            data["redis.conf"],
            "requirepass \"{{ .redis_password }}\"\n"
        );
        // The exporter authenticates with the same password.
        let exporter = &pod["containers"][1];
        assert!(exporter["env"].as_array().unwrap().contains(&json!({
            "name": "REDIS_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "redis-auth", "key": "auth"}}
        })));
        assert_eq!(data["auth"], "{{ .redis_password }}");
        // The app's REDIS_URL carries it (`redis://:<password>@host`).
        let runtime = t.kube_object("ExternalSecret", "pixtools-runtime");
        assert_eq!(
            runtime["spec"]["target"]["template"]["data"]["REDIS_URL"],
            "{{ .redis_url | replace \"redis://\" (printf \"redis://:%s@\" (.redis_password | urlquery)) }}"
        );
    }
}

#[test]
fn the_secret_stores_serve_only_the_pixtools_namespace() {
    let t = template("pixtools-dev");
    for store in ["aws-parameter-store", "aws-secrets-manager"] {
        assert_eq!(
            t.kube_object("ClusterSecretStore", store)["spec"]["conditions"],
            json!([{"namespaces": ["pixtools"]}]),
            "{store}"
        );
    }
    // Every ExternalSecret that reads through them is in that namespace.
    for object in t.kube_objects() {
        if object["kind"] == "ExternalSecret"
            && object["spec"]["secretStoreRef"]["kind"] == "ClusterSecretStore"
        {
            assert_eq!(object["metadata"]["namespace"], "pixtools", "{object}");
        }
    }
}

#[test]
fn celery_workers_are_ready_when_they_answer_a_ping_and_live_through_a_broker_outage() {
    let t = template("pixtools-dev");
    for pool in ["worker-standard", "worker-ml"] {
        let worker = container(&t, "Deployment", pool);
        let ping = json!([
            "sh",
            "-c",
            format!(
                "exec env -u PROMETHEUS_MULTIPROC_DIR celery --app app.tasks.celery_app inspect ping --destination \"{pool}@$HOSTNAME\" --timeout 10"
            )
        ]);
        // The destination is this pod's worker: its --hostname is `<pool>@%h`.
        assert!(
            worker["args"]
                .as_array()
                .unwrap()
                .contains(&json!(format!("--hostname={pool}@%h")))
        );
        // Ready: the worker answers through the broker (what a rollout waits for); the
        // ping's own timeout is shorter than the probe's.
        let ready = &worker["readinessProbe"];
        assert_eq!(ready["exec"]["command"], ping, "{pool}");
        assert!(ready["timeoutSeconds"].as_u64().unwrap() > 10, "{pool}");
        // Alive: its own process, not the broker. A broker away for minutes (a node
        // loss, a restart) must not restart every worker into a back-off that outlasts
        // the broker's return.
        let alive = &worker["livenessProbe"];
        assert!(alive.get("exec").is_none(), "{pool}: {alive}");
        assert_eq!(alive["httpGet"]["port"], "metrics", "{pool}");
        assert_eq!(alive["failureThreshold"], 3);
    }
}

#[test]
fn runtime_settings_come_from_ssm_with_passwords_composed_in_the_cluster() {
    let t = template("pixtools-dev");
    let runtime = t.kube_object("ExternalSecret", "pixtools-runtime");
    let keys: Vec<&str> = runtime["spec"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["remoteRef"]["key"].as_str().unwrap())
        .collect();
    for key in [
        "database_url",
        "redis_url",
        "rabbitmq_url",
        "aws_s3_bucket",
        "webhook_cb_fail_threshold",
        "webhook_cb_reset_timeout",
    ] {
        // Every key the pods read is a parameter Terraform writes.
        let name = format!("/pixtools/dev/{key}");
        assert!(keys.contains(&name.as_str()), "{keys:?}");
        t.has_resource_properties("aws_ssm_parameter", &json!({"name": name}));
    }
    // The app's own database user, not the master (whose password RDS rotates): its
    // secret, by the name Terraform gives it.
    let extract = &runtime["spec"]["dataFrom"][0];
    assert_eq!(extract["extract"]["key"], "pixtools-dev/users/pixtools");
    assert_eq!(
        extract["sourceRef"]["storeRef"]["name"],
        "aws-secrets-manager"
    );
    t.has_resource_properties(
        "aws_secretsmanager_secret",
        &json!({"name": "pixtools-dev/users/pixtools"}),
    );
    t.has_resource_properties(
        "aws_db_instance",
        &json!({"identifier": "pixtools-dev", "manage_master_user_password": true}),
    );
    let template_data = &runtime["spec"]["target"]["template"]["data"];
    assert!(
        template_data["DATABASE_URL"]
            .as_str()
            .unwrap()
            .contains("(.database_password | urlquery)"),
        "{}",
        template_data["DATABASE_URL"]
    );
    // No manifest carries a secret value: no Secret objects, and every password field
    // (the RabbitMQ definitions) is a template reading SSM in the cluster.
    fn password_fields<'a>(value: &'a Json, found: &mut Vec<&'a Json>) {
        match value {
            Json::Object(map) => {
                for (key, value) in map {
                    if key.to_ascii_lowercase().contains("password") && value.is_string() {
                        found.push(value);
                    }
                    password_fields(value, found);
                }
            }
            Json::Array(items) => items.iter().for_each(|v| password_fields(v, found)),
            Json::String(text) if text.trim_start().starts_with('{') => {
                if let Ok(inner) = serde_json::from_str::<Json>(
                    &text.replace("{{ .rabbitmq_password | toJson }}", "\"{{template}}\""),
                ) {
                    let mut nested = Vec::new();
                    password_fields(&inner, &mut nested);
                    assert!(
                        nested.iter().all(|v| *v == "{{template}}"),
                        "a literal password in {text}"
                    );
                }
            }
            _ => {}
        }
    }
    for object in t.kube_objects() {
        assert_ne!(object["kind"], "Secret", "{object}");
        let mut found = Vec::new();
        password_fields(object, &mut found);
        assert!(found.is_empty(), "password fields in {object}: {found:?}");
    }
}

#[test]
fn the_alb_reaches_traefik_which_rate_limits_the_api() {
    let t = template("pixtools-dev");
    let port = t.resource("aws_lb_target_group", "edge_alb_targets")["port"].clone();
    let traefik = t.kube_object("HelmChartConfig", "traefik");
    let values: Json =
        serde_norway::from_str(traefik["spec"]["valuesContent"].as_str().unwrap()).unwrap();
    assert_eq!(values["ports"]["web"]["nodePort"], port);
    assert_eq!(
        values["ports"]["web"]["forwardedHeaders"]["trustedIPs"],
        // The ALB's two public subnets, 10.40.0.0/24 and 10.40.1.0/24, and nothing else.
        json!(["10.40.0.0/23"])
    );
    // The Service keeps the client's address (no source NAT on the NodePort).
    assert_eq!(values["service"]["spec"]["externalTrafficPolicy"], "Local");
    let ingress = t.kube_object("Ingress", "api");
    assert_eq!(ingress["spec"]["ingressClassName"], "traefik");
    assert_eq!(
        ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.middlewares"],
        "pixtools-api-rate-limit@kubernetescrd"
    );
    let limit = t.kube_object("Middleware", "api-rate-limit");
    assert_eq!(limit["metadata"]["namespace"], "pixtools");
    assert_eq!(limit["spec"]["rateLimit"]["average"], 20);
    // Same-origin CORS at the edge, where the ALB's own name is known.
    let listener = t.resource("aws_lb_listener", "edge_alb_http");
    assert_eq!(
        listener["routing_http_response_access_control_allow_origin_header_value"],
        "${format(\"http://%s\", lower(aws_lb.edge_alb.dns_name))}"
    );
    // Traefik runs in kube-system; only it reaches the api.
    let policy = t.kube_object("NetworkPolicy", "api-from-ns-kube-system");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "kube-system"
    );
}

#[test]
fn both_environments_boot_after_their_database_pull_their_images_and_deploy_without_a_shell() {
    for env in ["dev", "prod"] {
        let t = template(&format!("pixtools-{env}"));
        // The node waits for the database, its published settings and the token.
        let group = t.resource("aws_autoscaling_group", "compute_k3s_group");
        let waits: Vec<&str> = group["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for needed in [
            "aws_db_instance.data_database",
            "aws_ssm_parameter.data_settings_host",
            "aws_ssm_parameter.data_settings_master_secret_arn",
            "aws_ssm_parameter.compute_k3s_token_parameter",
            "aws_iam_role_policy.compute_k3s_role_node",
        ] {
            assert!(waits.contains(&needed), "{env}: {needed} not in {waits:?}");
        }
        // Every template change rolls out.
        assert_eq!(
            group["mixed_instances_policy"][0]["launch_template"][0]["launch_template_specification"]
                [0]["version"],
            "${tostring(aws_launch_template.compute_k3s_launch_template.latest_version)}"
        );
        let template = t.resource("aws_launch_template", "compute_k3s_launch_template");
        assert_eq!(
            template["metadata_options"][0]["http_put_response_hop_limit"],
            1
        );
        // The node pulls the stack's two repositories.
        let node = t.resource("aws_iam_role_policy", "compute_k3s_role_node")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            node.contains("{\"Sid\" = \"PullImages\", \"Effect\" = \"Allow\", \"Action\" = [\"ecr:BatchGetImage\", \"ecr:GetDownloadUrlForLayer\"], \"Resource\" = [aws_ecr_repository.registry_api.arn, aws_ecr_repository.registry_worker.arn]}"),
            "{env}: {node}"
        );
        // The deploy role sends the stack's sync document, never a shell.
        let deploy = t.resource("aws_iam_role_policy", "deploy_role_deploy")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!deploy.contains("AWS-RunShellScript"), "{env}: {deploy}");
        assert!(
            deploy.contains("\"Action\" = \"ssm:SendCommand\", \"Resource\" = aws_ssm_document.compute_k3s_sync_document.arn}"),
            "{env}: {deploy}"
        );
        // No other SSM action: two SendCommand statements, the tag condition's key, and
        // reading the command's outcome (the sync waits for the rollouts).
        assert_eq!(
            deploy.matches("\"Action\" = \"ssm:SendCommand\"").count(),
            2,
            "{env}: {deploy}"
        );
        assert!(deploy.contains(
            "\"Action\" = [\"ssm:GetCommandInvocation\", \"ssm:ListCommandInvocations\"]"
        ));
        assert_eq!(deploy.matches("\"ssm:").count(), 5, "{env}: {deploy}");
        // The ALB, the API's one address, refuses deletion; the VPC's default group
        // admits and sends nothing.
        assert_eq!(
            t.resource("aws_lb", "edge_alb")["enable_deletion_protection"],
            true
        );
        let default_group = t.resource(
            "aws_default_security_group",
            "network_default_security_group",
        );
        assert!(default_group.get("ingress").is_none() && default_group.get("egress").is_none());
    }
}

#[test]
fn no_pod_signs_as_the_node_role_each_component_has_its_own() {
    // The metadata hop limit is 1: a pod on the pod network cannot reach IMDS, so no pod
    // holds the node role's credentials (the K3s token, the database passwords). Every
    // component that calls AWS assumes a role of its own with its ServiceAccount's
    // projected token, and stays on the pod network; the pods on the node's network are
    // exactly those that need the node's metadata (not its credentials).
    for env in ["pixtools-dev", "pixtools-prod"] {
        let t = template(env);
        let hop_limit =
            &t.resource("aws_launch_template", "compute_k3s_launch_template")["metadata_options"];
        assert_eq!(hop_limit[0]["http_put_response_hop_limit"], 1, "{env}");
        let role_env = |env_list: &Json| -> String {
            env_list
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == "AWS_ROLE_ARN")
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let eso = t.helm_values("external-secrets").unwrap();
        assert!(eso.get("hostNetwork").is_none(), "{env}");
        assert_eq!(eso["serviceAccount"]["name"], "external-secrets");
        let eso_role = role_env(&eso["extraEnv"]);
        let monitoring = t.helm_values("kube-prometheus-stack").unwrap();
        let am = &monitoring["alertmanager"];
        assert!(am["alertmanagerSpec"].get("hostNetwork").is_none(), "{env}");
        assert_eq!(am["serviceAccount"]["name"], "alertmanager");
        let am_role = role_env(&am["alertmanagerSpec"]["containers"][0]["env"]);
        let ebs = t.helm_values("aws-ebs-csi-driver").unwrap();
        assert!(ebs["controller"].get("hostNetwork").is_none(), "{env}");
        let ebs_role = role_env(&ebs["controller"]["env"]);
        // Each ARN is a role the stack makes, trusted by exactly that ServiceAccount.
        for (arn, subject) in [
            (&eso_role, "external-secrets:external-secrets"),
            (&am_role, "monitoring:alertmanager"),
            (&ebs_role, "kube-system:ebs-csi-controller-sa"),
        ] {
            let name = arn.rsplit('/').next().unwrap();
            let (_, role) = t
                .resources("aws_iam_role")
                .into_iter()
                .find(|(_, r)| r["name"] == name)
                .unwrap_or_else(|| panic!("{env}: no role {name}"));
            let trust = role["assume_role_policy"].as_str().unwrap();
            let subjects: Vec<&str> = trust
                .split("system:serviceaccount:")
                .skip(1)
                .map(|rest| rest.split(['"', '\\']).next().unwrap())
                .collect();
            assert_eq!(subjects, [subject], "{env}: {name}");
        }
        // What each may do: External Secrets reads the runtime settings (not the node's
        // token or the datastore's settings) and the app user's password (not the
        // master's); Alertmanager publishes to the alerts topic.
        let policy_of = |role: &str| -> String {
            t.resources("aws_iam_role_policy")
                .into_iter()
                .find(|(name, _)| name.starts_with(role))
                .unwrap_or_else(|| panic!("{env}: no policy of {role}"))
                .1["policy"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let eso_policy = policy_of("compute_external_secrets_role");
        for key in ["database_url", "rabbitmq_password", "redis_password"] {
            assert!(eso_policy.contains(&format!("/{key}\"")), "{env}: {key}");
        }
        for other in ["k3s/token", "/db/", "master_user_secret", "/*"] {
            assert!(
                !eso_policy.contains(other),
                "{env}: {other} in {eso_policy}"
            );
        }
        assert!(eso_policy.contains("aws_secretsmanager_secret.data_app_user_secret.arn"));
        let am_policy = policy_of("compute_alertmanager_role");
        assert!(
            am_policy
                .contains(r#""Action" = "sns:Publish", "Resource" = aws_sns_topic.ops_alerts.arn"#),
            "{am_policy}"
        );
        // The node role publishes nothing.
        assert!(
            t.resources("aws_iam_role_policy")
                .iter()
                .filter(|(_, p)| p["role"].as_str().unwrap().contains("compute_k3s_role"))
                .all(|(_, p)| !p["policy"].as_str().unwrap().contains("sns:")),
            "{env}"
        );
        // On the node's network: the drain handler (interruption notices), node-exporter
        // (the node's metrics) and the EBS CSI node plugin (instance id and zone), each
        // without AWS credentials of its own.
        let mut on_node: Vec<&str> = t
            .kube_objects()
            .iter()
            .filter(|o| o["spec"]["template"]["spec"]["hostNetwork"] == true)
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        on_node.sort_unstable();
        assert_eq!(on_node, ["aws-node-termination-handler"], "{env}");
        assert_eq!(ebs["node"]["hostNetwork"], true);
        assert!(ebs["node"].get("env").is_none());
    }
}

#[test]
fn a_spot_interruption_notice_drains_the_node_with_the_handlers_exact_permissions() {
    for env in ["pixtools-dev", "pixtools-prod"] {
        let t = template(env);
        let handler = t.kube_object("DaemonSet", "aws-node-termination-handler");
        assert_eq!(handler["metadata"]["namespace"], "kube-system");
        let pod = &handler["spec"]["template"]["spec"];
        // On the node's network: the only way to IMDS at hop limit 1.
        assert_eq!(pod["hostNetwork"], true, "{env}");
        assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
        assert_eq!(pod["serviceAccountName"], "aws-node-termination-handler");
        assert_eq!(pod["tolerations"], json!([{"operator": "Exists"}]));
        let container = &pod["containers"][0];
        let env_var = |name: &str| {
            container["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))["value"]
                .clone()
        };
        assert_eq!(env_var("ENABLE_SPOT_INTERRUPTION_DRAINING"), "true");
        assert_eq!(env_var("IGNORE_DAEMON_SETS"), "true");
        // Each pod's own grace period: the workers' 120 s ends inside the 2-minute notice.
        assert_eq!(env_var("POD_TERMINATION_GRACE_PERIOD"), "-1");
        let worker = container_of(&t, "worker-standard");
        assert!(worker["terminationGracePeriodSeconds"].as_u64().unwrap() <= 120);
        // IMDS mode: no queue, no AWS permission needed.
        assert!(
            container["env"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["name"] != "QUEUE_URL")
        );
        // Its permissions: exactly its ClusterRole's rules, bound to its account only.
        let role = t.kube_object("ClusterRole", "node-drain");
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "patch", "update"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
                {"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["get"]},
                {"apiGroups": ["extensions"], "resources": ["daemonsets"], "verbs": ["get"]},
            ])
        );
        let binding = t.kube_object(
            "ClusterRoleBinding",
            "node-drain-kube-system-aws-node-termination-handler",
        );
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "aws-node-termination-handler", "namespace": "kube-system"}])
        );
        // Every other pod on the node's network is one that signs AWS calls (External
        // Secrets, Alertmanager: both Helm values); no other manifest asks for it.
        for object in t.kube_objects() {
            let spec = &object["spec"]["template"]["spec"];
            if spec["hostNetwork"] == true {
                assert_eq!(
                    object["metadata"]["name"], "aws-node-termination-handler",
                    "{object}"
                );
            }
        }
    }
}

fn container_of(t: &Template, deployment: &str) -> Json {
    t.kube_object("Deployment", deployment)["spec"]["template"]["spec"].clone()
}

#[test]
fn stale_nodes_are_removed_by_a_cleanup_that_may_only_list_and_delete_nodes_and_pods() {
    let t = template("pixtools-dev");
    let role = t.kube_object("ClusterRole", "stale-nodes");
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "delete"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"]},
        ])
    );
    let binding = t.kube_object("ClusterRoleBinding", "stale-nodes-kube-system-stale-nodes");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "stale-nodes", "namespace": "kube-system"}])
    );
    let job = t.kube_object("CronJob", "stale-nodes");
    assert_eq!(job["spec"]["schedule"], "*/5 * * * *");
    let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "stale-nodes");
    // By digest: the worker image, which has Python.
    let image = pod["containers"][0]["image"].as_str().unwrap();
    assert!(image.contains("/pixtools-worker@sha256:"), "{image}");

    // The script against a fake API: a node NotReady 9 minutes goes (its pods first), one
    // NotReady 2 minutes stays, the Ready one stays; with no Ready node nothing goes.
    let script = t.kube_object("ConfigMap", "stale-nodes")["data"]["remove_stale_nodes.py"]
        .as_str()
        .unwrap()
        .to_owned();
    let harness = r#"
import datetime, json, sys
script = open(sys.argv[1]).read()
head, rest = script.split("with open(ACCOUNT", 1)
body = rest.split("def ready(", 1)[1]
def run(conditions):
    now = datetime.datetime.now(datetime.timezone.utc)
    ago = lambda m: (now - datetime.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")
    nodes = {"items": [{"metadata": {"name": n}, "status": {"conditions": [{"type": "Ready", "status": s, "lastTransitionTime": ago(m)}]}} for n, s, m in conditions]}
    calls = []
    def call(method, path, body=None):
        calls.append([method, path])
        if path == "/api/v1/nodes":
            return nodes
        if path.startswith("/api/v1/pods"):
            return {"items": [{"metadata": {"namespace": "pixtools", "name": "rabbitmq-0"}}]}
        return {}
    try:
        exec(head + "def ready(" + body, {"call": call, "__name__": "__main__"})
    except SystemExit:
        pass
    return calls
print(json.dumps([
    run([["ip-old", "Unknown", 9], ["ip-flaky", "False", 2], ["ip-new", "True", 9]]),
    run([["ip-old", "Unknown", 9]]),
]))
"#;
    let dir = std::env::temp_dir().join(format!("pixtools-stale-nodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("script.py"), &script).unwrap();
    std::fs::write(dir.join("harness.py"), harness).unwrap();
    let out = std::process::Command::new("python3")
        .arg(dir.join("harness.py"))
        .arg(dir.join("script.py"))
        .env("STALE_MINUTES", "5")
        .output()
        .expect("python3 runs the cleanup script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let runs: Json = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        runs[0],
        json!([
            ["GET", "/api/v1/nodes"],
            ["GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dip-old"],
            ["DELETE", "/api/v1/namespaces/pixtools/pods/rabbitmq-0"],
            ["DELETE", "/api/v1/nodes/ip-old"],
        ])
    );
    assert_eq!(runs[1], json!([["GET", "/api/v1/nodes"]]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn everything_the_cluster_requests_fits_the_node_with_room_for_the_cleanup() {
    // m7i-flex.large: 2 vCPU, about 2000m allocatable (K3s reserves none by default);
    // K3s's own CoreDNS and metrics-server request 100m each.
    const ALLOCATABLE: f64 = 2000.0;
    const K3S_SYSTEM: f64 = 200.0;
    fn millicores(q: &Json) -> f64 {
        let q = q.as_str().unwrap();
        q.strip_suffix('m').map_or_else(
            || q.parse::<f64>().unwrap() * 1000.0,
            |m| m.parse().unwrap(),
        )
    }
    // A pod's request is its containers' sum, or its largest init container's if that
    // is more (init containers run one at a time, before the others).
    fn pod(spec: &Json) -> f64 {
        let sum = |key: &str| -> Vec<f64> {
            spec[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    c["resources"]["requests"]
                        .get("cpu")
                        .map_or(0.0, millicores)
                })
                .collect()
        };
        let running: f64 = sum("containers").iter().sum();
        sum("initContainers").into_iter().fold(running, f64::max)
    }
    fn requests(value: &Json, total: &mut f64) {
        if let Some(spec) = value.get("spec").filter(|s| s.get("containers").is_some()) {
            *total += pod(spec);
            return;
        }
        match value {
            Json::Object(map) => {
                for (key, value) in map {
                    match value.get("cpu") {
                        Some(cpu) if key == "requests" => *total += millicores(cpu),
                        _ => requests(value, total),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|v| requests(v, total)),
            _ => {}
        }
    }
    for env in ["pixtools-dev", "pixtools-prod"] {
        let t = template(env);
        let (mut running, mut cleanup) = (0.0, 0.0);
        for object in t.kube_objects() {
            match object["kind"].as_str().unwrap() {
                "Deployment" | "StatefulSet" | "DaemonSet" => {
                    requests(&object["spec"], &mut running)
                }
                "CronJob" => requests(&object["spec"], &mut cleanup),
                "HelmChart" => {
                    let values: Json = serde_norway::from_str(
                        object["spec"]["valuesContent"].as_str().unwrap_or("{}"),
                    )
                    .unwrap();
                    requests(&values, &mut running);
                }
                _ => {}
            }
        }
        assert!(cleanup > 0.0, "{env}");
        assert!(
            K3S_SYSTEM + running + cleanup <= ALLOCATABLE,
            "{env}: {running}m + {cleanup}m + K3s {K3S_SYSTEM}m > {ALLOCATABLE}m"
        );
        // A rollout that surges starts the new pod beside the old one: it must fit in what
        // is left, or every deploy and rollback stalls with the new pod Pending. The
        // workers give their pod up first instead (`maxSurge: 0`).
        let headroom = ALLOCATABLE - K3S_SYSTEM - running - cleanup;
        for object in t.kube_objects() {
            if object["kind"] != "Deployment" {
                continue;
            }
            let name = object["metadata"]["name"].as_str().unwrap();
            let surges = object["spec"]["strategy"]["rollingUpdate"]["maxSurge"] != 0;
            let mut pod = 0.0;
            requests(&object["spec"]["template"], &mut pod);
            if surges {
                assert!(
                    pod <= headroom,
                    "{env}: {name} surges a {pod}m pod into {headroom}m of headroom"
                );
            }
        }
        for worker in ["worker-standard", "worker-ml"] {
            let deployment = t.kube_object("Deployment", worker);
            assert_eq!(
                deployment["spec"]["strategy"]["rollingUpdate"],
                json!({"maxSurge": 0, "maxUnavailable": 1}),
                "{env}"
            );
        }
    }
}

#[test]
fn host_network_ports_are_distinct() {
    // Pods on the node's network listen on the node's ports: two on one port and the
    // second stays Pending for good (one node). Ports fixed by the charts or images, not
    // by values: node-exporter (9100), the EBS CSI node plugin's health endpoint (9808),
    // and K3s's own listeners; the drain handler's probes port is ours.
    const K3S: [u16; 7] = [6443, 10250, 10248, 10249, 10256, 10257, 10259];
    const FIXED: [(&str, u16); 2] = [("node-exporter", 9100), ("ebs-csi-node healthz", 9808)];
    for env in ["pixtools-dev", "pixtools-prod"] {
        let t = template(env);
        let drain = t.kube_object("DaemonSet", "aws-node-termination-handler");
        let drain_port =
            drain["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
                .as_u64()
                .unwrap() as u16;
        let mut ports: Vec<(String, u16)> =
            FIXED.iter().map(|(w, p)| ((*w).to_owned(), *p)).collect();
        ports.push(("node termination handler probes".into(), drain_port));
        ports.extend(K3S.iter().map(|p| ("k3s".to_owned(), *p)));
        for (i, (what, port)) in ports.iter().enumerate() {
            for (other, second) in &ports[i + 1..] {
                assert_ne!(
                    port, second,
                    "{env}: {what} and {other} both on host port {port}"
                );
            }
        }
    }
}

#[test]
fn the_cluster_token_never_changes_by_a_plan() {
    // K3s's bootstrap data in the datastore is encrypted with the token: a replaced
    // token and the next node cannot start K3s (a replace loop of the group).
    for env in ["pixtools-dev", "pixtools-prod"] {
        let t = template(env);
        let token = t.resource("random_password", "compute_k3s_token");
        assert_eq!(
            token["lifecycle"]["ignore_changes"], "all",
            "{env}: {token}"
        );
    }
}

#[test]
fn the_app_pods_reach_the_images_bucket_with_their_own_role_and_the_node_does_not() {
    // The hop limit keeps pods from IMDS, so a grant on the node role never reached the
    // api or the workers (NoCredentialsError at startup). The grant is the app role's,
    // assumed with the pods' projected service-account tokens.
    for (env, account) in [("dev", "111111111111"), ("prod", "222222222222")] {
        let t = template(&format!("pixtools-{env}"));
        // The node role no longer grants the images bucket.
        for (name, policy) in t.resources("aws_iam_role_policy") {
            let text = policy["policy"].as_str().unwrap();
            let role = policy["role"].as_str().unwrap();
            if role.contains("compute_k3s_role") {
                assert!(
                    !text.contains("aws_s3_bucket.storage_images"),
                    "{env}: node policy {name} grants the images bucket: {text}"
                );
            }
        }
        assert!(
            t.resources("aws_iam_role_policy")
                .iter()
                .all(|(name, _)| *name != "compute_node_images"),
            "{env}"
        );
        // The app role: trusted by the issuer's provider for exactly the app's service
        // accounts and STS's audience, granted the images bucket.
        let role = t.resource("aws_iam_role", "compute_app_role");
        assert_eq!(role["name"], format!("pixtools-{env}-app"));
        let trust = role["assume_role_policy"].as_str().unwrap();
        let host = format!("pixtools-oidc-{account}-us-east-1.s3.us-east-1.amazonaws.com");
        assert!(
            trust.contains(&format!(
                r#""Principal" = {{"Federated" = aws_iam_openid_connect_provider.compute_k3s_issuer_provider.arn}}, "Action" = "sts:AssumeRoleWithWebIdentity", "Condition" = {{"StringEquals" = {{"{host}:aud" = "sts.amazonaws.com", "{host}:sub" = ["system:serviceaccount:pixtools:api", "system:serviceaccount:pixtools:worker-standard", "system:serviceaccount:pixtools:worker-ml"]}}}}"#
            )),
            "{env}: {trust}"
        );
        let grant = t.resource("aws_iam_role_policy", "compute_app_role_workload")["policy"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            grant.contains(r#""Action" = ["s3:PutObject", "s3:DeleteObject"], "Resource" = format("%s/*", aws_s3_bucket.storage_images.arn)"#),
            "{env}: {grant}"
        );
        assert!(
            grant.contains(r#""Action" = "s3:GetObject", "Resource" = format("%s/*", aws_s3_bucket.storage_images.arn)"#),
            "{env}: {grant}"
        );
        t.has_resource_properties(
            "aws_iam_openid_connect_provider",
            &json!({"url": format!("https://{host}"), "client_id_list": ["sts.amazonaws.com"]}),
        );
        // The api's and both workers' pods: their own service account, the projected
        // token, the SDKs' settings naming the app role.
        let arn = format!("arn:aws:iam::{account}:role/pixtools-{env}-app");
        for deployment in ["api", "worker-standard", "worker-ml"] {
            let spec = &t.kube_object("Deployment", deployment)["spec"]["template"]["spec"];
            assert_eq!(spec["serviceAccountName"], deployment, "{env}");
            t.kube_object("ServiceAccount", deployment);
            let token = spec["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == "aws-iam-token")
                .unwrap_or_else(|| panic!("{env}: {deployment} has no token volume"));
            assert_eq!(
                token["projected"]["sources"][0]["serviceAccountToken"],
                json!({"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"})
            );
            let container = &spec["containers"][0];
            let env_var = |name: &str| {
                container["env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["name"] == name)
                    .unwrap_or_else(|| panic!("{env}: {deployment} has no {name}"))["value"]
                    .clone()
            };
            assert_eq!(env_var("AWS_ROLE_ARN"), arn.as_str());
            assert_eq!(
                env_var("AWS_WEB_IDENTITY_TOKEN_FILE"),
                "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
            );
            assert_eq!(env_var("AWS_STS_REGIONAL_ENDPOINTS"), "regional");
            assert!(
                container["volumeMounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == "aws-iam-token" && m["readOnly"] == true),
                "{env}: {deployment}"
            );
        }
    }
}
