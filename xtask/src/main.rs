//! `cargo xtask`: girder's automation.
//!
//! - `cargo xtask synth [--stack NAME]... [--env ENV]... [--out DIR]`: synthesize the
//!   registered stacks (all by default) into DIR (default `out/`), atomically.
//! - `cargo xtask list`: the registered stacks, their environments and artifact counts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use girder_core::{ArtifactKind, Assembly};

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

fn run(command: Command) -> Result<(), String> {
    let assembly = xtask::stacks::app()
        .and_then(|app| app.synth())
        .map_err(|e| e.to_string())?;
    for warning in assembly.warnings() {
        eprintln!("{warning}");
    }
    match command {
        Command::Synth { stacks, envs, out } => {
            let selected = assembly.select(&stacks, &envs).map_err(|e| e.to_string())?;
            selected.write(&out).map_err(|e| e.to_string())?;
            let files: usize = selected.stacks().iter().map(|s| s.artifacts.len()).sum();
            println!(
                "synthesized {} stacks, {files} artifacts into {}",
                selected.stacks().len(),
                out.display()
            );
            Ok(())
        }
        Command::List => {
            print!("{}", list(&assembly));
            Ok(())
        }
    }
}

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
