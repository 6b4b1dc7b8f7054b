//! `cargo xtask codegen`: the committed girder-aws is exactly what the generator writes,
//! a few representative generated files are pinned by snapshots under
//! `snapshots/codegen/`, and the allowlist workflow (add a line, regenerate, check) works
//! on a scratch workspace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::path::{Path, PathBuf};

use xtask::codegen::{self, Options};

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn committed_code_is_what_the_generator_writes() {
    let check = Options {
        check: true,
        ..Options::default()
    };
    let plan = codegen::plan(workspace_root(), &check).unwrap();
    let differences = codegen::differences(workspace_root(), &plan);
    assert!(
        differences.is_empty(),
        "run `cargo xtask codegen` and commit:\n{}",
        differences.join("\n")
    );
    assert!(plan.types >= 100, "{} types", plan.types);
}

/// A resource with nested blocks three deep, a plain resource, a data source, a type whose
/// name collides with a prelude type, and a provider module.
#[test]
fn representative_generated_files_match_their_snapshots() {
    let check = Options {
        check: true,
        ..Options::default()
    };
    let plan = codegen::plan(workspace_root(), &check).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots/codegen");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for file in [
            "src/aws/s3_bucket_lifecycle_configuration.rs",
            "src/aws/vpc.rs",
            "src/aws/data_availability_zones.rs",
            "src/random/string.rs",
            "src/tls/mod.rs",
        ] {
            let text = &plan.files[&PathBuf::from(file)];
            insta::assert_snapshot!(file.replace('/', "__"), text);
        }
    });
}

const FULL_SCHEMA: &str = r#"{
  "format_version": "1.0",
  "provider_schemas": {
    "registry.terraform.io/acme/x": {
      "provider": {"block": {"attributes": {"token": {"type": "string", "optional": true}}}},
      "resource_schemas": {
        "x_thing": {"block": {"attributes": {
          "id": {"type": "string", "optional": true, "computed": true},
          "name": {"type": "string", "required": true}
        }}},
        "x_other": {"block": {"attributes": {"size": {"type": "number", "optional": true}}}}
      },
      "data_source_schemas": {}
    }
  }
}"#;

/// A scratch workspace holding only what codegen reads.
fn scratch(allowlist: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        workspace_root().join("rustfmt.toml"),
        dir.path().join("rustfmt.toml"),
    )
    .unwrap();
    let schema = dir.path().join(codegen::CRATE_DIR).join("schema");
    std::fs::create_dir_all(&schema).unwrap();
    std::fs::write(schema.join("allowlist.txt"), allowlist).unwrap();
    std::fs::write(dir.path().join("full.json"), FULL_SCHEMA).unwrap();
    dir
}

