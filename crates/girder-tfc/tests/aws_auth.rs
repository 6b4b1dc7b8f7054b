#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Dynamic AWS credentials: the OIDC provider, the plan and apply roles' trust pinned to
//! workspace and run phase, the workspace variables, what each role may do.

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::Partition;
use girder_iam::{Access, Condition, Statement};

use girder_tfc::{
    TFC_AWS_AUDIENCE, TfcAwsAuth, TfcError, TfcWorkspaceRoles, TfcWorkspaceRolesHandle,
};
use serde_json::{Value as Json, json};

const STATE_BUCKET: &str = "arn:aws:s3:::piksel-dev-data";

fn roles() -> (Template, TfcWorkspaceRolesHandle) {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let kubernetes = common::kubernetes(&mut scope, &project, "dev");
    let auth = TfcAwsAuth::new().add(&mut scope, "tfc-oidc").unwrap();
    let roles = TfcWorkspaceRoles::new(&auth, &kubernetes, Partition::Aws)
        .plan_statement(
            Statement::allow(["secretsmanager:GetSecretValue"])
                .on(["arn:aws:secretsmanager:eu-central-1:111122223333:secret:piksel-dev/*"]),
        )
        .apply_statement(
            Statement::allow(["s3:PutObject", "s3:DeleteObject"]).on([format!("{STATE_BUCKET}/*")]),
        )
        .apply_statement(Statement::allow(["s3:GetObject"]).on([format!("{STATE_BUCKET}/*")]))
        .add(&mut scope, "kubernetes-dev-aws")
        .unwrap();
    drop(scope);
    (Template::from_stack(stack).unwrap(), roles)
}

/// The provider's ARN as the roles' trust names it.
fn roles_provider_arn() -> Expr<String> {
    let mut stack = common::stack();
    TfcAwsAuth::new()
        .add(&mut stack.root(), "tfc-oidc")
        .unwrap()
        .arn()
}

fn sub(phase: &str) -> String {
    format!("organization:piksel:project:piksel:workspace:piksel-kubernetes-dev:run_phase:{phase}")
}

#[test]
fn the_account_trusts_terraform_cloud_for_its_aws_audience() {
    let (t, _) = roles();
    let provider = t.resource("aws_iam_openid_connect_provider", "tfc_oidc");
    assert_eq!(provider["url"], json!("https://app.terraform.io"));
    assert_eq!(provider["client_id_list"], json!([TFC_AWS_AUDIENCE]));
    assert_eq!(
        provider["thumbprint_list"],
        json!(["${data.tls_certificate.tfc_oidc_certificate.certificates[0].sha1_fingerprint}"])
    );
    assert_eq!(
        t.data_sources("tls_certificate"),
        vec![(
            "tfc_oidc_certificate",
            &json!({"url": "https://app.terraform.io"})
        )]
    );
}

#[test]
fn each_role_is_assumable_only_by_its_workspace_in_its_run_phase() {
    let (t, roles) = roles();
    for (trust, phase) in [(roles.plan_trust(), "plan"), (roles.apply_trust(), "apply")] {
        let statements = trust.document().statements();
        assert_eq!(statements.len(), 1, "{phase}");
        let statement = &statements[0];
        assert_eq!(
            statement.actions(),
            ["sts:AssumeRoleWithWebIdentity"],
            "{phase}"
        );
        assert_eq!(
            statement.principals(),
            [(
                "Federated".to_owned(),
                vec![Value::Expr(roles_provider_arn())]
            )]
        );
        assert_eq!(
            statement.conditions(),
            [
                Condition::string_equals("app.terraform.io:aud", TFC_AWS_AUDIENCE),
                Condition::string_like("app.terraform.io:sub", [sub(phase)]),
            ],
            "{phase}"
        );
    }
    // And what was rendered says the same.
    for (name, phase) in [
        ("kubernetes_dev_aws_plan", "plan"),
        ("kubernetes_dev_aws_apply", "apply"),
    ] {
        let role = t.resource("aws_iam_role", name);
        // jsonencode({...}) of the document, the provider's ARN being an expression.
        let trust = role["assume_role_policy"].as_str().unwrap();
        assert!(
            trust.contains("aws_iam_openid_connect_provider.tfc_oidc.arn"),
            "{trust}"
        );
        assert!(
            trust.contains(&format!("\"{}\"", sub(phase))),
            "{name}: {trust}"
        );
        let other = if phase == "plan" { "apply" } else { "plan" };
        assert!(!trust.contains(&sub(other)), "{name}: {trust}");
    }
    assert_eq!(
        t.resource("aws_iam_role", "kubernetes_dev_aws_plan")["name"],
        json!("tfc-piksel-kubernetes-dev-plan")
    );
}

