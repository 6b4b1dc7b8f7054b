//! ITS Camera AI's messaging (seed 003's Team 2, and Team 1's Redis), Kubernetes apps
//! `messaging-operator` (Strimzi, delivered with the infrastructure: its CRDs first) and
//! `messaging` of `its-camera-<env>`, girder-messaging's constructs:
//!
//! - **Kafka** `events` in `its-messaging`: 3 brokers spread over the zones (rack
//!   awareness), the seed's 3 ZooKeeper nodes of 10 GB as 3 KRaft controllers of 10Gi
//!   (Strimzi 1.x has no ZooKeeper), listeners 9092 and TLS 9093 inside the cluster; the
//!   seed's topics, 7 days and replication factor 2 each, partitions by their event
//!   rates: `camera-events` 12 (a camera's status and frames' metadata), `vehicle-detections`
//!   24 (the busiest: one record per detected vehicle), `alerts` 3 (few, ordered per
//!   key), declared (the topic operator creates them; brokers auto-create nothing).
//!   Producers and consumers get SCRAM users with topic ACLs: the camera ingest
//!   produces camera-events, the stream processors consume them and produce detections and
//!   alerts, the API consumes alerts. Strimzi runs its operands with the `restricted`
//!   pod security provider (the namespace enforces it).
//! - **Redis**: one Sentinel-managed instance per use case (girder-messaging's decision,
//!   recorded there: the seed's "3 masters" are its three uses, each with its own eviction
//!   policy; 2 replicas each so Sentinel keeps a quorum of 3), 8 GB `maxmemory` each:
//!   `redis-sessions` and `redis-cache` in `its-databases`, `redis-streams` in
//!   `its-messaging` with the camera frames' stream `camera:frames` and the stream
//!   processors' consumer group `frame-processors` (girder-messaging's idempotent
//!   `StreamGroups` Job).
//!
//! The Redis passwords are Secrets an operator makes (`kubectl create secret generic
//! <name> --from-literal=password=...`) until Vault (the seed's Team 6) provides them,
//! declared external on the stack.

use girder_core::construct::Construct;
use girder_core::{Result, Stack};
use girder_k8s::{Delivery, NamespaceHandle};
use girder_messaging::{
    KafkaCluster, KafkaTopic, KafkaUser, NodePool, Redis, RedisUse, StreamGroups, strimzi_operator,
};

use crate::config::Environment;

/// The apps.
pub(crate) const OPERATOR_APP: &str = "messaging-operator";
pub(crate) const APP: &str = "messaging";
/// The messaging namespace, and the databases' (sessions and cache).
const MESSAGING: &str = "its-messaging";
const DATABASES: &str = "its-databases";
/// Kafka's retention: the seed's 7 days.
const SEVEN_DAYS_MS: u64 = 7 * 24 * 3600 * 1000;
/// The seed's replication factor.
const REPLICATION: u16 = 2;

/// Argo CD delivery into the stack's AppProject.
pub(crate) fn argo(env: &Environment) -> Delivery {
    Delivery::ArgoCd {
        argo_namespace: "argocd".into(),
        project: format!("{}-{}", crate::NAME, env.name),
    }
}

/// The Redis instances: (name, namespace, use).
pub(crate) const REDIS: [(&str, &str, RedisUse); 3] = [
    ("redis-sessions", DATABASES, RedisUse::Sessions),
    ("redis-cache", DATABASES, RedisUse::Cache),
    ("redis-streams", MESSAGING, RedisUse::Streams),
];

/// The Redis stream of the camera frames, and the stream processors' consumer group.
pub(crate) const FRAMES_STREAM: &str = "camera:frames";
pub(crate) const FRAME_PROCESSORS: &str = "frame-processors";
/// The Job that makes the group.
const STREAM_GROUPS_JOB: &str = "redis-streams-groups";

/// The password Secret of Redis `name`.
pub(crate) fn redis_password(name: &str) -> String {
    format!("{name}-password")
}

/// Add the messaging apps to `stack`.
pub(crate) fn add(stack: &mut Stack, env: &Environment) -> Result<()> {
    for (name, namespace, _) in REDIS {
        stack.external_kube_object(
            "Secret",
            Some(namespace),
            &redis_password(name),
            "made by an operator (kubectl create secret generic) until Vault provides it",
        )?;
    }
    let mut root = stack.root();
    {
        let app = &mut root.child(OPERATOR_APP)?.with_kube_app(OPERATOR_APP)?;
        let _ = strimzi_operator(MESSAGING, &[MESSAGING])
            .delivery(argo(env))
            .add(app, "strimzi")?;
    }
    let app = &mut root.child(APP)?.with_kube_app(APP)?;
    let messaging = NamespaceHandle::existing(MESSAGING);
    let topic = |name: &str, partitions: u32| {
        KafkaTopic::new(name, partitions, REPLICATION).retention_ms(SEVEN_DAYS_MS)
    };
    let camera_events = topic("camera-events", 12);
    let detections = topic("vehicle-detections", 24);
    let alerts = topic("alerts", 3);
    let brokers = NodePool::new("brokers", 3, if env.production { "200Gi" } else { "50Gi" })
        .storage_class(crate::platform::STORAGE_CLASS);
    let controllers =
        NodePool::new("controllers", 3, "10Gi").storage_class(crate::platform::STORAGE_CLASS);
    let _kafka = KafkaCluster::new(&messaging, "events")
        .brokers(brokers)
        .controllers(controllers)
        .user(KafkaUser::new("camera-ingest").produces(&camera_events))
        .user(
            KafkaUser::new("stream-processor")
                .consumes(&camera_events)
                .produces(&detections)
                .produces(&alerts)
                .group("stream-processors"),
        )
        .user(KafkaUser::new("api").consumes(&alerts).group("api"))
        .topic(camera_events)
        .topic(detections)
        .topic(alerts)
        .add(app, "kafka")?;

    for (name, namespace, usage) in REDIS {
        let redis = Redis::new(
            &NamespaceHandle::existing(namespace),
            name,
            usage,
            redis_password(name),
        )
        .delivery(argo(env))
        .add(app, name)?;
        if usage == RedisUse::Streams {
            // The camera frames' stream and the processors' consumer group.
            StreamGroups::new(&redis, STREAM_GROUPS_JOB)
                .stream(FRAMES_STREAM, [FRAME_PROCESSORS])
                .add(app, "stream-groups")?;
        }
    }
    drop(root);
    crate::findings::acknowledge_setup_job(stack, MESSAGING, STREAM_GROUPS_JOB, "Bitnami's 1001")
}
