//! Construct behaviour: addresses, collisions, meta-arguments, overrides, variables,
//! providers and aspects, asserted on the synthesized Terraform.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::{Error, Stack};
use serde_json::json;

fn stack() -> Stack {
    common::aws_stack("net", "dev", Backend::local())
}

fn vpc_spec() -> ResourceSpec {
    common::vpc("10.0.0.0/16")
}

#[test]
fn construct_paths_give_readable_stable_addresses() {
    let mut stack = stack();
    let mut network = stack.scope("network").unwrap();
    let vpc = network
        .child("vpc")
        .unwrap()
        .add_default(vpc_spec())
        .unwrap();
    let subnet = network
        .add(
            "private-subnet-a",
            ResourceSpec::resource(
                "aws_subnet",
                &Body::new()
                    .set("vpc_id", vpc.id())
                    .set("cidr_block", "10.0.0.0/24"),
            ),
        )
        .unwrap();
    assert_eq!(vpc.address(), "aws_vpc.network_vpc");
    assert_eq!(subnet.address(), "aws_subnet.network_private_subnet_a");
    assert_eq!(subnet.path().to_string(), "network/private-subnet-a");

    let t = Template::from_stack(stack).unwrap();
    t.resource_count_is("aws_subnet", 1);
    t.has_resource_properties(
        "aws_subnet",
        &json!({ "vpc_id": "${aws_vpc.network_vpc.id}" }),
    );
}

#[test]
fn two_constructs_on_one_address_is_an_error_naming_both_paths() {
    let mut stack = stack();
    stack.scope("a-b").unwrap().add("vpc", vpc_spec()).unwrap();
    let err = stack
        .scope("a_b")
        .unwrap()
        .add("vpc", vpc_spec())
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::DuplicateAddress { .. }));
    assert!(message.contains("net-dev:a_b/vpc"), "{message}");
    assert!(message.contains("net-dev:a-b/vpc"), "{message}");
    assert!(message.contains("aws_vpc.a_b_vpc"), "{message}");
}

#[test]
fn same_path_twice_is_an_error_even_for_different_types() {
    let mut stack = stack();
    let mut root = stack.root();
    root.add("x", vpc_spec()).unwrap();
    let err = root
        .add("x", ResourceSpec::resource("aws_eip", &json!({})))
        .unwrap_err();
    assert!(err.to_string().contains("construct path"), "{err}");
}

#[test]
fn invalid_input_is_an_error_not_a_panic() {
    let mut stack = stack();
    let mut root = stack.root();
    assert!(root.add("", vpc_spec()).is_err());
    assert!(root.add("a/b", vpc_spec()).is_err());
    assert!(
        root.add("ok", ResourceSpec::resource("vpc", &json!({})))
            .is_err()
    );
    assert!(
        root.add("ok", ResourceSpec::resource("aws_vpc", &json!([1, 2])))
            .is_err()
    );
    assert!(
        root.add_default(vpc_spec()).is_err(),
        "root scope has no default name"
    );
    assert!(Stack::new("Bad Name", "dev", Backend::local()).is_err());
    assert!(Stack::new("ok", "", Backend::local()).is_err());
    assert!(
        stack
            .add_variable::<String>("count", Variable::new(VarType::String))
            .is_err()
    );
    assert!(stack.add_output("1x", Output::new(&"v")).is_err());
    assert!(stack.acknowledge("x", "rule", " ").is_err());
}

#[test]
fn reasons_written_into_the_output_are_one_line() {
    // `acknowledge` and `external_kube_object` checked only for blank reasons; a newline
    // went into manifest.json and the synth notes. Both now take them through `Reason`.
    let mut stack = stack();
    let err = stack
        .acknowledge("x", "rule", "two\nlines")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the reason for acknowledging rule: a reason is one line of text"),
        "{err}"
    );
    let err = stack.acknowledge("x", "rule", "").unwrap_err().to_string();
    assert!(err.contains("acknowledging rule needs a reason"), "{err}");
    let err = stack
        .external_kube_object("Secret", Some("shop"), "db", "made by\tthe chart")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the reason for external Secret \"db\": a reason is one line of text"),
        "{err}"
    );
    let err = stack
        .external_kube_object("Secret", Some("shop"), "db", " ")
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a reason (who creates it)"), "{err}");
    stack
        .external_kube_object("Secret", Some("shop"), "db", "made by the chart")
        .unwrap();
    stack
        .acknowledge("x", "rule", "accepted on purpose")
        .unwrap();
}

