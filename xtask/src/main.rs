//! `cargo xtask`: girder's automation.
//!
//! - `cargo xtask synth [--stack NAME]... [--env ENV]... [--out DIR]`: synthesize the
//!   registered stacks (all by default) into DIR (default `out/`), atomically; only the
//!   selected stacks and the stacks they read or are read by are built.
//! - `cargo xtask list`: the registered stacks, their environments and artifact counts.
//! - `cargo xtask bench [--size N]... [--runs R] [--workload W]...`: whole-process synth
//!   benchmarks from a release build (see `xtask::bench`).
//! - `cargo xtask codegen [--check] [--from PATH] [--provider-version NAME=VERSION]...`:
//!   regenerate crates/girder-aws from the allowlist and provider schemas.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
#[cfg(feature = "stacks")]
use girder_core::{ArtifactKind, Assembly};
use xtask::{codegen, workspace_root};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "girder's automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Synthesize Terraform JSON, Kubernetes manifests and Helm values.
    Synth {
        /// Only these stacks (by name; repeatable). All when absent.
        #[arg(long = "stack", value_name = "NAME")]
        stacks: Vec<String>,
        /// Only these environments (repeatable). All when absent.
        #[arg(long = "env", value_name = "ENV")]
        envs: Vec<String>,
        /// Output directory, replaced as a whole.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// List stacks, environments and artifact counts.
    List,
    /// Time whole synth processes (release build): typed Terraform resources, Kubernetes
    /// Deployment + Service pairs, and every registered stack.
    Bench {
        /// Sizes (resources or objects) per workload; repeatable.
        #[arg(long = "size", default_values_t = [1_000usize, 10_000, 50_000])]
        sizes: Vec<usize>,
        /// Measured runs per size (after one warm-up).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Workloads to run (terraform, kubernetes, stacks); all when absent.
        #[arg(long = "workload")]
        workloads: Vec<String>,
        /// Remove the output before each run (every file is created anew).
        #[arg(long)]
        fresh: bool,
    },
    /// One benchmark process: synthesize workload KIND of SIZE into OUT (used by `bench`).
    #[command(hide = true)]
    BenchWorkload {
        kind: String,
        size: usize,
        out: PathBuf,
    },
    /// Regenerate the typed L1 crate (crates/girder-aws) from the allowlist and schemas.
    Codegen {
        /// Fail if the committed code or schemas are out of date; write nothing.
        #[arg(long)]
        check: bool,
        /// Full provider schema to trim from: `terraform providers schema -json` output
        /// (.json or .json.gz) or a directory of `<provider>.json[.gz]`. Defaults to
        /// ../shared/schemas/terraform when the allowlist names a type not yet committed.
        #[arg(long, value_name = "PATH")]
        from: Option<PathBuf>,
        /// The version of a provider whose schema source does not record it.
        #[arg(long = "provider-version", value_name = "NAME=VERSION")]
        provider_versions: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Each command is handled here, once; the commands that need the stack registry are
/// an error in a build without it.
fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Codegen {
            check,
            from,
            provider_versions,
        } => run_codegen(codegen::Options {
            check,
            from,
            provider_versions,
        }),
        #[cfg(feature = "stacks")]
        Command::Synth { stacks, envs, out } => synth(&stacks, &envs, &out),
        #[cfg(feature = "stacks")]
        Command::List => {
            let assembly = xtask::stacks::registry()
                .synth(&[], &[])
                .map_err(|e| e.to_string())?;
            print_warnings(&assembly);
            print!("{}", list(&assembly));
            Ok(())
        }
        #[cfg(feature = "stacks")]
        Command::Bench {
            sizes,
            runs,
            workloads,
            fresh,
        } => {
            let workloads = if workloads.is_empty() {
                xtask::bench::WORKLOADS
                    .iter()
                    .map(|w| w.to_string())
                    .collect()
            } else {
                workloads
            };
            xtask::bench::run(&sizes, runs.max(1), &workloads, fresh)
        }
        #[cfg(feature = "stacks")]
        Command::BenchWorkload { kind, size, out } => {
            let app = xtask::bench::workload(&kind, size).map_err(|e| e.to_string())?;
            let assembly = app.synth().map_err(|e| e.to_string())?;
            let written = assembly.write(&out).map_err(|e| e.to_string());
            // The process ends here: freeing every object one by one would only cost time.
            std::mem::forget((app, assembly));
            written
        }
        #[cfg(not(feature = "stacks"))]
        Command::Synth { .. }
        | Command::List
        | Command::Bench { .. }
        | Command::BenchWorkload { .. } => {
            Err("this xtask was built without the `stacks` feature; only `codegen` works".into())
        }
    }
}

fn run_codegen(options: codegen::Options) -> Result<(), String> {
    let root = workspace_root();
    let plan = codegen::plan(root, &options)?;
    for source in &plan.sources {
        println!("trimmed {source}");
    }
    for provider in &plan.providers {
        println!("{provider}");
    }
    if options.check {
        let differences = codegen::differences(root, &plan);
        if !differences.is_empty() {
            return Err(format!(
                "{} is out of date; run `cargo xtask codegen` and commit:\n  {}",
                codegen::CRATE_DIR,
                differences.join("\n  ")
            ));
        }
        println!(
            "{} is up to date: {} types, {} lines of Rust",
            codegen::CRATE_DIR,
            plan.types,
            plan.rust_lines()
        );
    } else {
        let written = codegen::write(root, &plan)?;
        println!(
            "generated {} types, {} lines of Rust into {} ({written} files changed)",
            plan.types,
            plan.rust_lines(),
            codegen::CRATE_DIR
        );
    }
    Ok(())
}

/// Build only the selected stacks (and the stacks they read or are read by), synthesize
/// them, write the selected ones.
#[cfg(feature = "stacks")]
fn synth(stacks: &[String], envs: &[String], out: &std::path::Path) -> Result<(), String> {
    let selected = xtask::stacks::registry()
        .synth(stacks, envs)
        .map_err(|e| e.to_string())?;
    print_warnings(&selected);
    selected.write(out).map_err(|e| e.to_string())?;
    let files: usize = selected.stacks().iter().map(|s| s.artifacts.len()).sum();
    println!(
        "synthesized {} stacks, {files} artifacts into {}",
        selected.stacks().len(),
        out.display()
    );
    // The process ends after this command: freeing the assembly object by object costs time.
    std::mem::forget(selected);
    Ok(())
}

#[cfg(feature = "stacks")]
fn print_warnings(assembly: &Assembly) {
    for warning in assembly.warnings() {
        eprintln!("{warning}");
    }
}

#[cfg(feature = "stacks")]
fn list(assembly: &Assembly) -> String {
    let mut text = format!(
        "{:<28} {:<8} {:<6} {:>9} {:>8} {:>5}  depends on\n",
        "stack", "env", "state", "resources", "k8s objs", "helm"
    );
    for stack in assembly.stacks() {
        let count = |kind| stack.artifacts.iter().filter(|a| a.kind == kind).count();
        text.push_str(&format!(
            "{:<28} {:<8} {:<6} {:>9} {:>8} {:>5}  {}\n",
            stack.id,
            stack.environment,
            stack.backend_kind(),
            stack.resource_count,
            count(ArtifactKind::Kubernetes),
            count(ArtifactKind::HelmValues),
            stack.depends_on.join(", ")
        ));
    }
    text
}
