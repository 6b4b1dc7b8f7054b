#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! girder-messaging's constructs: the defaults on the synthesized objects, each refusal
//! as its typed variant, and (when ../shared is beside the clone) k8scheck with
//! `--strict-refs` over the output of an ITS-shaped stack.

use std::path::{Path, PathBuf};

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_k8s::prelude::*;
use girder_messaging::kafka::SEVEN_DAYS_MS;
use girder_messaging::{
    CleanupPolicy, Compression, KafkaCluster, KafkaTopic, KafkaUser, MessagingError, NodePool,
    Redis, RedisUse, StreamGroups, UserAuthentication, strimzi_operator,
};
use serde_json::json;

fn its_kafka(ns: &NamespaceHandle) -> KafkaCluster {
    let events = KafkaTopic::new("camera-events", 12, 2);
    let detections = KafkaTopic::new("vehicle-detections", 12, 2).compression(Compression::Lz4);
    let alerts = KafkaTopic::new("alerts", 3, 2);
    KafkaCluster::new(ns, "events")
        .brokers(NodePool::new("brokers", 3, "100Gi").storage_class("gp3"))
        .user(
            KafkaUser::new("stream-processor")
                .produces(&detections)
                .consumes(&events),
        )
        .topic(events)
        .topic(detections)
        .topic(alerts)
        .metrics()
        .monitor_label("release", "monitoring")
}

/// An ITS-shaped stack: the operator, Kafka with topics and users, a Redis per use case
/// and the frames' consumer groups.
fn stack() -> Stack {
    let mut stack = Stack::new("its", "dev", Backend::local()).unwrap();
    stack
        .external_kube_object(
            "Secret",
            Some("data"),
            "redis-password",
            "made by an ExternalSecret in the platform stack",
        )
        .unwrap();
    {
        let mut scope = stack
            .scope("messaging")
            .unwrap()
            .with_kube_app("messaging")
            .unwrap();
        let kafka_ns = Namespace::new("kafka").add(&mut scope, "kafka-ns").unwrap();
        let data = Namespace::new("data").add(&mut scope, "data-ns").unwrap();
        strimzi_operator("kafka", &[])
            .add(&mut scope, "strimzi")
            .unwrap();
        its_kafka(&kafka_ns).add(&mut scope, "kafka").unwrap();
        for (id, usage) in [
            ("redis-sessions", RedisUse::Sessions),
            ("redis-cache", RedisUse::Cache),
        ] {
            Redis::new(&data, id, usage, "redis-password")
                .add(&mut scope, id)
                .unwrap();
        }
        let streams = Redis::new(&data, "redis-streams", RedisUse::Streams, "redis-password")
            .add(&mut scope, "redis-streams")
            .unwrap();
        StreamGroups::new(&streams, "frames-groups")
            .stream("camera:frames", ["detectors", "recorders"])
            .add(&mut scope, "frames")
            .unwrap();
    }
    stack
}

fn template() -> Template {
    Template::from_stack(stack()).unwrap()
}

/// Adding `cluster` to a fresh stack, returning the error it is refused with.
fn kafka_refusal(cluster: impl FnOnce(&NamespaceHandle) -> KafkaCluster) -> MessagingError {
    let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
    let ns = Namespace::new("kafka").add(&mut scope, "ns").unwrap();
    let err = cluster(&ns).add(&mut scope, "kafka").unwrap_err();
    err.construct_error::<MessagingError>()
        .cloned()
        .unwrap_or_else(|| panic!("not a MessagingError: {err}"))
}

fn redis_refusal(redis: impl FnOnce(&NamespaceHandle) -> Redis) -> MessagingError {
    let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
    let ns = Namespace::new("data").add(&mut scope, "ns").unwrap();
    let err = redis(&ns).add(&mut scope, "redis").unwrap_err();
    err.construct_error::<MessagingError>().cloned().unwrap()
}

