#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! The VPC construct's defaults and errors, security group rules, and the output through
//! tfcheck when ../shared is present.

use std::path::{Path, PathBuf};

use girder_aws::aws;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::{ExposureError, LogRetentionError, Partition, ReasonError};
use girder_network::{
    CidrError, Connectable, FlowLogs, Ipv4Cidr, Nat, NetworkError, Port, SecurityGroup, Vpc,
};
use serde_json::json;

/// The typed error inside a construct error.
fn network_error(err: &girder_core::Error) -> &NetworkError {
    err.construct_error::<NetworkError>()
        .unwrap_or_else(|| panic!("not a NetworkError: {err}"))
}

fn stack() -> Stack {
    let mut stack = Stack::new("network", "dev", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack
        .add_provider(aws::Provider::new().region("us-east-1").into())
        .unwrap();
    stack
}

fn cidr(text: &str) -> Ipv4Cidr {
    text.parse().unwrap()
}

#[test]
fn the_default_vpc_has_two_zones_single_nat_endpoint_and_flow_logs() {
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    assert_eq!(
        vpc.public_subnet_cidrs(),
        [cidr("10.40.0.0/24"), cidr("10.40.1.0/24")]
    );
    assert_eq!(
        vpc.private_subnet_cidrs(),
        [cidr("10.40.2.0/24"), cidr("10.40.3.0/24")]
    );
    assert_eq!(vpc.id().to_terraform_string(), "${aws_vpc.network.id}");
    let t = Template::from_stack(stack).unwrap();
    t.resource_count_is("aws_vpc", 1);
    t.resource_count_is("aws_subnet", 4);
    t.resource_count_is("aws_nat_gateway", 1);
    t.resource_count_is("aws_eip", 1);
    t.resource_count_is("aws_route_table", 2);
    t.resource_count_is("aws_route", 2);
    t.resource_count_is("aws_route_table_association", 4);
    t.resource_count_is("aws_vpc_endpoint", 1);
    t.resource_count_is("aws_flow_log", 1);
    t.has_resource_properties(
        "aws_vpc",
        &json!({"cidr_block": "10.40.0.0/16", "enable_dns_hostnames": true, "enable_dns_support": true}),
    );
    let public = t.resource("aws_subnet", "network_public_a");
    assert_eq!(public["map_public_ip_on_launch"], false);
    assert_eq!(public["tags"]["kubernetes.io/role/elb"], "1");
    assert_eq!(
        public["availability_zone"],
        "${element(data.aws_availability_zones.network_zones.names, 0)}"
    );
    assert_eq!(
        t.resource("aws_route", "network_private_nat")["nat_gateway_id"],
        "${aws_nat_gateway.network_nat_a.id}"
    );
    assert_eq!(
        t.resource("aws_cloudwatch_log_group", "network_flow_logs")["retention_in_days"],
        14
    );
    let endpoint = t.resource("aws_vpc_endpoint", "network_s3_endpoint");
    assert_eq!(endpoint["vpc_endpoint_type"], "Gateway");
    assert_eq!(endpoint["route_table_ids"].as_array().unwrap().len(), 2);
}

#[test]
fn nat_per_zone_and_no_nat() {
    let mut stack = stack();
    let mut scope = stack.root();
    let _a = Vpc::new("a", cidr("10.1.0.0/16"))
        .availability_zones(3)
        .nat(Nat::PerAz)
        .add(&mut scope, "a")
        .unwrap();
    let _b = Vpc::new("b", cidr("10.2.0.0/16"))
        .nat(Nat::None)
        .flow_logs(None)
        .without_s3_endpoint()
        .add(&mut scope, "b")
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    t.resource_count_is("aws_nat_gateway", 3);
    // a: public + 3 private tables; b: public + 1 private table.
    t.resource_count_is("aws_route_table", 6);
    // a: public internet + 3 NAT routes; b: public internet only.
    t.resource_count_is("aws_route", 5);
    t.resource_count_is("aws_flow_log", 1);
    assert_eq!(
        t.resource("aws_route_table_association", "a_private_c_association")["route_table_id"],
        "${aws_route_table.a_private_c_routes.id}"
    );
}

#[test]
fn plans_that_cannot_work_are_refused() {
    let mut stack = stack();
    let mut scope = stack.root();
    let err = Vpc::new("tiny", cidr("10.0.0.0/24"))
        .add(&mut scope, "tiny")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::Subnets {
            kind: "public",
            vpc: "tiny".into(),
            cidr: cidr("10.0.0.0/24"),
            source: CidrError::Full {
                prefix: 24,
                vpc: "10.0.0.0/24".into(),
                planned: "10.0.0.0/24".into()
            }
        }
    );
    assert!(err.to_string().starts_with("network-dev:tiny: "), "{err}");
    let err = Vpc::new("x", cidr("10.0.0.0/16"))
        .availability_zones(7)
        .add(&mut scope, "x")
        .unwrap_err();
    assert_eq!(network_error(&err), &NetworkError::AvailabilityZones(7));
    let err = Vpc::new("y", cidr("10.0.0.0/16"))
        .flow_logs(Some(FlowLogs { retention_days: 13 }))
        .add(&mut scope, "y")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::LogRetention {
            what: "flow log",
            source: LogRetentionError(13)
        }
    );
    let _z = Vpc::new("z", cidr("10.0.0.0/16"))
        .flow_logs(Some(FlowLogs {
            retention_days: 3653,
        }))
        .add(&mut scope, "z")
        .unwrap();
    assert!("10.0.0.1/16".parse::<Ipv4Cidr>().is_err());
}

