#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The controllers' pod identity roles: each limited to what its cluster's controller
//! touches.

mod common;

use common::{build, eks_error, try_build};
use girder_core::Value;
use girder_core::construct::Construct;
use girder_core::vocabulary::{Arn, AwsLocation};
use girder_eks::{
    EksError, LOAD_BALANCER_TAG, NodeGroup, NodeGroupHandle, PodIdentityRoleHandle, ScalingConfig,
    autoscaler_cluster_tag,
};
use girder_iam::{Access, Condition};
use serde_json::json;

const SCALING: ScalingConfig = ScalingConfig {
    min: 0,
    max: 4,
    desired: 0,
};

struct Autoscaler {
    role: PodIdentityRoleHandle,
    scaled: NodeGroupHandle,
    other: NodeGroupHandle,
    here: AwsLocation,
    template: girder_core::assertions::Template,
}

fn autoscaler() -> Autoscaler {
    let mut handles = None;
    let template = build(
        |c| c,
        |scope, _, cluster| {
            let scaled =
                NodeGroup::new(cluster, "dask", ["r7i.2xlarge"], SCALING).add(scope, "dask")?;
            let other =
                NodeGroup::new(cluster, "other", ["m7i.large"], SCALING).add(scope, "other")?;
            let role = cluster.cluster_autoscaler_role(
                scope,
                "autoscaler",
                "cluster-autoscaler",
                "cluster-autoscaler",
                &[&scaled],
            )?;
            handles = Some((role, scaled, other, cluster.location().clone()));
            Ok(())
        },
    );
    let (role, scaled, other, here) = handles.unwrap();
    Autoscaler {
        role,
        scaled,
        other,
        here,
        template,
    }
}

fn group_arn(here: &AwsLocation, group: &NodeGroupHandle) -> Value<String> {
    here.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/")
        .join(group.autoscaling_group_name())
        .value()
}

#[test]
fn the_autoscaler_resizes_only_the_node_groups_it_is_given() {
    let Autoscaler {
        role,
        scaled,
        other,
        here,
        template,
    } = autoscaler();
    let owned = Condition::string_equals(
        &format!("aws:ResourceTag/{}", autoscaler_cluster_tag("piksel-dev")),
        "owned",
    );
    for action in [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ] {
        assert_eq!(
            role.policy().access(action, &group_arn(&here, &scaled)),
            Access::AllowedWhen(vec![vec![owned.clone()]]),
            "{action}"
        );
        assert_eq!(
            role.policy().access(action, &group_arn(&here, &other)),
            Access::Denied,
            "{action}"
        );
    }
    assert_eq!(
        role.policy()
            .access("eks:DescribeNodegroup", &Value::Expr(scaled.arn())),
        Access::Allowed
    );
    assert_eq!(
        role.policy()
            .access("eks:DescribeNodegroup", &Value::Expr(other.arn())),
        Access::Denied
    );
    // The service account of the chart, through pod identity.
    let association =
        template.resource("aws_eks_pod_identity_association", "autoscaler_association");
    assert_eq!(association["namespace"], json!("cluster-autoscaler"));
    assert_eq!(association["service_account"], json!("cluster-autoscaler"));
}

#[test]
fn an_autoscaler_role_with_no_node_group_is_refused() {
    let error = try_build(
        |c| c,
        |scope, _, cluster| {
            let _ = cluster.cluster_autoscaler_role(scope, "autoscaler", "ca", "ca", &[])?;
            Ok(())
        },
    )
    .unwrap_err();
    assert_eq!(eks_error(&error), EksError::NoNodeGroups);
}

#[test]
fn external_dns_changes_records_of_its_zone_only() {
    let mut handles = None;
    let _template = build(
        |c| c,
        |scope, _, cluster| {
            let role = cluster.external_dns_role(
                scope,
                "external-dns",
                "external-dns",
                "external-dns",
                "Z0123456789ABC",
            )?;
            handles = Some((role, cluster.partition().clone()));
            Ok(())
        },
    );
    let (role, partition) = handles.unwrap();
    let zone = |id: &str| {
        Arn::new(partition.clone(), "route53", "", "", "hostedzone/")
            .join(id.to_owned())
            .value()
    };
    let policy = role.policy();
    for action in [
        "route53:ChangeResourceRecordSets",
        "route53:ListResourceRecordSets",
    ] {
        assert_eq!(
            policy.access(action, &zone("Z0123456789ABC")),
            Access::Allowed,
            "{action}"
        );
        assert_eq!(
            policy.access(action, &zone("ZANOTHERZONE")),
            Access::Denied,
            "{action}"
        );
    }
    // The one wildcard: finding the zone.
    assert_eq!(policy.wildcard_reasons().len(), 1);
    assert_eq!(
        policy.access("route53:ListHostedZones", &Value::Literal("*".into())),
        Access::Allowed
    );
}

