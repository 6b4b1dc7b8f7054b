//! Workloads: Deployment, StatefulSet, DaemonSet, Job and CronJob, built from containers
//! with secure defaults, plus the objects their intent methods add (Service, Ingress,
//! HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicies).

use std::collections::{BTreeMap, BTreeSet};

use girder_core::construct::Construct;
use girder_core::vocabulary::{Reason, ReasonError};
use girder_core::{Error, Result, Scope};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::container::Container;
use crate::labels::AppLabels;
use crate::meta::{match_labels, object_meta};
use crate::namespace::NamespaceHandle;
use crate::rbac::ServiceAccountHandle;
use crate::scaling::{Autoscaling, DisruptionBudget};
use crate::service::{Ingress, Service, ServiceType};
use crate::validate;
use crate::volume::{ClaimTemplate, Volume};

/// Annotation listing the security-context relaxations of a workload and their reasons.
pub const SECURITY_EXCEPTIONS_ANNOTATION: &str = "girder.dev/security-exceptions";

/// Which controller runs the pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// Stateless replicas.
    Deployment,
    /// Replicas with stable names and their own volumes.
    StatefulSet,
    /// One pod per node.
    DaemonSet,
    /// Pods that run to completion.
    Job,
    /// A Job on a schedule (cron syntax, UTC).
    CronJob {
        /// `"0 3 * * *"`.
        schedule: String,
    },
}

impl WorkloadKind {
    fn name(&self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob { .. } => "CronJob",
        }
    }

    fn runs_to_completion(&self) -> bool {
        matches!(self, WorkloadKind::Job | WorkloadKind::CronJob { .. })
    }
}

/// A workload before it is added. Build it, then [`Construct::add`] writes it and the
/// objects its intent methods asked for.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    kind: WorkloadKind,
    namespace: String,
    labels: AppLabels,
    containers: Vec<Container>,
    init_containers: Vec<Container>,
    volumes: Vec<Volume>,
    claims: Vec<ClaimTemplate>,
    replicas: Option<u16>,
    service_account: Option<String>,
    node_selector: BTreeMap<String, String>,
    tolerations: Vec<core::Toleration>,
    affinity: Option<core::Affinity>,
    zone_spread: Option<u16>,
    priority_class: Option<String>,
    termination_grace_seconds: Option<u32>,
    backoff_limit: Option<u16>,
    annotations: BTreeMap<String, String>,
    pod_annotations: BTreeMap<String, String>,
    service: Option<Service>,
    ingress: Option<Ingress>,
    autoscaling: Option<Autoscaling>,
    disruption_budget: Option<DisruptionBudget>,
}

impl Workload {
    fn new(kind: WorkloadKind, namespace: &NamespaceHandle, name: &str) -> Self {
        Self {
            kind,
            namespace: namespace.name().to_owned(),
            labels: AppLabels::new(name),
            containers: Vec::new(),
            init_containers: Vec::new(),
            volumes: Vec::new(),
            claims: Vec::new(),
            replicas: None,
            service_account: None,
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            affinity: None,
            zone_spread: None,
            priority_class: None,
            termination_grace_seconds: None,
            backoff_limit: None,
            annotations: BTreeMap::new(),
            pod_annotations: BTreeMap::new(),
            service: None,
            ingress: None,
            autoscaling: None,
            disruption_budget: None,
        }
    }

    /// A Deployment `name` in `namespace`.
    pub fn deployment(namespace: &NamespaceHandle, name: &str) -> Self {
        Self::new(WorkloadKind::Deployment, namespace, name)
    }

    /// A StatefulSet `name`, with a headless Service `<name>-headless` for its pods' DNS.
    pub fn stateful_set(namespace: &NamespaceHandle, name: &str) -> Self {
        Self::new(WorkloadKind::StatefulSet, namespace, name)
    }

    /// A DaemonSet `name`.
    pub fn daemon_set(namespace: &NamespaceHandle, name: &str) -> Self {
        Self::new(WorkloadKind::DaemonSet, namespace, name)
    }