#[test]
fn security_group_rules_are_typed_and_named_by_intent() {
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("app", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let mut sg_scope = scope.child("security").unwrap();
    let alb = SecurityGroup::new(&vpc, "app-alb", "ALB in front of the API")
        .add(&mut sg_scope, "alb")
        .unwrap();
    let node = SecurityGroup::new(&vpc, "app-node", "K3s node")
        .add(&mut sg_scope, "node")
        .unwrap();
    // One peer type for groups and blocks: a CIDR is a peer.
    alb.connections()
        .allow_from(
            &mut sg_scope,
            &cidr("203.0.113.7/32"),
            Port::tcp(80),
            "Allowlisted client",
        )
        .unwrap();
    node.connections()
        .allow_from(
            &mut sg_scope,
            &alb,
            Port::tcp(30080),
            "ALB to the API node port",
        )
        .unwrap();
    alb.connections()
        .allow_to(
            &mut sg_scope,
            &node,
            Port::tcp(30080),
            "ALB to the API node port",
        )
        .unwrap();
    node.allow_all_egress(&mut sg_scope, "node-egress").unwrap();
    let none: &[Ipv4Cidr] = &[];
    let err = alb
        .connections()
        .allow_from(&mut sg_scope, none, Port::tcp(443), "x")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::EmptyAllowlist {
            port: "tcp-443".into()
        }
    );
    let err = alb
        .connections()
        .allow_from(&mut sg_scope, &node, Port::tcp(0), "x")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::PortRange { from: 0, to: 0 }
    );
    let err = alb
        .connections()
        .allow_from(&mut sg_scope, &node, Port::tcp(22), "")
        .unwrap_err();
    assert!(matches!(
        network_error(&err),
        NetworkError::Reason {
            source: ReasonError::Empty,
            ..
        }
    ));
    // A plain group serves no default port.
    let err = alb
        .connections()
        .allow_default_port_from(&mut sg_scope, &node, "x")
        .unwrap_err();
    assert_eq!(network_error(&err), &NetworkError::NoDefaultPort);
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_security_group",
        &json!({"name": "app-alb", "description": "ALB in front of the API"}),
    );
    let rule = t.resource(
        "aws_vpc_security_group_ingress_rule",
        "security_ingress_tcp_30080_from_security_alb",
    );
    assert_eq!(
        rule["referenced_security_group_id"],
        "${aws_security_group.security_alb.id}"
    );
    assert_eq!(rule["from_port"], 30080);
    let cidr_rule = t.resource(
        "aws_vpc_security_group_ingress_rule",
        "security_ingress_tcp_80_from_203_0_113_7_32",
    );
    assert_eq!(cidr_rule["cidr_ipv4"], "203.0.113.7/32");
}

