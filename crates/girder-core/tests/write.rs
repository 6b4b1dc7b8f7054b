//! Writing an assembly: atomic replacement, refusal to clobber foreign directories,
//! selection of stacks; concurrent writers, readers during the swap, writers killed at
//! random moments, stale staging directories, unchanged files linked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use girder_core::Stack;
use girder_core::prelude::*;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

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
    assert_eq!(
        entries(dir.path()),
        [".out.girder-lock", "out"],
        "no staging or retired directories remain (the lock file stays)"
    );
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

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// An assembly of `objects` ConfigMaps in apps of 100 (a Kubernetes-heavy output: many
/// small files), whose contents depend on `variant`.
fn big_assembly(objects: usize, variant: &str) -> Assembly {
    let mut stack = Stack::new("big", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("k8s").unwrap();
    let namespace =
        json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "big" } });
    scope.add_kube_object("namespace", &namespace).unwrap();
    for i in 0..objects {
        let object = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": format!("settings-{i}"), "namespace": "big" },
            "data": { "variant": variant, "index": i.to_string() },
        });
        scope
            .add_kube_object(&format!("app-{}", i / 100), &object)
            .unwrap();
    }
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth().unwrap()
}

fn manifest_bytes(assembly: &Assembly) -> Vec<u8> {
    assembly.files().pop().unwrap().1
}

fn files_below(root: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files_below(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name);
        }
    }
}

/// `out` is one complete girder output: exactly the files its manifest.json lists, each
/// with the recorded sha256. Returns the manifest's bytes.
fn assert_complete(out: &Path) -> Vec<u8> {
    let manifest_bytes = std::fs::read(out.join("manifest.json")).unwrap();
    let manifest: Json = serde_json::from_slice(&manifest_bytes).unwrap();
    let mut listed = BTreeSet::from(["manifest.json".to_owned()]);
    for stack in manifest["stacks"].as_array().unwrap() {
        for artifact in stack["artifacts"].as_array().unwrap() {
            let path = artifact["path"].as_str().unwrap();
            let bytes = std::fs::read(out.join(path)).unwrap();
            let sha: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(artifact["sha256"], sha, "{path}");
            listed.insert(path.to_owned());
        }
    }
    let mut present = BTreeSet::new();
    files_below(out, "", &mut present);
    assert_eq!(
        present, listed,
        "the files are exactly those of the manifest"
    );
    manifest_bytes
}

/// Not a test of its own: the writer process that other tests start (and kill). Writes
/// `GIRDER_TEST_WRITER_OBJECTS` objects to `GIRDER_TEST_WRITER_OUT`, variant `a` first,
/// `GIRDER_TEST_WRITER_TIMES` times alternating with variant `b` (forever when unset),
/// and prints `ready` after the first complete write.
#[test]
#[ignore = "started by other tests as a child process"]
fn child_writer() {
    let Ok(out) = std::env::var("GIRDER_TEST_WRITER_OUT") else {
        return;
    };
    let objects: usize = std::env::var("GIRDER_TEST_WRITER_OBJECTS")
        .unwrap()
        .parse()
        .unwrap();
    let times: Option<usize> = std::env::var("GIRDER_TEST_WRITER_TIMES")
        .ok()
        .map(|t| t.parse().unwrap());
    let first = std::env::var("GIRDER_TEST_WRITER_FIRST").unwrap_or_else(|_| "a".into());
    let second = if first == "a" { "b" } else { "a" };
    let variants = [big_assembly(objects, &first), big_assembly(objects, second)];
    let out = Path::new(&out);
    for round in 0.. {
        if times.is_some_and(|t| round >= t) {
            break;
        }
        variants[round % 2].write(out).unwrap();
        if round == 0 {
            println!("ready");
        }
    }
}

fn writer(out: &Path, objects: usize, times: Option<usize>, first: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_writer", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env("GIRDER_TEST_WRITER_OUT", out)
        .env("GIRDER_TEST_WRITER_OBJECTS", objects.to_string())
        .env("GIRDER_TEST_WRITER_FIRST", first)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(times) = times {
        command.env("GIRDER_TEST_WRITER_TIMES", times.to_string());
    }
    command
}

