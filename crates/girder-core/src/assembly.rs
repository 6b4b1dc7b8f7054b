//! The result of synth: every artifact of every stack, in memory, plus manifest.json.
//! Writing it is atomic (see `output.rs`): files go to a staging directory beside the
//! output, which then replaces the output in one step, so a failed synth leaves the
//! previous output as it was.

use std::path::Path;

use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::diagnostics::Diagnostic;
use crate::error::{Error, Result};
use crate::helm::ChartRef;

/// Version of the manifest.json format.
pub const MANIFEST_VERSION: u32 = 1;

/// What an artifact is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A Terraform root module in JSON syntax.
    Terraform,
    /// A Kubernetes object.
    Kubernetes,
    /// A kustomization.yaml.
    Kustomization,
    /// A Helm values file.
    HelmValues,
}

impl ArtifactKind {
    fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Terraform => "terraform",
            ArtifactKind::Kubernetes => "kubernetes",
            ArtifactKind::Kustomization => "kustomization",
            ArtifactKind::HelmValues => "helm-values",
        }
    }
}

/// One synthesized file.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// Path relative to the output root, `/`-separated.
    pub path: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// For Helm values: the chart they are for.
    pub chart: Option<ChartRef>,
}

impl Artifact {
    /// The file as text (all girder artifacts are UTF-8).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or_default()
    }

    /// Lowercase hex SHA-256 of the bytes.
    pub fn sha256(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::digest(&self.bytes);
        let mut hex = String::with_capacity(2 * digest.len());
        for byte in digest.iter() {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        hex
    }
}

/// The artifacts of one stack.
#[derive(Clone, Debug)]
pub struct StackArtifacts {
    /// `<name>-<env>`.
    pub id: String,
    /// Stack name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// Backend summary for manifest.json.
    pub(crate) backend: Json,
    /// Resources and data sources in its Terraform module.
    pub resource_count: usize,
    /// Ids of the stacks this one reads outputs of (apply them first).
    pub depends_on: Vec<String>,
    /// Its files.
    pub artifacts: Vec<Artifact>,
    /// Acknowledged findings, for manifest.json.
    pub(crate) acknowledged: Vec<Json>,
    /// Kubernetes objects the bundle relies on but does not contain, with reasons.
    pub(crate) kubernetes_externals: Vec<Json>,
}

impl StackArtifacts {
    /// The backend type: `cloud`, `s3` or `local`.
    pub fn backend_kind(&self) -> &str {
        self.backend
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or_default()
    }
}

/// manifest.json, borrowed from the assembly.
#[derive(Serialize)]
struct ManifestView<'a> {
    girder_manifest: u32,
    stacks: Vec<StackView<'a>>,
}

#[derive(Serialize)]
struct StackView<'a> {
    id: &'a str,
    name: &'a str,
    environment: &'a str,
    backend: &'a Json,
    depends_on: &'a [String],
    artifacts: Vec<ArtifactView<'a>>,
    acknowledged: &'a [Json],
    #[serde(skip_serializing_if = "<[Json]>::is_empty")]
    kubernetes_externals: &'a [Json],
}

#[derive(Serialize)]
struct ArtifactView<'a> {
    path: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chart: Option<&'a ChartRef>,
}

/// Whether `other` sorts before `<dir>/` (without building that string).
fn sorts_before_dir(other: &str, dir: &str) -> bool {
    let (other, dir) = (other.as_bytes(), dir.as_bytes());
    let common = other.len().min(dir.len());
    match other[..common].cmp(&dir[..common]) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        // `other` is `dir` or a prefix of it, or continues it with a byte vs `/`.
        std::cmp::Ordering::Equal => other.get(dir.len()).is_none_or(|&b| b < b'/'),
    }
}

