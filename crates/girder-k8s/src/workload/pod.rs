//! The pod template every controller shares: labels, containers, volumes, scheduling,
//! and the hardened pod security context.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::Result;
use girder_core::vocabulary::{Reason, ReasonError};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Labels, SECURITY_EXCEPTIONS_ANNOTATION, WorkloadHandle};
use crate::aws_identity::{AWS_TOKEN_VOLUME, AwsWebIdentity};
use crate::container::Container;
use crate::error::K8sError;
use crate::labels::AppLabels;
use crate::meta::{match_labels, object_meta};
use crate::namespace::NamespaceHandle;
use crate::validate;
use crate::volume::{ClaimTemplate, Volume};

/// The pods of a controller, before it is added.
#[derive(Clone, Debug, PartialEq)]
pub struct Pods {
    pub(crate) namespace: String,
    pub(crate) labels: AppLabels,
    pub(crate) containers: Vec<Container>,
    pub(crate) init_containers: Vec<Container>,
    pub(crate) volumes: Vec<Volume>,
    pub(crate) service_account: Option<String>,
    pub(crate) node_selector: BTreeMap<String, String>,
    pub(crate) tolerations: Vec<core::Toleration>,
    pub(crate) affinity: Option<core::Affinity>,
    pub(crate) zone_spread: Option<u16>,
    pub(crate) priority_class: Option<String>,
    pub(crate) termination_grace_seconds: Option<u32>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) pod_annotations: BTreeMap<String, String>,
    /// `hostNetwork: true`, with its reason (or the refused reason).
    pub(crate) host_network: Option<std::result::Result<Reason, ReasonError>>,
    /// The AWS role the pods assume with their projected service-account token.
    pub(crate) aws_role: Option<String>,
    /// Mount the Kubernetes API token (`automountServiceAccountToken`), if stated.
    pub(crate) api_token: Option<bool>,
    /// `fsGroup`: the group the pod's volumes are made writable for.
    pub(crate) fs_group: Option<u32>,
}

/// A controller's checked parts, ready to be written.
pub(crate) struct Prepared {
    /// `metadata.name`.
    pub name: String,
    /// `Deployment shop/api`, for messages.
    pub what: String,
    pub selector: Labels,
    pub labels: Labels,
    pub template: core::PodTemplateSpec,
    pub metadata: ObjectMeta,
}

impl Pods {
    pub(crate) fn new(namespace: &NamespaceHandle, name: &str) -> Self {
        Self {
            namespace: namespace.name().to_owned(),
            labels: AppLabels::new(name),
            containers: Vec::new(),
            init_containers: Vec::new(),
            volumes: Vec::new(),
            service_account: None,
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            affinity: None,
            zone_spread: None,
            priority_class: None,
            termination_grace_seconds: None,
            annotations: BTreeMap::new(),
            pod_annotations: BTreeMap::new(),
            host_network: None,
            aws_role: None,
            api_token: None,
            fs_group: None,
        }
    }

    /// Check the pods of controller `kind` (with StatefulSet `claims`, if any) and build
    /// the controller's metadata and pod template.
    pub(crate) fn prepare(
        &self,
        at: &str,
        kind: &'static str,
        claims: &[ClaimTemplate],
        runs_to_completion: bool,
    ) -> Result<Prepared> {
        let name = self.labels.name.clone();
        validate::dns_label(at, "workload name", &name)?;
        let what = format!("{kind} {}/{name}", self.namespace);
        if self.containers.is_empty() {
            return Err(K8sError::NoContainer { workload: what }.at(at));
        }
        if let (Some(role), None) = (&self.aws_role, &self.service_account) {
            return Err(K8sError::AwsRoleWithoutServiceAccount {
                workload: what,
                role: role.clone(),
            }
            .at(at));
        }
        self.check_mounts(at, &what, claims)?;
        let selector = self.labels.selector();
        let labels = self.labels.all();
        // The workload's labels are its pods' labels and (a subset) its selector.
        validate::labels(at, &what, &labels)?;
        let template = self.pod_template(at, kind, &labels, &selector, runs_to_completion)?;
        let mut annotations = self.annotations.clone();
        let mut exceptions: Vec<String> = Vec::new();
        match &self.host_network {
            Some(Ok(reason)) => exceptions.push(format!("pod: hostNetwork=true: {reason}")),
            Some(Err(problem)) => {
                return Err(K8sError::ExceptionReason {
                    container: "(pod)".into(),
                    setting: "hostNetwork=true",
                    problem: problem.clone(),
                }
                .at(at));
            }
            None => {}
        }
        exceptions.extend(
            self.containers
                .iter()
                .chain(&self.init_containers)
                .flat_map(Container::exception_notes),
        );
        if !exceptions.is_empty() {
            annotations.insert(SECURITY_EXCEPTIONS_ANNOTATION.into(), exceptions.join("; "));
        }
        let metadata = object_meta(Some(&self.namespace), &name, labels.clone(), annotations);
        Ok(Prepared {
            name,
            what,
            selector,
            labels,
            template,
            metadata,
        })
    }

    /// The handle of the controller `kind` these pods belong to.
    pub(crate) fn handle(
        &self,
        kind: &'static str,
        prepared: Prepared,
        service: Option<String>,
    ) -> WorkloadHandle {
        WorkloadHandle {
            kind,
            namespace: self.namespace.clone(),
            name: prepared.name,
            selector: prepared.selector,
            port_names: self.all_ports().map(|(n, _)| n.to_owned()).collect(),
            service,
        }
    }

