//! Rendering of one stack's Terraform root module as Terraform JSON syntax
//! (`main.tf.json`). Cross-stack references arrive here already planned: the renderer is
//! given the rewrite for them, the outputs to add and the remote-state reads to declare.

use indexmap::IndexMap;
use serde_json::{Map as JsonMap, Value as Json, json};

use crate::body::{escape, to_terraform_json};
use crate::error::{Error, Result};
use crate::expr::Ast;
use crate::stack::Stack;
use crate::terraform::{BlockKind, IgnoreChanges, Lifecycle, ProviderRequirement};

/// A data source girder declares to read another stack's outputs.
pub(crate) struct RemoteRead {
    pub(crate) dtype: &'static str,
    pub(crate) name: String,
    pub(crate) body: Json,
}

/// An output girder adds so another stack can read a value.
pub(crate) struct ExportedOutput {
    pub(crate) name: String,
    pub(crate) value: Ast,
    pub(crate) sensitive: bool,
    pub(crate) consumers: Vec<String>,
}

/// Rewrites cross-stack references into reads of the producer's outputs.
pub(crate) type Rewrite<'a> = &'a dyn Fn(&Ast) -> Option<Ast>;

/// Everything the renderer needs beyond the stack itself.
pub(crate) struct RenderInput<'a> {
    pub(crate) stack: &'a Stack,
    pub(crate) rewrite: Option<Rewrite<'a>>,
    pub(crate) exported: &'a [ExportedOutput],
    pub(crate) remote_reads: Vec<RemoteRead>,
    pub(crate) extra_requirements: Vec<ProviderRequirement>,
    pub(crate) comment: String,
}

impl RenderInput<'_> {
    fn value(&self, ast: &Ast) -> Json {
        match self.rewrite {
            Some(rewrite) => to_terraform_json(&ast.rewrite(&mut |node: &Ast| rewrite(node))),
            None => to_terraform_json(ast),
        }
    }
}

/// Terraform's built-in provider, which needs no `required_providers` entry.
const BUILTIN_PROVIDER: &str = "terraform";