/// The sha256 of every artifact of `stacks`, in order; by a few threads for large outputs.
fn artifact_shas(stacks: &[StackArtifacts]) -> Vec<String> {
    let artifacts: Vec<&Artifact> = stacks.iter().flat_map(|s| &s.artifacts).collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    if artifacts.len() < 512 || threads < 2 {
        return artifacts.iter().map(|a| a.sha256()).collect();
    }
    let hash = |part: &[&Artifact]| part.iter().map(|a| a.sha256()).collect::<Vec<_>>();
    std::thread::scope(|scope| {
        let parts: Vec<_> = artifacts
            .chunks(artifacts.len().div_ceil(threads))
            .map(|part| {
                let handle = std::thread::Builder::new().spawn_scoped(scope, move || hash(part));
                (handle, part)
            })
            .collect();
        let mut shas = Vec::with_capacity(artifacts.len());
        for (handle, part) in parts {
            // A thread that could not start, or stopped (hashing cannot fail), is redone here.
            shas.extend(match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| hash(part)),
                Err(_) => hash(part),
            });
        }
        shas
    })
}

/// Everything one synth produced.
#[derive(Clone, Debug)]
pub struct Assembly {
    stacks: Vec<StackArtifacts>,
    warnings: Vec<Diagnostic>,
}

impl Assembly {
    /// The assembly of `stacks`, after checking that their artifact paths are safe and
    /// distinct (see [`Assembly::write`]).
    pub(crate) fn new(stacks: Vec<StackArtifacts>, warnings: Vec<Diagnostic>) -> Result<Self> {
        let assembly = Self { stacks, warnings };
        assembly.check_paths()?;
        Ok(assembly)
    }

    /// The stacks, dependencies first.
    pub fn stacks(&self) -> &[StackArtifacts] {
        &self.stacks
    }

    /// Findings that did not stop synth.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// An artifact by its path relative to the output root.
    pub fn artifact(&self, path: &str) -> Option<&Artifact> {
        self.stacks
            .iter()
            .flat_map(|s| &s.artifacts)
            .find(|a| a.path == path)
    }

    /// Keep only the stacks whose name is in `names` (all when empty) and whose environment
    /// is in `envs` (all when empty). A name or environment that no stack has is an error
    /// listing the known ones (a typo must not shrink the output silently), and so is a
    /// combination that selects nothing (see [`Assembly::check_selection`]).
    pub fn select(&self, names: &[String], envs: &[String]) -> Result<Assembly> {
        let known: Vec<(&str, &str)> = self
            .stacks
            .iter()
            .map(|s| (s.name.as_str(), s.environment.as_str()))
            .collect();
        Self::check_selection(&known, names, envs)?;
        let stacks: Vec<StackArtifacts> = self
            .stacks
            .iter()
            .filter(|s| names.is_empty() || names.contains(&s.name))
            .filter(|s| envs.is_empty() || envs.contains(&s.environment))
            .cloned()
            .collect();
        Ok(Assembly {
            stacks,
            warnings: self.warnings.clone(),
        })
    }

