//! Workloads: one builder per controller (Deployment, StatefulSet, DaemonSet, Job,
//! CronJob) over a shared pod template with secure defaults, plus the objects their
//! intent methods add (Service, Ingress, HorizontalPodAutoscaler, PodDisruptionBudget).
//!
//! What a controller can do is in its type, as cdk8s-plus does with `IScalable`: every
//! controller is a [`Workload`] (containers, volumes, scheduling); Deployments and
//! StatefulSets are [`Scalable`] (replicas, autoscaling, a disruption budget);
//! Deployments, StatefulSets and DaemonSets are [`Exposable`] (a Service, and an Ingress
//! that [`Service::ingress`] puts in front of it, so no Ingress lacks a Service).
//! A Job has no `expose` and a DaemonSet no `replicas`, so asking for one does not
//! compile:
//!
//! ```compile_fail
//! use girder_k8s::prelude::*;
//! let ns = NamespaceHandle::existing("shop");
//! // error: no method named `expose` found for struct `Job`
//! let _ = Job::new(&ns, "migrate").expose(Service::cluster_ip().port(80, "http"));
//! ```
//!
//! ```compile_fail
//! use girder_k8s::prelude::*;
//! let ns = NamespaceHandle::existing("monitoring");
//! // error: no method named `replicas` found for struct `DaemonSet`
//! let _ = DaemonSet::new(&ns, "node-exporter").replicas(3);
//! ```

mod daemon_set;
mod deployment;
mod expose;
mod handle;
mod job;
mod pod;
mod scale;
mod stateful_set;

use std::collections::BTreeMap;

use girder_core::vocabulary::Reason;
use k8s_openapi::api::core::v1 as core;

pub use daemon_set::DaemonSet;
pub use deployment::{Deployment, Rollout};
pub use handle::WorkloadHandle;
pub use job::{CronJob, Job, content_hash};
pub use stateful_set::StatefulSet;

use crate::container::Container;
use crate::rbac::ServiceAccountHandle;
use crate::scaling::{Autoscaling, DisruptionBudget};
use crate::service::Service;
use crate::volume::Volume;

/// Annotation listing the security-context relaxations of a workload and their reasons.
pub const SECURITY_EXCEPTIONS_ANNOTATION: &str = "girder.dev/security-exceptions";

/// The parts a controller is built from, reachable only inside girder-k8s: the traits
/// below are implemented by its five controllers and no others.
pub(crate) mod sealed {
    /// The pod template of a controller.
    pub trait HasPods {
        fn pods(&mut self) -> &mut super::pod::Pods;
    }

    /// The replica settings of a scalable controller.
    pub trait HasScaling {
        fn scaling(&mut self) -> &mut super::scale::Scaling;
    }

    /// The Service and Ingress of an exposable controller.
    pub trait HasExposure {
        fn exposure(&mut self) -> &mut super::expose::Exposure;
    }
}

/// What every controller has: labels, containers, volumes, scheduling and pod settings.
pub trait Workload: sealed::HasPods + Sized {
    /// `app.kubernetes.io/part-of`: the system it belongs to.
    fn part_of(mut self, system: impl Into<String>) -> Self {
        self.pods().labels.part_of = Some(system.into());
        self
    }

    /// `app.kubernetes.io/component` (also part of the selector).
    fn component(mut self, component: impl Into<String>) -> Self {
        self.pods().labels.component = Some(component.into());
        self
    }

    /// Add a container.
    fn container(mut self, container: Container) -> Self {
        self.pods().containers.push(container);
        self
    }

    /// Add an init container (runs to completion before the others start).
    fn init_container(mut self, container: Container) -> Self {
        self.pods().init_containers.push(container);
        self
    }

    /// Add a pod volume.
    fn volume(mut self, volume: Volume) -> Self {
        self.pods().volumes.push(volume);
        self
    }

    /// Run as `account` (its token is mounted; without one, no token is).
    fn service_account(mut self, account: &ServiceAccountHandle) -> Self {
        self.pods().service_account = Some(account.name().to_owned());
        self
    }

    /// Schedule only on nodes with this label.
    fn node_selector(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pods().node_selector.insert(key.into(), value.into());
        self
    }

    /// Tolerate a taint.
    fn toleration(mut self, toleration: core::Toleration) -> Self {
        self.pods().tolerations.push(toleration);
        self
    }

    /// Node and pod affinity.
    fn affinity(mut self, affinity: core::Affinity) -> Self {
        self.pods().affinity = Some(affinity);
        self
    }

    /// Spread pods across availability zones, at most `max_skew` apart.
    fn spread_across_zones(mut self, max_skew: u16) -> Self {
        self.pods().zone_spread = Some(max_skew.max(1));
        self
    }

    /// Priority class of the pods.
    fn priority_class(mut self, class: impl Into<String>) -> Self {
        self.pods().priority_class = Some(class.into());
        self
    }

