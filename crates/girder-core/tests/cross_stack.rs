//! References between stacks: outputs added to the producer, reads added to the consumer,
//! dependency order in the manifest, cycles rejected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::{Error, Stack};
use serde_json::json;

fn producer(backend: Backend) -> (Stack, ResourceHandle) {
    let mut stack = common::aws_stack("network", "prod", backend);
    let vpc = stack.root().add("vpc", common::vpc("10.0.0.0/16")).unwrap();
    (stack, vpc)
}

fn consumer(name: &str, backend: Backend, vpc_id: Expr<String>) -> Stack {
    let mut stack = common::aws_stack(name, "prod", backend);
    stack
        .root()
        .add(
            "sg",
            ResourceSpec::resource("aws_security_group", &Body::new().set("vpc_id", vpc_id)),
        )
        .unwrap();
    stack
}

#[test]
fn terraform_cloud_stacks_read_through_tfe_outputs() {
    let (network, vpc) = producer(Backend::cloud("acme"));
    let mut app = App::new();
    // Added consumer first: the manifest must still list the producer first.
    app.add_stack(consumer("apps", Backend::cloud("acme"), vpc.id()))
        .unwrap();
    app.add_stack(network).unwrap();
    let assembly = app.synth().unwrap();

    let apps = Template::from_assembly(&assembly, "apps-prod").unwrap();
    apps.has_resource_properties(
        "aws_security_group",
        &json!({ "vpc_id": "${data.tfe_outputs.network_prod.nonsensitive_values.aws_vpc_vpc_id}" }),
    );
    assert_eq!(
        apps.data_sources("tfe_outputs"),
        vec![(
            "network_prod",
            &json!({ "organization": "acme", "workspace": "network-prod" })
        )]
    );
    assert_eq!(
        apps.terraform()["terraform"]["required_providers"]["tfe"]["source"],
        json!("hashicorp/tfe")
    );
    let network = Template::from_assembly(&assembly, "network-prod").unwrap();
    assert_eq!(
        network.output("aws_vpc_vpc_id").unwrap()["value"],
        json!("${aws_vpc.vpc.id}")
    );

    let manifest = assembly.manifest();
    assert_eq!(manifest["stacks"][0]["id"], json!("network-prod"));
    assert_eq!(manifest["stacks"][1]["depends_on"], json!(["network-prod"]));
}

#[test]
fn s3_and_local_stacks_read_through_terraform_remote_state() {
    for (backend, expected) in [
        (
            Backend::s3("acme-state", "eu-west-1"),
            json!({ "backend": "s3", "config": { "bucket": "acme-state",
                    "key": "network/prod/terraform.tfstate", "region": "eu-west-1" } }),
        ),
        (
            Backend::local(),
            json!({ "backend": "local", "config": { "path": "../network-prod/terraform.tfstate" } }),
        ),
    ] {
        let (network, vpc) = producer(backend);
        let mut app = App::new();
        app.add_stack(network).unwrap();
        app.add_stack(consumer("apps", Backend::local(), vpc.id()))
            .unwrap();
        let apps = Template::from_assembly(&app.synth().unwrap(), "apps-prod").unwrap();
        assert_eq!(
            apps.data_sources("terraform_remote_state"),
            vec![("network_prod", &expected)]
        );
        apps.has_resource_properties(
            "aws_security_group",
            &json!({ "vpc_id": "${data.terraform_remote_state.network_prod.outputs.aws_vpc_vpc_id}" }),
        );
        assert!(
            apps.terraform()["terraform"]["required_providers"]
                .get("tfe")
                .is_none()
        );
    }
}

#[test]
fn sensitive_values_travel_as_sensitive_outputs() {
    let (network, vpc) = producer(Backend::cloud("acme"));
    let mut app = App::new();
    app.add_stack(network).unwrap();
    app.add_stack(consumer(
        "apps",
        Backend::cloud("acme"),
        vpc.attr::<String>("arn").sensitive(),
    ))
    .unwrap();
    let assembly = app.synth().unwrap();
    let network = Template::from_assembly(&assembly, "network-prod").unwrap();
    assert_eq!(
        network.output("aws_vpc_vpc_arn").unwrap()["sensitive"],
        json!(true)
    );
    let apps = Template::from_assembly(&assembly, "apps-prod").unwrap();
    apps.has_resource_properties(
        "aws_security_group",
        &json!({ "vpc_id": "${data.tfe_outputs.network_prod.values.aws_vpc_vpc_arn}" }),
    );
}