    /// The rule of [`Assembly::select`], for a caller that selects before it builds (the
    /// stack registry of `cargo xtask synth`): `stacks` are the `(name, environment)` of
    /// the stacks there are; every one of `names` and `envs` must be among them, and
    /// together they must select at least one stack. The errors list the known values.
    pub fn check_selection(
        stacks: &[(&str, &str)],
        names: &[String],
        envs: &[String],
    ) -> Result<()> {
        let mut known_names: Vec<&str> = stacks.iter().map(|(name, _)| *name).collect();
        let mut known_envs: Vec<&str> = stacks.iter().map(|(_, env)| *env).collect();
        for known in [&mut known_names, &mut known_envs] {
            known.sort_unstable();
            known.dedup();
        }
        let ids = || {
            stacks
                .iter()
                .map(|(name, env)| format!("{name}-{env}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (flag, asked, known) in [
            ("--stack", names, &known_names),
            ("--env", envs, &known_envs),
        ] {
            let unknown: Vec<&str> = asked
                .iter()
                .map(String::as_str)
                .filter(|a| !known.contains(a))
                .collect();
            if !unknown.is_empty() {
                return Err(Error::invalid(
                    "synth",
                    format!(
                        "unknown {flag} {}; known: {} (stacks are: {})",
                        unknown.join(", "),
                        known.join(", "),
                        ids()
                    ),
                ));
            }
        }
        let selects = |(name, env): &&(&str, &str)| {
            (names.is_empty() || names.iter().any(|n| n == name))
                && (envs.is_empty() || envs.iter().any(|e| e == env))
        };
        if !stacks.iter().any(|s| selects(&s)) {
            return Err(Error::invalid(
                "synth",
                format!(
                    "no stack matches --stack {names:?} --env {envs:?}; stacks are: {}",
                    ids()
                ),
            ));
        }
        Ok(())
    }

    /// manifest.json: stacks (dependencies first), environments, artifacts with sha256,
    /// charts of Helm values, dependencies and acknowledged findings.
    pub fn manifest(&self) -> Json {
        serde_json::to_value(self.manifest_view()).unwrap_or(Json::Null)
    }

    /// The manifest as borrowed data, serialized straight to bytes when written (no JSON
    /// tree of 10,000 entries in between). Field order is the file's key order.
    fn manifest_view(&self) -> ManifestView<'_> {
        let mut shas = artifact_shas(&self.stacks).into_iter();
        let stacks = self
            .stacks
            .iter()
            .map(|s| StackView {
                id: &s.id,
                name: &s.name,
                environment: &s.environment,
                backend: &s.backend,
                depends_on: &s.depends_on,
                artifacts: s
                    .artifacts
                    .iter()
                    .map(|a| ArtifactView {
                        path: &a.path,
                        kind: a.kind.as_str(),
                        sha256: shas.next().unwrap_or_default(),
                        chart: a.chart.as_ref(),
                    })
                    .collect(),
                acknowledged: &s.acknowledged,
                kubernetes_externals: &s.kubernetes_externals,
            })
            .collect();
        ManifestView {
            girder_manifest: MANIFEST_VERSION,
            stacks,
        }
    }

    /// Every file of the output, manifest.json last, as (relative path, bytes).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = self
            .stacks
            .iter()
            .flat_map(|s| &s.artifacts)
            .map(|a| (a.path.clone(), a.bytes.clone()))
            .collect();
        files.push(("manifest.json".into(), self.manifest_bytes()));
        files
    }

    /// Write the output to `out`, replacing what was there as one unit: readers see the
    /// whole previous output or the whole new one (on Linux `out` is never missing; the
    /// fallback elsewhere is described in ARCHITECTURE.md, "Output"), a failed or
    /// killed write leaves the previous output, and concurrent writers of one `out` take
    /// turns on the lock file `.<out>.girder-lock` beside it. Refuses to replace a
    /// non-empty directory that is not a girder output (no girder manifest.json), and any
    /// artifact path that is not a plain relative path or is used twice.
    pub fn write(&self, out: &Path) -> Result<()> {
        self.check_paths()?;
        let manifest = self.manifest_bytes();
        let files: Vec<(&str, &[u8])> = self
            .stacks
            .iter()
            .flat_map(|s| &s.artifacts)
            .map(|a| (a.path.as_str(), a.bytes.as_slice()))
            .chain([("manifest.json", manifest.as_slice())])
            .collect();
        crate::output::replace(out, &files)
    }

    fn manifest_bytes(&self) -> Vec<u8> {
        let mut manifest = serde_json::to_vec_pretty(&self.manifest_view()).unwrap_or_default();
        manifest.push(b'\n');
        manifest
    }

