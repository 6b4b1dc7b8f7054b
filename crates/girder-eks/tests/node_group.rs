#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Managed node groups: defaults, options and refusals.

mod common;

use common::{build, eks_error, try_build};
use girder_core::prelude::*;
use girder_eks::{
    Addon, CapacityType, EksError, NODE_MANAGED_POLICIES, NodeGroup, ScalingConfig, Taint,
    TaintEffect,
};
use girder_network::Vpc;
use serde_json::json;

const SCALING: ScalingConfig = ScalingConfig {
    min: 1,
    max: 4,
    desired: 2,
};

fn with_nodes(configure: impl FnOnce(NodeGroup) -> NodeGroup) -> girder_core::assertions::Template {
    build(
        |c| c,
        |scope, _, cluster| {
            let _nodes = configure(NodeGroup::new(cluster, "system", ["m7i.large"], SCALING))
                .add(scope, "nodes")?;
            Ok(())
        },
    )
}

#[test]
fn the_launch_template_requires_imdsv2_with_one_hop_and_an_encrypted_gp3_root() {
    let t = with_nodes(|n| n);
    let template = t.resource("aws_launch_template", "nodes_launch_template");
    assert_eq!(
        template["metadata_options"],
        json!([{"http_endpoint": "enabled", "http_put_response_hop_limit": 1, "http_tokens": "required"}])
    );
    assert_eq!(
        template["block_device_mappings"][0]["ebs"],
        json!([{"delete_on_termination": "true", "encrypted": "true", "volume_size": 20, "volume_type": "gp3"}])
    );
    // EKS's cluster security group and girder's.
    assert_eq!(
        template["vpc_security_group_ids"],
        json!([
            "${aws_eks_cluster.eks_cluster.vpc_config[0].cluster_security_group_id}",
            "${aws_security_group.eks_security_group.id}"
        ])
    );
    let group = t.resource("aws_eks_node_group", "nodes_group");
    assert_eq!(
        group["launch_template"],
        json!([{"id": "${aws_launch_template.nodes_launch_template.id}", "version": "${tostring(aws_launch_template.nodes_launch_template.latest_version)}"}])
    );
}

#[test]
fn the_node_group_defaults() {
    let t = with_nodes(|n| n);
    let group = t.resource("aws_eks_node_group", "nodes_group");
    assert_eq!(
        group["cluster_name"],
        json!("${aws_eks_cluster.eks_cluster.name}")
    );
    assert_eq!(group["node_group_name"], json!("system"));
    assert_eq!(group["version"], json!("1.36"));
    assert_eq!(group["ami_type"], json!("AL2023_x86_64_STANDARD"));
    assert_eq!(group["capacity_type"], json!("ON_DEMAND"));
    // The autoscaler owns the desired size after creation: an apply never resets it.
    assert_eq!(
        group["lifecycle"]["ignore_changes"],
        json!(["scaling_config[0].desired_size"])
    );
    assert_eq!(group["instance_types"], json!(["m7i.large"]));
    assert_eq!(
        group["scaling_config"],
        json!([{"desired_size": 2, "max_size": 4, "min_size": 1}])
    );
    assert_eq!(
        group["update_config"],
        json!([{"max_unavailable_percentage": 33}])
    );
    assert_eq!(
        group["subnet_ids"],
        json!([
            "${aws_subnet.network_private_a.id}",
            "${aws_subnet.network_private_b.id}"
        ])
    );
    // Created after its role may act.
    let depends_on = group["depends_on"].as_array().unwrap();
    for policy in NODE_MANAGED_POLICIES {
        let attachment = format!(
            "aws_iam_role_policy_attachment.nodes_role_{}",
            policy.to_lowercase()
        );
        assert!(depends_on.contains(&json!(attachment)), "{depends_on:?}");
    }
}

