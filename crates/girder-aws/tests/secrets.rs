#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Secrets with the generated types: what the provider schema marks sensitive travels as
//! sensitive across stacks (and real Terraform plans the result), and `NoLiteralSecrets`
//! finds literals in every argument the schema marks, nested blocks and provider
//! configurations included.

use std::path::Path;
use std::process::Command;

use girder_aws::{aws, kubernetes, random, tfe};
use girder_core::Assembly;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use serde_json::json;

/// Stack `secrets` keeps a generated password and a sensitive variable; stack `app`
/// stores both in SSM parameters, reading them across stacks from Terraform Cloud.
fn two_stack_app() -> Assembly {
    let mut secrets = Stack::new("secrets", "dev", Backend::cloud("acme")).unwrap();
    secrets.require_provider(aws::requirement()).unwrap();
    secrets.require_provider(random::requirement()).unwrap();
    let password = secrets
        .root()
        .add("db", random::Password::new(32).special(false))
        .unwrap();
    let api_key: Expr<String> = secrets
        .add_variable(
            "api_key",
            Variable::new(VarType::String)
                .sensitive()
                .description("The partner API key"),
        )
        .unwrap();

    let mut app = Stack::new("app", "dev", Backend::cloud("acme")).unwrap();
    app.require_provider(aws::requirement()).unwrap();
    app.add_provider(aws::Provider::new().region("eu-west-1").into())
        .unwrap();
    let mut scope = app.scope("config").unwrap();
    scope
        .add(
            "db-password",
            aws::SsmParameter::new("/app/db_password", "SecureString").value(password.result()),
        )
        .unwrap();
    scope
        .add(
            "api-key",
            aws::SsmParameter::new("/app/api_key", "SecureString").value(api_key),
        )
        .unwrap();
    // A raw read of the same attribute resolves to the same (sensitive) output.
    scope
        .add(
            "db-password-copy",
            aws::SsmParameter::new("/app/db_password_copy", "SecureString")
                .value(password.as_ref().attr::<String>("result")),
        )
        .unwrap();

    let mut girder_app = App::new();
    girder_app.add_stack(secrets).unwrap();
    girder_app.add_stack(app).unwrap();
    girder_app.synth().unwrap()
}

#[test]
fn provider_sensitive_attributes_and_sensitive_variables_cross_stacks_as_sensitive() {
    let assembly = two_stack_app();
    let secrets = Template::from_assembly(&assembly, "secrets-dev").unwrap();
    for name in ["random_password_db_result", "var_api_key"] {
        let output = secrets.output(name).unwrap();
        assert_eq!(output["sensitive"], json!(true), "{name}: {output}");
    }
    let app = Template::from_assembly(&assembly, "app-dev").unwrap();
    app.has_resource_properties(
        "aws_ssm_parameter",
        &json!({ "name": "/app/db_password",
                 "value": "${data.tfe_outputs.secrets_dev.values.random_password_db_result}" }),
    );
    app.has_resource_properties(
        "aws_ssm_parameter",
        &json!({ "name": "/app/db_password_copy",
                 "value": "${data.tfe_outputs.secrets_dev.values.random_password_db_result}" }),
    );
    app.has_resource_properties(
        "aws_ssm_parameter",
        &json!({ "name": "/app/api_key",
                 "value": "${data.tfe_outputs.secrets_dev.values.var_api_key}" }),
    );
}

/// The checker beside the project: `../shared/tools/tfplan/tfplan`.
fn tfplan() -> Option<std::path::PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfplan/tfplan");
    path.is_file().then_some(path)
}

