//! The library half of xtask: the registry of every stack `cargo xtask synth` builds, shared
//! by the command line and the snapshot tests.

pub mod stacks;