#[test]
fn meta_arguments_and_lifecycle_render() {
    let mut stack = stack();
    let west = stack
        .add_provider(
            ProviderConfig::new("aws")
                .alias("west")
                .with(&json!({ "region": "us-west-2" })),
        )
        .unwrap();
    let mut root = stack.root();
    let vpc = root.add("vpc", vpc_spec().provider(&west)).unwrap();
    root.add(
        "subnets",
        ResourceSpec::resource(
            "aws_subnet",
            &Body::new().set("vpc_id", vpc.id()).set(
                "cidr_block",
                fns::cidrsubnet("10.0.0.0/16", 8, Expr::count_index()),
            ),
        )
        .count(3)
        .depends_on(&vpc)
        .create_before_destroy()
        .ignore_changes(["tags"]),
    )
    .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let subnets = t.resource("aws_subnet", "subnets");
    assert_eq!(subnets["count"], json!(3));
    assert_eq!(subnets["depends_on"], json!(["aws_vpc.vpc"]));
    assert_eq!(
        subnets["cidr_block"],
        json!("${cidrsubnet(\"10.0.0.0/16\", 8, count.index)}")
    );
    assert_eq!(
        subnets["lifecycle"],
        json!({ "create_before_destroy": true, "ignore_changes": ["tags"] })
    );
    assert_eq!(t.resource("aws_vpc", "vpc")["provider"], json!("aws.west"));
    assert_eq!(t.terraform()["provider"]["aws"]["alias"], json!("west"));
}

#[test]
fn count_index_outside_a_counted_resource_is_an_error() {
    let mut stack = stack();
    stack
        .root()
        .add(
            "vpc",
            ResourceSpec::resource(
                "aws_vpc",
                &Body::new().set(
                    "cidr_block",
                    fns::cidrsubnet("10.0.0.0/8", 8, Expr::count_index()),
                ),
            ),
        )
        .unwrap();
    let err = Template::from_stack(stack).unwrap_err().to_string();
    assert!(
        err.contains("count.index") && err.contains("net-dev:vpc"),
        "{err}"
    );
}

#[test]
fn for_each_and_each_key() {
    let mut stack = stack();
    stack
        .root()
        .add(
            "zones",
            ResourceSpec::resource(
                "aws_route53_zone",
                &Body::new().set("name", Expr::each_key()),
            )
            .for_each(&json!({ "a.example.com": {}, "b.example.com": {} })),
        )
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let zones = t.resource("aws_route53_zone", "zones");
    assert_eq!(zones["name"], json!("${each.key}"));
    assert_eq!(
        zones["for_each"],
        json!({ "a.example.com": {}, "b.example.com": {} })
    );
}

#[test]
fn overrides_set_and_remove_json_paths() {
    let mut stack = stack();
    stack
        .root()
        .add(
            "vpc",
            vpc_spec()
                .override_at("tags.Team", json!("platform"))
                .override_at("lifecycle.ignore_changes", json!(["tags"]))
                .remove_at("cidr_block"),
        )
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("aws_vpc", "vpc"),
        &json!({ "tags": { "Team": "platform" }, "lifecycle": { "ignore_changes": ["tags"] } })
    );

    let mut bad = self::stack();
    bad.root()
        .add("vpc", vpc_spec().override_at("cidr_block.x", json!(1)))
        .unwrap();
    let err = Template::from_stack(bad).unwrap_err().to_string();
    assert!(
        err.contains("net-dev:vpc") && err.contains("cidr_block.x"),
        "{err}"
    );
}

#[test]
fn a_provider_nobody_required_is_an_error() {
    let mut stack = stack();
    stack
        .root()
        .add(
            "pw",
            ResourceSpec::resource("random_password", &json!({ "length": 32 })),
        )
        .unwrap();
    let err = Template::from_stack(stack).unwrap_err().to_string();
    assert!(
        err.contains("random") && err.contains("net-dev:pw"),
        "{err}"
    );
}

