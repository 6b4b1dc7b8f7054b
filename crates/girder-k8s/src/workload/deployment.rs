//! Deployment: stateless replicas.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::apps::v1 as apps;

use super::expose::Exposure;
use super::pod::Pods;
use super::scale::Scaling;
use super::{WorkloadHandle, controller};
use crate::meta::match_labels;
use crate::namespace::NamespaceHandle;

/// A Deployment before it is added: [`Workload`](super::Workload),
/// [`Scalable`](super::Scalable) and [`Exposable`](super::Exposable).
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Deployment {
    pods: Pods,
    scaling: Scaling,
    exposure: Exposure,
    rollout: Rollout,
}

/// How a Deployment replaces its pods when their template changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rollout {
    /// Kubernetes' default: one extra pod at a time, none taken away first (the new pod
    /// must fit beside the old ones: a node without that headroom stalls the rollout).
    #[default]
    Surge,
    /// One old pod goes before its replacement starts: no extra capacity needed, at
    /// the cost of one pod fewer during the rollout (for queue workers, whose queue
    /// waits for them; not for the only replica of a server).
    InPlace,
    /// Every old pod goes before any new one starts (`Recreate`): for a singleton that
    /// must never run twice at once, such as a scheduler whose two copies would each
    /// send every periodic task.
    Recreate,
}

impl Rollout {
    fn strategy(self) -> Option<apps::DeploymentStrategy> {
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        match self {
            Rollout::Surge => None,
            Rollout::InPlace => Some(apps::DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_surge: Some(IntOrString::Int(0)),
                    max_unavailable: Some(IntOrString::Int(1)),
                }),
            }),
            Rollout::Recreate => Some(apps::DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            }),
        }
    }
}

controller!(Deployment, pods: pods, scaling: scaling, exposure: exposure);

impl Deployment {
    /// A Deployment `name` in `namespace`.
    pub fn new(namespace: &NamespaceHandle, name: &str) -> Self {
        Self {
            pods: Pods::new(namespace, name),
            scaling: Scaling::default(),
            exposure: Exposure::default(),
            rollout: Rollout::default(),
        }
    }

    /// How a template change replaces the pods ([`Rollout::Surge`] unless set).
    pub fn rollout(mut self, rollout: Rollout) -> Self {
        self.rollout = rollout;
        self
    }
}

impl Construct for Deployment {
    type Handle = WorkloadHandle;

    /// Write the Deployment and the objects its intents ask for as construct `id`, into
    /// the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        const KIND: &str = "Deployment";
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let prepared = self.pods.prepare(&at, KIND, &[], false)?;
        crate::meta::add_object(
            scope,
            &apps::Deployment {
                metadata: prepared.metadata.clone(),
                spec: Some(apps::DeploymentSpec {
                    replicas: self.scaling.replicas(),
                    selector: match_labels(prepared.selector.clone()),
                    template: prepared.template.clone(),
                    revision_history_limit: Some(5),
                    strategy: self.rollout.strategy(),
                    ..apps::DeploymentSpec::default()
                }),
                ..apps::Deployment::default()
            },
        )?;
        let service = self.exposure.add(&self.pods, scope, &at, &prepared.name)?;
        self.scaling.add(&self.pods, KIND, scope, &at, &prepared)?;
        Ok(self.pods.handle(KIND, prepared, service))
    }
}