#[test]
fn adding_a_type_is_one_allowlist_line_and_a_regeneration() {
    let dir = scratch("provider x acme/x\nresource x_thing\n");
    let root = dir.path();
    let from = Options {
        from: Some(root.join("full.json")),
        provider_versions: vec!["x=1.4.2".into()],
        ..Options::default()
    };
    let plan = codegen::plan(root, &from).unwrap();
    codegen::write(root, &plan).unwrap();
    let schema_text =
        std::fs::read_to_string(root.join(codegen::CRATE_DIR).join("schema/x.json")).unwrap();
    assert!(
        schema_text.contains("\"provider_version\": \"1.4.2\""),
        "{schema_text}"
    );
    assert!(
        !schema_text.contains("x_other"),
        "only allowlisted types are committed"
    );
    let thing = &plan.files[&PathBuf::from("src/x/thing.rs")];
    assert!(
        thing.contains("pub fn new(name: impl Into<Value<String>>) -> Self"),
        "{thing}"
    );
    assert!(
        thing.contains("pub fn id(&self) -> Expr<String>"),
        "{thing}"
    );
    assert!(
        !thing.contains("pub id:"),
        "a resource's own id is not an argument"
    );
    let module = &plan.files[&PathBuf::from("src/x/mod.rs")];
    assert!(
        module.contains("pub const VERSION_CONSTRAINT: &str = \"~> 1.4\";"),
        "{module}"
    );

    let check = Options {
        check: true,
        ..Options::default()
    };
    let plan = codegen::plan(root, &check).unwrap();
    assert!(codegen::differences(root, &plan).is_empty());

    // One more line: --check refuses until the schema is regenerated...
    let allowlist = root.join(codegen::CRATE_DIR).join("schema/allowlist.txt");
    std::fs::write(
        &allowlist,
        "provider x acme/x\nresource x_thing\nresource x_other\n",
    )
    .unwrap();
    let err = codegen::plan(root, &check).unwrap_err();
    assert!(err.contains("lacks x_other"), "{err}");
    // ...and without a full schema to take it from, codegen says where to get one.
    let err = codegen::plan(root, &Options::default());
    if !workspace_root()
        .join("../shared/schemas/terraform")
        .is_dir()
    {
        assert!(err.unwrap_err().contains("--from"));
    }
    let plan = codegen::plan(root, &from).unwrap();
    codegen::write(root, &plan).unwrap();
    assert!(
        root.join(codegen::CRATE_DIR)
            .join("src/x/other.rs")
            .exists()
    );
    let plan = codegen::plan(root, &check).unwrap();
    assert!(codegen::differences(root, &plan).is_empty());

    // A hand edit or a leftover file is reported by --check.
    let other = root.join(codegen::CRATE_DIR).join("src/x/other.rs");
    std::fs::write(&other, "// edited\n").unwrap();
    std::fs::write(root.join(codegen::CRATE_DIR).join("src/x/old.rs"), "").unwrap();
    let differences = codegen::differences(root, &plan);
    assert_eq!(
        differences,
        [
            "changed: crates/girder-aws/src/x/other.rs",
            "stale: crates/girder-aws/src/x/old.rs"
        ]
    );
    // Removing a line drops the type, its module and its schema entry.
    std::fs::write(&allowlist, "provider x acme/x\nresource x_thing\n").unwrap();
    let plan = codegen::plan(root, &Options::default()).unwrap();
    codegen::write(root, &plan).unwrap();
    assert!(!other.exists());
    assert!(!root.join(codegen::CRATE_DIR).join("src/x/old.rs").exists());
}

#[test]
fn a_plain_terraform_schema_needs_the_provider_version() {
    let dir = scratch("provider x acme/x\nresource x_thing\n");
    let options = Options {
        from: Some(dir.path().join("full.json")),
        ..Options::default()
    };
    let err = codegen::plan(dir.path(), &options).unwrap_err();
    assert!(err.contains("--provider-version x=<version>"), "{err}");
}

#[test]
fn sensitive_and_credential_lines_reach_the_generated_types() {
    let dir = scratch(
        "provider x acme/x\nresource x_thing\n\
         sensitive resource x_thing name\ncredential provider x token\n",
    );
    let root = dir.path();
    let from = Options {
        from: Some(root.join("full.json")),
        provider_versions: vec!["x=1.4.2".into()],
        ..Options::default()
    };
    let plan = codegen::plan(root, &from).unwrap();
    let thing = &plan.files[&PathBuf::from("src/x/thing.rs")];
    assert!(thing.contains("sensitive: &[\"name\"]"), "{thing}");
    assert!(
        thing.contains(".with_schema_secrets(Self::SECRETS)"),
        "{thing}"
    );
    assert!(
        thing.contains("/// Sensitive: Terraform hides it"),
        "{thing}"
    );
    let provider = &plan.files[&PathBuf::from("src/x/provider.rs")];
    assert!(provider.contains("credentials: &[\"token\"]"), "{provider}");
    assert!(
        provider.contains(".with_schema_secrets(Provider::SECRETS)"),
        "{provider}"
    );
    // The committed schema is not rewritten: the flags live in the allowlist.
    let schema = &plan.files[&PathBuf::from("schema/x.json")];
    assert!(!schema.contains("sensitive"), "{schema}");

    // A line naming an attribute the schema lacks is an error with its line.
    let allowlist = root.join(codegen::CRATE_DIR).join("schema/allowlist.txt");
    std::fs::write(
        &allowlist,
        "provider x acme/x\nresource x_thing\nsensitive resource x_thing secret\n",
    )
    .unwrap();
    let err = codegen::plan(root, &from).unwrap_err();
    assert!(
        err.contains("allowlist.txt:3") && err.contains("no attribute `secret`"),
        "{err}"
    );
}