    /// A Job `name`.
    pub fn job(namespace: &NamespaceHandle, name: &str) -> Self {
        Self::new(WorkloadKind::Job, namespace, name)
    }

    /// A CronJob `name` on `schedule` (cron syntax).
    pub fn cron_job(namespace: &NamespaceHandle, name: &str, schedule: impl Into<String>) -> Self {
        Self::new(
            WorkloadKind::CronJob {
                schedule: schedule.into(),
            },
            namespace,
            name,
        )
    }

    /// `app.kubernetes.io/part-of`: the system it belongs to.
    pub fn part_of(mut self, system: impl Into<String>) -> Self {
        self.labels.part_of = Some(system.into());
        self
    }

    /// `app.kubernetes.io/component` (also part of the selector).
    pub fn component(mut self, component: impl Into<String>) -> Self {
        self.labels.component = Some(component.into());
        self
    }

    /// Add a container.
    pub fn container(mut self, container: Container) -> Self {
        self.containers.push(container);
        self
    }

    /// Add an init container (runs to completion before the others start).
    pub fn init_container(mut self, container: Container) -> Self {
        self.init_containers.push(container);
        self
    }

    /// Add a pod volume.
    pub fn volume(mut self, volume: Volume) -> Self {
        self.volumes.push(volume);
        self
    }

    /// StatefulSet: add a claim template (one PVC per replica, mounted by its name).
    pub fn claim_template(mut self, claim: ClaimTemplate) -> Self {
        self.claims.push(claim);
        self
    }

    /// Replicas (Deployment, StatefulSet; parallelism of a Job). Left to the autoscaler
    /// when [`Workload::autoscale`] is set.
    pub fn replicas(mut self, replicas: u16) -> Self {
        self.replicas = Some(replicas);
        self
    }

    /// Run as `account` (its token is mounted; without one, no token is).
    pub fn service_account(mut self, account: &ServiceAccountHandle) -> Self {
        self.service_account = Some(account.name().to_owned());
        self
    }

    /// Schedule only on nodes with this label.
    pub fn node_selector(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.node_selector.insert(key.into(), value.into());
        self
    }

    /// Tolerate a taint.
    pub fn toleration(mut self, toleration: core::Toleration) -> Self {
        self.tolerations.push(toleration);
        self
    }

    /// Node and pod affinity.
    pub fn affinity(mut self, affinity: core::Affinity) -> Self {
        self.affinity = Some(affinity);
        self
    }

    /// Spread pods across availability zones, at most `max_skew` apart.
    pub fn spread_across_zones(mut self, max_skew: u16) -> Self {
        self.zone_spread = Some(max_skew.max(1));
        self
    }

    /// Priority class of the pods.
    pub fn priority_class(mut self, class: impl Into<String>) -> Self {
        self.priority_class = Some(class.into());
        self
    }

    /// Seconds pods get to stop after SIGTERM.
    pub fn termination_grace(mut self, seconds: u32) -> Self {
        self.termination_grace_seconds = Some(seconds);
        self
    }

    /// Job / CronJob: retries before the Job fails.
    pub fn backoff_limit(mut self, retries: u16) -> Self {
        self.backoff_limit = Some(retries);
        self
    }

    /// An annotation of the workload object.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// An annotation of the pods (`prometheus.io/scrape`).
    pub fn pod_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pod_annotations.insert(key.into(), value.into());
        self
    }

    /// Expose it as a Service named like the workload.
    pub fn expose(mut self, service: Service) -> Self {
        self.service = Some(service);
        self
    }

    /// Route HTTP to its Service through an Ingress named like the workload.
    pub fn ingress(mut self, ingress: Ingress) -> Self {
        self.ingress = Some(ingress);
        self
    }

    /// Scale it with a HorizontalPodAutoscaler (Deployment, StatefulSet).
    pub fn autoscale(mut self, autoscaling: Autoscaling) -> Self {
        self.autoscaling = Some(autoscaling);
        self
    }

    /// Protect it with a PodDisruptionBudget.
    pub fn disruption_budget(mut self, budget: DisruptionBudget) -> Self {
        self.disruption_budget = Some(budget);
        self
    }
}

