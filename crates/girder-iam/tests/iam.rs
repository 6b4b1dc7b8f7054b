#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Policies render as IAM expects, least privilege is enforced with written exceptions,
//! trust policies pin who may assume a role, and roles bring their attachments.

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_iam::{Condition, PolicyDocument, Role, Statement, Trust};
use serde_json::{Value as Json, json};

fn literal(value: Value<String>) -> Json {
    match value {
        Value::Literal(text) => serde_json::from_str(&text).unwrap(),
        Value::Expr(e) => panic!("expected a literal policy, got {e:?}"),
    }
}

#[test]
fn static_policies_are_literal_json() {
    let document = PolicyDocument::new().statement(
        Statement::allow(["s3:GetObject", "s3:PutObject"])
            .sid("Images")
            .on(["arn:aws:s3:::images/*"])
            .when(Condition::bool("aws:SecureTransport", true)),
    );
    assert_eq!(
        literal(document.render("x").unwrap()),
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Images", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::images/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}
        }]})
    );
}

#[test]
fn policies_with_expressions_use_jsonencode() {
    let mut stack = Stack::new("app", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    let mut scope = stack.scope("data").unwrap();
    let bucket = scope
        .add("images", aws::S3Bucket::new().bucket("images"))
        .unwrap();
    let document = PolicyDocument::new().statement(
        Statement::allow(["s3:GetObject"]).on([fns::format("%s/*", [bucket.arn().any()])]),
    );
    let Value::Expr(expr) = document.render("x").unwrap() else {
        panic!("an expression resource must make an expression policy");
    };
    let text = expr.to_terraform_string();
    assert!(text.starts_with("${jsonencode({"), "{text}");
    assert!(text.contains("aws_s3_bucket.data_images.arn"), "{text}");
}

#[test]
fn wildcards_need_a_reason() {
    let any_action =
        PolicyDocument::new().statement(Statement::allow(["s3:*"]).on(["arn:aws:s3:::b"]));
    let err = any_action.render("stack:role").unwrap_err().to_string();
    assert!(
        err.starts_with("stack:role: statement 1 allows s3:*"),
        "{err}"
    );
    assert!(err.contains("wildcard_because"), "{err}");
    let any_resource =
        PolicyDocument::new().statement(Statement::allow(["ssm:DescribeParameters"]).on(["*"]));
    assert!(
        any_resource
            .render("x")
            .unwrap_err()
            .to_string()
            .contains("resource *")
    );
    let reasoned = PolicyDocument::new().statement(
        Statement::allow(["ssm:DescribeParameters"])
            .on(["*"])
            .wildcard_because("DescribeParameters has no resource-level permissions"),
    );
    reasoned.render("x").unwrap();
    assert_eq!(reasoned.wildcard_reasons().len(), 1);
    // The reason is a `girder_core::Reason`: blank is no reason, two lines are refused.
    let blank = PolicyDocument::new().statement(
        Statement::allow(["ssm:DescribeParameters"])
            .on(["*"])
            .wildcard_because("  "),
    );
    assert!(
        blank
            .render("x")
            .unwrap_err()
            .to_string()
            .contains("wildcard_because")
    );
    let two_lines = PolicyDocument::new().statement(
        Statement::allow(["ssm:DescribeParameters"])
            .on(["*"])
            .wildcard_because("no resource-level\npermissions"),
    );
    let err = two_lines.render("x").unwrap_err().to_string();
    assert!(
        err.contains("the reason given to `.wildcard_because(reason)`: a reason is one line"),
        "{err}"
    );
    // A Deny may be broad: it only takes away.
    PolicyDocument::new()
        .statement(Statement::deny(["s3:*"]).on(["*"]))
        .render("x")
        .unwrap();
}

#[test]
fn statements_without_resources_or_actions_are_refused() {
    let err = PolicyDocument::new()
        .statement(Statement::allow(["s3:GetObject"]))
        .render("x")
        .unwrap_err();
    assert!(err.to_string().contains("names no resources"), "{err}");
    assert!(PolicyDocument::new().render("x").is_err());
}

#[test]
fn github_trust_pins_repository_and_environment() {
    let trust = Trust::github_actions_environment(
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
        "acme/pixtools",
        "prod",
    );
    let json = literal(trust.document().render("x").unwrap());
    let statement = &json["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:acme/pixtools:environment:prod"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    let tfc = Trust::terraform_cloud(
        "arn:aws:iam::1:oidc-provider/app.terraform.io",
        "acme",
        "pixtools",
        "pixtools-dev",
        "*",
    );
    let json = literal(tfc.document().render("x").unwrap());
    assert_eq!(
        json["Statement"][0]["Condition"]["StringLike"]["app.terraform.io:sub"],
        "organization:acme:project:pixtools:workspace:pixtools-dev:run_phase:*"
    );
}

#[test]
fn ec2_roles_get_policies_attachments_and_an_instance_profile() {
    let mut stack = Stack::new("app", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    let mut scope = stack.scope("compute").unwrap();
    let role = Role::new("pixtools-dev-node", Trust::ec2())
        .description("K3s node")
        .managed_policy("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
        .policy(
            "logs",
            PolicyDocument::new().statement(
                Statement::allow(["logs:CreateLogStream", "logs:PutLogEvents"])
                    .on(["arn:aws:logs:us-east-1:123456789012:log-group:/pixtools/dev/*"]),
            ),
        )
        .add(&mut scope, "node-role")
        .unwrap();
    assert_eq!(
        role.arn().to_terraform_string(),
        "${aws_iam_role.compute_node_role.arn}"
    );
    assert!(role.instance_profile_name().is_some());
    let template = Template::from_stack(stack).unwrap();
    let trust: Json = serde_json::from_str(
        template.resource("aws_iam_role", "compute_node_role")["assume_role_policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    template.resource_count_is("aws_iam_role_policy", 1);
    template.has_resource_properties(
        "aws_iam_role_policy_attachment",
        &json!({"policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "role": "${aws_iam_role.compute_node_role.name}"}),
    );
    template.has_resource_properties(
        "aws_iam_instance_profile",
        &json!({"name": "pixtools-dev-node", "role": "${aws_iam_role.compute_node_role.name}"}),
    );
}
