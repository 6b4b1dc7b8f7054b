#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Per-workload AWS identity on K3s, modelled: pods on the pod network cannot reach IMDS
//! (hop limit 1), so they assume roles of their own with projected service-account
//! tokens, which STS checks against the issuer documents the node publishes at boot.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use girder_core::assertions::Template;
use girder_core::prelude::*;
use girder_core::vocabulary::SsmPath;
use girder_iam::{Access, Statement};
use girder_k3s::{
    CloudInit, ISSUER_DOCUMENTS, K3sError, K3sNode, K3sNodeHandle, PodIdentityBoot,
    WORKLOAD_AUDIENCE, render_cloud_init,
};
use girder_network::Vpc;
use girder_storage::BucketName;
use serde_json::{Value as Json, json};

const BUCKET: &str = "pixtools-oidc-111111111111-us-east-1";
const ISSUER: &str = "https://pixtools-oidc-111111111111-us-east-1.s3.us-east-1.amazonaws.com";
const HOST: &str = "pixtools-oidc-111111111111-us-east-1.s3.us-east-1.amazonaws.com";

fn ssm(path: &str) -> SsmPath {
    SsmPath::new(path).unwrap()
}

fn node(stack: &mut Stack, pod_identity: bool) -> K3sNodeHandle {
    stack
        .require_provider(girder_aws::aws::requirement())
        .unwrap();
    let mut scope = stack.root();
    let vpc = Vpc::new("v", "10.0.0.0/16".parse().unwrap())
        .add(&mut scope, "network")
        .unwrap();
    let params = girder_rds::PostgresParameters::under(&ssm("/v/db")).unwrap();
    let mut node = K3sNode::new(
        &vpc,
        &params,
        "n",
        ["m7i.large"],
        &ssm("/v"),
        "v1.36.4+k3s1",
    );
    if pod_identity {
        node = node.pod_identity(BucketName::literal(BUCKET), "us-east-1");
    }
    node.add(&mut scope, "k3s").unwrap()
}

fn cloud_init() -> CloudInit {
    CloudInit {
        name: "pixtools-dev".into(),
        token_parameter: "/pixtools/dev/k3s/token".into(),
        db_host_parameter: "/pixtools/dev/db/host".into(),
        db_port_parameter: "/pixtools/dev/db/port".into(),
        db_username_parameter: "/pixtools/dev/db/username".into(),
        db_secret_parameter: "/pixtools/dev/db/master-secret-arn".into(),
        datastore_database: "k3s_state".into(),
        k3s_version: "v1.36.4+k3s1".into(),
        manifests_bucket: None,
        manifests_prefix: "manifests/".into(),
        log_group: "/pixtools-dev/k3s".into(),
        bundled_traefik: true,
        ecr_credential_provider: None,
        boot_attempts: 4,
        boot_retry_seconds: 15,
        start_timeout_seconds: 600,
        database_users: Vec::new(),
        datastore_user: None,
        namespace_logs: Vec::new(),
        pod_identity: Some(PodIdentityBoot {
            issuer: ISSUER.into(),
            bucket: BUCKET.into(),
        }),
    }
}

