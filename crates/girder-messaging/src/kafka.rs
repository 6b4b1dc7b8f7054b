//! Kafka on Strimzi 1.x (`kafka.strimzi.io/v1`): a KRaft cluster of node pools, typed
//! topics and users reconciled by the entity operator, the operator itself as a Helm
//! release, and a PodMonitor for the brokers' JMX exporter.
//!
//! Strimzi 1.x runs KRaft only: ZooKeeper is gone, and node pools are the only way to
//! size a cluster. The `strimzi.io/kraft` and `strimzi.io/node-pools` annotations older
//! releases needed are ignored since Strimzi 0.48 (the `v1` API exists only on releases
//! that ignore them), so girder does not write them.

use std::collections::{BTreeMap, BTreeSet};

use girder_core::construct::Construct;
use girder_core::helm::ChartRef;
use girder_core::kubernetes::ProvidedObject;
use girder_core::{Result, Scope, StaticJson};
use girder_k8s::crds::prometheus::{Endpoint, PodMonitor, PodMonitorSpec};
use girder_k8s::crds::{Extra, Object, Spec};
use girder_k8s::{ConfigMap, NamespaceHandle, Release};
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::error::MessagingError;

/// The Strimzi operator chart girder's Kafka objects are written for.
pub const STRIMZI_CHART_VERSION: &str = "1.2.0";

/// The label that ties node pools, topics and users to their Kafka cluster.
pub const CLUSTER_LABEL: &str = "strimzi.io/cluster";

/// The ConfigMap key of the JMX exporter rules (Strimzi's `kafka-metrics` example).
pub const METRICS_CONFIG_KEY: &str = "kafka-metrics-config.yml";

/// `Kafka`.
pub type Kafka = Object<KafkaSpec>;
/// `KafkaNodePool`.
pub type KafkaNodePoolObject = Object<KafkaNodePoolSpec>;
/// `KafkaTopic`.
pub type KafkaTopicObject = Object<KafkaTopicSpec>;
/// `KafkaUser`.
pub type KafkaUserObject = Object<KafkaUserSpec>;

// ---------------------------------------------------------------------------------------
// The custom resources.

/// The spec of a Kafka cluster.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaSpec {
    /// The brokers' shared settings (their sizes are in the node pools).
    pub kafka: KafkaBrokers,
    /// The topic and user operators.
    pub entity_operator: Option<EntityOperator>,
    /// Other fields (`cruiseControl`, `kafkaExporter`, `clusterCa`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for KafkaSpec {
    const API_VERSION: &'static str = "kafka.strimzi.io/v1";
    const KIND: &'static str = "Kafka";

    /// The cluster CA certificate Secret clients trust (`<name>-cluster-ca-cert`).
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let Some(name) = body.pointer("/metadata/name").and_then(StaticJson::as_str) else {
            return Vec::new();
        };
        vec![ProvidedObject {
            kind: "Secret".into(),
            name: format!("{name}-cluster-ca-cert"),
            keys: Some(
                ["ca.crt", "ca.p12", "ca.password"]
                    .map(str::to_owned)
                    .into(),
            ),
        }]
    }
}

/// `spec.kafka`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaBrokers {
    /// Listeners.
    pub listeners: Vec<Listener>,
    /// Broker configuration (`default.replication.factor`, `min.insync.replicas`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, Json>,
    /// Rack awareness.
    pub rack: Option<Rack>,
    /// The authorizer (`{"type": "simple"}` when users have ACLs).
    pub authorization: Option<Json>,
    /// The JMX exporter.
    pub metrics_config: Option<MetricsConfig>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One listener.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Listener {
    /// `plain`, `tls`.
    pub name: String,
    /// Port.
    pub port: u16,
    /// `internal`, `route`, `loadbalancer`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// TLS encryption.
    pub tls: bool,
    /// Client authentication (`{"type": "scram-sha-512"}`, `{"type": "tls"}`).
    pub authentication: Option<Json>,
}

/// `rack`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rack {
    /// The node label whose value is the broker's rack.
    pub topology_key: String,
}

/// `metricsConfig`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsConfig {
    /// `jmxPrometheusExporter`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `{"configMapKeyRef": {"name", "key"}}`.
    pub value_from: Json,
}

