#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! MinIO tenants: the seed's defaults on the Tenant, erasure sets and parity, buckets with
//! lifecycle and policies applied by the `mc` Job, every refusal as its variant, and
//! k8scheck --strict-refs over the objects (when ../shared is beside the clone).

use std::path::{Path, PathBuf};

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_k8s::crds::external_secrets::{
    ClusterSecretStore, ClusterSecretStoreSpec, ExternalSecret, ExternalSecretSpec, Provider,
    StoreRef,
};
use girder_storage::minio::MC_IMAGE;
use girder_storage::{
    MinioBucket, MinioPool, MinioTenant, MinioTenantHandle, MinioUser, StorageError,
};
use serde_json::json;

const NS: &str = "its-storage";

/// The seed's tenant: 4 servers x 500 GiB, buckets its-video, its-models, its-logs.
fn seed() -> MinioTenant {
    MinioTenant::new(NS, "its-minio")
        .user(MinioUser::new("detector", "minio-user-detector"))
        .user(MinioUser::new("api", "minio-user-api"))
        .user(MinioUser::new("trainer", "minio-user-trainer"))
        .user(MinioUser::new("logs", "minio-user-logs"))
        .bucket(
            MinioBucket::new("its-video")
                .expire_days(30)
                .read_write(["detector"])
                .read(["api"]),
        )
        .bucket(
            MinioBucket::new("its-models")
                .read_write(["trainer"])
                .read(["detector", "api"]),
        )
        .bucket(
            MinioBucket::new("its-logs")
                .expire_days(90)
                .read_write(["logs"]),
        )
}

fn secrets(scope: &mut Scope<'_>) -> girder_core::Result<()> {
    ClusterSecretStore::cluster(
        "its-secrets",
        ClusterSecretStoreSpec::new(Provider::secrets_manager("eu-west-1")).only_for([NS]),
    )
    .add(scope, "store")?;
    let store = StoreRef::cluster("its-secrets");
    ExternalSecret::new(
        NS,
        "its-minio-env-configuration",
        ExternalSecretSpec::new(
            store.clone(),
            "its-minio-env-configuration",
            [("config.env", "its/minio/config-env")],
        ),
    )
    .add(scope, "config")?;
    for user in ["detector", "api", "trainer", "logs"] {
        let name = format!("minio-user-{user}");
        ExternalSecret::new(
            NS,
            &name,
            ExternalSecretSpec::from_properties(
                store.clone(),
                &name,
                &format!("its/minio/users/{user}"),
                [
                    ("CONSOLE_ACCESS_KEY", "access_key"),
                    ("CONSOLE_SECRET_KEY", "secret_key"),
                ],
            ),
        )
        .add(scope, &name)?;
    }
    Ok(())
}

fn stack_with(tenant: MinioTenant) -> girder_core::Result<(Stack, MinioTenantHandle)> {
    let mut stack = Stack::new("storage", "dev", Backend::local())?;
    let handle = {
        let mut scope = stack.scope("k8s")?.with_kube_app("storage")?;
        girder_k8s::Namespace::new(NS).add(&mut scope, "namespace")?;
        secrets(&mut scope)?;
        tenant.add(&mut scope, "minio")?
    };
    Ok((stack, handle))
}

fn synth(tenant: MinioTenant) -> (Assembly, Template, MinioTenantHandle) {
    let (stack, handle) = stack_with(tenant).unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let template = Template::from_assembly(&assembly, "storage-dev").unwrap();
    (assembly, template, handle)
}

fn refusal(tenant: MinioTenant) -> StorageError {
    let err = stack_with(tenant).unwrap_err();
    err.construct_error::<StorageError>()
        .unwrap_or_else(|| panic!("not a StorageError: {err}"))
        .clone()
}

