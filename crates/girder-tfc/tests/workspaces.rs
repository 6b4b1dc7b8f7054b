#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Projects, workspaces, state sharing and run triggers: resources, properties, refusals.

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_tfc::{
    RunTrigger, TERRAFORM_VERSION, TfcError, TfcWorkspace, TfcWorkspaceHandle, VcsConnection,
};
use serde_json::json;

fn refusal(error: girder_core::Error) -> TfcError {
    error
        .construct_error::<TfcError>()
        .unwrap_or_else(|| panic!("not a TfcError: {error}"))
        .clone()
}

/// infra-dev shares its state with kubernetes-dev and triggers it.
fn piksel_dev() -> (Template, TfcWorkspaceHandle, TfcWorkspaceHandle) {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let kubernetes = common::kubernetes(&mut scope, &project, "dev");
    let staging_k8s = common::kubernetes(&mut scope, &project, "staging");
    let infra = TfcWorkspace::new(&project, "piksel-infra-dev")
        .description("Piksel AWS base, dev")
        .working_directory("environments/dev")
        .vcs(VcsConnection::new("piksel-org/piksel-infra", "ot-abc123").branch("main"))
        .trigger_prefixes(["modules"])
        .auto_apply()
        .shares_state_with(&kubernetes)
        .add(&mut scope, "infra-dev")
        .unwrap();
    RunTrigger::new(&infra, &kubernetes)
        .add(&mut scope, "infra-to-kubernetes-dev")
        .unwrap();
    drop(staging_k8s);
    drop(scope);
    (Template::from_stack(stack).unwrap(), infra, kubernetes)
}

#[test]
fn a_workspace_has_its_directory_repository_triggers_and_pinned_terraform() {
    let (t, _, _) = piksel_dev();
    t.has_resource_properties(
        "tfe_project",
        &json!({"name": "piksel", "organization": "piksel"}),
    );
    let infra = t.resource("tfe_workspace", "infra_dev");
    assert_eq!(infra["name"], json!("piksel-infra-dev"));
    assert_eq!(infra["organization"], json!("piksel"));
    assert_eq!(
        infra["project_id"],
        json!("${tfe_project.project_piksel.id}")
    );
    assert_eq!(infra["working_directory"], json!("environments/dev"));
    assert_eq!(infra["terraform_version"], json!(TERRAFORM_VERSION));
    assert_eq!(infra["file_triggers_enabled"], json!(true));
    assert_eq!(infra["trigger_prefixes"], json!(["modules"]));
    assert!(infra.get("trigger_patterns").is_none());
    assert_eq!(
        infra["vcs_repo"],
        json!([{"identifier": "piksel-org/piksel-infra", "oauth_token_id": "ot-abc123", "branch": "main"}])
    );
    let k8s = t.resource("tfe_workspace", "kubernetes_dev");
    assert_eq!(
        k8s["trigger_patterns"],
        json!(["environments/dev/**/*", "modules/**/*"])
    );
}

#[test]
fn auto_apply_is_off_unless_asked() {
    let (t, infra, _) = piksel_dev();
    assert!(infra.auto_applies());
    let dev = t.resource("tfe_workspace", "infra_dev");
    assert_eq!(dev["auto_apply"], json!(true));
    assert_eq!(dev["auto_apply_run_trigger"], json!(true));
    let staging = t.resource("tfe_workspace", "kubernetes_staging");
    assert_eq!(staging["auto_apply"], json!(false));
    assert_eq!(staging["auto_apply_run_trigger"], json!(false));
}

#[test]
fn state_is_shared_only_with_the_workspaces_that_read_it() {
    let (t, _, _) = piksel_dev();
    for (_, workspace) in t.resources("tfe_workspace") {
        assert!(
            workspace.get("global_remote_state").is_none(),
            "{workspace}"
        );
        assert!(
            workspace.get("remote_state_consumer_ids").is_none(),
            "{workspace}"
        );
    }
    let settings = t.resources("tfe_workspace_settings");
    assert_eq!(settings.len(), 3, "one per workspace");
    for (_, s) in &settings {
        assert_eq!(s["global_remote_state"], json!(false), "{s}");
    }
    let infra = t.resource("tfe_workspace_settings", "infra_dev_settings");
    assert_eq!(
        infra["workspace_id"],
        json!("${tfe_workspace.infra_dev.id}")
    );
    assert_eq!(
        infra["remote_state_consumer_ids"],
        json!(["${tfe_workspace.kubernetes_dev.id}"])
    );
    let k8s = t.resource("tfe_workspace_settings", "kubernetes_dev_settings");
    assert_eq!(k8s["remote_state_consumer_ids"], json!([]));
}

