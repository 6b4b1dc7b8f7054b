//! The library half of xtask: the registry of every stack `cargo xtask synth` builds, shared
//! by the command line and the snapshot tests, and the L1 code generator.

pub mod codegen;
#[cfg(feature = "stacks")]
pub mod stacks;
