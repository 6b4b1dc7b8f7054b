#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Policies render as IAM expects, least privilege is enforced with written exceptions,
//! trust policies pin who may assume a role, and roles bring their attachments.

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::{Partition, ReasonError};
use girder_iam::{Condition, GithubOidcProvider, IamError, PolicyDocument, Role, Statement, Trust};
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
    let err = any_action.render("stack:role").unwrap_err();
    assert_eq!(
        err.construct_error::<IamError>(),
        Some(&IamError::Wildcard {
            statement: "statement 1".into(),
            wildcards: "s3:*".into()
        })
    );
    assert!(
        err.to_string()
            .starts_with("stack:role: statement 1 allows s3:*"),
        "{err}"
    );
    let any_resource =
        PolicyDocument::new().statement(Statement::allow(["ssm:DescribeParameters"]).on(["*"]));
    assert_eq!(
        any_resource
            .render("x")
            .unwrap_err()
            .construct_error::<IamError>(),
        Some(&IamError::Wildcard {
            statement: "statement 1".into(),
            wildcards: "resource *".into()
        })
    );
    let reasoned = PolicyDocument::new().statement(
        Statement::allow(["ssm:DescribeParameters"])
            .on(["*"])
            .wildcard_because("DescribeParameters has no resource-level permissions"),
    );
    reasoned.render("x").unwrap();
    assert_eq!(reasoned.wildcard_reasons().len(), 1);
    // The reason is a `girder_core::Reason`: blank and two-line reasons are refused.
    for (reason, source) in [
        ("  ", ReasonError::Empty),
        (
            "no resource-level\npermissions",
            ReasonError::ControlCharacter('\n'),
        ),
    ] {
        let document = PolicyDocument::new().statement(
            Statement::allow(["ssm:DescribeParameters"])
                .on(["*"])
                .wildcard_because(reason),
        );
        assert_eq!(
            document
                .render("x")
                .unwrap_err()
                .construct_error::<IamError>(),
            Some(&IamError::Reason {
                statement: "statement 1".into(),
                source
            })
        );
    }
    // A Deny may be broad: it only takes away.
    PolicyDocument::new()
        .statement(Statement::deny(["s3:*"]).on(["*"]))
        .render("x")
        .unwrap();
}

