//! `cargo xtask codegen`: typed L1 Rust for the provider types on the allowlist.
//!
//! Inputs (committed, under crates/girder-aws/schema): `allowlist.txt` and one trimmed
//! schema per provider (`aws.json`, ...), the `terraform providers schema -json` format cut
//! down to the allowlisted types, with its provenance. Output: crates/girder-aws/src,
//! formatted by rustfmt, never edited by hand.
//!
//! A type added to the allowlist is taken from a full schema: `--from <file or dir>`, or
//! ../shared/schemas/terraform when it is there. `--check` regenerates in memory and fails
//! on any difference from the committed files, touching nothing.

mod allowlist;
mod docs;
mod emit;
mod instances;
mod model;
mod names;
mod schema;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use allowlist::{Kind, MarkedBlock, ProviderEntry};
use model::{ModuleKind, TypeModule};
use schema::{ProviderSchema, Source};

/// The generated crate, relative to the workspace root.
pub const CRATE_DIR: &str = "crates/girder-aws";
const ALLOWLIST: &str = "schema/allowlist.txt";
/// The generated instances the conformance test walks.
const INSTANCES_FILE: &str = "tests/generated/mod.rs";
/// Full schemas used when the allowlist names a type the committed schema lacks.
const DEFAULT_SOURCE: &str = "../shared/schemas/terraform";

/// What the command was asked to do.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Compare instead of writing.
    pub check: bool,
    /// Re-trim every provider from this full schema (file or directory).
    pub from: Option<PathBuf>,
    /// `name=version` for sources that do not record their version.
    pub provider_versions: Vec<String>,
}

/// The generated files (crate-relative path -> content) and what went into them.
#[derive(Debug)]
pub struct Plan {
    pub files: BTreeMap<PathBuf, String>,
    /// `aws 6.25.0: 80 resources, 11 data sources` per provider.
    pub providers: Vec<String>,
    /// Number of generated resource and data-source types.
    pub types: usize,
    /// Where each re-trimmed provider schema came from.
    pub sources: Vec<String>,
}

impl Plan {
    /// Lines of generated Rust.
    pub fn rust_lines(&self) -> usize {
        self.files
            .iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
            .map(|(_, text)| text.lines().count())
            .sum()
    }
}