/// `entityOperator`: an empty object turns an operator on with its defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityOperator {
    /// The topic operator.
    pub topic_operator: Extra,
    /// The user operator.
    pub user_operator: Extra,
}

/// The spec of a KafkaNodePool.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaNodePoolSpec {
    /// Nodes.
    pub replicas: u16,
    /// `broker`, `controller`.
    pub roles: Vec<String>,
    /// Storage.
    pub storage: Json,
    /// Requests and limits.
    pub resources: Option<ResourceRequirements>,
    /// Other fields (`jvmOptions`, `template`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Spec for KafkaNodePoolSpec {
    const API_VERSION: &'static str = "kafka.strimzi.io/v1";
    const KIND: &'static str = "KafkaNodePool";
}

/// The spec of a KafkaTopic.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaTopicSpec {
    /// The topic's name in Kafka when the object's name cannot be it.
    pub topic_name: Option<String>,
    /// Partitions.
    pub partitions: u32,
    /// Replication factor.
    pub replicas: u16,
    /// Topic configuration.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, Json>,
}

impl Spec for KafkaTopicSpec {
    const API_VERSION: &'static str = "kafka.strimzi.io/v1";
    const KIND: &'static str = "KafkaTopic";
}

/// The spec of a KafkaUser.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaUserSpec {
    /// `{"type": "scram-sha-512"}` or `{"type": "tls"}`.
    pub authentication: Json,
    /// `{"type": "simple", "acls": [...]}`.
    pub authorization: Option<Json>,
}

impl Spec for KafkaUserSpec {
    const API_VERSION: &'static str = "kafka.strimzi.io/v1";
    const KIND: &'static str = "KafkaUser";

    /// The user's credentials Secret, named like the user.
    fn provides(body: &StaticJson) -> Vec<ProvidedObject> {
        let Some(name) = body.pointer("/metadata/name").and_then(StaticJson::as_str) else {
            return Vec::new();
        };
        let keys: &[&str] = match body
            .pointer("/spec/authentication/type")
            .and_then(StaticJson::as_str)
        {
            Some("scram-sha-512") => &["password", "sasl.jaas.config"],
            Some("tls") => &[
                "ca.crt",
                "user.crt",
                "user.key",
                "user.p12",
                "user.password",
            ],
            _ => return vec![ProvidedObject::new("Secret", name)],
        };
        vec![ProvidedObject {
            kind: "Secret".into(),
            name: name.to_owned(),
            keys: Some(keys.iter().map(|k| (*k).to_owned()).collect()),
        }]
    }
}

// ---------------------------------------------------------------------------------------
// The builders.

/// A node pool's persistent volumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolStorage {
    /// Size of each node's volume (`100Gi`).
    pub size: String,
    /// StorageClass (`None`: the cluster default).
    pub class: Option<String>,
}

/// A pool of Kafka nodes of one role.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePool {
    name: String,
    replicas: u16,
    storage: PoolStorage,
    resources: Option<ResourceRequirements>,
}

impl NodePool {
    /// Pool `name` of `replicas` nodes, each with a persistent volume of `size`.
    pub fn new(name: impl Into<String>, replicas: u16, size: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            replicas,
            storage: PoolStorage {
                size: size.into(),
                class: None,
            },
            resources: None,
        }
    }

    /// The volumes' StorageClass.
    pub fn storage_class(mut self, class: impl Into<String>) -> Self {
        self.storage.class = Some(class.into());
        self
    }

    /// Each node's CPU and memory requests and limits (`"1", "2", "4Gi", "4Gi"`).
    pub fn resources(mut self, cpu: (&str, &str), memory: (&str, &str)) -> Self {
        let pair = |cpu: &str, memory: &str| {
            BTreeMap::from([
                ("cpu".to_owned(), Quantity(cpu.to_owned())),
                ("memory".to_owned(), Quantity(memory.to_owned())),
            ])
        };
        self.resources = Some(ResourceRequirements {
            requests: Some(pair(cpu.0, memory.0)),
            limits: Some(pair(cpu.1, memory.1)),
            ..ResourceRequirements::default()
        });
        self
    }

    /// Nodes.
    pub fn replicas(&self) -> u16 {
        self.replicas
    }

    fn spec(&self, role: &str) -> KafkaNodePoolSpec {
        let mut storage = json!({
            "type": "persistent-claim",
            "size": self.storage.size,
            "deleteClaim": false,
        });
        if let Some(class) = &self.storage.class {
            storage["class"] = json!(class);
        }
        if role == "broker" {
            // The KRaft metadata log lives with the data on the brokers' volume.
            storage["kraftMetadata"] = json!("shared");
        }
        KafkaNodePoolSpec {
            replicas: self.replicas,
            roles: vec![role.to_owned()],
            storage,
            resources: self.resources.clone(),
            extra: Extra::new(),
        }
    }
}

