//! [`Monitoring`]: Prometheus, Alertmanager and Grafana in the cluster, as one
//! kube-prometheus-stack release with typed values, sized for a small single-node cluster
//! by default.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_iam::Statement;
use girder_k8s::charts::ChartResources;
use girder_k8s::{
    AwsWebIdentity, Delivery, Namespace, NamespaceHandle, PodSecurity, Release, ReleaseHandle,
};
use serde_json::json;

use crate::alert::AlertGroup;
use crate::error::ObservabilityError;
use crate::promql::Duration;
use crate::routing::Routing;
use crate::scrape::{Scrape, Via};
use crate::values::{
    AlertRoute, AlertmanagerConfig, AlertmanagerValues, ComponentSpec, DefaultRules, Enabled,
    GrafanaAdminValues, GrafanaSidecar, GrafanaValues, KubePrometheusStackValues,
    PrometheusSpecValues, PrometheusValues, Receiver, RulesEntry, ServiceAccountValues,
    SidecarDashboards, Sigv4, SnsConfig, Subchart,
};

/// The namespace the stack runs in unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "monitoring";
/// The release name unless told otherwise; its `release` label selects monitors and rules.
pub const DEFAULT_RELEASE: &str = "kube-prometheus-stack";
/// The label the chart puts on its own monitors and rules, and that Prometheus selects.
pub(crate) const RELEASE_LABEL: &str = "release";
/// Metric families the chart scrapes itself (kube-state-metrics, the node exporter,
/// Prometheus's own `up`) that alerts commonly read; part of
/// [`MonitoringHandle::scraped_metrics`].
pub const CHART_SCRAPED_METRICS: [&str; 8] = [
    "up",
    "kube_deployment_status_replicas_available",
    "kube_statefulset_status_replicas_ready",
    "kube_pod_container_status_restarts_total",
    "kube_pod_status_ready",
    "node_memory_MemAvailable_bytes",
    "node_filesystem_avail_bytes",
    "container_cpu_usage_seconds_total",
];
/// The ServiceAccount annotation EKS's pod identity webhook reads (IRSA).
const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// An SNS topic's ARN, known at synth (`arn:aws:sns:us-east-1:123456789012:alerts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnsTopicArn {
    arn: String,
    region: String,
}

impl SnsTopicArn {
    /// Parse `arn`.
    pub fn new(arn: impl Into<String>) -> std::result::Result<Self, ObservabilityError> {
        let arn = arn.into();
        let parts: Vec<&str> = arn.split(':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && ["aws", "aws-cn", "aws-us-gov"].contains(&parts[1])
            && parts[2] == "sns"
            && !parts[3].is_empty()
            && parts[3]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && !parts[5].is_empty()
            && parts[5].len() <= 256
            && parts[5]
                .strip_suffix(".fifo")
                .unwrap_or(parts[5])
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(ObservabilityError::TopicArn(arn));
        }
        let region = parts[3].to_owned();
        Ok(Self { arn, region })
    }

    /// The ARN.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The topic's region (Alertmanager signs for it).
    pub fn region(&self) -> &str {
        &self.region
    }
}

impl fmt::Display for SnsTopicArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// The credentials Alertmanager signs its SNS `Publish` calls with (SigV4, the AWS SDK's
/// default chain). Whichever role it is needs exactly [`MonitoringHandle::sns_publish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnsAuth {
    /// The node's instance role through IMDSv2 (K3s, MicroK8s on EC2: no pod identity).
    /// The node role gets `sns:Publish` on the topic only. With the metadata hop limit at
    /// 1, pods cannot reach 169.254.169.254; Alertmanager runs on the node's network
    /// (`hostNetwork`, ports 9093 / 9094 on the node) so it alone of the monitoring pods
    /// can.
    NodeRole,
    /// An IAM role for Alertmanager's ServiceAccount (EKS IRSA: the cluster's webhook
    /// injects the token): no other pod can use it.
    ServiceAccountRole {
        /// The role's ARN.
        role_arn: String,
    },
    /// An IAM role Alertmanager assumes with a projected token of its ServiceAccount
    /// ([`ALERTMANAGER_SERVICE_ACCOUNT`]) without a webhook (girder-k3s's pod identity):
    /// the token volume, its mount and the SDK's settings go into the Alertmanager spec,
    /// and Alertmanager stays on the pod network, away from the node role.
    WebIdentity(AwsWebIdentity),
}

