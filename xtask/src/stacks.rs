//! The one place stacks are registered. `cargo xtask synth` and the snapshot tests build
//! exactly this app; a new system adds one line here.

use girder_core::{App, Result};

/// Every stack of every system, for every environment.
pub fn app() -> Result<App> {
    let mut app = App::new();
    // The library consumers' example; kept in the synth output so the external checks
    // (tfcheck, k8scheck) cover what it teaches.
    girder_example_quickstart::build(&mut app)?;
    // girder-k8s by example: every workload construct, checked by k8scheck and
    // kubernetes-validate in CI.
    girder_example_workloads::build(&mut app)?;
    // The seed systems.
    girder_stack_pixtools::build(&mut app)?;
    Ok(app)
}