/// Render the root module.
pub(crate) fn render(input: RenderInput<'_>) -> Result<Json> {
    let stack = input.stack;
    let mut doc = JsonMap::new();
    doc.insert("//".into(), Json::String(input.comment.clone()));

    let mut requirements = stack.requirements.clone();
    for extra in &input.extra_requirements {
        requirements
            .entry(extra.name.clone())
            .or_insert_with(|| extra.clone());
    }
    check_providers(stack, &requirements)?;
    doc.insert("terraform".into(), terraform_block(stack, &requirements));

    if !stack.providers.is_empty() {
        let mut by_name: IndexMap<&str, Vec<Json>> = IndexMap::new();
        for (_, config) in stack.providers.values() {
            let mut body = match input.value(config.body()) {
                Json::Object(map) => map,
                _ => JsonMap::new(),
            };
            if let Some(alias) = config.alias_name() {
                body.insert("alias".into(), json!(alias));
            }
            by_name
                .entry(config.name())
                .or_default()
                .push(Json::Object(body));
        }
        let providers: JsonMap<String, Json> = by_name
            .into_iter()
            .map(|(name, mut configs)| {
                let value = if configs.len() == 1 {
                    configs.remove(0)
                } else {
                    Json::Array(configs)
                };
                (name.to_owned(), value)
            })
            .collect();
        doc.insert("provider".into(), Json::Object(providers));
    }

    if !stack.variables.is_empty() {
        let mut variables = JsonMap::new();
        for (name, var) in &stack.variables {
            let mut body = JsonMap::new();
            body.insert("type".into(), json!(var.ty.to_string()));
            if let Some(default) = &var.default {
                body.insert("default".into(), input.value(default));
            }
            if let Some(description) = &var.description {
                body.insert("description".into(), json!(escape(description)));
            }
            if var.sensitive {
                body.insert("sensitive".into(), json!(true));
            }
            if let Some(nullable) = var.nullable {
                body.insert("nullable".into(), json!(nullable));
            }
            if !var.validations.is_empty() {
                let rules: Vec<Json> = var
                    .validations
                    .iter()
                    .map(|(condition, message)| {
                        json!({
                            "condition": input.value(condition),
                            "error_message": escape(message),
                        })
                    })
                    .collect();
                body.insert("validation".into(), Json::Array(rules));
            }
            variables.insert(name.clone(), Json::Object(body));
        }
        doc.insert("variable".into(), Json::Object(variables));
    }

    if !stack.locals.is_empty() {
        let locals: JsonMap<String, Json> = stack
            .locals
            .iter()
            .map(|(name, value)| (name.clone(), input.value(value)))
            .collect();
        doc.insert("locals".into(), Json::Object(locals));
    }

    let mut data: IndexMap<String, JsonMap<String, Json>> = IndexMap::new();
    let mut resources: IndexMap<String, JsonMap<String, Json>> = IndexMap::new();
    for ((kind, rtype, name), block) in &stack.blocks {
        let rendered = render_block(&input, &block.spec.body, block)?;
        let group = match kind {
            BlockKind::Resource => &mut resources,
            BlockKind::Data => &mut data,
        };
        group
            .entry(rtype.clone())
            .or_default()
            .insert(name.clone(), Json::Object(rendered));
    }
    for read in &input.remote_reads {
        let slot = data.entry(read.dtype.to_owned()).or_default();
        if slot.contains_key(&read.name) {
            return Err(Error::DuplicateAddress {
                path: stack.at("cross-stack references"),
                address: format!("data.{}.{}", read.dtype, read.name),
                existing: "a data source of the stack".into(),
            });
        }
        slot.insert(read.name.clone(), read.body.clone());
    }
    if !data.is_empty() {
        doc.insert("data".into(), nest(data));
    }
    if !resources.is_empty() {
        doc.insert("resource".into(), nest(resources));
    }

    if !stack.modules.is_empty() {
        let mut modules = JsonMap::new();
        for (name, call) in &stack.modules {
            let mut body = JsonMap::new();
            body.insert("source".into(), json!(call.spec.source));
            if let Some(version) = &call.spec.version {
                body.insert("version".into(), json!(version));
            }
            for (input_name, value) in &call.spec.inputs {
                body.insert(input_name.clone(), input.value(value));
            }
            if !call.spec.depends_on.is_empty() {
                let deps: Vec<Json> = call
                    .spec
                    .depends_on
                    .iter()
                    .map(|d| json!(d.target.to_string()))
                    .collect();
                body.insert("depends_on".into(), Json::Array(deps));
            }
            modules.insert(name.clone(), Json::Object(body));
        }
        doc.insert("module".into(), Json::Object(modules));
    }

    if !stack.outputs.is_empty() || !input.exported.is_empty() {
        let mut outputs = JsonMap::new();
        for (name, output) in &stack.outputs {
            let Ok(value) = output.value() else { continue };
            let mut body = JsonMap::new();
            body.insert("value".into(), input.value(value));
            if let Some(description) = &output.description {
                body.insert("description".into(), json!(escape(description)));
            }
            if output.sensitive {
                body.insert("sensitive".into(), json!(true));
            }
            outputs.insert(name.clone(), Json::Object(body));
        }
        for export in input.exported {
            if outputs.contains_key(&export.name) {
                return Err(Error::DuplicateAddress {
                    path: stack.at(&format!("output.{}", export.name)),
                    address: format!("output.{}", export.name),
                    existing: format!(
                        "girder's cross-stack output for {}",
                        export.consumers.join(", ")
                    ),
                });
            }
            let mut body = JsonMap::new();
            body.insert("value".into(), to_terraform_json(&export.value));
            body.insert(
                "description".into(),
                json!(format!(
                    "Read by stack {} (girder cross-stack reference).",
                    export.consumers.join(", ")
                )),
            );
            if export.sensitive {
                body.insert("sensitive".into(), json!(true));
            }
            outputs.insert(export.name.clone(), Json::Object(body));
        }
        doc.insert("output".into(), Json::Object(outputs));
    }

    if !stack.moved.is_empty() {
        let moved: Vec<Json> = stack
            .moved
            .iter()
            .map(|(from, to)| json!({ "from": from, "to": to }))
            .collect();
        doc.insert("moved".into(), Json::Array(moved));
    }
    if !stack.imports.is_empty() {
        let imports: Vec<Json> = stack
            .imports
            .iter()
            .map(|(to, id)| json!({ "to": to, "id": input.value(id) }))
            .collect();
        doc.insert("import".into(), Json::Array(imports));
    }
    Ok(Json::Object(doc))
}

