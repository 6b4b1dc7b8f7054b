//! Input variables and outputs of a stack's root module.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::body;
use crate::error::Result;
use crate::expr::{Ast, Dynamic, Expr};

/// A Terraform type constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VarType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `any`.
    Any,
    /// `list(T)`.
    List(Box<VarType>),
    /// `set(T)`.
    Set(Box<VarType>),
    /// `map(T)`.
    Map(Box<VarType>),
    /// `object({ name = T, ... })`.
    Object(Vec<(String, VarType)>),
}

impl fmt::Display for VarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarType::String => f.write_str("string"),
            VarType::Number => f.write_str("number"),
            VarType::Bool => f.write_str("bool"),
            VarType::Any => f.write_str("any"),
            VarType::List(t) => write!(f, "list({t})"),
            VarType::Set(t) => write!(f, "set({t})"),
            VarType::Map(t) => write!(f, "map({t})"),
            VarType::Object(fields) => {
                f.write_str("object({")?;
                for (i, (name, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name} = {t}")?;
                }
                f.write_str("})")
            }
        }
    }
}

type Condition = Arc<dyn Fn(Expr<Dynamic>) -> Expr<bool> + Send + Sync>;

/// An input variable. Build it, then add it with `Stack::add_variable`, which returns the
/// expression `var.<name>`.
#[derive(Clone)]
pub struct Variable {
    pub(crate) ty: VarType,
    pub(crate) default: Option<std::result::Result<Ast, String>>,
    pub(crate) description: Option<String>,
    pub(crate) sensitive: bool,
    pub(crate) nullable: Option<bool>,
    pub(crate) validations: Vec<(Condition, String)>,
}

impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variable")
            .field("ty", &self.ty)
            .field("description", &self.description)
            .field("sensitive", &self.sensitive)
            .field("validations", &self.validations.len())
            .finish()
    }
}

impl Variable {
    /// A variable of type `ty`, required (no default).
    pub fn new(ty: VarType) -> Self {
        Self {
            ty,
            default: None,
            description: None,
            sensitive: false,
            nullable: None,
            validations: Vec::new(),
        }
    }

    /// A default value (makes the variable optional).
    pub fn default<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.default = Some(body::to_body("variable", "default", value).map_err(|e| e.to_string()));
        self
    }

    /// Description shown in Terraform Cloud and plans.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Hide the value in plan output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Whether `null` is accepted.
    pub fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = Some(nullable);
        self
    }

    /// A validation rule: `condition` receives `var.<name>` and returns the check.
    pub fn validation(
        mut self,
        condition: impl Fn(Expr<Dynamic>) -> Expr<bool> + Send + Sync + 'static,
        error_message: impl Into<String>,
    ) -> Self {
        self.validations
            .push((Arc::new(condition), error_message.into()));
        self
    }
}

/// An output of the stack's root module.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub(crate) value: std::result::Result<Ast, String>,
    pub(crate) description: Option<String>,
    pub(crate) sensitive: bool,
}

impl Output {
    /// An output holding `value` (a literal or an expression).
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Self {
        Self {
            value: body::to_body("output", "value", value).map_err(|e| e.to_string()),
            description: None,
            sensitive: false,
        }
    }

    /// Description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Mark sensitive (required when the value is).
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub(crate) fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    pub(crate) fn value(&self) -> Result<&Ast, &String> {
        self.value.as_ref()
    }
}
