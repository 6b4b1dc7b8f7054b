//! A bootstrap stack with the tfe and aws providers, and the Piksel-shaped workspaces.

#![allow(dead_code, clippy::unwrap_used)]

use girder_aws::{aws, tfe};
use girder_core::prelude::*;
use girder_tfc::{TfcProject, TfcProjectHandle, TfcWorkspace, TfcWorkspaceHandle, VcsConnection};

pub(crate) fn stack() -> Stack {
    let mut stack = Stack::new("bootstrap", "shared", Backend::local()).unwrap();
    stack.require_provider(aws::requirement()).unwrap();
    stack.require_provider(tfe::requirement()).unwrap();
    stack
        .require_provider(girder_aws::tls::requirement())
        .unwrap();
    stack
        .add_provider(aws::Provider::new().region("eu-central-1").into())
        .unwrap();
    stack
}

pub(crate) fn project(scope: &mut Scope<'_>, organization: &str) -> TfcProjectHandle {
    TfcProject::new(organization, "piksel")
        .description("Piksel platform")
        .add(scope, &format!("project-{organization}"))
        .unwrap()
}

/// The Kubernetes layer's workspace of `env` (a state consumer of the infra one).
pub(crate) fn kubernetes(
    scope: &mut Scope<'_>,
    project: &TfcProjectHandle,
    env: &str,
) -> TfcWorkspaceHandle {
    let mut ws = TfcWorkspace::new(project, format!("piksel-kubernetes-{env}"))
        .working_directory(format!("environments/{env}"))
        .vcs(VcsConnection::new("piksel-org/piksel-kubernetes", "ot-abc123").branch("main"))
        .trigger_patterns([
            format!("environments/{env}/**/*"),
            "modules/**/*".to_owned(),
        ]);
    if env == "dev" {
        ws = ws.auto_apply();
    }
    ws.add(scope, &format!("kubernetes-{env}")).unwrap()
}
