#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! Every generated type against the committed schema it was generated from.
//!
//! `generated` (written by `cargo xtask codegen`) builds each resource, data source and
//! provider block through the generated API, once with required arguments only and once
//! with every argument and block set. This test synthesizes both through girder-core and
//! walks the Terraform JSON against crates/girder-aws/schema/*.json: every key must be a
//! settable attribute or block of the schema, values must have the schema's shape, every
//! required argument must be present, and the full instances must set every argument the
//! schema lets a user set. When ../shared/tools/tfcheck is there, it checks the same
//! output against the full provider schemas too.

mod generated;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use girder_core::terraform::{Backend, ProviderRequirement};
use girder_core::{App, Assembly, Stack};
use serde_json::Value as Json;

const META_ARGUMENTS: &[&str] = &["count", "for_each", "depends_on", "provider", "lifecycle"];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Provider name -> its schema (`provider`, `resource_schemas`, `data_source_schemas`).
fn schemas() -> BTreeMap<String, Json> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(crate_dir().join("schema")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let document: Json =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let provider = document["provider_schemas"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone();
        out.insert(name, provider);
    }
    out
}

fn requirements() -> Vec<ProviderRequirement> {
    vec![
        girder_aws::aws::requirement(),
        girder_aws::random::requirement(),
        girder_aws::tls::requirement(),
        girder_aws::tfe::requirement(),
        girder_aws::kubernetes::requirement(),
        girder_aws::helm::requirement(),
    ]
}

/// Build and synthesize on a thread with a large stack: in debug builds every call of a
/// long setter chain keeps its own copy of the struct on the stack, and the full instance
/// of the aws provider block (over 300 `endpoints` arguments) chains hundreds of them.
fn synth(full: bool) -> Assembly {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || build_and_synth(full))
        .unwrap()
        .join()
        .unwrap()
}

fn build_and_synth(full: bool) -> Assembly {
    let env = if full { "full" } else { "minimal" };
    let mut stack = Stack::new("conformance", env, Backend::local()).unwrap();
    for requirement in requirements() {
        stack.require_provider(requirement).unwrap();
    }
    let providers = if full {
        generated::full_providers()
    } else {
        generated::minimal_providers()
    };
    for provider in providers {
        stack.add_provider(provider).unwrap();
    }
    let mut scope = stack.scope("l1").unwrap();
    if full {
        generated::add_full(&mut scope).unwrap();
    } else {
        generated::add_minimal(&mut scope).unwrap();
    }
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    app.synth().unwrap()
}

fn main_tf(assembly: &Assembly) -> Json {
    let artifact = assembly
        .stacks()
        .first()
        .unwrap()
        .artifacts
        .iter()
        .find(|a| a.path.ends_with("main.tf.json"))
        .unwrap();
    serde_json::from_slice(&artifact.bytes).unwrap()
}

/// What the walk demands beyond "known and well-shaped".
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Required arguments present.
    Minimal,
    /// Every settable argument present too.
    Full,
}

struct Walk {
    mode: Mode,
    problems: Vec<String>,
}

impl Walk {
    fn problem(&mut self, at: &str, message: impl std::fmt::Display) {
        self.problems.push(format!("{at}: {message}"));
    }

