//! Every artifact `cargo xtask synth` writes is pinned by a snapshot under the workspace's
//! `snapshots/` directory: one file per artifact, named after its output path
//! (`terraform/network-dev/main.tf.json` -> `terraform__network-dev__main.tf.json.snap`).
//! Review changes as production diffs: `INSTA_UPDATE=always cargo test -p xtask`
//! (or `cargo insta review`), then `git diff snapshots/`.

#![cfg(feature = "stacks")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeSet;
use std::path::Path;

fn snapshot_name(artifact_path: &str) -> String {
    artifact_path.replace('/', "__")
}

fn assembly() -> girder_core::Assembly {
    xtask::stacks::registry()
        .synth(&[], &[])
        .unwrap_or_else(|e| panic!("the registered stacks synthesize: {e}"))
}

#[test]
fn every_artifact_matches_its_snapshot() {
    let assembly = assembly();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (path, bytes) in assembly.files() {
            let text = String::from_utf8(bytes).expect("artifacts are UTF-8");
            insta::assert_snapshot!(snapshot_name(&path), text);
        }
    });
}

#[test]
fn no_snapshot_outlives_its_artifact() {
    let expected: BTreeSet<String> = assembly()
        .files()
        .into_iter()
        .map(|(path, _)| format!("{}.snap", snapshot_name(&path)))
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots");
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".snap"))
                .collect()
        })
        .unwrap_or_default();
    let stale: Vec<&String> = present.difference(&expected).collect();
    assert!(
        stale.is_empty(),
        "snapshots without an artifact (delete them): {stale:?}"
    );
}

#[test]
fn synth_is_deterministic_within_a_process() {
    let first = assembly().files();
    let second = assembly().files();
    assert_eq!(first, second);
}
