//! Provider schemas: the `terraform providers schema -json` document, read from a full
//! source (a gzip or plain JSON file, or a directory of them) and trimmed to the
//! allowlist, plus the typed view the generator reads.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map as JsonMap, Value as Json};

use super::allowlist::{Kind, Marking, ProviderEntry};

/// A block: attributes and nested blocks.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Block {
    #[serde(default)]
    pub(crate) attributes: BTreeMap<String, Attribute>,
    #[serde(default)]
    pub(crate) block_types: BTreeMap<String, BlockType>,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// An attribute: a type expression, or a nested type (protocol 6 nested attributes).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Attribute {
    #[serde(default, rename = "type")]
    pub(crate) type_expr: Option<Json>,
    #[serde(default)]
    pub(crate) nested_type: Option<NestedType>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) required: bool,
    /// Neither required nor optional means computed only.
    #[serde(default)]
    pub(crate) optional: bool,
    /// The provider marks it sensitive (in the schema, or by a `sensitive` line of the
    /// allowlist where the stored schema lacks the flag).
    #[serde(default)]
    pub(crate) sensitive: bool,
    /// Write-only (Terraform 1.11): sent to the provider, never stored.
    #[serde(default)]
    pub(crate) write_only: bool,
    /// Holds a credential the provider does not mark sensitive (a `credential` line).
    #[serde(skip)]
    pub(crate) credential: bool,
}

impl Block {
    /// Mark the attribute at the dotted `path` (through nested blocks and nested
    /// attributes). Errors when the path names nothing.
    pub(crate) fn mark(&mut self, path: &str, marking: Marking) -> Result<(), String> {
        let segments: Vec<&str> = path.split('.').collect();
        mark_in(
            &mut self.attributes,
            Some(&mut self.block_types),
            &segments,
            marking,
        )
        .ok_or_else(|| format!("the schema has no attribute `{path}`"))
    }
}

fn mark_in(
    attributes: &mut BTreeMap<String, Attribute>,
    block_types: Option<&mut BTreeMap<String, BlockType>>,
    segments: &[&str],
    marking: Marking,
) -> Option<()> {
    let (first, rest) = segments.split_first()?;
    if let Some(attribute) = attributes.get_mut(*first) {
        if rest.is_empty() {
            match marking {
                Marking::Sensitive => attribute.sensitive = true,
                Marking::Credential => attribute.credential = true,
            }
            return Some(());
        }
        let nested = attribute.nested_type.as_mut()?;
        return mark_in(&mut nested.attributes, None, rest, marking);
    }
    let block = &mut block_types?.get_mut(*first)?.block;
    mark_in(
        &mut block.attributes,
        Some(&mut block.block_types),
        rest,
        marking,
    )
}

/// The object type of a nested attribute.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct NestedType {
    #[serde(default)]
    pub(crate) attributes: BTreeMap<String, Attribute>,
    pub(crate) nesting_mode: String,
}

/// A nested block type.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct BlockType {
    pub(crate) nesting_mode: String,
    pub(crate) block: Block,
    #[serde(default)]
    pub(crate) min_items: u64,
    #[serde(default)]
    pub(crate) max_items: Option<u64>,
}

/// The schema of one resource, data source or provider configuration.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TypeSchema {
    pub(crate) block: Block,
}

/// A trimmed provider schema as committed: provenance plus the allowlisted types.
#[derive(Clone, Debug)]
pub(crate) struct ProviderSchema {
    /// The provider version the schema came from (`6.25.0`).
    pub(crate) version: String,
    /// The whole document, keys sorted, as written to disk.
    pub(crate) document: Json,
}

