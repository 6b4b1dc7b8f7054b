//! Every artifact `cargo xtask synth` writes is pinned by a snapshot under the workspace's
//! `snapshots/` directory: one file per artifact, under a directory per stack that mirrors
//! its place in `out/` (`terraform/network-dev/main.tf.json` ->
//! `network-dev/terraform/main.tf.json.snap`, `kubernetes/pixtools-dev/api/service-api.yaml`
//! -> `pixtools-dev/kubernetes/api/service-api.yaml.snap`; `manifest.json` ->
//! `manifest.json.snap`). Stack ids hold a `-`, so they never meet `snapshots/codegen/`.
//! Review changes as production diffs: `INSTA_UPDATE=always cargo test -p xtask`
//! (or `cargo insta review`), then `git diff snapshots/`.

#![cfg(feature = "stacks")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::collections::BTreeSet;
use std::path::Path;

/// Where the snapshot of the artifact at `artifact_path` lives, relative to `snapshots/`:
/// `<kind>/<stack>/<rest>` moves to `<stack>/<kind>/<rest>.snap`.
fn snapshot_file(artifact_path: &str) -> String {
    match artifact_path.splitn(3, '/').collect::<Vec<_>>().as_slice() {
        [kind, stack, rest] => format!("{stack}/{kind}/{rest}.snap"),
        _ => format!("{artifact_path}.snap"),
    }
}

fn assembly() -> girder_core::Assembly {
    xtask::stacks::registry()
        .synth(&[], &[])
        .unwrap_or_else(|e| panic!("the registered stacks synthesize: {e}"))
}

#[test]
fn every_artifact_matches_its_snapshot() {
    let assembly = assembly();
    for (path, bytes) in assembly.files() {
        let text = String::from_utf8(bytes).expect("artifacts are UTF-8");
        let file = snapshot_file(&path);
        let (dir, name) = file.rsplit_once('/').unwrap_or(("", &file));
        let name = name.strip_suffix(".snap").unwrap_or(name);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(Path::new("../../snapshots").join(dir));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}

/// Every `.snap` file under `dir`, relative to `root`, `/`-separated.
fn snapshots_under(root: &Path, dir: &Path, found: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            snapshots_under(root, &path, found);
        } else if path.extension().is_some_and(|e| e == "snap")
            && let Ok(relative) = path.strip_prefix(root)
        {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            found.insert(parts.join("/"));
        }
    }
}

#[test]
fn no_snapshot_outlives_its_artifact() {
    let expected: BTreeSet<String> = assembly()
        .files()
        .into_iter()
        .map(|(path, _)| snapshot_file(&path))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots");
    let mut present = BTreeSet::new();
    snapshots_under(&root, &root, &mut present);
    // The generator's snapshots (tests/codegen.rs) live beside the artifacts'.
    present.retain(|file| !file.starts_with("codegen/"));
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