impl Construct for Workload {
    type Handle = WorkloadHandle;

    /// Write the workload and the objects its intents ask for as construct `id`, into the
    /// scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        let scope = &mut scope.child(id)?;
        let at = scope.location();
        let name = self.labels.name.clone();
        validate::dns_label(&at, "workload name", &name)?;
        let what = format!("{} {}/{name}", self.kind.name(), self.namespace);
        if self.containers.is_empty() {
            return Err(Error::invalid(&at, format!("{what} has no container")));
        }
        if !self.claims.is_empty() && self.kind != WorkloadKind::StatefulSet {
            return Err(Error::invalid(
                &at,
                format!(
                    "{what}: claim templates belong to StatefulSets; mount a PersistentVolumeClaim volume instead"
                ),
            ));
        }
        self.check_mounts(&at, &what)?;
        let selector = self.labels.selector();
        let labels = self.labels.all();
        // The workload's labels are its pods' labels and (a subset) its selector.
        validate::labels(&at, &what, &labels)?;
        let template = self.pod_template(&at, &labels, &selector)?;
        let mut annotations = self.annotations.clone();
        let exceptions: Vec<String> = self
            .containers
            .iter()
            .chain(&self.init_containers)
            .flat_map(Container::exception_notes)
            .collect();
        if !exceptions.is_empty() {
            annotations.insert(SECURITY_EXCEPTIONS_ANNOTATION.into(), exceptions.join("; "));
        }
        let metadata = object_meta(Some(&self.namespace), &name, labels.clone(), annotations);
        let replicas = if self.autoscaling.is_some() {
            None
        } else {
            self.replicas.map(i32::from)
        };
        let headless = format!("{name}-headless");
        match &self.kind {
            WorkloadKind::Deployment => crate::meta::add_object(
                scope,
                &apps::Deployment {
                    metadata,
                    spec: Some(apps::DeploymentSpec {
                        replicas,
                        selector: match_labels(selector.clone()),
                        template,
                        revision_history_limit: Some(5),
                        ..apps::DeploymentSpec::default()
                    }),
                    ..apps::Deployment::default()
                },
            )?,
            WorkloadKind::StatefulSet => {
                let claims = self
                    .claims
                    .iter()
                    .map(|c| c.build(&at, &labels))
                    .collect::<Result<Vec<_>>>()?;
                crate::meta::add_object(
                    scope,
                    &apps::StatefulSet {
                        metadata,
                        spec: Some(apps::StatefulSetSpec {
                            replicas,
                            selector: match_labels(selector.clone()),
                            service_name: Some(headless.clone()),
                            template,
                            volume_claim_templates: (!claims.is_empty()).then_some(claims),
                            ..apps::StatefulSetSpec::default()
                        }),
                        ..apps::StatefulSet::default()
                    },
                )?;
                let ports = self.all_ports().map(|(n, p)| (p, n.to_owned())).collect();
                let service = Service {
                    kind: ServiceType::Headless,
                    ports,
                    annotations: BTreeMap::new(),
                };
                self.add_service(scope, &at, &headless, &service, true)?;
            }
            WorkloadKind::DaemonSet => crate::meta::add_object(
                scope,
                &apps::DaemonSet {
                    metadata,
                    spec: Some(apps::DaemonSetSpec {
                        selector: match_labels(selector.clone()),
                        template,
                        ..apps::DaemonSetSpec::default()
                    }),
                    ..apps::DaemonSet::default()
                },
            )?,
            WorkloadKind::Job => crate::meta::add_object(
                scope,
                &batch::Job {
                    metadata,
                    spec: Some(self.job_spec(template)),
                    ..batch::Job::default()
                },
            )?,
            WorkloadKind::CronJob { schedule } => {
                validate::cron_schedule(&at, &what, schedule)?;
                crate::meta::add_object(
                    scope,
                    &batch::CronJob {
                        metadata,
                        spec: Some(batch::CronJobSpec {
                            schedule: schedule.clone(),
                            concurrency_policy: Some("Forbid".into()),
                            successful_jobs_history_limit: Some(3),
                            failed_jobs_history_limit: Some(3),
                            job_template: batch::JobTemplateSpec {
                                metadata: None,
                                spec: Some(self.job_spec(template)),
                            },
                            ..batch::CronJobSpec::default()
                        }),
                        ..batch::CronJob::default()
                    },
                )?
            }
        }