fn terraform_block(stack: &Stack, requirements: &IndexMap<String, ProviderRequirement>) -> Json {
    let mut block = JsonMap::new();
    block.insert("required_version".into(), json!(stack.required_version));
    if !requirements.is_empty() {
        let mut sorted: Vec<&ProviderRequirement> = requirements.values().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let providers: JsonMap<String, Json> = sorted
            .into_iter()
            .map(|r| {
                (
                    r.name.clone(),
                    json!({ "source": r.source, "version": r.version }),
                )
            })
            .collect();
        block.insert("required_providers".into(), Json::Object(providers));
    }
    let (key, value) = stack
        .backend
        .terraform_block(&stack.id, &stack.name, &stack.env);
    block.insert(key, value);
    Json::Object(block)
}

/// Every provider used by a block or configuration is required, and every aliased
/// provider a block selects is configured.
fn check_providers(
    stack: &Stack,
    requirements: &IndexMap<String, ProviderRequirement>,
) -> Result<()> {
    let missing = |path: String, provider: &str| {
        Error::invalid(
            path,
            format!(
                "uses provider `{provider}`, which stack {} does not require; call \
             stack.require_provider(ProviderRequirement::new(\"{provider}\", \
             \"hashicorp/{provider}\", \"<constraint>\")) or use a generated provider crate",
                stack.id
            ),
        )
    };
    for ((_, rtype, _), block) in &stack.blocks {
        let at = stack.at(&block.path.to_string());
        let provider = match &block.spec.provider {
            Some(selected) => {
                if selected.alias.is_some() && !stack.providers.contains_key(&selected.to_string())
                {
                    return Err(Error::invalid(
                        at,
                        format!(
                            "selects provider configuration `{selected}`, which the stack does not define"
                        ),
                    ));
                }
                selected.name.clone()
            }
            None => rtype.split('_').next().unwrap_or_default().to_owned(),
        };
        if provider != BUILTIN_PROVIDER && !requirements.contains_key(&provider) {
            return Err(missing(at, &provider));
        }
    }
    for (path, config) in stack.providers.values() {
        if !requirements.contains_key(config.name()) {
            return Err(missing(stack.at(&path.to_string()), config.name()));
        }
    }
    Ok(())
}

fn render_block(
    input: &RenderInput<'_>,
    body: &Ast,
    block: &crate::stack::Block,
) -> Result<JsonMap<String, Json>> {
    let spec = &block.spec;
    let mut out = match input.value(body) {
        Json::Object(map) => map,
        _ => JsonMap::new(),
    };
    if let Some(count) = &spec.count {
        out.insert("count".into(), input.value(count));
    }
    if let Some(for_each) = &spec.for_each {
        out.insert("for_each".into(), input.value(for_each));
    }
    if !spec.depends_on.is_empty() {
        let deps: Vec<Json> = spec
            .depends_on
            .iter()
            .map(|d| json!(d.target.to_string()))
            .collect();
        out.insert("depends_on".into(), Json::Array(deps));
    }
    if let Some(provider) = &spec.provider {
        out.insert("provider".into(), json!(provider.to_string()));
    }
    if !spec.lifecycle.is_empty() {
        out.insert("lifecycle".into(), lifecycle(&spec.lifecycle));
    }
    // Acknowledged scanner checks lead the block, where checkov reports the finding.
    if let Some(comment) =
        crate::checks::terraform_comment(&input.stack.check_acknowledgements, &block.path)
    {
        let mut commented = JsonMap::new();
        commented.insert("//".into(), comment);
        commented.extend(out);
        out = commented;
    }
    let mut json = Json::Object(out);
    for o in &spec.overrides {
        let value = o.value.as_ref().map(|ast| input.value(ast));
        apply_override(&mut json, &o.path, value)
            .map_err(|message| Error::invalid(input.stack.at(&block.path.to_string()), message))?;
    }
    match json {
        Json::Object(map) => Ok(map),
        _ => Ok(JsonMap::new()),
    }
}