#[test]
fn the_node_role_joins_and_pulls_and_nothing_else() {
    let t = with_nodes(|n| n);
    let role = t.resource("aws_iam_role", "nodes_role");
    assert_eq!(role["name"], json!("piksel-dev-system-node"));
    assert!(
        role["assume_role_policy"]
            .as_str()
            .unwrap()
            .contains("ec2.amazonaws.com")
    );
    let attached: Vec<String> = t
        .resources("aws_iam_role_policy_attachment")
        .into_iter()
        .filter(|(_, a)| a["role"] == json!("${aws_iam_role.nodes_role.name}"))
        .map(|(_, a)| {
            let arn = a["policy_arn"].as_str().unwrap();
            let name = arn.rsplit('/').next().unwrap();
            name.split('"').next().unwrap().to_owned()
        })
        .collect();
    assert_eq!(attached, NODE_MANAGED_POLICIES.map(str::to_owned).to_vec());
    assert!(!attached.iter().any(|p| p == "AmazonEKS_CNI_Policy"));
    // No inline policy, and no instance profile (EKS makes the group's own).
    assert!(
        t.resources("aws_iam_role_policy")
            .iter()
            .all(|(_, p)| p["role"] != json!("${aws_iam_role.nodes_role.name}"))
    );
    t.resource_count_is("aws_iam_instance_profile", 0);
}

#[test]
fn labels_taints_and_spot_capacity() {
    let t = with_nodes(|n| {
        n.capacity(CapacityType::Spot)
            .label("piksel.io/pool", "dask")
            .taint(Taint::new(
                "piksel.io/dask",
                "true",
                TaintEffect::NoSchedule,
            ))
            .taint(Taint::new(
                "piksel.io/spot",
                "",
                TaintEffect::PreferNoSchedule,
            ))
    });
    let group = t.resource("aws_eks_node_group", "nodes_group");
    assert_eq!(group["capacity_type"], json!("SPOT"));
    assert_eq!(group["labels"], json!({"piksel.io/pool": "dask"}));
    assert_eq!(
        group["taint"],
        json!([
            {"effect": "NO_SCHEDULE", "key": "piksel.io/dask", "value": "true"},
            {"effect": "PREFER_NO_SCHEDULE", "key": "piksel.io/spot"}
        ])
    );
}

#[test]
fn a_node_group_in_a_subnet_of_another_vpc_is_refused() {
    let error = try_build(
        |c| c,
        |scope, _, cluster| {
            let other = Vpc::new("other", "10.60.0.0/16".parse().unwrap()).add(scope, "other")?;
            let _nodes = NodeGroup::new(cluster, "system", ["m7i.large"], SCALING)
                .subnets(other.private_subnet_ids())
                .add(scope, "nodes")?;
            Ok(())
        },
    )
    .unwrap_err();
    assert_eq!(
        eks_error(&error),
        EksError::SubnetOutsideVpc {
            subnet: "${aws_subnet.other_private_a.id}".into(),
            vpc: "${aws_vpc.network.id}".into(),
        }
    );
    // A subnet id typed by hand is not known to be the VPC's either.
    let error = try_build(
        |c| c,
        |scope, _, cluster| {
            let _nodes = NodeGroup::new(cluster, "system", ["m7i.large"], SCALING)
                .subnets([Expr::lit("subnet-0123456789abcdef0")])
                .add(scope, "nodes")?;
            Ok(())
        },
    )
    .unwrap_err();
    assert!(matches!(
        eks_error(&error),
        EksError::SubnetOutsideVpc { .. }
    ));
}

#[test]
fn a_subset_of_the_cluster_vpcs_subnets_is_accepted() {
    let t = build(
        |c| c,
        |scope, vpc, cluster| {
            let first = vpc.private_subnet_ids().into_iter().take(1);
            let _nodes = NodeGroup::new(cluster, "system", ["m7i.large"], SCALING)
                .subnets(first)
                .add(scope, "nodes")?;
            Ok(())
        },
    );
    assert_eq!(
        t.resource("aws_eks_node_group", "nodes_group")["subnet_ids"],
        json!(["${aws_subnet.network_private_a.id}"])
    );
}