#[test]
fn tenant_defaults_are_the_seeds() {
    let (_, template, handle) = synth(seed());
    let tenant = template.kube_object("Tenant", "its-minio");
    assert_eq!(tenant["apiVersion"], "minio.min.io/v2");
    let spec = &tenant["spec"];
    let pool = &spec["pools"][0];
    assert_eq!(pool["name"], "pool-0");
    assert_eq!(pool["servers"], 4);
    assert_eq!(pool["volumesPerServer"], 1);
    assert_eq!(
        pool["volumeClaimTemplate"]["spec"],
        json!({
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "gp3",
            "resources": {"requests": {"storage": "500Gi"}},
        })
    );
    assert_eq!(pool["containerSecurityContext"]["runAsNonRoot"], true);
    // One erasure set of the 4 drives, parity 2: a server can be lost.
    assert_eq!(
        spec["env"],
        json!([{"name": "MINIO_STORAGE_CLASS_STANDARD", "value": "EC:2"}])
    );
    assert_eq!(spec["requestAutoCert"], true);
    assert_eq!(
        spec["configuration"],
        json!({"name": "its-minio-env-configuration"})
    );
    assert_eq!(
        spec["buckets"],
        json!([{"name": "its-video"}, {"name": "its-models"}, {"name": "its-logs"}])
    );
    assert_eq!(
        spec["users"],
        json!([
            {"name": "minio-user-detector"},
            {"name": "minio-user-api"},
            {"name": "minio-user-trainer"},
            {"name": "minio-user-logs"},
        ])
    );
    assert_eq!(handle.endpoint(), "https://minio.its-storage.svc");
    assert_eq!(handle.tenant().name(), "its-minio");
}

#[test]
fn setup_job_runs_mc_with_credentials_from_secrets_only() {
    let (_, template, handle) = synth(seed());
    let job = template.kube_object("Job", handle.setup_job());
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], MC_IMAGE);
    assert_eq!(container["command"], json!(["/bin/sh", "/setup/setup.sh"]));
    let env = container["env"].as_array().unwrap();
    // Every credential is a Secret reference; no literal value holds one.
    let detector = env
        .iter()
        .find(|e| e["name"] == "ACCESS_KEY_DETECTOR")
        .unwrap();
    assert_eq!(
        detector["valueFrom"]["secretKeyRef"],
        json!({"name": "minio-user-detector", "key": "CONSOLE_ACCESS_KEY"})
    );
    assert!(
        env.iter()
            .all(|e| !e["name"].as_str().unwrap().contains("SECRET"))
    );
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(volumes.contains(&json!({
        "name": "tenant-config",
        "secret": {"secretName": "its-minio-env-configuration"},
    })));
    assert!(volumes.contains(&json!({
        "name": "kube-ca",
        "configMap": {"name": "kube-root-ca.crt"},
    })));
}

