//! The Rust model of one generated module: its objects (the root resource and every
//! nested block or object type) with Rust names chosen and collisions resolved.

use std::collections::BTreeSet;

use super::allowlist::Kind;
use super::docs::doc_lines;
use super::names::{camel, snake_ident};
use super::schema::{Attribute, Block, TypeExpr};

/// What a module is generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModuleKind {
    Resource,
    Data,
    /// The provider configuration block.
    Provider,
}

/// One generated file: a resource, a data source or the provider configuration.
#[derive(Debug)]
pub(crate) struct TypeModule {
    pub(crate) kind: ModuleKind,
    /// `aws_vpc`, or the provider name for the provider module.
    pub(crate) tf_type: String,
    /// `vpc`, `data_ami`, `provider`.
    pub(crate) module: String,
    /// `objects[0]` is the root.
    pub(crate) objects: Vec<Object>,
}

impl TypeModule {
    pub(crate) fn root(&self) -> &Object {
        &self.objects[0]
    }

    /// Dotted paths of the sensitive attributes and of the credential arguments, in
    /// field order; a map-nested block's key is `*`.
    pub(crate) fn secret_paths(&self) -> (Vec<String>, Vec<String>) {
        let mut sensitive = Vec::new();
        let mut credentials = Vec::new();
        self.collect_secret_paths(0, "", &mut sensitive, &mut credentials, 0);
        (sensitive, credentials)
    }

    fn collect_secret_paths(
        &self,
        object: usize,
        prefix: &str,
        sensitive: &mut Vec<String>,
        credentials: &mut Vec<String>,
        depth: usize,
    ) {
        // Schemas are trees; the bound only guards against a malformed model.
        if depth > 32 {
            return;
        }
        for field in &self.objects[object].fields {
            let path = if prefix.is_empty() {
                field.tf_name.clone()
            } else {
                format!("{prefix}.{}", field.tf_name)
            };
            if field.sensitive {
                sensitive.push(path);
                continue;
            }
            if field.credential {
                credentials.push(path.clone());
            }
            if let Shape::Block {
                nesting, object, ..
            } = &field.shape
            {
                let inner = if *nesting == Nesting::Map {
                    format!("{path}.*")
                } else {
                    path
                };
                self.collect_secret_paths(*object, &inner, sensitive, credentials, depth + 1);
            }
        }
    }
}

/// A root or nested object: a config struct (when it can be written) and a reference
/// type (the handle for the root).
#[derive(Debug)]
pub(crate) struct Object {
    pub(crate) config_name: String,
    pub(crate) ref_name: String,
    /// The Terraform path of the object inside its type (`block_device_mappings.ebs`).
    pub(crate) tf_path: String,
    pub(crate) doc: Vec<String>,
    pub(crate) fields: Vec<Field>,
    /// Whether the object appears as an argument, so a config struct is generated.
    pub(crate) config: bool,
}

impl Object {
    /// The fields written in the config struct.
    pub(crate) fn config_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.in_config)
    }
}

/// Whether an argument must, may or cannot be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
    Computed,
}

/// How a nested block (or nested attribute) repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// The Rust-side shape of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Attr(Ty),
    Block {
        nesting: Nesting,
        /// A list / set block with `max_items = 1`.
        max_one: bool,
        object: usize,
    },
}

/// An attribute type, objects resolved to generated objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Object(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub(crate) tf_name: String,
    /// The field, setter and getter name.
    pub(crate) rust_name: String,
    pub(crate) doc: Vec<String>,
    pub(crate) presence: Presence,
    pub(crate) shape: Shape,
    /// Written in the config struct (arguments only; never a resource's own `id`).
    pub(crate) in_config: bool,
    /// The provider marks it sensitive.
    pub(crate) sensitive: bool,
    /// A credential the provider does not mark sensitive (write-only, or named so by a
    /// `credential` line of the allowlist).
    pub(crate) credential: bool,
}

/// Names the generated code imports or defines at module level; an object may not take
/// one of them.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "Value",
    "Expr",
    "Map",
    "Number",
    "Dynamic",
    "NestedList",
    "NestedSet",
    "NestedMap",
    "IntoList",
    "IntoMap",
    "ListValue",
    "MapValue",
    "ResourceSpec",
    "ResourceHandle",
    "IntoResourceSpec",
    "Dependency",
    "Reference",
    "Serialize",
    "Json",
    "Option",
    "Vec",
    "String",
    "Box",
    "Self",
    "Default",
    "ProviderConfig",
    "SecretPaths",
    "Some",
    "None",
    "Ok",
    "Err",
    "Result",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "Extend",
    "ToString",
    "ToOwned",
    "From",
    "Into",
    "AsRef",
    "AsMut",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Debug",
    "Hash",
];