#[test]
fn variables_locals_outputs_moved_import_and_modules() {
    let mut stack = stack();
    let cidr: Expr<String> = stack
        .add_variable(
            "cidr",
            Variable::new(VarType::String)
                .default("10.0.0.0/16")
                .description("VPC range")
                .validation(
                    |v| fns::can(fns::cidrsubnet(v.cast::<String>(), 0, 0)),
                    "must be a CIDR",
                ),
        )
        .unwrap();
    let name = stack
        .add_local("name", Value::<String>::from("shop-${env}"))
        .unwrap();
    let mut root = stack.root();
    let vpc = root
        .add(
            "vpc",
            ResourceSpec::resource(
                "aws_vpc",
                &Body::new()
                    .set("cidr_block", cidr)
                    .set("tags", Body::new().set("Name", name)),
            ),
        )
        .unwrap();
    let module = root
        .add_module(
            "endpoints",
            ModuleSpec::new("terraform-aws-modules/vpc/aws//modules/vpc-endpoints")
                .version("6.0.1")
                .input("vpc_id", &vpc.id()),
        )
        .unwrap();
    stack.add_moved("aws_vpc.main", &vpc).unwrap();
    stack.add_import(&vpc, "vpc-0123").unwrap();
    stack
        .add_output(
            "endpoints",
            Output::new(&module.output::<Dynamic>("endpoints")).sensitive(),
        )
        .unwrap();
    assert!(stack.add_moved("not an address", &vpc).is_err());

    let t = Template::from_stack(stack).unwrap();
    let doc = t.terraform();
    assert_eq!(doc["variable"]["cidr"]["type"], json!("string"));
    assert_eq!(
        doc["variable"]["cidr"]["validation"][0]["condition"],
        json!("${can(cidrsubnet(var.cidr, 0, 0))}")
    );
    assert_eq!(doc["locals"]["name"], json!("shop-$${env}"));
    assert_eq!(
        t.resource("aws_vpc", "vpc")["tags"]["Name"],
        json!("${local.name}")
    );
    assert_eq!(
        doc["module"]["endpoints"]["vpc_id"],
        json!("${aws_vpc.vpc.id}")
    );
    assert_eq!(doc["module"]["endpoints"]["version"], json!("6.0.1"));
    assert_eq!(
        doc["moved"],
        json!([{ "from": "aws_vpc.main", "to": "aws_vpc.vpc" }])
    );
    assert_eq!(
        doc["import"],
        json!([{ "to": "aws_vpc.vpc", "id": "vpc-0123" }])
    );
    assert_eq!(
        t.output("endpoints"),
        Some(&json!({ "value": "${module.endpoints.endpoints}", "sensitive": true }))
    );
}

#[test]
fn backends_render_as_terraform_expects() {
    let doc = |backend: Backend| {
        let mut stack = Stack::new("app", "prod", backend).unwrap();
        stack.set_required_version(">= 1.10").unwrap();
        Template::from_stack(stack).unwrap().terraform()["terraform"].clone()
    };
    assert_eq!(
        doc(Backend::cloud("acme"))["cloud"],
        json!({ "organization": "acme", "workspaces": { "name": "app-prod" } })
    );
    assert_eq!(
        doc(Backend::s3("acme-state", "eu-west-1"))["backend"],
        json!({ "s3": { "bucket": "acme-state", "key": "app/prod/terraform.tfstate",
                        "region": "eu-west-1", "encrypt": true, "use_lockfile": true } })
    );
    assert_eq!(
        doc(Backend::local())["backend"],
        json!({ "local": { "path": "terraform.tfstate" } })
    );
}

#[test]
fn default_tags_merge_into_aws_providers_and_keep_explicit_ones() {
    let mut stack = stack();
    stack
        .add_provider(ProviderConfig::new("aws").with(&json!({
            "region": "eu-west-1",
            "default_tags": [{ "tags": { "Team": "data", "Project": "explicit" } }],
        })))
        .unwrap();
    stack.add_aspect(DefaultTags::new([
        ("Project", "piksel"),
        ("ManagedBy", "girder"),
    ]));
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.terraform()["provider"]["aws"]["default_tags"],
        json!([{ "tags": { "ManagedBy": "girder", "Project": "explicit", "Team": "data" } }])
    );
}

#[test]
fn policy_findings_stop_synth_unless_acknowledged_with_a_reason() {
    let build = |acknowledge: bool| {
        let mut stack = stack();
        stack.add_aspect(NoLiteralSecrets);
        stack
            .scope("db")
            .unwrap()
            .add(
                "instance",
                ResourceSpec::resource(
                    "aws_db_instance",
                    &json!({ "instance_class": "db.t4g.micro", "password": "hunter2" }),
                ),
            )
            .unwrap();
        if acknowledge {
            stack
                .acknowledge(
                    "db",
                    "no-literal-secrets",
                    "throwaway test database, rotated on first boot",
                )
                .unwrap();
        }
        let mut app = App::new();
        app.add_stack(stack).unwrap();
        app.synth()
    };
    let err = build(false).unwrap_err().to_string();
    assert!(
        err.contains("error[no-literal-secrets] net-dev:db/instance"),
        "{err}"
    );
    let assembly = build(true).unwrap();
    let tf = assembly
        .artifact("terraform/net-dev/main.tf.json")
        .unwrap()
        .text();
    assert!(tf.contains("Reason: throwaway test database"), "{tf}");
    let manifest = assembly.manifest();
    assert_eq!(
        manifest["stacks"][0]["acknowledged"][0]["rule"],
        json!("no-literal-secrets")
    );
}
