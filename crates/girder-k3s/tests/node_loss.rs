#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Node loss and replacement, modelled: volumes are EBS (the CSI driver's controller
//! signs as a role of its own, never the node's), the node stays in one zone so its
//! replacement can attach them, a template change launches the replacement before the
//! old node goes, and the kubelet stops pods gracefully when the instance shuts down.

use std::collections::BTreeSet;

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::SsmPath;
use girder_k3s::{
    EBS_CSI_CONTROLLER_SERVICE_ACCOUNT, EBS_CSI_DRIVER_ACTIONS, EbsCsiDriver, K3sError, K3sNode,
    K3sNodeHandle,
};
use girder_network::Vpc;
use girder_rds::PostgresParameters;
use girder_storage::BucketName;
use serde_json::Value as Json;

const CONTROLLER_ROLE: &str = "arn:aws:iam::111111111111:role/pixtools-dev-ebs-csi";

fn build(configure: impl FnOnce(K3sNode) -> K3sNode) -> (Template, K3sNodeHandle) {
    build_with(configure, |_, _| {})
}

fn build_with(
    configure: impl FnOnce(K3sNode) -> K3sNode,
    more: impl FnOnce(&mut Scope<'_>, &K3sNodeHandle),
) -> (Template, K3sNodeHandle) {
    let mut stack = Stack::new("compute", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let prefix = SsmPath::new("/pixtools/dev").unwrap();
    let datastore = PostgresParameters::under(&prefix.join("db").unwrap()).unwrap();
    let node = configure(K3sNode::new(
        &vpc,
        &datastore,
        "pixtools-dev",
        ["m7i-flex.large", "c7i-flex.large", "m6i.large"],
        &prefix,
        "v1.36.4+k3s1",
    ))
    .add(&mut scope, "k3s")
    .unwrap();
    more(&mut scope, &node);
    drop(scope);
    (Template::from_stack(stack).unwrap(), node)
}

fn zones(t: &Template) -> Vec<Json> {
    t.resource("aws_autoscaling_group", "k3s_group")["vpc_zone_identifier"]
        .as_array()
        .unwrap()
        .clone()
}

fn with_identity(n: K3sNode) -> K3sNode {
    n.pod_identity(
        BucketName::literal("pixtools-oidc-111111111111-us-east-1"),
        "us-east-1",
    )
}

#[test]
fn a_single_zone_node_launches_in_the_first_private_subnet_only() {
    let (one, _) = build(K3sNode::single_zone);
    // Without it, the group spreads over every private subnet (two zones here).
    let (all, _) = build(|n| n);
    let all = zones(&all);
    assert_eq!(all.len(), 2);
    assert_eq!(zones(&one), all[..1]);
    assert!(
        all[0]
            .as_str()
            .unwrap()
            .contains("aws_subnet.network_private"),
        "{all:?}"
    );
}

#[test]
fn the_ebs_controller_role_has_the_drivers_actions_and_the_node_role_none() {
    let (t, node) = build_with(with_identity, |scope, node| {
        let _ = node
            .ebs_csi_controller_role(scope, "ebs-csi-role", "pixtools-dev-ebs-csi")
            .unwrap();
    });
    // The node role: no EC2 action at all (host-network pods reach its credentials).
    let node_ec2: BTreeSet<&str> = node
        .policy()
        .allowed_actions()
        .into_iter()
        .filter(|a| a.starts_with("ec2:"))
        .collect();
    assert!(node_ec2.is_empty(), "{node_ec2:?}");
    // The controller's role: exactly the documented actions, trusted by exactly the
    // controller's service account.
    let role = t.resource("aws_iam_role", "ebs_csi_role");
    let trust = role["assume_role_policy"].as_str().unwrap();
    let subjects: Vec<&str> = trust
        .split("system:serviceaccount:")
        .skip(1)
        .map(|rest| rest.split(['"', '\\']).next().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [format!("kube-system:{EBS_CSI_CONTROLLER_SERVICE_ACCOUNT}")]
    );
    let policies = t.resources("aws_iam_role_policy");
    let (_, workload) = policies
        .iter()
        .find(|(name, _)| name.starts_with("ebs_csi_role"))
        .unwrap();
    let text = workload["policy"].as_str().unwrap();
    let granted: BTreeSet<String> = text
        .split("\"ec2:")
        .skip(1)
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            format!("ec2:{name}")
        })
        // EC2's condition keys the statements use, not actions.
        .filter(|name| !["ec2:ResourceTag", "ec2:CreateAction"].contains(&name.as_str()))
        .collect();
    let documented: BTreeSet<String> = EBS_CSI_DRIVER_ACTIONS
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    assert_eq!(granted, documented);
}

#[test]
fn a_template_change_launches_the_replacement_before_the_old_node_goes() {
    let (t, _) = build(|n| n);
    let group = t.resource("aws_autoscaling_group", "k3s_group");
    assert_eq!(group["max_size"], 1);
    let preferences = &group["instance_refresh"][0]["preferences"][0];
    // At no point fewer healthy nodes than wanted (the one), up to two while both run.
    assert_eq!(preferences["min_healthy_percentage"], 100);
    assert_eq!(preferences["max_healthy_percentage"], 200);
    // "Healthy" is the new node serving, not EC2's status checks: the launch waits on a
    // hook its boot completes once its Node is Ready, and is abandoned when the boot
    // fails or runs out of time; a refresh whose boot fails rolls back.
    let hook = &group["initial_lifecycle_hook"][0];
    assert_eq!(
        hook["lifecycle_transition"],
        "autoscaling:EC2_INSTANCE_LAUNCHING"
    );
    assert_eq!(hook["name"], girder_k3s::LAUNCH_HOOK);
    assert_eq!(hook["default_result"], "ABANDON");
    assert_eq!(hook["heartbeat_timeout"], 1200);
    assert_eq!(preferences["auto_rollback"], true);
    assert_eq!(preferences["instance_warmup"], "60");
    // Terraform waits for the first node as long as the hook can take, and a little.
    assert_eq!(group["wait_for_capacity_timeout"], "25m");
    // And the refresh starts on every template change (its version, not `$Latest`).
    let version =
        group["mixed_instances_policy"][0]["launch_template"][0]["launch_template_specification"]
            [0]["version"]
            .as_str()
            .unwrap();
    assert!(version.contains("latest_version"), "{version}");
}

