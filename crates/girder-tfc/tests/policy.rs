#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Policy checks: an OPA policy set with its policies, attached to the given workspaces.

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_tfc::{NO_PUBLIC_SSH_REGO, OpaPolicy, PolicySet, TfcError};
use serde_json::json;

#[test]
fn an_opa_policy_set_checks_the_given_workspaces() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let dev = common::kubernetes(&mut scope, &project, "dev");
    let prod = common::kubernetes(&mut scope, &project, "prod");
    let _set = PolicySet::new("piksel", "piksel-infrastructure")
        .description("Piksel's infrastructure policy checks")
        .policy(OpaPolicy::no_public_ssh())
        .policy(OpaPolicy::s3_public_access_block().advisory())
        .workspace(&dev)
        .workspace(&prod)
        .add(&mut scope, "policies")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("tfe_policy_set", "policies"),
        &json!({
            "name": "piksel-infrastructure",
            "organization": "piksel",
            "kind": "opa",
            "overridable": false,
            "policy_ids": [
                "${tfe_policy.policies_no_public_ssh.id}",
                "${tfe_policy.policies_s3_public_access_block.id}"
            ],
            "description": "Piksel's infrastructure policy checks"
        })
    );
    let ssh = t.resource("tfe_policy", "policies_no_public_ssh");
    assert_eq!(ssh["kind"], json!("opa"));
    assert_eq!(ssh["enforce_mode"], json!("mandatory"));
    assert_eq!(
        ssh["query"],
        json!("data.terraform.policies.no_public_ssh.deny")
    );
    assert_eq!(ssh["policy"], json!(NO_PUBLIC_SSH_REGO));
    assert_eq!(
        t.resource("tfe_policy", "policies_s3_public_access_block")["enforce_mode"],
        json!("advisory")
    );
    let mut attached: Vec<&str> = t
        .resources("tfe_workspace_policy_set")
        .into_iter()
        .map(|(_, a)| {
            assert_eq!(a["policy_set_id"], json!("${tfe_policy_set.policies.id}"));
            a["workspace_id"].as_str().unwrap()
        })
        .collect();
    attached.sort_unstable();
    assert_eq!(
        attached,
        [
            "${tfe_workspace.kubernetes_dev.id}",
            "${tfe_workspace.kubernetes_prod.id}"
        ]
    );
}

/// What `policy`'s query yields on HCP Terraform's input `{"plan": plan}`, evaluated by
/// regorus (an independent Rego interpreter): the addresses its messages start with.
fn denied(policy: &OpaPolicy, plan: serde_json::Value) -> Vec<String> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy(format!("{}.rego", policy.name()), policy.rego().to_owned())
        .unwrap();
    engine
        .set_input_json(&json!({ "plan": plan }).to_string())
        .unwrap();
    let result = engine.eval_rule(policy.query().to_owned()).unwrap();
    let messages: Vec<String> = serde_json::from_str(&result.to_json_str().unwrap()).unwrap();
    let mut addresses: Vec<String> = messages
        .iter()
        .map(|m| m.split(' ').next().unwrap().to_owned())
        .collect();
    addresses.sort();
    addresses
}

fn change(address: &str, after: serde_json::Value, actions: &[&str]) -> serde_json::Value {
    let rtype = address.split('.').next().unwrap();
    json!({"address": address, "type": rtype, "mode": "managed",
           "change": {"actions": actions, "after": after}})
}

