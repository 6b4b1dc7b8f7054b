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

#[test]
fn the_ssh_policy_reads_every_kind_of_ingress_rule_girder_and_the_provider_write() {
    for needle in [
        "package terraform.policies.no_public_ssh",
        "\"aws_security_group\"",
        "\"aws_security_group_rule\"",
        "\"aws_vpc_security_group_ingress_rule\"",
        "\"0.0.0.0/0\", \"::/0\"",
        "input.plan.resource_changes",
    ] {
        assert!(NO_PUBLIC_SSH_REGO.contains(needle), "{needle}");
    }
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