    /// A block body against a block schema. `resource_root` skips meta-arguments and the
    /// resource `id`, which the generated types leave out on purpose.
    fn block(&mut self, at: &str, body: &Json, schema: &Json, resource_root: bool) {
        let Some(body) = body.as_object() else {
            return self.problem(at, format!("expected an object, found {body}"));
        };
        let attributes = schema["attributes"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let blocks = schema["block_types"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (key, value) in body {
            let here = format!("{at}.{key}");
            if resource_root && META_ARGUMENTS.contains(&key.as_str()) {
                continue;
            }
            if let Some(attribute) = attributes.get(key) {
                let settable = attribute["required"] == true || attribute["optional"] == true;
                if !settable {
                    self.problem(&here, "a computed-only attribute is set");
                }
                self.attribute(&here, value, attribute);
            } else if let Some(block) = blocks.get(key) {
                self.nested_block(&here, value, block);
            } else {
                self.problem(&here, "not in the schema");
            }
        }
        for (key, attribute) in &attributes {
            let required = attribute["required"] == true;
            let optional = attribute["optional"] == true;
            let skipped = resource_root && key == "id";
            let wanted = required || (self.mode == Mode::Full && optional && !skipped);
            if wanted && !body.contains_key(key) {
                self.problem(&format!("{at}.{key}"), "missing");
            }
        }
        for (key, block) in &blocks {
            let required = block["min_items"].as_u64().unwrap_or(0) > 0;
            if (required || self.mode == Mode::Full) && !body.contains_key(key) {
                self.problem(&format!("{at}.{key}"), "block missing");
            }
        }
    }

    fn attribute(&mut self, at: &str, value: &Json, attribute: &Json) {
        if let Some(nested) = attribute.get("nested_type") {
            let as_block = serde_json::json!({
                "nesting_mode": nested["nesting_mode"],
                "block": {"attributes": nested["attributes"]},
            });
            self.nested_block(at, value, &as_block);
        } else {
            self.typed(at, value, &attribute["type"]);
        }
    }

    fn nested_block(&mut self, at: &str, value: &Json, block: &Json) {
        let schema = &block["block"];
        match block["nesting_mode"].as_str().unwrap_or_default() {
            "single" | "group" => self.block(at, value, schema, false),
            "map" => match value.as_object() {
                Some(map) => {
                    for (key, item) in map {
                        self.block(&format!("{at}.{key}"), item, schema, false);
                    }
                }
                None => self.problem(at, "expected an object of blocks"),
            },
            _ => match value.as_array() {
                Some(items) => {
                    let min = block["min_items"].as_u64().unwrap_or(0) as usize;
                    let max = block["max_items"].as_u64().map(|m| m as usize);
                    if items.len() < min || max.is_some_and(|m| items.len() > m) {
                        self.problem(
                            at,
                            format!("{} blocks, schema allows {min}..{max:?}", items.len()),
                        );
                    }
                    for (i, item) in items.iter().enumerate() {
                        self.block(&format!("{at}[{i}]"), item, schema, false);
                    }
                }
                None => self.problem(at, format!("expected a list of blocks, found {value}")),
            },
        }
    }

    fn typed(&mut self, at: &str, value: &Json, ty: &Json) {
        let ok = match ty {
            Json::String(primitive) => match primitive.as_str() {
                "string" => value.is_string(),
                "number" => value.is_number(),
                "bool" => value.is_boolean(),
                _ => true,
            },
            Json::Array(parts) => match parts[0].as_str().unwrap_or_default() {
                "list" | "set" => match value.as_array() {
                    Some(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.typed(&format!("{at}[{i}]"), item, &parts[1]);
                        }
                        !items.is_empty()
                    }
                    None => false,
                },
                "map" => match value.as_object() {
                    Some(map) => {
                        for (key, item) in map {
                            self.typed(&format!("{at}.{key}"), item, &parts[1]);
                        }
                        true
                    }
                    None => false,
                },
                "object" => match value.as_object() {
                    Some(map) => {
                        let fields = parts[1].as_object().cloned().unwrap_or_default();
                        let optional: Vec<&str> = parts
                            .get(2)
                            .and_then(Json::as_array)
                            .map(|o| o.iter().filter_map(Json::as_str).collect())
                            .unwrap_or_default();
                        for (key, item) in map {
                            match fields.get(key) {
                                Some(field_ty) => {
                                    self.typed(&format!("{at}.{key}"), item, field_ty)
                                }
                                None => self.problem(
                                    &format!("{at}.{key}"),
                                    "not a field of the object type",
                                ),
                            }
                        }
                        for key in fields.keys() {
                            if !map.contains_key(key) && !optional.contains(&key.as_str()) {
                                self.problem(&format!("{at}.{key}"), "object field missing");
                            }
                        }
                        true
                    }
                    None => false,
                },
                _ => true,
            },
            _ => true,
        };
        if !ok {
            self.problem(at, format!("{value} does not have type {ty}"));
        }
    }
}

/// Walk a whole main.tf.json; returns the problems and how many blocks were walked.
fn walk(document: &Json, mode: Mode) -> (Vec<String>, usize) {
    let schemas = schemas();
    let mut walk = Walk {
        mode,
        problems: Vec::new(),
    };
    let mut blocks = 0;
    for (section, key) in [
        ("resource", "resource_schemas"),
        ("data", "data_source_schemas"),
    ] {
        for (rtype, instances) in document[section].as_object().cloned().unwrap_or_default() {
            let provider = rtype.split('_').next().unwrap();
            let schema = &schemas[provider][key][&rtype]["block"];
            assert!(!schema.is_null(), "{rtype} is not in the committed schema");
            for (name, body) in instances.as_object().unwrap() {
                walk.block(&format!("{section}.{rtype}.{name}"), body, schema, true);
                blocks += 1;
            }
        }
    }
    for (name, body) in document["provider"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        let schema = &schemas[&name]["provider"]["block"];
        walk.block(&format!("provider.{name}"), &body, schema, false);
        blocks += 1;
    }
    (walk.problems, blocks)
}

fn generated_type_count() -> usize {
    schemas()
        .values()
        .map(|p| {
            p["resource_schemas"].as_object().map_or(0, |m| m.len())
                + p["data_source_schemas"].as_object().map_or(0, |m| m.len())
        })
        .sum()
}

#[test]
fn minimal_instances_set_exactly_the_required_arguments_the_schema_knows() {
    let document = main_tf(&synth(false));
    let (problems, blocks) = walk(&document, Mode::Minimal);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(blocks, generated_type_count() + requirements().len());
}

#[test]
fn full_instances_reach_every_argument_and_block_of_the_schema() {
    let document = main_tf(&synth(true));
    let (problems, blocks) = walk(&document, Mode::Full);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(blocks, generated_type_count() + requirements().len());
}

#[test]
fn the_walk_catches_unknown_keys_wrong_shapes_and_missing_arguments() {
    let mut document = main_tf(&synth(false));
    let subnet = &mut document["resource"]["aws_subnet"]["l1_aws_subnet"];
    subnet["cidr_blok"] = Json::from("10.0.0.0/24");
    subnet.as_object_mut().unwrap().remove("vpc_id");
    document["resource"]["aws_lb_listener"]["l1_aws_lb_listener"]["default_action"] =
        serde_json::json!({"type": "forward"});
    let (problems, _) = walk(&document, Mode::Minimal);
    let text = problems.join("\n");
    assert!(
        text.contains("l1_aws_subnet.cidr_blok: not in the schema"),
        "{text}"
    );
    assert!(text.contains("l1_aws_subnet.vpc_id: missing"), "{text}");
    assert!(
        text.contains("l1_aws_lb_listener.default_action: expected a list of blocks"),
        "{text}"
    );
    let (problems, _) = walk(&main_tf(&synth(false)), Mode::Full);
    assert!(
        problems.iter().any(|p| p.ends_with("missing")),
        "minimal is not full"
    );
}

/// The same output through the independent checker, against the full provider schemas.
#[test]
fn tfcheck_accepts_every_generated_type() {
    let tfcheck = crate_dir().join("../../../shared/tools/tfcheck/tfcheck");
    if !tfcheck.exists() {
        eprintln!("skipped: ../shared/tools/tfcheck is not beside this clone");
        return;
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("girder-aws-conformance");
    for full in [false, true] {
        let dir = out.join(if full { "full" } else { "minimal" });
        synth(full).write(&dir).unwrap();
        let output = std::process::Command::new(&tfcheck)
            .arg(dir.join("terraform"))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "tfcheck found problems:\n{report}");
        assert!(report.contains(" 0 problems"), "{report}");
    }
}
