#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! EKS Pod Identity: the trust and the association.

mod common;

use common::{build, eks_error, try_build};
use girder_core::Value;
use girder_eks::EksError;
use girder_iam::{Access, Statement};
use serde_json::json;

#[test]
fn the_role_trusts_eks_pods_on_behalf_of_this_cluster_only() {
    let mut trust = None;
    let mut policy = None;
    let mut cluster_arn = None;
    let t = build(
        |c| c,
        |scope, _, cluster| {
            trust = Some(cluster.pod_identity_trust());
            cluster_arn = Some(cluster.arn());
            let role = cluster.pod_identity_role(
                scope,
                "odc-role",
                "piksel-dev-odc",
                "odc",
                "explorer",
                [Statement::allow(["s3:GetObject"]).on(["arn:aws:s3:::piksel-data/*"])],
            )?;
            policy = Some(role.policy().clone());
            Ok(())
        },
    );
    let trust = trust.unwrap();
    let [statement] = trust.document().statements() else {
        panic!("one statement");
    };
    assert_eq!(statement.actions(), ["sts:AssumeRole", "sts:TagSession"]);
    assert_eq!(
        statement.principals(),
        [(
            "Service".to_owned(),
            vec![Value::Literal("pods.eks.amazonaws.com".to_owned())]
        )]
    );
    let conditions: Vec<(&str, &str)> = statement
        .conditions()
        .iter()
        .map(|c| (c.operator(), c.key()))
        .collect();
    assert_eq!(
        conditions,
        [
            ("StringEquals", "aws:SourceAccount"),
            ("ArnEquals", "aws:SourceArn")
        ]
    );
    assert_eq!(
        statement.conditions()[1].values(),
        [Value::Expr(cluster_arn.unwrap())]
    );
    // In the template: the role's trust names the cluster's ARN and account.
    let role = t.resource("aws_iam_role", "odc_role_role");
    let text = role["assume_role_policy"].as_str().unwrap();
    assert!(text.contains("aws_eks_cluster.eks_cluster.arn"), "{text}");
    assert!(
        text.contains("data.aws_caller_identity.eks_account.account_id"),
        "{text}"
    );
    assert!(text.contains("pods.eks.amazonaws.com"), "{text}");
    // The association: exactly that service account.
    let association = t.resource("aws_eks_pod_identity_association", "odc_role_association");
    assert_eq!(association["namespace"], json!("odc"));
    assert_eq!(association["service_account"], json!("explorer"));
    assert_eq!(
        association["role_arn"],
        json!("${aws_iam_role.odc_role_role.arn}")
    );
    assert_eq!(
        association["cluster_name"],
        json!("${aws_eks_cluster.eks_cluster.name}")
    );
    // What the pods may do: the statements given, nothing else.
    let policy = policy.unwrap();
    assert_eq!(
        policy.access(
            "s3:GetObject",
            &Value::Literal("arn:aws:s3:::piksel-data/scene.tif".into())
        ),
        Access::Allowed
    );
    assert_eq!(
        policy.access(
            "s3:PutObject",
            &Value::Literal("arn:aws:s3:::piksel-data/scene.tif".into())
        ),
        Access::Denied
    );
}

#[test]
fn a_service_account_kubernetes_refuses_is_refused() {
    let error = try_build(
        |c| c,
        |scope, _, cluster| {
            let _role = cluster.pod_identity_role(
                scope,
                "bad",
                "piksel-dev-bad",
                "Not_A_Namespace",
                "explorer",
                [],
            )?;
            Ok(())
        },
    )
    .unwrap_err();
    assert_eq!(
        eks_error(&error),
        EksError::ServiceAccountName("Not_A_Namespace/explorer".into())
    );
}
