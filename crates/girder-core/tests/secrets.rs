//! Secrets: sensitivity flows through cross-stack wiring (outputs are `sensitive`, reads
//! use `values`), declared outputs carrying a sensitive value must say so, and
//! `NoLiteralSecrets` follows literals by data flow into every argument holding a secret.
//! These tests use raw specs; girder-aws/tests/secrets.rs covers the generated types.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::terraform::SecretPaths;
use girder_core::{Body, Error, Stack};
use serde_json::json;

const RANDOM_PASSWORD: SecretPaths = SecretPaths {
    sensitive: &["result", "bcrypt_hash"],
    credentials: &[],
};

fn cloud_stack(name: &str) -> Stack {
    let mut stack = common::aws_stack(name, "prod", Backend::cloud("acme"));
    stack
        .require_provider(ProviderRequirement::new(
            "random",
            "hashicorp/random",
            "~> 3.7",
        ))
        .unwrap();
    stack
}

/// A consumer stack whose security group description reads `value`.
fn consumer(value: Expr<String>) -> Stack {
    let mut stack = cloud_stack("apps");
    stack
        .root()
        .add(
            "sg",
            ResourceSpec::resource("aws_security_group", &Body::new().set("description", value)),
        )
        .unwrap();
    stack
}

fn synth(stacks: Vec<Stack>) -> girder_core::Result<girder_core::Assembly> {
    let mut app = App::new();
    for stack in stacks {
        app.add_stack(stack).unwrap();
    }
    app.synth()
}

fn description(assembly: &girder_core::Assembly) -> serde_json::Value {
    let apps = Template::from_assembly(assembly, "apps-prod").unwrap();
    apps.resources("aws_security_group")[0].1["description"].clone()
}

#[test]
fn a_sensitive_variable_read_by_another_stack_is_a_sensitive_output() {
    let mut network = cloud_stack("network");
    let secret: Expr<String> = network
        .add_variable("db_password", Variable::new(VarType::String).sensitive())
        .unwrap();
    let assembly = synth(vec![network, consumer(secret)]).unwrap();
    let network = Template::from_assembly(&assembly, "network-prod").unwrap();
    let output = network.output("var_db_password").unwrap();
    assert_eq!(output["sensitive"], json!(true), "{output}");
    assert_eq!(
        description(&assembly),
        json!("${data.tfe_outputs.network_prod.values.var_db_password}")
    );
}

#[test]
fn a_provider_sensitive_attribute_read_by_another_stack_is_a_sensitive_output() {
    let mut network = cloud_stack("network");
    let password = network
        .root()
        .add(
            "db",
            ResourceSpec::resource("random_password", &json!({ "length": 24 }))
                .with_schema_secrets(RANDOM_PASSWORD),
        )
        .unwrap();
    // A raw `attr` read: core decides from the block's schema knowledge, not the getter.
    let assembly = synth(vec![network, consumer(password.attr("result"))]).unwrap();
    let network = Template::from_assembly(&assembly, "network-prod").unwrap();
    assert_eq!(
        network.output("random_password_db_result").unwrap()["sensitive"],
        json!(true)
    );
    assert_eq!(
        description(&assembly),
        json!("${data.tfe_outputs.network_prod.values.random_password_db_result}")
    );
}

