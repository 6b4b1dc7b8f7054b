//! The synth pipeline: copy each stack and run its aspects; check every reference; plan
//! cross-stack references (outputs in the producer, remote-state reads in the consumer);
//! order stacks by dependency; render Terraform JSON, Kubernetes YAML and Helm values.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde_json::json;

use crate::address::sanitize;
use crate::app::App;
use crate::aspect::{Element, StackValues};
use crate::assembly::{Artifact, ArtifactKind, Assembly, StackArtifacts};
use crate::diagnostics::{Acknowledgement, Diagnostic, Diagnostics, Severity, covers};
use crate::error::{Error, Result};
use crate::expr::{Ast, Reference, Target};
use crate::kubernetes_layout;
use crate::kubernetes_refs;
use crate::sensitivity::Sensitivity;
use crate::stack::Stack;
use crate::terraform::document::{self, ExportedOutput, RemoteRead, RenderInput};
use crate::terraform::{Backend, BlockKind, ProviderRequirement};

/// A stack after its aspects ran: a copy the aspects changed, or the stack itself when it
/// has no aspects (nothing can change it, so synth stays repeatable without a copy).
struct Prepared<'a> {
    stack: Cow<'a, Stack>,
    acknowledged: Vec<(Acknowledgement, Diagnostic)>,
}

pub(crate) fn synthesize(app: &App) -> Result<Assembly> {
    let mut prepared: IndexMap<String, Prepared> = IndexMap::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for stack in app.stacks.values() {
        let (p, mut stack_errors, mut stack_warnings) = prepare(stack, app);
        errors.append(&mut stack_errors);
        warnings.append(&mut stack_warnings);
        prepared.insert(stack.id.clone(), p);
    }
    if !errors.is_empty() {
        return Err(Error::Diagnostics(errors));
    }

    for p in prepared.values() {
        check_references(&p.stack, &prepared)?;
    }
    let lookup = |id: &str| prepared.get(id).map(|p| &*p.stack);
    let sensitivity = Sensitivity::new(&lookup);
    for p in prepared.values() {
        check_output_sensitivity(&p.stack, &sensitivity)?;
    }
    let plan = CrossStackPlan::collect(&prepared, &sensitivity)?;
    let order = dependency_order(&prepared, &plan)?;

    let mut stacks = Vec::with_capacity(order.len());
    for id in order {
        let p = &prepared[&id];
        stacks.push(render_stack(p, &plan, &prepared)?);
    }
    Assembly::new(stacks, warnings)
}

/// Clone the stack and run the app's and the stack's aspects over it.
fn prepare<'a>(stack: &'a Stack, app: &App) -> (Prepared<'a>, Vec<Diagnostic>, Vec<Diagnostic>) {
    let aspects: Vec<_> = app
        .aspects
        .iter()
        .chain(stack.aspects.iter())
        .cloned()
        .collect();
    if aspects.is_empty() {
        let prepared = Prepared {
            stack: Cow::Borrowed(stack),
            acknowledged: Vec::new(),
        };
        return (prepared, Vec::new(), Vec::new());
    }
    let mut stack = stack.clone();
    let mut diagnostics = Diagnostics::new(&stack.id);
    let Stack {
        id,
        providers,
        blocks,
        locals,
        variables,
        kube_apps,
        gitops_dirs,
        helm_releases,
        ..
    } = &mut stack;
    let values = StackValues::new(id, locals, variables);
    for aspect in &aspects {
        for (path, config) in providers.values_mut() {
            aspect.visit(
                Element::Provider {
                    path,
                    config,
                    values,
                },
                &mut diagnostics,
            );
        }
        for block in blocks.values_mut() {
            aspect.visit(
                Element::Resource {
                    path: &block.path,
                    spec: &mut block.spec,
                    values,
                },
                &mut diagnostics,
            );
        }
        for (path, object) in kube_apps.objects_mut().chain(gitops_dirs.objects_mut()) {
            aspect.visit(Element::KubeObject { path, object }, &mut diagnostics);
        }
        for (path, release) in helm_releases.values_mut() {
            aspect.visit(Element::HelmRelease { path, release }, &mut diagnostics);
        }
    }
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut acknowledged = Vec::new();
    for diagnostic in diagnostics.into_items() {
        let ack = stack
            .acknowledgements
            .iter()
            .find(|a| covers(&stack.id, a, &diagnostic));
        match (ack, diagnostic.severity) {
            (Some(ack), _) => acknowledged.push((ack.clone(), diagnostic)),
            (None, Severity::Error) => errors.push(diagnostic),
            (None, Severity::Warning) => warnings.push(diagnostic),
        }
    }
    (
        Prepared {
            stack: Cow::Owned(stack),
            acknowledged,
        },
        errors,
        warnings,
    )
}

