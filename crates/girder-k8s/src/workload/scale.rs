//! Replicas, autoscaling and disruption budgets of a scalable controller.

use std::collections::BTreeMap;

use girder_core::{Result, Scope};
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::{Pods, Prepared};
use crate::error::K8sError;
use crate::meta::{match_labels, object_meta};
use crate::scaling::{Autoscaling, DisruptionBudget};

/// The replica settings a scalable controller asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scaling {
    pub(crate) replicas: Option<u16>,
    pub(crate) autoscaling: Option<Autoscaling>,
    pub(crate) disruption_budget: Option<DisruptionBudget>,
}

impl Scaling {
    /// `spec.replicas`: unset when the autoscaler owns it.
    pub(crate) fn replicas(&self) -> Option<i32> {
        if self.autoscaling.is_some() {
            None
        } else {
            self.replicas.map(i32::from)
        }
    }

    /// Add the HorizontalPodAutoscaler and the PodDisruptionBudget asked for.
    pub(crate) fn add(
        &self,
        pods: &Pods,
        kind: &str,
        scope: &mut Scope<'_>,
        at: &str,
        prepared: &Prepared,
    ) -> Result<()> {
        let what = &prepared.what;
        if let Some(scaling) = &self.autoscaling {
            add_autoscaler(pods, kind, scope, at, what, scaling)?;
        }
        let Some(budget) = &self.disruption_budget else {
            return Ok(());
        };
        let (min_available, max_unavailable) = match budget {
            DisruptionBudget::MinAvailable(n) => (Some(IntOrString::Int(i32::from(*n))), None),
            DisruptionBudget::MaxUnavailable(n) => (None, Some(IntOrString::Int(i32::from(*n)))),
        };
        let replicas = self
            .autoscaling
            .as_ref()
            .map(|a| a.min)
            .or(self.replicas)
            .unwrap_or(1);
        if let DisruptionBudget::MinAvailable(n) = budget {
            if *n >= replicas {
                return Err(K8sError::BudgetBlocksDrains {
                    workload: what.clone(),
                    min_available: *n,
                    replicas,
                }
                .at(at));
            }
        }
        crate::meta::add_object(
            scope,
            &policy::PodDisruptionBudget {
                metadata: object_meta(
                    Some(&pods.namespace),
                    &prepared.name,
                    prepared.labels.clone(),
                    BTreeMap::new(),
                ),
                spec: Some(policy::PodDisruptionBudgetSpec {
                    min_available,
                    max_unavailable,
                    selector: Some(match_labels(prepared.selector.clone())),
                    ..policy::PodDisruptionBudgetSpec::default()
                }),
                ..policy::PodDisruptionBudget::default()
            },
        )
    }
}

fn add_autoscaler(
    pods: &Pods,
    kind: &str,
    scope: &mut Scope<'_>,
    at: &str,
    what: &str,
    scaling: &Autoscaling,
) -> Result<()> {
    scaling.check(what).map_err(|e| e.at(at))?;
    let name = &pods.labels.name;
    let object = scaling.object(&pods.namespace, kind, name, pods.labels.all());
    crate::meta::add_object(scope, &object)
}