#[test]
fn the_kubelet_stops_pods_gracefully_when_the_instance_shuts_down() {
    let (t, _) = build(|n| n);
    let template = t.resource("aws_launch_template", "k3s_launch_template");
    let user_data = template["user_data"].as_str().unwrap();
    // base64encode("...") of the literal cloud-init.
    let literal = user_data
        .strip_prefix("${base64encode(\"")
        .and_then(|s| s.strip_suffix("\")}"))
        .unwrap_or(user_data);
    for arg in [
        "--kubelet-arg=shutdown-grace-period=90s",
        "--kubelet-arg=shutdown-grace-period-critical-pods=15s",
    ] {
        assert!(literal.contains(arg), "{arg}");
    }
}

#[test]
fn the_driver_runs_its_controller_as_its_role_on_the_pod_network() {
    let mut stack = Stack::new("cluster", "dev", Backend::local()).unwrap();
    {
        let mut scope = stack
            .scope("cluster")
            .unwrap()
            .with_kube_app("platform")
            .unwrap();
        let driver = EbsCsiDriver::new(CONTROLLER_ROLE, "us-east-1")
            .add(&mut scope, "ebs-csi")
            .unwrap();
        assert_eq!(driver.storage_class().name(), "ebs-gp3");
    }
    let t = Template::from_stack(stack).unwrap();
    let values = t.helm_values("aws-ebs-csi-driver").unwrap();
    let controller = &values["controller"];
    assert!(controller.get("hostNetwork").is_none());
    assert_eq!(controller["region"], "us-east-1");
    assert_eq!(
        controller["serviceAccount"]["name"],
        EBS_CSI_CONTROLLER_SERVICE_ACCOUNT
    );
    let env: Vec<(&str, &str)> = controller["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert!(env.contains(&("AWS_ROLE_ARN", CONTROLLER_ROLE)));
    assert_eq!(
        controller["volumes"][0]["name"],
        controller["volumeMounts"][0]["name"]
    );
    // The node plugin needs the metadata service's instance facts, no credentials.
    assert_eq!(values["node"]["hostNetwork"], true);
    assert!(values["node"].get("env").is_none());
    // Volumes outlive their claims and bind in the pod's zone.
    let class = t.kube_object("StorageClass", "ebs-gp3");
    assert_eq!(class["provisioner"], "ebs.csi.aws.com");
    assert_eq!(class["reclaimPolicy"], "Retain");
    assert_eq!(class["volumeBindingMode"], "WaitForFirstConsumer");
    assert_eq!(class["parameters"]["encrypted"], "true");
}

#[test]
fn the_driver_refuses_a_role_that_is_not_an_iam_role() {
    let mut stack = Stack::new("cluster", "dev", Backend::local()).unwrap();
    let mut scope = stack
        .scope("cluster")
        .unwrap()
        .with_kube_app("platform")
        .unwrap();
    for (id, arn) in [
        ("user", "arn:aws:iam::111111111111:user/me"),
        ("short-account", "arn:aws:iam::1:role/x"),
    ] {
        let err = EbsCsiDriver::new(arn, "us-east-1")
            .add(&mut scope, id)
            .unwrap_err();
        assert_eq!(
            err.construct_error::<K3sError>(),
            Some(&K3sError::RoleArn {
                what: "EBS CSI controller",
                arn: arn.into()
            })
        );
    }
    let err = EbsCsiDriver::new(CONTROLLER_ROLE, "us-east-1\"; x")
        .add(&mut scope, "ebs-csi-2")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K3sError>(),
        Some(&K3sError::Region("us-east-1\"; x".into()))
    );
}

#[test]
fn a_release_past_end_of_life_is_refused_with_its_date() {
    let mut stack = Stack::new("compute", "dev", Backend::local()).unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.40.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let prefix = SsmPath::new("/v").unwrap();
    let datastore = PostgresParameters::under(&prefix.join("db").unwrap()).unwrap();
    let node = |version: &str| K3sNode::new(&vpc, &datastore, "n", ["m7i.large"], &prefix, version);
    let err = node("v1.34.9+k3s1").add(&mut scope, "old").unwrap_err();
    assert_eq!(
        err.construct_error::<K3sError>(),
        Some(&K3sError::K3sEndOfLife {
            version: "v1.34.9+k3s1".into(),
            minor: 34,
            end_of_life: "2026-10-27",
            oldest_supported: 35,
        })
    );
    let err = node("v1.28.1+k3s1").add(&mut scope, "older").unwrap_err();
    assert!(matches!(
        err.construct_error::<K3sError>(),
        Some(K3sError::K3sEndOfLife {
            minor: 28,
            oldest_supported: 35,
            ..
        })
    ));
    let _supported = node("v1.35.6+k3s1").add(&mut scope, "supported").unwrap();
}