/// Where an expression appears: a label for messages, and the resource or data source
/// holding it (whose `count` / `for_each` decide which iterator symbols are valid).
struct Place<'a> {
    label: String,
    block: Option<&'a crate::terraform::ResourceSpec>,
}

/// Every expression of a stack with the place it appears, for reference checks and
/// cross-stack planning.
fn expressions(stack: &Stack) -> Vec<(Place<'_>, &Ast)> {
    let mut out = Vec::new();
    let place = |label: String| Place { label, block: None };
    for (path, config) in stack.providers.values() {
        out.push((place(path.to_string()), config.body()));
    }
    for (name, var) in &stack.variables {
        for ast in var
            .default
            .iter()
            .chain(var.validations.iter().map(|(c, _)| c))
        {
            out.push((place(format!("var.{name}")), ast));
        }
    }
    for (name, ast) in &stack.locals {
        out.push((place(format!("local.{name}")), ast));
    }
    for block in stack.blocks.values() {
        for ast in block.spec.expressions() {
            let label = block.path.to_string();
            out.push((
                Place {
                    label,
                    block: Some(&block.spec),
                },
                ast,
            ));
        }
    }
    for call in stack.modules.values() {
        for (_, ast) in &call.spec.inputs {
            out.push((place(call.path.to_string()), ast));
        }
    }
    for (name, output) in &stack.outputs {
        if let Ok(ast) = output.value() {
            out.push((place(format!("output.{name}")), ast));
        }
    }
    for (to, id) in &stack.imports {
        out.push((place(format!("import {to}")), id));
    }
    out
}

/// Does `target` exist in `stack`?
fn defines(stack: &Stack, target: &Target) -> bool {
    match target {
        Target::Resource { rtype, name } => {
            stack
                .blocks
                .contains_key(&(BlockKind::Resource, rtype.clone(), name.clone()))
        }
        Target::Data { dtype, name } => {
            stack
                .blocks
                .contains_key(&(BlockKind::Data, dtype.clone(), name.clone()))
        }
        Target::Variable(name) => stack.variables.contains_key(name),
        Target::Local(name) => stack.locals.contains_key(name),
        Target::Module(name) => stack.modules.contains_key(name),
        Target::CountIndex | Target::EachKey | Target::EachValue => true,
    }
}

fn check_references(stack: &Stack, all: &IndexMap<String, Prepared>) -> Result<()> {
    for (place, ast) in expressions(stack) {
        for reference in ast.references() {
            let Some(owner) = &reference.stack else {
                continue;
            };
            let Some(producer) = all.get(owner) else {
                return Err(Error::UnknownStack {
                    consumer: stack.id.clone(),
                    producer: owner.clone(),
                    target: reference.target.to_string(),
                });
            };
            if !defines(&producer.stack, &reference.target) {
                return Err(Error::BadReference {
                    path: stack.at(&place.label),
                    target: format!("{} of stack {owner}", reference.target),
                    reason: "it is not defined there (was the handle taken from another app?)"
                        .into(),
                });
            }
        }
        check_iterators(stack, &place, ast)?;
    }
    Ok(())
}

/// `count.index` / `each.*` only inside blocks with `count` / `for_each`.
fn check_iterators(stack: &Stack, place: &Place<'_>, ast: &Ast) -> Result<()> {
    for reference in ast.references() {
        let (needs, ok) = match reference.target {
            Target::CountIndex => ("count", place.block.is_some_and(|b| b.count.is_some())),
            Target::EachKey | Target::EachValue => (
                "for_each",
                place.block.is_some_and(|b| b.for_each.is_some()),
            ),
            _ => continue,
        };
        if !ok {
            return Err(Error::BadReference {
                path: stack.at(&place.label),
                target: reference.target.to_string(),
                reason: format!("only valid inside a resource that sets `{needs}`"),
            });
        }
    }
    Ok(())
}

/// Terraform refuses to plan an output that carries a sensitive value unless the output is
/// declared sensitive: say so at synth, naming the output and where the value comes from.
fn check_output_sensitivity(stack: &Stack, sensitivity: &Sensitivity<'_>) -> Result<()> {
    for (name, output) in &stack.outputs {
        if output.is_sensitive() {
            continue;
        }
        let Ok(value) = output.value() else { continue };
        if let Some(source) = sensitivity.source(value, &stack.id) {
            return Err(Error::invalid(
                stack.at(&format!("output.{name}")),
                format!(
                    "output `{name}` carries a sensitive value ({source}); Terraform refuses \
                     to plan it unless the output is sensitive: declare it with \
                     `Output::new(..).sensitive()`"
                ),
            ));
        }
    }
    Ok(())
}