/// Method names the generated types define themselves.
const CONFIG_METHODS: &[&str] = &["new", "into_spec"];
const REF_METHODS: &[&str] = &["expr", "from", "as_ref", "dependency"];

struct Builder {
    objects: Vec<Object>,
    used_names: BTreeSet<String>,
    root_name: String,
}

/// Build the module model of one type.
pub(crate) fn lower(
    kind: ModuleKind,
    provider: &str,
    tf_type: &str,
    block: &Block,
) -> Result<TypeModule, String> {
    let stem = match kind {
        ModuleKind::Provider => "provider".to_owned(),
        _ => tf_type
            .strip_prefix(provider)
            .and_then(|s| s.strip_prefix('_'))
            .ok_or_else(|| format!("`{tf_type}` does not start with `{provider}_`"))?
            .to_owned(),
    };
    let (module, root_name) = match kind {
        ModuleKind::Resource => (snake_ident(&stem), camel(&[&stem])),
        ModuleKind::Data => (
            snake_ident(&format!("data_{stem}")),
            camel(&["data", &stem]),
        ),
        ModuleKind::Provider => ("provider".to_owned(), "Provider".to_owned()),
    };
    // `random_string` would be `String`: a prelude or imported name takes the provider.
    let root_name = if RESERVED_TYPE_NAMES.contains(&root_name.as_str()) {
        camel(&[provider, &root_name])
    } else {
        root_name
    };
    let handle_name = format!("{root_name}Handle");
    let mut builder = Builder {
        objects: Vec::new(),
        used_names: RESERVED_TYPE_NAMES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        root_name: root_name.clone(),
    };
    builder.used_names.insert(root_name.clone());
    builder.used_names.insert(handle_name.clone());
    builder.objects.push(Object {
        config_name: root_name,
        ref_name: handle_name,
        tf_path: String::new(),
        doc: doc_lines(block.description.as_deref()),
        fields: Vec::new(),
        config: true,
    });
    let fields = builder.block_fields(block, &[], true, kind == ModuleKind::Resource)?;
    builder.objects[0].fields = fields;
    Ok(TypeModule {
        kind,
        tf_type: tf_type.to_owned(),
        module,
        objects: builder.objects,
    })
}

impl Builder {
    /// Reserve a config / reference name pair for the object at `path`.
    fn names_for(&mut self, path: &[String]) -> (String, String) {
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        let base = camel(&parts);
        let mut candidates = vec![base.clone(), format!("{}{base}", self.root_name)];
        candidates.extend((2..).take(100).map(|n| format!("{base}{n}")));
        for name in candidates {
            let reference = format!("{name}Ref");
            if !self.used_names.contains(&name) && !self.used_names.contains(&reference) {
                self.used_names.insert(name.clone());
                self.used_names.insert(reference.clone());
                return (name, reference);
            }
        }
        // 100 numbered candidates cannot all be taken by one schema's finite names.
        (format!("{base}X"), format!("{base}XRef"))
    }

    fn new_object(&mut self, path: &[String], doc: Vec<String>, config: bool) -> usize {
        let (config_name, ref_name) = self.names_for(path);
        self.objects.push(Object {
            config_name,
            ref_name,
            tf_path: path.join("."),
            doc,
            fields: Vec::new(),
            config,
        });
        self.objects.len() - 1
    }

