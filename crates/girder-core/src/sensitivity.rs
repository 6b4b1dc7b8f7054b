//! Which values are sensitive, by data flow over the expression tree, as Terraform decides
//! it: a value is sensitive when it reads a sensitive variable, an attribute the provider
//! marks sensitive, or anything derived from one (functions, templates, collections,
//! locals, resource arguments); girder's own `.sensitive()` wrapper counts too. Terraform
//! refuses to plan a root module output that carries a sensitive value unless the output
//! is declared `sensitive`, so synth uses this for girder's cross-stack outputs and to
//! check the outputs a stack declares.

use std::cell::RefCell;
use std::collections::HashSet;

use crate::expr::{Ast, Target};
use crate::stack::Stack;
use crate::terraform::{BlockKind, PathRelation};

/// Deepest nesting of values, locals, arguments and stacks followed; Terraform rejects
/// cycles, so only a malformed program reaches it.
const MAX_DEPTH: usize = 256;

/// One step of a traversal after its root.
#[derive(Clone, Debug)]
enum Step {
    /// `.name`.
    Attr(String),
    /// `["key"]`.
    Key(String),
    /// `[0]`.
    Position(u64),
    /// An index girder cannot read (not a literal string or whole number).
    Unknown,
}

impl Step {
    fn name(&self) -> Option<&str> {
        match self {
            Step::Attr(name) | Step::Key(name) => Some(name),
            Step::Position(_) | Step::Unknown => None,
        }
    }

    fn is_index(&self) -> bool {
        !matches!(self, Step::Attr(_))
    }
}

/// Looks values up across the stacks of an app.
pub(crate) struct Sensitivity<'a> {
    stacks: &'a dyn Fn(&str) -> Option<&'a Stack>,
    /// Traversals already followed during one query. A query stops at the first
    /// sensitive value, so one seen again found none (or is a cycle): following each
    /// once keeps a query linear in the size of the program, however often values are
    /// shared.
    seen: RefCell<HashSet<String>>,
}

impl<'a> Sensitivity<'a> {
    /// `stacks` finds a stack of the app by id.
    pub(crate) fn new(stacks: &'a dyn Fn(&str) -> Option<&'a Stack>) -> Self {
        Self {
            stacks,
            seen: RefCell::new(HashSet::new()),
        }
    }

    /// The first sensitive value `ast` carries, described for messages; `None` when it
    /// carries none. `home` is the id of the stack the expression belongs to.
    pub(crate) fn source(&self, ast: &Ast, home: &str) -> Option<String> {
        self.seen.borrow_mut().clear();
        self.walk(ast, home, 0)
    }

    fn walk(&self, ast: &Ast, home: &str, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        if ast.traversal_root().is_some() {
            return self.traversal(ast, &[], home, depth);
        }
        match ast {
            Ast::Sensitive(inner) => Some(format!("`{}` is marked `.sensitive()`", inner.to_hcl())),
            Ast::Attr { of, .. } => self.walk(of, home, depth + 1),
            Ast::Index { of, key } => self
                .walk(of, home, depth + 1)
                .or_else(|| self.walk(key, home, depth + 1)),
            Ast::Call { args: items, .. } | Ast::Template(items) | Ast::Tuple(items) => items
                .iter()
                .find_map(|item| self.walk(item, home, depth + 1)),
            Ast::Object(entries) => entries
                .iter()
                .find_map(|(_, value)| self.walk(value, home, depth + 1)),
            // Raw text is not tracked (its references are invisible to girder).
            _ => None,
        }
    }

