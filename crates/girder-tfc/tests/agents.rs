#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Agent pools and the agents on ECS Fargate: a pool limited to its project, a workspace
//! running on it only after the pool allows the project, agents with no inbound rule and
//! no credentials of their own, and the refusals.

mod common;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::SsmPath;
use girder_network::Vpc;
use girder_tfc::{TfcAgentPool, TfcAgentService, TfcError, TfcProject, TfcWorkspace};
use serde_json::json;

fn refusal(error: girder_core::Error) -> TfcError {
    error
        .construct_error::<TfcError>()
        .unwrap_or_else(|| panic!("not a TfcError: {error}"))
        .clone()
}

fn token_path() -> SsmPath {
    SsmPath::new("/piksel/dev/tfc-agent-token").unwrap()
}

#[test]
fn a_workspace_runs_on_its_projects_pool_after_the_pool_allows_the_project() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let pool = TfcAgentPool::new(&project, "piksel-dev")
        .add(&mut scope, "agents")
        .unwrap();
    let _ws = TfcWorkspace::new(&project, "piksel-eks-dev")
        .agent_pool(&pool)
        .without_speculative_plans()
        .add(&mut scope, "eks")
        .unwrap();
    let _other = TfcWorkspace::new(&project, "piksel-infra-dev")
        .add(&mut scope, "infra")
        .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    let pool = t.resource("tfe_agent_pool", "agents");
    assert_eq!(pool["organization_scoped"], false);
    assert_eq!(
        t.resource("tfe_agent_pool_allowed_projects", "agents_allowed")["allowed_project_ids"],
        json!(["${tfe_project.project_piksel.id}"])
    );
    assert_eq!(
        t.resource("tfe_agent_token", "agents_token")["agent_pool_id"],
        "${tfe_agent_pool.agents.id}"
    );
    let settings = t.resource("tfe_workspace_settings", "eks_settings");
    assert_eq!(settings["execution_mode"], "agent");
    assert_eq!(settings["agent_pool_id"], "${tfe_agent_pool.agents.id}");
    assert_eq!(
        settings["depends_on"],
        json!([
            "tfe_agent_pool.agents",
            "tfe_agent_pool_allowed_projects.agents_allowed"
        ])
    );
    assert_eq!(
        t.resource("tfe_workspace", "eks")["speculative_enabled"],
        false
    );
    // The default: remote execution, speculative plans, no run queued at creation.
    let other = t.resource("tfe_workspace_settings", "infra_settings");
    assert!(other.get("execution_mode").is_none());
    assert_eq!(
        t.resource("tfe_workspace", "infra")["speculative_enabled"],
        true
    );
    for (_, ws) in t.resources("tfe_workspace") {
        assert_eq!(ws["queue_all_runs"], false);
    }
}

#[test]
fn a_pool_of_another_project_is_refused() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let other = TfcProject::new("piksel", "elsewhere")
        .add(&mut scope, "elsewhere")
        .unwrap();
    let pool = TfcAgentPool::new(&other, "elsewhere")
        .add(&mut scope, "agents")
        .unwrap();
    let error = TfcWorkspace::new(&project, "piksel-eks-dev")
        .agent_pool(&pool)
        .add(&mut scope, "eks")
        .unwrap_err();
    assert!(matches!(
        refusal(error),
        TfcError::AgentPoolOfAnotherProject { pool, .. } if pool == "elsewhere"
    ));
    let error = TfcAgentPool::new(&project, "no spaces")
        .add(&mut scope, "bad")
        .unwrap_err();
    assert_eq!(refusal(error), TfcError::AgentPoolName("no spaces".into()));
}

