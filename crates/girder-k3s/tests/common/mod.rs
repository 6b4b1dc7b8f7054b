//! The harness for tests that run girder-k3s's boot and sync scripts in bash: a scratch
//! directory, stub commands first on PATH, and the cloud-init files a script is read from.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // each test file uses part

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

/// A fresh directory `name` under the target's tmp dir, with an empty `bin/` for stubs.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    dir
}

/// Executable stubs in `dir/bin`: `name` -> shell body.
pub(crate) fn stubs(dir: &Path, scripts: &[(&str, &str)]) {
    for (name, body) in scripts {
        let path = dir.join("bin").join(name);
        std::fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Run `script` with bash, the stubs first on PATH; whether it succeeded, and the log the
/// stubs appended to (`$STUB_LOG`, emptied for the next run). Stubs may keep state in
/// `$STUB_STATE` (a file) or under `$STUB_DIR`.
pub(crate) fn run(dir: &Path, script: &str) -> (bool, String) {
    let path = dir.join("script");
    std::fs::write(&path, script).unwrap();
    let status = Command::new("bash")
        .arg(&path)
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", dir.join("bin").display()),
        )
        .env("STUB_LOG", dir.join("log"))
        .env("STUB_STATE", dir.join("state"))
        .env("STUB_DIR", dir)
        .status()
        .unwrap();
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    let _ = std::fs::remove_file(dir.join("log"));
    (status.success(), log)
}

/// The `write_files` of a cloud-init document: (path, content).
pub(crate) fn write_files(text: &str) -> Vec<(String, String)> {
    let document: Json = serde_norway::from_str(text).unwrap();
    document["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The content of `path` among `files`.
pub(crate) fn file(files: &[(String, String)], path: &str) -> String {
    files
        .iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .1
        .clone()
}