#[test]
fn the_workspace_runs_with_the_roles_through_env_variables_and_no_key() {
    let (t, _) = roles();
    let mut variables: Vec<(String, Json)> = t
        .resources("tfe_variable")
        .into_iter()
        .map(|(_, v)| {
            assert_eq!(v["category"], json!("env"), "{v}");
            assert_eq!(
                v["workspace_id"],
                json!("${tfe_workspace.kubernetes_dev.id}")
            );
            (v["key"].as_str().unwrap().to_owned(), v["value"].clone())
        })
        .collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        variables,
        vec![
            (
                "TFC_AWS_APPLY_ROLE_ARN".to_owned(),
                json!("${aws_iam_role.kubernetes_dev_aws_apply.arn}")
            ),
            (
                "TFC_AWS_PLAN_ROLE_ARN".to_owned(),
                json!("${aws_iam_role.kubernetes_dev_aws_plan.arn}")
            ),
            ("TFC_AWS_PROVIDER_AUTH".to_owned(), json!("true")),
        ]
    );
    t.resource_count_is("aws_iam_access_key", 0);
    t.resource_count_is("aws_iam_user", 0);
}

#[test]
fn the_plan_role_reads_and_cannot_do_what_only_the_apply_role_can() {
    let (t, roles) = roles();
    let object = Value::from(format!("{STATE_BUCKET}/terraform.tfstate"));
    for action in ["s3:PutObject", "s3:DeleteObject"] {
        assert_eq!(
            roles.apply_policy().access(action, &object),
            Access::Allowed
        );
        assert_eq!(
            roles.plan_policy().access(action, &object),
            Access::Denied,
            "{action}"
        );
    }
    assert_eq!(
        roles.plan_policy().access(
            "secretsmanager:GetSecretValue",
            &Value::from(
                "arn:aws:secretsmanager:eu-central-1:111122223333:secret:piksel-dev/db-AbCdEf"
            )
        ),
        Access::Allowed
    );
    // ReadOnlyAccess on the plan role, nothing managed on the apply role.
    let attachments = t.resources("aws_iam_role_policy_attachment");
    assert_eq!(attachments.len(), 1);
    assert_eq!(
        attachments[0].1,
        &json!({
            "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "role": "${aws_iam_role.kubernetes_dev_aws_plan.name}"
        })
    );
}

#[test]
fn roles_without_apply_statements_or_with_long_names_are_refused() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let kubernetes = common::kubernetes(&mut scope, &project, "dev");
    let auth = TfcAwsAuth::new().add(&mut scope, "tfc-oidc").unwrap();
    let error = TfcWorkspaceRoles::new(&auth, &kubernetes, Partition::Aws)
        .add(&mut scope, "no-apply")
        .unwrap_err();
    assert_eq!(
        error.construct_error::<TfcError>(),
        Some(&TfcError::NoApplyStatements(
            "piksel-kubernetes-dev".to_owned()
        ))
    );
    let apply = Statement::allow(["s3:PutObject"]).on([format!("{STATE_BUCKET}/*")]);
    let error = TfcWorkspaceRoles::new(&auth, &kubernetes, Partition::Aws)
        .plan_without_read_only_access()
        .apply_statement(apply.clone())
        .add(&mut scope, "no-plan")
        .unwrap_err();
    assert_eq!(
        error.construct_error::<TfcError>(),
        Some(&TfcError::NoPlanAccess("piksel-kubernetes-dev".to_owned()))
    );
    let prefix = "p".repeat(60);
    let error = TfcWorkspaceRoles::new(&auth, &kubernetes, Partition::Aws)
        .role_name_prefix(&prefix)
        .apply_statement(apply)
        .add(&mut scope, "long")
        .unwrap_err();
    assert_eq!(
        error.construct_error::<TfcError>(),
        Some(&TfcError::RoleName(format!("{prefix}-plan")))
    );
}