impl ProviderSchema {
    fn provider_json<'a>(&'a self, entry: &ProviderEntry) -> Option<&'a JsonMap<String, Json>> {
        self.document
            .get("provider_schemas")?
            .get(entry.schema_address())?
            .as_object()
    }

    /// The types of `kind` the document holds.
    pub(crate) fn type_names(&self, entry: &ProviderEntry, kind: Kind) -> Vec<String> {
        self.provider_json(entry)
            .and_then(|p| p.get(kind.schema_key()))
            .and_then(Json::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The typed schema of one type (`None` when absent).
    pub(crate) fn type_schema(
        &self,
        entry: &ProviderEntry,
        kind: Kind,
        name: &str,
    ) -> Result<Option<TypeSchema>, String> {
        let Some(json) = self
            .provider_json(entry)
            .and_then(|p| p.get(kind.schema_key()))
            .and_then(|m| m.get(name))
        else {
            return Ok(None);
        };
        TypeSchema::deserialize(json)
            .map(Some)
            .map_err(|e| format!("schema of {name}: {e}"))
    }

    /// The typed schema of the provider configuration block.
    pub(crate) fn provider_schema(&self, entry: &ProviderEntry) -> Result<TypeSchema, String> {
        match self.provider_json(entry).and_then(|p| p.get("provider")) {
            Some(json) => TypeSchema::deserialize(json)
                .map_err(|e| format!("provider schema of {}: {e}", entry.name)),
            None => Ok(TypeSchema {
                block: Block::default(),
            }),
        }
    }

    /// Parse a committed trimmed schema.
    pub(crate) fn from_committed(text: &str, file: &str) -> Result<Self, String> {
        let document: Json =
            serde_json::from_str(text).map_err(|e| format!("{file}: not JSON: {e}"))?;
        let version = document
            .pointer("/provenance/provider_version")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("{file}: no provenance.provider_version"))?
            .to_owned();
        Ok(Self { version, document })
    }

    /// The committed text: pretty JSON with sorted keys and a final newline.
    pub(crate) fn to_text(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(&sorted(self.document.clone())).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Trim a full schema document to the allowlisted types of `entry`. The version comes
    /// from the document's `provenance.provider_version` (the ../shared format) or from
    /// `version` (plain `terraform providers schema -json` output carries none).
    pub(crate) fn trim(
        full: &Json,
        entry: &ProviderEntry,
        version: Option<&str>,
        origin: &str,
    ) -> Result<Self, String> {
        let address = entry.schema_address();
        let provider = full
            .get("provider_schemas")
            .and_then(|p| p.get(&address))
            .and_then(Json::as_object)
            .ok_or_else(|| format!("{origin} has no schema for {address}"))?;
        let mut trimmed = JsonMap::new();
        if let Some(config) = provider.get("provider") {
            trimmed.insert("provider".into(), config.clone());
        }
        for kind in [Kind::Resource, Kind::Data] {
            let all = provider.get(kind.schema_key()).and_then(Json::as_object);
            let mut kept = JsonMap::new();
            for (k, name) in &entry.types {
                if *k != kind {
                    continue;
                }
                let schema = all.and_then(|m| m.get(name)).ok_or_else(|| {
                    format!(
                        "{origin} has no {} `{name}` (provider {address})",
                        kind_word(kind)
                    )
                })?;
                kept.insert(name.clone(), schema.clone());
            }
            trimmed.insert(kind.schema_key().into(), Json::Object(kept));
        }
        let mut provenance = full
            .get("provenance")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        // Counts and extraction statistics describe the full file, not this subset.
        provenance.remove("counts");
        provenance.remove("stats");
        let version = match version {
            Some(v) => v.to_owned(),
            None => provenance
                .get("provider_version")
                .and_then(Json::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    format!(
                        "{origin} does not say which version of {} it describes; pass \
                         --provider-version {}=<version>",
                        entry.name, entry.name
                    )
                })?,
        };
        provenance.insert("provider_source".into(), Json::String(address.clone()));
        provenance.insert("provider_version".into(), Json::String(version.clone()));
        provenance.insert(
            "trimmed".into(),
            Json::String(
                "to crates/girder-aws/schema/allowlist.txt by `cargo xtask codegen`".into(),
            ),
        );
        let mut schemas = JsonMap::new();
        schemas.insert(address, Json::Object(trimmed));
        let document = serde_json::json!({
            "format_version": full.get("format_version").cloned().unwrap_or(Json::from("1.0")),
            "provenance": provenance,
            "provider_schemas": schemas,
        });
        Ok(Self {
            version,
            document: sorted(document),
        })
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Resource => "resource",
        Kind::Data => "data source",
    }
}

