#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! A whole cluster (node groups, access entries, pod identity, every add-on) through
//! tfcheck: the Terraform girder-eks writes is what the aws provider's schema accepts.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::prelude::*;
use girder_eks::{
    AccessEntry, AccessPolicy, AccessScope, Addon, CapacityType, EksCluster, KubernetesVersion,
    NodeGroup, ScalingConfig, Taint, TaintEffect,
};
use girder_iam::Statement;
use girder_network::Vpc;

fn piksel() -> Stack {
    let mut stack = Stack::new("eks", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("eu-central-1").into())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("piksel-dev", "10.50.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let cluster = EksCluster::new(&vpc, "piksel-dev", KubernetesVersion::new(36).unwrap())
        .public_endpoint(["203.0.113.0/24".parse().unwrap()])
        .add(&mut scope, "eks")
        .unwrap();
    let agent = Addon::pod_identity_agent(&cluster, "v1.3.10-eksbuild.1")
        .add(&mut scope, "agent")
        .unwrap();
    let cni = Addon::vpc_cni(&cluster, "v1.21.1-eksbuild.1")
        .add(&mut scope, "vpc-cni")
        .unwrap();
    let proxy = Addon::kube_proxy(&cluster, "v1.36.2-eksbuild.3")
        .add(&mut scope, "kube-proxy")
        .unwrap();
    let system = NodeGroup::new(
        &cluster,
        "system",
        ["m7i.large"],
        ScalingConfig {
            min: 2,
            max: 3,
            desired: 2,
        },
    )
    .label("piksel.io/pool", "system")
    .after(&agent)
    .after(&cni)
    .after(&proxy)
    .add(&mut scope, "system")
    .unwrap();
    let _dask = NodeGroup::new(
        &cluster,
        "dask",
        ["r7i.xlarge", "r6i.xlarge"],
        ScalingConfig {
            min: 0,
            max: 10,
            desired: 0,
        },
    )
    .capacity(CapacityType::Spot)
    .taint(Taint::new(
        "piksel.io/dask",
        "true",
        TaintEffect::NoSchedule,
    ))
    .add(&mut scope, "dask")
    .unwrap();
    let _admins = AccessEntry::new(
        &cluster,
        "arn:aws:iam::111111111111:role/piksel-admins",
        AccessPolicy::ClusterAdmin,
        AccessScope::Cluster,
    )
    .add(&mut scope, "admins")
    .unwrap();
    let _odc = cluster
        .pod_identity_role(
            &mut scope,
            "odc-role",
            "piksel-dev-odc",
            "odc",
            "explorer",
            [Statement::allow(["s3:GetObject"]).on(["arn:aws:s3:::piksel-data/*"])],
        )
        .unwrap();
    for (id, addon) in [
        (
            "coredns",
            Addon::coredns(&cluster, "v1.13.1-eksbuild.1").after(&system),
        ),
        (
            "ebs-csi",
            Addon::ebs_csi_driver(&cluster, "v1.53.0-eksbuild.1").after(&system),
        ),
    ] {
        let _addon = addon.add(&mut scope, id).unwrap();
    }
    drop(scope);
    stack
}

#[test]
fn tfcheck_accepts_a_whole_cluster() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let mut app = App::new();
    app.add_stack(piksel()).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-eks");
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
