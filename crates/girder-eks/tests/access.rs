#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Access entries: principals, policies, scopes, refusals.

mod common;

use common::{build, eks_error, try_build};
use girder_core::prelude::*;
use girder_eks::{AccessEntry, AccessPolicy, AccessScope, EksError, Principal};
use girder_iam::{Role, Trust};
use serde_json::json;

#[test]
fn a_role_of_the_stack_gets_cluster_admin_on_the_whole_cluster() {
    let t = build(
        |c| c,
        |scope, _, cluster| {
            let admins = Role::new("piksel-dev-admins", Trust::service("ec2.amazonaws.com"))
                .without_instance_profile()
                .add(scope, "admins-role")?;
            let _entry = AccessEntry::new(
                cluster,
                &admins,
                AccessPolicy::ClusterAdmin,
                AccessScope::Cluster,
            )
            .add(scope, "admins")?;
            Ok(())
        },
    );
    let entry = t.resource("aws_eks_access_entry", "admins_entry");
    assert_eq!(
        entry["cluster_name"],
        json!("${aws_eks_cluster.eks_cluster.name}")
    );
    assert_eq!(
        entry["principal_arn"],
        json!("${aws_iam_role.admins_role.arn}")
    );
    assert_eq!(entry["type"], json!("STANDARD"));
    let policy = t.resource("aws_eks_access_policy_association", "admins_policy");
    assert_eq!(
        policy["principal_arn"],
        json!("${aws_iam_role.admins_role.arn}")
    );
    assert_eq!(
        policy["policy_arn"],
        json!(
            "${format(\"arn:%s:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\", data.aws_partition.eks_partition.partition)}"
        )
    );
    assert_eq!(policy["access_scope"], json!([{"type": "cluster"}]));
    assert_eq!(
        policy["depends_on"],
        json!(["aws_eks_access_entry.admins_entry"])
    );
}

#[test]
fn a_user_views_named_namespaces_only() {
    let t = build(
        |c| c,
        |scope, _, cluster| {
            let _entry = AccessEntry::new(
                cluster,
                "arn:aws:iam::111111111111:user/analyst",
                AccessPolicy::View,
                AccessScope::Namespaces(vec!["odc".into(), "jupyter".into()]),
            )
            .add(scope, "analyst")?;
            Ok(())
        },
    );
    let policy = t.resource("aws_eks_access_policy_association", "analyst_policy");
    assert_eq!(
        policy["principal_arn"],
        json!("arn:aws:iam::111111111111:user/analyst")
    );
    assert!(
        policy["policy_arn"]
            .as_str()
            .unwrap()
            .contains("cluster-access-policy/AmazonEKSViewPolicy")
    );
    assert_eq!(
        policy["access_scope"],
        json!([{"namespaces": ["odc", "jupyter"], "type": "namespace"}])
    );
}

fn refused(principal: Principal, scope: AccessScope) -> EksError {
    let error = try_build(
        |c| c,
        |s, _, cluster| {
            let _entry =
                AccessEntry::new(cluster, principal, AccessPolicy::Edit, scope).add(s, "entry")?;
            Ok(())
        },
    )
    .unwrap_err();
    eks_error(&error)
}

#[test]
fn an_access_entry_for_an_unknown_principal_is_refused() {
    for arn in [
        // A session, not a role: it changes with every assumption.
        "arn:aws:sts::111111111111:assumed-role/admins/alice",
        // Groups cannot have access entries.
        "arn:aws:iam::111111111111:group/admins",
        "arn:aws:iam::1111:role/admins",
        "arn:aws:iam::111111111111:role/",
        "admins",
        "",
    ] {
        assert_eq!(
            refused(Principal::Arn(arn.into()), AccessScope::Cluster),
            EksError::AccessPrincipal(arn.into()),
            "{arn}"
        );
    }
}

#[test]
fn a_namespace_scope_names_real_namespaces() {
    let user = || Principal::from("arn:aws:iam::111111111111:role/dev/ci-deployer");
    assert_eq!(
        refused(user(), AccessScope::Namespaces(Vec::new())),
        EksError::AccessNamespaces(Vec::new())
    );
    assert_eq!(
        refused(
            user(),
            AccessScope::Namespaces(vec!["Not_A_Namespace".into()])
        ),
        EksError::AccessNamespaces(vec!["Not_A_Namespace".into()])
    );
}

#[test]
fn an_entry_of_kubernetes_groups_has_no_access_policy() {
    let t = build(
        |c| c,
        |scope, _, cluster| {
            let _entry = AccessEntry::groups(
                cluster,
                "arn:aws:iam::111122223333:role/tfc-plan",
                ["piksel-terraform-plan"],
            )
            .add(scope, "plan")?;
            Ok(())
        },
    );
    let entry = t.resource("aws_eks_access_entry", "plan_entry");
    assert_eq!(entry["kubernetes_groups"], json!(["piksel-terraform-plan"]));
    assert_eq!(entry["type"], "STANDARD");
    assert!(t.resources("aws_eks_access_policy_association").is_empty());
}

#[test]
fn no_groups_or_eks_reserved_groups_are_refused() {
    for groups in [vec![], vec!["system:masters"], vec!["has space"]] {
        let error = try_build(
            |c| c,
            |scope, _, cluster| {
                let _entry = AccessEntry::groups(
                    cluster,
                    "arn:aws:iam::111122223333:role/tfc-plan",
                    groups.clone(),
                )
                .add(scope, "plan")?;
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(
            eks_error(&error),
            EksError::AccessGroups(groups.iter().map(|g| (*g).to_owned()).collect())
        );
    }
}