/// Recursively sort object keys, so the committed file is stable whatever the source.
fn sorted(json: Json) -> Json {
    match json {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Read a schema document from a `.json` or `.json.gz` file.
pub(crate) fn read_document(path: &Path) -> Result<Json, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: not gzip JSON: {e}", path.display()))?;
        text
    } else {
        String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8: {e}", path.display()))?
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

/// Where full schemas are read from: one document (`terraform providers schema -json`
/// output, which may hold several providers) or a directory of `<provider>.json[.gz]`.
#[derive(Debug)]
pub(crate) enum Source {
    File(std::path::PathBuf),
    Directory(std::path::PathBuf),
}

impl Source {
    pub(crate) fn new(path: &Path) -> Self {
        if path.is_dir() {
            Source::Directory(path.to_owned())
        } else {
            Source::File(path.to_owned())
        }
    }

    /// The full document holding `entry`'s schema and a name for messages.
    pub(crate) fn document_for(&self, entry: &ProviderEntry) -> Result<(Json, String), String> {
        let path = match self {
            Source::File(path) => path.clone(),
            Source::Directory(dir) => {
                let gz = dir.join(format!("{}.json.gz", entry.name));
                let plain = dir.join(format!("{}.json", entry.name));
                if gz.exists() {
                    gz
                } else if plain.exists() {
                    plain
                } else {
                    return Err(format!(
                        "{} holds neither {}.json.gz nor {}.json",
                        dir.display(),
                        entry.name,
                        entry.name
                    ));
                }
            }
        };
        Ok((read_document(&path)?, path.display().to_string()))
    }
}

/// A type expression of an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeExpr {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<TypeExpr>),
    Set(Box<TypeExpr>),
    Map(Box<TypeExpr>),
    /// Attribute types in name order, and the names that may be omitted.
    Object(BTreeMap<String, TypeExpr>, Vec<String>),
}

impl TypeExpr {
    /// Parse the JSON form (`"string"`, `["list","string"]`, `["object",{...},[opt]]`).
    pub(crate) fn parse(json: &Json) -> Result<Self, String> {
        match json {
            Json::String(s) => match s.as_str() {
                "string" => Ok(TypeExpr::String),
                "number" => Ok(TypeExpr::Number),
                "bool" => Ok(TypeExpr::Bool),
                "dynamic" => Ok(TypeExpr::Dynamic),
                other => Err(format!("unknown primitive type `{other}`")),
            },
            Json::Array(items) => {
                let kind = items.first().and_then(Json::as_str).unwrap_or_default();
                let arg = items
                    .get(1)
                    .ok_or_else(|| format!("type {json} has no argument"))?;
                match kind {
                    "list" => Ok(TypeExpr::List(Box::new(Self::parse(arg)?))),
                    "set" => Ok(TypeExpr::Set(Box::new(Self::parse(arg)?))),
                    "map" => Ok(TypeExpr::Map(Box::new(Self::parse(arg)?))),
                    "object" => {
                        let fields = arg
                            .as_object()
                            .ok_or_else(|| format!("object type {json} has no field map"))?
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), Self::parse(v)?)))
                            .collect::<Result<BTreeMap<_, _>, String>>()?;
                        let optional = items
                            .get(2)
                            .and_then(Json::as_array)
                            .map(|o| {
                                o.iter()
                                    .filter_map(Json::as_str)
                                    .map(str::to_owned)
                                    .collect()
                            })
                            .unwrap_or_default();
                        Ok(TypeExpr::Object(fields, optional))
                    }
                    "tuple" => Ok(TypeExpr::Dynamic),
                    other => Err(format!("unknown type constructor `{other}` in {json}")),
                }
            }
            other => Err(format!("unexpected type expression {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_expressions_parse() {
        assert_eq!(
            TypeExpr::parse(&json!(["list", ["map", "string"]])).unwrap(),
            TypeExpr::List(Box::new(TypeExpr::Map(Box::new(TypeExpr::String))))
        );
        let TypeExpr::Object(fields, optional) =
            TypeExpr::parse(&json!(["object", {"a": "number"}, ["a"]])).unwrap()
        else {
            panic!("not an object")
        };
        assert_eq!(fields["a"], TypeExpr::Number);
        assert_eq!(optional, ["a"]);
        assert!(TypeExpr::parse(&json!("float")).is_err());
    }

    #[test]
    fn trimming_keeps_allowlisted_types_and_the_version() {
        let full = json!({
            "format_version": "1.0",
            "provenance": {"provider_version": "1.2.3", "counts": {"resources": 2}},
            "provider_schemas": {"registry.terraform.io/hashicorp/x": {
                "provider": {"block": {}},
                "resource_schemas": {"x_a": {"block": {}}, "x_b": {"block": {}}},
                "data_source_schemas": {"x_c": {"block": {}}}
            }}
        });
        let entry = ProviderEntry {
            name: "x".into(),
            source: "hashicorp/x".into(),
            types: vec![(Kind::Resource, "x_b".into())],
            marks: Vec::new(),
        };
        let trimmed = ProviderSchema::trim(&full, &entry, None, "full.json").unwrap();
        assert_eq!(trimmed.version, "1.2.3");
        assert_eq!(trimmed.type_names(&entry, Kind::Resource), ["x_b"]);
        assert!(trimmed.type_names(&entry, Kind::Data).is_empty());
        assert!(trimmed.document.pointer("/provenance/counts").is_none());

        let missing = ProviderEntry {
            types: vec![(Kind::Data, "x_z".into())],
            ..entry.clone()
        };
        let err = ProviderSchema::trim(&full, &missing, None, "full.json").unwrap_err();
        assert!(err.contains("no data source `x_z`"), "{err}");

        let mut bare = full.clone();
        bare.as_object_mut().unwrap().remove("provenance");
        let err = ProviderSchema::trim(&bare, &entry, None, "out.json").unwrap_err();
        assert!(err.contains("--provider-version x="), "{err}");
        assert_eq!(
            ProviderSchema::trim(&bare, &entry, Some("9.0.0"), "out.json")
                .unwrap()
                .version,
            "9.0.0"
        );
    }
}