/// Build the plan: read the allowlist and schemas, trim where needed, generate, format.
pub fn plan(root: &Path, options: &Options) -> Result<Plan, String> {
    let crate_dir = root.join(CRATE_DIR);
    let allowlist_path = crate_dir.join(ALLOWLIST);
    let text = std::fs::read_to_string(&allowlist_path)
        .map_err(|e| format!("{}: {e}", allowlist_path.display()))?;
    let entries = allowlist::parse(&text, &format!("{CRATE_DIR}/{ALLOWLIST}"))?;
    let versions = parse_versions(&options.provider_versions)?;

    let mut files = BTreeMap::new();
    let mut providers = Vec::new();
    let mut sources = Vec::new();
    let mut types = 0;
    let mut lib_modules = Vec::new();
    let mut all_modules: Vec<(String, Vec<TypeModule>)> = Vec::new();
    for entry in &entries {
        let schema_rel = format!("schema/{}.json", entry.name);
        let committed_path = crate_dir.join(&schema_rel);
        let committed = match std::fs::read_to_string(&committed_path) {
            Ok(text) => Some(ProviderSchema::from_committed(
                &text,
                &format!("{CRATE_DIR}/{schema_rel}"),
            )?),
            Err(_) => None,
        };
        let missing: Vec<&str> = entry
            .types
            .iter()
            .filter(|(kind, name)| {
                committed
                    .as_ref()
                    .is_none_or(|c| !c.type_names(entry, *kind).contains(name))
            })
            .map(|(_, name)| name.as_str())
            .collect();
        let source = match (&options.from, missing.is_empty(), options.check) {
            (Some(from), _, false) => Some(Source::new(from)),
            (_, false, true) => {
                return Err(format!(
                    "{CRATE_DIR}/{schema_rel} lacks {} from the allowlist: run `cargo xtask \
                     codegen` and commit the result",
                    missing.join(", ")
                ));
            }
            (None, false, false) => {
                let default = root.join(DEFAULT_SOURCE);
                if !default.is_dir() {
                    return Err(format!(
                        "{} {} on the allowlist but not in {CRATE_DIR}/{schema_rel}; pass \
                         --from <file or directory> with a full schema (`terraform providers \
                         schema -json` output)",
                        missing.join(", "),
                        if missing.len() == 1 { "is" } else { "are" }
                    ));
                }
                Some(Source::new(&default))
            }
            _ => None,
        };
        let trimmed = match (source, committed) {
            (Some(source), _) => {
                let (document, origin) = source.document_for(entry)?;
                let version = versions.get(entry.name.as_str()).map(String::as_str);
                sources.push(format!("{} from {origin}", entry.name));
                ProviderSchema::trim(&document, entry, version, &origin)?
            }
            (None, Some(committed)) => {
                // Drop types no longer on the allowlist; keep the committed provenance.
                let document = committed.document.clone();
                ProviderSchema::trim(&document, entry, Some(&committed.version), &schema_rel).map(
                    |mut t| {
                        t.document["provenance"] = committed.document["provenance"].clone();
                        t
                    },
                )?
            }
            (None, None) => {
                return Err(format!("{CRATE_DIR}/{schema_rel} is missing"));
            }
        };
        files.insert(PathBuf::from(&schema_rel), trimmed.to_text());

        let modules = lower_provider(entry, &trimmed)?;
        let info = emit::ProviderInfo {
            name: &entry.name,
            source: &entry.source,
            version: &trimmed.version,
            schema_file: &format!("{CRATE_DIR}/{schema_rel}"),
        };
        let (resources, data) = type_counts(&modules);
        types += resources + data;
        providers.push(format!(
            "{} {}: {}, {}",
            entry.name,
            trimmed.version,
            plural(resources, "resource"),
            plural(data, "data source")
        ));
        for module in &modules {
            files.insert(
                PathBuf::from(format!("src/{}/{}.rs", entry.name, module.module)),
                emit::type_module(module, &info),
            );
        }
        files.insert(
            PathBuf::from(format!("src/{}/mod.rs", entry.name)),
            provider_module(entry, &trimmed.version, &info, &modules),
        );
        lib_modules.push((
            entry.name.clone(),
            entry.source.clone(),
            trimmed.version.clone(),
            resources,
            data,
        ));
        all_modules.push((entry.name.clone(), modules));
    }
    files.insert(PathBuf::from("src/lib.rs"), lib_rs(&lib_modules));
    let providers_for_tests: Vec<instances::ProviderModules<'_>> = all_modules
        .iter()
        .map(|(name, modules)| instances::ProviderModules { name, modules })
        .collect();
    files.insert(
        PathBuf::from(INSTANCES_FILE),
        instances::instances(&providers_for_tests),
    );
    format_rust(root, &mut files)?;
    Ok(Plan {
        files,
        providers,
        types,
        sources,
    })
}

fn parse_versions(pairs: &[String]) -> Result<BTreeMap<&str, String>, String> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
                .map(|(n, v)| (n, v.to_owned()))
                .ok_or_else(|| format!("--provider-version `{pair}`: expected NAME=VERSION"))
        })
        .collect()
}

fn lower_provider(
    entry: &ProviderEntry,
    schema: &ProviderSchema,
) -> Result<Vec<TypeModule>, String> {
    let mut modules = Vec::new();
    let mut provider_block = schema.provider_schema(entry)?.block;
    apply_marks(entry, &MarkedBlock::Provider, &mut provider_block)?;
    modules.push(model::lower(
        ModuleKind::Provider,
        &entry.name,
        &entry.name,
        &provider_block,
    )?);
    let mut ordered: Vec<&(Kind, String)> = entry.types.iter().collect();
    ordered.sort();
    for (kind, name) in ordered {
        let mut type_schema = schema
            .type_schema(entry, *kind, name)?
            .ok_or_else(|| format!("the trimmed schema of {} lacks {name}", entry.name))?;
        apply_marks(
            entry,
            &MarkedBlock::Type(*kind, name.clone()),
            &mut type_schema.block,
        )?;
        modules.push(
            model::lower(kind.module_kind(), &entry.name, name, &type_schema.block)
                .map_err(|e| format!("{name}: {e}"))?,
        );
    }
    let mut seen = BTreeMap::new();
    for module in &modules {
        if let Some(other) = seen.insert(module.module.clone(), module.tf_type.clone()) {
            return Err(format!(
                "`{}` and `{other}` would both generate module `{}`",
                module.tf_type, module.module
            ));
        }
    }
    Ok(modules)
}