/// One value a stack reads from another.
#[derive(Clone)]
struct Export {
    value: Ast,
    sensitive: bool,
    /// The producer already has this output (same value); girder adds none.
    declared_by_user: bool,
    consumers: BTreeSet<String>,
}

/// The plan for references between stacks.
#[derive(Default)]
struct CrossStackPlan {
    /// producer id -> output name -> export.
    exports: BTreeMap<String, BTreeMap<String, Export>>,
    /// consumer id -> producer ids.
    reads: BTreeMap<String, BTreeSet<String>>,
    /// consumer id -> stacks it is deployed after without reading them.
    after: BTreeMap<String, BTreeSet<String>>,
}

impl CrossStackPlan {
    fn collect(all: &IndexMap<String, Prepared>, sensitivity: &Sensitivity<'_>) -> Result<Self> {
        let mut plan = Self::default();
        for p in all.values() {
            let consumer = &p.stack.id;
            let mut failure = None;
            for (_, ast) in expressions(&p.stack) {
                ast.visit_pruned(&mut |node: &Ast| {
                    let (traversal, sensitive) = split_sensitive(node);
                    let Some(producer) =
                        foreign_root(traversal, consumer).and_then(|root| root.stack.clone())
                    else {
                        return true;
                    };
                    let declared = all
                        .get(&producer)
                        .and_then(|p| user_output_with_value(&p.stack, traversal));
                    let name = declared
                        .as_ref()
                        .map(|(name, _)| name.clone())
                        .unwrap_or_else(|| output_name(traversal));
                    let entry = plan
                        .exports
                        .entry(producer.clone())
                        .or_default()
                        .entry(name.clone())
                        .or_insert_with(|| Export {
                            value: traversal.clone(),
                            // Sensitive when the producer declared it so, or when the
                            // value is sensitive there (a sensitive variable, an
                            // attribute the provider marks, anything derived from one).
                            sensitive: declared.as_ref().is_some_and(|(_, s)| *s)
                                || sensitivity.source(traversal, &producer).is_some(),
                            declared_by_user: declared.is_some(),
                            consumers: BTreeSet::new(),
                        });
                    if entry.value != *traversal && failure.is_none() {
                        failure = Some(Error::DuplicateAddress {
                            path: format!("{consumer}: cross-stack reference"),
                            address: format!("output.{name} of stack {producer}"),
                            existing: format!("`{}`", entry.value.to_hcl()),
                        });
                    }
                    entry.sensitive |= sensitive;
                    entry.consumers.insert(consumer.clone());
                    plan.reads
                        .entry(consumer.clone())
                        .or_default()
                        .insert(producer);
                    // The whole traversal is one read: its parts are not reads of their own.
                    false
                });
            }
            if let Some(error) = failure {
                return Err(error);
            }
            for producer in &p.stack.deploy_after {
                if !all.contains_key(producer) {
                    return Err(Error::UnknownStack {
                        consumer: consumer.clone(),
                        producer: producer.clone(),
                        target: "its deployment (deploy_after)".into(),
                    });
                }
                plan.after
                    .entry(consumer.clone())
                    .or_default()
                    .insert(producer.clone());
            }
        }
        Ok(plan)
    }

    /// The stacks `consumer` is deployed after: those it reads and those it was told to
    /// follow.
    fn dependencies(&self, consumer: &str) -> BTreeSet<&String> {
        self.reads
            .get(consumer)
            .into_iter()
            .chain(self.after.get(consumer))
            .flatten()
            .collect()
    }