#[test]
fn tfcheck_accepts_the_network() {
    let tfcheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("app", cidr("10.40.0.0/16"))
        .nat(Nat::PerAz)
        .add(&mut scope, "network")
        .unwrap();
    let alb = SecurityGroup::new(&vpc, "app-alb", "ALB")
        .add(&mut scope, "alb")
        .unwrap();
    alb.connections()
        .allow_from(
            &mut scope,
            &[cidr("203.0.113.0/24")][..],
            Port::tcp(80),
            "clients",
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-network");
    app.synth().unwrap().write(&out).unwrap();
    let output = std::process::Command::new(tfcheck)
        .arg(out.join("terraform"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && report.contains(" 0 problems"),
        "{report}"
    );
}

#[test]
fn the_alb_is_allowlisted_and_forwards_to_its_targets() {
    use girder_network::{Alb, Targets};
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let nodes = SecurityGroup::new(&vpc, "pixtools-dev-node", "K3s node")
        .add(&mut scope, "node")
        .unwrap();
    let alb = Alb::internet_facing(
        &vpc,
        "pixtools-dev",
        Targets::instances("pixtools-dev-api", 30080).health_check("/health"),
    )
    .allow([cidr("198.51.100.23/32")])
    .add(&mut scope, "alb")
    .unwrap();
    alb.allow_to_targets(&mut scope, &nodes).unwrap();
    assert_eq!(
        alb.dns_name().to_terraform_string(),
        "${aws_lb.alb.dns_name}"
    );
    let t = Template::from_stack(stack).unwrap();
    let lb = t.resource("aws_lb", "alb");
    assert_eq!(lb["internal"], false);
    assert_eq!(lb["drop_invalid_header_fields"], true);
    assert_eq!(
        lb["subnets"],
        json!([
            "${aws_subnet.network_public_a.id}",
            "${aws_subnet.network_public_b.id}"
        ])
    );
    t.has_resource_properties(
        "aws_lb_target_group",
        &json!({"port": 30080, "target_type": "instance", "health_check": [{"path": "/health", "matcher": "200"}]}),
    );
    t.has_resource_properties(
        "aws_lb_listener",
        &json!({"port": 80, "default_action": [{"type": "forward", "target_group_arn": "${aws_lb_target_group.alb_targets.arn}"}]}),
    );
    t.has_resource_properties(
        "aws_vpc_security_group_ingress_rule",
        &json!({"cidr_ipv4": "198.51.100.23/32", "from_port": 80}),
    );
    t.has_resource_properties(
        "aws_vpc_security_group_ingress_rule",
        &json!({"from_port": 30080, "referenced_security_group_id": "${aws_security_group.alb_security_group.id}"}),
    );
    // Both sides of the path: ingress on the targets, egress on the ALB.
    let egress = t.resource(
        "aws_vpc_security_group_egress_rule",
        "egress_tcp_30080_to_node",
    );
    assert_eq!(
        egress["security_group_id"],
        "${aws_security_group.alb_security_group.id}"
    );
    assert_eq!(
        egress["referenced_security_group_id"],
        "${aws_security_group.node.id}"
    );
}

#[test]
fn the_listener_allows_only_its_own_origin_and_hardens_responses() {
    use girder_network::{Alb, Cors, Targets};
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let _alb = Alb::internet_facing(&vpc, "web", Targets::instances("web", 30080))
        .allow([cidr("198.51.100.23/32")])
        .cors(Cors::same_origin())
        .hardened_headers()
        .add(&mut scope, "alb")
        .unwrap();
    let cases: [(Cors, NetworkError); 4] = [
        (
            Cors::same_origin().methods(["GET", "TRACE"]),
            NetworkError::CorsMethod("TRACE".into()),
        ),
        (
            Cors::same_origin().methods(Vec::<String>::new()),
            NetworkError::CorsNoMethods,
        ),
        (
            Cors::same_origin().headers(["*"]),
            NetworkError::CorsHeader("*".into()),
        ),
        (
            Cors::same_origin().max_age(90_000),
            NetworkError::CorsMaxAge(90_000),
        ),
    ];
    for (i, (cors, expected)) in cases.into_iter().enumerate() {
        let err = Alb::internet_facing(&vpc, "web", Targets::instances("web", 30080))
            .allow([cidr("198.51.100.23/32")])
            .cors(cors)
            .add(&mut scope, &format!("bad-{i}"))
            .unwrap_err();
        assert_eq!(network_error(&err), &expected);
        assert!(
            err.to_string()
                .starts_with(&format!("network-dev:bad-{i}:")),
            "{err}"
        );
    }
    let t = Template::from_stack(stack).unwrap();
    let listener = t.resource("aws_lb_listener", "alb_http");
    assert_eq!(
        listener["routing_http_response_access_control_allow_origin_header_value"],
        "${format(\"http://%s\", lower(aws_lb.alb.dns_name))}"
    );
    assert_eq!(
        listener["routing_http_response_access_control_allow_methods_header_value"],
        "GET,POST,OPTIONS"
    );
    assert_eq!(
        listener["routing_http_response_access_control_allow_headers_header_value"],
        "Content-Type"
    );
    assert_eq!(
        listener["routing_http_response_access_control_max_age_header_value"],
        "600"
    );
    assert_eq!(
        listener["routing_http_response_x_content_type_options_header_value"],
        "nosniff"
    );
    assert_eq!(
        listener["routing_http_response_x_frame_options_header_value"],
        "DENY"
    );
    assert_eq!(listener["routing_http_response_server_enabled"], false);
}

#[test]
fn access_logs_go_to_a_bucket_that_admits_the_regional_delivery_account() {
    use girder_network::{AccessLogs, Alb, Targets};
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let logs = AccessLogs::new(Partition::AwsUsGov, "web-logs", "alb");
    let statement = logs.delivery_statement(&mut scope, "delivery").unwrap();
    let policy = scope
        .add(
            "policy",
            girder_aws::aws::S3BucketPolicy::new(
                "web-logs",
                girder_iam::PolicyDocument::new()
                    .statement(statement)
                    .render("t")
                    .unwrap(),
            ),
        )
        .unwrap();
    // Ordered after anything `Dependable`: here the policy itself, in stacks the bucket
    // handle (whose dependencies are its policy).
    let _alb = Alb::internet_facing(&vpc, "web", Targets::instances("web", 30080))
        .allow([cidr("198.51.100.23/32")])
        .access_logs(logs.after(&policy).after(&policy))
        .add(&mut scope, "alb")
        .unwrap();
    for bad in ["/alb", "alb/", "AWSLogs", ""] {
        let err = AccessLogs::new(Partition::Aws, "web-logs", bad)
            .delivery_statement(&mut scope, "d2")
            .unwrap_err();
        assert_eq!(
            network_error(&err),
            &NetworkError::AccessLogPrefix(bad.into())
        );
    }
    let t = Template::from_stack(stack).unwrap();
    let lb = t.resource("aws_lb", "alb");
    assert_eq!(
        lb["access_logs"],
        json!([{"bucket": "web-logs", "prefix": "alb", "enabled": true}])
    );
    // AWS checks the bucket policy when logging is turned on.
    assert_eq!(lb["depends_on"], json!(["aws_s3_bucket_policy.policy"]));
    let policy = t.resource("aws_s3_bucket_policy", "policy")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    // The ARN is built from the stated partition, known at synth.
    assert!(
        policy.contains("data.aws_elb_service_account.delivery.arn")
            && policy.contains("\"arn:aws-us-gov:s3:::web-logs/alb/AWSLogs/*\""),
        "{policy}"
    );
}

#[test]
fn an_internet_facing_alb_needs_an_allowlist_or_a_reason() {
    use girder_network::{Alb, Targets};
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let err = Alb::internet_facing(&vpc, "web", Targets::ips("web", 8080))
        .add(&mut scope, "alb")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::Exposure {
            alb: "web".into(),
            source: ExposureError::EmptyAllowlist
        }
    );
    let _public = Alb::internet_facing(&vpc, "web", Targets::ips("web", 8080))
        .open_to_internet("public marketing site")
        .add(&mut scope, "public")
        .unwrap();
    // The reason is a `girder_core::Reason`: blank and multi-line reasons are refused.
    for (id, reason, source) in [
        ("blank", " ", ReasonError::Empty),
        (
            "two-lines",
            "public\nsite",
            ReasonError::ControlCharacter('\n'),
        ),
    ] {
        let err = Alb::internet_facing(&vpc, "web", Targets::ips("web", 8080))
            .open_to_internet(reason)
            .add(&mut scope, id)
            .unwrap_err();
        assert_eq!(
            network_error(&err),
            &NetworkError::Reason {
                what: "ALB web: the reason given to `.open_to_internet(reason)`".into(),
                source
            }
        );
    }
    let err = Alb::internal(
        &vpc,
        "a-name-that-is-far-too-long-for-aws",
        Targets::ips("x", 80),
    )
    .add(&mut scope, "long")
    .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::LoadBalancerName("a-name-that-is-far-too-long-for-aws".into())
    );
    // 0.0.0.0/0 in the allowlist is the open internet: it needs the reason too.
    let err = Alb::internet_facing(&vpc, "web", Targets::ips("web", 8080))
        .allow([cidr("203.0.113.0/24"), cidr("0.0.0.0/0")])
        .add(&mut scope, "everyone")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::Exposure {
            alb: "web".into(),
            source: ExposureError::AdmitsEveryone(cidr("0.0.0.0/0"))
        }
    );
    assert!(
        err.to_string().starts_with(
            "network-dev:everyone: internet-facing ALB web: the allowlist holds 0.0.0.0/0"
        ),
        "{err}"
    );
}