    /// Every container port, (name, number).
    pub(crate) fn all_ports(&self) -> impl Iterator<Item = (&str, u16)> {
        self.containers
            .iter()
            .flat_map(|c| c.ports.iter().map(|p| (p.name.as_str(), p.number)))
    }

    fn check_mounts(&self, at: &str, what: &str, claims: &[ClaimTemplate]) -> Result<()> {
        let mut names = BTreeSet::new();
        if self.aws_role.is_some() {
            names.insert(AWS_TOKEN_VOLUME);
        }
        for volume in &self.volumes {
            if !names.insert(volume.name.as_str()) {
                return Err(K8sError::DuplicateVolume {
                    workload: what.to_owned(),
                    volume: volume.name.clone(),
                }
                .at(at));
            }
        }
        for claim in claims {
            if !names.insert(claim.name.as_str()) {
                return Err(K8sError::ClaimNameTaken {
                    workload: what.to_owned(),
                    claim: claim.name.clone(),
                }
                .at(at));
            }
        }
        let mut containers = BTreeSet::new();
        for container in self.containers.iter().chain(&self.init_containers) {
            if !containers.insert(container.name.as_str()) {
                return Err(K8sError::DuplicateContainer {
                    workload: what.to_owned(),
                    container: container.name.clone(),
                }
                .at(at));
            }
            for (volume, path, _) in &container.mounts {
                if !names.contains(volume.as_str()) {
                    return Err(K8sError::UnknownVolume {
                        workload: what.to_owned(),
                        container: container.name.clone(),
                        volume: volume.clone(),
                        path: path.clone(),
                        volumes: names.iter().map(|&n| n.to_owned()).collect(),
                    }
                    .at(at));
                }
            }
        }
        Ok(())
    }

    fn pod_template(
        &self,
        at: &str,
        kind: &str,
        labels: &Labels,
        selector: &Labels,
        runs_to_completion: bool,
    ) -> Result<core::PodTemplateSpec> {
        let pods = format!(
            "{kind} {}/{} pod template",
            self.namespace, self.labels.name
        );
        validate::annotations(at, &pods, &self.pod_annotations)?;
        validate::labels(at, &format!("{pods} nodeSelector"), &self.node_selector)?;
        let mut containers = self
            .containers
            .iter()
            .map(|c| c.build(at))
            .collect::<Result<Vec<_>>>()?;
        let mut init_containers = self
            .init_containers
            .iter()
            .map(|c| c.build(at))
            .collect::<Result<Vec<_>>>()?;
        let mut volumes = self
            .volumes
            .iter()
            .map(|v| v.build(at))
            .collect::<Result<Vec<_>>>()?;
        if let Some(role) = &self.aws_role {
            let identity = AwsWebIdentity::new(role.as_str());
            volumes.push(identity.volume());
            for container in containers.iter_mut().chain(init_containers.iter_mut()) {
                identity.apply_to(container);
            }
        }
        let runs_as_root = self
            .containers
            .iter()
            .chain(&self.init_containers)
            .any(Container::runs_as_root);
        let spread = self.zone_spread.map(|skew| {
            vec![core::TopologySpreadConstraint {
                max_skew: i32::from(skew),
                topology_key: "topology.kubernetes.io/zone".into(),
                when_unsatisfiable: "ScheduleAnyway".into(),
                label_selector: Some(match_labels(selector.clone())),
                ..core::TopologySpreadConstraint::default()
            }]
        });
        Ok(core::PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels.clone()),
                annotations: (!self.pod_annotations.is_empty())
                    .then(|| self.pod_annotations.clone()),
                ..ObjectMeta::default()
            }),
            spec: Some(core::PodSpec {
                containers,
                init_containers: (!init_containers.is_empty()).then_some(init_containers),
                volumes: (!volumes.is_empty()).then_some(volumes),
                service_account_name: self.service_account.clone(),
                // The API token only for pods that run as a service account for the
                // API's sake: one there for an AWS role gets the STS token alone.
                automount_service_account_token: Some(
                    self.api_token
                        .unwrap_or(self.service_account.is_some() && self.aws_role.is_none()),
                ),
                node_selector: (!self.node_selector.is_empty()).then(|| self.node_selector.clone()),
                tolerations: (!self.tolerations.is_empty()).then(|| self.tolerations.clone()),
                affinity: self.affinity.clone(),
                topology_spread_constraints: spread,
                priority_class_name: self.priority_class.clone(),
                termination_grace_period_seconds: self.termination_grace_seconds.map(i64::from),
                restart_policy: runs_to_completion.then(|| "OnFailure".to_owned()),
                host_network: self.host_network.is_some().then_some(true),
                // On the node's network a pod still resolves cluster names.
                dns_policy: self
                    .host_network
                    .is_some()
                    .then(|| "ClusterFirstWithHostNet".to_owned()),
                security_context: Some(core::PodSecurityContext {
                    run_as_non_root: Some(!runs_as_root),
                    fs_group: self.fs_group.map(i64::from),
                    fs_group_change_policy: self.fs_group.map(|_| "OnRootMismatch".to_owned()),
                    seccomp_profile: Some(core::SeccompProfile {
                        type_: "RuntimeDefault".into(),
                        localhost_profile: None,
                    }),
                    ..core::PodSecurityContext::default()
                }),
                ..core::PodSpec::default()
            }),
        })
    }
}
