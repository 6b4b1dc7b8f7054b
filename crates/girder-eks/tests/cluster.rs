#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The cluster's defaults and refusals.

mod common;

use common::{build, eks_error, try_build};
use girder_core::vocabulary::{ExposureError, Ipv4Cidr, LogRetentionError};
use girder_eks::{
    CONTROL_PLANE_LOG_TYPES, EKS_STANDARD_SUPPORT, EksCluster, EksError, KubernetesVersion,
};
use girder_network::{Connectable, Port};
use serde_json::json;

#[test]
fn secrets_are_encrypted_with_a_rotating_key_of_the_clusters_own() {
    let t = build(|c| c, |_, _, _| Ok(()));
    let cluster = t.resource("aws_eks_cluster", "eks_cluster");
    assert_eq!(
        cluster["encryption_config"],
        json!([{"resources": ["secrets"], "provider": [{"key_arn": "${aws_kms_key.eks_key.arn}"}]}])
    );
    let key = t.resource("aws_kms_key", "eks_key");
    assert_eq!(key["enable_key_rotation"], json!(true));
    assert_eq!(key["deletion_window_in_days"], json!(30));
    assert_eq!(
        t.resource("aws_kms_alias", "eks_key_alias")["name"],
        json!("alias/eks/piksel-dev")
    );
    // The control plane may use that key, and EKS's managed policy.
    let encryption = t.resource("aws_iam_role_policy", "eks_role_encryption")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        encryption.contains("aws_kms_key.eks_key.arn"),
        "{encryption}"
    );
    assert!(encryption.contains("kms:Decrypt"), "{encryption}");
    let attachment = t.resource(
        "aws_iam_role_policy_attachment",
        "eks_role_amazoneksclusterpolicy",
    );
    assert!(attachment["policy_arn"].as_str().unwrap().ends_with(
        ":iam::aws:policy/AmazonEKSClusterPolicy\", data.aws_partition.eks_partition.partition)}"
    ));
}

#[test]
fn a_given_key_replaces_the_clusters_own() {
    let given = "arn:aws:kms:eu-central-1:111111111111:key/0a1b2c3d-0000-4000-8000-000000000000";
    let t = build(|c| c.encryption_key(given), |_, _, _| Ok(()));
    t.resource_count_is("aws_kms_key", 0);
    t.resource_count_is("aws_kms_alias", 0);
    assert_eq!(
        t.resource("aws_eks_cluster", "eks_cluster")["encryption_config"][0]["provider"][0]["key_arn"],
        json!(given)
    );
}

#[test]
fn access_entries_only_and_no_admin_for_the_creator() {
    let t = build(|c| c, |_, _, _| Ok(()));
    assert_eq!(
        t.resource("aws_eks_cluster", "eks_cluster")["access_config"],
        json!([{"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": false}])
    );
}

#[test]
fn the_endpoint_is_private_only_by_default() {
    let t = build(|c| c, |_, _, _| Ok(()));
    let vpc_config = &t.resource("aws_eks_cluster", "eks_cluster")["vpc_config"][0];
    assert_eq!(vpc_config["endpoint_private_access"], json!(true));
    assert_eq!(vpc_config["endpoint_public_access"], json!(false));
    assert!(vpc_config.get("public_access_cidrs").is_none());
    // In the VPC's private subnets, with girder's security group.
    assert_eq!(
        vpc_config["subnet_ids"],
        json!([
            "${aws_subnet.network_private_a.id}",
            "${aws_subnet.network_private_b.id}"
        ])
    );
    assert_eq!(
        vpc_config["security_group_ids"],
        json!(["${aws_security_group.eks_security_group.id}"])
    );
}

#[test]
fn a_public_endpoint_admits_the_named_cidrs_only() {
    let office: Ipv4Cidr = "203.0.113.0/24".parse().unwrap();
    let t = build(|c| c.public_endpoint([office]), |_, _, _| Ok(()));
    let vpc_config = &t.resource("aws_eks_cluster", "eks_cluster")["vpc_config"][0];
    assert_eq!(vpc_config["endpoint_private_access"], json!(true));
    assert_eq!(vpc_config["endpoint_public_access"], json!(true));
    assert_eq!(vpc_config["public_access_cidrs"], json!(["203.0.113.0/24"]));
}

#[test]
fn a_public_endpoint_open_to_everyone_needs_a_reason() {
    let everyone = Ipv4Cidr::everything();
    let error = try_build(|c| c.public_endpoint([everyone]), |_, _, _| Ok(())).unwrap_err();
    assert_eq!(
        eks_error(&error),
        EksError::PublicEndpoint(ExposureError::AdmitsEveryone(everyone))
    );
    let error = try_build(|c| c.public_endpoint([]), |_, _, _| Ok(())).unwrap_err();
    assert_eq!(
        eks_error(&error),
        EksError::PublicEndpoint(ExposureError::EmptyAllowlist)
    );
    // With a reason it opens.
    let t = build(
        |c| c.public_endpoint_open("CI runners on GitHub-hosted machines have no fixed addresses"),
        |_, _, _| Ok(()),
    );
    assert_eq!(
        t.resource("aws_eks_cluster", "eks_cluster")["vpc_config"][0]["public_access_cidrs"],
        json!(["0.0.0.0/0"])
    );
}