#[test]
fn sizes_types_names_and_labels_are_checked() {
    let refused =
        |configure: fn(NodeGroup) -> NodeGroup, scaling: ScalingConfig, types: &[&str]| {
            let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
            let error = try_build(
                |c| c,
                |scope, _, cluster| {
                    let _nodes = configure(NodeGroup::new(cluster, "system", types, scaling))
                        .add(scope, "nodes")?;
                    Ok(())
                },
            )
            .unwrap_err();
            eks_error(&error)
        };
    let lopsided = ScalingConfig {
        min: 3,
        max: 4,
        desired: 2,
    };
    assert_eq!(
        refused(|n| n, lopsided, &["m7i.large"]),
        EksError::Scaling {
            min: 3,
            desired: 2,
            max: 4
        }
    );
    assert_eq!(
        refused(|n| n, SCALING, &[]),
        EksError::NoInstanceTypes("system".into())
    );
    assert_eq!(
        refused(|n| n, SCALING, &["large"]),
        EksError::InstanceType("large".into())
    );
    assert_eq!(
        refused(|n| n.root_volume(8), SCALING, &["m7i.large"]),
        EksError::RootVolume(8)
    );
    assert_eq!(
        refused(|n| n.max_unavailable_percentage(0), SCALING, &["m7i.large"]),
        EksError::MaxUnavailable(0)
    );
    assert!(matches!(
        refused(|n| n.label("bad key!", "x"), SCALING, &["m7i.large"]),
        EksError::NodeLabel { what: "label", .. }
    ));
    assert!(matches!(
        refused(
            |n| n.taint(Taint::new("ok", "not ok!", TaintEffect::NoExecute)),
            SCALING,
            &["m7i.large"]
        ),
        EksError::NodeLabel { what: "taint", .. }
    ));
}

#[test]
fn nodes_wait_for_the_addons_their_networking_needs() {
    let t = build(
        |c| c,
        |scope, _, cluster| {
            let cni = Addon::vpc_cni(cluster, "v1.21.1-eksbuild.1").add(scope, "vpc-cni")?;
            let _nodes = NodeGroup::new(cluster, "system", ["m7i.large"], SCALING)
                .after(&cni)
                .add(scope, "nodes")?;
            Ok(())
        },
    );
    let depends_on = t.resource("aws_eks_node_group", "nodes_group")["depends_on"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        depends_on.contains(&json!("aws_eks_addon.vpc_cni_addon")),
        "{depends_on:?}"
    );
}

#[test]
fn the_autoscaler_node_template_tags_name_the_labels_and_taints() {
    let t = with_nodes(|n| {
        n.label("piksel.io/pool", "dask")
            .taint(Taint::new(
                "piksel.io/dask",
                "true",
                TaintEffect::NoSchedule,
            ))
            .autoscaler_node_template()
    });
    let tags: Vec<serde_json::Value> = t
        .resources("aws_autoscaling_group_tag")
        .into_iter()
        .map(|(_, tag)| tag.clone())
        .collect();
    let asg = json!("${aws_eks_node_group.nodes_group.resources[0].autoscaling_groups[0].name}");
    assert_eq!(
        tags,
        [
            json!({"autoscaling_group_name": asg, "tag": [{
                "key": "k8s.io/cluster-autoscaler/node-template/label/piksel.io/pool",
                "propagate_at_launch": false,
                "value": "dask",
            }]}),
            json!({"autoscaling_group_name": asg, "tag": [{
                "key": "k8s.io/cluster-autoscaler/node-template/taint/piksel.io/dask",
                "propagate_at_launch": false,
                "value": "true:NoSchedule",
            }]}),
        ]
    );
}

#[test]
fn no_autoscaler_tags_unless_asked() {
    let t = with_nodes(|n| n.label("piksel.io/pool", "system"));
    assert!(t.resources("aws_autoscaling_group_tag").is_empty());
}
