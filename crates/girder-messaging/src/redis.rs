//! Redis for one use case: Sentinel-managed replication (Bitnami `redis` 23.1.1), its
//! eviction and persistence set by what the data is, `maxmemory` checked against the
//! container's memory limit; and Redis Streams consumer groups made by an idempotent Job.

use std::collections::BTreeSet;

use girder_core::construct::Construct;
use girder_core::{Result, Scope};
use girder_k8s::charts::redis::{RedisAuth, RedisNode, RedisValues};
use girder_k8s::charts::{ChartPersistence, ChartResources};
use girder_k8s::crds::Extra;
use girder_k8s::{
    Container, Delivery, Env, Job, NamespaceHandle, Release, ReleaseHandle, Resources, Workload,
    WorkloadHandle,
};
use serde_json::json;

use crate::error::MessagingError;

/// The Redis image of the chart (`image` of Bitnami `redis` 23.1.1): the streams Job's
/// `redis-cli` is the server's own.
pub const REDIS_IMAGE: &str = "docker.io/bitnami/redis:8.2.1-debian-12-r0";

/// Sentinel's name for the primary (the chart's `sentinel.masterSet`).
pub const MASTER_SET: &str = "mymaster";

/// What a Redis instance holds, which decides how it evicts and persists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisUse {
    /// Sessions: never evicted (`noeviction`: a write fails when full, a login is not
    /// silently dropped), append-only file fsynced every second.
    Sessions,
    /// A cache: least-recently-used keys evicted at `maxmemory` (`allkeys-lru`), nothing
    /// persisted (a restart starts cold).
    Cache,
    /// Queues and streams: never evicted (`noeviction`: a stream entry is work), AOF on.
    Streams,
}

impl RedisUse {
    fn configuration(self, maxmemory: &str) -> String {
        let (policy, persistence) = match self {
            Self::Sessions | Self::Streams => {
                ("noeviction", "appendonly yes\nappendfsync everysec")
            }
            Self::Cache => ("allkeys-lru", "appendonly no\nsave \"\""),
        };
        format!("maxmemory {maxmemory}\nmaxmemory-policy {policy}\n{persistence}")
    }

    /// `maxmemory-policy`.
    pub fn eviction_policy(self) -> &'static str {
        match self {
            Self::Sessions | Self::Streams => "noeviction",
            Self::Cache => "allkeys-lru",
        }
    }
}

/// Bytes of a Kubernetes memory quantity (`10Gi`, `512Mi`, `8G`).
pub fn quantity_bytes(value: &str) -> Option<u64> {
    size_bytes(
        value,
        &[
            ("Ki", 1 << 10),
            ("Mi", 1 << 20),
            ("Gi", 1 << 30),
            ("Ti", 1 << 40),
            ("K", 1_000),
            ("M", 1_000_000),
            ("G", 1_000_000_000),
            ("T", 1_000_000_000_000),
        ],
    )
}

/// Bytes of a redis.conf memory size (`8gb`, `512mb`; Redis's `gb` is 2^30, its `g`
/// 10^9, case-insensitive).
pub fn redis_bytes(value: &str) -> Option<u64> {
    size_bytes(
        &value.to_ascii_lowercase(),
        &[
            ("kb", 1 << 10),
            ("mb", 1 << 20),
            ("gb", 1 << 30),
            ("k", 1_000),
            ("m", 1_000_000),
            ("g", 1_000_000_000),
        ],
    )
}

fn size_bytes(value: &str, units: &[(&str, u64)]) -> Option<u64> {
    let digits = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(digits);
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let factor = if unit.is_empty() {
        1
    } else {
        units.iter().find(|(u, _)| *u == unit)?.1
    };
    number.checked_mul(factor)
}

/// A Sentinel-managed Redis for one use case: `nodes` pods (one primary, the rest
/// replicas, a Sentinel beside each), `maxmemory` 8gb under a 10Gi limit by default.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct Redis {
    namespace: NamespaceHandle,
    name: String,
    usage: RedisUse,
    nodes: u16,
    maxmemory: String,
    cpu: (String, String),
    memory_request: String,
    memory_limit: String,
    volume: String,
    storage_class: Option<String>,
    password: (String, String),
    delivery: Delivery,
}

/// A Redis instance in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisHandle {
    release: ReleaseHandle,
    password: (String, String),
}

impl RedisHandle {
    /// The chart's release (its objects are named after it).
    pub fn release(&self) -> &ReleaseHandle {
        &self.release
    }

    /// The Service clients and Sentinel-aware clients reach (`<name>.<ns>.svc`): port
    /// 6379 is any node, 26379 Sentinel (ask it for [`MASTER_SET`]'s primary).
    pub fn host(&self) -> String {
        format!("{}.{}.svc", self.release.name(), self.release.namespace())
    }