#[test]
fn every_control_plane_log_type_goes_to_a_retained_group_created_first() {
    let t = build(|c| c, |_, _, _| Ok(()));
    let cluster = t.resource("aws_eks_cluster", "eks_cluster");
    assert_eq!(
        cluster["enabled_cluster_log_types"],
        json!(CONTROL_PLANE_LOG_TYPES)
    );
    assert_eq!(CONTROL_PLANE_LOG_TYPES.len(), 5);
    let group = t.resource("aws_cloudwatch_log_group", "eks_logs");
    assert_eq!(group["name"], json!("/aws/eks/piksel-dev/cluster"));
    assert_eq!(group["retention_in_days"], json!(90));
    let depends_on = cluster["depends_on"].as_array().unwrap();
    assert!(depends_on.contains(&json!("aws_cloudwatch_log_group.eks_logs")));
    assert!(depends_on.contains(&json!(
        "aws_iam_role_policy_attachment.eks_role_amazoneksclusterpolicy"
    )));
    // Standard support only: no silent extended support.
    assert_eq!(
        cluster["upgrade_policy"],
        json!([{"support_type": "STANDARD"}])
    );
    // A retention CloudWatch does not offer is refused.
    let error = try_build(|c| c.log_retention(10), |_, _, _| Ok(())).unwrap_err();
    assert_eq!(
        eks_error(&error),
        EksError::LogRetention(LogRetentionError(10))
    );
}

#[test]
fn the_clusters_security_group_takes_rules_through_its_connections() {
    let t = build(
        |c| c,
        |scope, _, cluster| {
            let vpn: Ipv4Cidr = "10.99.0.0/16".parse().unwrap();
            cluster
                .connections()
                .allow_from(scope, &vpn, Port::tcp(443), "the API from the VPN")
                .map(drop)
        },
    );
    let rules = t.resources("aws_vpc_security_group_ingress_rule");
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(
        rules[0].1["security_group_id"],
        json!("${aws_security_group.eks_security_group.id}")
    );
    assert_eq!(rules[0].1["cidr_ipv4"], json!("10.99.0.0/16"));
}

#[test]
fn a_minor_past_standard_support_is_refused_with_its_end_date() {
    let oldest = EKS_STANDARD_SUPPORT[0];
    assert_eq!(
        KubernetesVersion::new(34).unwrap_err(),
        EksError::KubernetesVersionEnded {
            minor: 34,
            end_of_standard_support: "2026-12-02",
            oldest_supported: oldest,
        }
    );
    assert_eq!(
        "1.33".parse::<KubernetesVersion>().unwrap_err(),
        EksError::KubernetesVersionEnded {
            minor: 33,
            end_of_standard_support: "2026-07-29",
            oldest_supported: oldest,
        }
    );
    // Older than the table: the oldest date, by which it had ended.
    assert_eq!(
        KubernetesVersion::new(21).unwrap_err(),
        EksError::KubernetesVersionEnded {
            minor: 21,
            end_of_standard_support: "2023-10-11",
            oldest_supported: oldest,
        }
    );
    assert_eq!(
        KubernetesVersion::new(99).unwrap_err(),
        EksError::KubernetesVersionUnknown {
            minor: 99,
            newest_known: *EKS_STANDARD_SUPPORT.last().unwrap(),
        }
    );
    for text in ["1.36.2", "v1.36", "2.1", "1.", ""] {
        assert_eq!(
            text.parse::<KubernetesVersion>().unwrap_err(),
            EksError::KubernetesVersion(text.to_owned()),
            "{text}"
        );
    }
    let v: KubernetesVersion = "1.36".parse().unwrap();
    assert_eq!((v.minor(), v.to_string()), (36, "1.36".to_owned()));
}

#[test]
fn bad_names_and_key_windows_are_refused() {
    let error = try_build(|c| c.key_deletion_window(3), |_, _, _| Ok(())).unwrap_err();
    assert_eq!(eks_error(&error), EksError::KeyDeletionWindow(3));
    let error = common::try_build_named("-piksel").unwrap_err();
    assert_eq!(eks_error(&error), EksError::ClusterName("-piksel".into()));
}

#[test]
fn deletion_protection_is_asked_for() {
    let t = build(|c| c, |_, _, _| Ok(()));
    assert!(
        t.resource("aws_eks_cluster", "eks_cluster")
            .get("deletion_protection")
            .is_none()
    );
    let t = build(EksCluster::deletion_protection, |_, _, _| Ok(()));
    assert_eq!(
        t.resource("aws_eks_cluster", "eks_cluster")["deletion_protection"],
        json!(true)
    );
}

#[test]
fn the_service_range_is_stated_so_the_api_services_address_is_known() {
    let mut ip = None;
    let t = common::build(
        |c| c,
        |_, _, cluster| {
            ip = Some(cluster.kubernetes_service_ip());
            Ok(())
        },
    );
    let cluster = t.resource("aws_eks_cluster", "eks_cluster");
    assert_eq!(
        cluster["kubernetes_network_config"][0]["service_ipv4_cidr"],
        "172.20.0.0/16"
    );
    assert_eq!(ip, Some(std::net::Ipv4Addr::new(172, 20, 0, 1)));
}

#[test]
fn a_service_range_inside_the_vpc_public_or_badly_sized_is_refused() {
    for cidr in [
        "10.50.128.0/20",
        "100.64.0.0/16",
        "172.0.0.0/8",
        "192.168.10.0/28",
    ] {
        let error = common::try_build(|c| c.service_cidr(cidr.parse().unwrap()), |_, _, _| Ok(()))
            .unwrap_err();
        assert_eq!(
            common::eks_error(&error),
            girder_eks::EksError::ServiceCidr {
                cidr: cidr.to_owned(),
                vpc: "10.50.0.0/16".to_owned(),
            },
            "{cidr}"
        );
    }
    let _ok = common::build(
        |c| c.service_cidr("10.100.0.0/16".parse().unwrap()),
        |_, _, _| Ok(()),
    );
}