/// Apply the allowlist's `sensitive` / `credential` lines for one block.
fn apply_marks(
    entry: &ProviderEntry,
    block: &MarkedBlock,
    schema: &mut schema::Block,
) -> Result<(), String> {
    for mark in entry.marks_for(block) {
        for path in &mark.paths {
            schema.mark(path, mark.marking).map_err(|e| {
                let what = match block {
                    MarkedBlock::Provider => format!("provider {}", entry.name),
                    MarkedBlock::Type(_, name) => name.clone(),
                };
                format!("{}: {what}: {e}", mark.at)
            })?;
        }
    }
    Ok(())
}

/// `~> MAJOR.MINOR` of the version the code was generated from: the attributes exist
/// from that release on, and a new major may remove them.
fn version_constraint(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("~> {major}.{minor}"),
        _ => format!(">= {version}"),
    }
}

fn provider_module(
    entry: &ProviderEntry,
    version: &str,
    info: &emit::ProviderInfo<'_>,
    modules: &[TypeModule],
) -> String {
    let mut out = emit::header(info.schema_file, &entry.source, version);
    let (resources, data) = type_counts(modules);
    let _ = write!(
        out,
        "//! Provider `{name}` ({source} {version}): {resources} and {data}.\n//!\n\
         //! Resource `{name}_<type>` is the config struct `<Type>` (module `<type>`) with the \
         handle\n//! `<Type>Handle`; data source `{name}_<type>` is `Data<Type>`. Require the \
         provider with\n//! [`requirement`] and configure it with [`Provider`].\n\n\
         use girder_core::terraform::ProviderRequirement;\n\n\
         /// The provider's local name, the prefix of its types.\npub const NAME: &str = \"{name}\";\n\
         /// The registry source.\npub const SOURCE: &str = \"{source}\";\n\
         /// The provider version the types were generated from.\npub const VERSION: &str = \"{version}\";\n\
         /// The version constraint the generated types need.\n\
         pub const VERSION_CONSTRAINT: &str = \"{constraint}\";\n\n\
         /// The `required_providers` entry for these types.\n\
         pub fn requirement() -> ProviderRequirement {{\n\
         ProviderRequirement::new(NAME, SOURCE, VERSION_CONSTRAINT)\n}}\n\n",
        name = entry.name,
        source = entry.source,
        resources = plural(resources, "resource"),
        data = plural(data, "data source"),
        constraint = version_constraint(version),
    );
    for module in modules {
        let root = module.root();
        let _ = writeln!(out, "pub mod {};", module.module);
        match module.kind {
            ModuleKind::Provider => {
                let _ = writeln!(out, "pub use {}::{};", module.module, root.config_name);
            }
            _ => {
                let _ = writeln!(
                    out,
                    "pub use {}::{{{}, {}}};",
                    module.module, root.config_name, root.ref_name
                );
            }
        }
    }
    out
}