#[test]
fn statements_without_resources_or_actions_are_refused() {
    let err = PolicyDocument::new()
        .statement(Statement::allow(["s3:GetObject"]).sid("Read"))
        .render("x")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<IamError>(),
        Some(&IamError::NoResources {
            statement: "Read".into(),
            actions: "s3:GetObject".into()
        })
    );
    assert_eq!(
        PolicyDocument::new()
            .render("x")
            .unwrap_err()
            .construct_error::<IamError>(),
        Some(&IamError::NoStatements)
    );
    let no_actions: [&str; 0] = [];
    assert_eq!(
        PolicyDocument::new()
            .statement(Statement::allow(no_actions).on(["*"]))
            .render("x")
            .unwrap_err()
            .construct_error::<IamError>(),
        Some(&IamError::NoActions {
            statement: "statement 1".into()
        })
    );
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
fn github_trust_of_refs_names_each_repository_and_ref_and_nothing_else() {
    let trust = Trust::github_actions_refs(
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
        &["piksel/piksel-core", "piksel/piksel-jupyter"],
        &["refs/heads/main", "refs/tags/v*"],
    );
    let json = literal(trust.document().render("x").unwrap());
    let condition = &json["Statement"][0]["Condition"];
    assert_eq!(
        condition["StringLike"]["token.actions.githubusercontent.com:sub"],
        serde_json::json!([
            "repo:piksel/piksel-core:ref:refs/heads/main",
            "repo:piksel/piksel-core:ref:refs/tags/v*",
            "repo:piksel/piksel-jupyter:ref:refs/heads/main",
            "repo:piksel/piksel-jupyter:ref:refs/tags/v*"
        ])
    );
    // The audience stays exact: only tokens minted for STS.
    assert_eq!(
        condition["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    // A pull request's ref (refs/pull/...) or another branch matches none of them.
    let subjects = condition["StringLike"]["token.actions.githubusercontent.com:sub"]
        .as_array()
        .unwrap();
    assert!(
        subjects
            .iter()
            .all(|s| !s.as_str().unwrap().contains("pull"))
    );
}

#[test]
fn ec2_roles_get_policies_attachments_and_an_instance_profile() {
    let mut stack = Stack::new("app", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    let mut scope = stack.scope("compute").unwrap();
    let role = Role::new("pixtools-dev-node", Trust::ec2())
        .description("K3s node")
        .aws_managed_policy(Partition::AwsCn, "AmazonSSMManagedInstanceCore")
        .managed_policy("arn:aws-cn:iam::123456789012:policy/pixtools-extra")
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
    // AWS managed policies are named in the stated partition; attachments are named by
    // the policy.
    assert_eq!(
        template.resource(
            "aws_iam_role_policy_attachment",
            "compute_node_role_amazonssmmanagedinstancecore"
        )["policy_arn"],
        "arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore"
    );
    assert_eq!(
        template.resource(
            "aws_iam_role_policy_attachment",
            "compute_node_role_pixtools_extra"
        )["role"],
        "${aws_iam_role.compute_node_role.name}"
    );
    template.has_resource_properties(
        "aws_iam_instance_profile",
        &json!({"name": "pixtools-dev-node", "role": "${aws_iam_role.compute_node_role.name}"}),
    );
}

#[test]
fn roles_and_providers_are_constructs_with_checked_sessions() {
    let mut stack = Stack::new("app", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("deploy").unwrap();
    let provider = GithubOidcProvider.add(&mut scope, "github").unwrap();
    assert_eq!(
        provider.arn().to_terraform_string(),
        "${aws_iam_openid_connect_provider.deploy_github.arn}"
    );
    let err = Role::new("deploy", Trust::ec2())
        .max_session(60)
        .add(&mut scope, "short")
        .unwrap_err();
    assert_eq!(
        err.construct_error::<IamError>(),
        Some(&IamError::MaxSession(60))
    );
    assert!(
        err.to_string().starts_with("app-dev:deploy/short: "),
        "{err}"
    );
    let role = Role::new("deploy", Trust::ec2())
        .add(&mut scope, "role")
        .unwrap();
    let waits: Vec<String> = role
        .dependencies()
        .iter()
        .map(|r| r.target.to_string())
        .collect();
    assert_eq!(
        waits,
        [
            "aws_iam_role.deploy_role",
            "aws_iam_instance_profile.deploy_role_instance_profile"
        ]
    );
}

#[test]
fn access_answers_what_a_document_grants_on_one_resource() {
    use girder_iam::Access;
    let arn = |s: &str| Value::Literal(s.to_owned());
    let repository = Expr::raw("aws_ecr_repository.api.arn").cast::<String>();
    let document = PolicyDocument::new()
        .statement(Statement::allow(["ecr:BatchGetImage"]).on([Value::Expr(repository.clone())]))
        .statement(Statement::allow(["s3:Get*"]).on(["arn:aws:s3:::images/raw/*"]))
        .statement(
            Statement::allow(["ssm:SendCommand"])
                .on(["arn:aws:ec2:us-east-1:111111111111:instance/*"])
                .when(Condition::string_equals("ssm:resourceTag/team", "web")),
        )
        .statement(Statement::deny(["s3:GetObject"]).on(["arn:aws:s3:::images/raw/secret"]));
    // An expression matches itself only.
    assert_eq!(
        document.access("ecr:BatchGetImage", &Value::Expr(repository)),
        Access::Allowed
    );
    assert_eq!(
        document.access(
            "ecr:BatchGetImage",
            &Value::Expr(Expr::raw("aws_ecr_repository.other.arn").cast::<String>())
        ),
        Access::Denied
    );
    // Wildcards in actions (any case) and literal ARNs; an explicit Deny wins.
    assert_eq!(
        document.access("S3:GetObject", &arn("arn:aws:s3:::images/raw/a.png")),
        Access::Allowed
    );
    assert_eq!(
        document.access("s3:GetObject", &arn("arn:aws:s3:::images/processed/a.png")),
        Access::Denied
    );
    assert_eq!(
        document.access("s3:PutObject", &arn("arn:aws:s3:::images/raw/a.png")),
        Access::Denied
    );
    assert_eq!(
        document.access("s3:GetObject", &arn("arn:aws:s3:::images/raw/secret")),
        Access::Denied
    );
    // A conditional grant says under which conditions.
    assert_eq!(
        document.access(
            "ssm:SendCommand",
            &arn("arn:aws:ec2:us-east-1:111111111111:instance/i-1")
        ),
        Access::AllowedWhen(vec![vec![Condition::string_equals(
            "ssm:resourceTag/team",
            "web"
        )]])
    );
    assert_eq!(
        document.allowed_actions(),
        ["ecr:BatchGetImage", "s3:Get*", "ssm:SendCommand"]
    );
}

#[test]
fn web_identity_trust_names_the_audience_and_exactly_the_subjects() {
    let trust = Trust::web_identity(
        "arn:aws:iam::123456789012:oidc-provider/issuer.example.com/k3s",
        "https://issuer.example.com/k3s",
        "sts.amazonaws.com",
        [
            "system:serviceaccount:shop:api",
            "system:serviceaccount:shop:worker",
        ],
    );
    let json = literal(trust.document().render("x").unwrap());
    let statement = &json["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Principal"]["Federated"],
        "arn:aws:iam::123456789012:oidc-provider/issuer.example.com/k3s"
    );
    assert_eq!(
        statement["Condition"],
        json!({"StringEquals": {
            "issuer.example.com/k3s:aud": "sts.amazonaws.com",
            "issuer.example.com/k3s:sub": [
                "system:serviceaccount:shop:api",
                "system:serviceaccount:shop:worker",
            ],
        }})
    );
}
