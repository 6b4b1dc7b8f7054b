//! Autoscaling and disruption budgets for a workload.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2 as autoscaling;

use crate::error::K8sError;
use crate::meta::object_meta;

/// A HorizontalPodAutoscaler on CPU utilization.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Autoscaling {
    pub(crate) min: u16,
    pub(crate) max: u16,
    pub(crate) cpu_percent: u8,
}

impl Autoscaling {
    /// Between `min` and `max` replicas, at 70% of requested CPU.
    pub fn new(min: u16, max: u16) -> Self {
        Self {
            min,
            max,
            cpu_percent: 70,
        }
    }

    /// Target average CPU utilization, percent of the request (1-100).
    pub fn cpu_utilization(mut self, percent: u8) -> Self {
        self.cpu_percent = percent;
        self
    }

    /// The range and the target, checked: `what` names the workload in the error.
    pub(crate) fn check(&self, what: &str) -> Result<(), K8sError> {
        if self.min == 0 || self.min > self.max {
            return Err(K8sError::AutoscalingRange {
                workload: what.to_owned(),
                min: self.min,
                max: self.max,
            });
        }
        if !(1..=100).contains(&self.cpu_percent) {
            return Err(K8sError::CpuTarget {
                workload: what.to_owned(),
                percent: self.cpu_percent,
            });
        }
        Ok(())
    }

    /// The HorizontalPodAutoscaler `name` of `namespace`, labelled `labels`, scaling the
    /// `kind` (`Deployment`) named `name`: for a workload a chart writes, which girder's
    /// workloads' `.autoscale` cannot reach. Errors: the range or target refused
    /// ([`K8sError::AutoscalingRange`], [`K8sError::CpuTarget`]).
    pub fn autoscaler(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
        labels: BTreeMap<String, String>,
    ) -> Result<autoscaling::HorizontalPodAutoscaler, K8sError> {
        self.check(name)?;
        Ok(self.object(namespace, kind, name, labels))
    }

    /// The object, unchecked.
    pub(crate) fn object(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
        labels: BTreeMap<String, String>,
    ) -> autoscaling::HorizontalPodAutoscaler {
        autoscaling::HorizontalPodAutoscaler {
            metadata: object_meta(Some(namespace), name, labels, BTreeMap::new()),
            spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
                scale_target_ref: autoscaling::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: kind.into(),
                    name: name.to_owned(),
                },
                min_replicas: Some(i32::from(self.min)),
                max_replicas: i32::from(self.max),
                metrics: Some(vec![autoscaling::MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(autoscaling::ResourceMetricSource {
                        name: "cpu".into(),
                        target: autoscaling::MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(i32::from(self.cpu_percent)),
                            ..autoscaling::MetricTarget::default()
                        },
                    }),
                    ..autoscaling::MetricSpec::default()
                }]),
                ..autoscaling::HorizontalPodAutoscalerSpec::default()
            }),
            ..autoscaling::HorizontalPodAutoscaler::default()
        }
    }
}

/// A PodDisruptionBudget: how many pods voluntary disruptions (node drains) may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisruptionBudget {
    /// At least this many pods stay up.
    MinAvailable(u16),
    /// At most this many pods are down at once.
    MaxUnavailable(u16),
}