    /// The replacement for a foreign traversal in `consumer`.
    fn replacement(
        &self,
        node: &Ast,
        consumer: &str,
        all: &IndexMap<String, Prepared>,
    ) -> Option<Ast> {
        let (traversal, _) = split_sensitive(node);
        let root = foreign_root(traversal, consumer)?;
        let producer_id = root.stack.as_deref()?;
        let producer = &all.get(producer_id)?.stack;
        let name = user_output_with_value(producer, traversal)
            .map(|(name, _)| name)
            .unwrap_or_else(|| output_name(traversal));
        let sensitive = self.exports.get(producer_id)?.get(&name)?.sensitive;
        let read = remote_read_name(producer_id);
        let (dtype, field) = match &producer.backend {
            Backend::Cloud(_) if sensitive => ("tfe_outputs", "values"),
            Backend::Cloud(_) => ("tfe_outputs", "nonsensitive_values"),
            _ => ("terraform_remote_state", "outputs"),
        };
        let base = Ast::Ref(Box::new(Reference {
            stack: Some(consumer.to_owned()),
            target: Target::Data {
                dtype: dtype.to_owned(),
                name: read,
            },
        }));
        let value = Ast::Attr {
            of: Box::new(Ast::Attr {
                of: Box::new(base),
                name: field.to_owned(),
            }),
            name,
        };
        Some(if sensitive {
            Ast::Sensitive(Box::new(value))
        } else {
            value
        })
    }
}

/// An output the stack author declared whose value is exactly `traversal`: reused for
/// cross-stack reads instead of adding a second output with the same value.
fn user_output_with_value(stack: &Stack, traversal: &Ast) -> Option<(String, bool)> {
    stack.outputs.iter().find_map(|(name, output)| {
        let value = output.value().ok()?;
        let (inner, _) = split_sensitive(value);
        (inner == traversal).then(|| (name.clone(), output.is_sensitive()))
    })
}

fn split_sensitive(node: &Ast) -> (&Ast, bool) {
    match node {
        Ast::Sensitive(inner) => (inner, true),
        other => (other, false),
    }
}

fn foreign_root<'a>(traversal: &'a Ast, consumer: &str) -> Option<&'a Reference> {
    let root = traversal.traversal_root()?;
    match &root.stack {
        Some(owner) if owner != consumer => Some(root),
        _ => None,
    }
}

