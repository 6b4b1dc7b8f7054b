#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Node loss: a node whose volumes are EBS (the CSI driver signs with the node role) is
//! kept in one zone, so its replacement can attach them.

use std::collections::BTreeSet;

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::SsmPath;
use girder_k3s::{EBS_CSI_DRIVER_ACTIONS, K3sNode, K3sNodeHandle};
use girder_network::Vpc;
use girder_rds::PostgresParameters;
use serde_json::Value as Json;

fn build(configure: impl FnOnce(K3sNode) -> K3sNode) -> (Template, K3sNodeHandle) {
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
        "v1.34.9+k3s1",
    ))
    .add(&mut scope, "k3s")
    .unwrap();
    (Template::from_stack(stack).unwrap(), node)
}

fn zones(t: &Template) -> Vec<Json> {
    t.resource("aws_autoscaling_group", "k3s_group")["vpc_zone_identifier"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_single_zone_node_launches_in_the_first_private_subnet_only() {
    let (one, _) = build(|n| n.ebs_csi_driver().single_zone());
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
fn the_node_role_manages_ebs_volumes_only_with_the_drivers_actions() {
    let ec2 = |node: &K3sNodeHandle| -> BTreeSet<String> {
        node.policy()
            .allowed_actions()
            .into_iter()
            .filter(|a| a.starts_with("ec2:"))
            .map(str::to_owned)
            .collect()
    };
    let (_, node) = build(|n| n.ebs_csi_driver().single_zone());
    let documented: BTreeSet<String> = EBS_CSI_DRIVER_ACTIONS
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    assert_eq!(ec2(&node), documented);
    // A node without the driver gets no EC2 action at all.
    let (_, node) = build(|n| n);
    assert!(ec2(&node).is_empty());
}