    /// Seconds pods get to stop after SIGTERM.
    fn termination_grace(mut self, seconds: u32) -> Self {
        self.pods().termination_grace_seconds = Some(seconds);
        self
    }

    /// An annotation of the workload object.
    fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pods().annotations.insert(key.into(), value.into());
        self
    }

    /// An annotation of the pods (`prometheus.io/scrape`).
    fn pod_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pods().pod_annotations.insert(key.into(), value.into());
        self
    }

    /// Let the pods act as AWS IAM role `role_arn` without a webhook (EKS IRSA's
    /// mechanism, on any cluster whose service-account issuer the account trusts, such
    /// as girder-k3s's `K3sNode::pod_identity`): a projected service-account token
    /// (audience `sts.amazonaws.com`, 24 h) mounted read-only in every container at
    /// [`AWS_TOKEN_DIRECTORY`], and `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE` and
    /// `AWS_STS_REGIONAL_ENDPOINTS=regional`, which the AWS SDKs' default chain reads.
    /// The role must trust the pods' own service account
    /// ([`Workload::service_account`], required: a workload without one is refused).
    /// The pods then get no Kubernetes API token unless [`Workload::api_token`] asks.
    fn aws_role(mut self, role_arn: impl Into<String>) -> Self {
        self.pods().aws_role = Some(role_arn.into());
        self
    }

    /// Mount (or not) the service account's Kubernetes API token in the pods. Without
    /// this, pods with a service account get it, unless the account is there for an
    /// AWS role ([`Workload::aws_role`]).
    fn api_token(mut self, mount: bool) -> Self {
        self.pods().api_token = Some(mount);
        self
    }

    /// `fsGroup`: the pods' volumes (a claim, an emptyDir, the projected tokens) are
    /// owned by group `gid` and group-writable, and every container runs with it as a
    /// supplementary group, so a non-root user the image does not own its files with
    /// can still write its mounts. Ownership changes only when a volume's root is not
    /// the group's already (`fsGroupChangePolicy: OnRootMismatch`): a large volume is
    /// not walked at every start.
    fn fs_group(mut self, gid: u32) -> Self {
        self.pods().fs_group = Some(gid);
        self
    }

    /// Run the pods in the node's network namespace (`hostNetwork: true`, DNS
    /// `ClusterFirstWithHostNet`), for `reason`: a pod there reaches what only the node
    /// may (its metadata service, with IMDSv2's hop limit 1) and binds node ports, so it
    /// is a security exception, listed in the workload's annotation; the namespace's Pod
    /// Security level must admit it. A refused reason is reported when the workload is
    /// added.
    fn host_network(mut self, reason: impl Into<String>) -> Self {
        self.pods().host_network = Some(Reason::new(reason));
        self
    }
}

/// A controller with a replica count: Deployment and StatefulSet (cdk8s-plus's
/// `IScalable`).
pub trait Scalable: Workload + sealed::HasScaling {
    /// Replicas. Left to the autoscaler when [`Scalable::autoscale`] is set.
    fn replicas(mut self, replicas: u16) -> Self {
        self.scaling().replicas = Some(replicas);
        self
    }

    /// Scale it with a HorizontalPodAutoscaler.
    fn autoscale(mut self, autoscaling: Autoscaling) -> Self {
        self.scaling().autoscaling = Some(autoscaling);
        self
    }

    /// Protect it with a PodDisruptionBudget.
    fn disruption_budget(mut self, budget: DisruptionBudget) -> Self {
        self.scaling().disruption_budget = Some(budget);
        self
    }
}

/// A controller whose pods serve traffic: Deployment, StatefulSet and DaemonSet.
pub trait Exposable: Workload + sealed::HasExposure {
    /// Expose it as a Service named like the workload (and, with
    /// [`Service::ingress`], an Ingress in front of it).
    fn expose(mut self, service: Service) -> Self {
        self.exposure().service = Some(service);
        self
    }
}

/// Implement the capability traits for a controller from its fields.
macro_rules! controller {
    ($controller:ty, pods: $pods:ident $(, scaling: $scaling:ident)? $(, exposure: $exposure:ident)?) => {
        impl $crate::workload::sealed::HasPods for $controller {
            fn pods(&mut self) -> &mut $crate::workload::pod::Pods {
                &mut self.$pods
            }
        }
        impl $crate::workload::Workload for $controller {}
        $(
            impl $crate::workload::sealed::HasScaling for $controller {
                fn scaling(&mut self) -> &mut $crate::workload::scale::Scaling {
                    &mut self.$scaling
                }
            }
            impl $crate::workload::Scalable for $controller {}
        )?
        $(
            impl $crate::workload::sealed::HasExposure for $controller {
                fn exposure(&mut self) -> &mut $crate::workload::expose::Exposure {
                    &mut self.$exposure
                }
            }
            impl $crate::workload::Exposable for $controller {}
        )?
    };
}
use controller;

/// Labels as a BTreeMap (what k8s-openapi's selectors take).
type Labels = BTreeMap<String, String>;