#[test]
fn kafka_is_kraft_with_rack_awareness_listeners_and_the_entity_operator() {
    let t = template();
    let kafka = t.kube_object("Kafka", "events");
    assert_eq!(kafka["apiVersion"], "kafka.strimzi.io/v1");
    assert_eq!(kafka["metadata"]["namespace"], "kafka");
    let spec = &kafka["spec"]["kafka"];
    assert_eq!(
        spec["rack"],
        json!({"topologyKey": "topology.kubernetes.io/zone"})
    );
    assert_eq!(
        spec["listeners"][0],
        json!({"name": "plain", "port": 9092, "type": "internal", "tls": false,
               "authentication": {"type": "scram-sha-512"}})
    );
    assert_eq!(spec["listeners"][1]["port"], 9093);
    assert_eq!(spec["listeners"][1]["tls"], true);
    assert_eq!(
        spec["listeners"][1]["authentication"],
        json!({"type": "scram-sha-512"})
    );
    assert_eq!(spec["authorization"], json!({"type": "simple"}));
    // Defaults from the topics: replication factor 2, one replica may be down.
    assert_eq!(spec["config"]["default.replication.factor"], 2);
    assert_eq!(spec["config"]["min.insync.replicas"], 1);
    assert_eq!(spec["config"]["auto.create.topics.enable"], false);
    assert_eq!(
        kafka["spec"]["entityOperator"],
        json!({"topicOperator": {}, "userOperator": {}})
    );
    // Strimzi 1.x ignores the old KRaft / node-pool annotations: none are written.
    assert!(kafka["metadata"].get("annotations").is_none());
}

#[test]
fn the_seeds_zookeeper_becomes_three_kraft_controllers_of_10gi() {
    let t = template();
    let controllers = t.kube_object("KafkaNodePool", "controllers");
    assert_eq!(
        controllers["metadata"]["labels"]["strimzi.io/cluster"],
        "events"
    );
    assert_eq!(controllers["spec"]["replicas"], 3);
    assert_eq!(controllers["spec"]["roles"], json!(["controller"]));
    assert_eq!(
        controllers["spec"]["storage"],
        json!({"type": "persistent-claim", "size": "10Gi", "deleteClaim": false})
    );
    let brokers = t.kube_object("KafkaNodePool", "brokers");
    assert_eq!(brokers["spec"]["replicas"], 3);
    assert_eq!(brokers["spec"]["roles"], json!(["broker"]));
    assert_eq!(brokers["spec"]["storage"]["class"], "gp3");
    assert_eq!(brokers["spec"]["storage"]["size"], "100Gi");
    assert_eq!(brokers["spec"]["storage"]["kraftMetadata"], "shared");
}

#[test]
fn topics_keep_seven_days_with_typed_config() {
    let t = template();
    let topic = t.kube_object("KafkaTopic", "vehicle-detections");
    assert_eq!(topic["metadata"]["labels"]["strimzi.io/cluster"], "events");
    assert_eq!(topic["spec"]["partitions"], 12);
    assert_eq!(topic["spec"]["replicas"], 2);
    assert_eq!(
        topic["spec"]["config"],
        json!({
            "cleanup.policy": "delete",
            "compression.type": "lz4",
            "min.insync.replicas": 1,
            "retention.ms": SEVEN_DAYS_MS,
        })
    );
    assert!(topic["spec"].get("topicName").is_none());
}

#[test]
fn a_topic_name_kubernetes_refuses_keeps_its_kafka_name() {
    let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
    {
        let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
        let ns = Namespace::new("kafka").add(&mut scope, "ns").unwrap();
        KafkaCluster::new(&ns, "events")
            .topic(KafkaTopic::new("Camera_Events", 1, 1).cleanup_policy(CleanupPolicy::Compact))
            .add(&mut scope, "kafka")
            .unwrap();
    }
    let t = Template::from_stack(stack).unwrap();
    let topic = t.kube_object("KafkaTopic", "camera-events");
    assert_eq!(topic["spec"]["topicName"], "Camera_Events");
    assert_eq!(topic["spec"]["config"]["cleanup.policy"], "compact");
    assert_eq!(topic["spec"]["config"]["min.insync.replicas"], 1);
}

