#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Managed add-ons: pinned versions checked against the cluster's minor, their pod
//! identity roles, and what the node role may not do.

mod common;

use std::collections::BTreeSet;

use common::{build, eks_error, try_build};
use girder_core::construct::Construct;
use girder_core::vocabulary::AwsLocation;
use girder_eks::{
    Addon, AddonHandle, EBS_CSI_SERVICE_ACCOUNT, EksError, NodeGroup, ScalingConfig,
    VPC_CNI_SERVICE_ACCOUNT,
};
use girder_iam::{Access, Condition, PolicyDocument};
use girder_storage::{EBS_CSI_CLUSTER_TAG, EBS_CSI_DRIVER_ACTIONS};
use serde_json::json;

const SCALING: ScalingConfig = ScalingConfig {
    min: 2,
    max: 3,
    desired: 2,
};

fn refused(addon: fn(&girder_eks::EksClusterHandle) -> Addon) -> EksError {
    let error = try_build(
        |c| c,
        |scope, _, cluster| {
            let _addon = addon(cluster).add(scope, "addon")?;
            Ok(())
        },
    )
    .unwrap_err();
    eks_error(&error)
}

#[test]
fn an_addon_version_that_does_not_match_the_cluster_version_is_refused() {
    // v1.20.4 of the VPC CNI supports 1.29 to 1.34; the cluster is 1.36.
    let EksError::AddonVersionMismatch {
        addon,
        version,
        cluster_minor,
        known,
    } = refused(|c| Addon::vpc_cni(c, "v1.20.4-eksbuild.2"))
    else {
        panic!("not a version mismatch");
    };
    assert_eq!(
        (addon, version.as_str(), cluster_minor),
        ("vpc-cni", "v1.20.4-eksbuild.2", 36)
    );
    assert!(!known.is_empty() && !known.contains(&version), "{known:?}");
    // kube-proxy is built per minor.
    assert_eq!(
        refused(|c| Addon::kube_proxy(c, "v1.35.0-eksbuild.2")),
        EksError::AddonVersionMismatch {
            addon: "kube-proxy",
            version: "v1.35.0-eksbuild.2".into(),
            cluster_minor: 36,
            known: vec!["v1.36.<patch>-eksbuild.<n>".into()],
        }
    );
    // A version no table lists.
    assert!(matches!(
        refused(|c| Addon::coredns(c, "v9.9.9-eksbuild.1")),
        EksError::AddonVersionMismatch {
            addon: "coredns",
            ..
        }
    ));
    // Not written as EKS names versions.
    for version in ["1.21.1", "v1.21.1", "v1.21-eksbuild.1", "latest"] {
        assert_eq!(
            refused(match version {
                "1.21.1" => |c| Addon::vpc_cni(c, "1.21.1"),
                "v1.21.1" => |c| Addon::vpc_cni(c, "v1.21.1"),
                "v1.21-eksbuild.1" => |c| Addon::vpc_cni(c, "v1.21-eksbuild.1"),
                _ => |c| Addon::vpc_cni(c, "latest"),
            }),
            EksError::AddonVersionFormat {
                addon: "vpc-cni",
                version: version.into(),
            }
        );
    }
}

struct Addons {
    template: girder_core::assertions::Template,
    vpc_cni: AddonHandle,
    ebs: AddonHandle,
    here: AwsLocation,
}

fn with_addons() -> Addons {
    let mut handles = None;
    let template = build(
        |c| c,
        |scope, _, cluster| {
            let nodes =
                NodeGroup::new(cluster, "system", ["m7i.large"], SCALING).add(scope, "nodes")?;
            let _agent =
                Addon::pod_identity_agent(cluster, "v1.3.10-eksbuild.1").add(scope, "agent")?;
            let vpc_cni = Addon::vpc_cni(cluster, "v1.21.1-eksbuild.1").add(scope, "vpc-cni")?;
            let _proxy = Addon::kube_proxy(cluster, "v1.36.2-eksbuild.3").add(scope, "proxy")?;
            let _dns = Addon::coredns(cluster, "v1.13.1-eksbuild.1")
                .after(&nodes)
                .add(scope, "coredns")?;
            let ebs = Addon::ebs_csi_driver(cluster, "v1.53.0-eksbuild.1")
                .after(&nodes)
                .add(scope, "ebs")?;
            handles = Some((vpc_cni, ebs, cluster.location().clone()));
            Ok(())
        },
    );
    let (vpc_cni, ebs, here) = handles.unwrap();
    Addons {
        template,
        vpc_cni,
        ebs,
        here,
    }
}

#[test]
fn addons_are_pinned_and_overwrite_what_the_cluster_runs() {
    let t = with_addons().template;
    for (resource, name, version) in [
        (
            "agent_addon",
            "eks-pod-identity-agent",
            "v1.3.10-eksbuild.1",
        ),
        ("vpc_cni_addon", "vpc-cni", "v1.21.1-eksbuild.1"),
        ("proxy_addon", "kube-proxy", "v1.36.2-eksbuild.3"),
        ("coredns_addon", "coredns", "v1.13.1-eksbuild.1"),
        ("ebs_addon", "aws-ebs-csi-driver", "v1.53.0-eksbuild.1"),
    ] {
        let addon = t.resource("aws_eks_addon", resource);
        assert_eq!(addon["addon_name"], json!(name));
        assert_eq!(addon["addon_version"], json!(version));
        assert_eq!(
            addon["cluster_name"],
            json!("${aws_eks_cluster.eks_cluster.name}")
        );
        assert_eq!(addon["resolve_conflicts_on_create"], json!("OVERWRITE"));
        assert_eq!(addon["resolve_conflicts_on_update"], json!("OVERWRITE"));
    }
    // CoreDNS's pods need nodes before EKS calls it active.
    assert_eq!(
        t.resource("aws_eks_addon", "coredns_addon")["depends_on"],
        json!(["aws_eks_node_group.nodes_group"])
    );
    // Add-ons that call no AWS API have no role.
    for resource in ["agent_addon", "proxy_addon", "coredns_addon"] {
        assert!(
            t.resource("aws_eks_addon", resource)
                .get("pod_identity_association")
                .is_none()
        );
    }
}

