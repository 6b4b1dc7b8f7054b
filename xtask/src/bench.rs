//! Synth benchmarks that time whole processes, as users run girder.
//!
//! `cargo xtask bench` builds xtask in release mode, then runs
//! `xtask bench-workload <kind> <size> <out>` as a child process several times per size and
//! reports the median and minimum wall time and the peak resident memory, read from the
//! operating system's accounting (`/usr/bin/time`), for each workload at each size:
//!
//! - `terraform`: N typed Terraform resources through girder-aws, a quarter each of S3
//!   buckets, bucket versioning (reading its bucket), IAM roles, and SSM parameters
//!   holding the role's ARN;
//! - `kubernetes`: N/2 Deployment + Service pairs through girder-k8s (N objects);
//! - `stacks`: every registered stack (`cargo xtask synth`).
//!
//! By default each run synthesizes and writes into an output directory that already holds
//! the previous run's output, as in day-to-day use (an unchanged output is then compared,
//! not rewritten); `--fresh` removes the output before each run (outside the timing), so
//! every file is created.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use girder_aws::aws;
use girder_core::prelude::*;
use girder_core::terraform::IntoResourceSpec;
use girder_k8s::prelude::*;

/// The workloads `bench-workload` knows.
pub const WORKLOADS: [&str; 3] = ["terraform", "kubernetes", "stacks"];

/// Build the app of workload `kind` with `size` resources or objects.
pub fn workload(kind: &str, size: usize) -> girder_core::Result<App> {
    let mut app = App::new();
    match kind {
        "terraform" => app.add_stack(terraform_stack(size)?)?,
        "kubernetes" => app.add_stack(kubernetes_stack(size)?)?,
        "stacks" => {
            return crate::stacks::registry()
                .build(&[], &[])
                .map_err(|e| girder_core::Error::invalid("bench", e.to_string()));
        }
        other => {
            return Err(girder_core::Error::invalid(
                "bench",
                format!(
                    "unknown workload {other:?}; known: {}",
                    WORKLOADS.join(", ")
                ),
            ));
        }
    }
    Ok(app)
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn terraform_stack(size: usize) -> girder_core::Result<Stack> {
    let mut stack = Stack::new("bench", "dev", Backend::local())?;
    stack.require_provider(aws::requirement())?;
    stack.add_provider(aws::Provider::new().region("us-east-1").into())?;
    for i in 0..size.div_ceil(4) {
        let mut scope = stack.scope(&format!("unit-{i}"))?;
        let bucket = scope.add(
            "bucket",
            aws::S3Bucket::new()
                .bucket(format!("girder-bench-{i}"))
                .tags([("Unit", i.to_string())]),
        )?;
        scope.add(
            "versioning",
            aws::S3BucketVersioning::new(
                bucket.id(),
                aws::s3_bucket_versioning::VersioningConfiguration::new("Enabled"),
            ),
        )?;
        let role = scope.add(
            "role",
            aws::IamRole::new(TRUST).name(format!("girder-bench-{i}")),
        )?;
        scope.add(
            "role-arn",
            aws::SsmParameter::new(format!("/bench/{i}/role-arn"), "String")
                .value(role.arn())
                .into_spec(),
        )?;
    }
    Ok(stack)
}

fn kubernetes_stack(size: usize) -> girder_core::Result<Stack> {
    let mut stack = Stack::new("bench", "dev", Backend::local())?;
    let mut k8s = stack.scope("k8s")?.with_kube_app("bench")?;
    let ns = Namespace::new("bench").add(&mut k8s, "bench")?;
    for i in 0..size.div_ceil(2) {
        let name = format!("api-{i}");
        Deployment::new(&ns, &name)
            .part_of("bench")
            .container(
                Container::new(
                    "api",
                    "ghcr.io/acme/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                ).run_as_user(10001)
                .port(Port::http(8080))
                .resources(Resources::new().cpu("100m", "500m").memory("128Mi", "256Mi"))
                .readiness(Probe::http_get("/healthz", "http")),
            )
            .expose(Service::cluster_ip().port(80, "http"))
            .add(&mut k8s, &name)?;
    }
    Ok(stack)
}

/// One measured run.
struct Run {
    wall_ms: f64,
    max_rss_kib: u64,
}

/// Time `xtask bench-workload` at each size and print a table.
pub fn run(sizes: &[usize], runs: usize, workloads: &[String], fresh: bool) -> Result<(), String> {
    let root = crate::workspace_root();
    let status = Command::new(env_or("CARGO", "cargo"))
        .args(["build", "--release", "--quiet", "-p", "xtask"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build --release: {e}"))?;
    if !status.success() {
        return Err("cargo build --release -p xtask failed".into());
    }
    let binary = root.join("target/release/xtask");
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    println!(
        "{} output; {runs} runs after a warm-up",
        if fresh { "fresh" } else { "existing" }
    );
    println!(
        "{:<11} {:>7} {:>11} {:>11} {:>13}",
        "workload", "size", "median ms", "min ms", "peak RSS MiB"
    );
    for kind in workloads {
        let sizes: Vec<usize> = if kind == "stacks" {
            vec![0]
        } else {
            sizes.to_vec()
        };
        for &size in &sizes {
            let out = scratch.path().join(format!("{kind}-{size}"));
            let mut measured = Vec::new();
            // One warm-up run leaves the output the measured runs replace.
            for attempt in 0..=runs {
                if fresh && out.exists() {
                    std::fs::remove_dir_all(&out).map_err(|e| e.to_string())?;
                }
                let run = time_once(&binary, kind, size, &out)?;
                if attempt > 0 {
                    measured.push(run);
                }
            }
            measured.sort_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
            let median = &measured[measured.len() / 2];
            let peak = measured.iter().map(|r| r.max_rss_kib).max().unwrap_or(0);
            println!(
                "{:<11} {:>7} {:>11.1} {:>11.1} {:>13.1}",
                kind,
                if kind == "stacks" {
                    "all".to_owned()
                } else {
                    size.to_string()
                },
                median.wall_ms,
                measured[0].wall_ms,
                peak as f64 / 1024.0
            );
        }
    }
    Ok(())
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn time_once(binary: &Path, kind: &str, size: usize, out: &Path) -> Result<Run, String> {
    let report = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(binary)
        .arg("bench-workload")
        .arg(kind)
        .arg(size.to_string())
        .arg(out)
        .output()
        .map_err(|e| format!("running /usr/bin/time (install GNU time): {e}"))?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    if !output.status.success() {
        return Err(format!(
            "bench-workload {kind} {size} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = std::fs::read_to_string(report.path()).map_err(|e| e.to_string())?;
    let max_rss_kib = text
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .ok_or_else(|| format!("no peak RSS in /usr/bin/time's report: {text:?}"))?;
    Ok(Run {
        wall_ms,
        max_rss_kib,
    })
}