    /// Every artifact path is a plain relative path (normal components only), and no path
    /// is used twice or both as a file and as a directory: nothing written can leave the
    /// output directory or replace another artifact.
    fn check_paths(&self) -> Result<()> {
        // (path, stack, kind) of every artifact; sorted by path below (stable: among equal
        // paths, the stack listed first comes first).
        let mut all: Vec<(&str, &str, ArtifactKind)> = Vec::new();
        for stack in &self.stacks {
            for artifact in &stack.artifacts {
                let path = artifact.path.as_str();
                let problem = match crate::output::check_relative_path(path) {
                    None if path == "manifest.json" => Some("it is girder's own manifest.json"),
                    problem => problem,
                };
                if let Some(problem) = problem {
                    return Err(Error::invalid(
                        &stack.id,
                        format!(
                            "artifact path {path:?} is not allowed: {problem}; artifact paths \
                             are relative and made of plain names"
                        ),
                    ));
                }
                all.push((path, &stack.id, artifact.kind));
            }
        }
        all.sort_by(|a, b| a.0.cmp(b.0));
        for pair in all.windows(2) {
            let ((path, owner, kind), (_, stack, again)) = (pair[0], pair[1]);
            if path == pair[1].0 {
                return Err(Error::invalid(
                    stack,
                    format!(
                        "{} artifact {path} is also written by stack {owner} (as {}); two \
                         artifacts may not share a path",
                        again.as_str(),
                        kind.as_str()
                    ),
                ));
            }
        }
        // A file where other artifacts need a directory: some path starts with `<path>/`.
        let below = |other: &str, path: &str| {
            other.len() > path.len()
                && other.as_bytes()[path.len()] == b'/'
                && other.starts_with(path)
        };
        for (path, stack, _) in &all {
            let next = all.partition_point(|(other, _, _)| sorts_before_dir(other, path));
            if all
                .get(next)
                .is_some_and(|(other, _, _)| below(other, path))
            {
                return Err(Error::invalid(
                    stack,
                    format!("artifact {path} is also a directory of other artifacts"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stack(id: &str, paths: &[&str]) -> StackArtifacts {
        StackArtifacts {
            id: id.into(),
            name: id.into(),
            environment: "dev".into(),
            backend: json!({ "type": "local" }),
            resource_count: 0,
            depends_on: Vec::new(),
            artifacts: paths
                .iter()
                .map(|p| Artifact {
                    path: (*p).into(),
                    kind: ArtifactKind::Kubernetes,
                    bytes: b"x\n".to_vec(),
                    chart: None,
                })
                .collect(),
            acknowledged: Vec::new(),
            kubernetes_externals: Vec::new(),
        }
    }

    #[test]
    fn artifact_paths_that_leave_the_output_are_refused_at_write_time() {
        for bad in [
            "kubernetes/a-dev/app/../../../../PWNED",
            "/etc/cron.d/x",
            "kubernetes//x.yaml",
            "kubernetes/a\\..\\x",
        ] {
            let err = Assembly::new(vec![stack("a-dev", &[bad])], Vec::new())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("a-dev: artifact path"), "{err}");
            // And again where the files are written, for an assembly built around the check.
            let assembly = Assembly {
                stacks: vec![stack("a-dev", &[bad])],
                warnings: Vec::new(),
            };
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("nested").join("out");
            assert!(assembly.write(&out).is_err(), "{bad}");
            assert!(!out.exists());
        }
    }

    #[test]
    fn two_artifacts_on_one_path_are_an_error_naming_both() {
        let err = Assembly::new(
            vec![stack("a-dev", &["x/y.yaml"]), stack("b-dev", &["x/y.yaml"])],
            Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("b-dev: kubernetes artifact x/y.yaml is also written by stack a-dev"),
            "{err}"
        );
        let err = Assembly::new(vec![stack("a-dev", &["manifest.json"])], Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("manifest.json"), "{err}");
        let paths = ["x/y", "x/y-a.yaml", "x/y.b", "x/y/z.yaml"];
        let err = Assembly::new(vec![stack("a-dev", &paths)], Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("x/y is also a directory"), "{err}");
    }

    #[test]
    fn sorting_before_a_directory_matches_string_order() {
        for (other, dir) in [
            ("a", "a"),
            ("a", "ab"),
            ("a-b", "a"),
            ("a.b", "a"),
            ("a/b", "a"),
            ("a0", "a"),
            ("b", "a"),
            ("", "a"),
        ] {
            assert_eq!(
                sorts_before_dir(other, dir),
                other < format!("{dir}/").as_str(),
                "{other:?} vs {dir:?}/"
            );
        }
    }
}