/// The name of Alertmanager's ServiceAccount (set in the chart's values, so a role's
/// trust can name `system:serviceaccount:<namespace>:alertmanager` before the release
/// exists).
pub const ALERTMANAGER_SERVICE_ACCOUNT: &str = "alertmanager";

/// Alertmanager sending every alert (except the chart's always-firing `Watchdog`) to one
/// SNS topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnsRoute {
    topic: SnsTopicArn,
    auth: SnsAuth,
    subject: String,
}

impl SnsRoute {
    /// Route to `topic`, authenticating as `auth`.
    pub fn new(topic: SnsTopicArn, auth: SnsAuth) -> Self {
        Self {
            topic,
            auth,
            subject: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}".into(),
        }
    }
}

/// Where Prometheus keeps its TSDB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// A pod-local `emptyDir` of at most `size_limit`: lost when the pod moves or the
    /// node goes, never pins the pod to a node (spot nodes without a volume that follows
    /// the pod).
    EmptyDir {
        /// `4Gi`.
        size_limit: String,
    },
    /// A PersistentVolumeClaim of `size` in `class` (the cluster default when `None`).
    Claim {
        /// `20Gi`.
        size: String,
        /// The StorageClass.
        class: Option<String>,
    },
}

/// Grafana's admin credentials: an existing Secret's keys, never a literal password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrafanaAdmin {
    secret: String,
    user_key: String,
    password_key: String,
}

impl GrafanaAdmin {
    /// Secret `name` in the monitoring namespace, keys `admin-user` / `admin-password`.
    pub fn existing_secret(name: impl Into<String>) -> Self {
        Self {
            secret: name.into(),
            user_key: "admin-user".into(),
            password_key: "admin-password".into(),
        }
    }

    /// Other key names.
    #[must_use]
    pub fn keys(mut self, user_key: impl Into<String>, password_key: impl Into<String>) -> Self {
        self.user_key = user_key.into();
        self.password_key = password_key.into();
        self
    }

    /// The Secret's name.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// A part of the stack with its own requests and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// Prometheus.
    Prometheus,
    /// Grafana.
    Grafana,
    /// Grafana's dashboard and data source sidecars (each).
    GrafanaSidecars,
    /// Alertmanager.
    Alertmanager,
    /// The Prometheus operator.
    Operator,
    /// kube-state-metrics.
    KubeStateMetrics,
    /// The node exporter (one per node).
    NodeExporter,
}

impl Component {
    /// Every component.
    pub const ALL: [Component; 7] = [
        Component::Prometheus,
        Component::Grafana,
        Component::GrafanaSidecars,
        Component::Alertmanager,
        Component::Operator,
        Component::KubeStateMetrics,
        Component::NodeExporter,
    ];

    /// The default: what one small node (2 vCPU, 8 GiB, shared with the workloads) can
    /// spare. About 100m CPU and 750Mi memory requested in all (the operator adds 10m /
    /// 50Mi for each config reloader); limits leave room to burst.
    pub fn small_node(self) -> ChartResources {
        let (cpu, memory) = match self {
            Component::Prometheus => (("50m", "1"), ("384Mi", "1Gi")),
            Component::Grafana => (("20m", "500m"), ("128Mi", "256Mi")),
            Component::GrafanaSidecars => (("5m", "100m"), ("48Mi", "96Mi")),
            Component::Alertmanager => (("5m", "100m"), ("32Mi", "64Mi")),
            Component::Operator => (("5m", "200m"), ("48Mi", "128Mi")),
            Component::KubeStateMetrics => (("5m", "100m"), ("48Mi", "128Mi")),
            Component::NodeExporter => (("5m", "100m"), ("24Mi", "64Mi")),
        };
        ChartResources::new(cpu, memory)
    }
}