    fn block_fields(
        &mut self,
        block: &Block,
        path: &[String],
        in_config: bool,
        is_resource_root: bool,
    ) -> Result<Vec<Field>, String> {
        let mut fields = Vec::new();
        for (name, attribute) in &block.attributes {
            let presence = presence_of(attribute);
            let writable =
                in_config && presence != Presence::Computed && !(is_resource_root && name == "id");
            let child_path = child(path, name);
            let shape = match (&attribute.nested_type, &attribute.type_expr) {
                (Some(nested), _) => {
                    let nesting = nesting_of(&nested.nesting_mode, name)?;
                    let object = self.new_object(
                        &child_path,
                        doc_lines(attribute.description.as_deref()),
                        writable,
                    );
                    let nested_block = Block {
                        attributes: nested.attributes.clone(),
                        block_types: Default::default(),
                        description: None,
                    };
                    let inner = self.block_fields(&nested_block, &child_path, writable, false)?;
                    self.objects[object].fields = inner;
                    Shape::Block {
                        nesting,
                        max_one: false,
                        object,
                    }
                }
                (None, Some(type_json)) => {
                    let parsed = TypeExpr::parse(type_json)
                        .map_err(|e| format!("attribute `{}`: {e}", child_path.join(".")))?;
                    Shape::Attr(self.ty(&parsed, &child_path, writable)?)
                }
                (None, None) => {
                    return Err(format!(
                        "attribute `{}` has neither a type nor a nested type",
                        child_path.join(".")
                    ));
                }
            };
            fields.push(Field {
                tf_name: name.clone(),
                rust_name: String::new(),
                doc: doc_lines(attribute.description.as_deref()),
                presence,
                shape,
                in_config: writable,
                sensitive: attribute.sensitive,
                credential: attribute.credential || attribute.write_only,
            });
        }
        for (name, block_type) in &block.block_types {
            let child_path = child(path, name);
            let nesting = nesting_of(&block_type.nesting_mode, name)?;
            let object = self.new_object(
                &child_path,
                doc_lines(block_type.block.description.as_deref()),
                in_config,
            );
            let inner = self.block_fields(&block_type.block, &child_path, in_config, false)?;
            self.objects[object].fields = inner;
            let presence = if block_type.min_items > 0 {
                Presence::Required
            } else {
                Presence::Optional
            };
            fields.push(Field {
                tf_name: name.clone(),
                rust_name: String::new(),
                doc: doc_lines(block_type.block.description.as_deref()),
                presence,
                shape: Shape::Block {
                    nesting,
                    max_one: block_type.max_items == Some(1)
                        && matches!(nesting, Nesting::List | Nesting::Set),
                    object,
                },
                in_config,
                sensitive: false,
                credential: false,
            });
        }
        assign_rust_names(&mut fields);
        Ok(fields)
    }

    fn ty(&mut self, expr: &TypeExpr, path: &[String], writable: bool) -> Result<Ty, String> {
        Ok(match expr {
            TypeExpr::String => Ty::String,
            TypeExpr::Number => Ty::Number,
            TypeExpr::Bool => Ty::Bool,
            TypeExpr::Dynamic => Ty::Dynamic,
            TypeExpr::List(inner) => Ty::List(Box::new(self.ty(inner, path, writable)?)),
            TypeExpr::Set(inner) => Ty::Set(Box::new(self.ty(inner, path, writable)?)),
            TypeExpr::Map(inner) => Ty::Map(Box::new(self.ty(inner, path, writable)?)),
            TypeExpr::Object(attributes, optional) => {
                let object = self.new_object(path, Vec::new(), writable);
                let mut fields = Vec::new();
                for (name, inner) in attributes {
                    let child_path = child(path, name);
                    let shape = Shape::Attr(self.ty(inner, &child_path, writable)?);
                    fields.push(Field {
                        tf_name: name.clone(),
                        rust_name: String::new(),
                        doc: Vec::new(),
                        presence: if optional.contains(name) {
                            Presence::Optional
                        } else {
                            Presence::Required
                        },
                        shape,
                        in_config: writable,
                        sensitive: false,
                        credential: false,
                    });
                }
                assign_rust_names(&mut fields);
                self.objects[object].fields = fields;
                Ty::Object(object)
            }
        })
    }
}

fn child(path: &[String], name: &str) -> Vec<String> {
    let mut out = path.to_vec();
    out.push(name.to_owned());
    out
}

fn presence_of(attribute: &Attribute) -> Presence {
    if attribute.required {
        Presence::Required
    } else if attribute.optional {
        Presence::Optional
    } else {
        Presence::Computed
    }
}

fn nesting_of(mode: &str, name: &str) -> Result<Nesting, String> {
    match mode {
        "single" | "group" => Ok(Nesting::Single),
        "list" => Ok(Nesting::List),
        "set" => Ok(Nesting::Set),
        "map" => Ok(Nesting::Map),
        other => Err(format!("block `{name}` has unknown nesting mode `{other}`")),
    }
}

/// Give each field a Rust name that is an identifier, unique in its struct and clear of
/// the methods the generated types define.
fn assign_rust_names(fields: &mut [Field]) {
    let mut used: BTreeSet<String> = CONFIG_METHODS
        .iter()
        .chain(REF_METHODS)
        .map(|s| (*s).to_owned())
        .collect();
    for field in fields.iter_mut() {
        let mut name = snake_ident(&field.tf_name);
        while used.contains(&name) {
            name.push('_');
        }
        used.insert(name.clone());
        field.rust_name = name;
    }
}

