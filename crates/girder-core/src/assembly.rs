//! The result of synth: every artifact of every stack, in memory, plus manifest.json.
//! Writing it is atomic: files go to a temporary directory beside the output, which then
//! replaces the output in one rename, so a failed synth leaves the previous output as it was.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
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
        Sha256::digest(&self.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
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

/// Everything one synth produced.
#[derive(Clone, Debug)]
pub struct Assembly {
    stacks: Vec<StackArtifacts>,
    warnings: Vec<Diagnostic>,
}

impl Assembly {
    pub(crate) fn new(stacks: Vec<StackArtifacts>, warnings: Vec<Diagnostic>) -> Self {
        Self { stacks, warnings }
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
    /// combination that selects nothing.
    pub fn select(&self, names: &[String], envs: &[String]) -> Result<Assembly> {
        let known_names = self.distinct(|s| &s.name);
        let known_envs = self.distinct(|s| &s.environment);
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
                let ids: Vec<&str> = self.stacks.iter().map(|s| s.id.as_str()).collect();
                return Err(Error::invalid(
                    "synth",
                    format!(
                        "unknown {flag} {}; known: {} (stacks are: {})",
                        unknown.join(", "),
                        known.join(", "),
                        ids.join(", ")
                    ),
                ));
            }
        }
        let stacks: Vec<StackArtifacts> = self
            .stacks
            .iter()
            .filter(|s| names.is_empty() || names.contains(&s.name))
            .filter(|s| envs.is_empty() || envs.contains(&s.environment))
            .cloned()
            .collect();
        if stacks.is_empty() {
            let known: Vec<&str> = self.stacks.iter().map(|s| s.id.as_str()).collect();
            return Err(Error::invalid(
                "synth",
                format!(
                    "no stack matches --stack {names:?} --env {envs:?}; stacks are: {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(Assembly {
            stacks,
            warnings: self.warnings.clone(),
        })
    }

    /// The distinct values of one field over the stacks, sorted.
    fn distinct<'a>(&'a self, field: impl Fn(&'a StackArtifacts) -> &'a String) -> Vec<&'a str> {
        let mut values: Vec<&str> = self.stacks.iter().map(|s| field(s).as_str()).collect();
        values.sort_unstable();
        values.dedup();
        values
    }

    /// manifest.json: stacks (dependencies first), environments, artifacts with sha256,
    /// charts of Helm values, dependencies and acknowledged findings.
    pub fn manifest(&self) -> Json {
        let stacks: Vec<Json> = self
            .stacks
            .iter()
            .map(|s| {
                let artifacts: Vec<Json> = s
                    .artifacts
                    .iter()
                    .map(|a| {
                        let mut entry = json!({
                            "path": a.path,
                            "type": a.kind.as_str(),
                            "sha256": a.sha256(),
                        });
                        if let (Some(chart), Json::Object(map)) = (&a.chart, &mut entry) {
                            map.insert("chart".into(), json!(chart));
                        }
                        entry
                    })
                    .collect();
                let mut entry = json!({
                    "id": s.id,
                    "name": s.name,
                    "environment": s.environment,
                    "backend": s.backend,
                    "depends_on": s.depends_on,
                    "artifacts": artifacts,
                    "acknowledged": s.acknowledged,
                });
                if !s.kubernetes_externals.is_empty() {
                    entry["kubernetes_externals"] = Json::from(s.kubernetes_externals.clone());
                }
                entry
            })
            .collect();
        json!({ "girder_manifest": MANIFEST_VERSION, "stacks": stacks })
    }

    /// Every file of the output, manifest.json last, as (relative path, bytes).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = self
            .stacks
            .iter()
            .flat_map(|s| &s.artifacts)
            .map(|a| (a.path.clone(), a.bytes.clone()))
            .collect();
        let mut manifest = serde_json::to_vec_pretty(&self.manifest()).unwrap_or_default();
        manifest.push(b'\n');
        files.push(("manifest.json".into(), manifest));
        files
    }

    /// Write the output to `out`, replacing what was there in one rename. Refuses to
    /// replace a non-empty directory that is not a girder output (no girder manifest.json).
    pub fn write(&self, out: &Path) -> Result<()> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file_name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::invalid(out.display(), "output path has no final component"))?;
        guard_existing(out)?;
        fs::create_dir_all(&parent)
            .map_err(|e| Error::io(&parent, "creating the output's parent", e))?;

        let pid = std::process::id();
        let staging = parent.join(format!(".{file_name}.girder-tmp-{pid}"));
        let retired = parent.join(format!(".{file_name}.girder-old-{pid}"));
        remove_if_present(&staging)?;
        remove_if_present(&retired)?;
        if let Err(e) = self.write_tree(&staging) {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        let had_previous = out.exists();
        if had_previous {
            fs::rename(out, &retired)
                .map_err(|e| Error::io(out, "moving the previous output aside", e))?;
        }
        if let Err(e) = fs::rename(&staging, out) {
            if had_previous {
                let _ = fs::rename(&retired, out);
            }
            let _ = fs::remove_dir_all(&staging);
            return Err(Error::io(out, "moving the new output into place", e));
        }
        if had_previous {
            fs::remove_dir_all(&retired)
                .map_err(|e| Error::io(&retired, "removing the previous output", e))?;
        }
        Ok(())
    }

    fn write_tree(&self, root: &Path) -> Result<()> {
        fs::create_dir_all(root)
            .map_err(|e| Error::io(root, "creating the staging directory", e))?;
        for (relative, bytes) in self.files() {
            let path = root.join(&relative);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, "creating a directory", e))?;
            }
            fs::write(&path, bytes).map_err(|e| Error::io(&path, "writing an artifact", e))?;
        }
        Ok(())
    }
}

fn guard_existing(out: &Path) -> Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(Error::invalid(
            out.display(),
            "output path exists and is not a directory",
        ));
    }
    let empty = fs::read_dir(out)
        .map_err(|e| Error::io(out, "reading the output directory", e))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    let manifest = out.join("manifest.json");
    let is_girder = fs::read(&manifest)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Json>(&bytes).ok())
        .is_some_and(|m| m.get("girder_manifest").is_some());
    if is_girder {
        Ok(())
    } else {
        Err(Error::invalid(
            out.display(),
            "refusing to replace a non-empty directory that is not a girder output \
             (no girder manifest.json); choose another --out",
        ))
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    if path.exists() {
        fs::remove_dir_all(path)
            .map_err(|e| Error::io(path, "removing a stale staging directory", e))?;
    }
    Ok(())
}