#[test]
fn users_get_topic_acls_for_producing_and_consuming() {
    let t = template();
    let user = t.kube_object("KafkaUser", "stream-processor");
    assert_eq!(
        user["spec"]["authentication"],
        json!({"type": "scram-sha-512"})
    );
    assert_eq!(
        user["spec"]["authorization"]["acls"],
        json!([
            {"resource": {"type": "topic", "name": "vehicle-detections", "patternType": "literal"},
             "operations": ["Write", "Describe"]},
            {"resource": {"type": "topic", "name": "camera-events", "patternType": "literal"},
             "operations": ["Read", "Describe"]},
            {"resource": {"type": "group", "name": "stream-processor", "patternType": "literal"},
             "operations": ["Read"]},
        ])
    );
}

#[test]
fn tls_users_switch_the_tls_listener_to_client_certificates() {
    let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
    {
        let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
        let ns = Namespace::new("kafka").add(&mut scope, "ns").unwrap();
        let alerts = KafkaTopic::new("alerts", 3, 3);
        KafkaCluster::new(&ns, "events")
            .user_authentication(UserAuthentication::Tls)
            .user(
                KafkaUser::new("notifier")
                    .consumes(&alerts)
                    .group("notifiers"),
            )
            .topic(alerts)
            .add(&mut scope, "kafka")
            .unwrap();
    }
    let t = Template::from_stack(stack).unwrap();
    let kafka = t.kube_object("Kafka", "events");
    assert_eq!(
        kafka["spec"]["kafka"]["listeners"][1]["authentication"],
        json!({"type": "tls"})
    );
    assert!(
        kafka["spec"]["kafka"]["listeners"][0]
            .get("authentication")
            .is_none()
    );
    assert_eq!(
        kafka["spec"]["kafka"]["config"]["default.replication.factor"],
        3
    );
    assert_eq!(kafka["spec"]["kafka"]["config"]["min.insync.replicas"], 2);
    let user = t.kube_object("KafkaUser", "notifier");
    assert_eq!(user["spec"]["authentication"], json!({"type": "tls"}));
    assert_eq!(
        user["spec"]["authorization"]["acls"][1]["resource"]["name"],
        "notifiers"
    );
}

#[test]
fn metrics_add_the_exporter_config_map_and_a_pod_monitor() {
    let t = template();
    let kafka = t.kube_object("Kafka", "events");
    assert_eq!(
        kafka["spec"]["kafka"]["metricsConfig"],
        json!({"type": "jmxPrometheusExporter", "valueFrom": {"configMapKeyRef": {
            "name": "events-kafka-metrics", "key": "kafka-metrics-config.yml"}}})
    );
    let config = t.kube_object("ConfigMap", "events-kafka-metrics");
    assert!(config["data"]["kafka-metrics-config.yml"].is_string());
    let monitor = t.kube_object("PodMonitor", "events-kafka");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"],
        json!({"strimzi.io/cluster": "events", "strimzi.io/kind": "Kafka"})
    );
    assert_eq!(
        monitor["spec"]["podMetricsEndpoints"][0]["port"],
        "tcp-prometheus"
    );
}

#[test]
fn the_operator_is_strimzi_1_2_0() {
    let t = template();
    let values = t.helm_values("strimzi").unwrap();
    assert_eq!(values["watchNamespaces"], json!([]));
}

