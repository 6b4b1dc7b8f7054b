//! checkov findings PixTools accepts, each with the seed's reason (seed 002: "Locked
//! Decisions" and "Architecture Freeze"). `Stack::acknowledge_check` writes every reason
//! next to the block or object it covers; CI fails on any finding not listed here.

use girder_core::{Result, Stack};

use crate::config::Environment;

/// S3: the seed asks for SSE-S3 or KMS, one region, and objects that expire in a day.
const BUCKET_FINDINGS: [(&str, &str); 3] = [
    (
        "CKV_AWS_145",
        "SSE-S3 (seed: SSE-S3 or KMS); SSE-KMS adds a key and per-request charges outside the $20 budget",
    ),
    (
        "CKV_AWS_18",
        "no S3 server access logs: a log bucket per bucket is outside the $20 budget; the bucket is private, TLS-only and reached by the node and deploy roles only",
    ),
    (
        "CKV2_AWS_62",
        "nothing consumes bucket events in v1 (the API enqueues work through RabbitMQ)",
    ),
];

/// CloudWatch Logs: the seed keeps logs 14 days, encrypted with the service key.
const LOG_GROUP_FINDINGS: [(&str, &str); 2] = [
    (
        "CKV_AWS_338",
        "logs are kept 14 days (seed: Log retention 14 days in CloudWatch)",
    ),
    (
        "CKV_AWS_158",
        "encrypted with the CloudWatch Logs service key; a KMS key per group is outside the $20 budget",
    ),
];

/// `pixtools-state-<env>`.
pub(crate) fn state(stack: &mut Stack) -> Result<()> {
    for (check, reason) in BUCKET_FINDINGS {
        stack.acknowledge_check("state/bucket", check, reason)?;
    }
    stack.acknowledge_check(
        "state/bucket",
        "CKV_AWS_144",
        "one region (seed: us-east-1); the state is versioned and Terraform cannot delete the bucket",
    )?;
    stack.acknowledge_check(
        "state/locks",
        "CKV_AWS_119",
        "the lock table holds Terraform lock ids and digests only; encrypted with the DynamoDB service key",
    )
}

