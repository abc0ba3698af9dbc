//! loom models of `mesh-core`'s cross-core protocols.
//!
//! The models live in `tests/` and exercise the real code of `mesh-core`,
//! built with `--cfg loom` so that its synchronisation facade
//! (`mesh_core::sync`) resolves to loom's types. Run them with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release --target-dir target/loom
//! ```
//!
//! Without `--cfg loom` this crate compiles to nothing and its tests are
//! empty, so a normal `cargo test --workspace` skips them.
