//! Invariants over arbitrary input: address sanitizing, escaping, determinism.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::address::{is_identifier, terraform_name};
use girder_core::prelude::*;
use girder_core::{ConstructPath, Error, Stack};
use proptest::prelude::*;
use serde_json::json;

/// Read back a quoted HCL string literal (`"..."`) rendered inside an expression.
fn read_quoted(text: &str) -> Result<String, String> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or("not quoted")?;
    let mut unescaped = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => unescaped.push('\\'),
                Some('"') => unescaped.push('"'),
                Some('n') => unescaped.push('\n'),
                Some('r') => unescaped.push('\r'),
                Some('t') => unescaped.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    unescaped.push(char::from_u32(code).ok_or("bad escape")?);
                }
                other => return Err(format!("bad escape {other:?}")),
            },
            '"' => return Err("unescaped quote".into()),
            c if c.is_control() => return Err("raw control character".into()),
            c => unescaped.push(c),
        }
    }
    common::read_template_literal(&unescaped)
}

fn id_strategy() -> impl Strategy<Value = String> {
    // Valid construct ids: printable text with at least one ASCII alphanumeric, no '/'.
    "[a-zA-Z0-9 _.:@-]{0,10}[a-zA-Z0-9][a-zA-Zé0-9 _.-]{0,10}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_path_sanitizes_to_a_terraform_identifier(ids in prop::collection::vec(id_strategy(), 1..5)) {
        let mut path = ConstructPath::root();
        for id in &ids {
            path = path.child(id).unwrap();
        }
        let name = terraform_name(&path);
        prop_assert!(is_identifier(&name), "{name:?} from {path}");
    }

    #[test]
    fn distinct_paths_get_distinct_addresses_or_an_error(ids in prop::collection::vec(id_strategy(), 1..12)) {
        let mut stack = Stack::new("s", "dev", Backend::local()).unwrap();
        let mut root = stack.root();
        let mut addresses = std::collections::HashSet::new();
        for id in &ids {
            match root.add(id, ResourceSpec::resource("aws_eip", &json!({}))) {
                Ok(handle) => prop_assert!(addresses.insert(handle.address()), "silent reuse of {}", handle.address()),
                Err(Error::DuplicateAddress { .. } | Error::Duplicate { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }
    }

    #[test]
    fn no_user_string_becomes_an_interpolation(text in ".*", focused in "[$%{}\\\\\"a\n\t]{0,16}") {
        for s in [&text, &focused] {
            let rendered = Expr::lit(s.as_str()).to_terraform_string();
            prop_assert_eq!(common::read_template_literal(&rendered), Ok(s.clone()));

            // Inside an expression (a function argument) the literal is a quoted HCL string.
            let call = fns::lower(s.as_str()).to_terraform_string();
            let quoted = call.strip_prefix("${lower(").and_then(|c| c.strip_suffix(")}")).unwrap();
            prop_assert_eq!(read_quoted(quoted), Ok(s.clone()));

            // And as a resource argument and a map key in the synthesized document.
            let mut stack = Stack::new("s", "dev", Backend::local()).unwrap();
            stack.require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0")).unwrap();
            stack.root().add("r", ResourceSpec::resource("aws_eip", &json!({ "tags": { s.as_str(): s } }))).unwrap();
            let mut app = App::new();
            app.add_stack(stack).unwrap();
            let assembly = app.synth().unwrap();
            let doc: serde_json::Value = serde_json::from_slice(
                &assembly.artifact("terraform/s-dev/main.tf.json").unwrap().bytes).unwrap();
            let tags = doc["resource"]["aws_eip"]["r"]["tags"].as_object().unwrap();
            for (key, value) in tags {
                prop_assert_eq!(common::read_template_literal(key), Ok(s.clone()));
                prop_assert_eq!(common::read_template_literal(value.as_str().unwrap()), Ok(s.clone()));
            }
        }
    }

    #[test]
    fn synth_is_deterministic(cidrs in prop::collection::vec((0u8..255, 0u8..255), 1..20)) {
        let build = || {
            let mut stack = Stack::new("s", "dev", Backend::cloud("acme")).unwrap();
            stack.require_provider(ProviderRequirement::new("aws", "hashicorp/aws", "~> 6.0")).unwrap();
            let mut previous: Option<ResourceHandle> = None;
            for (i, (a, b)) in cidrs.iter().enumerate() {
                let mut body = Body::new().set("cidr_block", format!("10.{a}.{b}.0/24")).set("tags", json!({ "i": i.to_string(), "z": "1", "a": "2" }));
                if let Some(p) = &previous {
                    body = body.set("vpc_id", p.id());
                }
                previous = Some(stack.root().add(&format!("n{i}"), ResourceSpec::resource("aws_subnet", &body)).unwrap());
            }
            let mut app = App::new();
            app.add_stack(stack).unwrap();
            app.synth().unwrap().files()
        };
        prop_assert_eq!(build(), build());
    }
}