/// How a topic's old records go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CleanupPolicy {
    /// Deleted after `retention.ms` / `retention.bytes`.
    Delete,
    /// Compacted to the last record per key.
    Compact,
    /// Compacted, and old segments deleted.
    CompactDelete,
}

impl CleanupPolicy {
    fn value(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Compact => "compact",
            Self::CompactDelete => "compact,delete",
        }
    }
}

/// A topic's `compression.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Keep what the producer sent.
    Producer,
    /// None.
    Uncompressed,
    /// gzip.
    Gzip,
    /// snappy.
    Snappy,
    /// lz4.
    Lz4,
    /// zstd.
    Zstd,
}

impl Compression {
    fn value(self) -> &'static str {
        match self {
            Self::Producer => "producer",
            Self::Uncompressed => "uncompressed",
            Self::Gzip => "gzip",
            Self::Snappy => "snappy",
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }
}

/// One topic's typed configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopicConfig {
    /// `retention.ms`.
    pub retention_ms: Option<u64>,
    /// `retention.bytes` (per partition).
    pub retention_bytes: Option<u64>,
    /// `cleanup.policy`.
    pub cleanup_policy: Option<CleanupPolicy>,
    /// `compression.type`.
    pub compression: Option<Compression>,
    /// `min.insync.replicas` (default: one below the replication factor, at least 1).
    pub min_insync_replicas: Option<u16>,
    /// `max.message.bytes`.
    pub max_message_bytes: Option<u32>,
    /// `segment.bytes`.
    pub segment_bytes: Option<u32>,
    /// Other topic settings.
    pub extra: BTreeMap<String, Json>,
}

/// Seven days in milliseconds (the seed's retention).
pub const SEVEN_DAYS_MS: u64 = 7 * 24 * 3600 * 1000;

/// A Kafka topic: partitions, replication factor, typed configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaTopic {
    name: String,
    partitions: u32,
    replicas: u16,
    config: TopicConfig,
}

impl KafkaTopic {
    /// Topic `name` with `partitions` and replication factor `replicas`, records kept 7
    /// days, `delete` cleanup, compression as the producer sent.
    pub fn new(name: impl Into<String>, partitions: u32, replicas: u16) -> Self {
        Self {
            name: name.into(),
            partitions,
            replicas,
            config: TopicConfig {
                retention_ms: Some(SEVEN_DAYS_MS),
                cleanup_policy: Some(CleanupPolicy::Delete),
                compression: Some(Compression::Producer),
                ..TopicConfig::default()
            },
        }
    }

    /// Replace the typed configuration.
    pub fn config(mut self, config: TopicConfig) -> Self {
        self.config = config;
        self
    }

    /// `retention.ms`.
    pub fn retention_ms(mut self, ms: u64) -> Self {
        self.config.retention_ms = Some(ms);
        self
    }

    /// `cleanup.policy`.
    pub fn cleanup_policy(mut self, policy: CleanupPolicy) -> Self {
        self.config.cleanup_policy = Some(policy);
        self
    }