    /// A traversal (`random_password.db.result`, `local.cfg.password`), followed by
    /// `extra` steps when it was reached from a longer traversal through a local.
    fn traversal(&self, node: &Ast, extra: &[Step], home: &str, depth: usize) -> Option<String> {
        let mut steps = Vec::new();
        let root = collect_steps(node, &mut steps)?;
        steps.extend_from_slice(extra);
        let owner = root.stack.as_deref()?;
        let key = format!("{owner}\u{0}{}\u{0}{steps:?}", root.target);
        if !self.seen.borrow_mut().insert(key) {
            return None;
        }
        let stack = (self.stacks)(owner)?;
        let text = node.to_hcl();
        let of_stack = if owner == home {
            String::new()
        } else {
            format!(" of stack {owner}")
        };
        match &root.target {
            Target::Variable(name) => stack
                .variables
                .get(name)
                .filter(|v| v.sensitive)
                .map(|_| format!("`var.{name}`{of_stack} is a sensitive variable")),
            Target::Local(name) => {
                let value = stack.locals.get(name)?;
                self.descend(value, &steps, owner, depth + 1)
            }
            Target::Resource { rtype, name } | Target::Data { dtype: rtype, name } => {
                let kind = if matches!(root.target, Target::Resource { .. }) {
                    BlockKind::Resource
                } else {
                    BlockKind::Data
                };
                let block = stack.blocks.get(&(kind, rtype.clone(), name.clone()))?;
                let spec = &block.spec;
                // `aws_x.y[0]` / `aws_x.y["k"]` of a resource with count / for_each picks
                // an instance; the attribute path starts after it.
                let instance = spec.count.is_some() || spec.for_each.is_some();
                let steps = match steps.split_first() {
                    Some((first, rest)) if instance && first.is_index() => rest,
                    _ => &steps[..],
                };
                if let Some(secrets) = spec.schema_secrets() {
                    let names: Vec<&str> = steps.iter().filter_map(Step::name).collect();
                    if secrets.sensitive_relation(&names) != PathRelation::Apart {
                        return Some(format!("the provider marks `{text}`{of_stack} sensitive"));
                    }
                }
                // Arguments keep their sensitivity in the attributes that echo them.
                self.descend(&spec.body, steps, owner, depth + 1)
            }
            Target::Module(_) | Target::CountIndex | Target::EachKey | Target::EachValue => None,
        }
    }

    /// The sensitivity of the part of `value` that `steps` select.
    fn descend(&self, value: &Ast, steps: &[Step], home: &str, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let Some((first, rest)) = steps.split_first() else {
            return self.walk(value, home, depth + 1);
        };
        match value {
            Ast::Object(entries) => match first.name() {
                Some(key) => entries
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| self.descend(v, rest, home, depth + 1)),
                None => self.walk(value, home, depth + 1),
            },
            Ast::Tuple(items) => match first {
                Step::Position(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .and_then(|item| self.descend(item, rest, home, depth + 1)),
                // A nested block list read without an index (or an unknown one): any item.
                _ => items
                    .iter()
                    .find_map(|item| self.descend(item, steps, home, depth + 1)),
            },
            Ast::Sensitive(_) => self.walk(value, home, depth + 1),
            other if other.traversal_root().is_some() => {
                self.traversal(other, steps, home, depth + 1)
            }
            other => self.walk(other, home, depth + 1),
        }
    }
}

/// The steps of a traversal after its root reference, in order; the root.
fn collect_steps<'a>(node: &'a Ast, steps: &mut Vec<Step>) -> Option<&'a crate::expr::Reference> {
    match node {
        Ast::Ref(reference) => Some(reference),
        Ast::Attr { of, name } => {
            let root = collect_steps(of, steps)?;
            steps.push(Step::Attr(name.clone()));
            Some(root)
        }
        Ast::Index { of, key } => {
            let root = collect_steps(of, steps)?;
            steps.push(match key.known_value() {
                Some(serde_json::Value::String(s)) => Step::Key(s),
                Some(serde_json::Value::Number(n)) => {
                    n.as_u64().map(Step::Position).unwrap_or(Step::Unknown)
                }
                _ => Step::Unknown,
            });
            Some(root)
        }
        _ => None,
    }
}