#[test]
fn terraform_plans_the_two_stack_app() {
    let Some(tfplan) = tfplan() else {
        eprintln!(
            "skipped: ../shared/tools/tfplan/tfplan is not beside the project, so real \
             Terraform cannot plan the two-stack app here"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    two_stack_app().write(&out).unwrap();
    let result = Command::new(&tfplan)
        .arg(out.join("terraform"))
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(result.status.success(), "tfplan failed:\n{report}");
    assert!(
        report.contains("ok ") && report.contains("secrets-dev") && report.contains("app-dev"),
        "{report}"
    );
}

// ---------------------------------------------------------------- NoLiteralSecrets

fn stack() -> Stack {
    let mut stack = Stack::new("data", "dev", Backend::local()).unwrap();
    for requirement in [
        aws::requirement(),
        tfe::requirement(),
        kubernetes::requirement(),
    ] {
        stack.require_provider(requirement).unwrap();
    }
    stack.add_aspect(NoLiteralSecrets);
    stack
}

fn findings(stack: Stack) -> String {
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    match app.synth() {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn literal_passwords_are_found_through_wrappers_and_functions() {
    for password in [
        Expr::lit("hunter2").sensitive(),
        fns::format("%s", [Expr::lit("hunter2").any()]),
        fns::base64encode(Expr::lit("hunter2")),
    ] {
        let mut stack = stack();
        stack
            .scope("db")
            .unwrap()
            .add(
                "instance",
                aws::DbInstance::new("db.t4g.micro").password(password.clone()),
            )
            .unwrap();
        let found = findings(stack);
        assert!(
            found.contains("error[no-literal-secrets] data-dev:db/instance")
                && found.contains("aws_db_instance sets `password`"),
            "{password:?}: {found}"
        );
    }
}

#[test]
fn every_schema_marked_argument_is_checked() {
    let mut stack = stack();
    let mut root = stack.root();
    root.add(
        "redis",
        aws::ElasticacheReplicationGroup::new("cache", "cache").auth_token("0123456789abcdef"),
    )
    .unwrap();
    root.add(
        "secure",
        aws::SsmParameter::new("/app/token", "SecureString").value("hunter2"),
    )
    .unwrap();
    root.add(
        "https",
        aws::LbListener::new(
            "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/1",
            [
                aws::lb_listener::DefaultAction::new("authenticate-oidc").authenticate_oidc(
                    aws::lb_listener::DefaultActionAuthenticateOidc::new(
                        "https://idp/authorize",
                        "web",
                        "s3cr3t",
                        "https://idp",
                        "https://idp/token",
                        "https://idp/userinfo",
                    ),
                ),
            ],
        ),
    )
    .unwrap();
    root.add(
        "secret",
        kubernetes::SecretV1::new(kubernetes::secret_v1::Metadata::new().name("db"))
            .data([("password", "hunter2")]),
    )
    .unwrap();
    root.add(
        "var",
        tfe::Variable::new("env", "TFE_TOKEN")
            .value("abc")
            .sensitive(true),
    )
    .unwrap();
    stack
        .add_provider(tfe::Provider::new().token("abc.atlasv1.def").into())
        .unwrap();
    let found = findings(stack);
    for expected in [
        "data-dev:redis: aws_elasticache_replication_group sets `auth_token`",
        "data-dev:secure: aws_ssm_parameter sets `value`",
        "data-dev:https: aws_lb_listener sets `default_action.authenticate_oidc.client_secret`",
        "data-dev:secret: kubernetes_secret_v1 sets `data.password`",
        "data-dev:var: tfe_variable sets `value`",
        "data-dev:provider/tfe: the tfe provider configuration sets `token`",
    ] {
        assert!(
            found.contains(expected),
            "missing {expected:?} in:\n{found}"
        );
    }
}

#[test]
fn configuration_values_the_schema_marks_sensitive_are_not_secrets() {
    let mut stack = stack();
    let mut root = stack.root();
    // An SSM `String` parameter and a non-sensitive workspace variable hold configuration.
    root.add(
        "url",
        aws::SsmParameter::new("/app/redis_url", "String").value("redis://cache:6379"),
    )
    .unwrap();
    root.add(
        "region",
        tfe::Variable::new("env", "AWS_REGION").value("eu-west-1"),
    )
    .unwrap();
    // A token the schema does not mark (IMDSv2's `http_tokens`) is not a secret.
    root.add(
        "node",
        aws::LaunchTemplate::new()
            .metadata_options(aws::launch_template::MetadataOptions::new().http_tokens("required")),
    )
    .unwrap();
    assert_eq!(findings(stack), "");
}