#[test]
fn a_topic_with_replication_factor_above_the_broker_count_is_refused() {
    let err =
        kafka_refusal(|ns| KafkaCluster::new(ns, "events").topic(KafkaTopic::new("alerts", 3, 4)));
    assert_eq!(
        err,
        MessagingError::ReplicationAboveBrokers {
            topic: "alerts".into(),
            replicas: 4,
            brokers: 3,
        }
    );
}

#[test]
fn min_insync_at_or_above_the_replication_factor_is_refused() {
    let err = kafka_refusal(|ns| {
        KafkaCluster::new(ns, "events")
            .topic(KafkaTopic::new("alerts", 3, 2).min_insync_replicas(2))
    });
    assert_eq!(
        err,
        MessagingError::MinInsyncReplicas {
            topic: "alerts".into(),
            min_insync: 2,
            replicas: 2,
        }
    );
}

#[test]
fn zero_partitions_and_zero_replicas_are_refused() {
    let err =
        kafka_refusal(|ns| KafkaCluster::new(ns, "events").topic(KafkaTopic::new("alerts", 0, 2)));
    assert_eq!(
        err,
        MessagingError::NoPartitions {
            topic: "alerts".into()
        }
    );
    let err =
        kafka_refusal(|ns| KafkaCluster::new(ns, "events").topic(KafkaTopic::new("alerts", 1, 0)));
    assert_eq!(
        err,
        MessagingError::NoReplicas {
            topic: "alerts".into()
        }
    );
}

#[test]
fn topic_names_kafka_refuses_are_refused() {
    for name in [
        "",
        ".",
        "..",
        "camera events",
        "frames/raw",
        &"a".repeat(250),
    ] {
        let err =
            kafka_refusal(|ns| KafkaCluster::new(ns, "events").topic(KafkaTopic::new(name, 1, 1)));
        assert_eq!(
            err,
            MessagingError::TopicName { topic: name.into() },
            "{name:?}"
        );
    }
}

#[test]
fn duplicate_topics_unknown_grants_and_even_controller_quorums_are_refused() {
    let err = kafka_refusal(|ns| {
        KafkaCluster::new(ns, "events")
            .topic(KafkaTopic::new("alerts", 1, 1))
            .topic(KafkaTopic::new("alerts", 2, 1))
    });
    assert!(matches!(err, MessagingError::Duplicate { name, .. } if name == "alerts"));
    let err = kafka_refusal(|ns| {
        KafkaCluster::new(ns, "events")
            .user(KafkaUser::new("app").produces(&KafkaTopic::new("nowhere", 1, 1)))
    });
    assert_eq!(
        err,
        MessagingError::UnknownTopic {
            user: "app".into(),
            topic: "nowhere".into()
        }
    );
    let err = kafka_refusal(|ns| {
        KafkaCluster::new(ns, "events").controllers(NodePool::new("controllers", 2, "10Gi"))
    });
    assert!(matches!(err, MessagingError::PoolSize { replicas: 2, .. }));
    let err = kafka_refusal(|ns| {
        KafkaCluster::new(ns, "events").brokers(NodePool::new("brokers", 0, "10Gi"))
    });
    assert!(matches!(err, MessagingError::PoolSize { replicas: 0, .. }));
}

#[test]
fn redis_runs_sentinel_replication_with_the_use_cases_policy() {
    let t = template();
    let sessions = t.helm_values("redis-sessions").unwrap();
    assert_eq!(sessions["architecture"], "replication");
    assert_eq!(
        sessions["sentinel"],
        json!({"enabled": true, "masterSet": "mymaster", "quorum": 2})
    );
    assert_eq!(sessions["fullnameOverride"], "redis-sessions");
    assert_eq!(sessions["replica"]["replicaCount"], 3);
    assert_eq!(sessions["replica"]["resources"]["limits"]["memory"], "10Gi");
    assert_eq!(sessions["replica"]["persistence"]["enabled"], true);
    assert_eq!(
        sessions["commonConfiguration"],
        "maxmemory 8gb\nmaxmemory-policy noeviction\nappendonly yes\nappendfsync everysec"
    );
    assert_eq!(sessions["auth"]["existingSecret"], "redis-password");
    let cache = t.helm_values("redis-cache").unwrap();
    assert_eq!(
        cache["commonConfiguration"],
        "maxmemory 8gb\nmaxmemory-policy allkeys-lru\nappendonly no\nsave \"\""
    );
    assert_eq!(cache["replica"]["persistence"]["enabled"], false);
    let streams = t.helm_values("redis-streams").unwrap();
    assert!(
        streams["commonConfiguration"]
            .as_str()
            .unwrap()
            .contains("maxmemory-policy noeviction\nappendonly yes")
    );
}