#[test]
fn sensitivity_flows_through_locals_arguments_and_functions() {
    let mut network = cloud_stack("network");
    let secret: Expr<String> = network
        .add_variable("token", Variable::new(VarType::String).sensitive())
        .unwrap();
    // A local derived from the variable through a function, and a resource argument
    // holding it: both sensitive where they are read.
    let local: Expr<String> = network
        .add_local(
            "auth",
            Value::Expr(fns::format("Bearer %s", [secret.clone().any()])),
        )
        .unwrap();
    let tagged = network
        .root()
        .add(
            "param",
            ResourceSpec::resource(
                "aws_vpc",
                &Body::new().set("tags", Body::new().set("Token", secret)),
            ),
        )
        .unwrap();
    // Not sensitive: an argument holding a plain literal.
    let plain = network
        .root()
        .add(
            "plain",
            ResourceSpec::resource("aws_vpc", &json!({ "tags": { "Name": "x" } })),
        )
        .unwrap();
    let mut apps = consumer(local);
    apps.root()
        .add(
            "sg2",
            ResourceSpec::resource(
                "aws_security_group",
                &Body::new()
                    .set(
                        "description",
                        tagged.attr::<Map<String>>("tags").get("Token"),
                    )
                    .set("name", plain.attr::<Map<String>>("tags").get("Name")),
            ),
        )
        .unwrap();
    let assembly = synth(vec![network, apps]).unwrap();
    let network = Template::from_assembly(&assembly, "network-prod").unwrap();
    assert_eq!(
        network.output("local_auth").unwrap()["sensitive"],
        json!(true)
    );
    assert_eq!(
        network.output("aws_vpc_param_tags_token").unwrap()["sensitive"],
        json!(true)
    );
    assert!(
        network
            .output("aws_vpc_plain_tags_name")
            .unwrap()
            .get("sensitive")
            .is_none()
    );
    let apps = Template::from_assembly(&assembly, "apps-prod").unwrap();
    apps.has_resource_properties(
        "aws_security_group",
        &json!({
            "description": "${data.tfe_outputs.network_prod.values.aws_vpc_param_tags_token}",
            "name": "${data.tfe_outputs.network_prod.nonsensitive_values.aws_vpc_plain_tags_name}",
        }),
    );
}

#[test]
fn a_declared_output_carrying_a_sensitive_value_must_be_sensitive() {
    let build = |sensitive: bool| {
        let mut stack = cloud_stack("network");
        let password = stack
            .root()
            .add(
                "db",
                ResourceSpec::resource("random_password", &json!({ "length": 24 }))
                    .with_schema_secrets(RANDOM_PASSWORD),
            )
            .unwrap();
        let output = Output::new(&fns::base64encode(password.attr::<String>("result")));
        let output = if sensitive {
            output.sensitive()
        } else {
            output
        };
        stack.add_output("db_password", output).unwrap();
        synth(vec![stack])
    };
    let err = build(false).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Invalid { .. }), "{text}");
    assert!(
        text.contains("network-prod:output.db_password")
            && text.contains("random_password.db.result")
            && text.contains(".sensitive()"),
        "{text}"
    );
    let assembly = build(true).unwrap();
    let network = Template::from_assembly(&assembly, "network-prod").unwrap();
    assert_eq!(
        network.output("db_password").unwrap()["sensitive"],
        json!(true)
    );
}

#[test]
fn a_declared_output_reused_across_stacks_is_read_from_values_when_sensitive() {
    let mut network = cloud_stack("network");
    let secret: Expr<String> = network
        .add_variable("db_password", Variable::new(VarType::String).sensitive())
        .unwrap();
    network
        .add_output("password", Output::new(&secret).sensitive())
        .unwrap();
    let assembly = synth(vec![network, consumer(secret)]).unwrap();
    assert_eq!(
        description(&assembly),
        json!("${data.tfe_outputs.network_prod.values.password}")
    );
}

// ---------------------------------------------------------------- NoLiteralSecrets

/// Synthesize one stack with `NoLiteralSecrets`; the error text, if any.
fn literal_secret_findings(build: impl FnOnce(&mut Stack)) -> Option<String> {
    let mut stack = Stack::new("net", "dev", Backend::local()).unwrap();
    stack
        .require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0"))
        .unwrap();
    stack
        .require_provider(ProviderRequirement::new("tfe", "hashicorp/tfe", "~> 0.71"))
        .unwrap();
    stack.add_aspect(NoLiteralSecrets);
    build(&mut stack);
    synth(vec![stack]).err().map(|e| e.to_string())
}

fn db_with_password(password: impl serde::Serialize + 'static) -> impl FnOnce(&mut Stack) {
    move |stack| {
        stack
            .scope("db")
            .unwrap()
            .add(
                "instance",
                ResourceSpec::resource(
                    "aws_db_instance",
                    &Body::new()
                        .set("instance_class", "db.t4g.micro")
                        .set("password", password),
                ),
            )
            .unwrap();
    }
}