    /// `compression.type`.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.config.compression = Some(compression);
        self
    }

    /// `min.insync.replicas`.
    pub fn min_insync_replicas(mut self, replicas: u16) -> Self {
        self.config.min_insync_replicas = Some(replicas);
        self
    }

    /// The topic's name in Kafka.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Replication factor.
    pub fn replicas(&self) -> u16 {
        self.replicas
    }

    /// `min.insync.replicas`, given or defaulted.
    pub fn effective_min_insync(&self) -> u16 {
        self.config
            .min_insync_replicas
            .unwrap_or(self.replicas.saturating_sub(1).max(1))
    }

    /// Refuse what Kafka or the cluster would refuse.
    fn check(&self, brokers: u16) -> std::result::Result<(), MessagingError> {
        let topic = || self.name.clone();
        if !is_topic_name(&self.name) {
            return Err(MessagingError::TopicName { topic: topic() });
        }
        if self.partitions == 0 {
            return Err(MessagingError::NoPartitions { topic: topic() });
        }
        if self.replicas == 0 {
            return Err(MessagingError::NoReplicas { topic: topic() });
        }
        if self.replicas > brokers {
            return Err(MessagingError::ReplicationAboveBrokers {
                topic: topic(),
                replicas: self.replicas,
                brokers,
            });
        }
        let min_insync = self.effective_min_insync();
        // With one replica there is nothing to lose: min.insync 1 is the only value.
        let too_high = if self.replicas == 1 {
            min_insync > 1
        } else {
            min_insync >= self.replicas
        };
        if min_insync == 0 || too_high {
            return Err(MessagingError::MinInsyncReplicas {
                topic: topic(),
                min_insync,
                replicas: self.replicas,
            });
        }
        Ok(())
    }

    fn object(&self, namespace: &str, cluster: &str) -> KafkaTopicObject {
        let object_name = kube_name(&self.name);
        let mut config = self.config.extra.clone();
        let mut set = |key: &str, value: Option<Json>| {
            if let Some(value) = value {
                config.insert(key.to_owned(), value);
            }
        };
        set("retention.ms", self.config.retention_ms.map(Json::from));
        set(
            "retention.bytes",
            self.config.retention_bytes.map(Json::from),
        );
        set(
            "cleanup.policy",
            self.config.cleanup_policy.map(|p| json!(p.value())),
        );
        set(
            "compression.type",
            self.config.compression.map(|c| json!(c.value())),
        );
        set(
            "min.insync.replicas",
            Some(json!(self.effective_min_insync())),
        );
        set(
            "max.message.bytes",
            self.config.max_message_bytes.map(Json::from),
        );
        set("segment.bytes", self.config.segment_bytes.map(Json::from));
        let spec = KafkaTopicSpec {
            topic_name: (object_name != self.name).then(|| self.name.clone()),
            partitions: self.partitions,
            replicas: self.replicas,
            config,
        };
        labelled(Object::new(namespace, &object_name, spec), cluster)
    }
}

/// Whether Kafka accepts `name` as a topic name.
fn is_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A Kubernetes object name for a Kafka name: lower case, `_` and `.` as `-`.
fn kube_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn labelled<S: Spec>(mut object: Object<S>, cluster: &str) -> Object<S> {
    object
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(CLUSTER_LABEL.to_owned(), cluster.to_owned());
    object
}

/// How clients prove who they are on the TLS listener (9093).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserAuthentication {
    /// SCRAM-SHA-512: a password in the user's Secret.
    Scram,
    /// Mutual TLS: a client certificate in the user's Secret.
    Tls,
}

impl UserAuthentication {
    fn value(self) -> &'static str {
        match self {
            Self::Scram => "scram-sha-512",
            Self::Tls => "tls",
        }
    }
}

/// What a service does with a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicAccess {
    /// Write and Describe.
    Produce,
    /// Read and Describe (and Read on its consumer group).
    Consume,
}

/// A service's Kafka identity and its topic ACLs.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaUser {
    name: String,
    grants: Vec<(String, TopicAccess)>,
    group: Option<String>,
}

impl KafkaUser {
    /// User `name` (its credentials land in Secret `name`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            grants: Vec::new(),
            group: None,
        }
    }

    /// May write to `topic`.
    pub fn produces(mut self, topic: &KafkaTopic) -> Self {
        self.grants.push((topic.name.clone(), TopicAccess::Produce));
        self
    }

    /// May read `topic` (as consumer group [`KafkaUser::group`], default the user's name).
    pub fn consumes(mut self, topic: &KafkaTopic) -> Self {
        self.grants.push((topic.name.clone(), TopicAccess::Consume));
        self
    }

    /// The consumer group it reads as.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    fn object(&self, namespace: &str, cluster: &str, auth: UserAuthentication) -> KafkaUserObject {
        let acl = |kind: &str, name: &str, operations: &[&str]| {
            json!({
                "resource": {"type": kind, "name": name, "patternType": "literal"},
                "operations": operations,
            })
        };
        let mut acls = Vec::new();
        let mut consumes = false;
        for (topic, access) in &self.grants {
            match access {
                TopicAccess::Produce => acls.push(acl("topic", topic, &["Write", "Describe"])),
                TopicAccess::Consume => {
                    consumes = true;
                    acls.push(acl("topic", topic, &["Read", "Describe"]));
                }
            }
        }
        if consumes {
            let group = self.group.as_deref().unwrap_or(&self.name);
            acls.push(acl("group", group, &["Read"]));
        }
        let spec = KafkaUserSpec {
            authentication: json!({"type": auth.value()}),
            authorization: Some(json!({"type": "simple", "acls": acls})),
        };
        labelled(Object::new(namespace, &self.name, spec), cluster)
    }
}

