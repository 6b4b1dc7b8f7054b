//! DaemonSet: one pod per node.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::apps::v1 as apps;

use super::expose::Exposure;
use super::pod::Pods;
use super::{WorkloadHandle, controller};
use crate::meta::match_labels;
use crate::namespace::NamespaceHandle;

/// A DaemonSet before it is added: [`Workload`](super::Workload) and
/// [`Exposable`](super::Exposable); the node count sets its size, so it is not
/// [`Scalable`](super::Scalable).
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonSet {
    pods: Pods,
    exposure: Exposure,
}

controller!(DaemonSet, pods: pods, exposure: exposure);

impl DaemonSet {
    /// A DaemonSet `name` in `namespace`.
    pub fn new(namespace: &NamespaceHandle, name: &str) -> Self {
        Self {
            pods: Pods::new(namespace, name),
            exposure: Exposure::default(),
        }
    }
}

impl Construct for DaemonSet {
    type Handle = WorkloadHandle;

    /// Write the DaemonSet (and its Service and Ingress, if asked for) as construct `id`,
    /// into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        const KIND: &str = "DaemonSet";
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let prepared = self.pods.prepare(&at, KIND, &[], false)?;
        crate::meta::add_object(
            scope,
            &apps::DaemonSet {
                metadata: prepared.metadata.clone(),
                spec: Some(apps::DaemonSetSpec {
                    selector: match_labels(prepared.selector.clone()),
                    template: prepared.template.clone(),
                    ..apps::DaemonSetSpec::default()
                }),
                ..apps::DaemonSet::default()
            },
        )?;
        let service = self.exposure.add(&self.pods, scope, &at, &prepared.name)?;
        Ok(self.pods.handle(KIND, prepared, service))
    }
}