#[test]
fn setup_script_applies_buckets_lifecycle_and_policies_idempotently() {
    let (_, template, _) = synth(seed());
    let config = template.kube_object("ConfigMap", "its-minio-setup");
    let script = config["data"]["setup.sh"].as_str().unwrap();
    for line in [
        "mc mb --ignore-existing \"tenant/its-video\"",
        "mc ilm rule import \"tenant/its-video\" < \"/setup/its-video.lifecycle.json\"",
        "mc admin policy create tenant \"its-video-write\" \"/setup/its-video-write.json\"",
        "attach \"its-video-write\" \"$ACCESS_KEY_DETECTOR\"",
        "attach \"its-video-read\" \"$ACCESS_KEY_API\"",
        "attach \"its-models-read\" \"$ACCESS_KEY_DETECTOR\"",
    ] {
        assert!(
            script.lines().any(|l| l == line),
            "{line:?} not in\n{script}"
        );
    }
    // A bucket without expiry has its rules removed, not a rule added per run.
    assert!(script.contains("mc ilm rule rm --all --force \"tenant/its-models\""));
    assert!(!script.contains("ilm rule add"));
    assert!(script.contains("*\"already in effect\"*) ;;"));
    let lifecycle: serde_json::Value =
        serde_json::from_str(config["data"]["its-video.lifecycle.json"].as_str().unwrap()).unwrap();
    assert_eq!(
        lifecycle,
        json!({"Rules": [{
            "ID": "its-video-expiry",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Expiration": {"Days": 30},
        }]})
    );
    let read: serde_json::Value =
        serde_json::from_str(config["data"]["its-models-read.json"].as_str().unwrap()).unwrap();
    assert_eq!(
        read["Statement"][1],
        json!({
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::its-models/*"],
        })
    );
}

#[test]
fn setup_job_name_follows_what_it_applies() {
    let job = |tenant: MinioTenant| stack_with(tenant).unwrap().1.setup_job().to_owned();
    assert_eq!(job(seed()), job(seed()));
    assert_ne!(
        job(seed()),
        job(seed().bucket(MinioBucket::new("its-extra")))
    );
}

#[test]
fn an_erasure_set_that_cannot_be_formed_is_refused() {
    for (servers, volumes) in [(3, 1), (2, 1), (17, 1)] {
        assert_eq!(
            refusal(seed().pools([MinioPool::new("pool-0", servers, volumes, 500, "gp3")])),
            StorageError::ErasureSet {
                pool: "pool-0".into(),
                servers,
                volumes_per_server: volumes,
                drives: u32::from(servers) * u32::from(volumes),
            }
        );
    }
    // 3 servers of 4 drives (12) and 4 x 4 form sets; so does 2 x 2.
    for (servers, volumes, set) in [(3, 4, 12), (4, 4, 16), (2, 2, 4), (8, 4, 16)] {
        assert_eq!(
            MinioPool::new("p", servers, volumes, 1, "gp3").erasure_set(),
            Ok(set)
        );
    }
}

#[test]
fn parity_is_minios_default_or_refused_above_half_the_set() {
    let (_, template, _) = synth(seed().pools([MinioPool::new("pool-0", 4, 4, 100, "gp3")]));
    assert_eq!(
        template.kube_object("Tenant", "its-minio")["spec"]["env"][0]["value"],
        "EC:4"
    );
    assert_eq!(
        refusal(seed().parity(3)),
        StorageError::Parity {
            parity: 3,
            set_size: 4,
            max: 2
        }
    );
    assert!(matches!(
        refusal(seed().parity(1)),
        StorageError::Parity { parity: 1, .. }
    ));
}

#[test]
fn bucket_and_pool_mistakes_are_refused() {
    assert_eq!(
        refusal(seed().bucket(MinioBucket::new("ITS_Video"))),
        StorageError::MinioBucketName("ITS_Video".into())
    );
    assert_eq!(
        refusal(seed().bucket(MinioBucket::new("its-video"))),
        StorageError::MinioBucketName("its-video".into())
    );
    assert_eq!(
        refusal(seed().bucket(MinioBucket::new("its-x").expire_days(0))),
        StorageError::MinioExpiry("its-x".into())
    );
    assert!(matches!(
        refusal(seed().bucket(MinioBucket::new("its-x").read(["nobody"]))),
        StorageError::UnknownMinioUser { user, .. } if user == "nobody"
    ));
    assert!(matches!(
        refusal(seed().pools([])),
        StorageError::MinioPool { .. }
    ));
    assert!(matches!(
        refusal(seed().pools([MinioPool::new("pool-0", 4, 1, 0, "gp3")])),
        StorageError::MinioPool { .. }
    ));
}

#[test]
fn k8scheck_accepts_the_tenant() {
    let k8scheck =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/k8scheck/k8scheck");
    if !k8scheck.exists() {
        eprintln!("skipped: ../shared/tools/k8scheck is not beside this clone");
        return;
    }
    let (assembly, _, _) = synth(seed());
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-storage-minio");
    let _ = std::fs::remove_dir_all(&out);
    assembly.write(&out).unwrap();
    let output = std::process::Command::new(k8scheck)
        .arg("--strict-refs")
        .arg(out.join("kubernetes"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "k8scheck:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains(" 0 problems, 0 warnings"), "{report}");
}
