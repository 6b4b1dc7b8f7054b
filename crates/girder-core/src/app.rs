//! The app: every stack of a program, synthesized together so that references between
//! stacks can be wired.

use indexmap::IndexMap;

use crate::aspect::{Aspect, SharedAspect};
use crate::assembly::Assembly;
use crate::error::{Error, Result};
use crate::stack::Stack;

/// All stacks of a program (every system and environment it describes).
#[derive(Default)]
pub struct App {
    pub(crate) stacks: IndexMap<String, Stack>,
    pub(crate) aspects: Vec<SharedAspect>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("stacks", &self.stacks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl App {
    /// An empty app.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a finished stack. Two stacks with one id (`<name>-<env>`) are an error.
    pub fn add_stack(&mut self, stack: Stack) -> Result<()> {
        if self.stacks.contains_key(stack.id()) {
            return Err(Error::Duplicate {
                path: "app".into(),
                what: "stack",
                name: stack.id().to_owned(),
            });
        }
        self.stacks.insert(stack.id().to_owned(), stack);
        Ok(())
    }

    /// Run `aspect` over every stack before synth.
    pub fn add_aspect(&mut self, aspect: impl Aspect + 'static) {
        self.aspects.push(std::sync::Arc::new(aspect));
    }

    /// The stacks, in the order they were added.
    pub fn stacks(&self) -> impl Iterator<Item = &Stack> {
        self.stacks.values()
    }

    /// A stack by id (`network-dev`).
    pub fn stack(&self, id: &str) -> Option<&Stack> {
        self.stacks.get(id)
    }

    /// Synthesize every stack into an in-memory [`Assembly`]; nothing is written.
    pub fn synth(&self) -> Result<Assembly> {
        crate::synth::synthesize(self)
    }
}