    /// The password Secret and key.
    pub fn password_secret(&self) -> (&str, &str) {
        (&self.password.0, &self.password.1)
    }
}

impl Redis {
    /// Redis `name` for `usage` in `namespace`: 3 nodes (1 primary + 2 replicas, 3
    /// Sentinels with quorum 2), `maxmemory 8gb` under a 10Gi memory limit, 20Gi
    /// volumes, password from Secret `password_secret` key `password`.
    pub fn new(
        namespace: &NamespaceHandle,
        name: impl Into<String>,
        usage: RedisUse,
        password_secret: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.clone(),
            name: name.into(),
            usage,
            nodes: 3,
            maxmemory: "8gb".into(),
            cpu: ("500m".into(), "2".into()),
            memory_request: "10Gi".into(),
            memory_limit: "10Gi".into(),
            volume: "20Gi".into(),
            storage_class: None,
            password: (password_secret.into(), "password".into()),
            delivery: Delivery::default(),
        }
    }

    /// How the chart's release reaches the cluster besides its values file (default
    /// the values file only: girder-k8s's [`Delivery`]).
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Pods (one primary, the others replicas; at least 3 for Sentinel's quorum).
    pub fn nodes(mut self, nodes: u16) -> Self {
        self.nodes = nodes;
        self
    }

    /// `maxmemory` (redis.conf size: `8gb`) and the container's memory request and limit
    /// (Kubernetes quantities: `10Gi`); the limit must exceed `maxmemory`.
    pub fn memory(mut self, maxmemory: &str, request: &str, limit: &str) -> Self {
        self.maxmemory = maxmemory.into();
        self.memory_request = request.into();
        self.memory_limit = limit.into();
        self
    }

    /// CPU request and limit.
    pub fn cpu(mut self, request: &str, limit: &str) -> Self {
        self.cpu = (request.into(), limit.into());
        self
    }

    /// Each node's volume size and StorageClass.
    pub fn volume(mut self, size: &str, class: Option<&str>) -> Self {
        self.volume = size.into();
        self.storage_class = class.map(str::to_owned);
        self
    }

    /// The password's key in its Secret (default `password`).
    pub fn password_key(mut self, key: &str) -> Self {
        self.password.1 = key.into();
        self
    }

    fn check(&self) -> std::result::Result<(), MessagingError> {
        if self.nodes < 3 {
            return Err(MessagingError::SentinelQuorum {
                name: self.name.clone(),
                nodes: self.nodes,
            });
        }
        let maxmemory_bytes =
            redis_bytes(&self.maxmemory).ok_or_else(|| MessagingError::MemorySize {
                what: "maxmemory".into(),
                value: self.maxmemory.clone(),
            })?;
        let limit_bytes =
            quantity_bytes(&self.memory_limit).ok_or_else(|| MessagingError::MemorySize {
                what: "container memory limit".into(),
                value: self.memory_limit.clone(),
            })?;
        if limit_bytes <= maxmemory_bytes {
            return Err(MessagingError::MaxmemoryAboveLimit {
                name: self.name.clone(),
                maxmemory: self.maxmemory.clone(),
                maxmemory_bytes,
                limit: self.memory_limit.clone(),
                limit_bytes,
            });
        }
        Ok(())
    }

    /// The chart's values.
    pub fn values(&self) -> RedisValues {
        let persistence = match self.usage {
            RedisUse::Cache => ChartPersistence::default(),
            RedisUse::Sessions | RedisUse::Streams => {
                ChartPersistence::volume(&self.volume, self.storage_class.as_deref())
            }
        };
        let mut extra = Extra::new();
        extra.insert("fullnameOverride".into(), json!(self.name));
        extra.insert(
            "sentinel".into(),
            json!({"enabled": true, "masterSet": MASTER_SET, "quorum": 2}),
        );
        RedisValues {
            architecture: Some("replication".into()),
            auth: Some(RedisAuth {
                enabled: true,
                existing_secret: Some(self.password.0.clone()),
                existing_secret_password_key: Some(self.password.1.clone()),
            }),
            common_configuration: Some(self.usage.configuration(&self.maxmemory)),
            master: None,
            replica: Some(RedisNode {
                replica_count: Some(self.nodes),
                resources: Some(ChartResources::new(
                    (&self.cpu.0, &self.cpu.1),
                    (&self.memory_request, &self.memory_limit),
                )),
                persistence: Some(persistence),
                extra: Extra::new(),
            }),
            extra,
        }
    }
}

impl Construct for Redis {
    type Handle = RedisHandle;

