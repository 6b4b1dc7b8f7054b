#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Who approves and how the repository is read: an approvers team from the identity
//! provider with approve-only rights, and a workspace reading GitHub through Terraform
//! Cloud's GitHub App.

mod common;

use girder_aws::tfe;
use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_tfc::{TeamAccess, TfcError, TfcTeam, TfcWorkspace, VcsConnection, WorkspaceAccess};

#[test]
fn approvers_from_the_identity_provider_may_approve_runs_and_nothing_else() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let github = scope
        .add(
            "github",
            tfe::DataGithubAppInstallation::new().name("piksel"),
        )
        .unwrap();
    let ws = TfcWorkspace::new(&project, "piksel-infra-prod")
        .vcs(VcsConnection::github_app("piksel/piksel-infra", &github).branch("main"))
        .add(&mut scope, "infra")
        .unwrap();
    let team = TfcTeam::new("piksel", "piksel-prod-approvers")
        .sso_team("piksel-prod-approvers")
        .add(&mut scope, "approvers")
        .unwrap();
    TeamAccess::new(&team, &ws, WorkspaceAccess::ApproveRuns)
        .add(&mut scope, "approve-infra")
        .unwrap();
    TeamAccess::new(&team, &ws, WorkspaceAccess::Read)
        .add(&mut scope, "read-infra")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    let repo = &t.resource("tfe_workspace", "infra")["vcs_repo"][0];
    assert_eq!(
        repo["github_app_installation_id"],
        "${data.tfe_github_app_installation.github.id}"
    );
    assert!(repo.get("oauth_token_id").is_none());
    assert_eq!(
        t.resource("tfe_team", "approvers")["sso_team_id"],
        "piksel-prod-approvers"
    );
    let approve = t.resource("tfe_team_access", "approve_infra");
    assert!(approve.get("access").is_none());
    let permissions = &approve["permissions"][0];
    assert_eq!(permissions["runs"], "apply");
    assert_eq!(permissions["variables"], "read");
    assert_eq!(permissions["state_versions"], "read-outputs");
    assert_eq!(permissions["sentinel_mocks"], "none");
    assert_eq!(permissions["workspace_locking"], false);
    assert_eq!(permissions["run_tasks"], false);
    // A fixed permission set stays one.
    assert_eq!(
        t.resource("tfe_team_access", "read_infra")["access"],
        "read"
    );
}

#[test]
fn an_sso_team_id_with_template_syntax_is_refused() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    for (i, id) in ["", "${var.group}"].into_iter().enumerate() {
        let error = TfcTeam::new("piksel", "approvers")
            .sso_team(id)
            .add(&mut scope, &format!("team{i}"))
            .unwrap_err();
        assert_eq!(
            error.construct_error::<TfcError>().cloned(),
            Some(TfcError::SsoTeamId(id.into()))
        );
    }
}
