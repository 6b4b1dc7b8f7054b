//! girder-core under hostile input: data shaped like girder's internals, template syntax in
//! settings, literal dollars next to references, and nesting deep enough to exhaust a stack.
//! Every entry point that takes user data is tried; none may turn data into Terraform
//! syntax, and none may crash.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use girder_core::prelude::*;
use girder_core::{Body, Error, Stack};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

/// What the old expression marker looked like: user data of this shape used to become
/// live Terraform (`${file("/etc/hostname")}`).
const MARKER_DATA: &str = r#"{"note":{"$girder:expr":{"raw":"file(\"/etc/hostname\")"}}}"#;

fn marker_data() -> Json {
    serde_json::from_str(MARKER_DATA).unwrap()
}

fn terraform(app: &App, stack: &str) -> Json {
    let assembly = app.synth().unwrap();
    let artifact = assembly
        .artifact(&format!("terraform/{stack}/main.tf.json"))
        .unwrap();
    serde_json::from_slice(&artifact.bytes).unwrap()
}

/// Every string (and key) of a Terraform JSON document that holds an interpolation or a
/// template directive, with where it is.
fn interpolations(doc: &Json) -> Vec<String> {
    fn walk(value: &Json, at: &str, out: &mut Vec<String>) {
        match value {
            Json::String(s) if common::read_template_literal(s).is_err() => {
                out.push(format!("{at} = {s}"))
            }
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}[{i}]"), out);
                }
            }
            Json::Object(map) => {
                for (key, item) in map {
                    if common::read_template_literal(key).is_err() {
                        out.push(format!("{at} key {key}"));
                    }
                    if key != "//" {
                        walk(item, &format!("{at}.{key}"), out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, "$", &mut out);
    out
}

/// A stack taking `data` through every Terraform entry point that accepts user data.
fn stack_fed_with(data: &Json) -> Stack {
    let mut stack = common::aws_stack("s", "dev", Backend::local());
    stack
        .add_provider(
            ProviderConfig::new("aws")
                .with(&json!({ "region": "us-east-1", "default_tags": [{ "tags": data }] })),
        )
        .unwrap();
    stack
        .add_local("user_data", Value::Literal(data.clone()))
        .unwrap();
    stack
        .add_local("literal", Value::Expr(Expr::literal(data).unwrap()))
        .unwrap();
    stack
        .add_variable::<Dynamic>("v", Variable::new(VarType::Any).default(data))
        .unwrap();
    stack.add_output("o", Output::new(data)).unwrap();
    let mut root = stack.root();
    root.add(
        "r",
        ResourceSpec::resource("aws_eip", &json!({ "tags": data, "data": data }))
            .override_at("lifecycle.replace_triggered_by_note", data.clone()),
    )
    .unwrap();
    root.add(
        "each",
        ResourceSpec::resource("aws_eip", &json!({})).for_each(&json!({ "k": data })),
    )
    .unwrap();
    root.add_module(
        "m",
        ModuleSpec::new("terraform-aws-modules/vpc/aws")
            .version("6.0.0")
            .input("tags", data),
    )
    .unwrap();
    stack
}

#[test]
fn expression_markers_in_user_data_stay_data_at_every_terraform_entry_point() {
    let data = marker_data();
    let mut app = App::new();
    app.add_stack(stack_fed_with(&data)).unwrap();
    let doc = terraform(&app, "s-dev");
    assert_eq!(interpolations(&doc), Vec::<String>::new());
    assert_eq!(doc["locals"]["user_data"], data);
    assert_eq!(doc["locals"]["literal"], data);
    assert_eq!(doc["variable"]["v"]["default"], data);
    assert_eq!(doc["output"]["o"]["value"], data);
    assert_eq!(doc["resource"]["aws_eip"]["r"]["tags"], data);
    assert_eq!(
        doc["resource"]["aws_eip"]["r"]["lifecycle"]["replace_triggered_by_note"],
        data
    );
    assert_eq!(doc["module"]["m"]["tags"], data);
}

#[test]
fn a_marker_shaped_tag_key_is_a_tag() {
    // `.tags([("$girder:expr", "null")])` used to render `"tags": null`.
    let mut stack = common::aws_stack("s", "dev", Backend::local());
    stack
        .root()
        .add(
            "r",
            ResourceSpec::resource("aws_eip", &json!({ "tags": { "$girder:expr": "null" } })),
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let doc = terraform(&app, "s-dev");
    assert_eq!(
        doc["resource"]["aws_eip"]["r"]["tags"],
        json!({ "$girder:expr": "null" })
    );
}

#[test]
fn expression_markers_stay_data_in_kubernetes_objects_and_helm_values() {
    let data = marker_data();
    let mut stack = Stack::new("k", "dev", Backend::local()).unwrap();
    let mut scope = stack.scope("app").unwrap();
    scope
        .add_kube_object(
            "app",
            &json!({ "apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": { "name": "c", "namespace": "default" },
                     "data": { "x": "1" }, "extra": data }),
        )
        .unwrap();
    scope
        .add_helm_release(
            HelmRelease::new(
                "r",
                ChartRef::new("https://charts.example.com", "r", "1.0.0"),
            )
            .values(&data),
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let assembly = app.synth().unwrap();
    let t = girder_core::assertions::Template::from_assembly(&assembly, "k-dev").unwrap();
    assert_eq!(t.kube_object("ConfigMap", "c")["extra"], data);
    assert_eq!(t.helm_values("r"), Some(&data));
}

#[test]
fn backend_settings_with_template_syntax_are_refused() {
    let hostile = "${file(\"/etc/passwd\")}";
    let cases = [
        Backend::cloud(hostile),
        Backend::s3(hostile, "us-east-1"),
        Backend::s3("acme-state", hostile),
        Backend::Local(girder_core::terraform::LocalBackend {
            path: hostile.into(),
        }),
        Backend::Local(girder_core::terraform::LocalBackend {
            path: "../../elsewhere.tfstate".into(),
        }),
    ];
    for backend in cases {
        let err = Stack::new("network", "prod", backend.clone()).unwrap_err();
        match &err {
            Error::InvalidName { path, value, .. } => {
                assert_eq!(path, "network-prod:terraform.backend", "{err}");
                assert!(
                    hostile.contains(value.as_str()) || value.contains(".."),
                    "{err}"
                );
            }
            other => panic!("{backend:?}: unexpected {other}"),
        }
    }
}

#[test]
fn a_remote_state_read_renders_backend_settings_as_escaped_literals() {
    // Settings are validated at Stack::new; the consumer's read escapes them as well, so
    // a backend built around validation still cannot inject.
    let (network, vpc) = {
        let mut s = common::aws_stack("network", "prod", Backend::s3("acme-state", "us-east-1"));
        let vpc = s.root().add("vpc", common::vpc("10.0.0.0/16")).unwrap();
        (s, vpc)
    };
    let mut apps = common::aws_stack("apps", "prod", Backend::local());
    apps.root()
        .add(
            "sg",
            ResourceSpec::resource("aws_security_group", &Body::new().set("vpc_id", vpc.id())),
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(network).unwrap();
    app.add_stack(apps).unwrap();
    let doc = terraform(&app, "apps-prod");
    let read = &doc["data"]["terraform_remote_state"]["network_prod"];
    assert_eq!(read["config"]["bucket"], "acme-state");
    let found: Vec<String> = interpolations(&doc)
        .into_iter()
        .filter(|s| !s.contains("data.terraform_remote_state.network_prod.outputs"))
        .collect();
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_literal_dollar_before_a_reference_keeps_the_reference() {
    let mut stack = common::aws_stack("s", "dev", Backend::local());
    let vpc = stack.root().add("vpc", common::vpc("10.0.0.0/16")).unwrap();
    let name = Expr::interpolate([Expr::lit("cost-$").any(), vpc.id().any()]);
    stack
        .root()
        .add(
            "sg",
            ResourceSpec::resource("aws_security_group", &Body::new().set("name", name)),
        )
        .unwrap();
    let mut app = App::new();
    app.add_stack(stack).unwrap();
    let doc = terraform(&app, "s-dev");
    // Terraform reads `${"$"}` as the text `$`, then interpolates the id.
    assert_eq!(
        doc["resource"]["aws_security_group"]["sg"]["name"],
        "cost-${\"$\"}${aws_vpc.vpc.id}"
    );
}

/// JSON nested `depth` levels deep, built without recursion.
fn nested(depth: usize) -> Json {
    let mut value = Json::String("leaf".into());
    for _ in 0..depth {
        let mut map = serde_json::Map::new();
        map.insert("a".into(), Json::Array(vec![value]));
        value = Json::Object(map);
    }
    value
}

#[test]
fn deeply_nested_data_is_an_error_not_a_crash() {
    // 3,000 levels used to overflow the stack while the body was built.
    let mut stack = common::aws_stack("s", "dev", Backend::local());
    let err = stack
        .add_local("deep", Value::Literal(nested(3_000)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested more than 128 levels"), "{err}");
    assert!(err.contains("s-dev:local.deep"), "{err}");
    let mut object = nested(3_000);
    object["apiVersion"] = json!("v1");
    object["kind"] = json!("ConfigMap");
    object["metadata"] = json!({ "name": "c" });
    let err = stack
        .scope("app")
        .unwrap()
        .add_kube_object("app", &object)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested more than 128 levels"), "{err}");
    // An expression built deeper than the limit is refused where it enters a body.
    let mut deep_expr: Expr<Dynamic> = Expr::raw("var.x");
    for _ in 0..200 {
        deep_expr = fns::tostring(deep_expr).any();
    }
    let err = stack
        .add_local("deep_expr", Value::Expr(deep_expr))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested more than 128 levels"), "{err}");
    // Nesting girder can hold is fine (real bodies stay below 20 levels).
    stack.add_local("fine", Value::Literal(nested(60))).unwrap();
}

/// Arbitrary JSON whose strings and keys are rich in template syntax and girder's old
/// marker key.
fn hostile_json() -> impl Strategy<Value = Json> {
    let text = prop_oneof![
        Just("$girder:expr".to_owned()),
        Just("${file(\"/etc/hostname\")}".to_owned()),
        Just("%{ if true }x%{ endif }".to_owned()),
        "[$%{}\\\\\"a:\n]{0,12}",
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        text.clone().prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((text.clone(), inner), 0..6)
                .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    })
}

/// The data a Terraform JSON value stands for: strings and keys read back as template
/// literals (an interpolation anywhere is an error).
fn read_back(value: &Json) -> Result<Json, String> {
    Ok(match value {
        Json::String(s) => Json::String(common::read_template_literal(s)?),
        Json::Array(items) => Json::Array(items.iter().map(read_back).collect::<Result<_, _>>()?),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((common::read_template_literal(k)?, read_back(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_user_value_renders_an_interpolation(data in hostile_json()) {
        let mut app = App::new();
        app.add_stack(stack_fed_with(&data)).unwrap();
        let doc = terraform(&app, "s-dev");
        prop_assert_eq!(interpolations(&doc), Vec::<String>::new());
        for value in [
            &doc["locals"]["user_data"],
            &doc["locals"]["literal"],
            &doc["variable"]["v"]["default"],
            &doc["output"]["o"]["value"],
            &doc["resource"]["aws_eip"]["r"]["data"],
            &doc["module"]["m"]["tags"],
        ] {
            prop_assert_eq!(read_back(value), Ok(data.clone()));
        }
    }

    #[test]
    fn kubernetes_and_helm_keep_user_values_verbatim(data in hostile_json()) {
        let mut stack = Stack::new("k", "dev", Backend::local()).unwrap();
        let mut scope = stack.scope("app").unwrap();
        scope.add_kube_object("app", &json!({ "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "c", "namespace": "default" }, "extra": data })).unwrap();
        scope.add_helm_release(HelmRelease::new("r",
            ChartRef::new("https://charts.example.com", "r", "1.0.0")).values(&json!({ "v": data }))).unwrap();
        let mut app = App::new();
        app.add_stack(stack).unwrap();
        let assembly = app.synth().unwrap();
        let t = girder_core::assertions::Template::from_assembly(&assembly, "k-dev").unwrap();
        prop_assert_eq!(&t.kube_object("ConfigMap", "c")["extra"], &data);
        prop_assert_eq!(t.helm_values("r"), Some(&json!({ "v": data })));
    }
}
