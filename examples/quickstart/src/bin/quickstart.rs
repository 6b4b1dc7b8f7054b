//! Synthesize the quickstart into a directory: `quickstart [OUT]` (default `out-quickstart`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("out-quickstart"));
    let mut app = girder_core::App::new();
    let result = girder_example_quickstart::build(&mut app)
        .and_then(|()| app.synth())
        .and_then(|assembly| {
            assembly.write(&out)?;
            Ok(assembly)
        });
    match result {
        Ok(assembly) => {
            let files: usize = assembly.stacks().iter().map(|s| s.artifacts.len()).sum();
            println!(
                "wrote {files} artifacts of {} stacks to {}",
                assembly.stacks().len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
