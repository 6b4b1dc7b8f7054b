//! StatefulSet: replicas with stable names, their own volumes, and a headless Service for
//! their DNS.

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use k8s_openapi::api::apps::v1 as apps;

use super::expose::{Exposure, add_service};
use super::pod::Pods;
use super::scale::Scaling;
use super::{WorkloadHandle, controller};
use crate::meta::match_labels;
use crate::namespace::NamespaceHandle;
use crate::service::{Service, ServiceType};
use crate::volume::ClaimTemplate;

/// A StatefulSet before it is added: [`Workload`](super::Workload),
/// [`Scalable`](super::Scalable) and [`Exposable`](super::Exposable), with claim
/// templates (one PVC per replica) no other controller has.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct StatefulSet {
    pods: Pods,
    claims: Vec<ClaimTemplate>,
    scaling: Scaling,
    exposure: Exposure,
}

controller!(StatefulSet, pods: pods, scaling: scaling, exposure: exposure);

impl StatefulSet {
    /// A StatefulSet `name` in `namespace`, with a headless Service `<name>-headless` for
    /// its pods' DNS.
    pub fn new(namespace: &NamespaceHandle, name: &str) -> Self {
        Self {
            pods: Pods::new(namespace, name),
            claims: Vec::new(),
            scaling: Scaling::default(),
            exposure: Exposure::default(),
        }
    }

    /// Add a claim template (one PVC per replica, mounted by its name).
    pub fn claim_template(mut self, claim: ClaimTemplate) -> Self {
        self.claims.push(claim);
        self
    }
}

impl Construct for StatefulSet {
    type Handle = WorkloadHandle;

    /// Write the StatefulSet, its headless Service and the objects its intents ask for as
    /// construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        const KIND: &str = "StatefulSet";
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let prepared = self.pods.prepare(&at, KIND, &self.claims, false)?;
        let headless = format!("{}-headless", prepared.name);
        let claims = self
            .claims
            .iter()
            .map(|c| c.build(&at, &prepared.labels))
            .collect::<Result<Vec<_>>>()?;
        crate::meta::add_object(
            scope,
            &apps::StatefulSet {
                metadata: prepared.metadata.clone(),
                spec: Some(apps::StatefulSetSpec {
                    replicas: self.scaling.replicas(),
                    selector: match_labels(prepared.selector.clone()),
                    service_name: Some(headless.clone()),
                    template: prepared.template.clone(),
                    volume_claim_templates: (!claims.is_empty()).then_some(claims),
                    ..apps::StatefulSetSpec::default()
                }),
                ..apps::StatefulSet::default()
            },
        )?;
        let mut peers = Service::with(ServiceType::Headless);
        peers.ports = self
            .pods
            .all_ports()
            .map(|(n, p)| (p, n.to_owned()))
            .collect();
        add_service(&self.pods, scope, &at, &headless, &peers, true)?;
        let service = self.exposure.add(&self.pods, scope, &at, &prepared.name)?;
        self.scaling.add(&self.pods, KIND, scope, &at, &prepared)?;
        Ok(self.pods.handle(KIND, prepared, service))
    }
}
