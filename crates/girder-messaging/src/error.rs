//! girder-messaging's typed errors. Each variant names the offending value and what is
//! allowed; constructs wrap one into `girder_core::Error::Construct` with the construct
//! path, so callers and tests match variants
//! (`err.construct_error::<MessagingError>()`).

/// Why a girder-messaging construct refused its input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessagingError {
    /// A topic name Kafka refuses: empty, `.` or `..`, longer than 249 characters, or
    /// with a character outside `[a-zA-Z0-9._-]`.
    #[error(
        "Kafka topic name {topic:?} is not allowed: 1 to 249 characters of [a-zA-Z0-9._-], not \".\" or \"..\""
    )]
    TopicName {
        /// The name given.
        topic: String,
    },

    /// A topic with no partitions.
    #[error("Kafka topic {topic:?} has 0 partitions: at least 1 is needed")]
    NoPartitions {
        /// The topic.
        topic: String,
    },

    /// A topic replicated more often than the cluster has brokers.
    #[error(
        "Kafka topic {topic:?} has replication factor {replicas}, above the {brokers} broker(s) of the cluster: at most {brokers} is allowed"
    )]
    ReplicationAboveBrokers {
        /// The topic.
        topic: String,
        /// Its replication factor.
        replicas: u16,
        /// The brokers of the cluster.
        brokers: u16,
    },

    /// A replication factor of 0.
    #[error("Kafka topic {topic:?} has replication factor 0: at least 1 is needed")]
    NoReplicas {
        /// The topic.
        topic: String,
    },

    /// `min.insync.replicas` that leaves no replica to lose (or that no write could meet).
    #[error(
        "Kafka topic {topic:?} sets min.insync.replicas {min_insync} with replication factor {replicas}: it must be at least 1 and below {replicas}, so one replica may be down"
    )]
    MinInsyncReplicas {
        /// The topic.
        topic: String,
        /// The `min.insync.replicas` given.
        min_insync: u16,
        /// Its replication factor.
        replicas: u16,
    },

    /// Two topics or users of one name.
    #[error("{what} {name:?} is defined twice")]
    Duplicate {
        /// `Kafka topic`, `Kafka user`, `stream`, `consumer group`.
        what: String,
        /// The repeated name.
        name: String,
    },

    /// A node pool with no nodes, or a controller quorum that cannot outlive a failure.
    #[error("Kafka node pool {pool:?} has {replicas} node(s): {allowed}")]
    PoolSize {
        /// The pool.
        pool: String,
        /// The nodes given.
        replicas: u16,
        /// What is allowed.
        allowed: String,
    },

    /// A user's ACL on a topic the cluster does not define.
    #[error("Kafka user {user:?} is granted topic {topic:?}, which the cluster does not define")]
    UnknownTopic {
        /// The user.
        user: String,
        /// The topic.
        topic: String,
    },

    /// A memory size that does not parse, or is zero.
    #[error(
        "{what} {value:?} is not a memory size: a positive whole number with Ki, Mi, Gi, Ti, K, M, G or T"
    )]
    MemorySize {
        /// `container memory limit`, `maxmemory`.
        what: String,
        /// The value given.
        value: String,
    },

    /// `maxmemory` that the container's memory limit does not leave room for.
    #[error(
        "Redis {name:?} sets maxmemory {maxmemory} ({maxmemory_bytes} bytes) with a container memory limit of {limit} ({limit_bytes} bytes): the limit must exceed maxmemory (replication buffers, AOF rewrites and the process itself live outside it)"
    )]
    MaxmemoryAboveLimit {
        /// The Redis instance.
        name: String,
        /// `maxmemory` as written (`8gb`).
        maxmemory: String,
        /// In bytes.
        maxmemory_bytes: u64,
        /// The container limit as written (`10Gi`).
        limit: String,
        /// In bytes.
        limit_bytes: u64,
    },

    /// A Sentinel-managed set too small to elect a new primary after losing one node.
    #[error(
        "Redis {name:?} has {nodes} node(s): Sentinel needs at least 3 (one Sentinel per node, quorum 2) to fail over when one is lost"
    )]
    SentinelQuorum {
        /// The Redis instance.
        name: String,
        /// The nodes given.
        nodes: u16,
    },

    /// A stream key or consumer group name the init script cannot carry.
    #[error("{what} {value:?} is not allowed: 1 to 200 characters of [a-zA-Z0-9:._-]")]
    StreamName {
        /// `stream key`, `consumer group`.
        what: String,
        /// The name given.
        value: String,
    },

    /// A stream with no consumer group, or groups with no stream.
    #[error("{what} needs at least one {item}")]
    Empty {
        /// `stream "camera:frames"`, `stream groups "frames"`.
        what: String,
        /// `consumer group`, `stream`.
        item: String,
    },
}

impl MessagingError {
    /// This error at construct path `at`.
    pub fn at(self, at: &str) -> girder_core::Error {
        girder_core::Error::construct(at, self)
    }
}