#[test]
fn vpc_blocks_aws_refuses_are_refused_with_the_path() {
    for (block, why) in [
        ("10.0.0.0/8", "AWS allows VPC prefixes /16 to /28, not /8"),
        ("0.0.0.0/0", "AWS allows VPC prefixes /16 to /28, not /0"),
        ("10.0.0.0/29", "not /29"),
        ("127.0.0.0/16", "loopback"),
    ] {
        let mut stack = stack();
        let mut scope = stack.root();
        let err = Vpc::new("big", cidr(block))
            .add(&mut scope, "big")
            .unwrap_err();
        match network_error(&err) {
            NetworkError::Cidr {
                vpc,
                source:
                    CidrError::Vpc {
                        vpc: block_text,
                        why: text,
                    },
            } => {
                assert_eq!((vpc.as_str(), block_text.as_str()), ("big", block));
                assert!(text.contains(why), "{text}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string().starts_with(&format!(
                "network-dev:big: VPC big: {block} cannot be a VPC block: "
            )),
            "{err}"
        );
    }
    let mut stack = stack();
    let mut scope = stack.root();
    let err = Vpc::new("small-subnets", cidr("10.0.0.0/16"))
        .subnet_prefixes(29, 24)
        .add(&mut scope, "small")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::Subnets {
            kind: "public",
            vpc: "small-subnets".into(),
            cidr: cidr("10.0.0.0/16"),
            source: CidrError::Prefix {
                prefix: 29,
                vpc: "10.0.0.0/16".into(),
                min: 16
            }
        }
    );
}