#[test]
fn the_secrets_reader_reads_its_prefixes_only() {
    let mut handles = None;
    let _template = build(
        |c| c,
        |scope, _, cluster| {
            let role = cluster.secrets_reader_role(
                scope,
                "external-secrets",
                "external-secrets",
                "external-secrets",
                &["piksel/dev/", "piksel-dev-odc/users/"],
            )?;
            handles = Some((role, cluster.location().clone()));
            Ok(())
        },
    );
    let (role, here) = handles.unwrap();
    let secret = |name: &str| here.arn("secretsmanager", format!("secret:{name}")).value();
    let reads = here.arn("secretsmanager", "secret:piksel/dev/*").value();
    // The ARNs hold the stack's account and region as expressions: access compares
    // such patterns whole.
    let users = here
        .arn("secretsmanager", "secret:piksel-dev-odc/users/*")
        .value();
    assert_eq!(
        role.policy()
            .access("secretsmanager:GetSecretValue", &users),
        Access::Allowed
    );
    // Not the instance's master secret, which RDS names `rds!db-...`.
    assert_eq!(
        role.policy().access(
            "secretsmanager:GetSecretValue",
            &secret("rds!db-0a1b2c3d-4e5f")
        ),
        Access::Denied
    );
    assert_eq!(
        role.policy()
            .access("secretsmanager:GetSecretValue", &reads),
        Access::Allowed
    );
    assert_eq!(
        role.policy().access(
            "secretsmanager:GetSecretValue",
            &secret("piksel/prod/database")
        ),
        Access::Denied
    );
    assert_eq!(
        role.policy()
            .access("secretsmanager:PutSecretValue", &reads),
        Access::Denied
    );
    assert!(role.policy().wildcard_reasons().is_empty());
}

#[test]
fn a_secret_prefix_with_a_wildcard_or_empty_is_refused() {
    for (prefixes, refused) in [
        (&[][..], ""),
        (&[""][..], ""),
        (&["piksel/dev/", "piksel/*"][..], "piksel/*"),
    ] {
        let error = try_build(
            |c| c,
            |scope, _, cluster| {
                let _ = cluster.secrets_reader_role(scope, "eso", "eso", "eso", prefixes)?;
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(eks_error(&error), EksError::SecretPrefix(refused.into()));
    }
}

#[test]
fn the_load_balancer_controller_changes_only_what_it_tagged_for_its_cluster() {
    let mut handles = None;
    let template = build(
        |c| c,
        |scope, _, cluster| {
            let role = cluster.load_balancer_controller_role(
                scope,
                "lbc",
                "aws-load-balancer-controller",
                "aws-load-balancer-controller",
            )?;
            handles = Some((role, cluster.location().clone()));
            Ok(())
        },
    );
    let (role, here) = handles.unwrap();
    let policy = role.policy();
    let load_balancer = here
        .arn("elasticloadbalancing", "loadbalancer/app/*/*")
        .value();
    let ours = Condition::string_equals(
        &format!("aws:ResourceTag/{LOAD_BALANCER_TAG}"),
        "piksel-dev",
    );
    assert_eq!(
        policy.access("elasticloadbalancing:DeleteLoadBalancer", &load_balancer),
        Access::AllowedWhen(vec![vec![ours.clone()]])
    );
    let created_for_us =
        Condition::string_equals(&format!("aws:RequestTag/{LOAD_BALANCER_TAG}"), "piksel-dev");
    assert_eq!(
        policy.access("elasticloadbalancing:CreateLoadBalancer", &load_balancer),
        Access::AllowedWhen(vec![vec![created_for_us]])
    );
    let security_group = here.arn("ec2", "security-group/*").value();
    assert_eq!(
        policy.access("ec2:DeleteSecurityGroup", &security_group),
        Access::AllowedWhen(vec![vec![ours]])
    );
    // Nothing outside load balancing and its security groups.
    assert_eq!(
        policy.access("ec2:TerminateInstances", &Value::Literal("*".into())),
        Access::Denied
    );
    assert_eq!(
        policy.access("iam:PassRole", &Value::Literal("*".into())),
        Access::Denied
    );
    let association = template.resource("aws_eks_pod_identity_association", "lbc_association");
    assert_eq!(
        association["service_account"],
        json!("aws-load-balancer-controller")
    );
}
