//! IAM policy documents with expressions inside and a least-privilege guard.

use girder_core::expr::{Ast, AstError, Dynamic, Expr, fns, to_ast};
use girder_core::vocabulary::{IntoReason, Reason, ReasonError};
use girder_core::{Error, Result, Value};
use serde::Serialize;

use crate::error::IamError;

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
#[must_use]
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

    /// The operator (`StringEquals`).
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// The key (`aws:SecureTransport`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The values, any of which satisfies it.
    pub fn values(&self) -> &[Value<String>] {
        &self.values
    }

    /// `Bool`.
    pub fn bool(key: &str, value: bool) -> Self {
        Self::new("Bool", key, [value.to_string()])
    }
}

/// One statement of a policy.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<Value<String>>,
    principals: Vec<(String, Vec<Value<String>>)>,
    conditions: Vec<Condition>,
    wildcard_reason: Option<std::result::Result<Reason, ReasonError>>,
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

    /// Its statement id, if it has one.
    pub fn statement_id(&self) -> Option<&str> {
        self.sid.as_deref()
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

    /// Its principals: kind (`Federated`) and ids, as given.
    pub fn principals(&self) -> &[(String, Vec<Value<String>>)] {
        &self.principals
    }

    /// Its conditions, as given (all must hold).
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Its resources, as given.
    pub fn resources(&self) -> &[Value<String>] {
        &self.resources
    }

    /// Its actions, as given.
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// Allow or Deny.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Only when `condition` holds.
    pub fn when(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Accept `*` in actions or resources: the service offers nothing narrower (for
    /// example `ssm:DescribeParameters`, `ec2:Describe*`, `cloudwatch:PutMetricData`).
    pub fn wildcard_because(mut self, reason: impl IntoReason) -> Self {
        self.wildcard_reason = Some(reason.into_reason());
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

    /// The statement as a girder tree: ARNs that are expressions stay expressions (and
    /// their references are tracked); every literal stays data.
    fn to_ast(&self) -> std::result::Result<Ast, AstError> {
        let text = |s: &str| Ast::String(s.to_owned());
        let mut statement: Vec<(String, Ast)> = Vec::new();
        if let Some(sid) = &self.sid {
            statement.push(("Sid".into(), text(sid)));
        }
        statement.push(("Effect".into(), to_ast(&self.effect)?));
        if !self.principals.is_empty() {
            let mut principals: Vec<(String, Ast)> = Vec::new();
            for (kind, ids) in &self.principals {
                upsert(&mut principals, kind, one_or_many(ids)?);
            }
            statement.push(("Principal".into(), Ast::Object(principals)));
        }
        let actions = if self.actions.len() == 1 {
            text(&self.actions[0])
        } else {
            Ast::Tuple(self.actions.iter().map(|a| text(a)).collect())
        };
        statement.push(("Action".into(), actions));
        if !self.resources.is_empty() {
            statement.push(("Resource".into(), one_or_many(&self.resources)?));
        }
        if !self.conditions.is_empty() {
            let mut conditions: Vec<(String, Ast)> = Vec::new();
            for condition in &self.conditions {
                let value = one_or_many(&condition.values)?;
                match conditions
                    .iter_mut()
                    .find(|(op, _)| *op == condition.operator)
                {
                    Some((_, Ast::Object(keys))) => upsert(keys, &condition.key, value),
                    _ => conditions.push((
                        condition.operator.clone(),
                        Ast::Object(vec![(condition.key.clone(), value)]),
                    )),
                }
            }
            statement.push(("Condition".into(), Ast::Object(conditions)));
        }
        Ok(Ast::Object(statement))
    }
}

/// Set `key` (replacing an earlier value in place, as a JSON object would).
fn upsert(entries: &mut Vec<(String, Ast)>, key: &str, value: Ast) {
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some((_, slot)) => *slot = value,
        None => entries.push((key.to_owned(), value)),
    }
}

fn one_or_many(values: &[Value<String>]) -> std::result::Result<Ast, AstError> {
    if values.len() == 1 {
        to_ast(&values[0])
    } else {
        to_ast(values)
    }
}

/// An IAM policy document.
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use]
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
        self.render_document().map_err(|e| Error::construct(at, e))
    }

    fn render_document(&self) -> std::result::Result<Value<String>, IamError> {
        if self.statements.is_empty() {
            return Err(IamError::NoStatements);
        }
        let mut statements = Vec::new();
        for (index, statement) in self.statements.iter().enumerate() {
            let label = statement
                .sid
                .clone()
                .unwrap_or_else(|| format!("statement {}", index + 1));
            if statement.actions.is_empty() {
                return Err(IamError::NoActions { statement: label });
            }
            if statement.resources.is_empty() && statement.principals.is_empty() {
                return Err(IamError::NoResources {
                    statement: label,
                    actions: statement.actions.join(", "),
                });
            }
            let wildcards = statement.wildcards();
            let reasoned = match &statement.wildcard_reason {
                Some(Ok(_)) => true,
                Some(Err(source)) => {
                    return Err(IamError::Reason {
                        statement: label,
                        source: source.clone(),
                    });
                }
                None => false,
            };
            if statement.effect == Effect::Allow && !wildcards.is_empty() && !reasoned {
                return Err(IamError::Wildcard {
                    statement: label,
                    wildcards: wildcards.join(", "),
                });
            }
            statements.push(
                statement
                    .to_ast()
                    .map_err(|e| IamError::Serialize(e.to_string()))?,
            );
        }
        let expression = Expr::<Dynamic>::from_ast(Ast::Object(vec![
            ("Version".into(), Ast::String("2012-10-17".into())),
            ("Statement".into(), Ast::Tuple(statements)),
        ]));
        Ok(match expression.known_value() {
            Some(known) => Value::Literal(known.to_string()),
            None => Value::Expr(fns::jsonencode(expression)),
        })
    }

    /// What this document alone grants `action` on `resource` (an ARN, literal or the
    /// same expression a statement names), as IAM evaluates it: an explicit Deny that
    /// matches wins; otherwise the matching Allow statements decide, unconditionally if
    /// one has no condition. Actions and literal ARNs match with IAM's `*` and `?`
    /// wildcards; an expression matches only itself (or a statement's `*`). For tests
    /// and reviews that ask "may this role do X on Y, and nothing else?".
    pub fn access(&self, action: &str, resource: &Value<String>) -> Access {
        let matching = |effect: Effect| {
            self.statements.iter().filter(move |s| {
                s.effect == effect
                    && s.actions.iter().any(|a| wildcard_match(a, action, true))
                    && s.resources.iter().any(|r| resource_match(r, resource))
            })
        };
        if matching(Effect::Deny).any(|s| s.conditions.is_empty()) {
            return Access::Denied;
        }
        let mut conditional = Vec::new();
        for statement in matching(Effect::Allow) {
            if statement.conditions.is_empty() {
                return Access::Allowed;
            }
            conditional.push(statement.conditions.clone());
        }
        if conditional.is_empty() {
            Access::Denied
        } else {
            Access::AllowedWhen(conditional)
        }
    }

    /// Every action an Allow statement names, in order, without repeats.
    pub fn allowed_actions(&self) -> Vec<&str> {
        let mut actions: Vec<&str> = Vec::new();
        for statement in self.statements.iter().filter(|s| s.effect == Effect::Allow) {
            for action in &statement.actions {
                if !actions.contains(&action.as_str()) {
                    actions.push(action);
                }
            }
        }
        actions
    }

    /// The reasons given for wildcards, for review (`sid: reason`).
    pub fn wildcard_reasons(&self) -> Vec<String> {
        self.statements
            .iter()
            .filter_map(|s| {
                let reason = s.wildcard_reason.as_ref()?.as_ref().ok()?;
                Some(format!(
                    "{}: {reason}",
                    s.sid.as_deref().unwrap_or(&s.actions.join(","))
                ))
            })
            .collect()
    }
}

/// What a policy document grants one action on one resource ([`PolicyDocument::access`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// No statement allows it, or one denies it.
    Denied,
    /// A statement without conditions allows it.
    Allowed,
    /// Only statements with conditions allow it: each entry is one statement's
    /// conditions, all of which must hold.
    AllowedWhen(Vec<Vec<Condition>>),
}

/// IAM's wildcard match: `*` any run of characters, `?` one character; actions compare
/// without regard to case.
fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    };
    let pattern: Vec<char> = fold(pattern).chars().collect();
    let text: Vec<char> = fold(text).chars().collect();
    // Iterative glob with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

fn resource_match(pattern: &Value<String>, resource: &Value<String>) -> bool {
    match (pattern, resource) {
        (Value::Literal(p), _) if p == "*" => true,
        (Value::Literal(p), Value::Literal(r)) => wildcard_match(p, r, false),
        (p, r) => p == r,
    }
}