#[test]
fn concurrent_writers_in_threads_all_succeed_and_leave_one_complete_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let variants = [big_assembly(300, "a"), big_assembly(300, "b")];
    std::thread::scope(|scope| {
        for t in 0..4 {
            let variants = &variants;
            let out = &out;
            scope.spawn(move || {
                for round in 0..5 {
                    variants[(t + round) % 2].write(out).unwrap();
                }
            });
        }
    });
    let manifest = assert_complete(&out);
    assert!(variants.iter().any(|v| manifest_bytes(v) == manifest));
    assert_eq!(entries(dir.path()), [".out.girder-lock", "out"]);
}

#[test]
fn concurrent_writer_processes_all_succeed_and_leave_one_complete_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let children: Vec<_> = (0..4)
        .map(|i| {
            writer(&out, 300, Some(3), ["a", "b"][i % 2])
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a writer failed: {output:?}");
    }
    let manifest = assert_complete(&out);
    let variants = [big_assembly(300, "a"), big_assembly(300, "b")];
    assert!(variants.iter().any(|v| manifest_bytes(v) == manifest));
    assert_eq!(entries(dir.path()), [".out.girder-lock", "out"]);
}

/// With `renameat2(RENAME_EXCHANGE)`, `out/manifest.json` exists at every instant.
#[cfg(target_os = "linux")]
#[test]
fn a_reader_never_misses_the_manifest_while_outputs_are_swapped() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let variants = [big_assembly(200, "a"), big_assembly(200, "b")];
    let expected = [manifest_bytes(&variants[0]), manifest_bytes(&variants[1])];
    variants[0].write(&out).unwrap();
    let done = AtomicBool::new(false);
    let (reads, misses) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let (mut reads, mut misses) = (0usize, Vec::new());
            while !done.load(Ordering::Relaxed) {
                match std::fs::read(out.join("manifest.json")) {
                    Ok(bytes) => {
                        assert!(expected.contains(&bytes), "a partial manifest was read");
                        reads += 1;
                    }
                    Err(e) => misses.push(e.to_string()),
                }
            }
            (reads, misses)
        });
        for round in 1..=20 {
            variants[round % 2].write(&out).unwrap();
        }
        done.store(true, Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(reads > 0);
    assert!(
        misses.is_empty(),
        "{} of {} reads missed: {misses:?}",
        misses.len(),
        reads
    );
}

#[test]
fn stale_staging_directories_of_dead_processes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assembly("10.0.0.0/16").write(&out).unwrap();
    let own = std::process::id();
    for stale in [
        ".out.girder-tmp-99999999".to_owned(),
        ".out.girder-old-99999999".to_owned(),
        format!(".out.girder-tmp-{own}"),
    ] {
        std::fs::create_dir_all(dir.path().join(&stale).join("kubernetes/x")).unwrap();
        std::fs::write(dir.path().join(&stale).join("kubernetes/x/a.yaml"), "x").unwrap();
    }
    // Not girder's: kept.
    std::fs::create_dir(dir.path().join(".out.girder-tmp-notes")).unwrap();
    std::fs::create_dir(dir.path().join(".other.girder-tmp-99999999")).unwrap();
    assembly("10.1.0.0/16").write(&out).unwrap();
    assert_eq!(
        entries(dir.path()),
        [
            ".other.girder-tmp-99999999",
            ".out.girder-lock",
            ".out.girder-tmp-notes",
            "out"
        ]
    );
}