#[test]
fn the_kubernetes_layer_runs_after_infra_applies() {
    let (t, _, _) = piksel_dev();
    assert_eq!(
        t.resource("tfe_run_trigger", "infra_to_kubernetes_dev"),
        &json!({
            "sourceable_id": "${tfe_workspace.infra_dev.id}",
            "workspace_id": "${tfe_workspace.kubernetes_dev.id}"
        })
    );
}

#[test]
fn an_oauth_client_of_the_stack_gives_its_token_id() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let github = scope
        .add(
            "github",
            girder_aws::tfe::OauthClient::new(
                "https://api.github.com",
                "https://github.com",
                "github",
            )
            .organization("piksel"),
        )
        .unwrap();
    let _prod = TfcWorkspace::new(&project, "piksel-infra-prod")
        .vcs(VcsConnection::oauth_client(
            "piksel-org/piksel-infra",
            &github,
        ))
        .add(&mut scope, "infra-prod")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    assert_eq!(
        t.resource("tfe_workspace", "infra_prod")["vcs_repo"][0]["oauth_token_id"],
        json!("${tfe_oauth_client.github.oauth_token_id}")
    );
}

fn refused(
    build: impl FnOnce(&mut Scope<'_>, &girder_tfc::TfcProjectHandle) -> girder_core::Result<()>,
) -> TfcError {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    refusal(build(&mut scope, &project).unwrap_err())
}

#[test]
fn names_terraform_cloud_refuses_are_refused() {
    for name in [
        "",
        "piksel infra",
        "piksel/infra",
        "piksel.infra",
        &"a".repeat(91),
    ] {
        let error =
            refused(|scope, project| TfcWorkspace::new(project, name).add(scope, "ws").map(drop));
        assert_eq!(error, TfcError::WorkspaceName(name.to_owned()));
    }
    let long_ok = "a".repeat(90);
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let _ws = TfcWorkspace::new(&project, long_ok)
        .add(&mut scope, "ws")
        .unwrap();

    let mut stack = common::stack();
    let error = girder_tfc::TfcProject::new("piksel", "p")
        .add(&mut stack.root(), "project")
        .unwrap_err();
    assert_eq!(refusal(error), TfcError::ProjectName("p".to_owned()));
    let error = girder_tfc::TfcProject::new("piksel org", "piksel")
        .add(&mut stack.root(), "project-2")
        .unwrap_err();
    assert_eq!(
        refusal(error),
        TfcError::OrganizationName("piksel org".to_owned())
    );
}

#[test]
fn paths_outside_the_repository_are_refused() {
    for (what, path) in [
        ("working directory", "/environments/dev"),
        ("working directory", "../piksel-infra/environments/dev"),
        ("trigger pattern", "/etc/**"),
        ("trigger pattern", "environments/../../x/**"),
        ("trigger prefix", ".."),
    ] {
        let error = refused(|scope, project| {
            let ws = TfcWorkspace::new(project, "piksel-infra-dev");
            let ws = match what {
                "working directory" => ws.working_directory(path),
                "trigger pattern" => ws.trigger_patterns([path]),
                _ => ws.trigger_prefixes([path]),
            };
            ws.add(scope, "ws").map(drop)
        });
        assert_eq!(
            error,
            TfcError::PathOutsideRepository {
                what,
                path: path.to_owned()
            }
        );
    }
}

#[test]
fn patterns_and_prefixes_together_are_refused() {
    let error = refused(|scope, project| {
        TfcWorkspace::new(project, "piksel-infra-dev")
            .trigger_patterns(["modules/**"])
            .trigger_prefixes(["modules"])
            .add(scope, "ws")
            .map(drop)
    });
    assert_eq!(
        error,
        TfcError::TriggerPatternsAndPrefixes("piksel-infra-dev".to_owned())
    );
}

#[test]
fn a_terraform_constraint_instead_of_a_release_is_refused() {
    let error = refused(|scope, project| {
        TfcWorkspace::new(project, "piksel-infra-dev")
            .terraform_version("~> 1.11")
            .add(scope, "ws")
            .map(drop)
    });
    assert_eq!(error, TfcError::TerraformVersion("~> 1.11".to_owned()));
}

#[test]
fn a_repository_not_owner_slash_name_is_refused() {
    for repository in ["piksel-infra", "piksel-org/", "a/b/c", "../x"] {
        let error = refused(|scope, project| {
            TfcWorkspace::new(project, "piksel-infra-dev")
                .vcs(VcsConnection::new(repository, "ot-abc123"))
                .add(scope, "ws")
                .map(drop)
        });
        assert_eq!(error, TfcError::Repository(repository.to_owned()));
    }
}

#[test]
fn sharing_state_or_triggering_across_organizations_is_refused() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let piksel = common::project(&mut scope, "piksel");
    let other = common::project(&mut scope, "other-org");
    let foreign = common::kubernetes(&mut scope, &other, "dev");
    let error = TfcWorkspace::new(&piksel, "piksel-infra-dev")
        .shares_state_with(&foreign)
        .add(&mut scope, "infra-dev")
        .unwrap_err();
    assert_eq!(
        refusal(error),
        TfcError::OtherOrganization {
            relation: "state share",
            from: "piksel-infra-dev".to_owned(),
            from_organization: "piksel".to_owned(),
            to: "piksel-kubernetes-dev".to_owned(),
            to_organization: "other-org".to_owned(),
        }
    );
    let infra = TfcWorkspace::new(&piksel, "piksel-infra-dev")
        .add(&mut scope, "infra-dev-2")
        .unwrap();
    let error = RunTrigger::new(&infra, &foreign)
        .add(&mut scope, "trigger")
        .unwrap_err();
    assert!(matches!(
        refusal(error),
        TfcError::OtherOrganization {
            relation: "run trigger",
            ..
        }
    ));
    let error = RunTrigger::new(&infra, &infra)
        .add(&mut scope, "self-trigger")
        .unwrap_err();
    assert_eq!(
        refusal(error),
        TfcError::SameWorkspace("piksel-infra-dev".to_owned(), "run trigger")
    );
}

