//! The library half of xtask: the registry of every stack `cargo xtask synth` builds, shared
//! by the command line and the snapshot tests, and the L1 code generator.

#[cfg(feature = "stacks")]
pub mod bench;
pub mod codegen;
#[cfg(feature = "stacks")]
pub mod stacks;

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> &'static std::path::Path {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir)
}
