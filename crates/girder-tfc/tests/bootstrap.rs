#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! A whole Piksel-shaped bootstrap (infra and Kubernetes workspaces for dev, staging and
//! prod, run triggers, state shares, AWS roles, the policy set), checked by tfcheck and
//! planned by real Terraform through tfplan when ../shared/tools is beside the project.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::Partition;
use girder_iam::Statement;
use girder_tfc::{
    OpaPolicy, PolicySet, RunTrigger, TfcAwsAuth, TfcWorkspace, TfcWorkspaceRoles, VcsConnection,
};

fn bootstrap() -> Stack {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let auth = TfcAwsAuth::new().add(&mut scope, "tfc-oidc").unwrap();
    let mut policies = PolicySet::new("piksel", "piksel-infrastructure")
        .policy(OpaPolicy::no_public_ssh())
        .policy(OpaPolicy::s3_public_access_block());
    for env in ["dev", "staging", "prod"] {
        let kubernetes = common::kubernetes(&mut scope, &project, env);
        let mut infra = TfcWorkspace::new(&project, format!("piksel-infra-{env}"))
            .working_directory(format!("environments/{env}"))
            .vcs(VcsConnection::new("piksel-org/piksel-infra", "ot-abc123").branch("main"))
            .trigger_patterns([
                format!("environments/{env}/**/*"),
                "modules/**/*".to_owned(),
            ])
            .shares_state_with(&kubernetes);
        if env == "dev" {
            infra = infra.auto_apply();
        }
        let infra = infra.add(&mut scope, &format!("infra-{env}")).unwrap();
        RunTrigger::new(&infra, &kubernetes)
            .add(&mut scope, &format!("infra-to-kubernetes-{env}"))
            .unwrap();
        for ws in [&infra, &kubernetes] {
            let _roles = TfcWorkspaceRoles::new(&auth, ws, Partition::Aws)
                .apply_statement(
                    Statement::allow(["ec2:CreateVpc", "ec2:DeleteVpc"])
                        .on(["arn:aws:ec2:eu-central-1:111122223333:vpc/*"]),
                )
                .add(&mut scope, &format!("{}-aws", ws.name()))
                .unwrap();
            policies = policies.workspace(ws);
        }
    }
    let _policies = policies.add(&mut scope, "policies").unwrap();
    drop(scope);
    stack
}

#[test]
fn the_bootstrap_has_six_workspaces_each_with_two_roles() {
    let t = Template::from_stack(bootstrap()).unwrap();
    t.resource_count_is("tfe_workspace", 6);
    t.resource_count_is("tfe_workspace_settings", 6);
    t.resource_count_is("tfe_run_trigger", 3);
    t.resource_count_is("aws_iam_role", 12);
    t.resource_count_is("tfe_variable", 18);
    t.resource_count_is("tfe_workspace_policy_set", 6);
    t.resource_count_is("aws_iam_openid_connect_provider", 1);
    let auto: Vec<&str> = t
        .resources("tfe_workspace")
        .into_iter()
        .filter(|(_, w)| w["auto_apply"] == serde_json::json!(true))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(auto, ["kubernetes_dev", "infra_dev"]);
}

fn tool(name: &str) -> Option<PathBuf> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../../shared/tools/{name}/{name}"));
    path.is_file().then_some(path)
}

fn synth(dir: &str) -> PathBuf {
    let mut app = App::new();
    app.add_stack(bootstrap()).unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
    app.synth().unwrap().write(&out).unwrap();
    out.join("terraform")
}

#[test]
fn tfcheck_accepts_the_bootstrap() {
    let Some(tfcheck) = tool("tfcheck") else {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    };
    let output = Command::new(tfcheck)
        .arg(synth("girder-tfc-check"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && report.contains(" 0 problems"),
        "{report}"
    );
}

#[test]
fn terraform_plans_the_bootstrap() {
    let Some(tfplan) = tool("tfplan") else {
        eprintln!("skipped: ../shared/tools/tfplan is not beside this clone");
        return;
    };
    let output = Command::new(tfplan)
        .arg(synth("girder-tfc-plan"))
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "tfplan failed:\n{report}");
    assert!(report.contains("ok "), "{report}");
}