#[test]
fn maxmemory_at_or_above_the_memory_limit_is_refused() {
    let err = redis_refusal(|ns| {
        Redis::new(ns, "cache", RedisUse::Cache, "pw").memory("8gb", "8Gi", "8Gi")
    });
    assert_eq!(
        err,
        MessagingError::MaxmemoryAboveLimit {
            name: "cache".into(),
            maxmemory: "8gb".into(),
            maxmemory_bytes: 8 << 30,
            limit: "8Gi".into(),
            limit_bytes: 8 << 30,
        }
    );
    // 8gb is 8 GiB: a limit of 8G (decimal) is smaller still.
    let err = redis_refusal(|ns| {
        Redis::new(ns, "cache", RedisUse::Cache, "pw").memory("8gb", "8G", "8G")
    });
    assert!(matches!(err, MessagingError::MaxmemoryAboveLimit { .. }));
    let err = redis_refusal(|ns| {
        Redis::new(ns, "cache", RedisUse::Cache, "pw").memory("8 gigs", "9Gi", "9Gi")
    });
    assert!(matches!(err, MessagingError::MemorySize { value, .. } if value == "8 gigs"));
    let err = redis_refusal(|ns| {
        Redis::new(ns, "cache", RedisUse::Cache, "pw").memory("8gb", "lots", "lots")
    });
    assert!(matches!(err, MessagingError::MemorySize { value, .. } if value == "lots"));
}

#[test]
fn fewer_than_three_sentinel_nodes_are_refused() {
    let err = redis_refusal(|ns| Redis::new(ns, "cache", RedisUse::Cache, "pw").nodes(2));
    assert_eq!(
        err,
        MessagingError::SentinelQuorum {
            name: "cache".into(),
            nodes: 2
        }
    );
}

#[test]
fn stream_groups_are_an_idempotent_xgroup_job_on_the_primary() {
    let t = template();
    let job = t.kube_object("Job", "frames-groups");
    assert_eq!(job["metadata"]["namespace"], "data");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], girder_messaging::redis::REDIS_IMAGE);
    let script = container["command"][2].as_str().unwrap();
    assert!(script.contains("SENTINEL get-master-addr-by-name mymaster"));
    assert!(script.contains("XGROUP CREATE \"$1\" \"$2\" '$' MKSTREAM"));
    assert!(script.contains("*BUSYGROUP*) echo \"exists $1 $2\" ;;"));
    assert!(
        script.contains("create 'camera:frames' 'detectors'\ncreate 'camera:frames' 'recorders'\n")
    );
    assert_eq!(
        container["env"],
        json!([
            {"name": "REDIS_HOST", "value": "redis-streams.data.svc"},
            {"name": "REDISCLI_AUTH", "valueFrom": {"secretKeyRef": {"name": "redis-password", "key": "password"}}},
        ])
    );
}

