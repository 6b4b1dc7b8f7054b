//! The quickstart builds, synthesizes, and its binary writes the documented layout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use girder_core::App;
use girder_core::assertions::Template;
use serde_json::json;

fn assembly() -> girder_core::Assembly {
    let mut app = App::new();
    girder_example_quickstart::build(&mut app).unwrap();
    app.synth().unwrap()
}

#[test]
fn network_plans_two_subnets_in_the_vpc() {
    let network = Template::from_assembly(&assembly(), "network-dev").unwrap();
    network.resource_count_is("aws_subnet", 2);
    network.has_resource_properties(
        "aws_subnet",
        &json!({
            "vpc_id": "${aws_vpc.network_vpc.id}",
            "cidr_block": "${cidrsubnet(aws_vpc.network_vpc.cidr_block, 4, 1)}",
        }),
    );
    assert_eq!(
        network.resource("aws_vpc", "network_vpc")["lifecycle"],
        json!({ "prevent_destroy": true })
    );
    assert_eq!(
        network.terraform()["provider"]["aws"]["default_tags"][0]["tags"]["ManagedBy"],
        json!("girder")
    );
}

#[test]
fn service_reads_the_vpc_from_the_network_stack() {
    let assembly = assembly();
    let service = Template::from_assembly(&assembly, "service-dev").unwrap();
    service.has_resource_properties(
        "aws_security_group",
        &json!({ "vpc_id": "${data.tfe_outputs.network_dev.nonsensitive_values.vpc_id}" }),
    );
    assert_eq!(assembly.stacks()[1].depends_on, ["network-dev"]);
    let deployment = service.kube_object("Deployment", "web");
    assert_eq!(deployment["spec"]["replicas"], json!(2));
    assert_eq!(
        service.helm_values("cache").unwrap()["architecture"],
        json!("standalone")
    );
}

#[test]
fn the_binary_writes_the_output_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    for file in [
        "manifest.json",
        "terraform/network-dev/main.tf.json",
        "terraform/service-dev/main.tf.json",
        "kubernetes/service-dev/kustomization.yaml",
        "kubernetes/service-dev/web/kustomization.yaml",
        "kubernetes/service-dev/web/deployment-web.yaml",
        "helm/service-dev/cache.values.yaml",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
}