#[test]
fn a_literal_wrapped_in_sensitive_is_still_a_literal_secret() {
    let err = literal_secret_findings(db_with_password(Expr::lit("hunter2").sensitive())).unwrap();
    assert!(
        err.contains("error[no-literal-secrets] net-dev:db/instance") && err.contains("`password`"),
        "{err}"
    );
}

#[test]
fn a_function_or_template_of_literals_is_a_literal_secret() {
    for value in [
        fns::format("%s", [Expr::lit("hunter2").any()]),
        fns::base64encode("hunter2"),
        Expr::interpolate([Expr::lit("hun").any(), Expr::lit("ter2").any()]),
    ] {
        let err = literal_secret_findings(db_with_password(value.clone()));
        assert!(
            err.as_deref().is_some_and(|e| e.contains("`password`")),
            "{value:?}: {err:?}"
        );
    }
}

#[test]
fn literals_are_followed_through_locals_and_variable_defaults() {
    let err = literal_secret_findings(|stack| {
        let local: Expr<String> = stack
            .add_local("db_password", Value::Literal("hunter2".to_owned()))
            .unwrap();
        db_with_password(local)(stack);
    })
    .unwrap();
    assert!(err.contains("through local.db_password"), "{err}");

    let err = literal_secret_findings(|stack| {
        let var: Expr<String> = stack
            .add_variable(
                "db_password",
                Variable::new(VarType::String)
                    .sensitive()
                    .default("hunter2"),
            )
            .unwrap();
        db_with_password(var)(stack);
    })
    .unwrap();
    assert!(err.contains("through var.db_password"), "{err}");
}

#[test]
fn references_and_empty_literals_are_not_literal_secrets() {
    assert_eq!(literal_secret_findings(db_with_password("")), None);
    assert_eq!(
        literal_secret_findings(|stack| {
            let var: Expr<String> = stack
                .add_variable("db_password", Variable::new(VarType::String).sensitive())
                .unwrap();
            db_with_password(fns::format("%s", [var.any()]))(stack);
        }),
        None
    );
}

#[test]
fn schema_knowledge_marks_nested_secret_arguments_and_replaces_the_name_list() {
    const LISTENER: SecretPaths = SecretPaths {
        sensitive: &["default_action.authenticate_oidc.client_secret"],
        credentials: &[],
    };
    let listener = |secret: &str| {
        let secret = secret.to_owned();
        move |stack: &mut Stack| {
            stack
                .root()
                .add(
                    "https",
                    ResourceSpec::resource(
                        "aws_lb_listener",
                        &json!({
                            "load_balancer_arn": "arn",
                            "default_action": [{
                                "type": "authenticate-oidc",
                                "authenticate_oidc": [{ "client_id": "web", "client_secret": secret }],
                            }],
                        }),
                    )
                    .with_schema_secrets(LISTENER),
                )
                .unwrap();
        }
    };
    let err = literal_secret_findings(listener("s3cr3t")).unwrap();
    assert!(
        err.contains("`default_action.authenticate_oidc.client_secret`"),
        "{err}"
    );
    assert_eq!(literal_secret_findings(listener("")), None);
    // With schema knowledge a `token` the schema does not mark is not a secret.
    assert_eq!(
        literal_secret_findings(|stack| {
            stack
                .root()
                .add(
                    "tmpl",
                    ResourceSpec::resource(
                        "aws_launch_template",
                        &json!({ "metadata_options": [{ "token": "required" }] }),
                    )
                    .with_schema_secrets(SecretPaths::NONE),
                )
                .unwrap();
        }),
        None
    );
}

#[test]
fn a_raw_elasticache_auth_token_is_a_literal_secret() {
    let err = literal_secret_findings(|stack| {
        stack
            .root()
            .add(
                "redis",
                ResourceSpec::resource(
                    "aws_elasticache_replication_group",
                    &json!({ "replication_group_id": "r", "description": "r", "auth_token": "0123456789abcdef" }),
                ),
            )
            .unwrap();
    })
    .unwrap();
    assert!(err.contains("`auth_token`"), "{err}");
}

