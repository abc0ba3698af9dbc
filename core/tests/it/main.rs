//! Integration tests of `mesh-core`: one binary, one module per area.

mod harness;
mod lifecycle;
mod messaging;
mod registry;
mod semantics;
mod timers;
