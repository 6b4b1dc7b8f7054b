//! Whole-process benchmark of synth and write for a Kubernetes-heavy stack: N objects
//! (Deployment + Service pairs, raw JSON; with `--configmaps`, ConfigMaps of about the same
//! size, whose synth has no cross-object checks, to time writing) in apps of 100 objects,
//! synthesized and written to the directory given on the command line.
//!
//! ```text
//! cargo build --release -p girder-core --example write_bench
//! /usr/bin/time -v target/release/examples/write_bench 10000 /tmp/bench-out
//! ```
//!
//! Run it twice on the same directory to time a re-run over an existing output (the usual
//! case in CI and on a developer's machine). `--phases` prints the time of each phase to
//! stderr. The kill test of `tests/write.rs` also uses it as the writer it kills.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use girder_core::prelude::*;
use serde_json::json;

/// Objects per app (one directory with its kustomization.yaml).
const APP_SIZE: usize = 100;

fn build(objects: usize, variant: &str, configmaps: bool) -> girder_core::Result<App> {
    let mut stack = Stack::new("bench", "dev", Backend::local())?;
    let mut scope = stack.scope("k8s")?;
    scope.add_kube_object(
        "namespace",
        &json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": "bench" },
        }),
    )?;
    if configmaps {
        for i in 0..objects {
            scope.add_kube_object(
                &format!("app-{}", i / APP_SIZE),
                &json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": format!("settings-{i}"),
                        "namespace": "bench",
                        "labels": { "app.kubernetes.io/name": format!("web-{}", i / 2) },
                    },
                    "data": {
                        "image": format!("registry.example.com/web:{variant}"),
                        "replicas": "2",
                        "port": "8080",
                        "cpu": "100m",
                        "memory": "128Mi",
                        "settings.yaml": "log_level: info\nfeatures:\n  - a\n  - b\n",
                    },
                }),
            )?;
        }
    }
    for pair in 0..if configmaps { 0 } else { objects.div_ceil(2) } {
        let app = format!("app-{}", pair * 2 / APP_SIZE);
        let name = format!("web-{pair}");
        let labels = json!({ "app.kubernetes.io/name": name });
        scope.add_kube_object(
            &app,
            &json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": { "name": name, "namespace": "bench", "labels": labels },
                "spec": {
                    "replicas": 2,
                    "selector": { "matchLabels": labels },
                    "template": {
                        "metadata": { "labels": labels },
                        "spec": {
                            "containers": [{
                                "name": "web",
                                "image": format!("registry.example.com/web:{variant}"),
                                "ports": [{ "name": "http", "containerPort": 8080 }],
                                "resources": {
                                    "requests": { "cpu": "100m", "memory": "128Mi" },
                                    "limits": { "memory": "256Mi" },
                                },
                            }],
                        },
                    },
                },
            }),
        )?;
        if pair * 2 + 1 < objects {
            scope.add_kube_object(
                &app,
                &json!({
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": { "name": name, "namespace": "bench", "labels": labels },
                    "spec": {
                        "selector": labels,
                        "ports": [{ "name": "http", "port": 80, "targetPort": "http" }],
                    },
                }),
            )?;
        }
    }
    let mut app = App::new();
    app.add_stack(stack)?;
    Ok(app)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let phases = take_flag(&mut args, "--phases");
    let configmaps = take_flag(&mut args, "--configmaps");
    // `--variant X` changes every Deployment's image tag: a re-run where every file changes.
    let variant = match args.iter().position(|a| a == "--variant") {
        Some(i) if i + 1 < args.len() => {
            let v = args.remove(i + 1);
            args.remove(i);
            v
        }
        _ => "1.0".to_owned(),
    };
    let (Some(count), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: write_bench [--phases] [--configmaps] [--variant TAG] OBJECTS OUT_DIR");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("OBJECTS must be a number, got {count:?}");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    let start = Instant::now();
    let result = build(count, &variant, configmaps).and_then(|app| {
        let built = start.elapsed();
        let assembly = app.synth()?;
        let synthesized = start.elapsed();
        assembly.write(&out)?;
        let written = start.elapsed();
        if phases {
            eprintln!(
                "build {:.1} ms, synth {:.1} ms, write {:.1} ms",
                built.as_secs_f64() * 1e3,
                (synthesized - built).as_secs_f64() * 1e3,
                (written - synthesized).as_secs_f64() * 1e3
            );
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn take_flag(args: &mut Vec<String>, flag: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != flag);
    args.len() != before
}