impl Kind {
    pub(crate) fn module_kind(self) -> ModuleKind {
        match self {
            Kind::Resource => ModuleKind::Resource,
            Kind::Data => ModuleKind::Data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::allowlist::Marking;
    use serde_json::json;

    fn block(json: serde_json::Value) -> Block {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn names_and_presence_follow_the_schema() {
        let module = lower(
            ModuleKind::Resource,
            "aws",
            "aws_lb_listener",
            &block(json!({
                "attributes": {
                    "id": {"type": "string", "optional": true},
                    "arn": {"type": "string", "computed": true},
                    "port": {"type": "number", "optional": true},
                    "type": {"type": "string", "required": true}
                },
                "block_types": {
                    "default_action": {"nesting_mode": "list", "min_items": 1,
                        "block": {"attributes": {"type": {"type": "string", "required": true}}}},
                    "timeouts": {"nesting_mode": "single", "block": {"attributes": {}}}
                }
            })),
        )
        .unwrap();
        assert_eq!(module.module, "lb_listener");
        let root = module.root();
        assert_eq!(root.config_name, "LbListener");
        assert_eq!(root.ref_name, "LbListenerHandle");
        let config: Vec<&str> = root.config_fields().map(|f| f.rust_name.as_str()).collect();
        assert_eq!(config, ["port", "type_", "default_action", "timeouts"]);
        let all: Vec<&str> = root.fields.iter().map(|f| f.tf_name.as_str()).collect();
        assert_eq!(
            all,
            ["arn", "id", "port", "type", "default_action", "timeouts"]
        );
        assert_eq!(module.objects[1].config_name, "DefaultAction");
        assert_eq!(module.objects[1].fields[0].rust_name, "type_");
        assert_eq!(root.fields[4].presence, Presence::Required);
    }

    #[test]
    fn colliding_object_names_get_the_type_prefix() {
        let module = lower(
            ModuleKind::Data,
            "aws",
            "aws_thing",
            &block(json!({
                "attributes": {
                    "value": {"type": ["object", {"expr": "string"}], "optional": true},
                    "a_b": {"type": ["list", ["object", {"x": "string"}]], "computed": true}
                },
                "block_types": {
                    "a": {"nesting_mode": "single", "block": {"block_types": {
                        "b": {"nesting_mode": "list", "block": {}}}}}
                }
            })),
        )
        .unwrap();
        let names: Vec<&str> = module
            .objects
            .iter()
            .map(|o| o.config_name.as_str())
            .collect();
        // `value` would shadow girder's `Value`; `a.b` and `a_b` both camel-case to `AB`.
        assert_eq!(
            names,
            ["DataThing", "AB", "DataThingValue", "A", "DataThingAB"]
        );
        let value = &module.objects[2];
        assert_eq!(value.fields[0].rust_name, "expr_");
        assert!(
            !module.objects[1].config,
            "computed-only objects have no config struct"
        );
    }

    #[test]
    fn secret_paths_follow_nested_blocks_and_map_keys() {
        let mut schema = block(json!({
            "attributes": {
                "password": {"type": "string", "optional": true},
                "password_wo": {"type": "string", "optional": true, "write_only": true},
                "result": {"type": "string", "computed": true, "sensitive": true}
            },
            "block_types": {
                "action": {"nesting_mode": "list", "block": {"block_types": {
                    "oidc": {"nesting_mode": "list", "block": {"attributes": {
                        "client_secret": {"type": "string", "required": true}}}}}}},
                "entry": {"nesting_mode": "map", "block": {"attributes": {
                    "key": {"type": "string", "optional": true}}}}
            }
        }));
        for path in ["password", "action.oidc.client_secret"] {
            schema.mark(path, Marking::Sensitive).unwrap();
        }
        schema.mark("entry.key", Marking::Credential).unwrap();
        let err = schema.mark("action.nope", Marking::Sensitive).unwrap_err();
        assert!(err.contains("no attribute `action.nope`"), "{err}");
        let module = lower(ModuleKind::Resource, "x", "x_thing", &schema).unwrap();
        let (sensitive, credentials) = module.secret_paths();
        assert_eq!(
            sensitive,
            ["password", "result", "action.oidc.client_secret"]
        );
        assert_eq!(credentials, ["password_wo", "entry.*.key"]);
    }
}