#[test]
fn the_vpc_cni_and_the_ebs_driver_sign_as_roles_of_their_own() {
    let Addons {
        template: t,
        vpc_cni,
        ebs,
        here,
    } = with_addons();
    assert_eq!(
        t.resource("aws_eks_addon", "vpc_cni_addon")["pod_identity_association"],
        json!([{"role_arn": "${aws_iam_role.vpc_cni_role.arn}", "service_account": VPC_CNI_SERVICE_ACCOUNT}])
    );
    assert_eq!(
        t.resource("aws_eks_addon", "ebs_addon")["pod_identity_association"],
        json!([{"role_arn": "${aws_iam_role.ebs_role.arn}", "service_account": EBS_CSI_SERVICE_ACCOUNT}])
    );
    // The CNI's managed policy is the CNI role's, and no one else's.
    let cni_attachments: Vec<&str> = t
        .resources("aws_iam_role_policy_attachment")
        .into_iter()
        .filter(|(_, a)| {
            a["policy_arn"]
                .as_str()
                .unwrap()
                .contains("policy/AmazonEKS_CNI_Policy")
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(cni_attachments, ["vpc_cni_role_amazoneks_cni_policy"]);
    assert!(vpc_cni.policy().is_empty());
    // Both roles trust EKS pods of this cluster.
    for role in ["vpc_cni_role", "ebs_role"] {
        let trust = t.resource("aws_iam_role", role)["assume_role_policy"]
            .as_str()
            .unwrap();
        assert!(trust.contains("pods.eks.amazonaws.com"), "{trust}");
        assert!(trust.contains("aws_eks_cluster.eks_cluster.arn"), "{trust}");
    }
    // The EBS driver's role: exactly its documented actions, attach / detach to this
    // cluster's instances only.
    let document = ebs.policy();
    let granted: BTreeSet<&str> = document.allowed_actions().into_iter().collect();
    assert_eq!(granted, EBS_CSI_DRIVER_ACTIONS.into_iter().collect());
    // The cluster's account and region are computed: the statements name them as
    // expressions, which match themselves.
    let instance = here.arn("ec2", "instance/*").value();
    let Access::AllowedWhen(conditions) = document.access("ec2:AttachVolume", &instance) else {
        panic!("attach must be conditioned");
    };
    assert_eq!(
        conditions,
        [vec![Condition::string_equals(
            "aws:ResourceTag/eks:cluster-name",
            "piksel-dev"
        )]]
    );
}

#[test]
fn the_node_role_cannot_do_what_the_addons_roles_do() {
    let Addons {
        template: t,
        ebs,
        here,
        ..
    } = with_addons();
    // The node role has no inline policy: what it may do is its two managed policies
    // (join, pull), neither of which holds an EC2 volume or network interface action.
    let node_inline: Vec<&str> = t
        .resources("aws_iam_role_policy")
        .into_iter()
        .filter(|(_, p)| p["role"] == json!("${aws_iam_role.nodes_role.name}"))
        .map(|(name, _)| name)
        .collect();
    assert!(node_inline.is_empty(), "{node_inline:?}");
    let node = PolicyDocument::new();
    let volume = here.arn("ec2", "volume/*").value();
    for action in ["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DeleteVolume"] {
        assert_ne!(
            ebs.policy().access(action, &volume),
            Access::Denied,
            "{action}"
        );
        assert_eq!(node.access(action, &volume), Access::Denied, "{action}");
    }
    // And no pod reaches the node role: the instance metadata service is one hop away.
    assert_eq!(
        t.resource("aws_launch_template", "nodes_launch_template")["metadata_options"][0]["http_put_response_hop_limit"],
        json!(1)
    );
    // The tag the driver scopes its volumes by is girder-storage's.
    let created =
        Condition::string_equals(&format!("ec2:ResourceTag/{EBS_CSI_CLUSTER_TAG}"), "true");
    assert_eq!(
        ebs.policy().access("ec2:DeleteVolume", &volume),
        Access::AllowedWhen(vec![vec![created]])
    );
}

#[test]
fn the_vpc_cni_enforces_network_policies_only_when_asked() {
    let t = build(
        |c| c,
        |scope, _, cluster| {
            let _plain = Addon::vpc_cni(cluster, "v1.21.1-eksbuild.1").add(scope, "plain")?;
            let _enforcing = Addon::vpc_cni(cluster, "v1.21.1-eksbuild.1")
                .enforce_network_policies()
                .add(scope, "enforcing")?;
            Ok(())
        },
    );
    let enforcing = t.resource("aws_eks_addon", "enforcing_addon");
    let values: serde_json::Value =
        serde_json::from_str(enforcing["configuration_values"].as_str().unwrap()).unwrap();
    assert_eq!(values, json!({"enableNetworkPolicy": "true"}));
    assert!(
        t.resource("aws_eks_addon", "plain_addon")
            .get("configuration_values")
            .is_none()
    );
}

#[test]
fn network_policy_enforcement_on_another_addon_is_refused() {
    let error = refused(|c| Addon::coredns(c, "v1.13.1-eksbuild.1").enforce_network_policies());
    assert_eq!(
        error,
        EksError::AddonOption {
            addon: "coredns",
            option: "network policy enforcement",
            allowed: "vpc-cni",
        }
    );
}