/// Prometheus, Alertmanager and Grafana: kube-prometheus-stack.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Monitoring {
    release: String,
    namespace: String,
    delivery: Delivery,
    grafana_admin: GrafanaAdmin,
    retention: Duration,
    retention_size: String,
    storage: Storage,
    resources: BTreeMap<Component, ChartResources>,
    scrape_control_plane: bool,
    sns: Option<SnsRoute>,
    routing: Option<Routing>,
    node_selector: BTreeMap<String, String>,
    alertmanager_storage: Option<(String, Option<String>)>,
    node_exporter_namespace: Option<String>,
    scrapes: Vec<Scrape>,
    groups: Vec<AlertGroup>,
}

impl Monitoring {
    /// The stack in namespace `monitoring`, release `kube-prometheus-stack`, delivered by
    /// K3s's Helm controller, sized for one small node ([`Component::small_node`]):
    /// Prometheus keeps 7 days or 3 GB in a 4 GiB `emptyDir`; the control plane's
    /// components are not scraped (K3s and MicroK8s run them in one process; EKS does not
    /// expose them).
    pub fn new(grafana_admin: GrafanaAdmin) -> Self {
        Self {
            release: DEFAULT_RELEASE.into(),
            namespace: DEFAULT_NAMESPACE.into(),
            delivery: Delivery::K3s,
            grafana_admin,
            retention: Duration::days(7),
            retention_size: "3GB".into(),
            storage: Storage::EmptyDir {
                size_limit: "4Gi".into(),
            },
            resources: Component::ALL
                .into_iter()
                .map(|c| (c, c.small_node()))
                .collect(),
            scrape_control_plane: false,
            sns: None,
            routing: None,
            node_selector: BTreeMap::new(),
            alertmanager_storage: None,
            node_exporter_namespace: None,
            scrapes: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Another namespace (default `monitoring`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// How the release reaches the cluster (default: K3s's Helm controller).
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// How long samples are kept (default 7 days) and the most the TSDB may hold
    /// (default `3GB`, Prometheus's units).
    pub fn retention(mut self, time: Duration, size: impl Into<String>) -> Self {
        self.retention = time;
        self.retention_size = size.into();
        self
    }

    /// Where the TSDB lives (default: a 4 GiB `emptyDir`).
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// The requests and limits of one component (defaults: [`Component::small_node`]).
    pub fn resources(mut self, component: Component, resources: ChartResources) -> Self {
        self.resources.insert(component, resources);
        self
    }

    fn resources_of(&self, component: Component) -> Option<ChartResources> {
        self.resources.get(&component).cloned()
    }

    /// Scrape the controller manager, scheduler, kube-proxy and etcd (a self-managed
    /// control plane that serves their metrics).
    pub fn scrape_control_plane(mut self) -> Self {
        self.scrape_control_plane = true;
        self
    }

    /// Send alerts to an SNS topic.
    pub fn alert_to_sns(mut self, route: SnsRoute) -> Self {
        self.sns = Some(route);
        self
    }

    /// Send alerts to people by what they match ([`Routing`]): Alertmanager mounts the
    /// routing's Secret and reads every credential from it. Not with
    /// [`Monitoring::alert_to_sns`].
    pub fn alert_through(mut self, routing: Routing) -> Self {
        self.routing = Some(routing);
        self
    }

    /// Run Prometheus, Alertmanager, Grafana, the operator and kube-state-metrics only on
    /// nodes labelled `key=value` (a system pool); the node exporter still runs on every
    /// node.
    pub fn node_selector(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.node_selector.insert(key.into(), value.into());
        self
    }

    /// Run the node exporter (which reads the host: its PID, network and file system
    /// namespaces) in namespace `name`, privileged, alone; the stack's own namespace is
    /// then Pod Security `baseline` instead of `privileged`, so Prometheus, Grafana,
    /// Alertmanager and the operator get a floor.
    pub fn node_exporter_namespace(mut self, name: impl Into<String>) -> Self {
        self.node_exporter_namespace = Some(name.into());
        self
    }

    /// Keep Alertmanager's state (silences, notification log) on a claim of `size` in
    /// `class` (the cluster default when `None`) instead of the pod's `emptyDir`.
    pub fn alertmanager_storage(mut self, size: impl Into<String>, class: Option<String>) -> Self {
        self.alertmanager_storage = Some((size.into(), class));
        self
    }

    /// Scrape a workload: rendered by the release (after the operator's CRDs), plus the
    /// NetworkPolicy admitting Prometheus to the port.
    pub fn scrape(mut self, scrape: Scrape) -> Self {
        self.scrapes.push(scrape);
        self
    }

    /// Alerting rules: rendered by the release as PrometheusRule `<group>`.
    pub fn alerts(mut self, group: AlertGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// The chart values, checked.
    pub fn values(&self) -> std::result::Result<KubePrometheusStackValues, ObservabilityError> {
        crate::alert::one_line("Grafana admin Secret", &self.grafana_admin.secret)?;
        self.retention.non_zero("retention")?;
        size(
            "retention size",
            &self.retention_size,
            &["B", "KB", "MB", "GB", "TB", "PB"],
            "a whole number of B, KB, MB, GB, TB or PB (Prometheus's units)",
        )?;
        let volume = match &self.storage {
            Storage::EmptyDir { size_limit } => size_limit,
            Storage::Claim { size, .. } => size,
        };
        size(
            "Prometheus volume size",
            volume,
            &["Ki", "Mi", "Gi", "Ti"],
            "a whole number of Ki, Mi, Gi or Ti",
        )?;
        if let Some((size_text, _)) = &self.alertmanager_storage {
            size(
                "Alertmanager volume size",
                size_text,
                &["Ki", "Mi", "Gi", "Ti"],
                "a whole number of Ki, Mi, Gi or Ti",
            )?;
        }
        if self.sns.is_some() && self.routing.is_some() {
            return Err(ObservabilityError::TwoAlertDestinations);
        }
        let routed = self.routing.as_ref().map(Routing::render).transpose()?;
        match self.sns.as_ref().map(|sns| &sns.auth) {
            Some(SnsAuth::ServiceAccountRole { role_arn }) => role_arn_ok(role_arn)?,
            Some(SnsAuth::WebIdentity(identity)) => role_arn_ok(identity.role_arn())?,
            Some(SnsAuth::NodeRole) | None => {}
        }
        let mut names = BTreeSet::new();
        let mut pod_monitors = Vec::new();
        let mut service_monitors = Vec::new();
        for scrape in &self.scrapes {
            scrape.check()?;
            if !names.insert(scrape.name()) {
                return Err(ObservabilityError::Duplicate {
                    what: "scrape".into(),
                    name: scrape.name(),
                });
            }
            match scrape_via(scrape) {
                Via::Pods => pod_monitors.push(scrape.chart_entry()),
                Via::Service => service_monitors.push(scrape.chart_entry()),
            }
        }
        let mut rules = BTreeMap::new();
        for group in &self.groups {
            let rendered = group.rule_group()?;
            if rules
                .insert(
                    group.name().to_owned(),
                    RulesEntry {
                        groups: vec![rendered],
                    },
                )
                .is_some()
            {
                return Err(ObservabilityError::Duplicate {
                    what: "rule group".into(),
                    name: group.name().to_owned(),
                });
            }
        }
        let selector = json!({"matchLabels": {RELEASE_LABEL: self.release}});
        let storage_spec = match &self.storage {
            Storage::EmptyDir { size_limit } => json!({"emptyDir": {"sizeLimit": size_limit}}),
            Storage::Claim { size, class } => {
                let mut spec = json!({
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                });
                if let Some(class) = class {
                    spec["storageClassName"] = json!(class);
                }
                json!({"volumeClaimTemplate": {"spec": spec}})
            }
        };
        let control_plane = if self.scrape_control_plane {
            None
        } else {
            Enabled::off()
        };
        let mut default_rules = DefaultRules::default();
        if !self.scrape_control_plane {
            for set in [
                "etcd",
                "kubeControllerManager",
                "kubeSchedulerAlerting",
                "kubeSchedulerRecording",
                "kubeProxy",
            ] {
                default_rules.rules.insert(set.into(), false);
            }
        }
        Ok(KubePrometheusStackValues {
            crds: Enabled::on(),
            default_rules: Some(default_rules),
            additional_prometheus_rules_map: rules,
            alertmanager: Some(self.alertmanager_values(routed)),
            grafana: Some(GrafanaValues {
                enabled: Some(true),
                admin: Some(GrafanaAdminValues {
                    existing_secret: self.grafana_admin.secret.clone(),
                    user_key: self.grafana_admin.user_key.clone(),
                    password_key: self.grafana_admin.password_key.clone(),
                }),
                sidecar: Some(GrafanaSidecar {
                    dashboards: Some(SidecarDashboards {
                        enabled: true,
                        label: crate::dashboard::SIDECAR_LABEL.0.into(),
                        label_value: crate::dashboard::SIDECAR_LABEL.1.into(),
                        search_namespace: "ALL".into(),
                    }),
                    resources: self.resources_of(Component::GrafanaSidecars),
                }),
                resources: self.resources_of(Component::Grafana),
                persistence: Enabled::off(),
                default_dashboards_enabled: Some(true),
                extra: self.node_selector_extra(),
            }),
            kube_controller_manager: control_plane.clone(),
            kube_scheduler: control_plane.clone(),
            kube_proxy: control_plane.clone(),
            kube_etcd: control_plane,
            kube_state_metrics: Some(Subchart {
                resources: self.resources_of(Component::KubeStateMetrics),
                extra: self.node_selector_extra(),
            }),
            node_exporter: Some(Subchart {
                resources: self.resources_of(Component::NodeExporter),
                extra: self
                    .node_exporter_namespace
                    .iter()
                    .map(|ns| ("namespaceOverride".to_owned(), json!(ns)))
                    .collect(),
            }),
            prometheus_operator: Some(Subchart {
                resources: self.resources_of(Component::Operator),
                extra: self.node_selector_extra(),
            }),
            prometheus: Some(PrometheusValues {
                prometheus_spec: Some(PrometheusSpecValues {
                    retention: Some(self.retention.to_string()),
                    retention_size: Some(self.retention_size.clone()),
                    resources: self.resources_of(Component::Prometheus),
                    storage_spec: Some(storage_spec),
                    service_monitor_selector_nil_uses_helm_values: Some(false),
                    pod_monitor_selector_nil_uses_helm_values: Some(false),
                    rule_selector_nil_uses_helm_values: Some(false),
                    service_monitor_selector: Some(selector.clone()),
                    pod_monitor_selector: Some(selector.clone()),
                    rule_selector: Some(selector),
                    service_monitor_namespace_selector: Some(json!({})),
                    pod_monitor_namespace_selector: Some(json!({})),
                    rule_namespace_selector: Some(json!({})),
                    extra: self.node_selector_extra(),
                }),
                additional_pod_monitors: pod_monitors,
                additional_service_monitors: service_monitors,
            }),
            extra: Default::default(),
        })
    }

    /// `nodeSelector`, for a component's `extra`, when one is set.
    fn node_selector_extra(&self) -> girder_k8s::crds::Extra {
        let mut extra = girder_k8s::crds::Extra::new();
        if !self.node_selector.is_empty() {
            extra.insert("nodeSelector".into(), json!(self.node_selector));
        }
        extra
    }

    fn alertmanager_values(
        &self,
        routed: Option<(AlertRoute, Vec<Receiver>)>,
    ) -> AlertmanagerValues {
        // With the node role, Alertmanager alone of the stack's pods runs on the node's
        // network: the instance metadata service answers only one hop away.
        let on_node_network = matches!(
            self.sns.as_ref().map(|sns| &sns.auth),
            Some(SnsAuth::NodeRole)
        );
        let web_identity = match self.sns.as_ref().map(|sns| &sns.auth) {
            Some(SnsAuth::WebIdentity(identity)) => Some(identity),
            _ => None,
        };
        let spec = Some(ComponentSpec {
            retention: Some(Duration::days(5).to_string()),
            resources: self.resources_of(Component::Alertmanager),
            storage: None,
            host_network: on_node_network.then_some(true),
            dns_policy: on_node_network.then(|| "ClusterFirstWithHostNet".to_owned()),
            // The operator merges `containers` into its own by name: the token's
            // settings reach the alertmanager container, the mount too.
            containers: web_identity.map(|identity| {
                vec![json!({"name": "alertmanager", "env": identity.env_values()})]
            }),
            volumes: web_identity.map(|identity| vec![identity.volume_values()]),
            volume_mounts: web_identity.map(|identity| vec![identity.mount_values()]),
            secrets: self
                .routing
                .as_ref()
                .map(|routing| vec![routing.secret().to_owned()]),
            node_selector: (!self.node_selector.is_empty()).then(|| self.node_selector.clone()),
        });
        let spec = spec.map(|mut spec| {
            if let Some((size, class)) = &self.alertmanager_storage {
                let mut claim = json!({
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                });
                if let Some(class) = class {
                    claim["storageClassName"] = json!(class);
                }
                spec.storage = Some(json!({"volumeClaimTemplate": {"spec": claim}}));
            }
            spec
        });
        if let Some((route, receivers)) = routed {
            return AlertmanagerValues {
                enabled: Some(true),
                config: Some(AlertmanagerConfig {
                    route: Some(route),
                    receivers,
                    extra: Default::default(),
                }),
                service_account: None,
                alertmanager_spec: spec,
                extra: Default::default(),
            };
        }
        let Some(sns) = &self.sns else {
            return AlertmanagerValues {
                enabled: Some(true),
                alertmanager_spec: spec,
                ..AlertmanagerValues::default()
            };
        };
        let role_arn = match &sns.auth {
            SnsAuth::NodeRole | SnsAuth::WebIdentity(_) => None,
            SnsAuth::ServiceAccountRole { role_arn } => Some(role_arn.clone()),
        };
        let service_account = Some(ServiceAccountValues {
            name: Some(ALERTMANAGER_SERVICE_ACCOUNT.to_owned()),
            annotations: role_arn
                .iter()
                .map(|arn| (IRSA_ANNOTATION.to_owned(), arn.clone()))
                .collect(),
        });
        AlertmanagerValues {
            enabled: Some(true),
            config: Some(AlertmanagerConfig {
                route: Some(AlertRoute {
                    receiver: "sns".into(),
                    group_by: vec!["namespace".into(), "alertname".into()],
                    group_wait: Some("30s".into()),
                    group_interval: Some("5m".into()),
                    repeat_interval: Some("12h".into()),
                    // The chart's Watchdog always fires (it proves the pipeline) and its
                    // InfoInhibitor fires with every info alert; they, and info alerts,
                    // go nowhere rather than to people.
                    routes: [
                        "alertname = \"Watchdog\"",
                        "alertname = \"InfoInhibitor\"",
                        "severity = \"info\"",
                    ]
                    .into_iter()
                    .map(|matcher| AlertRoute {
                        receiver: "null".into(),
                        matchers: vec![matcher.into()],
                        ..AlertRoute::default()
                    })
                    .collect(),
                    ..AlertRoute::default()
                }),
                receivers: vec![
                    Receiver {
                        name: "null".into(),
                        ..Receiver::default()
                    },
                    Receiver {
                        name: "sns".into(),
                        sns_configs: vec![SnsConfig {
                            topic_arn: sns.topic.as_str().to_owned(),
                            sigv4: Sigv4 {
                                region: sns.topic.region().to_owned(),
                                role_arn: None,
                            },
                            subject: Some(sns.subject.clone()),
                            send_resolved: Some(true),
                        }],
                        ..Receiver::default()
                    },
                ],
                extra: Default::default(),
            }),
            service_account,
            alertmanager_spec: spec,
            extra: Default::default(),
        }
    }
}

/// `text` is a positive whole number followed by one of `units`.
fn size(
    what: &str,
    text: &str,
    units: &[&str],
    allowed: &str,
) -> std::result::Result<(), ObservabilityError> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.trim_start_matches('0').is_empty()
        && units.contains(&unit);
    if ok {
        Ok(())
    } else {
        Err(ObservabilityError::Size {
            what: what.into(),
            value: text.into(),
            allowed: allowed.into(),
        })
    }
}

/// An IAM role ARN ([`girder_iam::is_role_arn`]), or the error naming it.
fn role_arn_ok(arn: &str) -> std::result::Result<(), ObservabilityError> {
    if girder_iam::is_role_arn(arn) {
        Ok(())
    } else {
        Err(ObservabilityError::RoleArn(arn.to_owned()))
    }
}

fn scrape_via(scrape: &Scrape) -> Via {
    if scrape.chart_entry().endpoints.is_some() {
        Via::Service
    } else {
        Via::Pods
    }
}

/// The stack in the cluster.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringHandle {
    release: ReleaseHandle,
    topic: Option<SnsTopicArn>,
    scraped: BTreeSet<String>,
}

impl MonitoringHandle {
    /// The release.
    pub fn release(&self) -> &ReleaseHandle {
        &self.release
    }

    /// The namespace Prometheus, Alertmanager and Grafana run in.
    pub fn namespace(&self) -> &str {
        self.release.namespace()
    }

    /// The namespace, as a handle for the objects that go with the stack (dashboards).
    pub fn namespace_handle(&self) -> NamespaceHandle {
        NamespaceHandle::existing(self.release.namespace())
    }

    /// The label Prometheus selects ServiceMonitors, PodMonitors and PrometheusRules by.
    pub fn selector_label(&self) -> (String, String) {
        (RELEASE_LABEL.to_owned(), self.release.name().to_owned())
    }

    /// Every metric family the release's scrapes declare, and [`CHART_SCRAPED_METRICS`].
    pub fn scraped_metrics(&self) -> &BTreeSet<String> {
        &self.scraped
    }

    /// What the role Alertmanager signs with needs: `sns:Publish` on the topic, nothing
    /// else. `None` without an SNS route.
    pub fn sns_publish(&self) -> Option<Statement> {
        self.topic
            .as_ref()
            .map(|topic| Statement::allow(["sns:Publish"]).on([topic.as_str().to_owned()]))
    }
}

impl Construct for Monitoring {
    type Handle = MonitoringHandle;

    /// Write the namespace (privileged, since the node exporter reads the host; baseline
    /// when the node exporter has a namespace of its own, which is then written too), the release
    /// (values file plus its delivery), and the NetworkPolicies admitting Prometheus to
    /// every scraped port, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<MonitoringHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        let values = self.values().map_err(|e| e.at(&at))?;
        let own = match &self.node_exporter_namespace {
            Some(exporter) => {
                let _ = Namespace::new(exporter.clone())
                    .pod_security(PodSecurity::Privileged)
                    .add(scope, "node-exporter-namespace")?;
                PodSecurity::Baseline
            }
            None => PodSecurity::Privileged,
        };
        let _ = Namespace::new(self.namespace.clone())
            .pod_security(own)
            .add(scope, "namespace")?;
        let release = Release::typed(&self.release, &self.namespace, &values)
            .delivery(self.delivery.clone())
            .add(scope, "release")?;
        let mut scraped: BTreeSet<String> = CHART_SCRAPED_METRICS
            .iter()
            .map(|m| (*m).to_owned())
            .collect();
        for scrape in &self.scrapes {
            scrape.allow_prometheus(scope, &self.namespace)?;
            scraped.extend(scrape.metric_names());
        }
        Ok(MonitoringHandle {
            release,
            topic: self.sns.map(|s| s.topic),
            scraped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_role_arns_are_checked() {
        let base = || Monitoring::new(GrafanaAdmin::existing_secret("grafana-admin"));
        assert!(base().values().is_ok());
        for bad in ["3 GB", "3GiB", "GB", "0GB"] {
            assert!(
                matches!(
                    base().retention(Duration::days(7), bad).values(),
                    Err(ObservabilityError::Size { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            base()
                .storage(Storage::EmptyDir {
                    size_limit: "4GB".into()
                })
                .values(),
            Err(ObservabilityError::Size { .. })
        ));
        let topic = || SnsTopicArn::new("arn:aws:sns:us-east-1:123456789012:t").unwrap();
        let with_role = |arn: &str| {
            base()
                .alert_to_sns(SnsRoute::new(
                    topic(),
                    SnsAuth::ServiceAccountRole {
                        role_arn: arn.into(),
                    },
                ))
                .values()
        };
        assert!(with_role("arn:aws:iam::123456789012:role/monitoring/alertmanager").is_ok());
        assert!(matches!(
            with_role("arn:aws:iam::123456789012:user/alertmanager"),
            Err(ObservabilityError::RoleArn(_))
        ));
        assert!(matches!(
            base().retention(Duration::seconds(0), "3GB").values(),
            Err(ObservabilityError::Duration { .. })
        ));
    }

    #[test]
    fn routing_node_selector_and_alertmanager_storage_reach_the_values() {
        let routing = || {
            crate::Routing::new("alert-receivers", "slack").receiver(
                "slack",
                crate::Channel::Slack {
                    webhook_url_key: "slack-webhook-url".into(),
                    channel: "#alerts".into(),
                },
            )
        };
        let values = Monitoring::new(GrafanaAdmin::existing_secret("grafana-admin"))
            .alert_through(routing())
            .node_selector("pool", "system")
            .alertmanager_storage("2Gi", Some("gp3".into()))
            .values()
            .unwrap();
        let json = serde_json::to_value(&values).unwrap();
        let am = &json["alertmanager"];
        assert_eq!(
            am["alertmanagerSpec"]["secrets"],
            json!(["alert-receivers"])
        );
        assert_eq!(am["alertmanagerSpec"]["nodeSelector"]["pool"], "system");
        assert_eq!(
            am["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"],
            "gp3"
        );
        assert_eq!(am["config"]["route"]["receiver"], "slack");
        assert_eq!(
            am["config"]["receivers"][1]["slack_configs"][0]["api_url_file"],
            "/etc/alertmanager/secrets/alert-receivers/slack-webhook-url"
        );
        for pointer in [
            "/prometheus/prometheusSpec/nodeSelector/pool",
            "/grafana/nodeSelector/pool",
            "/prometheusOperator/nodeSelector/pool",
            "/kube-state-metrics/nodeSelector/pool",
        ] {
            assert_eq!(json.pointer(pointer), Some(&json!("system")), "{pointer}");
        }
        assert!(
            json.pointer("/prometheus-node-exporter/nodeSelector")
                .is_none()
        );
        let topic = SnsTopicArn::new("arn:aws:sns:us-east-1:123456789012:t").unwrap();
        assert!(matches!(
            Monitoring::new(GrafanaAdmin::existing_secret("grafana-admin"))
                .alert_through(routing())
                .alert_to_sns(SnsRoute::new(topic, SnsAuth::NodeRole))
                .values(),
            Err(ObservabilityError::TwoAlertDestinations)
        ));
        assert!(matches!(
            Monitoring::new(GrafanaAdmin::existing_secret("grafana-admin"))
                .alertmanager_storage("2GB", None)
                .values(),
            Err(ObservabilityError::Size { .. })
        ));
    }

    #[test]
    fn topic_arns_parse_and_give_their_region() {
        let arn =
            SnsTopicArn::new("arn:aws:sns:us-east-1:123456789012:pixtools-dev-alerts").unwrap();
        assert_eq!(arn.region(), "us-east-1");
        for bad in [
            "arn:aws:sqs:us-east-1:123456789012:q",
            "arn:aws:sns:us-east-1:1234:t",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:123456789012:a b",
        ] {
            assert!(
                matches!(SnsTopicArn::new(bad), Err(ObservabilityError::TopicArn(_))),
                "{bad}"
            );
        }
    }
}