    /// Write the chart's release as construct `id` after checking the memory and the
    /// Sentinel quorum.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<RedisHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| e.at(&at))?;
        let release = Release::typed(&self.name, self.namespace.name(), &self.values())
            .delivery(self.delivery.clone())
            .add(scope, "release")?;
        Ok(RedisHandle {
            release,
            password: self.password,
        })
    }
}

/// Redis Streams consumer groups (`camera:frames` read by `detectors`), made by a Job
/// that asks Sentinel for the primary and runs `XGROUP CREATE <key> <group> $ MKSTREAM`
/// for each, a group that exists (`BUSYGROUP`) counting as done: the Job may rerun.
#[must_use = "a builder creates nothing until `add` is called"]
#[derive(Clone, Debug, PartialEq)]
pub struct StreamGroups {
    redis: RedisHandle,
    name: String,
    streams: Vec<(String, Vec<String>)>,
}

impl StreamGroups {
    /// Groups on `redis`, made by Job `name`.
    pub fn new(redis: &RedisHandle, name: impl Into<String>) -> Self {
        Self {
            redis: redis.clone(),
            name: name.into(),
            streams: Vec::new(),
        }
    }

    /// Stream `key` read by consumer `groups`.
    pub fn stream<S: Into<String>>(
        mut self,
        key: impl Into<String>,
        groups: impl IntoIterator<Item = S>,
    ) -> Self {
        self.streams
            .push((key.into(), groups.into_iter().map(Into::into).collect()));
        self
    }

    fn check(&self) -> std::result::Result<(), MessagingError> {
        if self.streams.is_empty() {
            return Err(MessagingError::Empty {
                what: format!("stream groups {:?}", self.name),
                item: "stream".into(),
            });
        }
        let mut keys = BTreeSet::new();
        for (key, groups) in &self.streams {
            stream_name("stream key", key)?;
            if !keys.insert(key) {
                return Err(MessagingError::Duplicate {
                    what: "stream".into(),
                    name: key.clone(),
                });
            }
            if groups.is_empty() {
                return Err(MessagingError::Empty {
                    what: format!("stream {key:?}"),
                    item: "consumer group".into(),
                });
            }
            let mut seen = BTreeSet::new();
            for group in groups {
                stream_name("consumer group", group)?;
                if !seen.insert(group) {
                    return Err(MessagingError::Duplicate {
                        what: "consumer group".into(),
                        name: format!("{key} {group}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// The Job's shell script.
    pub fn script(&self) -> String {
        let mut script = format!(
            r#"set -eu
primary=$(redis-cli --no-auth-warning -h "$REDIS_HOST" -p 26379 SENTINEL get-master-addr-by-name {MASTER_SET})
host=$(echo "$primary" | sed -n 1p)
port=$(echo "$primary" | sed -n 2p)
create() {{
  out=$(redis-cli --no-auth-warning -h "$host" -p "$port" XGROUP CREATE "$1" "$2" '$' MKSTREAM 2>&1) || true
  case "$out" in
    OK) echo "created $1 $2" ;;
    *BUSYGROUP*) echo "exists $1 $2" ;;
    *) echo "failed $1 $2: $out" >&2; exit 1 ;;
  esac
}}
"#
        );
        for (key, groups) in &self.streams {
            for group in groups {
                script.push_str(&format!("create '{key}' '{group}'\n"));
            }
        }
        script
    }
}

/// Names the script quotes in single quotes: no quote or shell character can appear.
fn stream_name(what: &str, value: &str) -> std::result::Result<(), MessagingError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(MessagingError::StreamName {
            what: what.into(),
            value: value.into(),
        })
    }
}

impl Construct for StreamGroups {
    type Handle = WorkloadHandle;

    /// Write the Job as construct `id`, into the scope's Kubernetes app.
    fn add(self, scope: &mut Scope<'_>, id: &str) -> Result<WorkloadHandle> {
        let scope = &mut scope.construct_child(id)?;
        let at = scope.location();
        self.check().map_err(|e| e.at(&at))?;
        let namespace = NamespaceHandle::existing(self.redis.release.namespace());
        let (secret, key) = self.redis.password_secret();
        Job::new(&namespace, &self.name)
            .backoff_limit(6)
            .container(
                Container::new("xgroup", REDIS_IMAGE)
                    .run_as_user(1001)
                    .command(["/bin/sh", "-c", &self.script()])
                    .env(Env::value("REDIS_HOST", self.redis.host()))
                    .env(Env::secret_key("REDISCLI_AUTH", secret, key))
                    .resources(Resources::new().cpu("50m", "200m").memory("32Mi", "64Mi")),
            )
            .add(scope, "job")
    }
}