/// How many resources and data sources the modules generate.
fn type_counts(modules: &[TypeModule]) -> (usize, usize) {
    let count = |kind| modules.iter().filter(|m| m.kind == kind).count();
    (count(ModuleKind::Resource), count(ModuleKind::Data))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn lib_rs(providers: &[(String, String, String, usize, usize)]) -> String {
    let mut out = String::from(
        "// @generated by `cargo xtask codegen`. Do not edit: change\n\
         // crates/girder-aws/schema/allowlist.txt or the generator in xtask/src/codegen.\n\n\
         //! girder-aws: typed L1 resources and data sources, one Rust type per provider type,\n\
         //! generated from the providers' own schemas (see ARCHITECTURE.md).\n//!\n\
         //! Each type has a config struct (required arguments in `new`, optional ones as\n\
         //! setters, nested blocks as typed structs) that `Scope::add` accepts, and a handle\n\
         //! with a typed getter per attribute, computed ones included (`vpc.id()`,\n\
         //! `bucket.arn()`). Every argument takes a literal or an `Expr`.\n//!\n\
         //! | module | provider | version | resources | data sources |\n\
         //! |---|---|---|---|---|\n",
    );
    for (name, source, version, resources, data) in providers {
        let _ = writeln!(
            out,
            "//! | [`{name}`] | `{source}` | {version} | {resources} | {data} |"
        );
    }
    out.push_str(
        "\n// Setters and getters carry the providers' attribute names (`from_port`, `is_ipv6`,\n\
         // `add`), which Rust naming lints would otherwise flag.\n\
         #![allow(clippy::wrong_self_convention, clippy::should_implement_trait)]\n\n",
    );
    for (name, ..) in providers {
        let _ = writeln!(out, "pub mod {name};");
    }
    out
}

/// Format the generated Rust with the workspace's rustfmt settings.
fn format_rust(root: &Path, files: &mut BTreeMap<PathBuf, String>) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let mut paths = Vec::new();
    for (rel, text) in files.iter() {
        if rel.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let path = dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        paths.push((rel.clone(), path));
    }
    let output = Command::new("rustfmt")
        .arg("--edition")
        .arg("2024")
        .arg("--config-path")
        .arg(root.join("rustfmt.toml"))
        .args(paths.iter().map(|(_, p)| p))
        .output()
        .map_err(|e| format!("running rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt rejected the generated code (a generator bug):\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    for (rel, path) in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.insert(rel, text);
    }
    Ok(())
}

/// Files that differ from the plan, and committed generated files the plan no longer has.
pub fn differences(root: &Path, plan: &Plan) -> Vec<String> {
    let crate_dir = root.join(CRATE_DIR);
    let mut out = Vec::new();
    for (rel, text) in &plan.files {
        match std::fs::read_to_string(crate_dir.join(rel)) {
            Ok(existing) if existing == *text => {}
            Ok(_) => out.push(format!("changed: {CRATE_DIR}/{}", rel.display())),
            Err(_) => out.push(format!("missing: {CRATE_DIR}/{}", rel.display())),
        }
    }
    for rel in generated_on_disk(&crate_dir) {
        if !plan.files.contains_key(&rel) {
            out.push(format!("stale: {CRATE_DIR}/{}", rel.display()));
        }
    }
    out
}

/// Write the plan: changed files only, stale generated files removed.
pub fn write(root: &Path, plan: &Plan) -> Result<usize, String> {
    let crate_dir = root.join(CRATE_DIR);
    let mut written = 0;
    for (rel, text) in &plan.files {
        let path = crate_dir.join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|existing| existing == *text) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written += 1;
    }
    for rel in generated_on_disk(&crate_dir) {
        if !plan.files.contains_key(&rel) {
            let path = crate_dir.join(&rel);
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            written += 1;
        }
    }
    remove_empty_dirs(&crate_dir.join("src"));
    remove_empty_dirs(&crate_dir.join("tests"));
    Ok(written)
}

/// Every file under src/ and tests/generated/, and every schema/*.json: all generated.
fn generated_on_disk(crate_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(&crate_dir.join("src"), crate_dir, &mut out);
    walk(&crate_dir.join("tests/generated"), crate_dir, &mut out);
    if let Ok(entries) = std::fs::read_dir(crate_dir.join("schema")) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                if let Ok(rel) = path.strip_prefix(crate_dir) {
                    out.push(rel.to_owned());
                }
            }
        }
    }
    out.sort();
    out
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push(rel.to_owned());
        }
    }
}

fn remove_empty_dirs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_empty_dirs(&path);
            // Fails (and is meant to) when the directory still has files.
            let _ = std::fs::remove_dir(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_allow_later_minors_of_the_same_major() {
        assert_eq!(version_constraint("6.25.0"), "~> 6.25");
        assert_eq!(version_constraint("0.71.0"), "~> 0.71");
        assert_eq!(version_constraint("7"), ">= 7");
    }

    #[test]
    fn provider_versions_parse() {
        let v = vec!["aws=6.26.0".to_owned()];
        assert_eq!(parse_versions(&v).unwrap()["aws"], "6.26.0");
        assert!(parse_versions(&["aws".to_owned()]).is_err());
    }
}
