//! IAM policy documents with expressions inside and a least-privilege guard.

use girder_core::expr::{Dynamic, Expr, fns};
use girder_core::{Error, Result, Value};
use serde::Serialize;
use serde_json::{Map as JsonMap, Value as Json};

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grant.
    Allow,
    /// Refuse, whatever else grants.
    Deny,
}

/// One condition: `operator` (`StringEquals`, `Bool`), `key` (`aws:SecureTransport`),
/// values.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    operator: String,
    key: String,
    values: Vec<Value<String>>,
}

impl Condition {
    /// A condition with any operator.
    pub fn new<V: Into<Value<String>>>(
        operator: impl Into<String>,
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Self {
            operator: operator.into(),
            key: key.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// `StringEquals`.
    pub fn string_equals(key: &str, value: impl Into<Value<String>>) -> Self {
        Self::new("StringEquals", key, [value])
    }

    /// `StringLike` with several patterns.
    pub fn string_like<V: Into<Value<String>>>(
        key: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Self::new("StringLike", key, values)
    }

    /// `Bool`.
    pub fn bool(key: &str, value: bool) -> Self {
        Self::new("Bool", key, [value.to_string()])
    }
}

/// One statement of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<Value<String>>,
    principals: Vec<(String, Vec<Value<String>>)>,
    conditions: Vec<Condition>,
    wildcard_reason: Option<String>,
}

impl Statement {
    fn with(effect: Effect, actions: Vec<String>) -> Self {
        Self {
            sid: None,
            effect,
            actions,
            resources: Vec::new(),
            principals: Vec::new(),
            conditions: Vec::new(),
            wildcard_reason: None,
        }
    }

    /// Allow `actions` (`s3:GetObject`).
    pub fn allow<S: Into<String>>(actions: impl IntoIterator<Item = S>) -> Self {
        Self::with(Effect::Allow, actions.into_iter().map(Into::into).collect())
    }

    /// Deny `actions`.
    pub fn deny<S: Into<String>>(actions: impl IntoIterator<Item = S>) -> Self {
        Self::with(Effect::Deny, actions.into_iter().map(Into::into).collect())
    }

    /// A statement id.
    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// On these resources (ARNs, literal or expressions).
    pub fn on<V: Into<Value<String>>>(mut self, resources: impl IntoIterator<Item = V>) -> Self {
        self.resources.extend(resources.into_iter().map(Into::into));
        self
    }

    /// For principals of `kind` (`Service`, `AWS`, `Federated`): trust and resource policies.
    pub fn principal<V: Into<Value<String>>>(
        mut self,
        kind: &str,
        ids: impl IntoIterator<Item = V>,
    ) -> Self {
        self.principals
            .push((kind.to_owned(), ids.into_iter().map(Into::into).collect()));
        self
    }