fn lifecycle(lifecycle: &Lifecycle) -> Json {
    let mut out = JsonMap::new();
    if let Some(v) = lifecycle.create_before_destroy {
        out.insert("create_before_destroy".into(), json!(v));
    }
    if let Some(v) = lifecycle.prevent_destroy {
        out.insert("prevent_destroy".into(), json!(v));
    }
    match &lifecycle.ignore_changes {
        IgnoreChanges::None => {}
        IgnoreChanges::All => {
            out.insert("ignore_changes".into(), json!("all"));
        }
        IgnoreChanges::Attributes(list) => {
            out.insert("ignore_changes".into(), json!(list));
        }
    }
    if !lifecycle.replace_triggered_by.is_empty() {
        out.insert(
            "replace_triggered_by".into(),
            json!(lifecycle.replace_triggered_by),
        );
    }
    Json::Object(out)
}

/// Apply one override (dotted path; numeric segments index arrays).
pub(crate) fn apply_override(
    target: &mut Json,
    path: &str,
    value: Option<Json>,
) -> std::result::Result<(), String> {
    let o = RenderedOverride { path, value };
    let segments: Vec<&str> = o.path.split('.').collect();
    if o.path.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "override path {:?} is empty or has an empty segment",
            o.path
        ));
    }
    let (last, parents) = segments
        .split_last()
        .ok_or_else(|| format!("override path {:?} is empty", o.path))?;
    let mut node = target;
    for segment in parents {
        node = match node {
            Json::Object(map) => map
                .entry(crate::body::escape(segment))
                .or_insert_with(|| Json::Object(JsonMap::new())),
            Json::Array(items) => {
                let index: usize = segment.parse().map_err(|_| {
                    format!("override path {:?}: {segment:?} indexes a list", o.path)
                })?;
                let len = items.len();
                items.get_mut(index).ok_or_else(|| {
                    format!(
                        "override path {:?}: index {index} out of range (list has {len})",
                        o.path
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "override path {:?}: {segment:?} is below a value that is not an object or list",
                    o.path
                ));
            }
        };
    }
    match (node, &o.value) {
        (Json::Object(map), Some(value)) => {
            map.insert(crate::body::escape(last), value.clone());
            Ok(())
        }
        (Json::Object(map), None) => {
            map.shift_remove(&crate::body::escape(last));
            Ok(())
        }
        (Json::Array(items), value) => {
            let index: usize = last
                .parse()
                .map_err(|_| format!("override path {:?}: {last:?} indexes a list", o.path))?;
            if index >= items.len() {
                return Err(format!(
                    "override path {:?}: index {index} out of range",
                    o.path
                ));
            }
            match value {
                Some(v) => items[index] = v.clone(),
                None => {
                    items.remove(index);
                }
            }
            Ok(())
        }
        _ => Err(format!(
            "override path {:?}: parent of {last:?} is not an object or list",
            o.path
        )),
    }
}

/// One rendered override.
struct RenderedOverride<'a> {
    path: &'a str,
    value: Option<Json>,
}

fn nest(groups: IndexMap<String, JsonMap<String, Json>>) -> Json {
    Json::Object(
        groups
            .into_iter()
            .map(|(k, v)| (k, Json::Object(v)))
            .collect(),
    )
}