fn write_file(text: &str, path: &str) -> String {
    let document: Json = serde_norway::from_str(text).unwrap();
    document["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("no {path}"))["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::create_dir_all(dir.join("uploaded")).unwrap();
    dir
}

fn stub(dir: &Path, name: &str, body: &str) {
    let path = dir.join("bin").join(name);
    std::fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Run the issuer's publish script with K3s's keys in directory `tls` (the script's
/// K3s path replaced), IMDS and the AWS CLI stubbed: `aws s3 cp SRC s3://BUCKET/KEY`
/// copies SRC to `uploaded/<KEY with / as _>` and logs the call.
fn publish(dir: &Path, tls: &Path) -> (bool, String) {
    let text = render_cloud_init(&cloud_init()).unwrap();
    let script = write_file(&text, "/usr/local/sbin/girder-k3s-publish-issuer");
    assert!(script.contains("TLS=/var/lib/rancher/k3s/server/tls\n"));
    let script = script.replace(
        "/var/lib/rancher/k3s/server/tls",
        &tls.display().to_string(),
    );
    stub(dir, "curl", r#"echo "curl $*" >> "$STUB_LOG"; echo value"#);
    stub(dir, "sleep", r#"echo "sleep $*" >> "$STUB_LOG""#);
    stub(
        dir,
        "aws",
        r#"echo "aws $*" >> "$STUB_LOG"
args=("$@"); n=${#args[@]}
src=${args[$((n - 2))]}; dst=${args[$((n - 1))]}
key=${dst#s3://*/}
cp "$src" "$STUB_UPLOADED/${key//\//_}""#,
    );
    let path = dir.join("script");
    std::fs::write(&path, script).unwrap();
    let status = Command::new("bash")
        .arg(&path)
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", dir.join("bin").display()),
        )
        .env("STUB_LOG", dir.join("log"))
        .env("STUB_UPLOADED", dir.join("uploaded"))
        .status()
        .unwrap();
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    (status.success(), log)
}

fn openssl(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?}");
    out.stdout
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 4648 base64url without padding, as JWK wants.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn the_boot_publishes_a_jwks_built_from_the_service_keys_and_nothing_else() {
    let dir = scratch("publish-issuer");
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    // K3s signs with service.current.key; service.key holds every key it accepts (here
    // an older one and the current one, as after a rotation).
    let genrsa = |path: &Path| {
        let status = Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(path)
            .arg("2048")
            .status()
            .unwrap();
        assert!(status.success());
    };
    let old = dir.join("old.key");
    let current = tls.join("service.current.key");
    genrsa(&old);
    genrsa(&current);
    let bundle = format!(
        "{}{}",
        std::fs::read_to_string(&old).unwrap(),
        std::fs::read_to_string(&current).unwrap()
    );
    std::fs::write(tls.join("service.key"), bundle).unwrap();
    let (ok, log) = publish(&dir, &tls);
    assert!(ok, "{log}");
    // Exactly the two documents, to the issuer's bucket, nothing else.
    let uploads: Vec<&str> = log.lines().filter(|l| l.starts_with("aws ")).collect();
    assert_eq!(uploads.len(), 2, "{log}");
    assert!(uploads[0].ends_with(&format!(" s3://{BUCKET}/.well-known/openid-configuration")));
    assert!(uploads[1].ends_with(&format!(" s3://{BUCKET}/keys.json")));
    assert!(uploads.iter().all(|l| l.contains("s3 cp")));
    let mut uploaded: Vec<String> = std::fs::read_dir(dir.join("uploaded"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    uploaded.sort();
    assert_eq!(uploaded, [".well-known_openid-configuration", "keys.json"]);

    let read = |name: &str| -> Json {
        serde_json::from_str(&std::fs::read_to_string(dir.join("uploaded").join(name)).unwrap())
            .unwrap()
    };
    let discovery = read(".well-known_openid-configuration");
    assert_eq!(discovery["issuer"], ISSUER);
    assert_eq!(discovery["jwks_uri"], format!("{ISSUER}/keys.json"));
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );

    // Each JWK is a key's public half, computed here independently; both keys, once.
    let jwk = |key: &Path| -> Json {
        let key_path = key.display().to_string();
        let modulus = String::from_utf8(openssl(
            &["rsa", "-in", &key_path, "-noout", "-modulus"],
            None,
        ))
        .unwrap();
        let modulus = modulus.trim().strip_prefix("Modulus=").unwrap().to_owned();
        let der = openssl(
            &["rsa", "-in", &key_path, "-pubout", "-outform", "DER"],
            None,
        );
        let digest = openssl(&["dgst", "-sha256", "-binary"], Some(&der));
        // kube-apiserver's key id: SHA-256 of the DER public key, base64url.
        json!({
            "use": "sig",
            "kty": "RSA",
            "kid": b64url(&digest),
            "alg": "RS256",
            "n": b64url(&unhex(&modulus)),
            "e": "AQAB",
        })
    };
    let mut expected = vec![jwk(&old), jwk(&current)];
    expected.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
    assert_eq!(read("keys.json"), json!({"keys": expected}));
}

#[test]
fn the_publish_step_waits_a_bounded_time_for_the_service_key() {
    let dir = scratch("publish-no-key");
    let (ok, log) = publish(&dir, &dir.join("tls"));
    assert!(!ok, "{log}");
    assert_eq!(log.lines().filter(|l| *l == "sleep 15").count(), 3, "{log}");
    assert!(!log.contains("aws "), "{log}");
}

#[test]
fn k3s_signs_tokens_as_the_published_issuer_and_publishes_after_it_starts() {
    let text = render_cloud_init(&cloud_init()).unwrap();
    let bootstrap = write_file(&text, "/usr/local/sbin/girder-k3s-bootstrap");
    let install = &bootstrap[bootstrap.find("k3s-install.sh server").unwrap()..];
    // The published issuer first (it signs), the in-cluster one still accepted.
    let first = install
        .find(&format!(
            "--kube-apiserver-arg=service-account-issuer={ISSUER} "
        ))
        .unwrap();
    let second = install
        .find("--kube-apiserver-arg=service-account-issuer=https://kubernetes.default.svc.cluster.local")
        .unwrap();
    assert!(first < second);
    assert!(install.contains(&format!(
        "--kube-apiserver-arg=service-account-jwks-uri={ISSUER}/keys.json"
    )));
    let start = bootstrap.find("systemctl start k3s").unwrap();
    let publish = bootstrap
        .find("/usr/local/sbin/girder-k3s-publish-issuer")
        .unwrap();
    assert!(start < publish);
    // Without pod identity: no issuer flag, no publish step.
    let plain = render_cloud_init(&CloudInit {
        pod_identity: None,
        ..cloud_init()
    })
    .unwrap();
    assert!(!plain.contains("service-account-issuer"));
    assert!(!plain.contains("girder-k3s-publish-issuer"));
}

#[test]
fn the_issuer_bucket_is_public_for_exactly_the_two_documents() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let node = node(&mut stack, true);
    assert_eq!(node.issuer().as_deref(), Some(ISSUER));
    // The node may write the two documents and nothing else there.
    let object = |key: &str| Value::Literal(format!("arn:aws:s3:::{BUCKET}/{key}"));
    let t = Template::from_stack(stack).unwrap();
    let policy = node.policy();
    let put: Vec<&Statement> = policy
        .statements()
        .iter()
        .filter(|s| s.actions().iter().any(|a| a == "s3:PutObject"))
        .collect();
    assert_eq!(put.len(), 1);
    assert_eq!(put[0].actions(), ["s3:PutObject"]);
    // One resource per document (the bucket's ARN joined with each key).
    assert_eq!(put[0].resources().len(), ISSUER_DOCUMENTS.len());
    assert!(
        put[0]
            .resources()
            .iter()
            .all(|r| matches!(r, Value::Expr(_)))
    );
    assert_eq!(
        policy.access("s3:PutObject", &object("other.json")),
        Access::Denied
    );
    let role_policies = t.resources("aws_iam_role_policy");
    let node_policy = role_policies
        .iter()
        .find(|(_, r)| r["name"] == "node")
        .unwrap()
        .1["policy"]
        .as_str()
        .unwrap();
    assert!(
        node_policy.contains(r#"{"Sid" = "PublishIssuer", "Effect" = "Allow", "Action" = "s3:PutObject", "Resource" = [format("%s/.well-known/openid-configuration", aws_s3_bucket.k3s_issuer.arn), format("%s/keys.json", aws_s3_bucket.k3s_issuer.arn)]}"#),
        "{node_policy}"
    );
    // The provider: the issuer's URL, client id sts.amazonaws.com.
    t.resource_count_is("aws_iam_openid_connect_provider", 1);
    t.has_resource_properties(
        "aws_iam_openid_connect_provider",
        &json!({"url": ISSUER, "client_id_list": [WORKLOAD_AUDIENCE]}),
    );
    // The public access block lets the bucket policy through; ACLs stay blocked.
    let block = t.resource(
        "aws_s3_bucket_public_access_block",
        "k3s_issuer_public_access_block",
    );
    assert_eq!(block["block_public_policy"], false);
    assert_eq!(block["restrict_public_buckets"], false);
    assert_eq!(block["block_public_acls"], true);
    assert_eq!(block["ignore_public_acls"], true);
    let bucket_policy = t.resource("aws_s3_bucket_policy", "k3s_issuer_tls_only")["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    for key in ISSUER_DOCUMENTS {
        assert!(
            bucket_policy.contains(&format!("/{key}")),
            "{bucket_policy}"
        );
    }
    // Anyone may get exactly the two documents (and the TLS-only deny stays).
    assert!(
        bucket_policy.contains(r#""Principal" = {"AWS" = "*"}, "Action" = "s3:GetObject", "Resource" = [format("%s/.well-known/openid-configuration", aws_s3_bucket.k3s_issuer.arn), format("%s/keys.json", aws_s3_bucket.k3s_issuer.arn)]}]"#),
        "{bucket_policy}"
    );
    // The group waits for the bucket its boot writes to.
    let group = t.resource("aws_autoscaling_group", "k3s_group");
    assert!(
        group["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "aws_s3_bucket_policy.k3s_issuer_tls_only"),
        "{group}"
    );
}

#[test]
fn a_workload_role_trusts_exactly_its_service_accounts_and_the_sts_audience() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let node = node(&mut stack, true);
    let trust = node
        .workload_trust("app", "pixtools", ["api", "worker", "api"])
        .unwrap();
    let statements = trust.document().statements();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0].actions(), ["sts:AssumeRoleWithWebIdentity"]);
    let principals = statements[0].principals();
    assert_eq!(principals.len(), 1);
    assert_eq!(principals[0].0, "Federated");
    assert_eq!(
        principals[0].1,
        [Value::Expr(node.issuer_provider_arn().unwrap())]
    );
    let conditions: Vec<(&str, &str, Vec<&Value<String>>)> = statements[0]
        .conditions()
        .iter()
        .map(|c| (c.operator(), c.key(), c.values().iter().collect()))
        .collect();
    let aud = Value::Literal(WORKLOAD_AUDIENCE.to_owned());
    let api = Value::Literal("system:serviceaccount:pixtools:api".to_owned());
    let worker = Value::Literal("system:serviceaccount:pixtools:worker".to_owned());
    assert_eq!(
        conditions,
        [
            ("StringEquals", format!("{HOST}:aud").as_str(), vec![&aud]),
            (
                "StringEquals",
                format!("{HOST}:sub").as_str(),
                vec![&api, &worker]
            ),
        ]
    );
    // The role itself, with its statements.
    let mut scope = stack.root();
    let role = node
        .workload_role(
            &mut scope,
            "app-role",
            "app",
            "pixtools",
            ["api"],
            [Statement::allow(["s3:GetObject"]).on(["arn:aws:s3:::b/*"])],
        )
        .unwrap();
    assert!(role.instance_profile_name().is_none());
}

#[test]
fn workload_roles_need_a_published_issuer_and_service_accounts() {
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let plain = node(&mut stack, false);
    assert!(plain.issuer().is_none());
    let none: [&str; 0] = [];
    assert_eq!(
        plain
            .workload_trust("app", "pixtools", ["api"])
            .unwrap_err(),
        K3sError::NoPodIdentity("app".into())
    );
    let mut scope = stack.root();
    let err = plain
        .workload_role(&mut scope, "r", "app", "pixtools", ["api"], [])
        .unwrap_err();
    assert_eq!(
        err.construct_error::<K3sError>(),
        Some(&K3sError::NoPodIdentity("app".into()))
    );
    let mut stack = Stack::new("c", "dev", Backend::local()).unwrap();
    let node = node(&mut stack, true);
    assert_eq!(
        node.workload_trust("app", "pixtools", none).unwrap_err(),
        K3sError::NoServiceAccounts("app".into())
    );
    assert_eq!(
        node.workload_trust("app", "Pix_Tools", ["api"])
            .unwrap_err(),
        K3sError::ServiceAccountName("Pix_Tools/api".into())
    );
}