#[test]
fn agents_run_in_private_subnets_with_outbound_https_only_and_their_token_injected() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("piksel-dev", "10.50.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let agents = TfcAgentService::new(
        &vpc,
        "piksel-dev-tfc-agent",
        "hashicorp/tfc-agent:1.22.5",
        token_path(),
    )
    .agents(2)
    .add(&mut scope, "agents")
    .unwrap();
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    let service = t.resource("aws_ecs_service", "agents_service");
    assert_eq!(service["desired_count"], 2);
    assert_eq!(service["launch_type"], "FARGATE");
    let network = &service["network_configuration"][0];
    assert_eq!(network["assign_public_ip"], false);
    assert_eq!(
        network["subnets"].as_array().unwrap().len(),
        vpc.private_subnet_ids().len()
    );
    assert!(network["subnets"].to_string().contains("private"));
    let sg = format!("${{aws_security_group.{}.id}}", "agents_security_group");
    assert_eq!(agents.security_group().id().to_terraform_string(), sg);
    assert!(
        t.resources("aws_vpc_security_group_ingress_rule")
            .is_empty()
    );
    let egress = t.resources("aws_vpc_security_group_egress_rule");
    let ours: Vec<_> = egress
        .iter()
        .filter(|(_, r)| r["security_group_id"] == sg.as_str())
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].1["from_port"], 443);
    assert_eq!(ours[0].1["ip_protocol"], "tcp");
    let task = t.resource("aws_ecs_task_definition", "agents_task");
    assert!(task.get("task_role_arn").is_none());
    let definitions = task["container_definitions"].as_str().unwrap();
    assert!(
        definitions.contains("\\\"TFC_AGENT_TOKEN\\\"") || definitions.contains("TFC_AGENT_TOKEN")
    );
    assert!(definitions.contains("parameter/piksel/dev/tfc-agent-token"));
    assert!(definitions.contains("TFC_AGENT_SINGLE"));
    // The execution role reads that parameter (in this account) and nothing else of SSM.
    let policy = t.resource("aws_iam_role_policy", "agents_execution_start_agents")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("ssm:GetParameters"));
    assert!(
        policy.contains("data.aws_caller_identity.agents_account.account_id"),
        "{policy}"
    );
    assert!(!policy.contains("ssm:*"));
}

#[test]
fn agents_with_an_unpinned_image_a_bad_name_or_no_count_are_refused() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let vpc = Vpc::new("piksel-dev", "10.50.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    for (i, image) in [
        "hashicorp/tfc-agent",
        "hashicorp/tfc-agent:latest",
        "hashicorp/tfc-agent:${var.tag}",
        "hashicorp/tfc-agent:1.0 ; rm",
        "hashicorp/tfc-agent@sha256:short",
    ]
    .into_iter()
    .enumerate()
    {
        let error = TfcAgentService::new(&vpc, "agents", image, token_path())
            .add(&mut scope, &format!("a{i}"))
            .unwrap_err();
        assert_eq!(
            refusal(error),
            TfcError::AgentImage(image.into()),
            "{image}"
        );
    }
    let error = TfcAgentService::new(&vpc, "no/slash", "x:1", token_path())
        .add(&mut scope, "b")
        .unwrap_err();
    assert_eq!(
        refusal(error),
        TfcError::AgentServiceName("no/slash".into())
    );
    let error = TfcAgentService::new(&vpc, "agents", "x:1", token_path())
        .agents(0)
        .add(&mut scope, "c")
        .unwrap_err();
    assert_eq!(refusal(error), TfcError::AgentCount(0));
    // A digest-pinned image is accepted.
    let digest = format!("hashicorp/tfc-agent@sha256:{}", "a".repeat(64));
    let _agents = TfcAgentService::new(&vpc, "agents", digest, token_path())
        .add(&mut scope, "d")
        .unwrap();
}

#[test]
fn a_local_workspace_keeps_state_only_and_takes_no_vcs_or_pool() {
    let mut stack = common::stack();
    let mut scope = stack.root();
    let project = common::project(&mut scope, "piksel");
    let eks = TfcWorkspace::new(&project, "piksel-eks-dev")
        .add(&mut scope, "eks")
        .unwrap();
    let _agents = TfcWorkspace::new(&project, "piksel-agents-dev")
        .local_execution()
        .shares_state_with(&eks)
        .add(&mut scope, "agents")
        .unwrap();
    let pool = TfcAgentPool::new(&project, "piksel-dev")
        .add(&mut scope, "pool")
        .unwrap();
    let error = TfcWorkspace::new(&project, "bad")
        .local_execution()
        .agent_pool(&pool)
        .add(&mut scope, "bad")
        .unwrap_err();
    assert_eq!(refusal(error), TfcError::LocalExecution("bad".into()));
    drop(scope);
    let t = Template::from_stack(stack).unwrap();
    let settings = t.resource("tfe_workspace_settings", "agents_settings");
    assert_eq!(settings["execution_mode"], "local");
    assert_eq!(
        settings["remote_state_consumer_ids"],
        json!(["${tfe_workspace.eks.id}"])
    );
    assert!(
        t.resource("tfe_workspace", "agents")
            .get("vcs_repo")
            .is_none()
    );
}