/// `pixtools-<env>`: the AWS half.
pub(crate) fn main(stack: &mut Stack, env: &Environment) -> Result<()> {
    for (bucket, replication) in [
        (
            "storage/images",
            "one region (seed: us-east-1); raw/, processed/ and archives/ expire after a day",
        ),
        (
            "storage/manifests",
            "one region (seed: us-east-1); the manifests are synthesized from code and published again on every deploy",
        ),
        (
            "edge/logs",
            "one region (seed: us-east-1); access logs expire after 14 days like the other logs",
        ),
    ] {
        for (check, reason) in BUCKET_FINDINGS {
            stack.acknowledge_check(bucket, check, reason)?;
        }
        stack.acknowledge_check(bucket, "CKV_AWS_144", replication)?;
    }
    // The K3s service-account issuer: STS and anyone else read its two documents
    // without credentials, as every OIDC issuer's; the bucket holds nothing else.
    let issuer = "compute/k3s/issuer";
    for (check, reason) in [
        (
            "CKV_AWS_145",
            "SSE-S3: the two documents are public by design, and an anonymous reader (STS) cannot decrypt SSE-KMS objects",
        ),
        (
            "CKV_AWS_18",
            "no S3 server access logs: a log bucket is outside the $20 budget; the bucket holds only the two public issuer documents, written by the node role alone",
        ),
        (
            "CKV2_AWS_62",
            "nothing consumes bucket events: the node rewrites the issuer documents at boot",
        ),
        (
            "CKV_AWS_144",
            "one region (seed: us-east-1); the node publishes the two documents again at every boot",
        ),
        (
            "CKV_AWS_54",
            "the bucket policy makes exactly the issuer's two documents (OIDC discovery and JWKS) public: STS fetches them without credentials to check the pods' tokens; ACLs stay blocked",
        ),
        (
            "CKV_AWS_56",
            "the bucket policy makes exactly the issuer's two documents public (STS reads them anonymously); nothing else in the bucket, which holds only those two",
        ),
        (
            "CKV2_AWS_6",
            "the public access block lets through only the policy that makes the issuer's two public documents readable; public ACLs stay blocked and ignored",
        ),
    ] {
        stack.acknowledge_check(issuer, check, reason)?;
    }
    for group in [
        "network/flow-logs",
        "compute/k3s/logs",
        "ops/app-logs",
        "data/database/postgresql-logs",
        "data/database/upgrade-logs",
    ] {
        for (check, reason) in LOG_GROUP_FINDINGS {
            stack.acknowledge_check(group, check, reason)?;
        }
    }
    stack.acknowledge_check(
        "network/zones",
        "CKV_AWS_394",
        "the VPC takes the first two zones of the region's sorted list; a zone AWS adds later sorts after them and moves no subnet",
    )?;
    stack.acknowledge_check(
        "registry",
        "CKV_AWS_136",
        "images are encrypted with the ECR service key (AES-256); a KMS key is outside the $20 budget",
    )?;

    // The edge: HTTP on the ALB's own DNS name, allowlisted (seed: Ingress path HTTP for
    // v1 demo, no ACM cert without owned domain; ALB security group allowlist).
    for (check, reason) in [
        (
            "CKV_AWS_2",
            "HTTP listener: no custom domain, so no ACM certificate (seed: Ingress path HTTP for v1 demo)",
        ),
        (
            "CKV_AWS_103",
            "no TLS listener: no custom domain, so no ACM certificate (seed: Ingress path HTTP for v1 demo)",
        ),
        (
            "CKV2_AWS_20",
            "nothing to redirect to: no HTTPS listener without a custom domain (seed: Ingress path HTTP for v1 demo)",
        ),
        (
            "CKV_AWS_378",
            "the target is the K3s node's NodePort inside the VPC, behind an HTTP-only ALB (seed: Ingress path HTTP for v1 demo)",
        ),
        (
            "CKV2_AWS_28",
            "no WAF: the ALB admits only the allowlisted CIDR (seed: ALB security group allowlist as the primary edge guard); WAF is outside the $20 budget",
        ),
    ] {
        stack.acknowledge_check("edge/alb", check, reason)?;
    }
    if !env.alb_deletion_protection {
        stack.acknowledge_check(
            "edge/alb",
            "CKV_AWS_150",
            "deletion protection is switched off in this environment's config to tear it down",
        )?;
    }
    if !env.production {
        stack.acknowledge_check(
            "data/database",
            "CKV_AWS_293",
            "dev is torn down and rebuilt from code; prod has deletion protection",
        )?;
    }

    // PostgreSQL: single-AZ on db.t4g.micro (seed: RDS availability single-AZ).
    for (check, reason) in [
        (
            "CKV_AWS_157",
            "single-AZ (seed: RDS availability single-AZ; multi-AZ is a post-v1 decision)",
        ),
        (
            "CKV_AWS_118",
            "no enhanced monitoring: Performance Insights and the RDS CPU alarm cover v1; its CloudWatch Logs charges are outside the $20 budget",
        ),
        (
            "CKV_AWS_161",
            "K3s and the app authenticate as their own users with passwords Terraform generates into Secrets Manager (IAM tokens last 15 minutes; K3s's datastore endpoint cannot refresh one)",
        ),
        (
            "CKV_AWS_354",
            "Performance Insights data is encrypted with the RDS service key; a KMS key is outside the $20 budget",
        ),
    ] {
        stack.acknowledge_check("data/database", check, reason)?;
    }

    // The database users' secrets: Terraform's password, the account's Secrets Manager key.
    for user in ["data/k3s-user", "data/app-user"] {
        stack.acknowledge_check(
            user,
            "CKV_AWS_149",
            "encrypted with the AWS-managed aws/secretsmanager key; a KMS key is outside the $20 budget",
        )?;
        stack.acknowledge_check(
            user,
            "CKV2_AWS_57",
            "Terraform generates the password (replace its random_password to change it; the node applies it within 5 minutes, Reloader rolls the app); a rotation Lambda changing the role in PostgreSQL is outside v1",
        )?;
    }

    // SSM: SecureStrings under the AWS-managed key; the database settings are not secret.
    let ssm_key = "SecureString with the AWS-managed aws/ssm key (seed: Runtime secrets source SSM Parameter Store SecureString); a KMS key is outside the $20 budget";
    for path in ["data/settings", "config", "compute/k3s-token-parameter"] {
        stack.acknowledge_check(path, "CKV_AWS_337", ssm_key)?;
    }
    stack.acknowledge_check(
        "data/settings",
        "CKV2_AWS_34",
        "host, port, database name, user name and the secret's ARN are not secrets; External Secrets reads them as plain strings",
    )?;

    stack.acknowledge_check(
        "ops/alerts",
        "CKV_AWS_26",
        "CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key and a KMS key is outside the $20 budget; the topic carries alert text only",
    )?;
    cluster(stack, crate::cluster::NAMESPACE)
}

