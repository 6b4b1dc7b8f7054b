//! Writing an assembly: atomic replacement, refusal to clobber foreign directories,
//! selection of stacks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::Stack;
use girder_core::prelude::*;

fn assembly(cidr: &str) -> Assembly {
    let mut stack = common::aws_stack("net", "dev", Backend::local());
    stack.root().add("vpc", common::vpc(cidr)).unwrap();
    let other = Stack::new("net", "prod", Backend::local()).unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.add_stack(other).unwrap();
    app.synth().unwrap()
}

#[test]
fn write_replaces_the_whole_output_and_leaves_no_staging_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assembly("10.0.0.0/16").write(&out).unwrap();
    std::fs::write(out.join("stray.txt"), "left from an older synth").unwrap();
    assembly("10.1.0.0/16").write(&out).unwrap();
    let tf = std::fs::read_to_string(out.join("terraform/net-dev/main.tf.json")).unwrap();
    assert!(tf.contains("10.1.0.0/16"));
    assert!(
        !out.join("stray.txt").exists(),
        "the output is one root per run"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no staging or retired directories remain");
}

#[test]
fn write_refuses_to_replace_a_directory_that_is_not_girder_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let err = assembly("10.0.0.0/16")
        .write(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a girder output"), "{err}");
    assert!(dir.path().join("precious.txt").exists());
}

#[test]
fn a_failed_write_leaves_the_previous_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assembly("10.0.0.0/16").write(&out).unwrap();
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    // A file where the staging directory's parent must be created makes the write fail.
    let blocked = dir.path().join("file-not-dir");
    std::fs::write(&blocked, "x").unwrap();
    assert!(assembly("10.9.0.0/16").write(&blocked.join("out")).is_err());
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
}

#[test]
fn select_filters_stacks_and_environments() {
    let all = assembly("10.0.0.0/16");
    let prod = all.select(&[], &["prod".into()]).unwrap();
    assert_eq!(prod.stacks().len(), 1);
    assert_eq!(prod.stacks()[0].id, "net-prod");
    let err = all.select(&["nope".into()], &[]).unwrap_err().to_string();
    assert!(err.contains("net-dev, net-prod"), "{err}");
}
