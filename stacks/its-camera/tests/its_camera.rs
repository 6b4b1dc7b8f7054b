#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! ITS Camera AI's stacks synthesized together, as CI and Terraform Cloud get them.

use girder_core::App;
use girder_core::assertions::Template;

fn assembly() -> girder_core::Assembly {
    let mut app = App::new();
    girder_stack_its_camera::build(&mut app).unwrap();
    app.synth().unwrap()
}

#[test]
fn prod_has_the_seeds_cluster_six_nodes_48_vcpu_192_gib_two_t4s() {
    // Seed 003's resource requirements: 6 worker nodes, 48 vCPU, 192 GB, 2 NVIDIA T4.
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "its-camera-prod").unwrap();
    let groups = t.resources("aws_eks_node_group");
    // (vCPU, GiB, T4s) of the instance types the groups use.
    let shape = |instance: &str| match instance {
        "m7i.2xlarge" => (8, 32, 0),
        "g4dn.2xlarge" => (8, 32, 1),
        other => panic!("unknown instance type {other}"),
    };
    let (mut nodes, mut cpus, mut memory, mut gpus) = (0, 0, 0, 0);
    for (_, group) in &groups {
        let count = group["scaling_config"][0]["desired_size"].as_u64().unwrap();
        let instance = group["instance_types"][0].as_str().unwrap();
        let (cpu, gib, t4) = shape(instance);
        nodes += count;
        cpus += count * cpu;
        memory += count * gib;
        gpus += count * t4;
    }
    assert_eq!((nodes, cpus, memory, gpus), (6, 48, 192, 2));
    // The GPU pool runs EKS's NVIDIA image and admits only what tolerates its taint.
    let gpu = &t.resource("aws_eks_node_group", "nodes_gpu_group");
    assert_eq!(gpu["ami_type"], "AL2023_x86_64_NVIDIA");
    assert_eq!(gpu["taint"][0]["key"], girder_stack_its_camera::GPU_TAINT);
    assert_eq!(gpu["taint"][0]["effect"], "NO_SCHEDULE");
    assert_eq!(gpu["labels"][girder_stack_its_camera::POOL_LABEL], "gpu");
    // Dev is smaller, with one GPU.
    let dev = Template::from_assembly(&assembly, "its-camera-dev").unwrap();
    let dev_gpu = &dev.resource("aws_eks_node_group", "nodes_gpu_group");
    assert_eq!(dev_gpu["scaling_config"][0]["desired_size"], 1);
}

#[test]
fn every_namespace_denies_both_ways_but_dns_and_each_service_has_its_account() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "its-camera-dev").unwrap();
    let objects = t.kube_objects();
    let namespaces: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces.len(), 7, "{namespaces:?}");
    for ns in &namespaces {
        let in_ns = |kind: &str, name: &str| {
            objects.iter().find(|o| {
                o["kind"] == kind
                    && o["metadata"]["namespace"] == *ns
                    && o["metadata"]["name"] == name
            })
        };
        let deny = in_ns("NetworkPolicy", "default-deny").unwrap_or_else(|| panic!("{ns}"));
        assert_eq!(
            deny["spec"]["policyTypes"],
            serde_json::json!(["Ingress", "Egress"])
        );
        assert!(in_ns("NetworkPolicy", "allow-dns").is_some(), "{ns}");
        let namespace = objects
            .iter()
            .find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == *ns)
            .unwrap();
        assert_eq!(
            namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );
        // The people's groups: developers read, operators change.
        let view = in_ns("RoleBinding", "its-developers-view").unwrap();
        assert_eq!(view["roleRef"]["name"], "view");
        let edit = in_ns("RoleBinding", "its-operators-edit").unwrap();
        assert_eq!(edit["subjects"][0]["name"], "its-operators");
    }
    // No service account carries an API token.
    for account in objects.iter().filter(|o| o["kind"] == "ServiceAccount") {
        assert_eq!(account["automountServiceAccountToken"], false, "{account}");
    }
    // The groups are the IAM roles' through access entries.
    let entries = t.resources("aws_eks_access_entry");
    let groups: Vec<String> = entries
        .iter()
        .filter_map(|(_, e)| e.get("kubernetes_groups"))
        .map(|g| g.to_string())
        .collect();
    for group in [
        girder_stack_its_camera::DEVELOPERS_GROUP,
        girder_stack_its_camera::OPERATORS_GROUP,
    ] {
        assert!(
            groups.iter().any(|g| g.contains(group)),
            "{group}: {groups:?}"
        );
    }
}