    /// Only when `condition` holds.
    pub fn when(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Accept `*` in actions or resources: the service offers nothing narrower (for
    /// example `ssm:DescribeParameters`, `ec2:Describe*`, `cloudwatch:PutMetricData`).
    pub fn wildcard_because(mut self, reason: impl Into<String>) -> Self {
        self.wildcard_reason = Some(reason.into());
        self
    }

    /// Every resource or action that is a wildcard, for the guard.
    fn wildcards(&self) -> Vec<String> {
        let mut found: Vec<String> = self
            .actions
            .iter()
            .filter(|a| *a == "*" || a.ends_with(":*"))
            .cloned()
            .collect();
        for resource in &self.resources {
            if let Value::Literal(arn) = resource {
                if arn == "*" {
                    found.push("resource *".into());
                }
            }
        }
        found
    }

    fn to_json(&self) -> std::result::Result<Json, serde_json::Error> {
        let mut statement = JsonMap::new();
        if let Some(sid) = &self.sid {
            statement.insert("Sid".into(), Json::String(sid.clone()));
        }
        statement.insert("Effect".into(), serde_json::to_value(self.effect)?);
        if !self.principals.is_empty() {
            let mut principals = JsonMap::new();
            for (kind, ids) in &self.principals {
                principals.insert(kind.clone(), one_or_many(ids)?);
            }
            statement.insert("Principal".into(), Json::Object(principals));
        }
        statement.insert(
            "Action".into(),
            if self.actions.len() == 1 {
                Json::String(self.actions[0].clone())
            } else {
                Json::from(self.actions.clone())
            },
        );
        if !self.resources.is_empty() {
            statement.insert("Resource".into(), one_or_many(&self.resources)?);
        }
        if !self.conditions.is_empty() {
            let mut conditions: JsonMap<String, Json> = JsonMap::new();
            for condition in &self.conditions {
                let entry = conditions
                    .entry(condition.operator.clone())
                    .or_insert_with(|| Json::Object(JsonMap::new()));
                if let Json::Object(keys) = entry {
                    keys.insert(condition.key.clone(), one_or_many(&condition.values)?);
                }
            }
            statement.insert("Condition".into(), Json::Object(conditions));
        }
        Ok(Json::Object(statement))
    }
}

fn one_or_many(values: &[Value<String>]) -> std::result::Result<Json, serde_json::Error> {
    if values.len() == 1 {
        serde_json::to_value(&values[0])
    } else {
        serde_json::to_value(values)
    }
}

/// An IAM policy document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a statement.
    pub fn statement(mut self, statement: Statement) -> Self {
        self.statements.push(statement);
        self
    }

    /// The statements.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Whether it has no statement.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The policy JSON as a Terraform value: a literal string when everything is known at
    /// synth, `jsonencode({...})` when a resource or condition is an expression. `at` (the
    /// construct path) names it in errors.
    ///
    /// Refuses an empty document, a statement without actions, an Allow without
    /// resources (unless it names principals: a trust policy), and wildcards without a
    /// reason.
    pub fn render(&self, at: &str) -> Result<Value<String>> {
        if self.statements.is_empty() {
            return Err(Error::invalid(at, "the policy document has no statements"));
        }
        let mut statements = Vec::new();
        for (index, statement) in self.statements.iter().enumerate() {
            let label = statement
                .sid
                .clone()
                .unwrap_or_else(|| format!("statement {}", index + 1));
            if statement.actions.is_empty() {
                return Err(Error::invalid(at, format!("{label} has no actions")));
            }
            if statement.resources.is_empty() && statement.principals.is_empty() {
                return Err(Error::invalid(
                    at,
                    format!(
                        "{label} ({}) names no resources; grant on the ARNs it needs",
                        statement.actions.join(", ")
                    ),
                ));
            }
            let wildcards = statement.wildcards();
            let reasoned = statement
                .wildcard_reason
                .as_ref()
                .is_some_and(|r| !r.trim().is_empty());
            if statement.effect == Effect::Allow && !wildcards.is_empty() && !reasoned {
                return Err(Error::invalid(
                    at,
                    format!(
                        "{label} allows {}: least privilege wants the exact actions and ARNs; \
                         if the service offers nothing narrower, say why with `.wildcard_because(reason)`",
                        wildcards.join(", ")
                    ),
                ));
            }
            statements.push(
                statement
                    .to_json()
                    .map_err(|e| Error::invalid(at, e.to_string()))?,
            );
        }
        let document = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        let expression =
            Expr::<Dynamic>::literal(&document).map_err(|e| Error::invalid(at, e.to_string()))?;
        Ok(match expression.known_value() {
            Some(known) => Value::Literal(known.to_string()),
            None => Value::Expr(fns::jsonencode(expression)),
        })
    }

    /// The reasons given for wildcards, for review (`sid: reason`).
    pub fn wildcard_reasons(&self) -> Vec<String> {
        self.statements
            .iter()
            .filter_map(|s| {
                let reason = s.wildcard_reason.as_ref()?;
                Some(format!(
                    "{}: {reason}",
                    s.sid.as_deref().unwrap_or(&s.actions.join(","))
                ))
            })
            .collect()
    }
}