#[test]
fn an_ssm_secure_string_value_is_a_literal_secret_and_a_string_one_is_not() {
    let parameter = |kind: &'static str| {
        move |stack: &mut Stack| {
            stack
                .root()
                .add(
                    "param",
                    ResourceSpec::resource(
                        "aws_ssm_parameter",
                        &json!({ "name": "/app/x", "type": kind, "value": "hunter2" }),
                    ),
                )
                .unwrap();
        }
    };
    let err = literal_secret_findings(parameter("SecureString")).unwrap();
    assert!(err.contains("aws_ssm_parameter sets `value`"), "{err}");
    assert_eq!(literal_secret_findings(parameter("String")), None);
}

#[test]
fn a_literal_provider_token_is_a_literal_secret() {
    let err = literal_secret_findings(|stack| {
        stack
            .add_provider(ProviderConfig::new("tfe").with(&json!({ "token": "abc.atlasv1.def" })))
            .unwrap();
    })
    .unwrap();
    assert!(
        err.contains("net-dev:provider/tfe")
            && err.contains("the tfe provider configuration sets `token`"),
        "{err}"
    );
}

#[test]
fn a_kubernetes_secret_with_data_is_refused_wherever_it_is_written() {
    let secret = |key: &str| {
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": "db", "namespace": "default" },
            key: { "password": "aHVudGVyMg==" },
        })
    };
    for key in ["stringData", "data"] {
        let object = secret(key);
        let err = literal_secret_findings(|stack| {
            stack.root().add_kube_object("app", &object).unwrap();
        })
        .unwrap();
        assert!(
            err.contains(&format!("`{key}.password`")) && err.contains("ExternalSecret"),
            "{err}"
        );
        // The GitOps layout and a kubernetes_manifest resource are other ways in.
        let err = literal_secret_findings(|stack| {
            stack.add_gitops_object("clusters/dev", &object).unwrap();
        })
        .unwrap();
        assert!(err.contains(&format!("`{key}.password`")), "{err}");
        let err = literal_secret_findings(|stack| {
            stack
                .root()
                .add(
                    "secret",
                    ResourceSpec::resource("kubernetes_manifest", &json!({ "manifest": object })),
                )
                .unwrap();
        })
        .unwrap();
        assert!(err.contains(&format!("`manifest.{key}.password`")), "{err}");
    }
    // A Secret without data (filled in the cluster) is fine.
    let empty = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "token", "namespace": "default" },
        "type": "kubernetes.io/service-account-token",
    });
    assert_eq!(
        literal_secret_findings(|stack| {
            stack.add_gitops_object("clusters/dev", &empty).unwrap();
        }),
        None
    );
}

#[test]
fn values_shared_many_times_are_checked_without_blowing_up() {
    // 24 locals, each a pair of the one before: 2^24 paths to the root value.
    let build = |stack: &mut Stack, root: Value<String>| -> Expr<Dynamic> {
        let mut previous: Expr<Dynamic> = stack.add_local("l0", root).unwrap().any();
        for i in 1..24 {
            previous = stack
                .add_local(
                    &format!("l{i}"),
                    Value::Expr(fns::list([previous.clone(), previous]).any()),
                )
                .unwrap();
        }
        previous
    };
    let started = std::time::Instant::now();
    // No sensitive value anywhere: every path is explored once.
    let mut network = cloud_stack("network");
    let shared = build(&mut network, Value::Literal("plain".to_owned()));
    network.add_output("shared", Output::new(&shared)).unwrap();
    synth(vec![network]).unwrap();
    // A literal secret reached through every path.
    let found = literal_secret_findings(|stack| {
        let shared = build(stack, Value::Literal("hunter2".to_owned()));
        db_with_password(shared)(stack);
    })
    .unwrap();
    assert!(found.contains("through local.l"), "{found}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