/// `pixtools-<env>`: the cluster half. The API and the workers are the seed's images
/// (pinned by digest); RabbitMQ and Redis are upstream images pinned by version tag.
fn cluster(stack: &mut Stack, namespace: &str) -> Result<()> {
    for (kind, name, runs_as) in [
        (
            "StatefulSet",
            "rabbitmq",
            "runs as uid 100 and gid 101, the user and group the upstream alpine image owns its files with (its volume gets gid 101 through fsGroup); runAsNonRoot is enforced",
        ),
        (
            "Deployment",
            "redis",
            "runs as uid 999, the user the upstream image owns its data directory with; runAsNonRoot is enforced",
        ),
    ] {
        for (check, reason) in [
            (
                "CKV_K8S_43",
                "upstream image pinned by version tag: its digest is not known offline (nothing in the repository records it, and synth reads no registry); the images the seed builds (pixtools-api, pixtools-worker) are pinned by digest",
            ),
            (
                "CKV_K8S_15",
                "pinned by version tag; IfNotPresent keeps pod restarts on the node independent of Docker Hub and its pull limits",
            ),
            ("CKV_K8S_40", runs_as),
        ] {
            stack.acknowledge_kube_check(kind, Some(namespace), name, check, reason)?;
        }
    }
    // The drain handler: upstream, on the node's network by design.
    for (check, reason) in [
        (
            "CKV_K8S_43",
            "upstream image pinned by version tag: its digest is not known offline (nothing in the repository records it, and synth reads no registry)",
        ),
        (
            "CKV_K8S_15",
            "pinned by version tag; IfNotPresent keeps a restart during a drain independent of the registry",
        ),
        (
            "CKV_K8S_19",
            "polls the instance metadata service for the spot interruption notice; IMDSv2's hop limit 1 admits only the node's network",
        ),
        (
            "CKV_K8S_38",
            "cordons the node and evicts its pods through the Kubernetes API with its ServiceAccount (get/list/patch/update nodes, get/list pods, create evictions, get daemonsets)",
        ),
        (
            "CKV_K8S_40",
            "runs as uid 1000, the user the upstream image and chart use; runAsNonRoot is enforced",
        ),
    ] {
        stack.acknowledge_kube_check(
            "DaemonSet",
            Some("kube-system"),
            crate::cluster::DRAIN_HANDLER,
            check,
            reason,
        )?;
    }
    // The cleanup runs as uid 10001 (the app contract's; the pixtools-worker image has no
    // USER), a high uid: CKV_K8S_40 passes.
    stack.acknowledge_kube_check(
        "CronJob",
        Some("kube-system"),
        "stale-nodes",
        "CKV_K8S_38",
        "lists and deletes stale Nodes and their pods through the Kubernetes API with its ServiceAccount (nodes and pods: list, delete)",
    )?;
    stack.acknowledge_kube_check(
        "Deployment",
        Some(namespace),
        "redis",
        "CKV_K8S_35",
        "the redis exporter sidecar takes Redis's password as REDIS_PASSWORD (its password file is a JSON map of instances, not this Secret); Redis itself reads it from the mounted redis.conf",
    )?;
    // The app's pods run as uid 10001 (the app contract's: the pixtools images have no
    // USER, so they would run as root), a high uid: CKV_K8S_40 passes.
    for name in ["api", "worker-standard", "worker-ml", "beat"] {
        stack.acknowledge_kube_check(
            "Deployment",
            Some(namespace),
            name,
            "CKV_K8S_35",
            "the app reads its settings as environment variables (seed: env contract per environment), from the Secret External Secrets writes",
        )?;
    }
    // Beat serves no port and has no ping (`celery inspect ping` asks workers only): a
    // beat that fails exits, and the kubelet restarts it.
    for check in ["CKV_K8S_8", "CKV_K8S_9"] {
        stack.acknowledge_kube_check(
            "Deployment",
            Some(namespace),
            "beat",
            check,
            "celery beat serves no port and answers no ping (celery inspect reaches workers only); a beat that fails exits and the kubelet restarts it",
        )?;
    }
    Ok(())
}