/// A KRaft Kafka cluster on Strimzi: a broker pool, a controller pool, listeners plain
/// 9092 and TLS 9093 (internal), rack awareness by zone, the entity operator, its topics
/// and users.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaCluster {
    namespace: NamespaceHandle,
    name: String,
    brokers: NodePool,
    controllers: NodePool,
    rack_key: Option<String>,
    authentication: UserAuthentication,
    metrics: bool,
    monitor_labels: BTreeMap<String, String>,
    topics: Vec<KafkaTopic>,
    users: Vec<KafkaUser>,
    config: BTreeMap<String, Json>,
}

/// A Kafka cluster in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaHandle {
    namespace: String,
    name: String,
    topics: Vec<String>,
    users: Vec<String>,
}

impl KafkaHandle {
    /// The cluster name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `host:port` of the plain listener's bootstrap Service.
    pub fn bootstrap_plain(&self) -> String {
        format!("{}-kafka-bootstrap.{}.svc:9092", self.name, self.namespace)
    }

    /// `host:port` of the TLS listener's bootstrap Service.
    pub fn bootstrap_tls(&self) -> String {
        format!("{}-kafka-bootstrap.{}.svc:9093", self.name, self.namespace)
    }

    /// The Kafka names of its topics.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// Its users (each one's credentials Secret has its name).
    pub fn users(&self) -> &[String] {
        &self.users
    }
}

