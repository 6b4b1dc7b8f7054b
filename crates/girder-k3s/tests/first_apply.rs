#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! What goes wrong on a first apply and after, modelled: the node booting before the
//! database, a boot that fails and stays, images the node may not pull, template changes
//! that never roll out, and a deploy that needs a root shell.

use std::collections::{BTreeMap, BTreeSet};

mod common;

use common::{file, run, scratch, stubs, write_files};
use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::{AwsLocation, Partition, SsmPath};
use girder_iam::{Access, Condition, PolicyDocument};
use girder_k3s::{CloudInit, ECR_CREDENTIAL_PROVIDER, K3sNode, K3sNodeHandle, render_cloud_init};
use girder_network::Vpc;
use girder_rds::Postgres;
use girder_storage::{Bucket, BucketName, Repository, RepositoryHandle};
use serde_json::{Value as Json, json};

fn ssm(path: &str) -> SsmPath {
    SsmPath::new(path).unwrap()
}

fn location() -> AwsLocation {
    AwsLocation::stated(Partition::Aws, "us-east-1", "111111111111").unwrap()
}

struct Built {
    stack: Stack,
    node: K3sNodeHandle,
    api: RepositoryHandle,
    worker: RepositoryHandle,
    other: RepositoryHandle,
}

/// A node beside a real database (its settings published to SSM), a token parameter,
/// a manifests bucket, and three repositories of which the node is given two.
fn build() -> Built {
    let mut stack = Stack::new("compute", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let database = Postgres::new(&vpc, "pixtools-dev", 16, "db.t4g.micro")
        .add(&mut scope, "database")
        .unwrap();
    let published = database
        .publish_to_ssm(&mut scope, "settings", &ssm("/pixtools/dev/db"))
        .unwrap();
    let token = scope
        .add(
            "token",
            aws::SsmParameter::new("/pixtools/dev/k3s/token", "SecureString").value("t"),
        )
        .unwrap();
    let manifests = Bucket::new(BucketName::literal(
        "pixtools-manifests-111111111111-us-east-1",
    ))
    .add(&mut scope, "manifests")
    .unwrap();
    let api = Repository::new("pixtools-api")
        .add(&mut scope, "api")
        .unwrap();
    let worker = Repository::new("pixtools-worker")
        .add(&mut scope, "worker")
        .unwrap();
    let other = Repository::new("someone-else")
        .add(&mut scope, "other")
        .unwrap();
    let node = K3sNode::new(
        &vpc,
        &published,
        "pixtools-dev",
        ["m7i-flex.large"],
        &ssm("/pixtools/dev"),
        "v1.36.4+k3s1",
    )
    .manifests_from(&manifests)
    .pulls_from(&api)
    .pulls_from(&worker)
    .after(&token)
    .add(&mut scope, "k3s")
    .unwrap();
    Built {
        stack,
        node,
        api,
        worker,
        other,
    }
}

/// Every block address (`type.name`) in the document and the blocks each one waits for:
/// its `depends_on` and the blocks its arguments reference. Terraform's graph, as far as
/// ordering goes.
fn graph(document: &Json) -> BTreeMap<String, BTreeSet<String>> {
    fn refs(value: &Json, addresses: &BTreeSet<String>, out: &mut BTreeSet<String>) {
        match value {
            Json::String(s) => {
                for address in addresses {
                    if s.contains(&format!("{address}.")) || s == address {
                        out.insert(address.clone());
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|v| refs(v, addresses, out)),
            Json::Object(map) => map.values().for_each(|v| refs(v, addresses, out)),
            _ => {}
        }
    }
    let mut blocks = Vec::new();
    for (kind, prefix) in [("resource", ""), ("data", "data.")] {
        for (rtype, named) in document[kind].as_object().into_iter().flatten() {
            for (name, body) in named.as_object().unwrap() {
                blocks.push((format!("{prefix}{rtype}.{name}"), body.clone()));
            }
        }
    }
    let addresses: BTreeSet<String> = blocks.iter().map(|(a, _)| a.clone()).collect();
    blocks
        .into_iter()
        .map(|(address, body)| {
            let mut out = BTreeSet::new();
            refs(&body, &addresses, &mut out);
            out.remove(&address);
            (address, out)
        })
        .collect()
}

/// Everything `from` transitively waits for.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(next) = todo.pop() {
        for dep in graph.get(&next).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn the_node_is_created_after_everything_its_boot_reads() {
    // The group waited for the launch template, target group, security group, subnets
    // and profile only: the node booted in a minute, RDS took 5-15, the read of
    // db/host failed and nothing retried.
    let document = Template::from_stack(build().stack)
        .unwrap()
        .terraform()
        .clone();
    let graph = graph(&document);
    let group = "aws_autoscaling_group.k3s_group";
    let waits = reaches(&graph, group);
    for needed in [
        "aws_db_instance.database",
        "aws_ssm_parameter.settings_host",
        "aws_ssm_parameter.settings_port",
        "aws_ssm_parameter.settings_username",
        "aws_ssm_parameter.settings_master_secret_arn",
        "aws_ssm_parameter.token",
        // What the role may do: the instance reads with it at once.
        "aws_iam_role_policy.k3s_role_node",
        // The way out of the private subnets: the boot downloads K3s through the NAT
        // and reads S3 through the gateway endpoint.
        "aws_route.network_private_nat",
        "aws_route_table_association.network_private_a_association",
        "aws_vpc_endpoint.network_s3_endpoint",
    ] {
        assert!(
            waits.contains(needed),
            "{group} does not wait for {needed}: {waits:?}"
        );
    }
    // Directly, not by accident of some argument: depends_on names them.
    let depends_on = &document["resource"]["aws_autoscaling_group"]["k3s_group"]["depends_on"];
    assert!(
        depends_on
            .as_array()
            .unwrap()
            .contains(&json!("aws_db_instance.database")),
        "{depends_on}"
    );
    // And nothing waits for the group that the group waits for (no cycle).
    assert!(!waits.contains(group));
}

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
        bundled_traefik: true,
        ecr_credential_provider: Some(ECR_CREDENTIAL_PROVIDER.into()),
        boot_attempts: 4,
        boot_retry_seconds: 15,
        start_timeout_seconds: 600,
        database_users: Vec::new(),
        datastore_user: None,
        namespace_logs: Vec::new(),
        pod_identity: None,
    }
}

#[test]
fn a_read_that_keeps_failing_ends_the_boot_after_a_bounded_number_of_tries() {
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    let bootstrap = file(&files, "/usr/local/sbin/girder-k3s-bootstrap");
    let dir = scratch("boot-fails");
    // SSM never answers (the database's settings are not there); IMDS does.
    stubs(
        &dir,
        &[
            ("curl", r#"echo "curl $*" >> "$STUB_LOG"; echo value"#),
            ("aws", r#"echo "aws $*" >> "$STUB_LOG"; exit 254"#),
            ("sleep", r#"echo "sleep $*" >> "$STUB_LOG""#),
        ],
    );
    let (ok, log) = run(&dir, &bootstrap);
    assert!(!ok, "the boot must fail: {log}");
    let reads: Vec<&str> = log.lines().filter(|l| l.starts_with("aws ")).collect();
    // Exactly `boot_attempts` tries of the first read, then the boot ends: bounded.
    assert_eq!(reads.len(), 4, "{log}");
    assert!(
        reads
            .iter()
            .all(|l| l.contains("ssm get-parameter") && l.contains("/pixtools/dev/db/host"))
    );
    assert_eq!(log.lines().filter(|l| *l == "sleep 15").count(), 3, "{log}");
    // K3s was never installed on the half-configured node.
    assert!(!log.contains("get.k3s.io"), "{log}");
}

#[test]
fn a_read_that_fails_at_first_is_tried_again() {
    let files = write_files(&render_cloud_init(&cloud_init()).unwrap());
    let bootstrap = file(&files, "/usr/local/sbin/girder-k3s-bootstrap");
    let dir = scratch("boot-retries");
    // SSM fails twice (eventual consistency), then answers everything.
    stubs(
        &dir,
        &[
            ("curl", r#"echo "curl $*" >> "$STUB_LOG"; echo value"#),
            (
                "aws",
                r#"echo "aws $*" >> "$STUB_LOG"
n=$(cat "$STUB_STATE" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_STATE"
[ "$n" -ge 2 ] || exit 254
case "$*" in *secretsmanager*) echo '{"password": "p@ss"}' ;; *) echo value ;; esac"#,
            ),
            ("sleep", r#"echo "sleep $*" >> "$STUB_LOG""#),
            ("env", r#"echo "install $*" >> "$STUB_LOG""#),
            ("chmod", "true"),
            ("mkdir", "true"),
            ("timeout", r#"echo "start $*" >> "$STUB_LOG""#),
            ("kubectl", r#"echo "kubectl $*" >> "$STUB_LOG""#),
            ("systemctl", r#"echo "systemctl $*" >> "$STUB_LOG""#),
        ],
    );
    let (ok, log) = run(&dir, &bootstrap);
    assert!(ok, "{log}");
    assert_eq!(
        log.lines().filter(|l| l.starts_with("sleep")).count(),
        2,
        "{log}"
    );
    // Four parameters, the secret, the token: each read once it answers; then the
    // launch's completion.
    assert_eq!(
        log.lines().filter(|l| l.starts_with("aws")).count(),
        2 + 6 + 1,
        "{log}"
    );
    // The launch goes on (the group counts the instance healthy, a refresh may remove
    // the old node) only once K3s runs and this Node is Ready.
    let lines: Vec<&str> = log.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {log}"))
    };
    let started = at("start 600 systemctl start k3s");
    let ready = at("kubectl wait --for=condition=Ready --timeout=30s node/");
    let complete = at(
        "aws autoscaling complete-lifecycle-action --region value --auto-scaling-group-name pixtools-dev --lifecycle-hook-name girder-k3s-launch --instance-id value --lifecycle-action-result CONTINUE",
    );
    assert!(started < ready && ready < complete, "{log}");
    let install = log.lines().find(|l| l.starts_with("install")).unwrap();
    assert!(
        install.contains("INSTALL_K3S_VERSION=v1.36.4+k3s1"),
        "{install}"
    );
    assert!(install.contains("--secrets-encryption"), "{install}");
    assert!(
        install.contains(
            "--image-credential-provider-config /var/lib/rancher/credentialprovider/config.yaml"
        ),
        "{install}"
    );
    // K3s gets a bounded time to start.
    assert!(log.contains("start 600 systemctl start k3s"), "{log}");
}

#[test]
fn a_failed_boot_marks_the_instance_unhealthy_so_the_group_replaces_it() {
    let text = render_cloud_init(&cloud_init()).unwrap();
    let document: Json = serde_norway::from_str(&text).unwrap();
    let runcmd = document["runcmd"].as_array().unwrap();
    assert_eq!(
        runcmd.last().unwrap(),
        &json!(["/usr/local/sbin/girder-k3s-boot"])
    );
    let boot = file(&write_files(&text), "/usr/local/sbin/girder-k3s-boot");
    // A boot that fails while launching abandons the launch (the group terminates the
    // instance at once); after the launch (a reboot) it marks the instance Unhealthy.
    for (case, bootstrap, launching, abandoned, unhealthy) in [
        ("fails while launching", "false", true, true, false),
        ("fails after the launch", "false", false, false, true),
        ("succeeds", "true", true, false, false),
    ] {
        let dir = scratch(&format!("boot-wrapper-{}", case.replace(' ', "-")));
        let aws = if launching {
            r#"echo "aws $*" >> "$STUB_LOG""#
        } else {
            r#"echo "aws $*" >> "$STUB_LOG"; case "$*" in *complete-lifecycle-action*) exit 254 ;; esac"#
        };
        stubs(
            &dir,
            &[("curl", r#"echo value"#), ("aws", aws), ("sleep", "true")],
        );
        let script = boot.replace("/usr/local/sbin/girder-k3s-bootstrap", bootstrap);
        let (ok, log) = run(&dir, &script);
        assert_eq!(ok, bootstrap == "true", "{case}: {log}");
        let abandon = log.contains(
            "aws autoscaling complete-lifecycle-action --region value --auto-scaling-group-name pixtools-dev --lifecycle-hook-name girder-k3s-launch --instance-id value --lifecycle-action-result ABANDON",
        );
        let marked = log.contains(
            "aws autoscaling set-instance-health --region value --instance-id value --health-status Unhealthy --no-should-respect-grace-period",
        );
        assert_eq!(
            (abandon || (marked && !launching), marked),
            (abandoned || unhealthy, unhealthy),
            "{case}: {log}"
        );
    }
    // The role may mark instances of its own group only, and do nothing else with
    // Auto Scaling.
    let built = build();
    let policy = built.node.policy();
    let autoscaling: Vec<&str> = policy
        .allowed_actions()
        .into_iter()
        .filter(|a| a.starts_with("autoscaling:"))
        .collect();
    assert_eq!(
        autoscaling,
        [
            "autoscaling:CompleteLifecycleAction",
            "autoscaling:SetInstanceHealth"
        ]
    );
    let statement = policy
        .statements()
        .iter()
        .find(|s| format!("{s:?}").contains("ReportBoot"))
        .unwrap();
    let rendered = format!("{statement:?}");
    assert!(
        rendered.contains("autoScalingGroup:*:autoScalingGroupName/pixtools-dev"),
        "{rendered}"
    );
    assert_eq!(
        policy.access("autoscaling:SetInstanceHealth", &Value::Literal("*".into())),
        Access::Denied
    );
}

#[test]
fn the_node_pulls_exactly_its_two_repositories() {
    let built = build();
    let policy = built.node.policy();
    let arn = |r: &RepositoryHandle| -> Value<String> { r.arn().into() };
    for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
        assert_eq!(
            policy.access(action, &arn(&built.api)),
            Access::Allowed,
            "{action}"
        );
        assert_eq!(
            policy.access(action, &arn(&built.worker)),
            Access::Allowed,
            "{action}"
        );
        // Not a repository it was not given, not every repository.
        assert_eq!(
            policy.access(action, &arn(&built.other)),
            Access::Denied,
            "{action}"
        );
        assert_eq!(
            policy.access(
                action,
                &Value::Literal("arn:aws:ecr:us-east-1:111111111111:repository/x".into())
            ),
            Access::Denied
        );
    }
    // Pulling only: no push, no delete, no listing.
    for action in [
        "ecr:PutImage",
        "ecr:BatchDeleteImage",
        "ecr:InitiateLayerUpload",
        "ecr:DescribeRepositories",
    ] {
        assert_eq!(
            policy.access(action, &arn(&built.api)),
            Access::Denied,
            "{action}"
        );
    }
    // The registry login is the one ECR action on `*` (it has no resource).
    let ecr: Vec<&str> = policy
        .allowed_actions()
        .into_iter()
        .filter(|a| a.starts_with("ecr:"))
        .collect();
    assert_eq!(
        ecr,
        [
            "ecr:GetAuthorizationToken",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer"
        ]
    );
    assert_eq!(
        policy.access("ecr:GetAuthorizationToken", &Value::Literal("*".into())),
        Access::Allowed
    );
    assert!(
        policy
            .wildcard_reasons()
            .iter()
            .any(|r| r.starts_with("RegistryLogin: "))
    );
    // K3s is told to use the credential provider, at a pinned release.
    let t = Template::from_stack(built.stack).unwrap();
    let user_data = t.resource("aws_launch_template", "k3s_launch_template")["user_data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        user_data.contains(&format!("cloud-provider-aws/{ECR_CREDENTIAL_PROVIDER}/linux/amd64/ecr-credential-provider-linux-amd64")),
        "{user_data}"
    );
    assert!(
        user_data.contains("kind: CredentialProviderConfig"),
        "{user_data}"
    );
}

#[test]
fn a_node_without_repositories_gets_no_ecr_access() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let params = girder_rds::PostgresParameters::under(&ssm("/v/db")).unwrap();
    let node = K3sNode::new(
        &vpc,
        &params,
        "n",
        ["m7i.large"],
        &ssm("/v"),
        "v1.36.4+k3s1",
    )
    .add(&mut scope, "n")
    .unwrap();
    assert!(
        node.policy()
            .allowed_actions()
            .iter()
            .all(|a| !a.starts_with("ecr:"))
    );
    assert!(node.sync_document_arn().is_none());
    assert!(node.deploy_statements(&location()).is_none());
}

#[test]
fn every_template_change_starts_an_instance_refresh() {
    // `$Latest` never changes, so the group's plan never changed and no refresh started.
    let t = Template::from_stack(build().stack).unwrap();
    let group = t.resource("aws_autoscaling_group", "k3s_group");
    let spec = &group["mixed_instances_policy"][0]["launch_template"][0]["launch_template_specification"]
        [0];
    assert_eq!(
        spec["version"],
        "${tostring(aws_launch_template.k3s_launch_template.latest_version)}"
    );
    assert_ne!(spec["version"], "$Latest");
    assert_eq!(group["instance_refresh"][0]["strategy"], "Rolling");
}

#[test]
fn the_deployer_can_run_the_sync_document_and_nothing_else() {
    let built = build();
    let statements = built.node.deploy_statements(&location()).unwrap();
    let mut policy = PolicyDocument::new();
    for statement in statements {
        policy = policy.statement(statement);
    }
    assert_eq!(
        policy.allowed_actions(),
        [
            "ssm:SendCommand",
            "ssm:GetCommandInvocation",
            "ssm:ListCommandInvocations"
        ]
    );
    let document: Value<String> = built.node.sync_document_arn().unwrap().into();
    assert_eq!(policy.access("ssm:SendCommand", &document), Access::Allowed);
    for other in [
        "arn:aws:ssm:us-east-1::document/AWS-RunShellScript",
        "arn:aws:ssm:us-east-1:111111111111:document/pixtools-dev-other",
        "arn:aws:ssm:us-east-1::document/AWS-RunPowerShellScript",
    ] {
        assert_eq!(
            policy.access("ssm:SendCommand", &Value::Literal(other.into())),
            Access::Denied,
            "{other}"
        );
    }
    // On instances, only those of its own group (the tag AWS sets on them).
    let instance =
        Value::Literal("arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0".into());
    assert_eq!(
        policy.access("ssm:SendCommand", &instance),
        Access::AllowedWhen(vec![vec![Condition::string_equals(
            "ssm:resourceTag/aws:autoscaling:groupName",
            "pixtools-dev"
        )]])
    );
    assert_eq!(policy.access("ssm:StartSession", &instance), Access::Denied);
    // The document runs the sync script, takes no parameter (nothing to inject).
    let t = Template::from_stack(built.stack).unwrap();
    let resource = t.resource("aws_ssm_document", "k3s_sync_document");
    assert_eq!(resource["document_type"], "Command");
    let content: Json = serde_json::from_str(resource["content"].as_str().unwrap()).unwrap();
    assert!(content.get("parameters").is_none(), "{content}");
    let steps = content["mainSteps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    // It waits for the rollouts: the command's status is the deploy's.
    assert_eq!(
        steps[0]["inputs"]["runCommand"],
        json!(["/usr/local/sbin/girder-k3s-sync-manifests --wait"])
    );
}