        let mut service_name = None;
        if let Some(service) = &self.service {
            if self.kind.runs_to_completion() {
                return Err(Error::invalid(
                    &at,
                    format!("{what} runs to completion; it cannot be exposed as a Service"),
                ));
            }
            self.add_service(scope, &at, &name, service, false)?;
            service_name = Some(name.clone());
        }
        if let Some(ingress) = &self.ingress {
            let Some(service) = &self.service else {
                return Err(Error::invalid(
                    &at,
                    format!("{what}: expose it as a Service before routing an Ingress to it"),
                ));
            };
            self.add_ingress(scope, &at, &name, ingress, service)?;
        }
        if let Some(scaling) = &self.autoscaling {
            self.add_autoscaler(scope, &at, &what, scaling)?;
        }
        if let Some(budget) = &self.disruption_budget {
            if self.kind.runs_to_completion() || self.kind == WorkloadKind::DaemonSet {
                return Err(Error::invalid(
                    &at,
                    format!("{what}: a disruption budget protects Deployments and StatefulSets"),
                ));
            }
            let (min_available, max_unavailable) = match budget {
                DisruptionBudget::MinAvailable(n) => (Some(IntOrString::Int(i32::from(*n))), None),
                DisruptionBudget::MaxUnavailable(n) => {
                    (None, Some(IntOrString::Int(i32::from(*n))))
                }
            };
            let replicas = self
                .autoscaling
                .as_ref()
                .map(|a| a.min)
                .or(self.replicas)
                .unwrap_or(1);
            if let DisruptionBudget::MinAvailable(n) = budget {
                if *n >= replicas {
                    return Err(Error::invalid(
                        &at,
                        format!(
                            "{what}: a budget of {n} available pods with {replicas} replica(s) blocks every node drain; lower it or add replicas"
                        ),
                    ));
                }
            }
            crate::meta::add_object(
                scope,
                &policy::PodDisruptionBudget {
                    metadata: object_meta(
                        Some(&self.namespace),
                        &name,
                        labels.clone(),
                        BTreeMap::new(),
                    ),
                    spec: Some(policy::PodDisruptionBudgetSpec {
                        min_available,
                        max_unavailable,
                        selector: Some(match_labels(selector.clone())),
                        ..policy::PodDisruptionBudgetSpec::default()
                    }),
                    ..policy::PodDisruptionBudget::default()
                },
            )?;
        }
        Ok(WorkloadHandle {
            kind: self.kind.name(),
            namespace: self.namespace.clone(),
            name,
            selector,
            port_names: self.all_ports().map(|(n, _)| n.to_owned()).collect(),
            service: service_name,
        })
    }
}

impl Workload {
    /// Every container port, (name, number).
    fn all_ports(&self) -> impl Iterator<Item = (&str, u16)> {
        self.containers
            .iter()
            .flat_map(|c| c.ports.iter().map(|p| (p.name.as_str(), p.number)))
    }