#[test]
fn stream_names_the_script_cannot_quote_and_empty_groups_are_refused() {
    let refusal = |groups: StreamGroups| {
        let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
        let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
        groups
            .add(&mut scope, "groups")
            .unwrap_err()
            .construct_error::<MessagingError>()
            .cloned()
            .unwrap()
    };
    let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
    let ns = Namespace::new("data").add(&mut scope, "ns").unwrap();
    let redis = Redis::new(&ns, "redis-streams", RedisUse::Streams, "pw")
        .add(&mut scope, "redis")
        .unwrap();
    assert_eq!(
        refusal(StreamGroups::new(&redis, "g").stream("frames';reboot", ["d"])),
        MessagingError::StreamName {
            what: "stream key".into(),
            value: "frames';reboot".into()
        }
    );
    assert!(matches!(
        refusal(StreamGroups::new(&redis, "g").stream("frames", Vec::<String>::new())),
        MessagingError::Empty { .. }
    ));
    assert!(matches!(
        refusal(StreamGroups::new(&redis, "g")),
        MessagingError::Empty { .. }
    ));
    assert!(matches!(
        refusal(StreamGroups::new(&redis, "g").stream("frames", ["d", "d"])),
        MessagingError::Duplicate { .. }
    ));
}

#[test]
fn k8scheck_strict_refs_accepts_the_synthesized_objects() {
    let tool =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/k8scheck/k8scheck");
    if !tool.exists() {
        eprintln!("skipped: ../shared/tools/k8scheck is not beside this clone");
        return;
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-messaging");
    let mut app = App::new();
    app.add_stack(stack()).unwrap();
    app.synth().unwrap().write(&out).unwrap();
    let output = std::process::Command::new(tool)
        .arg("--strict-refs")
        // The one object the stack declares external: the password, from the platform.
        .args(["--external", "Secret/data/redis-password"])
        .arg(out.join("kubernetes"))
        .arg(out.join("helm"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "k8scheck:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("0 problems"), "{report}");
}

#[test]
fn without_users_or_topics_the_cluster_is_open_inside_and_replicates_by_its_size() {
    let mut stack = Stack::new("t", "dev", Backend::local()).unwrap();
    {
        let mut scope = stack.scope("m").unwrap().with_kube_app("m").unwrap();
        let ns = Namespace::new("kafka").add(&mut scope, "ns").unwrap();
        KafkaCluster::new(&ns, "events")
            .brokers(NodePool::new("brokers", 1, "10Gi"))
            .controllers(NodePool::new("controllers", 1, "1Gi"))
            .rack_key(None)
            .config("num.partitions", 6)
            .add(&mut scope, "kafka")
            .unwrap();
    }
    let t = Template::from_stack(stack).unwrap();
    let spec = &t.kube_object("Kafka", "events")["spec"]["kafka"];
    assert!(spec.get("authorization").is_none());
    assert!(spec.get("rack").is_none());
    assert!(spec.get("metricsConfig").is_none());
    assert!(spec["listeners"][1].get("authentication").is_none());
    assert_eq!(spec["config"]["default.replication.factor"], 1);
    assert_eq!(spec["config"]["min.insync.replicas"], 1);
    assert_eq!(spec["config"]["num.partitions"], 6);
    assert!(t.kube_objects().iter().all(|o| o["kind"] != "PodMonitor"));
}

#[test]
fn memory_sizes_read_as_redis_and_kubernetes_mean_them() {
    use girder_messaging::redis::{quantity_bytes, redis_bytes};
    assert_eq!(redis_bytes("8gb"), Some(8 << 30));
    assert_eq!(redis_bytes("8GB"), Some(8 << 30));
    assert_eq!(redis_bytes("8g"), Some(8_000_000_000));
    assert_eq!(redis_bytes("512mb"), Some(512 << 20));
    assert_eq!(redis_bytes("0gb"), None);
    assert_eq!(quantity_bytes("10Gi"), Some(10 << 30));
    assert_eq!(quantity_bytes("8G"), Some(8_000_000_000));
    assert_eq!(quantity_bytes("1048576"), Some(1 << 20));
    assert_eq!(quantity_bytes("10gi"), None);
    assert_eq!(quantity_bytes("Gi"), None);
}
