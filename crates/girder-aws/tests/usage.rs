#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! What stack authors rely on from the generated types: typed handles from `Scope::add`,
//! getters that render the right Terraform references (nested blocks included), literals
//! and expressions mixed in lists and maps, meta-arguments through `into_spec`, renamed
//! keyword arguments, list-of-one blocks, provider blocks and requirements.

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::terraform::IntoResourceSpec;
use serde_json::json;

fn stack() -> Stack {
    let mut stack = Stack::new("network", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("eu-west-1").into())
        .unwrap();
    stack
}

#[test]
fn handles_are_typed_and_getters_render_references() {
    let mut stack = stack();
    let mut network = stack.scope("network").unwrap();
    let vpc: aws::VpcHandle = network
        .add("vpc", aws::Vpc::new().cidr_block("10.0.0.0/16"))
        .unwrap();
    assert_eq!(vpc.as_ref().address(), "aws_vpc.network_vpc");
    assert_eq!(vpc.id().to_terraform_string(), "${aws_vpc.network_vpc.id}");
    assert_eq!(
        vpc.arn().to_terraform_string(),
        "${aws_vpc.network_vpc.arn}"
    );

    let cluster = network
        .add(
            "eks",
            aws::EksCluster::new(
                "platform",
                "arn:aws:iam::1:role/eks",
                aws::eks_cluster::VpcConfig::new([vpc.id()]),
            ),
        )
        .unwrap();
    let issuer = cluster.identity().first().oidc().first().issuer();
    assert_eq!(
        issuer.to_terraform_string(),
        "${aws_eks_cluster.network_eks.identity[0].oidc[0].issuer}"
    );
    let group = network
        .add("web", aws::SecurityGroup::new().vpc_id(vpc.id()))
        .unwrap();
    let first_port = group.ingress().to_list().first().from_port();
    assert_eq!(
        first_port.to_terraform_string(),
        "${tolist(aws_security_group.network_web.ingress)[0].from_port}"
    );
}

#[test]
fn arguments_mix_literals_and_expressions_and_keep_schema_names() {
    let mut stack = stack();
    let mut network = stack.scope("network").unwrap();
    let vpc = network
        .add("vpc", aws::Vpc::new().cidr_block("10.0.0.0/16"))
        .unwrap();
    let zones = network
        .add(
            "zones",
            aws::DataAvailabilityZones::new().state("available"),
        )
        .unwrap();
    network
        .add(
            "private-a",
            aws::Subnet::new(vpc.id())
                .cidr_block(fns::cidrsubnet(vpc.cidr_block(), 8, 1))
                .availability_zone(zones.names().get(0))
                .tags([("Name", "private-a"), ("tier", "private")]),
        )
        .unwrap();
    let forward = aws::lb_listener::DefaultAction::new("forward").target_group_arn("arn:tg");
    network
        .add("https", aws::LbListener::new("arn:lb", [forward]).port(443))
        .unwrap();
    network
        .add(
            "launch",
            aws::LaunchTemplate::new().metadata_options(
                aws::launch_template::MetadataOptions::new().http_tokens("required"),
            ),
        )
        .unwrap();
    let template = Template::from_stack(stack).unwrap();
    template.has_resource_properties(
        "aws_subnet",
        &json!({
            "vpc_id": "${aws_vpc.network_vpc.id}",
            "cidr_block": "${cidrsubnet(aws_vpc.network_vpc.cidr_block, 8, 1)}",
            "availability_zone": "${data.aws_availability_zones.network_zones.names[0]}",
            "tags": {"Name": "private-a", "tier": "private"}
        }),
    );
    // `type` is a Rust keyword: the field is `type_`, the key stays `type`; a list block
    // is a JSON array even with one item.
    template.has_resource_properties(
        "aws_lb_listener",
        &json!({"port": 443, "default_action": [{"type": "forward", "target_group_arn": "arn:tg"}]}),
    );
    template.has_resource_properties(
        "aws_launch_template",
        &json!({"metadata_options": [{"http_tokens": "required"}]}),
    );
}

#[test]
fn meta_arguments_work_on_generated_types() {
    let mut stack = stack();
    let mut network = stack.scope("network").unwrap();
    let igw = network.add("igw", aws::InternetGateway::new()).unwrap();
    let eips = network
        .add(
            "nat-ip",
            aws::Eip::new()
                .domain("vpc")
                .into_spec()
                .count(2)
                .depends_on(&igw)
                .prevent_destroy(),
        )
        .unwrap();
    assert_eq!(
        eips.public_ip().to_terraform_string(),
        "${aws_eip.network_nat_ip.public_ip}"
    );
    let template = Template::from_stack(stack).unwrap();
    let eip = template.resource("aws_eip", "network_nat_ip");
    assert_eq!(eip["count"], 2);
    assert_eq!(
        eip["depends_on"],
        json!(["aws_internet_gateway.network_igw"])
    );
    assert_eq!(eip["lifecycle"]["prevent_destroy"], true);
}

#[test]
fn providers_carry_their_generated_version_and_configuration() {
    let requirement = aws::requirement();
    assert_eq!(requirement.source, "hashicorp/aws");
    assert_eq!(requirement.version, "~> 6.25");
    assert_eq!(aws::VERSION, "6.25.0");
    let mut stack = stack();
    stack
        .add_provider(
            ProviderConfig::from(
                aws::Provider::new()
                    .region("us-east-1")
                    .default_tags(aws::provider::DefaultTags::new().tags([("team", "platform")])),
            )
            .alias("us_east_1"),
        )
        .unwrap();
    let template = Template::from_stack(stack).unwrap();
    let providers = &template.terraform()["provider"]["aws"];
    assert_eq!(providers[0]["region"], "eu-west-1");
    assert_eq!(providers[1]["alias"], "us_east_1");
    assert_eq!(
        providers[1]["default_tags"],
        json!([{"tags": {"team": "platform"}}])
    );
}

#[test]
fn tags_shaped_like_girder_internals_are_just_tags() {
    // A tag key equal to girder's old expression marker used to render `"tags": null`,
    // and a tag value holding template syntax must stay text.
    let mut stack = stack();
    stack
        .scope("network")
        .unwrap()
        .add(
            "vpc",
            aws::Vpc::new().cidr_block("10.0.0.0/16").tags([
                ("$girder:expr", "null"),
                ("note", "${file(\"/etc/passwd\")}"),
            ]),
        )
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("aws_vpc", "network_vpc")["tags"],
        json!({ "$girder:expr": "null", "note": "$${file(\"/etc/passwd\")}" })
    );
}