#[test]
fn a_stack_keeps_its_state_in_the_workspace_named_after_it() {
    let (_, infra, kubernetes) = piksel_dev();
    let producer = Stack::new("piksel-infra", "dev", infra.backend()).unwrap();
    let mut producer = producer;
    producer
        .require_provider(girder_aws::aws::requirement())
        .unwrap();
    let vpc = producer
        .root()
        .add("vpc", girder_aws::aws::Vpc::new().cidr_block("10.0.0.0/16"))
        .unwrap();
    let mut consumer = Stack::new("piksel-kubernetes", "dev", kubernetes.backend()).unwrap();
    consumer
        .require_provider(girder_aws::aws::requirement())
        .unwrap();
    let _sg = consumer
        .root()
        .add("sg", girder_aws::aws::SecurityGroup::new().vpc_id(vpc.id()))
        .unwrap();
    let mut app = App::new();
    app.add_stack(producer).unwrap();
    app.add_stack(consumer).unwrap();
    let assembly = app.synth().unwrap();
    let t = Template::from_assembly(&assembly, "piksel-kubernetes-dev").unwrap();
    assert_eq!(
        t.data_sources("tfe_outputs"),
        vec![(
            "piksel_infra_dev",
            &json!({"organization": "piksel", "workspace": "piksel-infra-dev"})
        )]
    );
    assert_eq!(
        t.terraform()["terraform"]["cloud"],
        json!({"organization": "piksel", "workspaces": {"name": "piksel-kubernetes-dev", "project": "piksel"}})
    );
}

#[test]
fn a_team_approves_the_runs_of_the_workspaces_it_may_write_and_only_its_organizations() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let piksel = common::project(&mut scope, "piksel");
    let prod = common::kubernetes(&mut scope, &piksel, "prod");
    let approvers = girder_tfc::TfcTeam::new("piksel", "piksel-prod-approvers")
        .add(&mut scope, "approvers")
        .unwrap();
    girder_tfc::TeamAccess::new(&approvers, &prod, girder_tfc::WorkspaceAccess::Write)
        .add(&mut scope, "approvers-prod")
        .unwrap();
    // A team of another organization cannot be given this workspace.
    let foreign = girder_tfc::TfcTeam::new("other-org", "approvers")
        .add(&mut scope, "foreign")
        .unwrap();
    let error = girder_tfc::TeamAccess::new(&foreign, &prod, girder_tfc::WorkspaceAccess::Read)
        .add(&mut scope, "foreign-prod")
        .unwrap_err();
    assert!(matches!(
        refusal(error),
        TfcError::OtherOrganization {
            relation: "team access",
            ..
        }
    ));
    let error = girder_tfc::TfcTeam::new("piksel", "approvers of prod")
        .add(&mut scope, "bad")
        .unwrap_err();
    assert_eq!(
        refusal(error),
        TfcError::TeamName("approvers of prod".into())
    );
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    let team = t.resource("tfe_team", "approvers");
    assert_eq!(team["name"], "piksel-prod-approvers");
    assert_eq!(team["organization"], "piksel");
    let access = t.resource("tfe_team_access", "approvers_prod");
    assert_eq!(access["access"], "write");
    assert_eq!(access["team_id"], "${tfe_team.approvers.id}");
    assert_eq!(
        access["workspace_id"],
        "${tfe_workspace.kubernetes_prod.id}"
    );
}