impl KafkaCluster {
    /// Cluster `name` in `namespace`: 3 brokers with 100Gi each, 3 KRaft controllers with
    /// 10Gi each (the seed's 3 ZooKeeper nodes with 10 GB), racks from
    /// `topology.kubernetes.io/zone`, SCRAM-SHA-512 users, no metrics.
    pub fn new(namespace: &NamespaceHandle, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.clone(),
            name: name.into(),
            brokers: NodePool::new("brokers", 3, "100Gi"),
            controllers: NodePool::new("controllers", 3, "10Gi"),
            rack_key: Some("topology.kubernetes.io/zone".into()),
            authentication: UserAuthentication::Scram,
            metrics: false,
            monitor_labels: BTreeMap::new(),
            topics: Vec::new(),
            users: Vec::new(),
            config: BTreeMap::new(),
        }
    }

    /// The broker pool.
    pub fn brokers(mut self, pool: NodePool) -> Self {
        self.brokers = pool;
        self
    }

    /// The KRaft controller pool.
    pub fn controllers(mut self, pool: NodePool) -> Self {
        self.controllers = pool;
        self
    }

    /// Rack awareness by node label `key` (`None`: off).
    pub fn rack_key(mut self, key: Option<&str>) -> Self {
        self.rack_key = key.map(str::to_owned);
        self
    }

    /// How users authenticate on the TLS listener.
    pub fn user_authentication(mut self, authentication: UserAuthentication) -> Self {
        self.authentication = authentication;
        self
    }

    /// Expose the brokers' JMX metrics (a `kafka-metrics` ConfigMap of exporter rules)
    /// and scrape them with a PodMonitor.
    pub fn metrics(mut self) -> Self {
        self.metrics = true;
        self
    }

    /// A label on the PodMonitor, for the Prometheus that selects monitors by label
    /// (girder-observability's `Monitoring` selects `release: <its release>`).
    pub fn monitor_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.monitor_labels.insert(key.into(), value.into());
        self
    }

    /// A topic.
    pub fn topic(mut self, topic: KafkaTopic) -> Self {
        self.topics.push(topic);
        self
    }

    /// A user with ACLs. Users switch the brokers' authorizer on (`simple`) and client
    /// authentication on: SCRAM-SHA-512 on both listeners (SCRAM never sends the
    /// password), or client certificates on the TLS listener, where the plain listener's
    /// anonymous clients are then refused by the authorizer.
    pub fn user(mut self, user: KafkaUser) -> Self {
        self.users.push(user);
        self
    }

    /// A broker setting (`num.partitions`), over girder's defaults.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<Json>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    fn check(&self) -> std::result::Result<(), MessagingError> {
        let pool = |p: &NodePool, allowed: &str| MessagingError::PoolSize {
            pool: p.name.clone(),
            replicas: p.replicas,
            allowed: allowed.to_owned(),
        };
        if self.brokers.replicas == 0 {
            return Err(pool(&self.brokers, "at least 1 broker"));
        }
        if self.controllers.replicas.is_multiple_of(2) {
            return Err(pool(
                &self.controllers,
                "an odd number of controllers (3 or 5), so a majority survives a loss",
            ));
        }
        let mut names = BTreeSet::new();
        for topic in &self.topics {
            topic.check(self.brokers.replicas)?;
            if !names.insert(kube_name(&topic.name)) {
                return Err(MessagingError::Duplicate {
                    what: "Kafka topic".into(),
                    name: topic.name.clone(),
                });
            }
        }
        let topics: BTreeSet<&str> = self.topics.iter().map(|t| t.name.as_str()).collect();
        let mut users = BTreeSet::new();
        for user in &self.users {
            if !users.insert(user.name.as_str()) {
                return Err(MessagingError::Duplicate {
                    what: "Kafka user".into(),
                    name: user.name.clone(),
                });
            }
            for (topic, _) in &user.grants {
                if !topics.contains(topic.as_str()) {
                    return Err(MessagingError::UnknownTopic {
                        user: user.name.clone(),
                        topic: topic.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The broker defaults the topics need: the largest replication factor (else
    /// min(3, brokers)), min.insync one below it, internal topics alike.
    fn broker_config(&self) -> BTreeMap<String, Json> {
        let brokers = self.brokers.replicas;
        let replication = self
            .topics
            .iter()
            .map(|t| t.replicas)
            .max()
            .unwrap_or(brokers.min(3));
        let min_insync = replication.saturating_sub(1).max(1);
        let mut config = BTreeMap::from([
            ("default.replication.factor".to_owned(), json!(replication)),
            ("min.insync.replicas".to_owned(), json!(min_insync)),
            (
                "offsets.topic.replication.factor".to_owned(),
                json!(replication),
            ),
            (
                "transaction.state.log.replication.factor".to_owned(),
                json!(replication),
            ),
            (
                "transaction.state.log.min.isr".to_owned(),
                json!(min_insync),
            ),
            // Topics are declared (KafkaTopic), never made by a client's typo.
            ("auto.create.topics.enable".to_owned(), json!(false)),
        ]);
        config.extend(self.config.clone());
        config
    }

    fn spec(&self) -> KafkaSpec {
        let authentication = json!({"type": self.authentication.value()});
        KafkaSpec {
            kafka: KafkaBrokers {
                listeners: vec![
                    Listener {
                        name: "plain".into(),
                        port: 9092,
                        kind: "internal".into(),
                        tls: false,
                        authentication: (!self.users.is_empty()
                            && self.authentication == UserAuthentication::Scram)
                            .then(|| authentication.clone()),
                    },
                    Listener {
                        name: "tls".into(),
                        port: 9093,
                        kind: "internal".into(),
                        tls: true,
                        authentication: (!self.users.is_empty()).then_some(authentication),
                    },
                ],
                config: self.broker_config(),
                rack: self.rack_key.as_ref().map(|key| Rack {
                    topology_key: key.clone(),
                }),
                authorization: (!self.users.is_empty()).then(|| json!({"type": "simple"})),
                metrics_config: self.metrics.then(|| MetricsConfig {
                    kind: "jmxPrometheusExporter".into(),
                    value_from: json!({"configMapKeyRef": {
                        "name": self.metrics_config_map(),
                        "key": METRICS_CONFIG_KEY,
                    }}),
                }),
                extra: Extra::new(),
            },
            entity_operator: Some(EntityOperator::default()),
            extra: Extra::new(),
        }
    }

    fn metrics_config_map(&self) -> String {
        format!("{}-kafka-metrics", self.name)
    }
}

/// Strimzi's JMX exporter rules for brokers, trimmed to the broker, request, partition
/// and controller metrics dashboards use.
const JMX_RULES: &str = r#"lowercaseOutputName: true
rules:
  - pattern: kafka.server<type=(.+), name=(.+), clientId=(.+), topic=(.+), partition=(.*)><>Value
    name: kafka_server_$1_$2
    type: GAUGE
    labels:
      clientId: "$3"
      topic: "$4"
      partition: "$5"
  - pattern: kafka.server<type=(.+), name=(.+), clientId=(.+), brokerHost=(.+), brokerPort=(.+)><>Value
    name: kafka_server_$1_$2
    type: GAUGE
    labels:
      clientId: "$3"
      broker: "$4:$5"
  - pattern: kafka.(\w+)<type=(.+), name=(.+)PerSec\w*, (.+)=(.+)><>Count
    name: kafka_$1_$2_$3_total
    type: COUNTER
    labels:
      "$4": "$5"
  - pattern: kafka.(\w+)<type=(.+), name=(.+)PerSec\w*><>Count
    name: kafka_$1_$2_$3_total
    type: COUNTER
  - pattern: kafka.(\w+)<type=(.+), name=(.+), (.+)=(.+)><>(Count|Value)
    name: kafka_$1_$2_$3
    type: GAUGE
    labels:
      "$4": "$5"
  - pattern: kafka.(\w+)<type=(.+), name=(.+)><>(Count|Value)
    name: kafka_$1_$2_$3
    type: GAUGE
"#;

impl Construct for KafkaCluster {
    type Handle = KafkaHandle;

    /// Write the Kafka object, its two node pools, its topics and users (and, with
    /// metrics, the exporter ConfigMap and a PodMonitor) as construct `id`, into the
    /// scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<KafkaHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| e.at(&at))?;
        let ns = self.namespace.name().to_owned();
        let name = self.name.clone();
        if self.metrics {
            ConfigMap::new(&self.namespace, self.metrics_config_map())
                .entry(METRICS_CONFIG_KEY, JMX_RULES)
                .add(scope, "metrics-config")?;
        }
        Object::new(&ns, &name, self.spec()).add(scope, "kafka")?;
        for (pool, role) in [(&self.brokers, "broker"), (&self.controllers, "controller")] {
            labelled(Object::new(&ns, &pool.name, pool.spec(role)), &name)
                .add(scope, &format!("pool-{}", pool.name))?;
        }
        for topic in &self.topics {
            topic
                .object(&ns, &name)
                .add(scope, &format!("topic-{}", kube_name(&topic.name)))?;
        }
        for user in &self.users {
            user.object(&ns, &name, self.authentication)
                .add(scope, &format!("user-{}", user.name))?;
        }
        if self.metrics {
            let selector = LabelSelector {
                match_labels: Some(BTreeMap::from([
                    (CLUSTER_LABEL.to_owned(), name.clone()),
                    ("strimzi.io/kind".to_owned(), "Kafka".to_owned()),
                ])),
                ..LabelSelector::default()
            };
            let mut monitor = PodMonitor::new(
                &ns,
                &format!("{name}-kafka"),
                PodMonitorSpec {
                    selector,
                    namespace_selector: None,
                    pod_metrics_endpoints: vec![Endpoint::new("tcp-prometheus")],
                    extra: Extra::new(),
                },
            );
            monitor
                .metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .extend(self.monitor_labels.clone());
            monitor.add(scope, "pod-monitor")?;
        }
        Ok(KafkaHandle {
            namespace: ns,
            name,
            topics: self.topics.iter().map(|t| t.name.clone()).collect(),
            users: self.users.iter().map(|u| u.name.clone()).collect(),
        })
    }
}

/// The Strimzi cluster operator (chart `strimzi-kafka-operator` 1.2.0) as release
/// `strimzi` in `namespace`, watching `watch` namespaces (empty: only its own).
pub fn strimzi_operator(namespace: &str, watch: &[&str]) -> Release {
    // Strimzi's `restricted` pod security provider: every operand (brokers,
    // controllers, the entity operator) meets Pod Security `restricted`.
    let values = json!({
        "watchNamespaces": watch,
        "extraEnvs": [{"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"}],
    });
    Release::new(
        "strimzi",
        namespace,
        ChartRef::new(
            "oci://quay.io/strimzi-helm",
            "strimzi-kafka-operator",
            STRIMZI_CHART_VERSION,
        ),
        &values,
    )
}
