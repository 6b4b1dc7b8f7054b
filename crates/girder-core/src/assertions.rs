//! Assertions over synthesized output for stack authors' tests, in the spirit of AWS CDK's
//! `Template`: find resources by type and name, match a subset of their properties, count
//! them, and look at Kubernetes objects. Failures panic with a message showing what was
//! there, as test assertions do: this module is for tests, never for synth paths.
#![allow(clippy::panic)]

use serde_json::Value as Json;

use crate::app::App;
use crate::assembly::{ArtifactKind, Assembly};
use crate::error::{Error, Result};
use crate::stack::Stack;

/// The synthesized artifacts of one stack, ready for assertions.
#[derive(Clone, Debug)]
pub struct Template {
    terraform: Json,
    kubernetes: Vec<Json>,
    helm: Vec<(String, Json)>,
}

impl Template {
    /// Synthesize a single stack (an app of one) and load its artifacts. The stacks it is
    /// deployed after ([`Stack::deploy_after`]) are not part of an app of one: that
    /// order is dropped (it changes no artifact of the stack).
    pub fn from_stack(mut stack: Stack) -> Result<Self> {
        stack.deploy_after.clear();
        let id = stack.id().to_owned();
        let mut app = App::new();
        app.add_stack(stack)?;
        Self::from_assembly(&app.synth()?, &id)
    }

    /// Load the artifacts of stack `stack_id` (`network-dev`) from a synthesized assembly.
    pub fn from_assembly(assembly: &Assembly, stack_id: &str) -> Result<Self> {
        let stack = assembly
            .stacks()
            .iter()
            .find(|s| s.id == stack_id)
            .ok_or_else(|| Error::invalid(stack_id, "no such stack in the assembly"))?;
        let mut terraform = Json::Null;
        let mut kubernetes = Vec::new();
        let mut helm = Vec::new();
        for artifact in &stack.artifacts {
            let parse_err = |e: String| Error::invalid(&artifact.path, e);
            match artifact.kind {
                ArtifactKind::Terraform => {
                    terraform = serde_json::from_slice(&artifact.bytes)
                        .map_err(|e| parse_err(e.to_string()))?;
                }
                ArtifactKind::Kubernetes => kubernetes.push(
                    serde_norway::from_slice(&artifact.bytes)
                        .map_err(|e| parse_err(e.to_string()))?,
                ),
                ArtifactKind::HelmValues => {
                    let release = artifact
                        .path
                        .rsplit('/')
                        .next()
                        .and_then(|f| f.strip_suffix(".values.yaml"))
                        .unwrap_or_default()
                        .to_owned();
                    helm.push((
                        release,
                        serde_norway::from_slice(&artifact.bytes)
                            .map_err(|e| parse_err(e.to_string()))?,
                    ));
                }
                ArtifactKind::Kustomization => {}
            }
        }
        Ok(Self {
            terraform,
            kubernetes,
            helm,
        })
    }

    /// The whole Terraform document.
    pub fn terraform(&self) -> &Json {
        &self.terraform
    }

    /// All resources of `rtype` as (name, body).
    pub fn resources(&self, rtype: &str) -> Vec<(&str, &Json)> {
        blocks(&self.terraform, "resource", rtype)
    }

    /// All data sources of `dtype` as (name, body).
    pub fn data_sources(&self, dtype: &str) -> Vec<(&str, &Json)> {
        blocks(&self.terraform, "data", dtype)
    }

    /// The resource `rtype.name`. Panics, listing the names present, when absent.
    pub fn resource(&self, rtype: &str, name: &str) -> &Json {
        match self.terraform.pointer(&format!("/resource/{rtype}/{name}")) {
            Some(body) => body,
            None => panic!(
                "no resource {rtype}.{name}; {rtype} resources: {:?}",
                self.resources(rtype)
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// Assert the number of resources of `rtype`.
    pub fn resource_count_is(&self, rtype: &str, expected: usize) {
        let actual = self.resources(rtype).len();
        assert_eq!(
            actual, expected,
            "expected {expected} {rtype} resources, found {actual}"
        );
    }

    /// Assert that some resource of `rtype` matches `expected` (a subset of its body: every
    /// key given must be there with a matching value; lists match element-wise).
    pub fn has_resource_properties(&self, rtype: &str, expected: &Json) {
        let found = self.resources(rtype);
        if !found.iter().any(|(_, body)| matches_subset(body, expected)) {
            panic!(
                "no {rtype} resource matches {}\n{rtype} resources:\n{}",
                pretty(expected),
                found
                    .iter()
                    .map(|(n, b)| format!("{n}: {}", pretty(b)))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }

    /// The output `name`'s body.
    pub fn output(&self, name: &str) -> Option<&Json> {
        self.terraform.pointer(&format!("/output/{name}"))
    }

    /// All Kubernetes objects of the stack.
    pub fn kube_objects(&self) -> &[Json] {
        &self.kubernetes
    }

    /// The Kubernetes object of `kind` named `name`. Panics when absent.
    pub fn kube_object(&self, kind: &str, name: &str) -> &Json {
        match self.kubernetes.iter().find(|o| {
            o.get("kind").and_then(Json::as_str) == Some(kind)
                && o.pointer("/metadata/name").and_then(Json::as_str) == Some(name)
        }) {
            Some(o) => o,
            None => panic!(
                "no {kind} named {name}; objects: {:?}",
                self.kubernetes
                    .iter()
                    .map(|o| format!(
                        "{}/{}",
                        o.get("kind").and_then(Json::as_str).unwrap_or("?"),
                        o.pointer("/metadata/name")
                            .and_then(Json::as_str)
                            .unwrap_or("?")
                    ))
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// The values of Helm release `release`, if any.
    pub fn helm_values(&self, release: &str) -> Option<&Json> {
        self.helm.iter().find(|(r, _)| r == release).map(|(_, v)| v)
    }
}

fn blocks<'a>(doc: &'a Json, kind: &str, rtype: &str) -> Vec<(&'a str, &'a Json)> {
    doc.get(kind)
        .and_then(|k| k.get(rtype))
        .and_then(Json::as_object)
        .map(|m| m.iter().map(|(n, b)| (n.as_str(), b)).collect())
        .unwrap_or_default()
}

/// True when `actual` contains everything in `expected` (objects: subset of keys,
/// recursively; arrays: same length, element-wise; scalars: equal).
pub fn matches_subset(actual: &Json, expected: &Json) -> bool {
    match (actual, expected) {
        (Json::Object(a), Json::Object(e)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| matches_subset(av, ev))),
        (Json::Array(a), Json::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| matches_subset(av, ev))
        }
        (a, e) => a == e,
    }
}

fn pretty(value: &Json) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
