//! girder-messaging: Kafka on Strimzi and Redis, for any girder system (first: ITS
//! Camera AI).
//!
//! - [`KafkaCluster`]: a KRaft Kafka on Strimzi 1.x (`kafka.strimzi.io/v1`): a broker
//!   [`NodePool`] with rack awareness by `topology.kubernetes.io/zone`, a controller
//!   pool, listeners plain 9092 and TLS 9093, the entity operator, typed
//!   [`KafkaTopic`]s (checked against the broker count) and [`KafkaUser`]s with ACLs;
//!   [`strimzi_operator`] installs the operator (chart 1.2.0); `.metrics()` adds the JMX
//!   exporter ConfigMap and a PodMonitor.
//! - [`Redis`]: one Sentinel-managed Redis per use case ([`RedisUse`]), and
//!   [`StreamGroups`]: Redis Streams consumer groups made by an idempotent Job.
//!
//! ```
//! use girder_core::prelude::*;
//! use girder_k8s::prelude::*;
//! use girder_messaging::{KafkaCluster, KafkaTopic, KafkaUser, Redis, RedisUse, StreamGroups};
//!
//! # fn main() -> girder_core::Result<()> {
//! let mut stack = Stack::new("its", "dev", Backend::local())?;
//! let mut scope = stack.scope("messaging")?.with_kube_app("messaging")?;
//! let kafka_ns = Namespace::new("kafka").add(&mut scope, "kafka-ns")?;
//! let events = KafkaTopic::new("camera-events", 12, 2);
//! let kafka = KafkaCluster::new(&kafka_ns, "events")
//!     .user(KafkaUser::new("ingest").produces(&events))
//!     .topic(events)
//!     .add(&mut scope, "kafka")?;
//! assert_eq!(kafka.bootstrap_tls(), "events-kafka-bootstrap.kafka.svc:9093");
//!
//! let data = Namespace::new("data").add(&mut scope, "data-ns")?;
//! let streams = Redis::new(&data, "redis-streams", RedisUse::Streams, "redis-password")
//!     .add(&mut scope, "redis-streams")?;
//! StreamGroups::new(&streams, "frames-groups")
//!     .stream("camera:frames", ["detectors"])
//!     .add(&mut scope, "frames")?;
//! # Ok(())
//! # }
//! ```
//!
//! # Decisions
//!
//! **ZooKeeper becomes KRaft.** The ITS seed asks for 3 ZooKeeper nodes with 10 GB each
//! for Kafka's coordination. Strimzi 1.x has no ZooKeeper: Kafka's own KRaft controllers
//! hold the metadata. The seed's 3 x 10 GB become the controller pool: 3 controllers
//! (an odd quorum that survives one loss) with a 10Gi volume each. The brokers keep
//! their KRaft metadata log on their data volume (`kraftMetadata: shared`).
//!
//! **Topics are declared, not auto-created.** The seed's "auto-create topics with proper
//! partitions" is met by the topic operator creating every [`KafkaTopic`] with its
//! partitions and configuration; the brokers' `auto.create.topics.enable` is off, so a
//! client's misspelt topic is an error, not a new topic with the broker defaults.
//!
//! **Redis: Sentinel-managed replication, one instance per use case.** The seed names
//! both "3 masters, 3 replicas" (Redis Cluster's shape) and "Sentinel for automatic
//! failover"; the two do not combine (Sentinel does not manage a Redis Cluster). girder
//! uses Sentinel: it is the failover the seed names, the charts at hand support it
//! (Bitnami `redis` 23.1.1 replication + Sentinel; neither it nor `valkey` 4.0.2 runs
//! Redis Cluster), and Redis Cluster would split streams and multi-key session
//! operations across shards for no gain: 8 GB fits one primary. The seed's three
//! primaries are read as its three use cases (sessions, cache, queues/streams): each
//! needs its own `maxmemory-policy`, which is per instance, so each is a [`Redis`] with
//! one primary. Its replicas are 2 per primary, not 1, because Sentinel needs 3 voters
//! (quorum 2) to fail over after losing a node: [`Redis::nodes`] below 3 is refused.
//! `maxmemory` must stay below the container memory limit, since replication buffers,
//! AOF rewrites and the process itself live outside it.

mod error;
pub mod kafka;
pub mod redis;

pub use error::MessagingError;
pub use kafka::{
    CleanupPolicy, Compression, KafkaCluster, KafkaHandle, KafkaTopic, KafkaUser, NodePool,
    TopicAccess, TopicConfig, UserAuthentication, strimzi_operator,
};
pub use redis::{Redis, RedisHandle, RedisUse, StreamGroups};