    fn check_mounts(&self, at: &str, what: &str) -> Result<()> {
        let mut names = BTreeSet::new();
        for volume in &self.volumes {
            if !names.insert(volume.name.as_str()) {
                return Err(Error::invalid(
                    at,
                    format!("{what} has two volumes named {:?}", volume.name),
                ));
            }
        }
        for claim in &self.claims {
            if !names.insert(claim.name.as_str()) {
                return Err(Error::invalid(
                    at,
                    format!(
                        "{what}: claim template {:?} has the name of another volume",
                        claim.name
                    ),
                ));
            }
        }
        let mut containers = BTreeSet::new();
        for container in self.containers.iter().chain(&self.init_containers) {
            if !containers.insert(container.name.as_str()) {
                return Err(Error::invalid(
                    at,
                    format!("{what} has two containers named {:?}", container.name),
                ));
            }
            for (volume, path, _) in &container.mounts {
                if !names.contains(volume.as_str()) {
                    let known: Vec<&str> = names.iter().copied().collect();
                    return Err(Error::invalid(
                        at,
                        format!(
                            "{what}: container {:?} mounts {volume:?} at {path}, which is not a volume of the pod (volumes: {})",
                            container.name,
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn pod_template(
        &self,
        at: &str,
        labels: &BTreeMap<String, String>,
        selector: &BTreeMap<String, String>,
    ) -> Result<core::PodTemplateSpec> {
        let pods = format!(
            "{} {}/{} pod template",
            self.kind.name(),
            self.namespace,
            self.labels.name
        );
        validate::annotations(at, &pods, &self.pod_annotations)?;
        validate::labels(at, &format!("{pods} nodeSelector"), &self.node_selector)?;
        let containers = self
            .containers
            .iter()
            .map(|c| c.build(at))
            .collect::<Result<Vec<_>>>()?;
        let init_containers = self
            .init_containers
            .iter()
            .map(|c| c.build(at))
            .collect::<Result<Vec<_>>>()?;
        let volumes = self
            .volumes
            .iter()
            .map(|v| v.build(at))
            .collect::<Result<Vec<_>>>()?;
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
                automount_service_account_token: Some(self.service_account.is_some()),
                node_selector: (!self.node_selector.is_empty()).then(|| self.node_selector.clone()),
                tolerations: (!self.tolerations.is_empty()).then(|| self.tolerations.clone()),
                affinity: self.affinity.clone(),
                topology_spread_constraints: spread,
                priority_class_name: self.priority_class.clone(),
                termination_grace_period_seconds: self.termination_grace_seconds.map(i64::from),
                restart_policy: self
                    .kind
                    .runs_to_completion()
                    .then(|| "OnFailure".to_owned()),
                security_context: Some(core::PodSecurityContext {
                    run_as_non_root: Some(!runs_as_root),
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

    fn job_spec(&self, template: core::PodTemplateSpec) -> batch::JobSpec {
        batch::JobSpec {
            template,
            backoff_limit: Some(i32::from(self.backoff_limit.unwrap_or(3))),
            parallelism: self.replicas.map(i32::from),
            ttl_seconds_after_finished: matches!(self.kind, WorkloadKind::Job).then_some(86_400),
            ..batch::JobSpec::default()
        }
    }

    fn add_service(
        &self,
        scope: &mut Scope<'_>,
        at: &str,
        name: &str,
        service: &Service,
        for_stateful_set: bool,
    ) -> Result<()> {
        if service.ports.is_empty() {
            return Err(Error::invalid(
                at,
                format!(
                    "Service {}/{name} has no ports; the workload's containers declare none",
                    self.namespace
                ),
            ));
        }
        let known: BTreeSet<&str> = self.all_ports().map(|(n, _)| n).collect();
        for (port, target) in &service.ports {
            if *port == 0 {
                return Err(Error::invalid(
                    at,
                    format!(
                        "Service {}/{name}: 0 is not a port (1-65535)",
                        self.namespace
                    ),
                ));
            }
            if !known.contains(target.as_str()) {
                return Err(Error::invalid(
                    at,
                    format!(
                        "Service {}/{name} forwards to port {target:?}, which no container of {} declares ({})",
                        self.namespace,
                        self.labels.name,
                        known.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let ports = service
            .ports
            .iter()
            .map(|(port, target)| core::ServicePort {
                name: Some(target.clone()),
                port: i32::from(*port),
                target_port: Some(IntOrString::String(target.clone())),
                ..core::ServicePort::default()
            })
            .collect();
        let (service_type, cluster_ip) = match service.kind {
            ServiceType::ClusterIp => (None, None),
            ServiceType::Headless => (None, Some("None".to_owned())),
            ServiceType::LoadBalancer => (Some("LoadBalancer".to_owned()), None),
        };
        let object = core::Service {
            metadata: object_meta(
                Some(&self.namespace),
                name,
                self.labels.all(),
                service.annotations.clone(),
            ),
            spec: Some(core::ServiceSpec {
                type_: service_type,
                cluster_ip,
                selector: Some(self.labels.selector()),
                ports: Some(ports),
                publish_not_ready_addresses: for_stateful_set.then_some(true),
                ..core::ServiceSpec::default()
            }),
            ..core::Service::default()
        };
        crate::meta::add_object(scope, &object)
    }

    fn add_ingress(
        &self,
        scope: &mut Scope<'_>,
        at: &str,
        name: &str,
        ingress: &Ingress,
        service: &Service,
    ) -> Result<()> {
        let what = format!("Ingress {}/{name}", self.namespace);
        if ingress.rules.is_empty() {
            return Err(Error::invalid(
                at,
                format!("{what} has no paths; add one with `.path(\"/\", port)`"),
            ));
        }
        let inbound = ingress
            .annotations
            .get("alb.ingress.kubernetes.io/inbound-cidrs");
        let mut restricted = inbound.is_some();
        if let Some(list) = inbound {
            let cidrs: Vec<&str> = list.split(',').map(str::trim).collect();
            if cidrs.iter().all(|c| c.is_empty()) {
                return Err(Error::invalid(
                    at,
                    format!("{what}: the inbound CIDR allowlist is empty; name the client CIDRs"),
                ));
            }
            for cidr in &cidrs {
                validate::cidr(at, &format!("{what} inbound CIDR"), cidr)?;
            }
            // An allowlist holding the whole internet restricts nothing.
            restricted = !cidrs.iter().any(|c| c.ends_with("/0"));
        }
        validate::dns_subdomain(at, &format!("{what} class"), &ingress.class)?;
        let tls_hosts = ingress.tls.iter().flat_map(|(hosts, _)| hosts.iter());
        for host in ingress
            .rules
            .iter()
            .filter_map(|(h, _, _)| h.as_ref())
            .chain(tls_hosts)
        {
            // A wildcard is allowed as the first label only.
            let name = host.strip_prefix("*.").unwrap_or(host);
            validate::dns_subdomain(at, &format!("{what} host"), name)?;
        }
        for (_, secret) in &ingress.tls {
            validate::dns_subdomain(at, &format!("{what} TLS Secret"), secret)?;
        }
        if ingress.internet_facing && !restricted {
            match ingress.open_to_internet.as_deref().map(Reason::new) {
                Some(Ok(_)) => {}
                Some(Err(e @ ReasonError::ControlCharacter(_))) => {
                    return Err(Error::invalid(
                        at,
                        format!("{what}: the reason given to `.open_to_internet(reason)`: {e}"),
                    ));
                }
                _ => {
                    return Err(Error::invalid(
                        at,
                        format!(
                            "{what} is internet-facing with no inbound CIDR allowlist (or one admitting every address); restrict it with `.inbound_cidrs([...])` or say why it is public with `.open_to_internet(reason)`"
                        ),
                    ));
                }
            }
        }
        let mut annotations = ingress.annotations.clone();
        if let Some(reason) = &ingress.open_to_internet {
            annotations.insert("girder.dev/open-to-internet".into(), reason.clone());
        }
        let mut rules: BTreeMap<Option<String>, Vec<net::HTTPIngressPath>> = BTreeMap::new();
        for (host, path, port) in &ingress.rules {
            if !service.ports.iter().any(|(p, _)| p == port) {
                return Err(Error::invalid(
                    at,
                    format!(
                        "{what} routes {path} to port {port}, which Service {}/{name} does not serve",
                        self.namespace
                    ),
                ));
            }
            if !path.starts_with('/') {
                return Err(Error::invalid(
                    at,
                    format!("{what}: path {path:?} must start with '/'"),
                ));
            }
            rules
                .entry(host.clone())
                .or_default()
                .push(net::HTTPIngressPath {
                    path: Some(path.clone()),
                    path_type: "Prefix".into(),
                    backend: net::IngressBackend {
                        service: Some(net::IngressServiceBackend {
                            name: name.to_owned(),
                            port: Some(net::ServiceBackendPort {
                                number: Some(i32::from(*port)),
                                name: None,
                            }),
                        }),
                        resource: None,
                    },
                });
        }
        let object = net::Ingress {
            metadata: object_meta(Some(&self.namespace), name, self.labels.all(), annotations),
            spec: Some(net::IngressSpec {
                ingress_class_name: Some(ingress.class.clone()),
                rules: Some(
                    rules
                        .into_iter()
                        .map(|(host, paths)| net::IngressRule {
                            host,
                            http: Some(net::HTTPIngressRuleValue { paths }),
                        })
                        .collect(),
                ),
                tls: (!ingress.tls.is_empty()).then(|| {
                    ingress
                        .tls
                        .iter()
                        .map(|(hosts, secret)| net::IngressTLS {
                            hosts: Some(hosts.clone()),
                            secret_name: Some(secret.clone()),
                        })
                        .collect()
                }),
                ..net::IngressSpec::default()
            }),
            ..net::Ingress::default()
        };
        crate::meta::add_object(scope, &object)
    }

    fn add_autoscaler(
        &self,
        scope: &mut Scope<'_>,
        at: &str,
        what: &str,
        scaling: &Autoscaling,
    ) -> Result<()> {
        if !matches!(
            self.kind,
            WorkloadKind::Deployment | WorkloadKind::StatefulSet
        ) {
            return Err(Error::invalid(
                at,
                format!("{what}: only Deployments and StatefulSets autoscale"),
            ));
        }
        if scaling.min == 0 || scaling.min > scaling.max {
            return Err(Error::invalid(
                at,
                format!(
                    "{what}: autoscaling between {} and {} replicas; need 1 <= min <= max",
                    scaling.min, scaling.max
                ),
            ));
        }
        if !(1..=100).contains(&scaling.cpu_percent) {
            return Err(Error::invalid(
                at,
                format!(
                    "{what}: CPU utilization target {}% is not 1-100",
                    scaling.cpu_percent
                ),
            ));
        }
        let name = &self.labels.name;
        let object = autoscaling::HorizontalPodAutoscaler {
            metadata: object_meta(
                Some(&self.namespace),
                name,
                self.labels.all(),
                BTreeMap::new(),
            ),
            spec: Some(autoscaling::HorizontalPodAutoscalerSpec {
                scale_target_ref: autoscaling::CrossVersionObjectReference {
                    api_version: Some("apps/v1".into()),
                    kind: self.kind.name().into(),
                    name: name.clone(),
                },
                min_replicas: Some(i32::from(scaling.min)),
                max_replicas: i32::from(scaling.max),
                metrics: Some(vec![autoscaling::MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(autoscaling::ResourceMetricSource {
                        name: "cpu".into(),
                        target: autoscaling::MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(i32::from(scaling.cpu_percent)),
                            ..autoscaling::MetricTarget::default()
                        },
                    }),
                    ..autoscaling::MetricSpec::default()
                }]),
                ..autoscaling::HorizontalPodAutoscalerSpec::default()
            }),
            ..autoscaling::HorizontalPodAutoscaler::default()
        };
        crate::meta::add_object(scope, &object)
    }
}

/// A workload in the stack: its selector and ports, for Services, network policies and
/// monitors that need to find its pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadHandle {
    kind: &'static str,
    namespace: String,
    name: String,
    selector: BTreeMap<String, String>,
    port_names: Vec<String>,
    service: Option<String>,
}

impl WorkloadHandle {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `Deployment`, `StatefulSet`, ...
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The labels that select its pods.
    pub fn selector(&self) -> &BTreeMap<String, String> {
        &self.selector
    }

    /// The Service it is exposed as, if any.
    pub fn service_name(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// Allow pods of `other` to reach this workload's named port `port` (a NetworkPolicy;
    /// meaningful on top of the namespace's default-deny policy).
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        other: &WorkloadHandle,
        port: &str,
    ) -> Result<()> {
        let peer = net::NetworkPolicyPeer {
            pod_selector: Some(match_labels(other.selector.clone())),
            namespace_selector: (other.namespace != self.namespace)
                .then(|| namespace_selector(&other.namespace)),
            ip_block: None,
        };
        self.allow(
            scope,
            &format!("{}-from-{}", self.name, other.name),
            peer,
            port,
        )
    }

    /// Allow every pod of namespace `namespace` to reach named port `port`.
    pub fn allow_from_namespace(
        &self,
        scope: &mut Scope<'_>,
        namespace: &str,
        port: &str,
    ) -> Result<()> {
        validate::dns_label(&scope.location(), "namespace", namespace)?;
        let peer = net::NetworkPolicyPeer {
            namespace_selector: Some(namespace_selector(namespace)),
            ..net::NetworkPolicyPeer::default()
        };
        self.allow(
            scope,
            &format!("{}-from-ns-{namespace}", self.name),
            peer,
            port,
        )
    }

    /// Allow clients in `cidr` (a load balancer's subnets) to reach named port `port`.
    pub fn allow_from_cidr(
        &self,
        scope: &mut Scope<'_>,
        id: &str,
        cidr: &str,
        port: &str,
    ) -> Result<()> {
        validate::cidr(
            &scope.location(),
            &format!("NetworkPolicy {}-from-{id} ipBlock", self.name),
            cidr,
        )?;
        let peer = net::NetworkPolicyPeer {
            ip_block: Some(net::IPBlock {
                cidr: cidr.to_owned(),
                except: None,
            }),
            ..net::NetworkPolicyPeer::default()
        };
        self.allow(scope, &format!("{}-from-{id}", self.name), peer, port)
    }

    fn allow(
        &self,
        scope: &mut Scope<'_>,
        name: &str,
        peer: net::NetworkPolicyPeer,
        port: &str,
    ) -> Result<()> {
        let at = scope.location();
        validate::dns_label(&at, "NetworkPolicy name", name)?;
        if !self.port_names.iter().any(|p| p == port) {
            return Err(Error::invalid(
                at,
                format!(
                    "{} {}/{}: no container port named {port:?} to allow traffic to (ports: {})",
                    self.kind,
                    self.namespace,
                    self.name,
                    self.port_names.join(", ")
                ),
            ));
        }
        let object = net::NetworkPolicy {
            metadata: object_meta(
                Some(&self.namespace),
                name,
                crate::meta::plain_labels(name),
                BTreeMap::new(),
            ),
            spec: Some(net::NetworkPolicySpec {
                pod_selector: Some(match_labels(self.selector.clone())),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(vec![net::NetworkPolicyIngressRule {
                    from: Some(vec![peer]),
                    ports: Some(vec![net::NetworkPolicyPort {
                        port: Some(IntOrString::String(port.to_owned())),
                        protocol: Some("TCP".into()),
                        end_port: None,
                    }]),
                }]),
                ..net::NetworkPolicySpec::default()
            }),
        };
        crate::meta::add_object(scope, &object)
    }
}

fn namespace_selector(
    namespace: &str,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector {
    match_labels(BTreeMap::from([(
        "kubernetes.io/metadata.name".to_owned(),
        namespace.to_owned(),
    )]))
}