/// Writers killed (SIGKILL) at random moments of repeated writes: `out/` is always the
/// previous or a new complete output, and the next write removes what they left.
#[cfg(unix)]
#[test]
fn killed_writers_leave_the_old_or_a_new_complete_output() {
    const OBJECTS: usize = 800;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let expected = [
        manifest_bytes(&big_assembly(OBJECTS, "a")),
        manifest_bytes(&big_assembly(OBJECTS, "b")),
    ];
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    // How long one write takes here, to spread the kills over it.
    let start = Instant::now();
    big_assembly(OBJECTS, "a").write(&out).unwrap();
    let write_time = start.elapsed().as_micros() as u64;
    let mut leftovers = 0;
    for kill in 0..8 {
        let mut child = writer(&out, OBJECTS, None, ["a", "b"][kill % 2])
            .spawn()
            .unwrap();
        let mut ready = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        while !ready.contains("ready") {
            ready.clear();
            assert!(
                stdout.read_line(&mut ready).unwrap() > 0,
                "the writer exited"
            );
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % (3 * write_time + 1)));
        child.kill().unwrap();
        child.wait().unwrap();
        let manifest = assert_complete(&out);
        assert!(
            expected.contains(&manifest),
            "kill {kill}: an unknown output"
        );
        leftovers += entries(dir.path()).len() - 2;
    }
    eprintln!("{leftovers} staging directories left by 8 kills");
    big_assembly(OBJECTS, "a").write(&out).unwrap();
    assert_complete(&out);
    assert_eq!(entries(dir.path()), [".out.girder-lock", "out"]);
}

#[test]
fn unchanged_files_are_linked_and_edited_ones_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let first = big_assembly(300, "a");
    first.write(&out).unwrap();
    let unchanged = out.join("kubernetes/big-dev/app-0/configmap-settings-1.yaml");
    let edited = out.join("kubernetes/big-dev/app-0/configmap-settings-2.yaml");
    let original = std::fs::read(&edited).unwrap();
    // Someone edits a generated file in place, keeping its size.
    let mut changed = original.clone();
    *changed.last_mut().unwrap() = b' ';
    std::fs::write(&edited, &changed).unwrap();
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&unchanged).unwrap().ino()
    };
    first.write(&out).unwrap();
    assert_eq!(
        std::fs::read(&edited).unwrap(),
        original,
        "the edit is gone"
    );
    assert_complete(&out);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            std::fs::metadata(&unchanged).unwrap().ino(),
            inode,
            "an unchanged file is linked from the previous output, not written again"
        );
    }
    // Every file changes: nothing linked, all correct.
    big_assembly(300, "b").write(&out).unwrap();
    assert_eq!(
        assert_complete(&out),
        manifest_bytes(&big_assembly(300, "b"))
    );
}

#[test]
fn an_unchanged_output_is_left_as_it_is_and_a_stray_file_still_goes() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assembly("10.0.0.0/16").write(&out).unwrap();
    let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let (root, manifest) = (inode(&out), inode(&out.join("manifest.json")));
    // The same output again: nothing is written or swapped.
    assembly("10.0.0.0/16").write(&out).unwrap();
    assert_eq!(inode(&out), root);
    assert_eq!(inode(&out.join("manifest.json")), manifest);
    // A file (or directory) girder did not write makes the output differ: it is replaced.
    std::fs::create_dir(out.join("terraform/extra")).unwrap();
    assembly("10.0.0.0/16").write(&out).unwrap();
    assert!(!out.join("terraform/extra").exists());
    assert_ne!(inode(&out), root);
    // An edited file too.
    let tf = out.join("terraform/net-dev/main.tf.json");
    std::fs::write(&tf, "edited").unwrap();
    assembly("10.0.0.0/16").write(&out).unwrap();
    assert!(
        std::fs::read_to_string(&tf)
            .unwrap()
            .contains("10.0.0.0/16")
    );
}

#[test]
fn a_symbolic_link_as_the_output_is_refused_rather_than_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("checkout");
    assembly("10.0.0.0/16").write(&target).unwrap();
    let link = dir.path().join("out");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = assembly("10.1.0.0/16")
        .write(&link)
        .unwrap_err()
        .to_string();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let tf = std::fs::read_to_string(target.join("terraform/net-dev/main.tf.json")).unwrap();
    assert!(tf.contains("10.0.0.0/16"));
}