#[test]
fn a_stack_can_be_deployed_after_one_it_does_not_read() {
    // The stack holding another's state bucket: nothing is read, but it goes first.
    let state = Stack::new("state", "dev", Backend::local()).unwrap();
    let mut main = Stack::new("main", "dev", Backend::local()).unwrap();
    main.deploy_after("state-dev");
    main.deploy_after("state-dev");
    let mut app = App::new();
    // Added before what it follows: the manifest still orders it after.
    app.add_stack(main).unwrap();
    app.add_stack(state).unwrap();
    let assembly = app.synth().unwrap();
    let manifest = assembly.manifest();
    assert_eq!(manifest["stacks"][0]["id"], json!("state-dev"));
    assert_eq!(manifest["stacks"][1]["id"], json!("main-dev"));
    assert_eq!(manifest["stacks"][1]["depends_on"], json!(["state-dev"]));
    assert_eq!(manifest["stacks"][0]["depends_on"], json!([]));
    // Nothing is read: no remote state in main.
    let main = Template::from_assembly(&assembly, "main-dev").unwrap();
    assert!(main.data_sources("terraform_remote_state").is_empty());

    // A stack that is not in the app is an error naming both.
    let mut lonely = Stack::new("main", "dev", Backend::local()).unwrap();
    lonely.deploy_after("state-prod");
    let mut app = App::new();
    app.add_stack(lonely).unwrap();
    match app.synth() {
        Err(Error::UnknownStack {
            consumer, producer, ..
        }) => assert_eq!(
            (consumer.as_str(), producer.as_str()),
            ("main-dev", "state-prod")
        ),
        other => panic!("expected an unknown stack, got {other:?}"),
    }

    // Two stacks after each other: a cycle.
    let mut a = Stack::new("a", "dev", Backend::local()).unwrap();
    let mut b = Stack::new("b", "dev", Backend::local()).unwrap();
    a.deploy_after("b-dev");
    b.deploy_after("a-dev");
    let mut app = App::new();
    app.add_stack(a).unwrap();
    app.add_stack(b).unwrap();
    assert!(matches!(app.synth(), Err(Error::StackCycle { .. })));
}

#[test]
fn a_cycle_between_stacks_is_an_error_listing_it() {
    let (mut a, vpc_a) = producer(Backend::local());
    let b = consumer("b", Backend::local(), vpc_a.id());
    // a reads b back.
    let mut b = b;
    let sg = b
        .root()
        .add(
            "sg2",
            ResourceSpec::resource("aws_security_group", &json!({})),
        )
        .unwrap();
    a.root()
        .add(
            "rule",
            ResourceSpec::resource(
                "aws_vpc_security_group_ingress_rule",
                &Body::new().set("security_group_id", sg.id()),
            ),
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(a).unwrap();
    app.add_stack(b).unwrap();
    match app.synth() {
        Err(Error::StackCycle { cycle }) => {
            assert_eq!(cycle, ["network-prod", "b-prod", "network-prod"]);
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn a_reference_into_a_stack_missing_from_the_app_is_an_error() {
    let (_network, vpc) = producer(Backend::local());
    let mut app = App::new();
    app.add_stack(consumer("apps", Backend::local(), vpc.id()))
        .unwrap();
    let err = app.synth().unwrap_err().to_string();
    assert!(
        err.contains("network-prod") && err.contains("not part of this app"),
        "{err}"
    );
}

#[test]
fn depends_on_across_stacks_is_rejected_where_it_is_written() {
    let (_network, vpc) = producer(Backend::local());
    let mut other = Stack::new("other", "prod", Backend::local()).unwrap();
    let err = other
        .root()
        .add(
            "x",
            ResourceSpec::resource("aws_eip", &json!({})).depends_on(&vpc),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("other-prod:x") && err.contains("network-prod"),
        "{err}"
    );
}