#[test]
fn the_ssh_policy_denies_ssh_from_the_internet_in_every_kind_of_ingress_rule() {
    let create = &["create"];
    let plan = json!({"resource_changes": [
        change("aws_security_group.open", json!({"ingress": [
            {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": null}
        ]}), create),
        change("aws_security_group.internal", json!({"ingress": [
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]},
            {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}
        ]}), create),
        change("aws_security_group.replaced", json!({"ingress": [
            {"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}
        ]}), &["delete", "create"]),
        change("aws_security_group.gone", serde_json::Value::Null, &["delete"]),
        change("aws_security_group_rule.range", json!(
            {"type": "ingress", "protocol": "6", "from_port": 0, "to_port": 1024, "cidr_blocks": ["0.0.0.0/0"]}
        ), create),
        change("aws_security_group_rule.egress", json!(
            {"type": "egress", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}
        ), create),
        change("aws_vpc_security_group_ingress_rule.everything", json!(
            {"ip_protocol": "-1", "from_port": null, "to_port": null, "cidr_ipv4": null, "cidr_ipv6": "::/0"}
        ), create),
        change("aws_vpc_security_group_ingress_rule.https", json!(
            {"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}
        ), create),
    ]});
    assert_eq!(
        denied(&OpaPolicy::no_public_ssh(), plan),
        [
            "aws_security_group.open",
            "aws_security_group.replaced",
            "aws_security_group_rule.range",
            "aws_vpc_security_group_ingress_rule.everything",
        ]
    );
}

#[test]
fn the_s3_policy_denies_a_bucket_without_a_public_access_block() {
    let create = &["create"];
    let block = |acls: bool| {
        json!({"block_public_acls": acls, "ignore_public_acls": true,
                                    "block_public_policy": true, "restrict_public_buckets": true})
    };
    let configured = |name: &str| {
        json!({
            "address": format!("aws_s3_bucket_public_access_block.{name}"),
            "type": "aws_s3_bucket_public_access_block",
            "expressions": {"bucket": {"references": [format!("aws_s3_bucket.{name}.id"), format!("aws_s3_bucket.{name}")]}}
        })
    };
    let plan = json!({
        "resource_changes": [
            change("aws_s3_bucket.blocked", json!({"bucket": "a"}), create),
            change("aws_s3_bucket_public_access_block.blocked", block(true), create),
            change("aws_s3_bucket.naked", json!({"bucket": "b"}), create),
            change("aws_s3_bucket.weak", json!({"bucket": "c"}), create),
            change("aws_s3_bucket_public_access_block.weak", block(false), create),
            change("aws_s3_bucket.old", serde_json::Value::Null, &["delete"]),
        ],
        "configuration": {"root_module": {"resources": [configured("blocked"), configured("weak")]}}
    });
    assert_eq!(
        denied(&OpaPolicy::s3_public_access_block(), plan),
        ["aws_s3_bucket.naked", "aws_s3_bucket.weak"]
    );
}

fn refused(set: impl FnOnce(PolicySet, &girder_tfc::TfcWorkspaceHandle) -> PolicySet) -> TfcError {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let other = common::project(&mut scope, "other-org");
    let dev = common::kubernetes(&mut scope, &project, "dev");
    let foreign = common::kubernetes(&mut scope, &other, "prod");
    let error = set(PolicySet::new("piksel", "piksel-infrastructure"), &dev)
        .workspace(&foreign)
        .add(&mut scope, "policies")
        .unwrap_err();
    error.construct_error::<TfcError>().unwrap().clone()
}

#[test]
fn empty_duplicate_or_foreign_policy_sets_are_refused() {
    assert_eq!(
        refused(|set, _| set),
        TfcError::EmptyPolicySet {
            name: "piksel-infrastructure".to_owned(),
            missing: "policies"
        }
    );
    assert_eq!(
        refused(|set, dev| set
            .policy(OpaPolicy::no_public_ssh())
            .policy(OpaPolicy::no_public_ssh())
            .workspace(dev)),
        TfcError::DuplicatePolicy {
            set: "piksel-infrastructure".to_owned(),
            policy: "no-public-ssh".to_owned()
        }
    );
    assert_eq!(
        refused(|set, dev| set.policy(OpaPolicy::no_public_ssh()).workspace(dev)),
        TfcError::OtherOrganization {
            relation: "policy set",
            from: "piksel-infrastructure".to_owned(),
            from_organization: "piksel".to_owned(),
            to: "piksel-kubernetes-prod".to_owned(),
            to_organization: "other-org".to_owned(),
        }
    );
    assert_eq!(
        refused(|set, _| set.policy(OpaPolicy::new("no ssh", "", "package x", "data.x.deny"))),
        TfcError::PolicyName("no ssh".to_owned())
    );
}