/// `aws_vpc.network_vpc.id` -> `aws_vpc_network_vpc_id`: stable, readable output names.
fn output_name(traversal: &Ast) -> String {
    fn segments(ast: &Ast, out: &mut Vec<String>) {
        match ast {
            Ast::Ref(r) => out.extend(r.target.to_string().split('.').map(str::to_owned)),
            Ast::Attr { of, name } => {
                segments(of, out);
                out.push(name.clone());
            }
            Ast::Index { of, key } => {
                segments(of, out);
                if let Some(value) = key.known_value() {
                    out.push(match value {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    let mut parts = Vec::new();
    segments(traversal, &mut parts);
    sanitize(parts.iter().map(String::as_str))
}

fn remote_read_name(producer: &str) -> String {
    sanitize([producer])
}

/// Stacks ordered so that every stack comes after the stacks it reads; ties keep the order
/// in which stacks were added. A cycle is an error that lists it.
fn dependency_order(
    all: &IndexMap<String, Prepared>,
    plan: &CrossStackPlan,
) -> Result<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        id: &str,
        all: &IndexMap<String, Prepared>,
        plan: &CrossStackPlan,
        marks: &mut BTreeMap<String, Mark>,
        trail: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<()> {
        match marks.get(id).copied().unwrap_or(Mark::New) {
            Mark::Done => return Ok(()),
            Mark::Active => {
                let start = trail.iter().position(|s| s == id).unwrap_or(0);
                let mut cycle: Vec<String> = trail[start..].to_vec();
                cycle.push(id.to_owned());
                return Err(Error::StackCycle { cycle });
            }
            Mark::New => {}
        }
        marks.insert(id.to_owned(), Mark::Active);
        trail.push(id.to_owned());
        let producers = plan.dependencies(id);
        // Visit producers in app order for a stable result.
        for candidate in all.keys().filter(|k| producers.contains(k)) {
            visit(candidate, all, plan, marks, trail, out)?;
        }
        trail.pop();
        marks.insert(id.to_owned(), Mark::Done);
        out.push(id.to_owned());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::with_capacity(all.len());
    for id in all.keys() {
        visit(id, all, plan, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

fn render_stack(
    p: &Prepared,
    plan: &CrossStackPlan,
    all: &IndexMap<String, Prepared>,
) -> Result<StackArtifacts> {
    let stack = &p.stack;
    let reads = plan.reads.get(&stack.id);
    let exported: Vec<ExportedOutput> = plan
        .exports
        .get(&stack.id)
        .map(|outputs| {
            outputs
                .iter()
                .filter(|(_, e)| !e.declared_by_user)
                .map(|(name, e)| ExportedOutput {
                    name: name.clone(),
                    value: e.value.clone(),
                    sensitive: e.sensitive,
                    consumers: e.consumers.iter().cloned().collect(),
                })
                .collect()
        })
        .unwrap_or_default();

    let mut remote_reads = Vec::new();
    let mut extra_requirements = Vec::new();
    for producer_id in reads.into_iter().flatten() {
        let producer = &all[producer_id].stack;
        remote_reads.push(remote_read(producer));
        if matches!(producer.backend, Backend::Cloud(_)) {
            extra_requirements.push(ProviderRequirement::tfe());
        }
    }
    let consumer = stack.id.clone();
    let rewrite = move |node: &Ast| plan.replacement(node, &consumer, all);
    let comment = header_comment(stack, &p.acknowledged);
    let doc = document::render(RenderInput {
        stack,
        rewrite: reads.map(|_| &rewrite as &dyn Fn(&Ast) -> Option<Ast>),
        exported: &exported,
        remote_reads,
        extra_requirements,
        comment,
    })?;

    let mut artifacts = Vec::new();
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| Error::Serialize {
        path: stack.id.clone(),
        what: "main.tf.json".into(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    artifacts.push(Artifact {
        path: format!("terraform/{}/main.tf.json", stack.id),
        kind: ArtifactKind::Terraform,
        bytes,
        chart: None,
    });
    let objects: Vec<(&crate::path::ConstructPath, &crate::kubernetes::KubeObject)> =
        stack.kube_apps.objects().collect();
    kubernetes_refs::check(&stack.id, &objects, &stack.kube_externals)?;
    artifacts.extend(kubernetes_layout::render(stack)?);
    artifacts.extend(kubernetes_layout::render_gitops(stack)?);
    for (path, release) in stack.helm_releases.values() {
        artifacts.push(release.values_artifact(&stack.id, &stack.at(&path.to_string()))?);
    }

    Ok(StackArtifacts {
        id: stack.id.clone(),
        name: stack.name.clone(),
        environment: stack.env.clone(),
        backend: stack.backend.summary(&stack.id, &stack.name, &stack.env),
        resource_count: stack.blocks.len(),
        depends_on: {
            let dependencies = plan.dependencies(&stack.id);
            all.keys()
                .filter(|k| dependencies.contains(k))
                .cloned()
                .collect()
        },
        artifacts,
        acknowledged: p
            .acknowledged
            .iter()
            .map(|(ack, d)| json!({ "path": d.path, "rule": d.rule, "message": d.message, "reason": ack.reason }))
            .collect(),
        kubernetes_externals: stack
            .kube_externals
            .iter()
            .map(|e| {
                let id = match &e.namespace {
                    Some(ns) => format!("{}/{ns}/{}", e.kind, e.name),
                    None => format!("{}/{}", e.kind, e.name),
                };
                json!({ "object": id, "reason": e.reason })
            })
            .collect(),
    })
}

/// The data source that reads `producer`'s outputs. Its arguments are Terraform
/// expressions, so the backend settings in them are rendered as escaped literals (they
/// are validated when the producer is created, too).
fn remote_read(producer: &Stack) -> RemoteRead {
    let mut read = remote_read_unescaped(producer);
    read.body = crate::body::literal_terraform_json(&read.body);
    read
}

fn remote_read_unescaped(producer: &Stack) -> RemoteRead {
    let name = remote_read_name(&producer.id);
    match &producer.backend {
        Backend::Cloud(cloud) => RemoteRead {
            dtype: "tfe_outputs",
            name,
            body: json!({
                "organization": cloud.organization,
                "workspace": producer.backend.workspace_name(&producer.id),
            }),
        },
        Backend::S3(s3) => RemoteRead {
            dtype: "terraform_remote_state",
            name,
            body: json!({
                "backend": "s3",
                "config": {
                    "bucket": s3.bucket,
                    "key": Backend::s3_key(s3, &producer.name, &producer.env),
                    "region": s3.region,
                },
            }),
        },
        Backend::Local(local) => RemoteRead {
            dtype: "terraform_remote_state",
            name,
            body: json!({
                "backend": "local",
                "config": { "path": format!("../{}/{}", producer.id, local.path) },
            }),
        },
    }
}

fn header_comment(stack: &Stack, acknowledged: &[(Acknowledgement, Diagnostic)]) -> String {
    let mut text = format!(
        "Generated by girder from stack {} (environment {}); do not edit. Change the stack \
         program and run `cargo xtask synth`.",
        stack.name, stack.env
    );
    for (ack, diagnostic) in acknowledged {
        text.push_str(&format!(
            " Acknowledged {}[{}] at {}: {} Reason: {}",
            match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            diagnostic.rule,
            diagnostic.path,
            diagnostic.message,
            ack.reason
        ));
    }
    text
}
