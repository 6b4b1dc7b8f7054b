//! Autoscaling and disruption budgets for a workload.

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
}

/// A PodDisruptionBudget: how many pods voluntary disruptions (node drains) may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisruptionBudget {
    /// At least this many pods stay up.
    MinAvailable(u16),
    /// At most this many pods are down at once.
    MaxUnavailable(u16),
}
