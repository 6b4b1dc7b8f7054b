//! The `cargo xtask` binary as a user runs it: exit codes and messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::process::Command;

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

#[cfg(feature = "stacks")]
#[test]
fn synth_with_an_unknown_stack_or_environment_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_arg = out.to_str().unwrap();
    for (args, unknown) in [
        (
            vec!["--stack", "pixtools", "--stack", "nope"],
            "unknown --stack nope",
        ),
        (vec!["--env", "dev", "--env", "qa"], "unknown --env qa"),
    ] {
        let mut all = vec!["synth", "--out", out_arg];
        all.extend(args);
        let output = xtask(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{all:?} exited 0");
        assert!(stderr.contains(unknown), "{stderr}");
        assert!(stderr.contains("known: "), "{stderr}");
        assert!(!out.exists(), "nothing is written");
    }
}

#[cfg(feature = "stacks")]
#[test]
fn synth_of_one_known_stack_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = xtask(&[
        "synth",
        "--stack",
        "pixtools",
        "--env",
        "dev",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.join("terraform/pixtools-dev/main.tf.json").exists());
}

#[cfg(feature = "stacks")]
#[test]
fn synth_of_a_stack_that_reads_another_writes_only_the_selected_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = xtask(&[
        "synth",
        "--stack",
        "service",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.join("terraform/service-dev/main.tf.json").exists());
    assert!(!out.join("terraform/network-dev").exists());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let stacks = manifest["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 1, "{manifest}");
    assert_eq!(stacks[0]["id"], "service-dev");
    assert_eq!(stacks[0]["depends_on"], serde_json::json!(["network-dev"]));
}

#[cfg(not(feature = "stacks"))]
#[test]
fn without_the_stacks_feature_every_stack_command_says_only_codegen_works() {
    for args in [
        vec!["synth"],
        vec!["list"],
        vec!["bench"],
        vec!["bench-workload", "stacks", "1", "out"],
    ] {
        let output = xtask(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} exited 0");
        assert!(
            stderr.contains("only `codegen` works"),
            "{args:?}: {stderr}"
        );
    }
}