#[test]
fn private_zones_resolve_inside_the_vpc() {
    use girder_network::PrivateZone;
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("app", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let zone = PrivateZone::new(&vpc, "pixtools.internal")
        .add(&mut scope, "zone")
        .unwrap();
    assert_eq!(zone.domain(), "pixtools.internal");
    let name = zone
        .cname(
            &mut scope,
            "db-name",
            "db",
            Expr::lit("db.example.rds.amazonaws.com"),
        )
        .unwrap();
    assert_eq!(name, "db.pixtools.internal");
    // The zone opens its own scope: errors name its path.
    let err = PrivateZone::new(&vpc, "Bad_Domain")
        .add(&mut scope, "bad")
        .unwrap_err();
    assert_eq!(
        network_error(&err),
        &NetworkError::DomainName("Bad_Domain".into())
    );
    assert!(err.to_string().starts_with("network-dev:bad: "), "{err}");
    let t = Template::from_stack(stack).unwrap();
    t.has_resource_properties(
        "aws_route53_zone",
        &json!({"name": "pixtools.internal", "vpc": [{"vpc_id": "${aws_vpc.network.id}"}]}),
    );
    // Its own scope keeps the address `add(scope, id)` always gave it.
    assert_eq!(
        t.resource("aws_route53_zone", "zone")["name"],
        "pixtools.internal"
    );
    t.has_resource_properties(
        "aws_route53_record",
        &json!({"name": "db.pixtools.internal", "type": "CNAME", "ttl": 300}),
    );
}

#[test]
fn the_vpcs_default_security_group_admits_and_sends_nothing() {
    // A resource launched without a group of its own lands in the default group; AWS's
    // default admits the whole group and sends anywhere (CKV2_AWS_12).
    let mut stack = stack();
    let mut scope = stack.root();
    let _vpc = Vpc::new("pixtools-dev", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    let t = Template::from_stack(stack).unwrap();
    let group = t.resource(
        "aws_default_security_group",
        "network_default_security_group",
    );
    assert_eq!(group["vpc_id"], "${aws_vpc.network.id}");
    // Terraform adopts the group and removes every rule not written here: none is.
    assert!(group.get("ingress").is_none(), "{group}");
    assert!(group.get("egress").is_none(), "{group}");
    t.resource_count_is("aws_security_group_rule", 0);
}

#[test]
fn alb_deletion_protection_is_the_builders_choice() {
    use girder_network::{Alb, Targets};
    let mut stack = stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("pixtools-dev", cidr("10.40.0.0/16"))
        .add(&mut scope, "network")
        .unwrap();
    for (id, protected) in [("unprotected", false), ("protected", true)] {
        let mut alb = Alb::internet_facing(&vpc, id, Targets::instances(id, 30080))
            .allow([cidr("198.51.100.23/32")]);
        if protected {
            alb = alb.deletion_protection();
        }
        let _alb = alb.add(&mut scope, id).unwrap();
    }
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("aws_lb", "unprotected")["enable_deletion_protection"],
        false
    );
    assert_eq!(
        t.resource("aws_lb", "protected")["enable_deletion_protection"],
        true
    );
}