#[test]
fn argo_cd_delivers_the_platform_per_environment() {
    let assembly = assembly();
    for env in ["dev", "prod"] {
        let artifacts: Vec<String> = assembly.manifest()["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == format!("its-camera-{env}"))
            .unwrap()["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap_or("").to_owned())
            .collect();
        // The root Application, and an Application of the platform app among the apps.
        for path in [
            format!("gitops/its-camera-{env}/argocd/root/application-its-camera-{env}.yaml"),
            format!(
                "gitops/its-camera-{env}/argocd/apps/application-its-camera-{env}-platform.yaml"
            ),
        ] {
            assert!(artifacts.contains(&path), "{path}: {artifacts:?}");
        }
    }
}

#[test]
fn kafka_has_the_seeds_brokers_quorum_and_topics_and_redis_one_instance_per_use() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "its-camera-prod").unwrap();
    let objects = t.kube_objects();
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        objects.iter().filter(|o| o["kind"] == kind).collect()
    };
    // 3 brokers with rack awareness; the seed's 3 ZooKeeper x 10 GB as 3 KRaft controllers.
    let kafka = of("Kafka");
    assert_eq!(kafka.len(), 1);
    assert_eq!(
        kafka[0]["spec"]["kafka"]["rack"]["topologyKey"],
        "topology.kubernetes.io/zone"
    );
    let pools = of("KafkaNodePool");
    let pool = |role: &str| {
        *pools
            .iter()
            .find(|p| p["spec"]["roles"].to_string().contains(role))
            .unwrap_or_else(|| panic!("{role}"))
    };
    assert_eq!(pool("broker")["spec"]["replicas"], 3);
    assert_eq!(pool("controller")["spec"]["replicas"], 3);
    assert!(
        pool("controller")["spec"]["storage"]
            .to_string()
            .contains("10Gi"),
        "{}",
        pool("controller")["spec"]["storage"]
    );
    // The seed's topics: 7 days, replication factor 2.
    let topics = of("KafkaTopic");
    let mut names: Vec<&str> = topics
        .iter()
        .map(|t| t["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alerts", "camera-events", "vehicle-detections"]);
    for topic in &topics {
        assert_eq!(topic["spec"]["replicas"], 2, "{topic}");
        assert_eq!(
            topic["spec"]["config"]["retention.ms"],
            7 * 24 * 3600 * 1000_u64,
            "{topic}"
        );
    }
    // Redis: sessions, cache and streams, 8 GB maxmemory each, Sentinel-managed.
    let redis: Vec<&serde_json::Value> = objects
        .iter()
        .filter(|o| {
            o["kind"] == "Application"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("redis-"))
        })
        .collect();
    assert_eq!(redis.len(), 3, "{redis:?}");
    for app in redis {
        let values = app["spec"]["source"]["helm"]["valuesObject"].to_string();
        assert!(values.contains("maxmemory 8gb"), "{values}");
        assert!(values.contains("\"sentinel\""), "{values}");
    }
}

#[test]
fn the_data_services_are_the_seeds_sizes_and_policies() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "its-camera-prod").unwrap();
    // PostgreSQL: 3 instances (streaming replication), 100Gi each, PgBouncer at 200.
    let postgres = t.kube_object("Cluster", "postgresql");
    assert_eq!(postgres["spec"]["instances"], 3);
    assert_eq!(postgres["spec"]["storage"]["size"], "100Gi");
    let pooler = t.kube_object("Pooler", "postgresql-pooler-rw");
    assert_eq!(
        pooler["spec"]["pgbouncer"]["parameters"]["max_client_conn"],
        "200"
    );
    // TimescaleDB: the hypertables with the seed's retention.
    let scripts: String = t
        .kube_objects()
        .iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .map(|o| o["data"].to_string())
        .collect();
    for needle in [
        "camera_metrics",
        "vehicle_detections",
        "add_retention_policy('camera_metrics', INTERVAL '30 days'",
        "add_retention_policy('vehicle_detections', INTERVAL '7 days'",
    ] {
        assert!(scripts.contains(needle), "{needle}");
    }
    // MinIO: 4 servers x 500Gi, the seed's three buckets.
    let tenant = t.kube_object("Tenant", "minio");
    let pool = &tenant["spec"]["pools"][0];
    assert_eq!(pool["servers"], 4);
    assert_eq!(
        pool["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"],
        "500Gi"
    );
    let buckets = tenant["spec"]["buckets"].to_string();
    for bucket in ["its-video", "its-models", "its-logs"] {
        assert!(buckets.contains(bucket), "{bucket}: {buckets}");
    }
}

#[test]
fn the_camera_frames_stream_has_its_processors_group() {
    let assembly = assembly();
    let t = Template::from_assembly(&assembly, "its-camera-dev").unwrap();
    let job = t.kube_object("Job", "redis-streams-groups");
    assert_eq!(job["metadata"]["namespace"], "its-messaging");
    let script = job.to_string();
    assert!(script.contains("camera:frames"), "{script}");
    assert!(script.contains("frame-processors"), "{script}");
    assert!(script.contains("MKSTREAM"), "{script}");
}
